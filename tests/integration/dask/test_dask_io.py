"""dask.dataframe reads and writes through opendalfs, threaded and on worker processes.

- Threads: Parquet and CSV round-trip on memory, fs and a real S3 server (moto),
  through URLs with ``storage_options`` and through a filesystem instance.
- Worker processes: a ``distributed.LocalCluster`` whose two workers are spawned
  processes. The filesystem travels to them by pickle; on fs and S3 the data
  round-trips. ``memory`` is a store inside one process, so a worker cannot reach
  it: reading and writing fail with ``ProcessLocalStoreError``, never wrong data.
- Graph keys: the same URL and options give the same keys, other options or other
  content give other keys, so dask never mixes up two stores.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from opendalfs._operators import ProcessLocalStoreError

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("pyarrow")
import dask  # noqa: E402  (after the skip: dask is there when dask.dataframe is)
import fsspec  # noqa: E402

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
SHARED = pytest.mark.parametrize("service", ["fs", "s3"], indirect=True)
MEMORY = pytest.mark.parametrize("service", ["memory"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
HANG_GUARD = 120  # seconds: a hang fails the test instead of the whole run
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "dask.md"


def url(service: Any, path: str) -> str:
    return f"opendal+{service.scheme}://{path}"


@pytest.fixture
def frame() -> Any:
    n = 200
    return pd.DataFrame(
        {
            "id": range(n),
            "name": [f"row {i}" for i in range(n)],
            "value": [i * 0.5 - 7 for i in range(n)],
        }
    )


@pytest.fixture
def ddf(frame) -> Any:
    return dd.from_pandas(frame, npartitions=4)


def assert_same(result: Any, expected: Any) -> None:
    """Same rows and values, in ``id`` order. dask turns str columns into pyarrow
    strings, so dtypes are compared by kind (int, float, object-like) only."""
    result = result.sort_values("id").reset_index(drop=True)
    assert [result[c].dtype.kind for c in expected] == [expected[c].dtype.kind for c in expected]
    pd.testing.assert_frame_equal(result, expected, check_dtype=False)


# ------------------------------------------------------------------ threads


@SERVICES
def test_parquet_round_trip_by_url_threaded(service, fs, root, frame, ddf):
    target = url(service, f"{root}/table")
    with dask.config.set(scheduler="threads"):
        ddf.to_parquet(target, storage_options=service.options, write_index=False)
        assert len(fs.glob(f"{root}/table/*.parquet")) == 4
        back = dd.read_parquet(target, storage_options=service.options)
        assert back.npartitions == 4
        assert_same(back.compute(), frame)


@SERVICES
def test_parquet_round_trip_by_filesystem_instance_threaded(service, fs, root, frame, ddf):
    with dask.config.set(scheduler="threads"):
        ddf.to_parquet(f"{root}/table", filesystem=fs, write_index=False)
        back = dd.read_parquet(f"{root}/table", filesystem=fs)
        assert_same(back.compute(), frame)
    # and the URL way reads what the instance wrote
    back = dd.read_parquet(url(service, f"{root}/table"), storage_options=service.options)
    assert_same(back.compute(scheduler="threads"), frame)


@SERVICES
def test_csv_round_trip_by_url_threaded(service, fs, root, frame, ddf):
    with dask.config.set(scheduler="threads"):
        ddf.to_csv(
            url(service, f"{root}/csv/part-*.csv"), storage_options=service.options, index=False
        )
        assert len(fs.glob(f"{root}/csv/part-*.csv")) == 4
        back = dd.read_csv(url(service, f"{root}/csv/part-*.csv"), storage_options=service.options)
        assert_same(back.compute(), frame)


@SERVICES
def test_read_csv_in_blocks(service, fs, root, frame):
    """``blocksize`` splits one file into byte ranges, each read on its own."""
    with fs.open(f"{root}/big.csv", "wb") as f:
        frame.to_csv(f, index=False)
    back = dd.read_csv(
        url(service, f"{root}/big.csv"), storage_options=service.options, blocksize=1000
    )
    assert back.npartitions > 1
    assert_same(back.compute(scheduler="threads"), frame)


# ------------------------------------------------------------------ keys


@SERVICES
def test_same_url_and_options_give_the_same_keys(service, root, frame):
    target = url(service, f"{root}/x.parquet")
    frame.to_parquet(target, index=False, storage_options=service.options)
    frame.to_csv(url(service, f"{root}/x.csv"), index=False, storage_options=service.options)

    first = dd.read_parquet(target, storage_options=dict(service.options))._name
    again = dd.read_parquet(target, storage_options=dict(service.options))._name
    assert first == again
    csv_url = url(service, f"{root}/x.csv")
    assert (
        dd.read_csv(csv_url, storage_options=dict(service.options))._name
        == dd.read_csv(csv_url, storage_options=dict(service.options))._name
    )


@SERVICES
def test_other_options_give_other_keys(service, root, frame):
    """Two roots hold the same bytes under the same name: the keys still differ."""
    base = service.options.get("root", "")
    a = {**service.options, "root": f"{base}/a"}
    b = {**service.options, "root": f"{base}/b"}
    fs_a = fsspec.filesystem(f"opendal+{service.scheme}", **a)
    fs_b = fsspec.filesystem(f"opendal+{service.scheme}", **b)
    target = url(service, f"{root}/x.parquet")
    try:
        for options in (a, b):
            frame.to_parquet(target, index=False, storage_options=options)
        assert fs_a.cat_file(f"{root}/x.parquet") == fs_b.cat_file(f"{root}/x.parquet")

        by_url = [dd.read_parquet(target, storage_options=o)._name for o in (a, b)]
        assert by_url[0] != by_url[1]
        by_fs = [dd.read_parquet(f"{root}/x.parquet", filesystem=f)._name for f in (fs_a, fs_b)]
        assert by_fs[0] != by_fs[1]
        assert dd.read_parquet(f"{root}/x.parquet", filesystem=fs_a)._name == by_fs[0]
    finally:  # the root fixture cleans up below the service's own root only
        for f in (fs_a, fs_b):
            if f.exists(root):
                f.rm(root, recursive=True)


@pytest.mark.parametrize("service", ["memory", "s3"], indirect=True)
def test_rewritten_content_gives_other_keys(service, root):
    """Same name, same size, other bytes: dask's keys change (memory hashes content,
    S3 has ETags). On fs, keys follow size and mtime, as for fsspec's local files."""
    target = url(service, f"{root}/x.parquet")
    pd.DataFrame({"a": [1, 2, 3]}).to_parquet(target, index=False, storage_options=service.options)
    before = dd.read_parquet(target, storage_options=service.options)._name
    pd.DataFrame({"a": [7, 8, 9]}).to_parquet(target, index=False, storage_options=service.options)
    after = dd.read_parquet(target, storage_options=service.options)
    assert after._name != before
    assert after.compute(scheduler="threads")["a"].tolist() == [7, 8, 9]


# ------------------------------------------------------------------ worker processes


@pytest.fixture(scope="module")
def client() -> Any:
    """Two spawned worker processes, one thread each; closed at the end of the module."""
    distributed = pytest.importorskip("distributed")
    # Spawned, never forked: OpenDAL's runtime cannot run in a forked child
    # (see tests/test_process.py). "spawn" is distributed's default; be explicit.
    with (
        dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}),
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=":0",  # any free port, never a clash on 8787
            death_timeout=HANG_GUARD,  # a worker that never starts fails the setup
        ) as cluster,
        distributed.Client(cluster, set_as_default=False, timeout=HANG_GUARD) as client,
    ):
        pids = client.run(os.getpid)
        assert len(pids) == 2
        assert os.getpid() not in pids.values()
        yield client


def compute(client: Any, collection: Any) -> Any:
    """``collection`` (or a list of them) computed on the cluster, within the hang guard."""
    futures = client.compute(collection)
    if isinstance(futures, list):  # to_csv(compute=False) gives one per file
        return [future.result(timeout=HANG_GUARD) for future in futures]
    return futures.result(timeout=HANG_GUARD)


@SHARED
def test_parquet_round_trip_on_worker_processes(client, service, fs, root, frame, ddf):
    target = url(service, f"{root}/table")
    compute(client, ddf.to_parquet(target, storage_options=service.options, compute=False))
    # written by the workers, seen by this process
    assert len(fs.glob(f"{root}/table/*.parquet")) == 4
    assert_same(pd.read_parquet(target, storage_options=service.options), frame)
    back = dd.read_parquet(target, storage_options=service.options)
    assert_same(compute(client, back), frame)


@SHARED
def test_csv_round_trip_on_worker_processes(client, service, fs, root, frame, ddf):
    target = url(service, f"{root}/csv/part-*.csv")
    compute(client, ddf.to_csv(target, storage_options=service.options, index=False, compute=False))
    assert len(fs.glob(f"{root}/csv/part-*.csv")) == 4
    back = dd.read_csv(target, storage_options=service.options)
    assert_same(compute(client, back), frame)


@SHARED
def test_filesystem_instance_on_worker_processes(client, service, fs, root, frame, ddf):
    compute(client, ddf.to_parquet(f"{root}/table", filesystem=fs, compute=False))
    assert_same(compute(client, dd.read_parquet(f"{root}/table", filesystem=fs)), frame)


@MEMORY
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_memory_read_on_worker_processes_is_an_error(client, service, root, frame, fmt):
    """This process wrote the files; a worker's own memory store has none of them."""
    for i, part in enumerate([frame.iloc[:100], frame.iloc[100:]]):
        target = url(service, f"{root}/part-{i}.{fmt}")
        if fmt == "parquet":
            part.to_parquet(target, index=False)
        else:
            part.to_csv(target, index=False)
    if fmt == "parquet":
        lazy = dd.read_parquet(url(service, root))
    else:
        lazy = dd.read_csv(url(service, f"{root}/*.csv"))
    # the graph is built here, where the files exist...
    assert lazy.npartitions == 2
    assert_same(lazy.compute(scheduler="threads"), frame)
    # ...and fails in the workers, saying why
    with pytest.raises(ProcessLocalStoreError, match="memory of process"):
        compute(client, lazy)


@MEMORY
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_memory_write_on_worker_processes_is_an_error(client, service, root, ddf, fmt):
    """Writing to memory from worker processes fails, instead of writing into stores
    that vanish with the workers (which looked like success and read back empty)."""
    if fmt == "parquet":
        lazy = ddf.to_parquet(url(service, f"{root}/table"), compute=False)
    else:
        lazy = ddf.to_csv(url(service, f"{root}/csv/*.csv"), compute=False)
    with pytest.raises(ProcessLocalStoreError, match="memory of process"):
        compute(client, lazy)


# ------------------------------------------------------------------ docs


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/dask.md: its code runs as shown, the cluster included."""
    pytest.importorskip("distributed")
    run_doc_snippets(DOC)
