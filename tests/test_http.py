"""The read-only ``http`` service: nginx serves files the tests put in its ``seed_dir``.

Everything that reads works as on any other service; everything that would change
the server raises ``NotImplementedError`` naming the service, and changes nothing.
"""

from __future__ import annotations

import datetime
import io
import random
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
import pytest

from opendalfs import OpendalFileSystem

#: A little over 1 MiB, so ranged reads and caches cross many blocks.
BIG = random.Random(7).randbytes(2**20 + 123)
SMALL = b"0123456789abcdefghij"
NESTED = b"nested bytes\n"
CSV = b"name,count\nalpha,1\nbeta,2\ngamma,3\n"


@dataclass(frozen=True)
class Seeded:
    """The http filesystem and the files seeded for it (names relative to the server root)."""

    fs: OpendalFileSystem
    options: dict[str, str]
    top: str
    seed_dir: Path

    def name(self, rel: str) -> str:
        return f"{self.top}/{rel}"

    def local(self, rel: str) -> Path:
        return self.seed_dir / self.top / rel


@pytest.fixture(scope="module")
def http(servers: Any) -> Seeded:
    running = servers("http")
    assert running.seed_dir is not None
    top = f"h-{uuid.uuid4().hex[:12]}"
    files = {
        "big.bin": BIG,
        "small.txt": SMALL,
        "dir/sub/nested.txt": NESTED,
        "table.csv": CSV,
    }
    for rel, data in files.items():
        path = running.seed_dir / top / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    fs = OpendalFileSystem("http", **running.options)
    return Seeded(fs, dict(running.options), top, running.seed_dir)


# -- reading -----------------------------------------------------------------


def test_cat_file_reads_whole_files_and_nested_ones(http):
    assert http.fs.cat_file(http.name("small.txt")) == SMALL
    assert http.fs.cat_file(http.name("big.bin")) == BIG
    assert http.fs.cat_file(http.name("dir/sub/nested.txt")) == NESTED
    assert http.fs.cat(http.name("small.txt")) == SMALL


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        (0, 10),
        (5, 15),
        (100_000, 300_000),
        (-10, None),
        (-10, -2),
        (None, -1),
        (-(2**21), 10),  # a negative start before the beginning clamps to 0
        (2**20, None),  # the last 123 bytes
        (2**20 + 100, 2**21),  # an end past the end
        (2**21, 2**21 + 10),  # entirely past the end
        (2**21, None),
        (7, 7),
        (9, 3),
    ],
)
def test_cat_file_slices_like_bytes(http, start, end):
    assert http.fs.cat_file(http.name("big.bin"), start, end) == BIG[start:end]


def test_cat_file_past_the_end_of_a_small_file(http):
    assert http.fs.cat_file(http.name("small.txt"), 15, 100) == SMALL[15:]
    assert http.fs.cat_file(http.name("small.txt"), 100, 200) == b""
    assert http.fs.cat_file(http.name("small.txt"), -100) == SMALL


def test_cat_ranges(http):
    big, small = http.name("big.bin"), http.name("small.txt")
    paths = [big, big, big, small, small]
    starts = [0, 500_000, -20, 3, 10]
    ends = [16, 500_100, None, 8, 500]
    expected = [BIG[0:16], BIG[500_000:500_100], BIG[-20:], SMALL[3:8], SMALL[10:500]]
    assert http.fs.cat_ranges(paths, starts, ends) == expected


def test_info_size_and_exists_of_files(http):
    info = http.fs.info(http.name("big.bin"))
    assert (info["name"], info["type"], info["size"]) == (http.name("big.bin"), "file", len(BIG))
    assert isinstance(info["last_modified"], datetime.datetime)
    assert info["last_modified"].tzinfo is not None
    assert http.fs.size(http.name("small.txt")) == len(SMALL)
    assert http.fs.exists(http.name("small.txt"))
    assert http.fs.exists(http.name("dir/sub/nested.txt"))
    assert http.fs.isfile(http.name("dir/sub/nested.txt"))
    assert isinstance(http.fs.modified(http.name("small.txt")), datetime.datetime)


def test_a_missing_file_does_not_exist(http):
    missing = http.name("no-such-file.txt")
    assert not http.fs.exists(missing)
    assert not http.fs.isdir(missing)
    with pytest.raises(FileNotFoundError):
        http.fs.info(missing)


def test_reading_a_missing_file_is_file_not_found(http):
    missing = http.name("no-such-file.txt")
    with pytest.raises(FileNotFoundError):
        http.fs.cat_file(missing)
    with pytest.raises(FileNotFoundError):
        http.fs.open(missing, "rb")


def test_get_file_of_a_missing_file_leaves_nothing_behind(http, tmp_path):
    target = tmp_path / "out"
    with pytest.raises(FileNotFoundError):
        http.fs.get_file(http.name("no-such-file.txt"), str(target))
    assert not target.exists()


@pytest.mark.parametrize("cache_type", ["readahead", "bytes", "blockcache", "none"])
def test_open_rb_seeks_and_reads_like_a_local_file(http, cache_type):
    local = io.BytesIO(BIG)
    with http.fs.open(
        http.name("big.bin"), "rb", cache_type=cache_type, block_size=64 * 2**10
    ) as f:
        assert f.size == len(BIG)
        for offset, whence, size in [
            (0, 0, 100),
            (500_000, 0, 70_000),
            (-50, 2, 100),  # reads past the end stop at the end
            (-300_000, 1, 10),
            (123, 0, 0),
            (2**20, 0, -1),
        ]:
            assert f.seek(offset, whence) == local.seek(offset, whence)
            assert f.read(size) == local.read(size)
            assert f.tell() == local.tell()
        assert f.read() == b""


def test_get_file_downloads_to_a_local_path(http, tmp_path):
    target = tmp_path / "big.bin"
    http.fs.get_file(http.name("big.bin"), str(target))
    assert target.read_bytes() == BIG
    http.fs.get(http.name("dir/sub/nested.txt"), str(tmp_path / "nested.txt"))
    assert (tmp_path / "nested.txt").read_bytes() == NESTED


def test_fsspec_open_with_a_url(http):
    with fsspec.open(f"opendal+http://{http.name('small.txt')}", "rb", **http.options) as f:
        assert f.read() == SMALL
    with fsspec.open(
        f"opendal+http://{http.name('dir/sub/nested.txt')}", "rt", **http.options
    ) as f:
        assert f.read() == NESTED.decode()


def test_pandas_reads_a_csv_by_url(http):
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(f"opendal+http://{http.name('table.csv')}", storage_options=http.options)
    assert list(frame.columns) == ["name", "count"]
    assert frame["name"].tolist() == ["alpha", "beta", "gamma"]
    assert frame["count"].tolist() == [1, 2, 3]


def test_sign_gives_a_url_that_reads_the_file(http):
    url = http.fs.sign(http.name("small.txt"))
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == SMALL


# -- what a read-only service cannot do -----------------------------------------


def _open_wb(fs: OpendalFileSystem, name: str) -> None:
    with fs.open(name, "wb") as f:
        f.write(b"new bytes")


#: (operation, call with the filesystem and a function naming files below ``top``).
REFUSED: list[tuple[str, Callable[[OpendalFileSystem, Callable[[str], str]], Any]]] = [
    ("pipe_file new", lambda fs, n: fs.pipe_file(n("new.txt"), b"new bytes")),
    ("pipe_file existing", lambda fs, n: fs.pipe_file(n("small.txt"), b"replaced")),
    ("rm", lambda fs, n: fs.rm(n("small.txt"))),
    ("rm_file", lambda fs, n: fs.rm_file(n("small.txt"))),
    ("ls", lambda fs, n: fs.ls(n("dir"))),
    ("ls root", lambda fs, n: fs.ls("")),
    ("mkdir", lambda fs, n: fs.mkdir(n("newdir"))),
    ("open wb", lambda fs, n: _open_wb(fs, n("new.txt"))),
    ("open wb existing", lambda fs, n: _open_wb(fs, n("small.txt"))),
    ("cp_file", lambda fs, n: fs.cp_file(n("small.txt"), n("copy.txt"))),
    ("mv", lambda fs, n: fs.mv(n("small.txt"), n("moved.txt"))),
]


@pytest.mark.parametrize(("operation", "call"), REFUSED, ids=[op for op, _ in REFUSED])
def test_what_a_read_only_service_cannot_do_raises_not_implemented(http, operation, call):
    before = sorted(p.relative_to(http.seed_dir) for p in http.seed_dir.rglob("*"))
    with pytest.raises(NotImplementedError, match="http"):
        call(http.fs, http.name)
    after = sorted(p.relative_to(http.seed_dir) for p in http.seed_dir.rglob("*"))
    assert after == before, f"{operation} changed the served files"
    assert http.local("small.txt").read_bytes() == SMALL
    assert http.fs.cat_file(http.name("small.txt")) == SMALL
