"""pyarrow reads and writes through opendalfs, on memory, fs and a real S3 server (moto).

pyarrow takes an fsspec filesystem in two ways: wrapped by hand as
``pyarrow.fs.PyFileSystem(FSSpecHandler(fs))``, or given as it is (pyarrow wraps it
the same way). Both are tested; pyarrow itself does not resolve
``opendal+…://`` URLs (its URI parser knows only its own filesystems), but a
path given with the filesystem may keep the protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
ds = pytest.importorskip("pyarrow.dataset")
pc = pytest.importorskip("pyarrow.compute")
pafs = pytest.importorskip("pyarrow.fs")

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "pyarrow.md"


@pytest.fixture(params=["PyFileSystem", "fsspec"])
def arrow_fs(request, fs) -> Any:
    """What to pass as ``filesystem=``: the wrapper made by hand, or the fsspec instance."""
    if request.param == "PyFileSystem":
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs))
    return fs


@pytest.fixture
def table() -> Any:
    return pa.table(
        {
            "year": pa.array([2023, 2023, 2024, 2024, 2024, 2025], pa.int64()),
            "city": ["Oslo", "Lima", "Oslo", "Pune", "Lima", "Oslo"],
            "temp": [3.5, 18.0, -2.25, 31.0, 19.5, 4.0],
        }
    )


def rows(t: Any) -> list[dict[str, Any]]:
    """The rows of ``t`` as dicts, in a fixed order, whatever order pyarrow read them in."""
    return sorted(t.to_pylist(), key=lambda r: (r["year"], r["city"], r["temp"]))


@SERVICES
def test_write_table_and_read_it_back(service, fs, root, arrow_fs, table):
    pq.write_table(table, f"{root}/t.parquet", filesystem=arrow_fs)
    raw = fs.cat_file(f"{root}/t.parquet")
    assert raw[:4] == raw[-4:] == b"PAR1"  # a whole Parquet file on the service
    assert pq.read_table(f"{root}/t.parquet", filesystem=arrow_fs).equals(table)
    # the path may keep its protocol when the filesystem is given
    url = f"opendal+{service.scheme}://{root}/t.parquet"
    assert pq.read_table(url, filesystem=arrow_fs).equals(table)
    # and a file object from fs.open is a readable source too
    with fs.open(f"{root}/t.parquet", "rb") as f:
        assert pq.read_table(f, columns=["city"]).equals(table.select(["city"]))


@SERVICES
def test_parquet_file_reads_row_groups_by_range(fs, root, arrow_fs, table):
    """Several row groups: pyarrow reads the footer, then one range per group."""
    pq.write_table(table, f"{root}/t.parquet", filesystem=arrow_fs, row_group_size=2)
    parquet = pq.ParquetFile(f"{root}/t.parquet", filesystem=arrow_fs)
    assert parquet.metadata.num_row_groups == 3
    assert parquet.read_row_group(1).equals(table.slice(2, 2))


@SERVICES
def test_write_to_dataset_with_partitions_and_filter(fs, root, arrow_fs, table):
    pq.write_to_dataset(table, f"{root}/ds", partition_cols=["year"], filesystem=arrow_fs)
    files = fs.find(f"{root}/ds")
    assert sorted({f.split("/")[-2] for f in files}) == ["year=2023", "year=2024", "year=2025"]
    assert all(f.endswith(".parquet") for f in files)

    dataset = ds.dataset(f"{root}/ds", filesystem=arrow_fs, partitioning="hive", format="parquet")
    assert sorted(dataset.files) == sorted(files)
    got = dataset.to_table(filter=pc.field("year") == 2024)
    want = table.filter(pc.field("year") == 2024)
    assert rows(got.cast(want.select(got.column_names).schema)) == rows(want)

    everything = dataset.to_table().select(table.column_names)
    assert rows(everything.cast(table.schema)) == rows(table)


@SERVICES
def test_write_dataset_and_read_with_column_filter(fs, root, arrow_fs, table):
    """pyarrow.dataset's own writer, then a projection and a filter on a data column."""
    ds.write_dataset(
        table,
        f"{root}/ds2",
        filesystem=arrow_fs,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("city", pa.string())]), flavor="hive"),
    )
    dataset = ds.dataset(f"{root}/ds2", filesystem=arrow_fs, partitioning="hive")
    got = dataset.to_table(columns=["year", "temp"], filter=pc.field("temp") > 10)
    want = table.filter(pc.field("temp") > 10).select(["year", "temp"])
    assert sorted(got.to_pylist(), key=repr) == sorted(want.to_pylist(), key=repr)


@SERVICES
def test_get_file_info_with_a_selector(service, fs, root, table):
    handler_fs = pafs.PyFileSystem(pafs.FSSpecHandler(fs))
    fs.pipe_file(f"{root}/sel/a.bin", b"12345")
    fs.pipe_file(f"{root}/sel/sub/b.bin", b"1234567")
    fs.pipe_file(f"{root}/sel/sub/deeper/c.bin", b"")

    flat = handler_fs.get_file_info(pafs.FileSelector(f"{root}/sel"))
    assert {(i.path, i.type) for i in flat} == {
        (f"{root}/sel/a.bin", pafs.FileType.File),
        (f"{root}/sel/sub", pafs.FileType.Directory),
    }
    deep = handler_fs.get_file_info(pafs.FileSelector(f"{root}/sel", recursive=True))
    by_path = {i.path: i for i in deep}
    assert sorted(by_path) == [
        f"{root}/sel/a.bin",
        f"{root}/sel/sub",
        f"{root}/sel/sub/b.bin",
        f"{root}/sel/sub/deeper",
        f"{root}/sel/sub/deeper/c.bin",
    ]
    assert by_path[f"{root}/sel/a.bin"].size == 5
    assert by_path[f"{root}/sel/sub/b.bin"].size == 7
    assert by_path[f"{root}/sel/sub/deeper/c.bin"].size == 0
    assert by_path[f"{root}/sel/sub"].type == pafs.FileType.Directory
    # pyarrow reads the modification time from the info dict's "mtime"
    mtime = by_path[f"{root}/sel/a.bin"].mtime
    assert (mtime is not None) == service.mtime

    one = handler_fs.get_file_info(f"{root}/sel/a.bin")
    assert (one.type, one.size) == (pafs.FileType.File, 5)
    assert handler_fs.get_file_info(f"{root}/nope").type == pafs.FileType.NotFound

    missing = pafs.FileSelector(f"{root}/nope", allow_not_found=True)
    assert handler_fs.get_file_info(missing) == []
    with pytest.raises(FileNotFoundError):
        handler_fs.get_file_info(pafs.FileSelector(f"{root}/nope"))


@SERVICES
def test_streams_and_file_operations(fs, root):
    handler_fs = pafs.PyFileSystem(pafs.FSSpecHandler(fs))
    with handler_fs.open_output_stream(f"{root}/s/data.bin") as out:
        out.write(b"hello ")
        out.write(b"arrow")
    with handler_fs.open_input_stream(f"{root}/s/data.bin") as stream:
        assert stream.read() == b"hello arrow"
    with handler_fs.open_input_file(f"{root}/s/data.bin") as f:
        f.seek(6)
        assert f.read(5) == b"arrow"
        assert f.size() == 11
    handler_fs.copy_file(f"{root}/s/data.bin", f"{root}/s/copy.bin")
    handler_fs.move(f"{root}/s/copy.bin", f"{root}/s/moved.bin")
    assert fs.cat_file(f"{root}/s/moved.bin") == b"hello arrow"
    assert not fs.exists(f"{root}/s/copy.bin")
    handler_fs.delete_file(f"{root}/s/moved.bin")
    handler_fs.create_dir(f"{root}/s/made")
    assert fs.isdir(f"{root}/s/made")
    handler_fs.delete_dir(f"{root}/s")
    assert not fs.exists(f"{root}/s")


@SERVICES
def test_the_handler_names_the_protocol(service, fs):
    """FSSpecHandler names a wrapped filesystem after its protocol, a string."""
    assert pafs.PyFileSystem(pafs.FSSpecHandler(fs)).type_name == (
        f"py::fsspec+opendal+{service.scheme}"
    )


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/pyarrow.md: its code runs as shown."""
    run_doc_snippets(DOC)
