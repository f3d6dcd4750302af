"""zarr v3 through ``zarr.storage.FsspecStore`` on opendalfs, on memory, fs and S3.

zarr needs an async filesystem made with ``asynchronous=True``: ``from_url`` makes
one from a URL, and a store may also be built on an instance the user made. The
sharding test counts the bytes each read fetches from the service (a subclass of
the real filesystem looks at OpenDAL's reads on their way through; nothing of
OpenDAL is replaced), to show that reading one chunk of a shard fetches only that
chunk and the shard's index, not the shard.
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

if sys.version_info < (3, 11):
    pytest.skip("zarr 3.1 and kerchunk need Python 3.11", allow_module_level=True)
if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    pytest.importorskip("zarr", minversion="3")

import fsspec
import numpy as np
import zarr
from zarr.errors import ZarrUserWarning
from zarr.storage import FsspecStore

from opendalfs import OpendalFileSystem
from opendalfs._backend import Backend

SERVICES = ["memory", "fs", "s3"]
on_services = pytest.mark.parametrize("service", SERVICES, indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services


def url(service: Any, path: str) -> str:
    """The ``opendal+<service>://`` URL of ``path`` (which starts with the bucket on S3)."""
    return f"opendal+{service.scheme}://{path}"


class ReadCountingFileSystem(OpendalFileSystem):
    """The real filesystem, recording every read it asks OpenDAL for.

    Each entry is (name, offset, size, bytes returned): what was fetched from the
    service, request by request. The operator itself is OpenDAL's; only ``read``
    is looked at on its way through.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.reads: list[tuple[str, int | None, int | None, int]] = []
        self._recorded: dict[str, Backend] = {}
        super().__init__(*args, **kwargs)

    def _backend(self, container: str) -> Backend:
        if container not in self._recorded:
            real = super()._backend(container)
            self._recorded[container] = real.wrapped(
                lambda op: _ReadRecorder(op, container, self.reads)
            )
        return self._recorded[container]


class _ReadRecorder:
    def __init__(self, op: Any, container: str, reads: list) -> None:
        self._op = op
        self._prefix = f"{container}/" if container else ""
        self._reads = reads

    def __getattr__(self, name: str) -> Any:
        return getattr(self._op, name)

    def read(self, key: str, **options: Any) -> Any:
        reading = self._op.read(key, **options)
        if not inspect.isawaitable(reading):
            self._record(key, options, reading)
            return reading
        return self._recorded(key, options, reading)

    async def _recorded(self, key: str, options: dict[str, Any], reading: Any) -> Any:
        data = await reading
        self._record(key, options, data)
        return data

    def _record(self, key: str, options: dict[str, Any], data: bytes) -> None:
        self._reads.append(
            (self._prefix + key, options.get("offset"), options.get("size"), len(data))
        )

    def open(self, key: str, mode: str, **options: Any) -> Any:
        """A reader's reads are recorded too: in-process stores read through blocking
        readers (opendalfs' FILE_CALLS), and a whole read over a network starts with
        one (opendalfs/_parts.py)."""
        opened = self._op.open(key, mode, **options)
        if mode != "rb":
            return opened
        if inspect.isawaitable(opened):
            return self._recorded_async(opened, key)
        return _RecordedReader(opened, self, key, 0)

    async def _recorded_async(self, opening: Any, key: str) -> Any:
        return _AsyncRecordedReader(await opening, self, key, 0)


class _RecordedReader:
    """A blocking OpenDAL reader whose reads are recorded as ranged reads."""

    def __init__(self, file: Any, recorder: _ReadRecorder, key: str, at: int) -> None:
        self._file = file
        self._recorder = recorder
        self._key = key
        self._at = at

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def seek(self, offset: int, whence: int = 0) -> int:
        self._at = self._file.seek(offset, whence)
        return self._at

    def read(self, size: int | None = None) -> bytes:
        return self._seen(size, self._file.read() if size is None else self._file.read(size))

    def _seen(self, size: int | None, data: bytes) -> bytes:
        if data or size is None:
            options = {"offset": self._at or None, "size": size}
            self._recorder._record(self._key, options, data)
        self._at += len(data)
        return data


class _AsyncRecordedReader(_RecordedReader):
    """An async OpenDAL reader whose reads are recorded as ranged reads."""

    async def seek(self, offset: int, whence: int = 0) -> int:  # type: ignore[override]
        self._at = await self._file.seek(offset, whence)
        return self._at

    async def read(self, size: int | None = None) -> bytes:  # type: ignore[override]
        return self._seen(
            size, await (self._file.read() if size is None else self._file.read(size))
        )


@on_services
def test_from_url_writes_and_reads_an_array(service, root, fs):
    store = FsspecStore.from_url(url(service, f"{root}/a.zarr"), storage_options=service.options)
    assert isinstance(store.fs, OpendalFileSystem)
    assert store.fs.async_impl
    assert store.fs.asynchronous
    assert store.path == f"{root}/a.zarr"

    data = np.arange(2_000, dtype="i4").reshape(40, 50)
    array = zarr.create_array(store, shape=data.shape, chunks=(10, 25), dtype="i4")
    array[:] = data

    again = FsspecStore.from_url(
        url(service, f"{root}/a.zarr"), storage_options=service.options, read_only=True
    )
    opened = zarr.open_array(again, mode="r")
    np.testing.assert_array_equal(opened[:], data)
    np.testing.assert_array_equal(opened[12:17, 3:40], data[12:17, 3:40])

    fs.invalidate_cache()
    assert fs.isfile(f"{root}/a.zarr/zarr.json")
    assert len(fs.find(f"{root}/a.zarr/c")) == 8  # 4 x 2 chunks, one object each


@on_services
def test_store_on_an_instance_made_asynchronous(service, root):
    afs = service.filesystem(asynchronous=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZarrUserWarning)  # no "not created with asynchronous"
        store = FsspecStore(afs, path=f"{root}/g.zarr")

    group = zarr.create_group(store)
    group.create_array("temperature", shape=(6, 8), chunks=(3, 4), dtype="f8")[:] = 1.5
    group.create_group("sub").create_array("ids", shape=(5,), chunks=(2,), dtype="i8")[:] = 7
    group.attrs["title"] = "opendalfs"

    back = zarr.open_group(FsspecStore(afs, path=f"{root}/g.zarr", read_only=True), mode="r")
    assert back.attrs["title"] == "opendalfs"
    assert sorted(back.array_keys()) == ["temperature"]
    assert sorted(back.group_keys()) == ["sub"]
    assert back["temperature"][:].sum() == 1.5 * 48
    assert list(back["sub/ids"][:]) == [7] * 5


@on_services
def test_store_from_a_upath(service, root):
    """``FsspecStore.from_upath`` on a universal-pathlib path made asynchronous."""
    upath = pytest.importorskip("upath")
    path = upath.UPath(url(service, f"{root}/u.zarr"), asynchronous=True, **service.options)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZarrUserWarning)
        store = FsspecStore.from_upath(path)
    assert store.path == f"{root}/u.zarr"
    zarr.create_array(store, shape=(6,), chunks=(4,), dtype="i2")[:] = [1, 2, 3, 4, 5, 6]
    assert list(zarr.open_array(FsspecStore.from_upath(path), mode="r")[:]) == [1, 2, 3, 4, 5, 6]


@on_services
def test_blocking_instance_is_made_asynchronous_by_zarr(service, root):
    """zarr rebuilds a blocking instance (from a mapper) as an async one from its JSON."""
    mapper = fsspec.get_mapper(url(service, f"{root}/m.zarr"), **service.options)
    assert not mapper.fs.asynchronous
    store = FsspecStore.from_mapper(mapper)
    assert isinstance(store.fs, type(mapper.fs))
    assert store.fs.asynchronous
    assert repr(store.fs) == repr(mapper.fs)  # the same service and options

    zarr.create_array(store, shape=(4,), chunks=(2,), dtype="u1")[:] = [1, 2, 3, 4]
    assert list(zarr.open_array(store, mode="r")[:]) == [1, 2, 3, 4]


@on_services
def test_sharded_array_reads_part_of_a_shard(service, root, fs):
    """Reading one inner chunk fetches that chunk and the shard index, not the shard."""
    path = f"{root}/sharded.zarr"
    store = FsspecStore.from_url(url(service, path), storage_options=service.options)
    data = np.arange(100 * 100, dtype="f8").reshape(100, 100)
    # Uncompressed so that a shard's size is known: 25 inner chunks of 800 bytes.
    array = zarr.create_array(
        store, shape=data.shape, chunks=(10, 10), shards=(50, 50), dtype="f8", compressors=None
    )
    array[:] = data

    counting = ReadCountingFileSystem(
        service.scheme, asynchronous=True, skip_instance_cache=True, **service.options
    )
    opened = zarr.open_array(FsspecStore(counting, path=path, read_only=True), mode="r")
    shard = f"{path}/c/0/0"
    fs.invalidate_cache()
    shard_size = fs.info(shard)["size"]
    assert shard_size > 25 * 10 * 10 * 8  # 25 inner chunks and the index

    counting.reads.clear()
    np.testing.assert_array_equal(opened[0:10, 0:10], data[0:10, 0:10])
    chunk_reads = [r for r in counting.reads if "/c/" in r[0]]
    assert {r[0] for r in chunk_reads} == {shard}
    whole = [r for r in chunk_reads if r[1] is None and r[2] is None]
    assert not whole, chunk_reads  # every read of the shard was ranged
    partial = sum(got for *_, got in chunk_reads)

    counting.reads.clear()
    np.testing.assert_array_equal(opened[:], data)
    full = sum(got for name, *_, got in counting.reads if name == shard)

    assert full >= shard_size  # the whole shard was read this time
    assert 10 * 10 * 8 <= partial < shard_size / 4, (partial, shard_size, chunk_reads)


DOC = Path(__file__).resolve().parents[3] / "docs" / "integrations" / "zarr.md"


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/zarr.md: its code runs as shown."""
    run_doc_snippets(DOC)
