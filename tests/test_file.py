"""The sync buffered file: reads through fsspec caches, writes through one OpenDAL writer."""

from __future__ import annotations

import gc
import io

import pytest

DATA = bytes(range(256)) * 1000  # 256 kB


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


def test_readline_and_iteration(fs, root):
    text = b"".join(b"line %d\n" % i for i in range(1000))
    fs.pipe_file(f"{root}/t", text)
    with fs.open(f"{root}/t", "rb", block_size=100) as f:
        assert f.readline() == b"line 0\n"
        assert list(f) == text.splitlines(keepends=True)[1:]


def test_write_in_many_blocks(fs, root):
    with fs.open(f"{root}/w", "wb", block_size=5 * 2**20) as f:
        for i in range(0, len(DATA), 1000):
            f.write(DATA[i : i + 1000])
        f.write(b"")
    assert fs.cat_file(f"{root}/w") == DATA


def test_empty_file_is_created_on_close(fs, root):
    with fs.open(f"{root}/empty", "wb"):
        pass
    assert fs.cat_file(f"{root}/empty") == b""
    assert fs.info(f"{root}/empty")["type"] == "file"


def test_exclusive_create(fs, root):
    with fs.open(f"{root}/x", "xb") as f:
        f.write(b"first")
    with pytest.raises(FileExistsError):
        fs.open(f"{root}/x", "xb")
    assert fs.cat_file(f"{root}/x") == b"first"


def test_append_keeps_the_old_bytes(fs, root):
    fs.pipe_file(f"{root}/a", b"old-")
    with fs.open(f"{root}/a", "ab") as f:
        f.write(b"new")
    assert fs.cat_file(f"{root}/a") == b"old-new"
    with fs.open(f"{root}/fresh", "ab") as f:
        f.write(b"only")
    assert fs.cat_file(f"{root}/fresh") == b"only"


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


def test_an_exception_inside_with_leaves_nothing(fs, root):
    with pytest.raises(RuntimeError), fs.open(f"{root}/partial", "wb", block_size=4096) as f:
        f.write(DATA)
        assert f.offset, "blocks should have been handed to the writer already"
        raise RuntimeError("boom")
    assert not fs.exists(f"{root}/partial")


def test_an_exception_keeps_the_old_object(fs, root):
    fs.pipe_file(f"{root}/keep", b"old")
    with pytest.raises(RuntimeError), fs.open(f"{root}/keep", "wb") as f:
        f.write(b"new")
        raise RuntimeError("boom")
    assert fs.cat_file(f"{root}/keep") == b"old"


def test_a_dropped_file_leaves_nothing(fs, root):
    f = fs.open(f"{root}/dropped", "wb", block_size=4096)
    f.write(DATA)
    assert f.offset, "blocks should have been handed to the writer already"
    del f
    gc.collect()
    assert not fs.exists(f"{root}/dropped")


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
