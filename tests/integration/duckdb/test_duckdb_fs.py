"""DuckDB queries and writes through opendalfs, on memory, fs and a real S3 server (moto).

DuckDB takes one entry style: a filesystem instance registered on a connection
(``con.register_filesystem(fs)``, or ``duckdb.register_filesystem`` for the
default connection). It serves the instance's protocol, ``opendal+<service>``,
so queries name files by URL: ``read_csv('opendal+s3://bucket/key.csv')``.
Reading (CSV, JSON, Parquet), globbing and ``COPY … TO`` a URL (CSV, JSON,
Parquet, partitioned Parquet) all work, with one exception: DuckDB's Parquet
reader needs the file's modification time (``fs.modified``), which ``memory`` does
not keep, so since DuckDB 1.3 Parquet cannot be *read* from ``memory``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
import pyarrow.dataset as ds  # noqa: E402

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
WITH_MTIME = pytest.mark.parametrize("service", ["fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "duckdb.md"
DUCKDB_VERSION = tuple(int(part) for part in duckdb.__version__.split(".")[:2])


def url(service: Any, path: str) -> str:
    return f"opendal+{service.scheme}://{path}"


@pytest.fixture
def con(fs) -> Iterator[Any]:
    """A connection of its own with ``fs`` registered on it."""
    connection = duckdb.connect()
    connection.register_filesystem(fs)
    yield connection
    connection.close()


@pytest.fixture
def frame() -> Any:
    n = 40
    return pd.DataFrame(
        {
            "id": range(n),
            "name": [f"row {i} ü" for i in range(n)],
            "value": [i * 0.25 - 3 for i in range(n)],
            "flag": [i % 4 == 0 for i in range(n)],
        }
    )


def as_rows(frame: Any) -> list[tuple]:
    return list(frame.itertuples(index=False, name=None))


def put(fs: Any, path: str, frame: Any, fmt: str) -> None:
    with fs.open(path, "wb") as f:
        if fmt == "csv":
            frame.to_csv(f, index=False)
        elif fmt == "json":
            frame.to_json(f, orient="records", lines=True)
        else:
            frame.to_parquet(f, index=False)


@SERVICES
def test_registered_under_the_protocol(service, fs, con):
    assert fs.protocol == f"opendal+{service.scheme}"
    assert f"opendal+{service.scheme}" in con.list_filesystems()


@SERVICES
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_read_text_formats(service, fs, root, con, frame, fmt):
    put(fs, f"{root}/data.{fmt}", frame, fmt)
    got = con.sql(f"select * from read_{fmt}('{url(service, f'{root}/data.{fmt}')}') order by id")
    assert got.columns == list(frame.columns)
    assert got.fetchall() == as_rows(frame)


@SERVICES
def test_read_csv_of_a_glob(service, fs, root, con, frame):
    put(fs, f"{root}/parts/a.csv", frame.iloc[:15], "csv")
    put(fs, f"{root}/parts/b.csv", frame.iloc[15:], "csv")
    fs.pipe_file(f"{root}/parts/notes.txt", b"not a csv")
    pattern = url(service, f"{root}/parts/*.csv")
    got = con.sql(f"select * from read_csv('{pattern}') order by id").fetchall()
    assert got == as_rows(frame)
    files = con.sql(f"select file from glob('{pattern}') order by file").fetchall()
    assert files == [(url(service, f"{root}/parts/{n}.csv"),) for n in ("a", "b")]


#: Patterns DuckDB hands to ``fs.glob``, and the files (under ``root``) each finds.
GLOBS = {
    "**/*.csv": ["a/b/c/z.csv", "a/b/y.csv", "a/x.csv", "top.csv"],
    "a/**/*.csv": ["a/b/c/z.csv", "a/b/y.csv", "a/x.csv"],
    "*/*.csv": ["a/x.csv"],
    "a/*/*/*.csv": ["a/b/c/z.csv"],
    "a/b/?.csv": ["a/b/y.csv"],
    "[at]*.csv": ["top.csv"],
}


@SERVICES
@pytest.mark.parametrize("pattern", list(GLOBS))
def test_glob_patterns_name_full_urls(service, fs, root, con, pattern):
    """DuckDB globs through ``fs.glob`` and names each match by ``fs.unstrip_protocol``:
    on S3 the URL keeps its bucket (``opendal+s3://bucket/key``), so it reads back."""
    for name in ("a/x.csv", "a/b/y.csv", "a/b/c/z.csv", "top.csv", "a/notes.txt"):
        fs.pipe_file(f"{root}/{name}", f"v\n{len(name)}\n".encode())
    files = con.sql(f"select file from glob('{url(service, f'{root}/{pattern}')}') order by 1")
    expected = [url(service, f"{root}/{name}") for name in GLOBS[pattern]]
    assert [file for (file,) in files.fetchall()] == expected
    assert expected == sorted(fs.unstrip_protocol(n) for n in fs.glob(f"{root}/{pattern}"))
    total = con.sql(f"select sum(v) from read_csv('{url(service, f'{root}/{pattern}')}')")
    assert total.fetchall() == [(sum(len(name) for name in GLOBS[pattern]),)]


@pytest.mark.parametrize("service", ["s3"], indirect=True)
def test_glob_from_the_top_of_a_bucket(service, fs, root, con, frame):
    """A pattern right under the bucket: the matches keep ``bucket/`` in their URLs."""
    put(fs, f"{root}/data.csv", frame, "csv")
    top = root.split("/")[1]
    pattern = f"opendal+s3://{service.container}/{top[:-3]}*/*.csv"
    files = con.sql(f"select file from glob('{pattern}')").fetchall()
    assert files == [(f"opendal+s3://{root}/data.csv",)]
    assert con.sql(f"select count(*) from read_csv('{pattern}')").fetchall() == [(len(frame),)]


@WITH_MTIME
def test_read_parquet(service, fs, root, con, frame):
    put(fs, f"{root}/data.parquet", frame, "parquet")
    source = f"read_parquet('{url(service, f'{root}/data.parquet')}')"
    assert con.sql(f"select * from {source} order by id").fetchall() == as_rows(frame)
    total, count = con.sql(f"select sum(value), count(*) from {source} where flag").fetchall()[0]
    assert (total, count) == (frame[frame.flag].value.sum(), frame.flag.sum())


@pytest.mark.parametrize("service", ["memory"], indirect=True)
@pytest.mark.xfail(
    DUCKDB_VERSION >= (1, 3),
    strict=True,
    raises=(duckdb.Error, NotImplementedError),
    reason="DuckDB >= 1.3 reads Parquet only with the file's modification time "
    "(fs.modified), which memory does not keep (duckdb 1.2 reads it)",
)
def test_read_parquet_on_memory(service, fs, root, con, frame):
    """DuckDB's Parquet reader asks ``fs.modified()`` since 1.3; memory keeps no
    times, so the query fails with opendalfs' NotImplementedError ("memory reports
    no modification time"), wrapped by DuckDB (a typed NotImplementedException
    since duckdb-python#588). CSV and JSON read fine on memory."""
    put(fs, f"{root}/data.parquet", frame, "parquet")
    source = f"read_parquet('{url(service, f'{root}/data.parquet')}')"
    assert con.sql(f"select * from {source} order by id").fetchall() == as_rows(frame)


@SERVICES
@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_copy_to_a_url(service, fs, root, con, frame, fmt):
    con.register("frame", frame)
    con.sql(
        f"copy (select * from frame order by id) to '{url(service, f'{root}/out.{fmt}')}' "
        f"(format {fmt})"
    )
    with fs.open(f"{root}/out.{fmt}", "rb") as f:
        if fmt == "csv":
            back = pd.read_csv(f)
        elif fmt == "json":
            back = pd.read_json(f, orient="records", lines=True)
        else:
            back = pd.read_parquet(f)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert [back[c].dtype.kind for c in back] == [frame[c].dtype.kind for c in frame]


@SERVICES
def test_copy_partitioned_parquet(service, fs, root, con, frame):
    con.register("frame", frame)
    target = url(service, f"{root}/by-flag")
    con.sql(f"copy frame to '{target}' (format parquet, partition_by (flag))")
    files = fs.find(f"{root}/by-flag")
    assert sorted({f.split("/")[-2] for f in files}) == ["flag=false", "flag=true"]

    dataset = ds.dataset(f"{root}/by-flag", filesystem=fs, format="parquet", partitioning="hive")
    back = dataset.to_table().to_pandas()
    assert sorted(back.id) == list(frame.id)
    assert set(back[back.flag == "true"].id) == set(frame[frame.flag].id)


@WITH_MTIME
def test_hive_partitioned_read(service, fs, root, con, frame):
    con.register("frame", frame)
    target = url(service, f"{root}/by-flag")
    con.sql(f"copy frame to '{target}' (format parquet, partition_by (flag))")
    got = con.sql(
        f"select id from read_parquet('{target}/*/*.parquet', hive_partitioning=true) "
        "where flag order by id"
    ).fetchall()
    assert got == [(i,) for i in frame[frame.flag].id]


@SERVICES
def test_missing_file(service, root, con):
    with pytest.raises(duckdb.IOException, match="No files found"):
        con.sql(f"select * from read_csv('{url(service, f'{root}/missing.csv')}')").fetchall()


@pytest.mark.parametrize("service", ["fs"], indirect=True)
def test_default_connection(service, fs, root, frame):
    """``duckdb.register_filesystem`` and ``duckdb.sql`` use the default connection."""
    put(fs, f"{root}/data.csv", frame, "csv")
    duckdb.register_filesystem(fs)
    try:
        got = duckdb.sql(f"select count(*) from read_csv('{url(service, f'{root}/data.csv')}')")
        assert got.fetchall()[0] == (len(frame),)
    finally:
        duckdb.unregister_filesystem(f"opendal+{service.scheme}")
    assert f"opendal+{service.scheme}" not in duckdb.list_filesystems()


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/duckdb.md: its code runs as shown."""
    run_doc_snippets(DOC)
