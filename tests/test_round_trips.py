"""Requests per operation on object stores: what each one sends, counted at the wire.

Over a network a request costs 10-50 ms, so the number of requests is the speed
that matters. A :class:`~faultproxy.FaultProxy` in front of the server sees every
request; each test runs an operation on a fresh filesystem and checks what it
sent, by kind, against what the operation cannot do without. S3 is held to exact
counts; on Azure Blob Storage and GCS (whose emulators differ in what they batch)
the tests check the same "answered from what we know" behaviours.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faultproxy import FaultProxy, kinds
from helpers import proxied_store

from opendalfs import OpendalFileSystem
from opendalfs._reading import OPEN_READS_WHOLE

pytestmark = [pytest.mark.own_services, pytest.mark.timeout(120)]

OBJECT_STORES = ("s3", "azblob", "gcs")


@dataclass
class Wire:
    """A proxy in front of one object store, and a place on it for one test."""

    proxy: FaultProxy
    scheme: str
    options: dict[str, Any]
    dir: str

    def fs(self, **kwargs: Any) -> OpendalFileSystem:
        """A filesystem of its own (nothing cached) that talks through the proxy."""
        return OpendalFileSystem(self.scheme, **self.options, skip_instance_cache=True, **kwargs)

    def path(self, rel: str) -> str:
        return f"{self.dir}/{rel}"

    def sent(self, call: Callable[[], Any]) -> Counter[str]:
        """The requests ``call`` sent, by kind (HEAD, GET, LIST, PUT, COPY, DELETE, BATCH)."""
        before = len(self.proxy.heads)
        call()
        return kinds(self.proxy.heads[before:])


@pytest.fixture(params=OBJECT_STORES)
def wire(
    request: pytest.FixtureRequest, servers: Any, pytestconfig: pytest.Config
) -> Iterator[Wire]:
    scheme = request.param
    proxy, running, options = proxied_store(servers, scheme, pytestconfig)
    where = f"{running.container}/rt-{uuid.uuid4().hex[:12]}"
    yield Wire(proxy, scheme, options, where)
    proxy.close()
    assert proxy.errors == []


#: For the tests that hold S3 to exact counts by kind.
on_s3 = pytest.mark.parametrize("wire", ["s3"], indirect=True)


def make_tree(fs: OpendalFileSystem, root: str, dirs: int, files: int) -> list[str]:
    """``dirs`` directories with a marker each and ``files`` files in each; their names."""
    for d in range(dirs):
        fs.mkdir(f"{root}/d{d}")
    names = [f"{root}/d{d}/f{f}" for d in range(dirs) for f in range(files)]
    fs.pipe(dict.fromkeys(names, b"x" * 10))
    return names


def test_info_of_a_directory_keeps_the_listing_it_made(wire: Wire) -> None:
    """A directory's info lists one page of it after the stat found no file: that page
    is a listing, kept under fsspec's settings, and answers the directory's next
    ``info`` and ``ls`` (s3fs answers ``info`` from a cached listing too)."""
    wire.fs().pipe(wire.path("dir/a"), b"a")
    fs = wire.fs()
    first = wire.sent(lambda: fs.info(wire.path("dir")))
    assert first.total() >= 1
    again = wire.sent(lambda: (fs.info(wire.path("dir")), fs.ls(wire.path("dir"))))
    assert again == Counter()
    assert wire.sent(lambda: fs.info(wire.path("dir"), refresh=True)) == first
    assert fs.isdir(wire.path("dir"))
    assert not fs.isfile(wire.path("dir"))
    if wire.scheme == "s3":
        assert first == Counter({"HEAD": 1, "LIST": 1})  # no file of that name, then dir/
    uncached = wire.fs(use_listings_cache=False)
    assert wire.sent(lambda: uncached.info(wire.path("dir"))) == first
    assert wire.sent(lambda: uncached.info(wire.path("dir"))) == first


def test_isdir_is_one_listing_each_call(wire: Wire) -> None:
    wire.fs().pipe(wire.path("dir/a"), b"a")
    fs = wire.fs()
    sent = wire.sent(lambda: [fs.isdir(wire.path("dir")) for _ in range(2)])
    assert sent.total() == 2
    if wire.scheme == "s3":
        assert sent == Counter({"LIST": 2})


def test_a_missing_path_is_asked_about_once_a_call(wire: Wire) -> None:
    fs = wire.fs()
    missing = wire.path("missing")
    assert wire.sent(lambda: fs.exists(missing)).total() == 1
    assert wire.sent(lambda: fs.exists(missing)).total() == 1  # not remembered missing
    # Within one call, what was found missing answers for everything below it.
    below = [f"{missing}/{i}" for i in range(3)]
    assert wire.sent(lambda: fs.expand_path([missing, *below])) == Counter()
    with pytest.raises(FileNotFoundError):
        fs.info(f"{missing}/below")
    wire.fs().pipe(missing, b"made elsewhere")
    assert fs.exists(missing)
    assert fs.cat_file(missing) == b"made elsewhere"


def test_our_own_writes_are_asked_about_again(wire: Wire) -> None:
    """Nothing about single paths outlives the call that learned it, our writes
    included: another writer may delete them (s3fs asks too)."""
    fs = wire.fs()
    touched, piped, written = wire.path("t"), wire.path("p"), wire.path("w")
    assert wire.sent(lambda: fs.touch(touched)).total() == 1
    fs.pipe_file(piped, b"abc")
    with fs.open(written, "wb") as f:
        f.write(b"written")
    for look in (
        lambda: fs.exists(touched),
        lambda: fs.isfile(piped),
        lambda: fs.isdir(written),
        lambda: fs.info(written),
    ):
        assert wire.sent(look).total() == 1
    assert fs.info(written)["size"] == 7
    wire.fs().rm_file(piped)
    assert not fs.exists(piped)


def test_a_listing_answers_the_next_one(wire: Wire) -> None:
    writer = wire.fs()
    writer.pipe({wire.path(f"ds/part{i}"): b"p" for i in range(4)})
    writer.pipe(wire.path("ds/sub/x"), b"x")
    fs = wire.fs()
    assert wire.sent(lambda: fs.find(wire.path("ds"))).total() == 1
    after_find = wire.sent(
        lambda: (
            fs.ls(wire.path("ds")),
            fs.ls(wire.path("ds/sub")),
            fs.exists(wire.path("ds/_metadata")),
            fs.info(wire.path("ds/part0")),
        )
    )
    assert after_find == Counter()
    # find asks the store again, as s3fs's does: a file added elsewhere is found.
    writer.pipe(wire.path("ds/sub/y"), b"y")
    assert wire.sent(lambda: fs.find(wire.path("ds/sub"))).total() == 1
    assert fs.find(wire.path("ds/sub")) == [wire.path("ds/sub/x"), wire.path("ds/sub/y")]


def test_a_small_file_opened_from_a_listing_is_one_get(wire: Wire) -> None:
    wire.fs().pipe({wire.path(f"f{i}"): bytes([i]) * 1000 for i in range(3)})
    fs = wire.fs()
    fs.ls(wire.path(""))

    def read_pieces() -> bytes:
        with fs.open(wire.path("f1"), "rb") as f:
            f.seek(-8, 2)
            tail = f.read()
            f.seek(0)
            return f.read(100) + tail

    sent = wire.sent(lambda: read_pieces())
    assert sent == Counter({"GET": 1})
    assert read_pieces() == bytes([1]) * 108


def test_open_read_of_a_small_file_is_one_request(wire: Wire) -> None:
    wire.fs().pipe(wire.path("f"), b"data")
    fs = wire.fs()
    sent = wire.sent(lambda: fs.open(wire.path("f"), "rb").read())
    assert sent.total() == 1
    if wire.scheme == "s3":
        assert sent == Counter({"GET": 1})
    with fs.open(wire.path("f"), "rb") as f:
        assert (f.size, f.read(2), f.read()) == (4, b"da", b"ta")


def test_open_of_a_missing_file_or_a_directory_fails_at_open(wire: Wire) -> None:
    wire.fs().pipe(wire.path("dir/a"), b"a")
    fs = wire.fs()
    with pytest.raises(FileNotFoundError) as missing:
        fs.open(wire.path("missing"), "rb")
    assert missing.value.filename == wire.path("missing")
    with pytest.raises(IsADirectoryError):
        fs.open(wire.path("dir"), "rb")


@on_s3
def test_open_of_a_larger_file_stats_it_after_the_first_request(wire: Wire) -> None:
    data = bytes(range(256)) * (OPEN_READS_WHOLE // 256 + 1)
    wire.fs().pipe(wire.path("big"), data)
    fs = wire.fs()
    # The first request finds it longer than OPEN_READS_WHOLE and is dropped; the
    # stat brings its size and ETag, which the reads then require.
    sent = wire.sent(lambda: fs.open(wire.path("big"), "rb").read())
    assert sent == Counter({"GET": 2, "HEAD": 1})
    with fs.open(wire.path("big"), "rb") as f:
        f.seek(1000)
        assert f.read(10) == data[1000:1010]
        assert f.size == len(data)


@on_s3
def test_copy_of_a_tree_lists_once_and_copies_each_file(wire: Wire) -> None:
    names = make_tree(wire.fs(), wire.path("src"), dirs=3, files=5)
    fs = wire.fs()
    sent = wire.sent(lambda: fs.copy(wire.path("src"), wire.path("dst"), recursive=True))
    # Whether the target is a directory, everything below the source, and what the
    # source itself is (a file of its name would win); OpenDAL's copy stats its
    # source before each COPY; the source's and its directories' markers are made.
    assert sent == Counter({"LIST": 3, "HEAD": len(names), "COPY": len(names), "PUT": 4})
    assert sorted(wire.fs().find(wire.path("dst"))) == [
        n.replace("/src/", "/dst/") for n in sorted(names)
    ]


@on_s3
def test_mv_of_a_file(wire: Wire) -> None:
    wire.fs().pipe(wire.path("a"), b"a")
    fs = wire.fs()
    sent = wire.sent(lambda: fs.mv(wire.path("a"), wire.path("b")))
    # Is the source there, is the target a directory; then OpenDAL's copy and a delete.
    assert sent == Counter({"LIST": 2, "HEAD": 1, "COPY": 1, "DELETE": 1})
    assert not fs.exists(wire.path("a"))
    assert fs.cat_file(wire.path("b")) == b"a"


@on_s3
def test_put_of_a_tree_stats_nothing_per_file(wire: Wire, tmp_path: Path) -> None:
    for d in range(3):
        (tmp_path / f"d{d}").mkdir()
        for f in range(5):
            (tmp_path / f"d{d}" / f"f{f}").write_bytes(b"y")
    fs = wire.fs()
    sent = wire.sent(lambda: fs.put(str(tmp_path), wire.path("up"), recursive=True))
    # One listing says the target is new, so nothing below it needs asking about;
    # each local directory gets a marker (an empty one must survive) and each file a PUT.
    assert sent == Counter({"LIST": 1, "PUT": 15 + 4})
    assert len(wire.fs().find(wire.path("up"))) == 15


@on_s3
def test_rm_of_a_tree_is_a_listing_and_a_batch(wire: Wire) -> None:
    make_tree(wire.fs(), wire.path("gone"), dirs=2, files=10)
    fs = wire.fs()
    sent = wire.sent(lambda: fs.rm(wire.path("gone"), recursive=True))
    assert sent == Counter({"LIST": 2, "BATCH": 1})  # its kind; everything below it
    assert not wire.fs().exists(wire.path("gone"))


@on_s3
def test_pandas_read_parquet_of_a_directory(wire: Wire) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"a": range(100), "b": [str(i) for i in range(100)]})
    writer = wire.fs()
    for i in range(4):
        writer.pipe(wire.path(f"ds/part{i}.parquet"), frame.to_parquet())
    fs = wire.fs()
    sent = wire.sent(lambda: pd.read_parquet(wire.path("ds"), filesystem=fs))
    # info(ds): no object of that name, then one page of ds/; pyarrow's walk lists
    # again (find asks the store, as s3fs's does); pyarrow opens the first file for
    # the schema, then each file once, each read whole in one GET.
    assert sent == Counter({"HEAD": 1, "LIST": 2, "GET": 5})
    assert pd.read_parquet(wire.path("ds"), filesystem=fs).shape == (400, 2)


def test_without_the_listings_cache_every_call_asks(wire: Wire) -> None:
    wire.fs().pipe(wire.path("dir/a"), b"a")
    fs = wire.fs(use_listings_cache=False)
    once = wire.sent(lambda: fs.info(wire.path("dir")))
    assert wire.sent(lambda: fs.info(wire.path("dir"))) == once
    fs.touch(wire.path("t"))
    assert wire.sent(lambda: fs.exists(wire.path("t"))).total() == 1


def test_what_a_listing_answers_expires_with_it(wire: Wire) -> None:
    wire.fs().pipe(wire.path("dir/a"), b"a")
    fs = wire.fs(listings_expiry_time=0.2)
    fs.ls(wire.dir)
    assert wire.sent(lambda: fs.isdir(wire.path("dir"))) == Counter()
    time.sleep(0.3)
    assert wire.sent(lambda: fs.isdir(wire.path("dir"))).total() == 1


def test_glob_below_a_directory_is_one_listing(wire: Wire) -> None:
    wire.fs().pipe({wire.path(f"g/part{i}.parquet"): b"p" for i in range(3)})
    fs = wire.fs()
    found: list[str] = []
    sent = wire.sent(lambda: found.extend(fs.glob(wire.path("g/*.parquet"))))
    assert sent.total() == 1
    assert found == [wire.path(f"g/part{i}.parquet") for i in range(3)]
    assert fs.glob(wire.path("g/**")) == [wire.path("g"), *found]  # ** matches g itself


def test_dask_like_questions_ask_once_each(wire: Wire) -> None:
    wire.fs().pipe({wire.path(f"ds/part{i}"): b"p" for i in range(3)})
    fs = wire.fs()
    ds = wire.path("ds")

    def dask_like() -> None:  # what dask's read_parquet asks before it reads
        assert fs.isdir(ds)
        assert not fs.exists(f"{ds}/_metadata")
        assert fs.find(ds) == [f"{ds}/part{i}" for i in range(3)]

    assert wire.sent(dask_like).total() == 3


@on_s3
def test_dask_read_parquet_of_a_directory(wire: Wire) -> None:
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame({"a": range(100), "b": [str(i) for i in range(100)]})
    writer = wire.fs()
    for i in range(4):
        writer.pipe(wire.path(f"ds/part{i}.parquet"), frame.to_parquet())
    fs = wire.fs()
    loaded: list[Any] = []
    sent = wire.sent(lambda: loaded.append(dd.read_parquet(wire.path("ds"), filesystem=fs)))
    sent += wire.sent(lambda: loaded.append(loaded[0].compute()))
    assert len(loaded[1]) == 400
    # isdir(ds), whether ds/_metadata exists, the find; each open of a file fetches
    # it whole (asked afresh, never from the listing), and dask opens the first file
    # three times (twice for the schema), so 6 GETs where s3fs sends 10.
    assert sent == Counter({"LIST": 3, "GET": 6})
