"""rechunker copies zarr 2 arrays and groups to new chunks on memory, fs and S3 (moto).

rechunker takes zarr 2 stores: fsspec mappers, made from ``opendal+<service>://``
URLs (``fsspec.get_mapper(url, **options)``) or from an instance
(``fs.get_mapper(path)``), for the source, the target and the intermediate store.
dask's threaded scheduler runs the plan in this process, so memory works too.
Runs in ``nox -s integration-rechunker`` (zarr 2, which rechunker needs).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fsspec
import pytest

if os.environ.get("CI") != "true":  # under CI its nox session must have installed them
    pytest.importorskip("rechunker")
    pytest.importorskip("zarr", minversion="2.18")

import dask
import numpy as np
import zarr
from rechunker import rechunk

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
BY = pytest.mark.parametrize("by", ["url", "instance"])
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "rechunker.md"
DATA = np.arange(120 * 64, dtype="f4").reshape(120, 64)


@pytest.fixture(autouse=True)
def zarr_2() -> None:
    if int(zarr.__version__.split(".")[0]) != 2:
        pytest.skip(f"rechunker needs zarr 2, not {zarr.__version__}")


def mapper(by: str, service: Any, fs: Any, path: str) -> Any:
    if by == "url":
        return fsspec.get_mapper(f"opendal+{service.scheme}://{path}", **service.options)
    return fs.get_mapper(path)


@SERVICES
@BY
def test_rechunk_an_array(service, fs, root, by):
    source = zarr.open_array(
        mapper(by, service, fs, f"{root}/source.zarr"),
        mode="w",
        shape=DATA.shape,
        chunks=(120, 8),  # columns
        dtype="f4",
    )
    source[:] = DATA
    plan = rechunk(
        source,
        target_chunks=(10, 64),  # rows
        max_mem="64KB",
        target_store=mapper(by, service, fs, f"{root}/target.zarr"),
        temp_store=mapper(by, service, fs, f"{root}/temp.zarr"),
    )
    with dask.config.set(scheduler="threads"):
        plan.execute()
    target = zarr.open_array(mapper(by, service, fs, f"{root}/target.zarr"), mode="r")
    assert target.chunks == (10, 64)
    np.testing.assert_array_equal(target[:], DATA)
    chunks = [n for n in fs.find(f"{root}/target.zarr") if not n.rsplit("/", 1)[-1].startswith(".")]
    assert len(chunks) == 12


@SERVICES
def test_rechunk_a_group(service, fs, root):
    group = zarr.open_group(fs.get_mapper(f"{root}/group.zarr"), mode="w")
    group.create_dataset("grid", data=DATA, chunks=(120, 8))
    group.create_dataset("column", data=DATA[:, 0], chunks=(120,))
    group.attrs["title"] = "opendalfs"
    plan = rechunk(
        group,
        target_chunks={"grid": (20, 64), "column": (20,)},
        max_mem="64KB",
        target_store=fs.get_mapper(f"{root}/group-rows.zarr"),
        temp_store=fs.get_mapper(f"{root}/group-temp.zarr"),
    )
    with dask.config.set(scheduler="threads"):
        plan.execute()
    back = zarr.open_group(fs.get_mapper(f"{root}/group-rows.zarr"), mode="r")
    assert back["grid"].chunks == (20, 64)
    np.testing.assert_array_equal(back["column"][:], DATA[:, 0])
    assert back.attrs["title"] == "opendalfs"


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/rechunker.md: its code runs as shown."""
    run_doc_snippets(DOC)
