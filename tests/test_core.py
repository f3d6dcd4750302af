"""The filesystem API on every service: metadata, listing, reading, writing, deleting."""

from __future__ import annotations

import asyncio
import datetime
import errno
import random
import re
import urllib.request
import uuid

import fsspec
import pytest
from fsspec.callbacks import Callback

from opendalfs import OpendalFileSystem
from opendalfs._paths import PEER_PROTOCOLS

#: The services under test whose first path segment is a bucket or container.
CONTAINER_SERVICES = ["s3", "azblob", "gcs"]
#: The services under test whose peers' protocols (s3://, gs://, abfs:// …) are accepted.
PEER_SERVICES = ["memory", "fs", *CONTAINER_SERVICES]


def put_tree(fs: OpendalFileSystem, root: str) -> None:
    """root/{a.txt, b.bin, sub/{c.txt, deep/d.txt}}, with the contents named after the files."""
    for rel in ("a.txt", "b.bin", "sub/c.txt", "sub/deep/d.txt"):
        fs.pipe_file(f"{root}/{rel}", rel.encode())


# -- directory semantics ---------------------------------------------------


def test_directory_never_lists_itself(fs, root):
    put_tree(fs, root)
    assert fs.ls(root, detail=False) == [f"{root}/a.txt", f"{root}/b.bin", f"{root}/sub"]
    assert fs.ls(f"{root}/sub", detail=False) == [f"{root}/sub/c.txt", f"{root}/sub/deep"]


def test_ls_of_a_file_is_its_info(fs, root):
    put_tree(fs, root)
    assert fs.ls(f"{root}/a.txt") == [fs.info(f"{root}/a.txt")]
    assert fs.ls(f"{root}/a.txt", detail=False) == [f"{root}/a.txt"]


def test_ls_of_missing_path_raises(fs, root):
    with pytest.raises(FileNotFoundError):
        fs.ls(f"{root}/missing")
    put_tree(fs, root)
    with pytest.raises(FileNotFoundError):
        fs.ls(f"{root}/missing", refresh=True)


def test_implied_directories_exist(fs, root):
    fs.pipe_file(f"{root}/x/y/z.txt", b"1")
    for name in (root, f"{root}/x", f"{root}/x/y"):
        assert fs.isdir(name)
        assert fs.info(name)["type"] == "directory"
    assert not fs.isfile(f"{root}/x")
    assert fs.isfile(f"{root}/x/y/z.txt")


def test_prefix_is_not_a_directory(fs, root):
    """``a`` must not match ``aaa``: listing is by directory, not by string prefix."""
    fs.pipe_file(f"{root}/aaa", b"1")
    assert not fs.exists(f"{root}/a")
    with pytest.raises(FileNotFoundError):
        fs.ls(f"{root}/a")
    assert fs.find(f"{root}/a") == []


def test_empty_directories_exist_where_kept(fs, root, service):
    fs.makedirs(f"{root}/empty")
    assert fs.isdir(f"{root}/empty") is service.empty_directories
    if service.empty_directories:
        assert fs.ls(f"{root}/empty") == []
        assert f"{root}/empty" in fs.ls(root, detail=False)


def test_root_listing(fs, root, service):
    """The top is the root of the service, or of its container."""
    fs.pipe_file(f"{root}/f", b"1")
    top = service.container
    assert root in fs.ls(top, detail=False)
    assert fs.info(top)["type"] == "directory"
    assert fs.isdir(top)


# -- info ------------------------------------------------------------------


def test_info_schema(fs, root):
    fs.pipe_file(f"{root}/f.txt", b"12345")
    info = fs.info(f"{root}/f.txt")
    assert info["name"] == f"{root}/f.txt"
    assert info["size"] == 5
    assert info["type"] == "file"
    for key in ("etag", "content_type", "version", "content_md5"):
        assert key not in info or isinstance(info[key], str)
    if "last_modified" in info:
        assert isinstance(info["last_modified"], datetime.datetime)
        assert info["mtime"] == info["last_modified"]
    listed = {i["name"]: i for i in fs.ls(root, refresh=True)}
    assert listed[f"{root}/f.txt"]["size"] == 5
    assert fs.find(root, detail=True)[f"{root}/f.txt"]["size"] == 5


def test_info_of_directory(fs, root):
    fs.pipe_file(f"{root}/d/f", b"1")
    info = fs.info(f"{root}/d")
    assert (info["name"], info["size"], info["type"]) == (f"{root}/d", 0, "directory")


@pytest.mark.any_service
def test_info_of_missing_raises_with_the_path(fs, root):
    with pytest.raises(FileNotFoundError) as caught:
        fs.info(f"{root}/nope")
    assert caught.value.filename == f"{root}/nope"
    assert not fs.exists(f"{root}/nope")
    assert not fs.isdir(f"{root}/nope")
    assert not fs.isfile(f"{root}/nope")


def test_trailing_slashes_and_protocols_name_the_same_thing(fs, root, service):
    fs.pipe_file(f"{root}/d/f", b"1")
    assert fs.info(f"{root}/d/")["name"] == f"{root}/d"
    url = f"opendal+{service.scheme}://{root}/d/f"
    assert fs.cat_file(url) == b"1"
    assert fs.unstrip_protocol(f"{root}/d/f") == url


@pytest.mark.own_services
@pytest.mark.parametrize("service", PEER_SERVICES, indirect=True)
def test_the_protocols_of_peer_filesystems_name_the_same_thing(fs, root, service):
    """``s3://``, ``gs://``, ``abfs://`` … as s3fs, gcsfs and adlfs users write them."""
    peers = PEER_PROTOCOLS[service.scheme]
    fs.pipe_file(f"{root}/f", b"1")
    for protocol in peers:
        assert fs.cat_file(f"{protocol}://{root}/f") == b"1"
        fs.pipe_file(f"{protocol}://{root}/by-{protocol}", protocol.encode())
        assert fs.info(f"{protocol}://{root}/by-{protocol}")["name"] == f"{root}/by-{protocol}"
    assert fs.ls(f"{peers[0]}://{root}", detail=False) == sorted(
        [f"{root}/f", *(f"{root}/by-{p}" for p in peers)]
    )


@pytest.mark.own_services
@pytest.mark.parametrize("service", ["azblob"], indirect=True)
def test_azure_urls_may_name_the_account(fs, root):
    """adlfs' ``abfs[s]://container@account.dfs.core.windows.net/key`` form."""
    container, _, rest = root.partition("/")
    fs.pipe_file(f"{root}/f", b"1")
    for protocol in ("abfs", "abfss", "az"):
        url = f"{protocol}://{container}@devstoreaccount1.dfs.core.windows.net/{rest}/f"
        assert fs.cat_file(url) == b"1"


@pytest.mark.any_service
def test_a_foreign_protocol_is_refused_before_any_request(fs, root, service, counting):
    """A URL of another filesystem must not become a bucket or directory named ``xyz:``."""
    accepted = {service.scheme, *PEER_PROTOCOLS.get(service.scheme, ())}
    foreign = sorted({p for peers in PEER_PROTOCOLS.values() for p in peers} - accepted)
    for protocol in [*foreign, "opendal+nosuch", "xyz"]:
        url = f"{protocol}://{root}/f"
        for call in (fs.cat_file, fs.info, fs.exists, lambda u: fs.pipe_file(u, b"x")):
            with pytest.raises(ValueError, match=re.escape(f"{protocol}://")):
                call(url)
    assert counting.calls == {}


@pytest.mark.own_services
@pytest.mark.parametrize("service", CONTAINER_SERVICES, indirect=True)
def test_ls_of_a_missing_container_raises_and_caches_nothing(fs, service):
    missing = f"opendalfs-missing-{uuid.uuid4().hex[:12]}"
    for refresh in (False, True, False):
        with pytest.raises(FileNotFoundError) as caught:
            fs.ls(missing, refresh=refresh)
        assert caught.value.filename == missing
    assert missing not in fs.dircache
    with pytest.raises(FileNotFoundError):
        fs.info(missing)
    assert not fs.exists(missing)
    with pytest.raises(FileNotFoundError):
        fs.ls(f"{missing}/dir")
    assert fs.find(missing) == []


@pytest.mark.own_services
@pytest.mark.parametrize("service", CONTAINER_SERVICES, indirect=True)
def test_buckets_are_neither_created_nor_deleted(fs, service, root):
    """OpenDAL has no API for either: a NotImplementedError, nothing else done."""
    fs.pipe_file(f"{root}/f", b"1")
    missing = f"opendalfs-missing-{uuid.uuid4().hex[:12]}"
    with pytest.raises(NotImplementedError, match="cannot create"):
        fs.mkdir(missing)
    with pytest.raises(FileExistsError):
        fs.mkdir(service.container)
    with pytest.raises(NotImplementedError, match="cannot delete"):
        fs.rmdir(service.container)
    with pytest.raises(FileNotFoundError):
        fs.rmdir(missing)
    assert fs.cat_file(f"{root}/f") == b"1"


# -- find, glob, walk, du --------------------------------------------------


def test_find(fs, root):
    put_tree(fs, root)
    files = [f"{root}/a.txt", f"{root}/b.bin", f"{root}/sub/c.txt", f"{root}/sub/deep/d.txt"]
    assert fs.find(root) == files
    assert fs.find(root, maxdepth=1) == files[:2]
    assert fs.find(root, maxdepth=2) == files[:3]
    assert fs.find(root, withdirs=True) == sorted([root, f"{root}/sub", f"{root}/sub/deep", *files])
    assert fs.find(root, withdirs=True, maxdepth=1) == [root, *files[:2], f"{root}/sub"]
    assert fs.find(f"{root}/a.txt") == [f"{root}/a.txt"]
    assert fs.find(f"{root}/missing") == []
    detail = fs.find(root, detail=True)
    assert list(detail) == files
    assert detail[f"{root}/sub/c.txt"]["size"] == len(b"sub/c.txt")


def test_find_with_prefix(fs, root):
    put_tree(fs, root)
    fs.pipe_file(f"{root}/subway", b"1")
    assert fs.find(root, prefix="sub") == [
        f"{root}/sub/c.txt",
        f"{root}/sub/deep/d.txt",
        f"{root}/subway",
    ]
    assert fs.find(root, prefix="a") == [f"{root}/a.txt"]
    assert fs.find(root, prefix="zzz") == []
    with_dirs = fs.find(root, prefix="sub", withdirs=True)
    assert root not in with_dirs  # it does not start with the prefix
    assert with_dirs == [
        f"{root}/sub",
        f"{root}/sub/c.txt",
        f"{root}/sub/deep",
        f"{root}/sub/deep/d.txt",
        f"{root}/subway",
    ]
    assert fs.find(root, prefix="zzz", withdirs=True) == []


def test_ls_with_prefix(fs, root):
    put_tree(fs, root)
    fs.pipe_file(f"{root}/subway", b"1")
    assert fs.ls(root, prefix="sub", detail=False) == [f"{root}/sub", f"{root}/subway"]
    assert [i["name"] for i in fs.ls(root, prefix="a")] == [f"{root}/a.txt"]
    assert fs.ls(root, prefix="zzz") == []
    assert fs.ls(f"{root}/sub", prefix="c", detail=False) == [f"{root}/sub/c.txt"]
    # The prefix filters what is cached; the full listing stays whole.
    assert len(fs.ls(root, detail=False)) == 4


@pytest.mark.any_service
def test_ls_refuses_unknown_keywords(fs, root, counting):
    with pytest.raises(TypeError, match=r"unexpected option.*delimiter"):
        fs.ls(root, delimiter="/")
    with pytest.raises(TypeError, match="prefix must be a str"):
        fs.ls(root, prefix=1)
    assert counting.calls == {}


def test_find_is_one_recursive_listing(fs, root, counting, service):
    """One request, except where the recursive listing cannot be trusted (one per directory)."""
    put_tree(fs, root)
    counting.calls.clear()
    fs.find(root)
    directories = 3  # root, sub, sub/deep
    assert counting.calls.get("list") == (1 if service.recursive_listing else directories)


def test_cat_ranges_reads_nearby_ranges_at_once(fs, root, counting):
    fs.pipe_file(f"{root}/f", DATA)
    counting.log.clear()
    ranges = [(20, 30), (0, 10), (5, 25), (900, 910), (-3, None), (10, 10)]
    out = fs.cat_ranges(
        [f"{root}/f"] * len(ranges), [s for s, _ in ranges], [e for _, e in ranges], max_gap=100
    )
    assert out == [DATA[s:e] for s, e in ranges]
    # 0..30 in one read, 900..910 in another; the open-ended and empty ones alone
    assert counting.reads() == 3


def test_cat_ranges_agrees_with_slicing(fs, root):
    fs.pipe_file(f"{root}/f", DATA)
    fs.pipe_file(f"{root}/g", DATA[:300])
    rng = random.Random(5)
    paths, starts, ends = [], [], []
    for _ in range(200):
        paths.append(rng.choice([f"{root}/f", f"{root}/g"]))
        start = rng.randrange(-50, len(DATA) + 50)
        starts.append(start)
        ends.append(rng.choice([None, start + rng.randrange(0, 5000), rng.randrange(-40, 0)]))
    out = fs.cat_ranges(paths, starts, ends)
    contents = {f"{root}/f": DATA, f"{root}/g": DATA[:300]}
    assert out == [contents[p][s:e] for p, s, e in zip(paths, starts, ends, strict=True)]


def test_cat_ranges_failures_take_the_place_of_each_range(fs, root):
    fs.pipe_file(f"{root}/f", DATA)
    paths = [f"{root}/missing", f"{root}/f", f"{root}/missing"]
    out = fs.cat_ranges(paths, [0, 0, 10], [5, 5, 20])
    assert isinstance(out[0], FileNotFoundError)
    assert out[1] == DATA[:5]
    assert isinstance(out[2], FileNotFoundError)
    with pytest.raises(FileNotFoundError):
        fs.cat_ranges(paths, [0, 0, 10], [5, 5, 20], on_error="raise")


def test_glob_walk_du(fs, root):
    put_tree(fs, root)
    assert fs.glob(f"{root}/*.txt") == [f"{root}/a.txt"]
    assert fs.glob(f"{root}/**/*.txt") == [
        f"{root}/a.txt",
        f"{root}/sub/c.txt",
        f"{root}/sub/deep/d.txt",
    ]
    assert fs.glob(f"{root}/s*") == [f"{root}/sub"]
    walked = {d: (sorted(dirs), sorted(files)) for d, dirs, files in fs.walk(root)}
    assert walked == {
        root: (["sub"], ["a.txt", "b.bin"]),
        f"{root}/sub": (["deep"], ["c.txt"]),
        f"{root}/sub/deep": ([], ["d.txt"]),
    }
    assert fs.du(root) == sum(
        len(r.encode()) for r in ("a.txt", "b.bin", "sub/c.txt", "sub/deep/d.txt")
    )


# -- reading ---------------------------------------------------------------

DATA = bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        (0, 10),
        (10, None),
        (1000, 2000),
        (-10, None),
        (-10, -2),
        (None, -1000),
        (5, 5),
        (7, 3),
        (2000, 3000),
        (-5000, 10),
        (0, 5000),
    ],
)
@pytest.mark.any_service
def test_cat_file_slices_like_bytes(fs, root, start, end):
    fs.pipe_file(f"{root}/f", DATA)
    assert fs.cat_file(f"{root}/f", start, end) == DATA[start:end]


@pytest.mark.any_service
def test_cat_file_of_missing_raises_even_for_empty_ranges(fs, root):
    for start, end in [(None, None), (5, 5), (3, 1), (-1, None)]:
        with pytest.raises(FileNotFoundError):
            fs.cat_file(f"{root}/missing", start, end)


@pytest.mark.any_service
def test_cat_ranges_and_cat(fs, root):
    fs.pipe_file(f"{root}/f", DATA)
    fs.pipe_file(f"{root}/g", b"gg")
    ranges = [(0, 4), (100, 110), (-3, None), (1020, 5000)]
    paths = [f"{root}/f"] * len(ranges)
    expected = [DATA[s:e] for s, e in ranges]
    assert fs.cat_ranges(paths, [s for s, _ in ranges], [e for _, e in ranges]) == expected
    assert fs.cat([f"{root}/f", f"{root}/g"]) == {f"{root}/f": DATA, f"{root}/g": b"gg"}
    with pytest.raises(FileNotFoundError):
        fs.cat([f"{root}/f", f"{root}/missing"])
    out = fs.cat([f"{root}/f", f"{root}/missing"], on_error="return")
    assert isinstance(out[f"{root}/missing"], FileNotFoundError)


# -- writing ---------------------------------------------------------------


@pytest.mark.any_service
def test_pipe_overwrite_and_create(fs, root):
    fs.pipe_file(f"{root}/f", b"one")
    fs.pipe_file(f"{root}/f", b"two")
    assert fs.cat_file(f"{root}/f") == b"two"
    with pytest.raises(FileExistsError):
        fs.pipe_file(f"{root}/f", b"three", mode="create")
    assert fs.cat_file(f"{root}/f") == b"two"
    fs.pipe_file(f"{root}/new", b"four", mode="create")
    assert fs.cat_file(f"{root}/new") == b"four"
    with pytest.raises(ValueError, match="mode"):
        fs.pipe_file(f"{root}/f", b"x", mode="append")


@pytest.mark.any_service
def test_pipe_accepts_any_bytes_like(fs, root):
    fs.pipe({f"{root}/a": bytearray(b"ab"), f"{root}/b": memoryview(b"cd")})
    assert fs.cat([f"{root}/a", f"{root}/b"]) == {f"{root}/a": b"ab", f"{root}/b": b"cd"}


@pytest.mark.any_service
def test_pipe_rejects_unknown_write_options(fs, root):
    with pytest.raises(TypeError, match="colour"):
        fs.pipe_file(f"{root}/f", b"x", colour="red")


@pytest.mark.any_service
def test_touch(fs, root):
    fs.touch(f"{root}/t")
    assert fs.cat_file(f"{root}/t") == b""
    fs.pipe_file(f"{root}/t", b"data")
    fs.touch(f"{root}/t")  # truncate=True rewrites it empty
    assert fs.cat_file(f"{root}/t") == b""
    fs.pipe_file(f"{root}/t", b"data")
    with pytest.raises(NotImplementedError, match="modification time"):
        fs.touch(f"{root}/t", truncate=False)
    assert fs.cat_file(f"{root}/t") == b"data"
    fs.touch(f"{root}/fresh", truncate=False)
    assert fs.cat_file(f"{root}/fresh") == b""


def test_mkdir_and_makedirs(fs, root, service):
    fs.makedirs(f"{root}/a/b")
    assert fs.isdir(f"{root}/a/b")
    with pytest.raises(FileExistsError):
        fs.makedirs(f"{root}/a/b")
    fs.makedirs(f"{root}/a/b", exist_ok=True)
    with pytest.raises(FileExistsError):
        fs.mkdir(f"{root}/a")
    fs.mkdir(f"{root}/a/c")
    assert fs.isdir(f"{root}/a/c")
    with pytest.raises(FileNotFoundError):
        fs.mkdir(f"{root}/nope/c", create_parents=False)
    fs.pipe_file(f"{root}/file", b"1")
    with pytest.raises(FileExistsError):
        fs.makedirs(f"{root}/file", exist_ok=True)


def test_rmdir(fs, root):
    fs.makedirs(f"{root}/empty")
    fs.rmdir(f"{root}/empty")
    assert not fs.exists(f"{root}/empty")
    fs.pipe_file(f"{root}/full/f", b"1")
    with pytest.raises(OSError) as caught:
        fs.rmdir(f"{root}/full")
    assert caught.value.errno == errno.ENOTEMPTY
    assert fs.cat_file(f"{root}/full/f") == b"1"
    with pytest.raises(NotADirectoryError):
        fs.rmdir(f"{root}/full/f")
    with pytest.raises(FileNotFoundError):
        fs.rmdir(f"{root}/missing")


def test_rmdir_of_a_full_directory_sends_no_delete(fs, root, counting):
    """A delete of a non-empty directory is never sent: OpenDAL flags it temporary on fs."""
    fs.pipe_file(f"{root}/full/f", b"1")
    counting.calls.clear()
    with pytest.raises(OSError):
        fs.rmdir(f"{root}/full")
    assert "delete" not in counting.calls


# -- deleting --------------------------------------------------------------


def test_rm_file(fs, root):
    fs.pipe_file(f"{root}/f", b"1")
    fs.rm_file(f"{root}/f")
    assert not fs.exists(f"{root}/f")
    with pytest.raises(FileNotFoundError):
        fs.rm_file(f"{root}/f")
    fs.pipe_file(f"{root}/d/f", b"1")
    with pytest.raises(IsADirectoryError):
        fs.rm_file(f"{root}/d")


def test_rm(fs, root):
    put_tree(fs, root)
    with pytest.raises(IsADirectoryError):
        fs.rm(f"{root}/sub")
    assert fs.exists(f"{root}/sub/c.txt")
    fs.rm(f"{root}/a.txt")
    assert not fs.exists(f"{root}/a.txt")
    fs.makedirs(f"{root}/sub/empty")
    fs.rm(f"{root}/sub", recursive=True)
    assert fs.find(root, withdirs=True) == [root, f"{root}/b.bin"]
    with pytest.raises(FileNotFoundError):
        fs.rm(f"{root}/missing")
    with pytest.raises(FileNotFoundError):
        fs.rm(f"{root}/missing", recursive=True)


def test_rm_list_and_glob(fs, root):
    put_tree(fs, root)
    fs.rm([f"{root}/a.txt", f"{root}/b.bin"])
    assert fs.ls(root, detail=False) == [f"{root}/sub"]
    put_tree(fs, root)
    fs.rm(f"{root}/*.txt")
    assert fs.ls(root, detail=False) == [f"{root}/b.bin", f"{root}/sub"]


def test_rm_with_maxdepth_keeps_what_is_deeper(fs, root):
    put_tree(fs, root)
    fs.rm(f"{root}/sub", recursive=True, maxdepth=1)
    assert fs.find(f"{root}/sub") == [f"{root}/sub/deep/d.txt"]


def test_rm_removes_directory_markers(fs, root, service):
    fs.makedirs(f"{root}/d/e/f")
    fs.pipe_file(f"{root}/d/x", b"1")
    fs.rm(f"{root}/d", recursive=True)
    assert not fs.exists(f"{root}/d")
    assert fs.find(root, withdirs=True) in ([], [root])


# -- copying and moving ----------------------------------------------------


@pytest.mark.any_service
def test_cp_file(fs, root):
    fs.pipe_file(f"{root}/src", DATA)
    fs.cp_file(f"{root}/src", f"{root}/new/dst")
    assert fs.cat_file(f"{root}/new/dst") == DATA
    assert fs.cat_file(f"{root}/src") == DATA
    fs.cp_file(f"{root}/src", f"{root}/src")  # onto itself: nothing to do
    assert fs.cat_file(f"{root}/src") == DATA
    with pytest.raises(FileNotFoundError):
        fs.cp_file(f"{root}/missing", f"{root}/x")


def test_cp_uses_server_side_copy_where_the_service_has_it(fs, root, counting, service):
    fs.pipe_file(f"{root}/src", DATA)
    counting.calls.clear()
    fs.cp_file(f"{root}/src", f"{root}/dst")
    calls = dict(counting.calls)
    assert fs.cat_file(f"{root}/dst") == DATA
    if service.server_copy:
        assert calls.get("copy") == 1
        assert "read" not in calls
        assert "open" not in calls
    else:
        assert "copy" not in calls


def test_copy_recursive(fs, root):
    put_tree(fs, root)
    fs.copy(f"{root}/sub", f"{root}/copy", recursive=True)
    assert fs.find(f"{root}/copy") == [f"{root}/copy/c.txt", f"{root}/copy/deep/d.txt"]
    assert fs.cat_file(f"{root}/copy/deep/d.txt") == b"sub/deep/d.txt"


@pytest.mark.any_service
def test_mv_file(fs, root):
    fs.pipe_file(f"{root}/src", b"data")
    fs.mv(f"{root}/src", f"{root}/sub/dst")
    assert not fs.exists(f"{root}/src")
    assert fs.cat_file(f"{root}/sub/dst") == b"data"
    fs.mv(f"{root}/sub/dst", f"{root}/sub/dst")
    assert fs.cat_file(f"{root}/sub/dst") == b"data"


def test_mv_renames_where_the_service_can(fs, root, counting, service):
    fs.pipe_file(f"{root}/src", b"data")
    counting.calls.clear()
    fs.mv(f"{root}/src", f"{root}/dst")
    calls = dict(counting.calls)
    assert fs.cat_file(f"{root}/dst") == b"data"
    if service.renames:
        assert calls.get("rename") == 1
        assert "copy" not in calls
        assert "delete" not in calls
    else:
        assert "rename" not in calls


def test_mv_directory(fs, root):
    put_tree(fs, root)
    fs.mv(f"{root}/sub", f"{root}/moved", recursive=True)
    assert not fs.exists(f"{root}/sub")
    assert fs.find(f"{root}/moved") == [f"{root}/moved/c.txt", f"{root}/moved/deep/d.txt"]
    assert fs.cat_file(f"{root}/moved/c.txt") == b"sub/c.txt"


def test_mv_into_an_existing_directory(fs, root):
    fs.pipe_file(f"{root}/f", b"1")
    fs.makedirs(f"{root}/d")
    fs.pipe_file(f"{root}/d/other", b"2")
    fs.mv(f"{root}/f", f"{root}/d")
    assert fs.cat_file(f"{root}/d/f") == b"1"


def test_mv_failure_keeps_the_source(fs, root, service):
    """A move that cannot complete leaves the source where it was."""
    fs.pipe_file(f"{root}/src", b"precious")
    fs.pipe_file(f"{root}/blocker", b"a file")
    if service.object_store:
        # Object-store semantics: a key may sit below another key's name, so this
        # move succeeds; what matters is that nothing is lost either way.
        fs.mv(f"{root}/src", f"{root}/blocker/inside")
        assert fs.cat_file(f"{root}/blocker/inside") == b"precious"
    else:
        with pytest.raises(OSError):
            fs.mv(f"{root}/src", f"{root}/blocker/inside")
        assert fs.cat_file(f"{root}/src") == b"precious"
    assert fs.cat_file(f"{root}/blocker") == b"a file"


def test_recursive_mv_failure_keeps_every_source(fs, root, service):
    """When one file of a directory cannot be moved, the directory's sources all stay."""
    put_tree(fs, root)
    fs.pipe_file(f"{root}/dst", b"a file where a directory should go")
    if service.object_store:
        fs.mv(f"{root}/sub", f"{root}/dst/sub", recursive=True)
        assert fs.cat_file(f"{root}/dst/sub/c.txt") == b"sub/c.txt"
        return
    with pytest.raises(OSError):
        fs.mv(f"{root}/sub", f"{root}/dst/sub", recursive=True)
    assert fs.find(f"{root}/sub") + fs.find(f"{root}/dst/sub") != []
    for rel in ("c.txt", "deep/d.txt"):
        copies = [p for p in (f"{root}/sub/{rel}", f"{root}/dst/sub/{rel}") if fs.exists(p)]
        assert copies, f"{rel} was lost"
        assert all(fs.cat_file(p) == f"sub/{rel}".encode() for p in copies)


@pytest.mark.any_service
def test_mv_missing_source_raises(fs, root):
    with pytest.raises(FileNotFoundError):
        fs.mv(f"{root}/missing", f"{root}/x")


# -- local transfers -------------------------------------------------------


class Progress(Callback):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def set_size(self, size: int) -> None:
        self.sizes.append(size)
        super().set_size(size)


def test_get_without_a_callback_reads_without_a_stat(fs, root, tmp_path, counting, service):
    fs.pipe_file(f"{root}/f", b"data")
    fs.makedirs(f"{root}/d", exist_ok=True)
    fs.pipe_file(f"{root}/d/g", b"g")
    counting.calls.clear()
    fs.get_file(f"{root}/f", str(tmp_path / "f"))
    assert (tmp_path / "f").read_bytes() == b"data"
    if not service.reads_directories:
        assert "stat" not in counting.calls, counting.calls
    fs.get_file(f"{root}/d", str(tmp_path / "d"))  # a directory: its read fails, then isdir
    assert (tmp_path / "d").is_dir()
    with pytest.raises(FileNotFoundError):
        fs.get_file(f"{root}/missing", str(tmp_path / "m"))
    assert not (tmp_path / "m").exists()


@pytest.mark.any_service
def test_put_and_get_file_report_progress(fs, root, tmp_path):
    local = tmp_path / "up.bin"
    payload = DATA * 40_000  # ~40 MiB: several streaming steps
    local.write_bytes(payload)
    up = Progress()
    fs.put_file(str(local), f"{root}/up.bin", callback=up)
    assert up.sizes == [len(payload)]
    assert up.value == len(payload)
    assert fs.size(f"{root}/up.bin") == len(payload)
    down = Progress()
    target = tmp_path / "down.bin"
    fs.get_file(f"{root}/up.bin", str(target), callback=down)
    assert target.read_bytes() == payload
    assert down.sizes == [len(payload)]
    assert down.value == len(payload)


@pytest.mark.any_service
def test_put_file_create_mode(fs, root, tmp_path):
    local = tmp_path / "f"
    local.write_bytes(b"new")
    fs.pipe_file(f"{root}/f", b"old")
    with pytest.raises(FileExistsError):
        fs.put_file(str(local), f"{root}/f", mode="create")
    assert fs.cat_file(f"{root}/f") == b"old"
    with pytest.raises(FileExistsError):  # the spelling prefect uses
        fs.put_file(str(local), f"{root}/f", overwrite=False)
    fs.put_file(str(local), f"{root}/f", overwrite=True)
    assert fs.cat_file(f"{root}/f") == b"new"


@pytest.mark.any_service
def test_get_file_of_missing_leaves_no_local_file(fs, root, tmp_path):
    target = tmp_path / "never"
    with pytest.raises(FileNotFoundError):
        fs.get_file(f"{root}/missing", str(target))
    assert not target.exists()


def test_get_and_put_directories(fs, root, tmp_path):
    put_tree(fs, root)
    fs.get(f"{root}/", str(tmp_path / "down"), recursive=True)
    assert (tmp_path / "down/sub/deep/d.txt").read_bytes() == b"sub/deep/d.txt"
    fs.put(str(tmp_path / "down"), f"{root}/up", recursive=True)
    assert fs.cat_file(f"{root}/up/sub/c.txt") == b"sub/c.txt"


# -- times, signing, keys --------------------------------------------------


@pytest.mark.any_service
def test_modified_and_created(fs, root, service):
    fs.pipe_file(f"{root}/f", b"1")
    if not service.mtime:
        with pytest.raises(NotImplementedError, match="modification time"):
            fs.modified(f"{root}/f")
    else:
        assert isinstance(fs.modified(f"{root}/f"), datetime.datetime)
    with pytest.raises(NotImplementedError, match="creation"):
        fs.created(f"{root}/f")
    with pytest.raises(FileNotFoundError):
        fs.modified(f"{root}/missing")
    with pytest.raises(FileNotFoundError):
        fs.created(f"{root}/missing")


def test_modified_of_a_directory_is_a_directory_error(fs, root, service):
    """s3fs and code written for it branch on IsADirectoryError, not NotImplementedError."""
    fs.pipe_file(f"{root}/implied/f", b"1")
    fs.makedirs(f"{root}/made", exist_ok=True)
    for directory in (root, f"{root}/implied", f"{root}/made", service.container):
        with pytest.raises(IsADirectoryError) as caught:
            fs.modified(directory)
        assert caught.value.filename == directory
        with pytest.raises(NotImplementedError, match="creation"):
            fs.created(directory)


def test_opendal_metadata_has_no_creation_time():
    """created() stays NotImplementedError only while OpenDAL's metadata has no such field."""
    from opendal.types import Metadata

    fields = {name for name in dir(Metadata) if not name.startswith("_")}
    assert not {f for f in fields if "creat" in f or "birth" in f}, fields


@pytest.mark.any_service
def test_sign(fs, root, service):
    """A presigned URL reads the object with plain HTTP, for the time asked; or a clear no."""
    fs.pipe_file(f"{root}/f", b"signed content")
    if not service.presigns:
        with pytest.raises(NotImplementedError, match="presign"):
            fs.sign(f"{root}/f")
        return
    url = fs.sign(f"{root}/f", expiration=321)
    if "?" in url:  # a signed URL carries its expiry (an anonymous one has no signature)
        assert "321" in url
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == b"signed content"


@pytest.mark.any_service
def test_checksum_and_ukey_change_with_content(fs, root):
    fs.pipe_file(f"{root}/f", b"aaaa")
    first = (fs.ukey(f"{root}/f"), fs.checksum(f"{root}/f"))
    assert first == (fs.ukey(f"{root}/f"), fs.checksum(f"{root}/f"))
    fs.pipe_file(f"{root}/f", b"bbbb")  # same size: only content (and maybe time) differ
    assert fs.ukey(f"{root}/f") != first[0]
    assert fs.checksum(f"{root}/f") != first[1]


# -- the listing cache -----------------------------------------------------


def cached_names(fs: OpendalFileSystem, name: str) -> list[str] | None:
    listing = fs.dircache.get(name)
    return None if listing is None else [i["name"] for i in listing]


def assert_cache_agrees(fs: OpendalFileSystem, root: str) -> None:
    """Every cached listing under ``root`` equals a fresh one."""
    for name in [k for k in fs.dircache if k == root or k.startswith(f"{root}/")]:
        fresh = fs.ls(name, refresh=True, detail=False) if fs.isdir(name) else None
        assert cached_names(fs, name) == fresh, name


def _write_through_open(fs: OpendalFileSystem, path: str) -> None:
    with fs.open(path, "wb") as f:
        f.write(b"1")


MUTATIONS = {
    "pipe": lambda fs, r: fs.pipe_file(f"{r}/d/new", b"1"),
    "open-wb": lambda fs, r: _write_through_open(fs, f"{r}/d/new"),
    "touch": lambda fs, r: fs.touch(f"{r}/d/new", truncate=False),
    "put": lambda fs, r: fs.put_file(__file__, f"{r}/d/new"),
    "rm_file": lambda fs, r: fs.rm_file(f"{r}/d/f"),
    "rm": lambda fs, r: fs.rm(f"{r}/d", recursive=True),
    "cp": lambda fs, r: fs.cp_file(f"{r}/d/f", f"{r}/d/e/copy"),
    "mv": lambda fs, r: fs.mv(f"{r}/d/f", f"{r}/moved"),
    "mv-dir": lambda fs, r: fs.mv(f"{r}/d", f"{r}/moved", recursive=True),
    "mkdir": lambda fs, r: fs.mkdir(f"{r}/d/newdir"),
    "makedirs": lambda fs, r: fs.makedirs(f"{r}/d/x/y"),
    "rmdir": lambda fs, r: fs.rmdir(f"{r}/d/e/empty"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.listings_cache
def test_listing_cache_stays_correct(fs, root, mutation):
    fs.pipe_file(f"{root}/d/f", b"1")
    fs.makedirs(f"{root}/d/e/empty")
    for name in (root, f"{root}/d", f"{root}/d/e"):
        fs.ls(name)  # fill the cache
    assert cached_names(fs, f"{root}/d") == [f"{root}/d/e", f"{root}/d/f"]
    MUTATIONS[mutation](fs, root)
    assert_cache_agrees(fs, root)
    for name in (root, f"{root}/d", f"{root}/d/e"):
        if fs.exists(name):
            assert fs.ls(name, detail=False) == fs.ls(name, detail=False, refresh=True)


@pytest.mark.listings_cache
def test_only_directory_listings_are_cached(fs, root):
    fs.pipe_file(f"{root}/f", b"1")
    fs.ls(f"{root}/f")
    fs.find(root)
    assert f"{root}/f" not in fs.dircache
    fs.ls(root)
    assert cached_names(fs, root) == [f"{root}/f"]


@pytest.mark.listings_cache
def test_find_fills_the_listing_cache(fs, root, counting, service):
    """One recursive listing fills the cache of every directory below, whatever the
    maxdepth; a walk (FTP) caches each directory it lists, down to the maxdepth."""
    put_tree(fs, root)
    fs.makedirs(f"{root}/sub/empty", exist_ok=True)
    fs.find(root, maxdepth=1)
    directories = [root, f"{root}/sub", f"{root}/sub/deep"]
    if service.empty_directories:
        directories.append(f"{root}/sub/empty")
    if not service.recursive_listing:
        counting.calls.clear()
        fs.ls(root)
        assert counting.calls == {}  # the one level walked
        fs.ls(f"{root}/sub")
        assert counting.calls.get("list") == 1  # below the maxdepth: not walked
        fs.find(root)
    counting.calls.clear()
    cached = {d: fs.ls(d) for d in directories[:3]}
    assert fs.info(f"{root}/sub/c.txt")["size"] == len(b"sub/c.txt")
    assert counting.calls == {}  # all served by the cache that find filled
    # An empty directory is not cached: it may be a link the listing did not follow.
    cached.update({d: fs.ls(d) for d in directories[3:]})

    def summary(listing: list[dict]) -> list[tuple]:
        return [(i["name"], i["type"], i["size"]) for i in listing]

    for directory, listing in cached.items():
        assert summary(listing) == summary(fs.ls(directory, refresh=True)), directory


def test_find_with_a_prefix_caches_no_partial_listing(fs, root, service):
    """A listing narrowed to a prefix is not a directory's listing, so it is not cached:
    one recursive listing caches nothing; a walk (FTP) caches only the whole listings
    it made on the way."""
    put_tree(fs, root)
    assert fs.find(root, prefix="su") == [f"{root}/sub/c.txt", f"{root}/sub/deep/d.txt"]
    cached = {k: [i["name"] for i in v] for k, v in fs.dircache.items() if k.startswith(root)}
    if service.recursive_listing:
        assert cached == {}
    else:
        assert set(cached) == {root, f"{root}/sub", f"{root}/sub/deep"}
    for directory, names in cached.items():
        assert names == fs.ls(directory, detail=False, refresh=True), directory


def test_exists_isdir_isfile_tell_names_apart(fs, root, service):
    fs.pipe_file(f"{root}/a/b", b"1")
    fs.pipe_file(f"{root}/a/b-x", b"2")  # sorts between "a/b" and "a/b/"
    fs.pipe_file(f"{root}/a/bb/c", b"3")
    fs.makedirs(f"{root}/a/empty", exist_ok=True)
    expected = {
        "a/b": "file",
        "a/b-x": "file",
        "a/bb": "directory",
        "a/bb/c": "file",
        "a": "directory",
        "a/b/nothing": None,
        "a/bc": None,
        "a/": "directory",
        "a/empty": "directory" if service.empty_directories else None,
    }
    for rel, kind in expected.items():
        path = f"{root}/{rel}"
        assert (fs.exists(path), fs.isdir(path), fs.isfile(path)) == (
            kind is not None,
            kind == "directory",
            kind == "file",
        ), rel


def test_exists_on_a_missing_path_is_one_request(fs, root, counting, service):
    fs.pipe_file(f"{root}/present", b"1")
    counting.calls.clear()
    assert not fs.exists(f"{root}/missing")
    requests = sum(counting.calls.values())
    one = service.lists_by_prefix or service.stat_sees_directories
    assert requests == (1 if one else 2), counting.calls


@pytest.mark.listings_cache
def test_cache_answers_info_without_requests(fs, root, counting):
    fs.pipe_file(f"{root}/f", b"1")
    fs.ls(root)
    counting.calls.clear()
    assert fs.info(f"{root}/f")["size"] == 1
    assert not fs.exists(f"{root}/missing")
    assert counting.calls == {}


@pytest.mark.listings_cache
def test_refresh_sees_changes_made_elsewhere(fs, root, service):
    fs.pipe_file(f"{root}/f", b"1")
    fs.ls(root)
    other = service.filesystem(skip_instance_cache=True)
    other.pipe_file(f"{root}/g", b"2")
    assert fs.ls(root, detail=False) == [f"{root}/f"]  # stale, as documented
    assert fs.ls(root, detail=False, refresh=True) == [f"{root}/f", f"{root}/g"]


def test_listings_cache_can_be_disabled(service, root):
    fs = service.filesystem(use_listings_cache=False, skip_instance_cache=True)
    fs.pipe_file(f"{root}/f", b"1")
    fs.ls(root)
    assert len(fs.dircache) == 0


def test_the_quick_listings_cache_keeps_fsspecs_expiry_and_bound(monkeypatch):
    """QuickDirCache only skips fsspec's KeyError where no expiry or bound applies."""
    from opendalfs._listing_cache import QuickDirCache

    plain = QuickDirCache()
    plain["a"] = [1]
    assert plain.get("a") == [1]
    assert plain.get("b") is None
    assert plain.pop("a", None) == [1]
    assert plain.pop("a", None) is None
    with pytest.raises(KeyError):
        plain.pop("a")
    plain["x"] = plain["y"] = []
    plain.discard(["x", "z"])
    assert list(plain) == ["y"]

    clock = [100.0]
    monkeypatch.setattr("fsspec.dircache.time.time", lambda: clock[0])
    expiring = QuickDirCache(listings_expiry_time=10)
    expiring["a"] = [1]
    assert expiring.get("a") == [1]
    clock[0] += 11
    assert expiring.get("a") is None
    assert expiring.pop("a", None) is None

    bounded = QuickDirCache(max_paths=2)
    for key in "abcd":  # fsspec keeps max_paths + 1
        bounded[key] = [key]
    assert bounded.get("a") is None  # the oldest went
    assert bounded.get("d") == ["d"]

    off = QuickDirCache(use_listings_cache=False)
    off["a"] = [1]
    assert off.get("a") is None


def test_the_filesystem_caches_are_quick_ones_with_its_settings(service):
    fs = service.filesystem(listings_expiry_time=5, max_paths=10, skip_instance_cache=True)
    from opendalfs._listing_cache import QuickDirCache

    assert type(fs.dircache) is QuickDirCache
    assert (fs.dircache.listings_expiry_time, fs.dircache.max_paths) == (5, 10)
    assert fs.dircache.use_listings_cache  # an expiry asks for the cache, on any service


# -- the async API ---------------------------------------------------------


def test_async_api_on_a_running_loop(service, root):
    async def main() -> None:
        fs = service.filesystem(asynchronous=True, skip_instance_cache=True)
        await fs._pipe_file(f"{root}/a", b"1")
        await fs._pipe({f"{root}/b": b"2", f"{root}/c/d": b"3"})
        assert await fs._cat_file(f"{root}/a") == b"1"
        assert await fs._ls(root, detail=False) == [f"{root}/a", f"{root}/b", f"{root}/c"]
        assert await fs._find(root) == [f"{root}/a", f"{root}/b", f"{root}/c/d"]
        assert await fs._exists(f"{root}/c")
        assert (await fs._info(f"{root}/b"))["size"] == 1
        await fs._cp_file(f"{root}/a", f"{root}/e")
        await fs._mv(f"{root}/e", f"{root}/f")
        results = await asyncio.gather(*(fs._cat_file(f"{root}/{n}") for n in "abf"))
        assert results == [b"1", b"2", b"1"]
        await fs._rm(root, recursive=True)
        assert not await fs._exists(root)

    asyncio.run(main())


def test_sync_twins_exist():
    for name in (
        "ls",
        "info",
        "exists",
        "isdir",
        "isfile",
        "find",
        "glob",
        "walk",
        "du",
        "cat_file",
        "cat_ranges",
        "pipe_file",
        "rm_file",
        "rm",
        "cp_file",
        "mv",
        "mkdir",
        "makedirs",
        "rmdir",
        "get_file",
        "put_file",
        "touch",
        "modified",
        "created",
        "sign",
        "ukey",
    ):
        assert callable(getattr(OpendalFileSystem, name, None)) or name in ("cat_ranges",), name


@pytest.mark.any_service
def test_fsspec_open_round_trip(service, root):
    url = f"opendal+{service.scheme}://{root}/t.txt"
    with fsspec.open(url, "wt", **service.options) as f:
        f.write("héllo\n")
    with fsspec.open(url, "rt", **service.options) as f:
        assert f.read() == "héllo\n"


# -- key-value services ----------------------------------------------------


@pytest.mark.any_service
def test_what_a_key_value_service_cannot_do_says_so(fs, root, service):
    """No listing, no directories: a clear NotImplementedError naming service and operation."""
    fs.pipe_file(f"{root}/k", b"v")
    assert fs.cat_file(f"{root}/k") == b"v"
    assert fs.info(f"{root}/k")["size"] == 1
    if service.listing:
        assert fs.ls(root, detail=False) == [f"{root}/k"]
        return
    calls = [(lambda: fs.ls(root), "list"), (lambda: fs.find(root), "list")]
    if not service.creates_directories:
        calls.append((lambda: fs.mkdir(f"{root}/d"), "directories"))
    for call, operation in calls:
        with pytest.raises(NotImplementedError) as caught:
            call()
        message = str(caught.value)
        assert service.scheme in message
        assert operation in message
    fs.makedirs(f"{root}/d", exist_ok=True)  # directories are implied, if anything: no-op
    fs.rm(f"{root}/k")
    assert not fs.exists(f"{root}/k")
