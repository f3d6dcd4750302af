"""Hugging Face ``datasets`` reads and writes through opendalfs, on memory, fs and S3.

``load_dataset`` with the local builders (json, csv, parquet) and ``data_files`` given
as ``opendal+<service>://`` URLs, eager (downloaded into the cache, then built) and
streaming; ``Dataset.to_*``, ``save_to_disk`` and ``load_from_disk`` on URLs. Nothing
reaches the Hugging Face Hub: every test runs with connections to anything but the
loopback refused.

``load_dataset`` takes ``storage_options`` keyed by protocol
(``{"opendal+s3": {...}}``, i.e. ``{fs.protocol: options}``): unkeyed, datasets drops
every option whose name is also an fsspec protocol, and fs' ``root`` is one.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    pytest.importorskip("datasets")
    pytest.importorskip("pandas")

import datasets
import pandas as pd

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
BUILDERS = pytest.mark.parametrize("builder", ["json", "csv", "parquet"])
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "datasets.md"
ROWS = [{"id": i, "text": f"row {i} ü", "score": i * 0.5} for i in range(30)]
EXTENSION = {"json": "jsonl", "csv": "csv", "parquet": "parquet"}


@pytest.fixture(autouse=True)
def no_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Refuse every connection off the loopback; keep datasets' caches in tmp_path."""
    connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if not (
            isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost"))
        ):
            raise ConnectionRefusedError(f"the tests reach no network: {address!r}")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    datasets.disable_progress_bars()


def url(service: Any, path: str) -> str:
    return f"opendal+{service.scheme}://{path}"


def keyed(service: Any) -> dict[str, Any]:
    """``load_dataset``'s storage_options: the service's options under its protocol."""
    return {f"opendal+{service.scheme}": dict(service.options)}


def load(builder: str, service: Any, data_files: Any, **options: Any) -> Any:
    """``load_dataset`` of ``data_files`` (URLs) with the service's options keyed."""
    return datasets.load_dataset(
        builder, data_files=data_files, storage_options=keyed(service), **options
    )


def put(fs: Any, path: str, builder: str, rows: list[dict[str, Any]] = ROWS) -> None:
    frame = pd.DataFrame(rows)
    with fs.open(path, "wb") as f:
        if builder == "json":
            f.write("\n".join(json.dumps(r) for r in rows).encode())
        elif builder == "csv":
            frame.to_csv(f, index=False)
        else:
            frame.to_parquet(f, index=False)


@SERVICES
@BUILDERS
def test_load_dataset_eager(service, fs, root, tmp_path, builder):
    put(fs, f"{root}/data.{EXTENSION[builder]}", builder)
    target = url(service, f"{root}/data.{EXTENSION[builder]}")
    ds = load(builder, service, target, cache_dir=str(tmp_path / "cache"), split="train")
    assert ds.num_rows == len(ROWS)
    assert ds[7] == ROWS[7]
    assert ds.column_names == ["id", "text", "score"]


@SERVICES
@BUILDERS
def test_load_dataset_streaming(service, fs, root, builder):
    put(fs, f"{root}/data.{EXTENSION[builder]}", builder)
    target = url(service, f"{root}/data.{EXTENSION[builder]}")
    ds = load(builder, service, target, streaming=True, split="train")
    assert list(ds) == ROWS
    assert [row["id"] for row in ds.filter(lambda row: row["id"] % 10 == 0)] == [0, 10, 20]


@SERVICES
def test_load_dataset_of_globs_and_splits(service, fs, root, tmp_path):
    put(fs, f"{root}/train/part-0.jsonl", "json", ROWS[:10])
    put(fs, f"{root}/train/part-1.jsonl", "json", ROWS[10:25])
    put(fs, f"{root}/test/part-0.jsonl", "json", ROWS[25:])
    fs.pipe_file(f"{root}/train/README.txt", b"not data")
    data_files = {
        "train": url(service, f"{root}/train/*.jsonl"),
        "test": url(service, f"{root}/test/*.jsonl"),
    }
    dd = load("json", service, data_files, cache_dir=str(tmp_path))
    assert {name: split.num_rows for name, split in dd.items()} == {"train": 25, "test": 5}
    assert sorted(dd["train"]["id"]) == list(range(25))
    streamed = load("json", service, data_files, streaming=True)
    assert sorted(row["id"] for row in streamed["train"]) == list(range(25))


@SERVICES
@pytest.mark.parametrize("fmt", ["parquet", "json", "csv"])
def test_dataset_to_a_url(service, fs, root, fmt):
    ds = datasets.Dataset.from_list(ROWS)
    target = url(service, f"{root}/out.{fmt}")
    getattr(ds, f"to_{fmt}")(target, storage_options=dict(service.options))
    assert fs.size(f"{root}/out.{fmt}") > 0
    with fs.open(f"{root}/out.{fmt}", "rb") as f:
        back = {
            "parquet": pd.read_parquet,
            "json": lambda f: pd.read_json(f, lines=True),
            "csv": pd.read_csv,
        }[fmt](f)
    assert back.to_dict("records") == ROWS


@SERVICES
def test_save_to_disk_and_load_from_disk(service, fs, root):
    ds = datasets.Dataset.from_list(ROWS)
    target = url(service, f"{root}/saved")
    ds.save_to_disk(target, storage_options=dict(service.options))
    assert "state.json" in {p.rsplit("/", 1)[-1] for p in fs.find(f"{root}/saved")}
    back = datasets.load_from_disk(target, storage_options=dict(service.options))
    assert back.to_list() == ROWS


@pytest.mark.parametrize("service", ["memory"], indirect=True)
def test_eager_load_in_offline_mode_fails_loudly(service, fs, root, tmp_path, monkeypatch):
    """In offline mode (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE) datasets refuses every
    URL that is not a local path, opendal+ ones included; streaming still works."""
    put(fs, f"{root}/data.jsonl", "json")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    target = url(service, f"{root}/data.jsonl")
    with pytest.raises(ConnectionError, match="Offline mode is enabled"):
        load("json", service, target, cache_dir=str(tmp_path), split="train")
    streamed = load("json", service, target, streaming=True, split="train")
    assert len(list(streamed)) == len(ROWS)


@pytest.mark.parametrize("service", ["fs"], indirect=True)
def test_unkeyed_options_lose_the_root(service, fs, root, tmp_path):
    """Unkeyed, datasets drops options named like an fsspec protocol: fs' ``root`` is
    one, so the file is looked for under ``/`` and not found (as the docs warn)."""
    put(fs, f"{root}/data.jsonl", "json")
    with pytest.raises(FileNotFoundError):
        datasets.load_dataset(
            "json",
            data_files=url(service, f"{root}/data.jsonl"),
            storage_options=dict(service.options),
            cache_dir=str(tmp_path),
            split="train",
        )


@SERVICES
def test_a_missing_file(service, root, tmp_path):
    target = url(service, f"{root}/missing.jsonl")
    with pytest.raises(FileNotFoundError):
        load("json", service, target, cache_dir=str(tmp_path), split="train")


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/datasets.md: its code runs as shown."""
    run_doc_snippets(DOC)
