"""A second writer: what an instance answers after someone else changed the store.

Each case of tests/other_writers.py runs on one filesystem while another writer
changes the store between its two looks: fsspec's ``LocalFileSystem`` on ``fs``,
another instance on ``memory`` (one store per process, as fsspec's memory
filesystem), and another uncached instance (a stand-in for ``aws s3 cp``) on the
object stores. The rule (docs/consistency.md): every answer is the store's, except
what fsspec documents as its listing cache's where listings are kept; no read
returns bytes that were never the file's content.
"""

from __future__ import annotations

import errno
from typing import Any

import pytest
from fsspec.implementations.local import LocalFileSystem
from helpers import AsyncAPI
from other_writers import CASES, Case, Pair, run_case

#: Each service under both drivers of the sync API.
SERVICES = ["memory", "memory@loop", "fs", "fs@loop", "s3", "s3@loop", "azblob", "gcs"]


def _pair(service: Any, root: str, api: str) -> Pair:
    fs: Any = service.filesystem(skip_instance_cache=True, asynchronous=api == "async")
    if api == "async":
        fs = AsyncAPI(fs)
    if service.scheme == "fs":
        other: Any = LocalFileSystem(auto_mkdir=True)
        there = f"{service.options['root']}/{root}"
    else:
        other = service.filesystem(skip_instance_cache=True, use_listings_cache=False)
        there = root
    return Pair(fs, root, other, there)


@pytest.mark.own_services
@pytest.mark.parametrize("service", SERVICES, indirect=True)
@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_next_call_sees_another_writers_change(
    service: Any, root: str, case: Case, api: str
) -> None:
    if case.pandas:
        if api == "async":
            pytest.skip("pandas calls the sync API")
        pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
    pair = _pair(service, root, api)
    outcome = run_case(case, pair)
    keeps_listings = pair.fs.dircache.use_listings_cache
    if case.listing and keeps_listings:
        assert outcome in ("store", "stale"), outcome  # fsspec's listing cache: either
    else:
        assert outcome == "store", f"{case.says}: {outcome}"


@pytest.mark.own_services
@pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
def test_listings_kept_on_request_answer_as_fsspec_documents(service: Any, root: str) -> None:
    """With the listing cache on (the default on object stores, asked for elsewhere), an
    ``ls`` repeats what it listed until ``refresh=True`` or ``invalidate_cache``."""
    pair = _pair(service, root, "sync")
    pair.fs = service.filesystem(skip_instance_cache=True, use_listings_cache=True)
    pair.write("d/a", b"1")
    assert pair.fs.ls(pair.at("d"), detail=False) == [pair.at("d/a")]
    pair.write("d/b", b"2")
    assert pair.fs.ls(pair.at("d"), detail=False) == [pair.at("d/a")]
    assert pair.fs.ls(pair.at("d"), detail=False, refresh=True) == [
        pair.at("d/a"),
        pair.at("d/b"),
    ]
    # What is not a listing is asked of the store, cache or no cache.
    pair.write("d/c", b"3")
    pair.other.rm_file(pair.there("d/a"))
    assert pair.read(pair.at("d/c")) == b"3"
    # That open found a file the kept listing lacks: the listing is dropped.
    assert pair.fs.ls(pair.at("d"), detail=False) == [pair.at("d/b"), pair.at("d/c")]
    with pytest.raises(FileNotFoundError):
        pair.read(pair.at("d/a"))


@pytest.mark.own_services
@pytest.mark.parametrize("service", ["memory", "s3"], indirect=True)
def test_a_file_opened_before_a_change_reads_the_version_it_opened_or_fails(
    service: Any, root: str
) -> None:
    """Never bytes of two versions: an in-process store's open copies the file, an
    object store's reads require the ETag seen at open (``OSError(ESTALE)``)."""
    pair = _pair(service, root, "sync")
    old, new = b"o" * 3_000_000, b"n" * 3_000_000
    pair.write("f", old)
    with pair.fs.open(pair.at("f"), "rb", block_size=100_000) as f:
        assert f.read(10) == old[:10]
        pair.write("f", new)
        f.seek(2_000_000)
        if not service.read_if_match:  # memory: the copy made at open
            assert f.read(10) == old[:10]
            return
        with pytest.raises(OSError) as caught:
            f.read(10)
    assert caught.value.errno == errno.ESTALE
    assert caught.value.filename == pair.at("f")


def test_single_path_answers_are_not_kept_after_the_call(service: Any, root: str) -> None:
    """Nothing about single paths outlives a call: lookups of missing names on a
    long-running instance leave nothing behind (200,000 used to keep 33 MiB)."""
    fs = service.filesystem(skip_instance_cache=True)
    for i in range(200):
        assert not fs.exists(f"{root}/missing-{i}")
    assert fs._learned() is None  # outside any call
    assert len(fs.dircache) == 0
