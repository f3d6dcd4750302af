"""zarr's own store conformance suite (``zarr.testing.store.StoreTests``) on opendalfs.

zarr ships the tests every store must pass, for downstream projects to run on
theirs: here ``FsspecStore`` over opendalfs, on memory, fs and S3. pytest-asyncio
runs each async test in a new event loop, while fsspec hands every test the same
cached filesystem instance, so the suite also uses one instance from many loops.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

if sys.version_info < (3, 11):
    pytest.skip("zarr 3.1 and kerchunk need Python 3.11", allow_module_level=True)
if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    pytest.importorskip("zarr", minversion="3")

import fsspec
from zarr.core.buffer import Buffer, cpu
from zarr.storage import FsspecStore
from zarr.testing.store import StoreTests

SERVICES = ["memory", "fs", "s3"]
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services


@pytest.mark.parametrize("service", SERVICES, indirect=True)
class TestOpendalFsspecStore(StoreTests[FsspecStore, cpu.Buffer]):
    store_cls = FsspecStore
    buffer_cls = cpu.Buffer

    @pytest.fixture
    def store_kwargs(self, service: Any, root: str) -> dict[str, Any]:
        url = f"opendal+{service.scheme}://{root}/store"
        fs, path = fsspec.url_to_fs(url, asynchronous=True, **service.options)
        return {"fs": fs, "path": path}

    async def set(self, store: FsspecStore, key: str, value: Buffer) -> None:
        # Past the store, straight to the filesystem (and its listings cache).
        await store.fs._pipe_file(f"{store.path}/{key}", value.to_bytes())

    async def get(self, store: FsspecStore, key: str) -> Buffer:
        return self.buffer_cls.from_bytes(await store.fs._cat_file(f"{store.path}/{key}"))

    def test_store_repr(self, store: FsspecStore, service: Any) -> None:
        assert str(store) == f"<FsspecStore({type(store.fs).__name__}, {store.path})>"
        assert store.fs.scheme == service.scheme

    def test_store_supports_writes(self, store: FsspecStore) -> None:
        assert store.supports_writes

    def test_store_supports_listing(self, store: FsspecStore) -> None:
        assert store.supports_listing
