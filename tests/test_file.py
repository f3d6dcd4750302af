"""The sync buffered file: reads through fsspec caches, writes through one OpenDAL writer."""

from __future__ import annotations

import errno
import gc
import io
import random
import time

import pytest

from opendalfs._reading import OPEN_READS_WHOLE

DATA = bytes(range(256)) * 1000  # 256 kB


@pytest.mark.any_service
def test_read_seek_tell_like_a_local_file(fs, root):
    fs.pipe_file(f"{root}/f", DATA)
    local = io.BytesIO(DATA)
    with fs.open(f"{root}/f", "rb", block_size=4096) as f:
        for offset, whence, size in [
            (10, 0, 100),
            (-50, 2, 10),
            (5, 1, 7),
            (0, 0, -1),
            (1000, 0, 0),
        ]:
            assert f.seek(offset, whence) == local.seek(offset, whence)
            assert f.read(size) == local.read(size)
            assert f.tell() == local.tell()
        assert f.read() == local.read()
        assert f.read() == b""


@pytest.mark.any_service
def test_readline_and_iteration(fs, root):
    text = b"".join(b"line %d\n" % i for i in range(1000))
    fs.pipe_file(f"{root}/t", text)
    with fs.open(f"{root}/t", "rb", block_size=100) as f:
        assert f.readline() == b"line 0\n"
        assert list(f) == text.splitlines(keepends=True)[1:]


@pytest.mark.any_service
def test_write_in_many_blocks(fs, root):
    with fs.open(f"{root}/w", "wb", block_size=5 * 2**20) as f:
        for i in range(0, len(DATA), 1000):
            f.write(DATA[i : i + 1000])
        f.write(b"")
    assert fs.cat_file(f"{root}/w") == DATA


@pytest.mark.any_service
def test_large_bytes_and_small_writes_interleave(fs, root, counting):
    big = random.Random(3).randbytes(2**20 + 17)  # large enough to skip the buffer
    mutable = bytearray(big[:300_000])
    pieces = [b"head", big, b"", b"middle", mutable, memoryview(big)[: 2**20], big]
    with fs.open(f"{root}/w", "wb", block_size=500_000) as f:
        for piece in pieces:
            assert f.write(piece) == len(piece)
        mutable[:] = bytes(len(mutable))  # changed after write: the file must not see it
        assert f.tell() == sum(len(p) for p in pieces)
    expected = b"head" + big + b"middle" + big[:300_000] + big[: 2**20] + big
    assert fs.cat_file(f"{root}/w") == expected


def test_write_options_reach_the_writer_as_for_pipe_file(fs, root):
    fs.pipe_file(f"{root}/piped", b"a,b\n", content_type="text/csv")
    with fs.open(f"{root}/opened", "wb", content_type="text/csv") as f:
        f.write(b"a,b\n")
    piped = fs.info(f"{root}/piped").get("content_type")
    assert fs.info(f"{root}/opened").get("content_type") == piped


@pytest.mark.any_service
def test_empty_file_is_created_on_close(fs, root):
    with fs.open(f"{root}/empty", "wb"):
        pass
    assert fs.cat_file(f"{root}/empty") == b""
    assert fs.info(f"{root}/empty")["type"] == "file"


@pytest.mark.any_service
def test_exclusive_create(fs, root):
    with fs.open(f"{root}/x", "xb") as f:
        f.write(b"first")
    with pytest.raises(FileExistsError):
        fs.open(f"{root}/x", "xb")
    assert fs.cat_file(f"{root}/x") == b"first"


@pytest.mark.any_service
def test_append_keeps_the_old_bytes(fs, root):
    fs.pipe_file(f"{root}/a", b"old-")
    with fs.open(f"{root}/a", "ab") as f:
        f.write(b"new")
    assert fs.cat_file(f"{root}/a") == b"old-new"
    with fs.open(f"{root}/fresh", "ab") as f:
        f.write(b"only")
    assert fs.cat_file(f"{root}/fresh") == b"only"


@pytest.mark.any_service
def test_unsupported_modes_name_the_path(fs, root):
    for mode in ("r+b", "a+b", "wb+"):
        with pytest.raises((NotImplementedError, ValueError), match=r"mode|Mode"):
            fs.open(f"{root}/f", mode)


def test_open_missing_or_directory_for_reading(fs, root):
    with pytest.raises(FileNotFoundError):
        fs.open(f"{root}/missing", "rb")
    fs.pipe_file(f"{root}/d/f", b"1")
    with pytest.raises(IsADirectoryError):
        fs.open(f"{root}/d", "rb")


@pytest.mark.any_service
def test_an_exception_inside_with_leaves_nothing(fs, root):
    with pytest.raises(RuntimeError), fs.open(f"{root}/partial", "wb", block_size=4096) as f:
        f.write(DATA)
        assert f.offset, "blocks should have been handed to the writer already"
        raise RuntimeError("boom")
    assert not fs.exists(f"{root}/partial")


@pytest.mark.any_service
def test_an_exception_keeps_the_old_object(fs, root):
    fs.pipe_file(f"{root}/keep", b"old")
    with pytest.raises(RuntimeError), fs.open(f"{root}/keep", "wb") as f:
        f.write(b"new")
        raise RuntimeError("boom")
    assert fs.cat_file(f"{root}/keep") == b"old"


@pytest.mark.any_service
def test_a_dropped_file_leaves_nothing(fs, root):
    f = fs.open(f"{root}/dropped", "wb", block_size=4096)
    f.write(DATA)
    assert f.offset, "blocks should have been handed to the writer already"
    del f
    gc.collect()
    assert not fs.exists(f"{root}/dropped")


@pytest.mark.any_service
def test_transaction_commit_and_discard(fs, root):
    with fs.transaction:
        with fs.open(f"{root}/t1", "wb") as f:
            f.write(b"committed")
        assert not fs.exists(f"{root}/t1")
    assert fs.cat_file(f"{root}/t1") == b"committed"

    fs.start_transaction()
    with fs.open(f"{root}/t2", "wb") as f:
        f.write(b"discarded")
    fs.end_transaction()  # commits
    assert fs.cat_file(f"{root}/t2") == b"discarded"

    with pytest.raises(RuntimeError), fs.transaction:
        with fs.open(f"{root}/t3", "wb") as f:
            f.write(b"never")
        raise RuntimeError("abort the transaction")
    assert not fs.exists(f"{root}/t3")


@pytest.mark.any_service
def test_text_mode_and_compression(fs, root):
    import fsspec

    with fs.open(f"{root}/t.txt", "wt", encoding="utf-8") as f:
        f.write("ünïcode\n")
    with fs.open(f"{root}/t.txt", "rt", encoding="utf-8") as f:
        assert f.read() == "ünïcode\n"
    url = fs.unstrip_protocol(f"{root}/c.gz")
    with fsspec.open(url, "wb", compression="gzip", **fs.storage_options) as f:
        f.write(DATA)
    assert fs.cat_file(f"{root}/c.gz")[:2] == b"\x1f\x8b"
    with fsspec.open(url, "rb", compression="gzip", **fs.storage_options) as f:
        assert f.read() == DATA


# -- caches, block sizes, parquet ------------------------------------------

CACHE_TYPES = [
    "sequential",
    "readahead",
    "bytes",
    "blockcache",
    "first",
    "background",
    "none",
    "mmap",
    "all",
]


@pytest.mark.any_service
@pytest.mark.parametrize("cache_type", CACHE_TYPES)
def test_every_cache_type_reads_correctly(fs, root, cache_type):
    fs.pipe_file(f"{root}/f", DATA)
    with fs.open(f"{root}/f", "rb", cache_type=cache_type, block_size=10_000) as f:
        assert f.read(100) == DATA[:100]
        f.seek(150_000)
        assert f.read(20_000) == DATA[150_000:170_000]
        f.seek(-10, 2)
        assert f.read() == DATA[-10:]
        f.seek(0)
        assert f.read() == DATA


@pytest.mark.any_service
def test_parts_cache_serves_known_data_only(fs, root):
    fs.pipe_file(f"{root}/f", DATA)
    known = {(0, 10): DATA[:10]}
    with fs.open(f"{root}/f", "rb", cache_type="parts", cache_options={"data": known}) as f:
        assert f.read(10) == DATA[:10]


@pytest.mark.any_service
def test_block_size_decides_the_request_size(fs, root, counting):
    fs.pipe_file(f"{root}/f", DATA)
    size = stated(fs, f"{root}/f")
    counting.log.clear()
    with fs.open(f"{root}/f", "rb", size=size, cache_type="bytes", block_size=1000) as f:
        f.read(10)
    fetches = _fetches(counting)
    assert len(fetches) == 1
    assert fetches[0] <= 1010


def stated(fs, path) -> int:
    """``path``'s size, to open it with (``size=``), so that the open fetches nothing.

    The counting tests are about the reads after open: a small file opened with
    nothing given on a remote service (any file in an in-process store) is fetched
    whole by its open (see tests/test_round_trips.py).
    """
    return fs.info(path)["size"]


def _fetches(counting) -> list[int]:
    """The bytes each request fetched: a ranged read, or a read through an open reader.

    Which of the two serves a read depends on the service (memory and fs read
    everything through one reader, sought to each range; see SEEKING_READERS).
    """
    return [
        kw["got"] if name == "stream_read" else kw["size"]
        for name, _, kw in counting.log
        if name in ("read", "stream_read")
    ]


def _streamed(counting) -> tuple[int, int]:
    """(readers opened, bytes read through them)."""
    opens = sum(1 for name, args, _ in counting.log if name == "open" and "rb" in args)
    return opens, sum(kw["got"] for name, _, kw in counting.log if name == "stream_read")


@pytest.mark.any_service
def test_random_reads_fetch_what_they_read(fs, root, counting, service):
    fs.pipe_file(f"{root}/f", DATA)
    size = stated(fs, f"{root}/f")
    counting.log.clear()
    with fs.open(f"{root}/f", "rb", size=size, block_size=50_000) as f:
        for offset in (150_000, 20_000, 90_000, 5_000):
            f.seek(offset)
            assert f.read(1000) == DATA[offset : offset + 1000]
    assert _fetches(counting) == [1000] * 4  # not a block per read
    ranged = [name for name, _, _ in counting.log if name == "read"]
    # One reader, sought to each range: where calls do not hop to OpenDAL's runtime.
    if service.seeking_reads and (fs.drives_sync_calls or service.in_process):
        assert (ranged, _streamed(counting)[0]) == ([], 1)
    else:
        assert len(ranged) == 4


@pytest.mark.any_service
def test_a_sought_reader_fetches_pieces_of_about_the_reads_size(fs, root, counting, service):
    big = DATA * 8  # 2 MB
    fs.pipe_file(f"{root}/f", big)
    size = stated(fs, f"{root}/f")
    counting.log.clear()
    with fs.open(f"{root}/f", "rb", size=size, cache_type="none") as f:
        f.seek(1000)
        assert f.read(10) == big[1000:1010]
        f.seek(5000)
        assert f.read(100) == big[5000:5100]
        f.seek(100_000)
        assert f.read(1_500_000) == big[100_000:1_600_000]
    chunks = [kw.get("chunk") for name, args, kw in counting.log if name == "open" and "rb" in args]
    if service.seeking_reads and (fs.drives_sync_calls or service.in_process):
        # The smallest piece for small reads; a read many pieces long, a new reader.
        assert chunks == [64 * 2**10, 1_500_000]
    else:
        assert all(chunk is None for chunk in chunks)  # streamed readers: OpenDAL's own


@pytest.mark.any_service
def test_small_sequential_reads_read_ahead(fs, root, counting):
    fs.pipe_file(f"{root}/f", DATA)
    size = stated(fs, f"{root}/f")
    counting.log.clear()
    with fs.open(f"{root}/f", "rb", size=size, block_size=50_000) as f:
        lines = [f.read(100) for _ in range(300)]
    assert b"".join(lines) == DATA[:30_000]
    # The first read fetches its 100 bytes; the read that follows it reads a block
    # ahead through one reader; the rest come from the cache.
    assert sum(_fetches(counting)) == 100 + 100 + 50_000
    assert _streamed(counting)[0] == 1


@pytest.mark.any_service
def test_large_sequential_reads_are_not_copied_through_a_cache(fs, root, counting):
    fs.pipe_file(f"{root}/f", DATA)
    size = stated(fs, f"{root}/f")
    counting.log.clear()
    with fs.open(f"{root}/f", "rb", size=size, block_size=50_000) as f:
        assert [f.read(40_000) for _ in range(3)] == [
            DATA[i : i + 40_000] for i in range(0, 120_000, 40_000)
        ]
    assert sum(_fetches(counting)) == 120_000
    assert _streamed(counting)[0] == 1  # one reader serves the reads that follow


@pytest.mark.any_service
def test_readinto(fs, root):
    fs.pipe_file(f"{root}/f", DATA)
    buffer = bytearray(1000)
    with fs.open(f"{root}/f", "rb") as f:
        f.seek(500)
        assert f.readinto(buffer) == 1000
    assert bytes(buffer) == DATA[500:1500]


@pytest.mark.any_service
def test_open_parquet_file_reads_only_what_it_needs(fs, root, counting):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from fsspec.parquet import open_parquet_file

    n = 100_000
    rng = random.Random(7)
    noise = [rng.randbytes(40) for _ in range(n)]  # incompressible, so the column is large
    table = pa.table({"small": [i % 100 for i in range(n)], "big": noise})
    with fs.open(f"{root}/t.parquet", "wb") as f:
        pq.write_table(table, f, row_group_size=n)
    size = fs.size(f"{root}/t.parquet")
    counting.log.clear()
    with open_parquet_file(f"{root}/t.parquet", fs=fs, columns=["small"], engine="pyarrow") as f:
        got = pq.read_table(f, columns=["small"])
    assert got.column("small").to_pylist() == [i % 100 for i in range(n)]
    reads = [kw for name, _, kw in counting.log if name == "read"]
    fetched = sum(kw.get("size") or size - (kw.get("offset") or 0) for kw in reads)
    fetched += _streamed(counting)[1]
    assert fetched < size / 2, f"read {fetched} of {size} bytes for one small column"


# -- writing options -------------------------------------------------------


@pytest.mark.any_service
def test_write_chunk_and_concurrency_reach_the_writer(fs, root, counting, service):
    with fs.open(f"{root}/w", "wb", write_chunk=6 * 2**20, write_concurrent=3) as f:
        assert f.blocksize == 6 * 2**20
        f.write(b"x")
    opens = [kw for name, _, kw in counting.log if name == "open"]
    writes = [name for name, _, _ in counting.log if name == "write"]
    if service.write_parts:
        assert opens[-1]["chunk"] == 6 * 2**20
        assert opens[-1]["concurrent"] == 3
    elif service.write_streams:
        # OpenDAL's writer gathers the writes itself: no part options.
        assert "chunk" not in opens[-1]
    else:
        # A service that takes an object in one request gets exactly one write.
        assert opens == []
        assert writes == ["write"]
    assert fs.cat_file(f"{root}/w") == b"x"


@pytest.mark.parametrize(
    "option", ["write_chunk", "write_concurrent", "read_chunk", "read_concurrent"]
)
def test_filesystem_part_options_are_validated(service, option):
    for bad in (0, -1, 1.5, "8MiB", True):
        with pytest.raises(ValueError, match=option):
            service.filesystem(**{option: bad}, skip_instance_cache=True)


@pytest.mark.any_service
def test_append_is_native_only_where_verified(fs, root, counting, service):
    fs.pipe_file(f"{root}/a", b"old")
    counting.log.clear()
    with fs.open(f"{root}/a", "ab") as f:
        f.write(b"+new")
    assert fs.cat_file(f"{root}/a") == b"old+new"
    opens = [kw for name, _, kw in counting.log if name == "open"]
    native = service.native_append
    assert any(kw.get("append") for kw in opens) is native
    assert native is (fs.scheme == "fs")


def test_close_errors_are_raised(fs, root, service):
    """A write whose path became a directory while it was open fails at close, where a
    name is a file or a directory; object stores let a key and a directory share a
    name, so there the close stores the file and the directory stays."""
    fs.pipe_file(f"{root}/taken", b"old")
    f = fs.open(f"{root}/taken", "wb")
    f.write(b"x")
    fs.rm(f"{root}/taken")
    fs.makedirs(f"{root}/taken/now-a-directory")
    if service.object_store:
        f.close()
        fresh = service.filesystem(skip_instance_cache=True, use_listings_cache=False)
        assert fresh.cat_file(f"{root}/taken") == b"x"
        assert fresh.isdir(f"{root}/taken/now-a-directory") is service.empty_directories
        return
    with pytest.raises(OSError):
        f.close()
    assert fs.isdir(f"{root}/taken")


# -- async files -----------------------------------------------------------


@pytest.mark.any_service
@pytest.mark.asyncio
async def test_async_file_round_trip(service, root):
    fs = service.filesystem(asynchronous=True, skip_instance_cache=True)
    async with await fs.open_async(f"{root}/a", "wb", write_chunk=5 * 2**20) as f:
        for i in range(0, len(DATA), 7000):
            await f.write(DATA[i : i + 7000])
    async with await fs.open_async(f"{root}/a", "rb") as f:
        assert f.size == len(DATA)
        assert await f.read(10) == DATA[:10]
        f.seek(1000)
        assert f.tell() == 1000
        assert await f.read(5) == DATA[1000:1005]
        f.seek(-5, 2)
        assert await f.read() == DATA[-5:]
        assert await f.read() == b""
    assert await fs._cat_file(f"{root}/a") == DATA


@pytest.mark.any_service
@pytest.mark.asyncio
async def test_async_file_read_past_the_end_is_empty(service, root):
    """fsspec's async read past the end asks for a range that ends before it starts
    (found by the model with the async API): it reads nothing, as a local file does."""
    fs = service.filesystem(asynchronous=True, skip_instance_cache=True)
    await fs._pipe_file(f"{root}/a", b"abc")
    async with await fs.open_async(f"{root}/a", "rb") as f:
        f.seek(10)
        assert await f.read() == b""
        assert await f.read(5) == b""


@pytest.mark.asyncio
async def test_async_file_modes(service, root):
    fs = service.filesystem(asynchronous=True, skip_instance_cache=True)
    async with await fs.open_async(f"{root}/x", "xb") as f:
        await f.write(b"first")
    with pytest.raises(FileExistsError):
        await fs.open_async(f"{root}/x", "xb")
    async with await fs.open_async(f"{root}/x", "ab") as f:
        await f.write(b"+more")
    assert await fs._cat_file(f"{root}/x") == b"first+more"
    async with await fs.open_async(f"{root}/empty", "wb"):
        pass
    assert await fs._cat_file(f"{root}/empty") == b""
    with pytest.raises(FileNotFoundError):
        await fs.open_async(f"{root}/missing", "rb")
    with pytest.raises(IsADirectoryError):
        await fs.open_async(root, "rb")
    with pytest.raises(NotImplementedError, match="r\\+b"):
        await fs.open_async(f"{root}/x", "r+b")


@pytest.mark.any_service
@pytest.mark.asyncio
async def test_async_file_exception_discards(service, root):
    fs = service.filesystem(asynchronous=True, skip_instance_cache=True)
    await fs._pipe_file(f"{root}/keep", b"old")
    with pytest.raises(RuntimeError):
        async with await fs.open_async(f"{root}/keep", "wb", block_size=1000) as f:
            await f.write(DATA)
            raise RuntimeError("boom")
    assert await fs._cat_file(f"{root}/keep") == b"old"


@pytest.mark.any_service
def test_a_file_replaced_under_an_open_reader(fs, root, service):
    """Where the service checks ETags, old and new bytes are never mixed: the read fails."""
    if service.read_if_match:
        # Both writes within one second: an ETag made of a time in whole seconds
        # (wsgidav's) then cannot tell them apart, as the known gap says.
        time.sleep(1 - time.time() % 1)
    # Larger than a remote service's open fetches whole: the open states it, and the
    # reads require the ETag it saw. (An in-process store's open copies it whole.)
    size = OPEN_READS_WHOLE + 100_000
    fs.pipe_file(f"{root}/f", b"a" * size)
    with fs.open(f"{root}/f", "rb", block_size=10_000, cache_type="bytes") as f:
        assert f.read(10) == b"a" * 10
        fs.pipe_file(f"{root}/f", b"b" * size)
        if service.read_if_match and "etag" in f.details:
            with pytest.raises(OSError) as caught:
                f.seek(50_000)
                f.read(10)
            assert caught.value.errno == errno.ESTALE
            assert caught.value.filename == f"{root}/f"
        elif service.seeking_reads:  # no ETag check; the reader's buffer may hold old bytes
            f.seek(50_000)
            assert f.read(10) in (b"a" * 10, b"b" * 10)  # what the reader held, or the new
        else:
            f.seek(50_000)
            assert f.read(10) == b"b" * 10  # no ETag to check: the new bytes, documented


@pytest.mark.any_service
@pytest.mark.parametrize(
    "cache_type", ["bytes", "readahead", "blockcache", "first", "mmap", "background", "none"]
)
def test_the_cache_asked_for_is_the_files_cache(fs, root, cache_type):
    """A small file fetched whole at open still gets the cache its opener asked for,
    as fsspec and every peer give it (filled from the bytes the open fetched)."""
    fs.pipe_file(f"{root}/f", DATA[:1000])
    with fs.open(f"{root}/f", "rb", cache_type=cache_type, block_size=100) as f:
        assert f.cache.name == cache_type
        f.seek(500)
        assert f.read(10) == DATA[500:510]
        f.seek(0)
        assert f.read() == DATA[:1000]
    with fs.open(f"{root}/f", "rb") as f:
        assert f.read(1) == DATA[:1]
        assert f.cache.name in ("all", "sequential")  # ours: whole at open, or not


@pytest.mark.any_service
def test_a_small_file_opened_cold_and_read_costs_one_read(fs, root, service, counting):
    """No stat where the open fetches it whole; elsewhere one stat, then one read."""
    fs.pipe_file(f"{root}/f", b"a" * 1000)
    fs.invalidate_cache()
    counting.log.clear()
    with fs.open(f"{root}/f", "rb") as f:
        assert f.read() == b"a" * 1000
    assert counting.reads() == 1
    stats = sum(name == "stat" for name, _, _ in counting.log)
    assert stats == (0 if service.whole_at_open else 1)


@pytest.mark.any_service
def test_a_small_file_opened_cold_reads_as_it_was_at_open(fs, root, service):
    """Fetched whole by its open where a request is a round trip: one version, one request."""
    fs.pipe_file(f"{root}/f", b"a" * 1000)
    fs.invalidate_cache()
    with fs.open(f"{root}/f", "rb", block_size=100, cache_type="bytes") as f:
        assert f.read(10) == b"a" * 10
        fs.pipe_file(f"{root}/f", b"b" * 1000)
        f.seek(500)
        if service.whole_at_open:
            assert f.read(10) == b"a" * 10
        else:  # read at each range, as the test above says service by service
            assert f.read(10) in (b"a" * 10, b"b" * 10)
