"""kerchunk indexes an HDF5 file kept on memory, fs or S3 (moto), and fsspec's
``ReferenceFileSystem`` reads its chunks back through ``opendal+<service>``.

Both sides, by URL (``storage_options`` / ``remote_protocol`` with ``remote_options``)
and by instance (an open file to index, ``fs=`` to read), sync and async (zarr 3
reads through an asynchronous ``ReferenceFileSystem``).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import fsspec
import pytest

if sys.version_info < (3, 11):
    pytest.skip("zarr 3.1 and kerchunk need Python 3.11", allow_module_level=True)
if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    pytest.importorskip("h5py")
    pytest.importorskip("kerchunk")

import h5py
import kerchunk.hdf as kerchunk_hdf
import numpy as np
import zarr

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "kerchunk.md"
VALUES = np.arange(1, 401, dtype="f8").reshape(20, 20)


def url(service: Any, path: str) -> str:
    return f"opendal+{service.scheme}://{path}"


@pytest.fixture
def h5_path(fs, root) -> str:
    """An HDF5 file with one chunked, compressed dataset and its attributes."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        dset = h5.create_dataset("temp", data=VALUES, chunks=(5, 10), compression="gzip")
        dset.attrs["units"] = "K"
        h5.create_dataset("station", data=np.arange(20, dtype="i4"))
    fs.pipe_file(f"{root}/data.h5", buf.getvalue())
    return f"{root}/data.h5"


def translate(service: Any, path: str) -> dict[str, Any]:
    """References to every chunk (none inlined, so each one is a ranged read)."""
    return kerchunk_hdf.SingleHdf5ToZarr(
        url(service, path), storage_options=service.options, inline_threshold=0
    ).translate()


def async_refs(service: Any, refs: dict[str, Any]) -> Any:
    return fsspec.filesystem(
        "reference",
        fo=refs,
        remote_protocol=f"opendal+{service.scheme}",
        remote_options={**service.options, "asynchronous": True},
        asynchronous=True,
    )


@SERVICES
def test_index_by_url_and_by_open_file(service, fs, h5_path):
    by_url = translate(service, h5_path)
    with fs.open(h5_path, "rb") as f:
        by_file = kerchunk_hdf.SingleHdf5ToZarr(
            f, url(service, h5_path), inline_threshold=0
        ).translate()
    assert by_url == by_file
    chunk = by_url["refs"]["temp/0.0"]
    assert chunk[0] == url(service, h5_path)  # the bucket too, on S3
    assert 0 < chunk[1] < fs.size(h5_path)
    assert json.loads(by_url["refs"]["temp/.zattrs"])["units"] == "K"


@SERVICES
def test_sync_reads_by_protocol_and_by_instance(service, fs, h5_path):
    refs = translate(service, h5_path)
    by_url = fsspec.filesystem(
        "reference",
        fo=refs,
        remote_protocol=f"opendal+{service.scheme}",
        remote_options=service.options,
    )
    by_instance = fsspec.filesystem("reference", fo=refs, fs=fs)
    keyed = fsspec.filesystem("reference", fo=refs, fs={fs.protocol: fs})
    for key in ("temp/0.0", "temp/3.1", "station/0"):
        _, offset, size = refs["refs"][key]
        expected = fs.cat_file(h5_path, start=offset, end=offset + size)
        assert by_url.cat_file(key) == by_instance.cat_file(key) == keyed.cat_file(key) == expected
    with by_instance.open("temp/.zarray", "rb") as f:
        assert json.load(f)["chunks"] == [5, 10]


@SERVICES
def test_zarr_through_the_async_reference_filesystem(service, fs, h5_path):
    refs = translate(service, h5_path)
    store = zarr.storage.FsspecStore(async_refs(service, refs), read_only=True)
    group = zarr.open_group(store, mode="r", zarr_format=2)
    np.testing.assert_array_equal(group["temp"][:], VALUES)
    np.testing.assert_array_equal(group["station"][:], np.arange(20))
    assert group["temp"].attrs["units"] == "K"


@SERVICES
def test_zarr_async_api_under_asyncio(service, fs, h5_path):
    refs = translate(service, h5_path)

    async def read() -> Any:
        refs_fs = async_refs(service, refs)
        assert len(await refs_fs._cat_file("temp/1.1")) == refs["refs"]["temp/1.1"][2]
        store = zarr.storage.FsspecStore(refs_fs, read_only=True)
        group = await zarr.api.asynchronous.open_group(store=store, mode="r", zarr_format=2)
        array = await group.getitem("temp")
        return await array.getitem((slice(2, 12), slice(None)))

    np.testing.assert_array_equal(asyncio.run(read()), VALUES[2:12])


@SERVICES
def test_xarray_opens_the_references(service, fs, h5_path):
    xr = pytest.importorskip("xarray")
    refs = translate(service, h5_path)
    storage_options = {
        "fo": refs,
        "remote_protocol": f"opendal+{service.scheme}",
        "remote_options": {**service.options, "asynchronous": True},
    }
    ds = xr.open_dataset(
        "reference://",
        engine="zarr",
        backend_kwargs={"consolidated": False, "storage_options": storage_options},
    )
    np.testing.assert_array_equal(ds["temp"].values, VALUES)
    assert ds["temp"].attrs["units"] == "K"


@SERVICES
def test_references_kept_in_storage(service, fs, root, h5_path):
    refs = translate(service, h5_path)
    fs.pipe_file(f"{root}/refs.json", json.dumps(refs).encode())
    refs_fs = fsspec.filesystem(
        "reference",
        fo=url(service, f"{root}/refs.json"),
        target_options=service.options,
        remote_protocol=f"opendal+{service.scheme}",
        remote_options=service.options,
    )
    _, offset, size = refs["refs"]["temp/2.1"]
    assert refs_fs.cat_file("temp/2.1") == fs.cat_file(h5_path, start=offset, end=offset + size)


@SERVICES
def test_a_missing_file_is_file_not_found(service, root):
    with pytest.raises(FileNotFoundError):
        kerchunk_hdf.SingleHdf5ToZarr(
            url(service, f"{root}/missing.h5"), storage_options=service.options
        ).translate()


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/kerchunk.md: its code runs as shown."""
    run_doc_snippets(DOC)
