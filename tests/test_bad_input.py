"""Bad input: the right builtin exception, a message naming the cause, nothing changed.

One table of bad inputs (URLs, options, paths, modes, ranges, credentials, operations
on the wrong kind of entry). Each case runs against a small known tree; it must raise
the expected builtin type, with a message that matches its pattern (``{root}`` stands
for the test's directory), within 30 seconds, and afterwards a fresh listing and the
contents of the tree must be what they were. Service-independent cases run once, on
memory. Inputs whose acceptance is documented (``//``, a leading ``/``, ranges past the
end) are tested as accepted, further down, never as errors.

tests/test_errors.py, test_options.py and test_paths.py hold the earlier bad inputs;
none is repeated here.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec
import fsspec.asyn
import pytest
from moto_auth import rejected_credentials

import opendalfs
from opendalfs import OpendalFileSystem

if TYPE_CHECKING:
    from conftest import Service

#: The tree every case starts from (an empty directory ``empty`` too).
TREE = {"file": b"0123456789", "bin": b"\xff\xfe\x00", "dir/x": b"x", "dir/sub/y": b"y"}

ALL = ("memory", "fs", "s3")
ONCE = ("memory",)  # cases that do not depend on the service
FS = ("fs",)
S3 = ("s3",)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services

#: S3 options that need no server (nothing is reached before the bad input fails).
S3_OFFLINE = {
    "endpoint": "http://127.0.0.1:1",
    "region": "us-east-1",
    "access_key_id": "AKIDEXAMPLE",
    "secret_access_key": "not-a-real-secret",
    "disable_config_load": True,
}
MISSING_BUCKET = f"opendalfs-missing-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Env:
    """What a case can reach: the filesystem, its service and a fresh test directory."""

    fs: OpendalFileSystem
    service: Service
    root: str
    local: Path  # a local directory for put/get

    def p(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    @property
    def top(self) -> str:
        """The root of what this filesystem reaches: the bucket, or ``""``."""
        return self.service.container

    def variant(self, **options: Any) -> OpendalFileSystem:
        """A filesystem for the same service with some options changed."""
        merged = {**self.service.options, **options}
        return OpendalFileSystem(self.service.scheme, skip_instance_cache=True, **merged)

    def rejected(self, call: Callable[[OpendalFileSystem], Any]) -> Any:
        """``call`` on a filesystem whose secret the S3 server refuses."""
        with rejected_credentials(self.service) as (_, rejected):
            return call(rejected)

    def local_file(self) -> str:
        path = self.local / "upload.txt"
        path.write_bytes(b"local")
        return str(path)


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Env], Any]
    raises: type[BaseException]
    match: str
    """A regular expression the message must contain; ``{root}`` is the test directory."""
    services: tuple[str, ...] = ALL


def _fs_root_is_a_file(e: Env) -> None:
    path = e.local / "a-file"
    path.write_bytes(b"not a directory")
    OpendalFileSystem("fs", root=str(path), skip_instance_cache=True).ls("")


def _seek_on_a_write_file(e: Env) -> None:
    f = e.fs.open(e.p("new"), "wb")
    try:
        f.seek(5)
    finally:
        f.discard()


CASES = [
    # -- URLs and service names
    Case(
        "url-unknown-service",
        lambda e: fsspec.core.url_to_fs("opendal+nosuch://bucket/key"),
        ValueError,
        "nosuch",
        ONCE,
    ),
    Case(
        "register-unknown-service",
        lambda e: opendalfs.register("nosuch"),
        ValueError,
        "nosuch",
        ONCE,
    ),
    Case(
        "service-given-as-protocol",
        lambda e: OpendalFileSystem("opendal+s3"),
        ValueError,
        r"opendal\+s3",
        ONCE,
    ),
    Case("service-name-in-capitals", lambda e: OpendalFileSystem("S3"), ValueError, "'S3'", ONCE),
    Case(
        "url-read-a-bucket",
        lambda e: e.fs.cat_file(f"opendal+s3:///{e.top}"),
        IsADirectoryError,
        "directory",
        S3,
    ),
    Case(
        "missing-bucket-cat",
        lambda e: e.fs.cat_file(f"{MISSING_BUCKET}/key"),
        FileNotFoundError,
        MISSING_BUCKET,
        S3,
    ),
    Case(
        "missing-bucket-info",
        lambda e: e.fs.info(MISSING_BUCKET),
        FileNotFoundError,
        MISSING_BUCKET,
        S3,
    ),
    Case(
        "missing-bucket-ls",
        lambda e: e.fs.ls(f"{MISSING_BUCKET}/dir"),
        FileNotFoundError,
        MISSING_BUCKET,
        S3,
    ),
    Case(
        "missing-bucket-pipe",
        lambda e: e.fs.pipe_file(f"{MISSING_BUCKET}/key", b"x"),
        FileNotFoundError,
        MISSING_BUCKET,
        S3,
    ),
    Case(
        "missing-bucket-mkdir",
        lambda e: e.fs.mkdir(MISSING_BUCKET),
        NotImplementedError,
        "bucket",
        S3,
    ),
    Case(
        "bucket-name-with-a-space",
        lambda e: e.fs.cat_file("has space/key"),
        ValueError,
        "has space",
        S3,
    ),
    Case(
        "bucket-option-with-a-space",
        lambda e: e.variant(bucket="has space"),
        ValueError,
        "has space",
        S3,
    ),
    Case(
        "endpoint-port-out-of-range",
        lambda e: e.variant(endpoint="http://127.0.0.1:99999", retries=0).cat_file(e.p("file")),
        ValueError,
        "port",
        S3,
    ),
    # -- options
    Case(
        "option-timeout-as-text",
        lambda e: OpendalFileSystem("memory", timeout="5", skip_instance_cache=True),
        ValueError,
        "timeout",
        ONCE,
    ),
    Case(
        "option-client-kwargs-not-a-dict",
        lambda e: OpendalFileSystem("s3", client_kwargs="us-east-1", **S3_OFFLINE),
        TypeError,
        "client_kwargs",
        ONCE,
    ),
    Case(
        "option-alias-secret-differs",
        lambda e: OpendalFileSystem("s3", secret="other", **S3_OFFLINE),
        ValueError,
        "'secret'.*'secret_access_key'",
        ONCE,
    ),
    Case(
        "option-alias-token-differs",
        lambda e: OpendalFileSystem("s3", token="a", session_token="b", **S3_OFFLINE),
        ValueError,
        "'token'.*'session_token'",
        ONCE,
    ),
    Case(
        "option-alias-client-kwargs-secret-differs",
        lambda e: OpendalFileSystem(
            "s3", client_kwargs={"aws_secret_access_key": "other"}, **S3_OFFLINE
        ),
        ValueError,
        "aws_secret_access_key",
        ONCE,
    ),
    Case(
        "option-bucket-on-fs",
        lambda e: OpendalFileSystem("fs", bucket="b"),
        ValueError,
        "'bucket'",
        ONCE,
    ),
    Case(
        "option-in-capitals",
        lambda e: OpendalFileSystem("memory", Root="/x"),
        ValueError,
        "'Root'",
        ONCE,
    ),
    Case(
        "option-boto-region-name",
        lambda e: OpendalFileSystem("s3", region_name="us-east-1"),
        ValueError,
        "'region_name'",
        ONCE,
    ),
    Case(
        "option-anon-as-text",
        lambda e: OpendalFileSystem("s3", anon="false", **S3_OFFLINE),
        ValueError,
        "anon",
        ONCE,
    ),
    Case(
        "option-fs-root-empty", lambda e: OpendalFileSystem("fs", root=""), ValueError, "root", ONCE
    ),
    Case("option-fs-root-is-a-file", _fs_root_is_a_file, ValueError, "a-file", FS),
    Case(
        "open-write-chunk-negative",
        lambda e: e.fs.open(e.p("new"), "wb", write_chunk=-1).close(),
        ValueError,
        "write_chunk",
    ),
    Case(
        "open-unknown-write-option",
        lambda e: e.fs.open(e.p("new"), "wb", colour="red").close(),
        TypeError,
        "colour",
    ),
    Case("pipe-an-int", lambda e: e.fs.pipe_file(e.p("new"), 5), TypeError, "int"),
    Case("pipe-a-str", lambda e: e.fs.pipe_file(e.p("new"), "text"), TypeError, "str|encoding"),
    Case(
        "pipe-content-type-not-text",
        lambda e: e.fs.pipe_file(e.p("new"), b"x", content_type=5),
        TypeError,
        "content_type",
    ),
    Case(
        "sign-negative-expiry",
        lambda e: e.fs.sign(e.p("file"), expiration=-1),
        ValueError,
        "expiration",
        S3,
    ),
    # -- paths
    Case("root-read", lambda e: e.fs.cat_file(e.top), IsADirectoryError, "directory"),
    Case("root-write", lambda e: e.fs.pipe_file(e.top, b"x"), IsADirectoryError, "root"),
    Case("root-open-wb", lambda e: e.fs.open(e.top, "wb").close(), IsADirectoryError, "root"),
    Case("root-rmdir", lambda e: e.fs.rmdir(e.top), PermissionError, "root", ("memory", "fs")),
    Case(
        "bucket-rmdir",
        lambda e: e.fs.rmdir(e.top),
        NotImplementedError,
        "cannot delete a bucket",
        S3,
    ),
    Case("root-rm-file", lambda e: e.fs.rm_file(e.top), IsADirectoryError, "directory"),
    Case(
        "dotdot-open-wb",
        lambda e: e.fs.open(e.p("../../../x"), "wb"),
        ValueError,
        "escapes the root",
    ),
    Case(
        "dotdot-makedirs",
        lambda e: e.fs.makedirs(e.p("../../../escape"), exist_ok=True),
        ValueError,
        "escapes the root",
    ),
    Case(
        "dotdot-cp-target",
        lambda e: e.fs.cp_file(e.p("file"), e.p("../../../x")),
        ValueError,
        "escapes the root",
    ),
    Case(
        "dotdot-mv-source",
        lambda e: e.fs.mv(e.p("../../../x"), e.p("moved")),
        ValueError,
        "escapes the root",
    ),
    Case("dotdot-find", lambda e: e.fs.find(e.p("../../..")), ValueError, "escapes the root"),
    Case("dotdot-glob", lambda e: e.fs.glob(e.p("../../../*")), ValueError, "escapes the root"),
    Case(
        "dotdot-put",
        lambda e: e.fs.put_file(e.local_file(), e.p("../../../x")),
        ValueError,
        "escapes the root",
    ),
    Case("nul-open-wb", lambda e: e.fs.open(e.p("a\x00b"), "wb"), ValueError, "NUL"),
    Case("nul-mv-target", lambda e: e.fs.mv(e.p("file"), e.p("a\x00b")), ValueError, "NUL"),
    Case("nul-glob", lambda e: e.fs.glob(e.p("a\x00*")), ValueError, "NUL"),
    Case(
        "component-256-write",
        lambda e: e.fs.pipe_file(e.p("a" * 256), b"x"),
        OSError,
        r"Errno 36\].*too long",
        FS,
    ),
    Case(
        "component-256-read",
        lambda e: e.fs.cat_file(e.p("a" * 256)),
        OSError,
        r"Errno 36\].*too long",
        FS,
    ),
    Case(
        "component-256-makedirs",
        lambda e: e.fs.makedirs(e.p("d" * 256)),
        OSError,
        r"Errno 36\].*too long",
        FS,
    ),
    Case(
        "path-over-4096-write",
        lambda e: e.fs.pipe_file(e.p("/".join(["b" * 200] * 25)), b"x"),
        OSError,
        r"Errno 36\].*too long",
        FS,
    ),
    Case("path-as-bytes", lambda e: e.fs.cat_file(e.root.encode() + b"/\xff"), TypeError, "path"),
    # -- modes
    Case(
        "mode-r+", lambda e: e.fs.open(e.p("file"), "r+"), NotImplementedError, r"{root}/file.*mode"
    ),
    Case(
        "mode-a+", lambda e: e.fs.open(e.p("file"), "a+"), NotImplementedError, r"{root}/file.*mode"
    ),
    Case(
        "mode-w+", lambda e: e.fs.open(e.p("file"), "w+"), NotImplementedError, r"{root}/file.*mode"
    ),
    Case(
        "mode-x+", lambda e: e.fs.open(e.p("new"), "x+"), NotImplementedError, r"{root}/new.*mode"
    ),
    Case(
        "mode-r+-async",
        lambda e: fsspec.asyn.sync(e.fs.loop, e.fs.open_async, e.p("file"), "r+"),
        NotImplementedError,
        "mode",
    ),
    Case("mode-unknown-letter", lambda e: e.fs.open(e.p("file"), "z"), ValueError, "mode"),
    Case("mode-read-and-write", lambda e: e.fs.open(e.p("file"), "rw"), ValueError, "mode"),
    Case(
        "mode-rt-unknown-encoding",
        lambda e: e.fs.open(e.p("file"), "rt", encoding="nope").read(),
        LookupError,
        "nope",
    ),
    Case(
        "mode-wt-unknown-encoding",
        lambda e: e.fs.open(e.p("new"), "wt", encoding="nope"),
        LookupError,
        "nope",
    ),
    Case(
        "mode-rt-undecodable",
        lambda e: e.fs.open(e.p("bin"), "rt", encoding="utf-8").read(),
        UnicodeDecodeError,
        "utf-8",
    ),
    # -- ranges
    Case(
        "read-block-negative-offset",
        lambda e: e.fs.read_block(e.p("file"), -1, 3),
        ValueError,
        "before",
    ),
    Case(
        "seek-before-the-start",
        lambda e: e.fs.open(e.p("file")).seek(-100, 2),
        ValueError,
        "before",
    ),
    Case("seek-bad-whence", lambda e: e.fs.open(e.p("file")).seek(0, 3), ValueError, "whence"),
    Case("seek-on-a-write-file", _seek_on_a_write_file, OSError, "read mode"),
    Case("cat-float-start", lambda e: e.fs.cat_file(e.p("file"), 1.5), TypeError, "float|integer"),
    Case(
        "cat-ranges-lengths-differ",
        lambda e: e.fs.cat_ranges([e.p("file")] * 2, [0], [1]),
        ValueError,
        "length|same|match",
    ),
    # -- credentials the server refuses
    Case(
        "secret-wrong-cat",
        lambda e: e.rejected(lambda fs: fs.cat_file(e.p("file"))),
        PermissionError,
        "{root}/file",
        S3,
    ),
    Case(
        "secret-wrong-ls",
        lambda e: e.rejected(lambda fs: fs.ls(e.root)),
        PermissionError,
        "{root}",
        S3,
    ),
    Case(
        "secret-wrong-exists",
        lambda e: e.rejected(lambda fs: fs.exists(e.p("file"))),
        PermissionError,
        "{root}/file",
        S3,
    ),
    Case(
        "secret-wrong-find",
        lambda e: e.rejected(lambda fs: fs.find(e.root)),
        PermissionError,
        "{root}",
        S3,
    ),
    Case(
        "secret-wrong-pipe",
        lambda e: e.rejected(lambda fs: fs.pipe_file(e.p("file"), b"changed")),
        PermissionError,
        "{root}/file",
        S3,
    ),
    Case(
        "secret-wrong-rm",
        lambda e: e.rejected(lambda fs: fs.rm(e.p("dir"), recursive=True)),
        PermissionError,
        "{root}/dir",
        S3,
    ),
    Case(
        "secret-wrong-mv",
        lambda e: e.rejected(lambda fs: fs.mv(e.p("file"), e.p("moved"))),
        PermissionError,
        "{root}/file",
        S3,
    ),
    Case(
        "access-key-unknown",
        lambda e: e.rejected(
            lambda _: e.variant(access_key_id="AKIDUNKNOWN", retries=0).cat_file(e.p("file"))
        ),
        PermissionError,
        "{root}/file",
        S3,
    ),
    # -- operations on the wrong kind of entry
    Case(
        "cat-a-directory-range",
        lambda e: e.fs.cat_file(e.p("dir"), 1, 3),
        IsADirectoryError,
        "{root}/dir",
    ),
    Case(
        "read-block-of-a-directory",
        lambda e: e.fs.read_block(e.p("dir"), 0, 1),
        IsADirectoryError,
        "{root}/dir",
    ),
    Case("head-of-a-directory", lambda e: e.fs.head(e.p("dir")), IsADirectoryError, "{root}/dir"),
    Case(
        "ls-below-a-file",
        lambda e: e.fs.ls(e.p("file/child")),
        FileNotFoundError,
        "{root}/file/child",
    ),
    Case("mkdir-over-a-file", lambda e: e.fs.mkdir(e.p("file")), FileExistsError, "{root}/file"),
    Case(
        "makedirs-over-a-file",
        lambda e: e.fs.makedirs(e.p("file"), exist_ok=True),
        FileExistsError,
        "{root}/file",
    ),
    Case(
        "open-directory-ab",
        lambda e: e.fs.open(e.p("dir"), "ab").close(),
        IsADirectoryError,
        "{root}/dir",
    ),
    Case("open-directory-xb", lambda e: e.fs.open(e.p("dir"), "xb"), FileExistsError, "{root}/dir"),
    Case(
        "touch-a-directory", lambda e: e.fs.touch(e.p("dir")), IsADirectoryError, "{root}/dir", FS
    ),
    Case(
        "rm-list-with-a-missing-path",
        lambda e: e.fs.rm([e.p("file"), e.p("missing")]),
        FileNotFoundError,
        "{root}/missing",
    ),
    Case(
        "rm-glob-matching-nothing",
        lambda e: e.fs.rm(e.p("nothing*")),
        FileNotFoundError,
        "{root}/nothing",
    ),
    Case(
        "rm-maxdepth-zero",
        lambda e: e.fs.rm(e.p("dir"), recursive=True, maxdepth=0),
        ValueError,
        "maxdepth",
    ),
    Case(
        "mv-list-with-a-missing-path",
        lambda e: e.fs.mv([e.p("file"), e.p("missing")], e.p("dest/")),
        FileNotFoundError,
        "{root}/missing",
    ),
    Case(
        "mv-directory-not-recursive",
        lambda e: e.fs.mv(e.p("dir"), e.p("moved")),
        IsADirectoryError,
        "{root}/dir",
    ),
    Case(
        "mv-directory-into-itself",
        lambda e: e.fs.mv(e.p("dir"), e.p("dir/sub/inner"), recursive=True),
        OSError,
        "{root}/dir",
    ),
    Case(
        "mv-directory-onto-a-file",
        lambda e: e.fs.mv(e.p("dir"), e.p("file"), recursive=True),
        FileExistsError,
        "{root}/file",
        FS,
    ),
    Case(
        "cp-directory-onto-a-file",
        lambda e: e.fs.cp_file(e.p("dir"), e.p("file")),
        FileExistsError,
        "{root}/file",
        FS,
    ),
    Case(
        "put-missing-local-file",
        lambda e: e.fs.put_file(str(e.local / "no-such-file"), e.p("up")),
        FileNotFoundError,
        "no-such-file",
    ),
    Case(
        "get-into-missing-local-directory",
        lambda e: e.fs.get_file(e.p("file"), str(e.local / "no-such-dir" / "x")),
        FileNotFoundError,
        "no-such-dir",
    ),
]


def make_tree(fs: OpendalFileSystem, root: str) -> None:
    fs.pipe({f"{root}/{rel}": data for rel, data in TREE.items()})
    fs.mkdir(f"{root}/empty")


def snapshot(service: Service, root: str) -> dict[str, bytes | None]:
    """What is stored under ``root``, seen by a new instance: name -> bytes (None: a dir)."""
    fresh = service.filesystem(skip_instance_cache=True)
    found = fresh.find(root, withdirs=True, detail=True)
    return {n: fresh.cat_file(n) if i["type"] == "file" else None for n, i in found.items()}


def from_opendal(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] == "opendal"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("service", "case"),
    [pytest.param(s, c, id=f"{s}-{c.id}") for c in CASES for s in c.services],
    indirect=["service"],
)
def test_bad_input(service, case, fs, root, tmp_path):
    make_tree(fs, root)
    before = snapshot(service, root)
    with pytest.raises(case.raises) as caught:
        case.call(Env(fs, service, root, tmp_path))
    exc = caught.value
    assert not from_opendal(exc), f"OpenDAL's own {type(exc).__name__} reached the user"
    pattern = case.match.replace("{root}", re.escape(root))
    assert re.search(pattern, str(exc)), f"{type(exc).__name__}: {exc}"
    assert snapshot(service, root) == before


def test_the_table_is_large_and_ids_are_unique():
    assert len({c.id for c in CASES}) == len(CASES) >= 50


# -- documented acceptance -----------------------------------------------------------------


SAME_NAME = {
    "leading-slash": "/{root}/a/b",
    "doubled-slashes": "{root}//a///b",
    "dot-segments": "./{root}/./a/./b",
    "dot-dot-inside": "{root}/a/x/../b",
    "protocol-and-slash": "opendal+{scheme}:///{root}/a/b/",
}


@pytest.mark.parametrize("service", ALL, indirect=True)
@pytest.mark.parametrize("spelling", SAME_NAME.values(), ids=SAME_NAME.keys())
def test_other_spellings_name_the_same_object(service, fs, root, spelling):
    """docs/paths.md: ``/a/b``, ``a//b``, ``.`` and inner ``..`` all name ``a/b``."""
    name = spelling.format(root=root, scheme=service.scheme)
    fs.pipe_file(name, b"one")
    assert fs.find(root) == [f"{root}/a/b"]
    assert fs.cat_file(f"{root}/a/b") == b"one"
    assert fs.info(name)["name"] == f"{root}/a/b"


MV_SAME = {
    "dot-slash": "./{name}",
    "leading-slash": "/{name}",
    "doubled-slash": "{parent}//{base}",
    "protocol": "opendal+{scheme}://{name}",
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("service", ALL, indirect=True)
@pytest.mark.parametrize("what", ["file", "dir"])
@pytest.mark.parametrize("spelling", MV_SAME.values(), ids=MV_SAME.keys())
def test_mv_onto_itself_in_another_spelling_keeps_it(service, fs, root, what, spelling):
    """``mv(p, q)`` where ``q`` names ``p``: nothing happens, as for ``mv(p, p)``."""
    make_tree(fs, root)
    before = snapshot(service, root)
    name = f"{root}/{what}"
    target = spelling.format(name=name, parent=root, base=what, scheme=service.scheme)
    fs.mv(name, target, recursive=what == "dir")
    assert snapshot(service, root) == before


@pytest.mark.parametrize("service", ALL, indirect=True)
def test_ranges_outside_the_file_read_as_slices_do(service, fs, root):
    """docs: ``cat_file`` slices like ``bytes``; read_block, cat_ranges and seek agree."""
    data = TREE["file"]
    path = f"{root}/file"
    fs.pipe_file(path, data)
    assert fs.read_block(path, 20, 5) == b""
    assert fs.read_block(path, 8, 10) == data[8:18]
    assert fs.cat_ranges([path] * 3, [5, 20, -3], [2, 30, -1]) == [b"", b"", data[-3:-1]]
    with fs.open(path, "rb") as f:
        assert f.seek(100) == 100
        assert f.read() == b""
    assert fs.cat_file(path, 2**64) == data[2**64 :]
    assert fs.cat_file(path, 0, 2**64) == data


#: Names OpenDAL would store under another name (it trims whitespace; a lone
#: surrogate cannot be encoded): each must be kept exactly, or refused.
ODD_NAMES = {
    "trailing-space": ("f ", "f"),
    "trailing-tab": ("f\t", "f"),
    "lone-surrogates": ("s\udcfe", "s\udcff"),
}


@pytest.mark.parametrize("service", ALL, indirect=True)
@pytest.mark.parametrize("odd", sorted(ODD_NAMES))
def test_names_are_kept_exactly_or_refused(service, fs, root, odd):
    """Never a silently different name: ``"f "`` must not overwrite ``"f"``."""
    first, second = (f"{root}/{n}" for n in ODD_NAMES[odd])
    try:
        fs.pipe_file(first, b"first")
    except ValueError:
        assert fs.find(root) == []
        return
    fs.pipe_file(second, b"second")
    assert fs.cat_file(first) == b"first"
    assert fs.cat_file(second) == b"second"
    assert sorted(fs.find(root)) == sorted([first, second])


@pytest.mark.parametrize("service", S3, indirect=True)
def test_a_query_string_is_part_of_the_name(service, fs, root):
    """A ``?`` in a URL is a character of the key, never options (as for any other name)."""
    url = f"opendal+s3://{root}/k?region=nowhere&versionId=1"
    fs.pipe_file(url, b"q")
    assert fs.find(root) == [f"{root}/k?region=nowhere&versionId=1"]
    assert fs.cat_file(url) == b"q"
    assert not fs.exists(f"{root}/k")


@pytest.mark.parametrize("service", S3, indirect=True)
def test_a_missing_bucket_does_not_exist(service, fs):
    """A bucket that is not there is a missing path (s3fs says so too), not a bad option."""
    assert fs.exists(f"{MISSING_BUCKET}/key") is False
    assert fs.isdir(MISSING_BUCKET) is False
    assert fs.find(MISSING_BUCKET) == []


@pytest.mark.parametrize("service", ["s3", "azblob", "gcs"], indirect=True)
def test_reading_the_root_or_a_container_is_a_directory_error(service, fs):
    """No bucket and no key (or the bucket alone) names a directory: reading it is
    IsADirectoryError, an OSError as fsspec's callers expect; a missing bucket is
    FileNotFoundError."""
    option = fs.service_config.container_option
    pinned = service.filesystem(skip_instance_cache=True, **{option: service.container})
    for filesystem, name in ((fs, ""), (fs, service.container), (pinned, "")):
        with pytest.raises(IsADirectoryError):
            filesystem.open(name, "rb")
        with pytest.raises(IsADirectoryError):
            filesystem.cat_file(name)
    with pytest.raises(FileNotFoundError):
        fs.cat_file(MISSING_BUCKET)


@pytest.mark.parametrize("service", FS, indirect=True)
def test_names_that_are_not_utf8_on_disk(service, fs, root):
    """Files whose names are not UTF-8 (made by other programs) are listed under names
    that read them back, one name per file, or the listing says it cannot."""
    directory = Path(service.options["root"], root)
    directory.mkdir()
    for raw in (b"bad\xfe", b"bad\xff"):
        with open(os.fsencode(directory) + b"/" + raw, "wb") as f:
            f.write(raw)
    try:
        names = fs.find(root)
    except ValueError:
        return
    assert len(names) == 2
    assert sorted(fs.cat_file(n) for n in names) == [b"bad\xfe", b"bad\xff"]
