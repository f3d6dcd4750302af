"""fsspec's caches chained over ``opendal+<service>``, on memory, fs and S3 (moto).

``simplecache::``, ``filecache::`` and ``blockcache::`` in a URL, with each layer's
options keyed by its protocol (``{"opendal+s3": {...}}``), and the same caches
made around a filesystem instance (``fsspec.filesystem("simplecache", fs=fs)``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import fsspec
import pytest

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
CACHES = pytest.mark.parametrize("cache", ["simplecache", "filecache", "blockcache"])
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "chaining.md"
DATA = bytes(range(256)) * 1024  # 256 KiB, several of blockcache's blocks


def chained(cache: str, service: Any, path: str) -> str:
    return f"{cache}::opendal+{service.scheme}://{path}"


def layer_options(cache: str, service: Any, storage: Path) -> dict[str, Any]:
    """Keyword arguments for a chained URL: each layer's options under its protocol."""
    options: dict[str, Any] = {cache: {"cache_storage": str(storage)}}
    options[f"opendal+{service.scheme}"] = service.options
    if cache == "blockcache":
        options[cache]["block_size"] = 64 * 1024
    return options


@SERVICES
@CACHES
def test_read_and_seek_by_url(service, fs, root, tmp_path, cache):
    fs.pipe_file(f"{root}/data.bin", DATA)
    url = chained(cache, service, f"{root}/data.bin")
    options = layer_options(cache, service, tmp_path)
    with fsspec.open(url, "rb", **options) as f:
        assert f.read(10) == DATA[:10]
        f.seek(200_000)
        assert f.read(1000) == DATA[200_000:201_000]
        f.seek(-5, 2)
        assert f.read() == DATA[-5:]
    assert any(tmp_path.iterdir()), "nothing was cached locally"
    with fsspec.open(url, "rb", **options) as f:  # again, from the cache
        assert f.read() == DATA


@SERVICES
@CACHES
def test_read_by_instance(service, fs, root, tmp_path, cache):
    fs.pipe_file(f"{root}/data.bin", DATA)
    cached = fsspec.filesystem(cache, fs=fs, cache_storage=str(tmp_path))
    assert cached.cat_file(f"{root}/data.bin") == DATA
    with cached.open(f"{root}/data.bin", "rb") as f:
        f.seek(70_000)
        assert f.read(100) == DATA[70_000:70_100]
    # The target named by protocol, its options as target_options: the same files.
    by_name = fsspec.filesystem(
        cache,
        target_protocol=fs.protocol,
        target_options=service.options,
        cache_storage=str(tmp_path / "by-name"),
    )
    assert by_name.cat_file(fs.unstrip_protocol(f"{root}/data.bin")) == DATA


@SERVICES
def test_url_to_fs_keeps_every_layer(service, root, tmp_path):
    url = chained("filecache", service, f"{root}/a.txt")
    cached, path = fsspec.core.url_to_fs(url, **layer_options("filecache", service, tmp_path))
    assert path == f"{root}/a.txt"
    assert cached.protocol == "filecache"
    assert cached.fs.protocol == f"opendal+{service.scheme}"
    assert cached.fs.storage_options == service.options


@SERVICES
@pytest.mark.parametrize("cache", ["simplecache", "filecache"])
def test_write_through_a_cache(service, fs, root, tmp_path, cache):
    """A file written through a whole-file cache is uploaded when it closes."""
    url = chained(cache, service, f"{root}/out/written.bin")
    with fsspec.open(url, "wb", **layer_options(cache, service, tmp_path)) as f:
        f.write(DATA[:5000])
        f.write(DATA[5000:])
    fs.invalidate_cache()
    assert fs.cat_file(f"{root}/out/written.bin") == DATA


@SERVICES
def test_open_files_globs_through_a_cache(service, fs, root, tmp_path):
    for name in ("a.csv", "b.csv", "c.txt"):
        fs.pipe_file(f"{root}/many/{name}", name.encode())
    files = fsspec.open_files(
        chained("simplecache", service, f"{root}/many/*.csv"),
        "rb",
        **layer_options("simplecache", service, tmp_path),
    )
    assert sorted(f.path for f in files) == [f"{root}/many/a.csv", f"{root}/many/b.csv"]
    contents = []
    for of in files:
        with of as f:
            contents.append(f.read())
    assert sorted(contents) == [b"a.csv", b"b.csv"]


@SERVICES
def test_pandas_through_a_chained_url(service, fs, root, tmp_path):
    pd = pytest.importorskip("pandas")
    fs.pipe_file(f"{root}/t.csv", b"x,y\n1,2\n3,4\n")
    df = pd.read_csv(
        chained("simplecache", service, f"{root}/t.csv"),
        storage_options=layer_options("simplecache", service, tmp_path),
    )
    assert df.to_dict("list") == {"x": [1, 3], "y": [2, 4]}


@SERVICES
def test_staleness_simplecache_keeps_filecache_checks(service, fs, root, tmp_path):
    """simplecache serves its copy forever; filecache(check_files=True) follows a
    change of ``fs.ukey`` (same size, so only the key can tell)."""
    fs.pipe_file(f"{root}/v.txt", b"one")
    simple = fsspec.filesystem("simplecache", fs=fs, cache_storage=str(tmp_path / "s"))
    checked = fsspec.filesystem(
        "filecache", fs=fs, cache_storage=str(tmp_path / "f"), check_files=True
    )
    assert simple.cat_file(f"{root}/v.txt") == checked.cat_file(f"{root}/v.txt") == b"one"
    time.sleep(0.01)  # a modification time that differs, where one is the key
    fs.pipe_file(f"{root}/v.txt", b"two")
    assert simple.cat_file(f"{root}/v.txt") == b"one"
    assert checked.cat_file(f"{root}/v.txt") == b"two"


@SERVICES
def test_missing_file(service, root, tmp_path):
    url = chained("simplecache", service, f"{root}/missing.bin")
    with (
        pytest.raises(FileNotFoundError),
        fsspec.open(url, "rb", **layer_options("simplecache", service, tmp_path)) as f,
    ):
        f.read()


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/chaining.md: its code runs as shown."""
    run_doc_snippets(DOC)
