"""pandas reads and writes through opendalfs, on memory, fs and a real S3 server (moto).

The two ways in that pandas offers: an ``opendal+<service>://`` URL with
``storage_options`` (pandas finds the protocol through fsspec's entry points), and
a file object from ``fs.open``. Every test reads real bytes back and compares
frames with ``pandas.testing``; the cross tests write one way and read the other,
so both ways are shown to reach the same files.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")  # to_parquet / read_parquet

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "pandas.md"


def url(service: Any, path: str) -> str:
    return f"opendal+{service.scheme}://{path}"


@pytest.fixture
def frame() -> Any:
    n = 60
    return pd.DataFrame(
        {
            "id": range(n),
            "name": [f"row {i} ü" for i in range(n)],  # non-ASCII text survives
            "value": [i * 0.25 - 3 for i in range(n)],
            "flag": [i % 3 == 0 for i in range(n)],
        }
    )


# Each format: how to write a frame to a target, how to read one from a source.
# ``target``/``source`` is a URL or an open file; extra keywords (storage_options) pass on.
Writer = Callable[..., None]
Reader = Callable[..., Any]
FORMATS: dict[str, tuple[str, Writer, Reader]] = {
    "csv": (
        "csv",
        lambda df, target, **kw: df.to_csv(target, index=False, **kw),
        lambda source, **kw: pd.read_csv(source, **kw),
    ),
    "parquet": (
        "parquet",
        lambda df, target, **kw: df.to_parquet(target, index=False, **kw),
        lambda source, **kw: pd.read_parquet(source, **kw),
    ),
    "json-lines": (
        "jsonl",
        lambda df, target, **kw: df.to_json(target, orient="records", lines=True, **kw),
        lambda source, **kw: pd.read_json(source, orient="records", lines=True, **kw),
    ),
    "json": (
        "json",
        lambda df, target, **kw: df.to_json(target, orient="split", index=False, **kw),
        lambda source, **kw: pd.read_json(source, orient="split", **kw),
    ),
}


@SERVICES
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_url_round_trip(service, fs, root, frame, fmt):
    ext, write, read = FORMATS[fmt]
    target = url(service, f"{root}/data.{ext}")
    write(frame, target, storage_options=service.options)
    assert fs.info(f"{root}/data.{ext}")["size"] > 0  # it is on the service, not elsewhere
    back = read(target, storage_options=service.options)
    pd.testing.assert_frame_equal(back, frame)


@SERVICES
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_url_write_file_object_read(service, fs, root, frame, fmt):
    ext, write, read = FORMATS[fmt]
    write(frame, url(service, f"{root}/data.{ext}"), storage_options=service.options)
    with fs.open(f"{root}/data.{ext}", "rb") as f:
        back = read(f)
    pd.testing.assert_frame_equal(back, frame)


@SERVICES
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_file_object_write_url_read(service, fs, root, frame, fmt):
    ext, write, read = FORMATS[fmt]
    with fs.open(f"{root}/data.{ext}", "wb") as f:
        write(frame, f)
    back = read(url(service, f"{root}/data.{ext}"), storage_options=service.options)
    pd.testing.assert_frame_equal(back, frame)


@SERVICES
def test_text_mode_file_objects(service, fs, root, frame):
    """pandas writes str to a file opened "w" and reads one opened "r"."""
    with fs.open(f"{root}/text.csv", "w", encoding="utf-8") as f:
        frame.to_csv(f, index=False)
    with fs.open(f"{root}/text.csv", "r", encoding="utf-8") as f:
        back = pd.read_csv(f)
    pd.testing.assert_frame_equal(back, frame)
    assert "row 1 ü" in fs.cat_file(f"{root}/text.csv").decode("utf-8")


@SERVICES
def test_compression_from_the_url(service, fs, root, frame):
    """pandas infers gzip from ``.csv.gz`` in the URL and compresses on the way out."""
    target = url(service, f"{root}/data.csv.gz")
    frame.to_csv(target, index=False, storage_options=service.options)
    raw = fs.cat_file(f"{root}/data.csv.gz")
    assert raw[:2] == b"\x1f\x8b"  # gzip magic: compressed on the service
    assert gzip.decompress(raw).decode("utf-8").splitlines()[0] == "id,name,value,flag"
    back = pd.read_csv(target, storage_options=service.options)
    pd.testing.assert_frame_equal(back, frame)


@SERVICES
def test_read_parquet_of_a_directory(service, fs, root, frame):
    """A directory URL reads every Parquet file below it as one frame."""
    for i, part in enumerate([frame.iloc[:20], frame.iloc[20:45], frame.iloc[45:]]):
        part.to_parquet(
            url(service, f"{root}/table/part-{i}.parquet"),
            index=False,
            storage_options=service.options,
        )
    back = pd.read_parquet(url(service, f"{root}/table"), storage_options=service.options)
    back = back.sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, frame)


@SERVICES
def test_missing_file_is_file_not_found(service, root):
    with pytest.raises(FileNotFoundError):
        pd.read_csv(url(service, f"{root}/missing.csv"), storage_options=service.options)


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/pandas.md: its code runs as shown."""
    run_doc_snippets(DOC)
