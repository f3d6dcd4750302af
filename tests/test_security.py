"""Security: secrets stay hidden, the ``fs`` root holds, presigned URLs say what they allow.

Secrets are scanned for as plain strings everywhere a user or a log could see them:
reprs, pickled copies, log records of every logger at DEBUG, exception messages and
their whole chains as ``traceback`` prints them. Wrong credentials are rejected by a
real S3 server: moto checks no signatures unless asked, so
:func:`rejected_credentials` switches its authentication on for one block.
"""

from __future__ import annotations

import base64
import logging
import os
import pickle
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from helpers import DRIVERS, raising_backend, run
from moto_auth import moto_access_key, rejected_credentials
from opendal import exceptions as odx

from opendalfs import OpendalFileSystem
from opendalfs._services import is_secret
from opendalfs.errors import mask, summary

SECRET = "sEcReT-9f2c41d0b7e6a3"
TOKEN = "tOkEn-4b1e88c2d9a05f"
ON_S3 = pytest.mark.parametrize("service", ["s3"], indirect=True)


# -- scanning for secrets -----------------------------------------------------------------


class Everything(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def all_logs() -> Iterator[Everything]:
    """Every log record of every logger, at DEBUG, for the length of a test.

    The handler goes on the root and on each logger that does not propagate, and
    every logger's level is DEBUG meanwhile; both are restored afterwards.
    """
    handler = Everything()
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    levels = {lg: lg.level for lg in loggers}
    hooked = [lg for lg in loggers if lg is logging.getLogger() or not lg.propagate]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    for lg in hooked:
        lg.addHandler(handler)
    yield handler
    for lg in hooked:
        lg.removeHandler(handler)
    for lg, level in levels.items():
        lg.setLevel(level)


def shown(exc: BaseException) -> str:
    """Everything ``traceback`` prints for ``exc``: its chain, messages and arguments."""
    return "".join(traceback.format_exception(exc)) + repr(exc.args)


def logged(handler: Everything) -> str:
    """The records as a handler with exception info would write them."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in handler.records)


def failures(*calls: Callable[[], Any]) -> list[BaseException]:
    """The exception each call raised; a call that succeeds fails the test."""
    raised = []
    for call in calls:
        try:
            call()
        except Exception as exc:
            raised.append(exc)
        else:
            pytest.fail(f"{call} was expected to fail")
    return raised


def assert_hidden(secrets: tuple[str, ...], *texts: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret shows in:\n{text}"


#: Services configured with secrets, each pointed at ``{port}``; the path to read.
SCENARIOS: dict[str, tuple[str, dict[str, Any], str]] = {
    "s3": (
        "s3",
        {
            "endpoint": "http://127.0.0.1:{port}",
            "region": "us-east-1",
            "access_key_id": "AKIDEXAMPLE",
            "secret_access_key": SECRET,
            "session_token": TOKEN,
            "disable_config_load": True,
        },
        "bucket/key",
    ),
    "s3-invalid-host": (
        "s3",
        {
            "endpoint": "http://256.0.0.1:9",
            "region": "us-east-1",
            "access_key_id": "AKIDEXAMPLE",
            "secret_access_key": SECRET,
            "session_token": TOKEN,
            "disable_config_load": True,
        },
        "bucket/key",
    ),
    "azblob-account-key": (
        "azblob",
        {
            "endpoint": "http://127.0.0.1:{port}",
            "account_name": "devaccount",
            "account_key": base64.b64encode(SECRET.encode()).decode(),
        },
        "container/key",
    ),
    "azblob-connection-string": (
        "azblob",
        {
            "connection_string": (
                "DefaultEndpointsProtocol=http;AccountName=devaccount;"
                f"AccountKey={base64.b64encode(SECRET.encode()).decode()};"
                "BlobEndpoint=http://127.0.0.1:{port}/devaccount;"
            )
        },
        "container/key",
    ),
    "azblob-sas-token": (
        "azblob",
        {
            "endpoint": "http://127.0.0.1:{port}",
            "account_name": "devaccount",
            "sas_token": f"sv=2022-11-02&sig={SECRET}",
        },
        "container/key",
    ),
    "gcs-token": (
        "gcs",
        {"endpoint": "http://127.0.0.1:{port}", "token": SECRET},
        "bucket/key",
    ),
    "webdav-password": (
        "webdav",
        {"endpoint": "http://127.0.0.1:{port}", "username": "user", "password": SECRET},
        "key",
    ),
    "ftp-password": (
        "ftp",
        {"endpoint": "ftp://127.0.0.1:{port}", "user": "user", "password": SECRET},
        "key",
    ),
}

#: Secrets as OpenDAL sees them: the account key is given base64-encoded.
SECRETS = (SECRET, TOKEN, base64.b64encode(SECRET.encode()).decode())


def scenario_filesystem(name: str, port: int) -> tuple[OpendalFileSystem, str]:
    scheme, options, path = SCENARIOS[name]
    options = {k: v.format(port=port) if isinstance(v, str) else v for k, v in options.items()}
    fs = OpendalFileSystem(scheme, retries=1, timeout=10, skip_instance_cache=True, **options)
    return fs, path


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_failing_calls_never_show_a_secret(name, closed_port, all_logs):
    """Unreachable services: no secret in any message, chained cause, or log record."""
    fs, path = scenario_filesystem(name, closed_port)
    folder = path.rpartition("/")[0] or ""
    raised = failures(
        lambda: fs.cat_file(path),
        lambda: fs.info(path),
        lambda: fs.ls(folder or "dir"),
        lambda: fs.pipe_file(path, b"data"),
    )
    assert_hidden(SECRETS, repr(fs), str(fs), logged(all_logs), *map(shown, raised))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_reprs_and_pickled_copies_never_show_a_secret(name, closed_port):
    fs, path = scenario_filesystem(name, closed_port)
    copy = pickle.loads(pickle.dumps(fs))
    url = fs.unstrip_protocol(path)
    opened = fsspec.open(url, **fs.storage_options)
    assert_hidden(SECRETS, repr(fs), str(fs), repr(copy), str(copy), repr(opened))


def test_universal_pathlib_repr_never_shows_a_secret(closed_port):
    upath = pytest.importorskip("upath")
    fs, path = scenario_filesystem("s3", closed_port)
    p = upath.UPath(fs.unstrip_protocol(path), **fs.storage_options)
    assert_hidden(SECRETS, repr(p), str(p), repr(p.fs))


def test_invalid_configuration_never_shows_a_secret(all_logs):
    """A configuration OpenDAL refuses (S3 without a region): not in the traceback either."""
    _, options, _ = SCENARIOS["s3"]
    options = {k: v for k, v in options.items() if k not in ("region", "endpoint")}
    with pytest.raises(ValueError) as caught:
        OpendalFileSystem("s3", bucket="b", skip_instance_cache=True, **options)
    assert_hidden(SECRETS, shown(caught.value), logged(all_logs))


def test_a_password_inside_a_url_option_is_hidden(closed_port):
    """Credentials written into an endpoint URL are secrets too (redis://:pw@host …)."""
    fs = OpendalFileSystem(
        "redis",
        endpoint=f"redis://user:{SECRET}@127.0.0.1:{closed_port}",
        timeout=5,
        retries=0,
        skip_instance_cache=True,
    )
    assert_hidden((SECRET,), repr(fs), str(fs))
    (error,) = failures(lambda: fs.cat_file("key"))
    assert_hidden((SECRET,), shown(error))


def test_reprs_name_the_secret_options_and_show_the_rest(closed_port):
    """A repr hides a secret's value, not that it was given, nor the other options."""
    fs, _ = scenario_filesystem("s3", closed_port)
    for text in (repr(fs), str(fs)):
        assert "secret_access_key=" in text
        assert "region='us-east-1'" in text


def test_wrong_value_type_of_a_secret_hides_the_value():
    with pytest.raises(TypeError, match="'secret_access_key'") as info:
        OpendalFileSystem("s3", region="us-east-1", secret_access_key={"v": SECRET})
    assert_hidden((SECRET,), shown(info.value))


@pytest.mark.parametrize(
    ("option", "secret"),
    [
        ("secret_access_key", True),
        ("session_token", True),
        ("account_key", True),
        ("password", True),
        ("token", True),
        ("sas_token", True),
        ("connection_string", True),
        ("credential", True),
        ("access_key_id", False),
        ("key_field", False),
        ("region", False),
        ("endpoint", False),
        ("bucket", False),
        ("root", False),
    ],
)
def test_is_secret(option, secret):
    assert is_secret(option) is secret


def test_summary_masks_secrets():
    """The one line a translated error keeps hides a secret in its first line and its source."""
    message = (
        "NotFound (permanent) at read => entity hunter2 not found\n\n"
        "Context:\n   path: hunter2\n\nSource:\n   no hunter2 here (os error 2)\n"
    )
    text = summary(odx.NotFound(message), secrets=("hunter2",))
    assert text == "NotFound (permanent) at read => entity *** not found (no *** here (os error 2))"


def test_values_too_short_to_be_secrets_are_not_masked():
    """Masking a one-letter value would mangle every message it occurs in."""
    text = "NotFound (permanent) at stat => newbucket/key not found"
    assert mask(text, ("b", "ke", "key", "")) == text
    assert mask(text, ("buck",)) == "NotFound (permanent) at stat => new***et/key not found"


def test_a_short_secret_leaves_messages_readable(closed_port):
    """A one-letter secret key is hidden in the repr, and left alone in messages: masked
    there it mangled the text and the ``(os error 111)`` that tells a refusal apart."""
    fs = OpendalFileSystem(
        "s3",
        endpoint=f"http://127.0.0.1:{closed_port}",
        region="us-east-1",
        access_key_id="AKIDEXAMPLE",
        secret_access_key="e",
        disable_config_load=True,
        retries=0,
        skip_instance_cache=True,
    )
    assert "secret_access_key='***'" in repr(fs)
    (error,) = failures(lambda: fs.cat_file("newbucket/key"))
    assert "***" not in str(error), str(error)
    assert isinstance(error, ConnectionRefusedError), repr(error)


@pytest.mark.parametrize("driver", DRIVERS)
def test_the_backend_masks_secrets_in_errors_and_their_causes(driver):
    """A secret that OpenDAL echoes in a message reaches neither the user's message nor
    the chained OpenDAL error that a traceback prints."""
    original = odx.PermissionDenied(
        "PermissionDenied (permanent) at read => token s3cr3t rejected\n\n"
        "Context:\n   service: s3\n\nSource:\n   bad signature for s3cr3t\n"
    )
    backend = raising_backend(original, secrets=("s3cr3t", ""))
    with pytest.raises(PermissionError) as info:
        run(backend.read("bucket/key", 0, None), driver)
    assert "rejected" in str(info.value)
    assert "bad signature" in str(info.value)
    assert type(info.value.__cause__) is odx.PermissionDenied
    assert_hidden(("s3cr3t",), shown(info.value))


@pytest.fixture
def s3_user(service: Any) -> None:
    """Make moto's IAM user before a test watches the logs: boto3 logs the new key."""
    if not os.environ.get("OPENDALFS_TEST_S3_ENDPOINT"):
        moto_access_key(service.options["endpoint"], service.options["region"])


@pytest.mark.own_services
@ON_S3
@pytest.mark.timeout(60)
def test_wrong_credentials_never_show_a_secret(service, fs, root, s3_user, all_logs):
    """A real rejection (SignatureDoesNotMatch) is a PermissionError that hides both secrets."""
    fs.pipe_file(f"{root}/f", b"data")
    wrong = "wrong-" + SECRET
    with rejected_credentials(service, wrong) as (accepted, rejected):
        assert accepted.cat_file(f"{root}/f") == b"data"  # the server takes the right one
        raised = failures(
            lambda: rejected.cat_file(f"{root}/f"),
            lambda: rejected.ls(root),
            lambda: rejected.info(f"{root}/f"),
            lambda: rejected.pipe_file(f"{root}/g", b"x"),
        )
        right = accepted.storage_options["secret_access_key"]
    assert all(isinstance(e, PermissionError) for e in raised), raised
    texts = [repr(rejected), str(rejected), logged(all_logs), *map(shown, raised)]
    assert_hidden((wrong, right), *texts)


# -- the fs root --------------------------------------------------------------------------


@pytest.fixture
def jail(tmp_path: Path) -> tuple[OpendalFileSystem, Path, Path]:
    """(fs rooted at ``tmp/root``, that root, a local file to upload); beside the root
    lie ``outside.txt`` and ``outside/inside.txt``, which nothing may touch."""
    root = tmp_path / "root"
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "f").write_bytes(b"inside")
    (tmp_path / "outside.txt").write_bytes(b"outside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "inside.txt").write_bytes(b"outside too")
    local = tmp_path / "upload.txt"
    local.write_bytes(b"upload")
    fs = OpendalFileSystem("fs", root=str(root), skip_instance_cache=True)
    return fs, root, local


def beside_root(tmp_path: Path) -> dict[str, bytes | None]:
    """Everything under ``tmp_path`` but the root: relative name -> bytes (None: a dir)."""
    found: dict[str, bytes | None] = {}
    for path in sorted(tmp_path.rglob("*")):
        rel = path.relative_to(tmp_path).as_posix()
        if rel == "root" or rel.startswith("root/"):
            continue
        found[rel] = None if path.is_dir() and not path.is_symlink() else path.read_bytes()
    return found


ESCAPES = [
    "../outside.txt",
    "./../outside.txt",
    "dir/../../outside.txt",
    "dir/f/../../../outside.txt",
    "//../outside.txt",
    "opendal+fs://../outside.txt",
    "opendal+fs:///dir/../../outside.txt",
    "..",
]

#: Every kind of operation, given a name to try (``bad``) and a local file.
OPERATIONS: dict[str, Callable[[OpendalFileSystem, str, Path], Any]] = {
    "cat_file": lambda fs, bad, local: fs.cat_file(bad),
    "open-rb": lambda fs, bad, local: fs.open(bad, "rb"),
    "head": lambda fs, bad, local: fs.head(bad),
    "get_file": lambda fs, bad, local: fs.get_file(bad, str(local.with_name("got"))),
    "info": lambda fs, bad, local: fs.info(bad),
    "exists": lambda fs, bad, local: fs.exists(bad),
    "ls": lambda fs, bad, local: fs.ls(bad),
    "find": lambda fs, bad, local: fs.find(bad),
    "glob": lambda fs, bad, local: fs.glob(f"{bad}/*"),
    "du": lambda fs, bad, local: fs.du(bad),
    "pipe_file": lambda fs, bad, local: fs.pipe_file(bad, b"x"),
    "open-wb": lambda fs, bad, local: fs.open(bad, "wb").close(),
    "open-ab": lambda fs, bad, local: fs.open(bad, "ab").close(),
    "put_file": lambda fs, bad, local: fs.put_file(str(local), bad),
    "touch": lambda fs, bad, local: fs.touch(bad),
    "makedirs": lambda fs, bad, local: fs.makedirs(bad, exist_ok=True),
    "cp_file-to": lambda fs, bad, local: fs.cp_file("dir/f", bad),
    "cp_file-from": lambda fs, bad, local: fs.cp_file(bad, "dir/copy"),
    "mv-to": lambda fs, bad, local: fs.mv("dir/f", bad),
    "mv-from": lambda fs, bad, local: fs.mv(bad, "dir/moved"),
    "rm": lambda fs, bad, local: fs.rm(bad, recursive=True),
    "rm_file": lambda fs, bad, local: fs.rm_file(bad),
    "rmdir": lambda fs, bad, local: fs.rmdir(bad),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_no_name_climbs_out_of_the_root(jail, tmp_path, operation):
    """``..`` in any spelling is refused by every operation, before anything is done."""
    fs, root, local = jail
    before = beside_root(tmp_path)
    for bad in ESCAPES:
        with pytest.raises(ValueError, match="escapes the root"):
            OPERATIONS[operation](fs, bad, local)
    assert beside_root(tmp_path) == before
    assert (root / "dir" / "f").read_bytes() == b"inside"
    assert not local.with_name("got").exists()


def test_absolute_names_stay_inside_the_root(jail, tmp_path):
    """An absolute name means the root's own path: the machine's file is never reached."""
    fs, root, local = jail
    outside = str(tmp_path / "outside.txt")
    before = beside_root(tmp_path)
    with pytest.raises(FileNotFoundError):
        fs.cat_file(outside)
    with pytest.raises(FileNotFoundError):
        fs.ls(str(tmp_path / "outside"))
    with pytest.raises(FileNotFoundError):
        fs.rm(outside)
    with pytest.raises(FileNotFoundError):
        fs.mv(outside, "dir/moved")
    fs.put_file(str(local), f"opendal+fs://{outside}")
    fs.cp_file("dir/f", f"/{tmp_path}/outside/inside.txt")
    with fs.open(outside, "ab") as f:
        f.write(b"+more")
    assert beside_root(tmp_path) == before
    mirrored = root / str(tmp_path).lstrip("/")
    assert (mirrored / "outside.txt").read_bytes() == b"upload+more"
    assert (mirrored / "outside" / "inside.txt").read_bytes() == b"inside"


# -- symbolic links inside the fs root ---------------------------------------------------------


@pytest.fixture
def linked(jail, tmp_path):
    """The jail with ``link.txt`` -> ``outside.txt`` and ``linkdir`` -> ``outside/``."""
    fs, root, _ = jail
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    (root / "linkdir").symlink_to(tmp_path / "outside")
    return fs, root


def test_symlinks_are_followed_for_reading_and_writing(linked, tmp_path):
    """Documented (docs/paths.md): links inside the root are followed by the OS, so a
    link placed inside the root reaches the file it points to, even outside."""
    fs, _ = linked
    assert fs.cat_file("link.txt") == b"outside"
    assert fs.cat_file("linkdir/inside.txt") == b"outside too"
    fs.pipe_file("link.txt", b"written through the link")
    assert (tmp_path / "outside.txt").read_bytes() == b"written through the link"


def test_removing_a_symlink_never_removes_what_it_points_to(linked, tmp_path):
    fs, root = linked
    before = beside_root(tmp_path)
    fs.rm("link.txt")
    fs.rm("linkdir", recursive=True)
    assert not (root / "link.txt").is_symlink()
    assert not (root / "linkdir").is_symlink()
    assert beside_root(tmp_path) == before


def test_removing_a_tree_that_holds_symlinks_removes_the_links_only(linked, tmp_path):
    """``rm(recursive=True)`` of a directory with links in it, as ``shutil.rmtree`` does:
    the links go, what they point to stays."""
    fs, root = linked
    (root / "dir" / "to-file").symlink_to(tmp_path / "outside.txt")
    (root / "dir" / "to-dir").symlink_to(tmp_path / "outside")
    before = beside_root(tmp_path)
    fs.rm("dir", recursive=True)
    assert not (root / "dir").exists()
    assert beside_root(tmp_path) == before


def test_moving_a_symlink_moves_the_link(linked, tmp_path):
    fs, root = linked
    before = beside_root(tmp_path)
    fs.mv("link.txt", "dir/moved-link.txt")
    assert (root / "dir" / "moved-link.txt").is_symlink()
    assert fs.cat_file("dir/moved-link.txt") == b"outside"
    assert beside_root(tmp_path) == before


def test_a_symlinked_directory_lists_what_it_holds(linked):
    """``ls`` of a linked directory agrees with a fresh listing, also after ``find``
    (whose recursive listing does not descend into links) filled the cache."""
    fs, _ = linked
    expected = ["linkdir/inside.txt"]
    assert fs.ls("linkdir", detail=False, refresh=True) == expected
    fs.invalidate_cache()
    fs.find("", withdirs=True)
    assert fs.ls("linkdir", detail=False) == expected


@pytest.mark.timeout(60)
def test_a_symlink_loop_ends_every_walk(jail):
    """A link to its own ancestor: listings end (no hang), and removal removes the link."""
    fs, root, _ = jail
    (root / "dir" / "loop").symlink_to(root)
    assert "dir/loop" in fs.find("", withdirs=True)
    assert fs.du("") > 0
    assert len(list(fs.walk(""))) < 100
    fs.rm("dir", recursive=True)
    assert not (root / "dir").exists()
    assert root.is_dir()


# -- presigned URLs ----------------------------------------------------------------------------


def query(url: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)


@pytest.mark.own_services
@ON_S3
@pytest.mark.parametrize("expiration", [1, 60, 3600, 604800])
def test_presigned_url_carries_the_expiry_asked_for(fs, root, expiration):
    fs.pipe_file(f"{root}/f", b"signed")
    url = fs.sign(f"{root}/f", expiration=expiration)
    assert query(url)["X-Amz-Expires"] == [str(expiration)]
    if expiration >= 60:  # a one-second URL may expire before the request arrives
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read() == b"signed"


@pytest.mark.own_services
@ON_S3
@pytest.mark.parametrize("name", ["with space", "ünïcode", "q?x=1&y", "a+b", "pct%41", "hash#1"])
def test_presigned_url_reads_names_that_need_quoting(fs, root, name):
    fs.pipe_file(f"{root}/{name}", name.encode())
    with urllib.request.urlopen(fs.sign(f"{root}/{name}", expiration=300), timeout=30) as r:
        assert r.read() == name.encode()


@pytest.mark.own_services
@ON_S3
def test_presigned_url_holds_a_signature_never_the_secret(service, fs, root):
    """The URL proves the secret without containing it (moto answers presigned requests
    with an error while its authentication is on, so a refused URL is not tried)."""
    fs.pipe_file(f"{root}/f", b"signed")
    options = {**service.options, "secret_access_key": SECRET}
    signer = OpendalFileSystem("s3", **options, skip_instance_cache=True)
    url = signer.sign(f"{root}/f", expiration=300)
    assert_hidden((SECRET,), url)
    assert query(url)["X-Amz-Signature"][0]
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == b"signed"
