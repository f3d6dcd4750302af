"""Ray Data reads and writes through opendalfs, on fs and S3 (moto), on a local Ray.

Ray takes a filesystem as ``filesystem=`` (wrapping an fsspec one in pyarrow's
``FSSpecHandler``) and pickles it to its worker processes; paths are names on that
filesystem or its ``opendal+…`` URLs. ``memory`` lives in the driver's process, so
the workers cannot reach it: that fails loudly. Runs in ``nox -s integration-ray``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("CI") != "true":  # under CI its nox session must have installed them
    pytest.importorskip("ray")

import pandas as pd
import pyarrow.fs as pafs
import ray

OUT_OF_PROCESS = pytest.mark.parametrize("service", ["fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "ray.md"
FRAME = pd.DataFrame({"id": range(100), "value": [i * 0.5 for i in range(100)]})


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One small local Ray for the module: two CPUs, a 256 MiB object store, its
    processes on the loopback, and no usage reports."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(
        num_cpus=2,
        _node_ip_address="127.0.0.1",
        object_store_memory=256 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def url(service: Any, path: str) -> str:
    return f"opendal+{service.scheme}://{path}"


@OUT_OF_PROCESS
@pytest.mark.parametrize("how", ["fsspec", "pyarrow-handler"])
def test_read_parquet(service, fs, root, how):
    for i in range(3):
        FRAME.iloc[i * 40 : (i + 1) * 40].to_parquet(
            url(service, f"{root}/in/part-{i}.parquet"), storage_options=service.options
        )
    filesystem = fs if how == "fsspec" else pafs.PyFileSystem(pafs.FSSpecHandler(fs))
    back = ray.data.read_parquet(f"{root}/in", filesystem=filesystem).to_pandas()
    back = back.sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, FRAME, check_dtype=False)


@OUT_OF_PROCESS
def test_read_by_url_with_the_filesystem(service, fs, root):
    FRAME.to_parquet(url(service, f"{root}/data.parquet"), storage_options=service.options)
    ds = ray.data.read_parquet(url(service, f"{root}/data.parquet"), filesystem=fs)
    assert ds.count() == len(FRAME)


@OUT_OF_PROCESS
def test_write_parquet_from_workers(service, fs, root):
    squares = ray.data.range(60).map(lambda row: {"id": row["id"], "square": row["id"] ** 2})
    squares.write_parquet(f"{root}/out", filesystem=fs)
    written = fs.find(f"{root}/out")
    assert written
    assert all(name.endswith(".parquet") for name in written)
    back = ray.data.read_parquet(url(service, f"{root}/out"), filesystem=fs).take_all()
    assert sorted(row["square"] for row in back) == [i**2 for i in range(60)]


@OUT_OF_PROCESS
def test_tasks_use_a_pickled_filesystem(service, fs, root):
    """A filesystem captured by a map function reaches the workers by pickling."""
    for i in range(4):
        fs.pipe_file(f"{root}/blobs/{i}.bin", bytes(i * 10))
    names = ray.data.from_items([{"name": f"{root}/blobs/{i}.bin"} for i in range(4)])
    sizes = names.map(lambda row: {"size": len(fs.cat_file(row["name"]))}).take_all()
    assert sorted(row["size"] for row in sizes) == [0, 10, 20, 30]


@pytest.mark.parametrize("service", ["memory"], indirect=True)
def test_memory_in_workers_fails_loudly(service, fs, root):
    fs.pipe_file(f"{root}/a.bin", b"x")
    names = ray.data.from_items([{"name": f"{root}/a.bin"}])
    # Ray wraps the worker's error in its own (RayTaskError), keeping the message.
    with pytest.raises(Exception, match="keeps its files in the memory of process"):
        names.map(lambda row: {"size": len(fs.cat_file(row["name"]))}).take_all()


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/ray.md: its code runs as shown (on the module's Ray)."""
    run_doc_snippets(DOC)
