"""polars through opendalfs, on memory, fs and S3 (moto).

polars' native readers are Rust and ignore fsspec; the routes that reach opendalfs
are ``read_csv`` (with ``use_pyarrow=True``, or an encoding other than UTF-8),
``read_parquet(use_pyarrow=True)``, ``scan_pyarrow_dataset`` over a pyarrow dataset
on the filesystem, and file objects from ``fs.open``. The native readers and
writers must fail loudly on an ``opendal+…`` URL rather than touch the local disk.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    pytest.importorskip("polars")
    pytest.importorskip("pyarrow")

import polars as pl
import pyarrow.dataset as ds

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "polars.md"


def url(service: Any, path: str) -> str:
    return f"opendal+{service.scheme}://{path}"


@pytest.fixture
def frame() -> Any:
    n = 50
    return pl.DataFrame(
        {
            "id": list(range(n)),
            "name": [f"row {i} ü" for i in range(n)],
            "value": [i * 0.5 - 4 for i in range(n)],
            "flag": [i % 5 == 0 for i in range(n)],
        }
    )


def put(fs: Any, path: str, frame: Any, fmt: str) -> None:
    with fs.open(path, "wb") as f:
        if fmt == "csv":
            frame.write_csv(f)
        elif fmt == "ndjson":
            frame.write_ndjson(f)
        else:
            frame.write_parquet(f)


@SERVICES
def test_read_csv_by_url(service, fs, root, frame):
    put(fs, f"{root}/data.csv", frame, "csv")
    target = url(service, f"{root}/data.csv")
    back = pl.read_csv(target, use_pyarrow=True, storage_options=service.options)
    assert back.equals(frame)
    # Any encoding but UTF-8 opens the URL with fsspec.open.
    back = pl.read_csv(target, encoding="latin1", storage_options=service.options)
    assert back.columns == frame.columns
    assert back["id"].to_list() == frame["id"].to_list()


@SERVICES
def test_read_parquet_by_url_and_with_the_filesystem(service, fs, root, frame):
    put(fs, f"{root}/data.parquet", frame, "parquet")
    back = pl.read_parquet(
        url(service, f"{root}/data.parquet"), use_pyarrow=True, storage_options=service.options
    )
    assert back.equals(frame)
    back = pl.read_parquet(
        f"{root}/data.parquet", use_pyarrow=True, pyarrow_options={"filesystem": fs}
    )
    assert back.equals(frame)


@SERVICES
def test_scan_pyarrow_dataset(service, fs, root, frame):
    for i, part in enumerate(frame.iter_slices(n_rows=20)):
        put(fs, f"{root}/table/part-{i}.parquet", part, "parquet")
    lazy = pl.scan_pyarrow_dataset(ds.dataset(f"{root}/table", filesystem=fs, format="parquet"))
    got = lazy.filter(pl.col("flag")).select("id", "value").sort("id").collect()
    assert got.equals(frame.filter(pl.col("flag")).select("id", "value"))
    assert lazy.select(pl.len()).collect().item() == len(frame)


@SERVICES
@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet"])
def test_file_objects_both_ways(service, fs, root, frame, fmt):
    put(fs, f"{root}/data.{fmt}", frame, fmt)
    reader = {"csv": pl.read_csv, "ndjson": pl.read_ndjson, "parquet": pl.read_parquet}[fmt]
    with fs.open(f"{root}/data.{fmt}", "rb") as f:
        assert reader(f).equals(frame)


@SERVICES
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda target, so: pl.read_csv(target, storage_options=so), id="read_csv"),
        pytest.param(
            lambda target, so: pl.read_parquet(target, storage_options=so), id="read_parquet"
        ),
        pytest.param(
            lambda target, so: pl.scan_csv(target, storage_options=so).collect(), id="scan_csv"
        ),
        pytest.param(
            lambda target, so: pl.DataFrame({"a": [1]}).write_parquet(target, storage_options=so),
            id="write_parquet",
        ),
        pytest.param(
            lambda target, so: pl.DataFrame({"a": [1]}).write_csv(target, storage_options=so),
            id="write_csv",
        ),
    ],
)
def test_native_io_fails_loudly_on_an_opendal_url(
    service, fs, root, frame, call, tmp_path, monkeypatch
):
    """polars' Rust IO knows only its own schemes: it takes the URL for a local path,
    and fails (nothing lands in the working directory) instead of reaching opendalfs."""
    put(fs, f"{root}/data.csv", frame, "csv")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="os error 2"):
        call(url(service, f"{root}/data.csv"), service.options)
    assert os.listdir(tmp_path) == []
    assert fs.cat_file(f"{root}/data.csv").startswith(b"id,name")  # untouched


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/polars.md: its code runs as shown."""
    run_doc_snippets(DOC)
