"""The one error translation: OpenDAL's exceptions become Python's builtin ones.

fsspec, pandas and zarr branch on ``FileNotFoundError`` and friends, so no
``opendal.exceptions.*`` may reach a user; each translated error names the path
and chains the original.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from typing import Any

import opendal
import pytest
from helpers import DRIVERS, Raises, raising_backend, run
from opendal import exceptions as odx

from opendalfs import OpendalFileSystem
from opendalfs._backend import Backend, Reader
from opendalfs._guard import GRACE, bounded
from opendalfs.errors import (
    OPENDAL_ERRORS,
    OperationTimeout,
    error_kind,
    summary,
    translate,
)

PATH = "bucket/dir/key"

#: What each OpenDAL exception class means, when not creating (see ConditionNotMatch).
EXPECTED = {
    "AlreadyExists": FileExistsError,
    "ConditionNotMatch": OSError,
    "ConfigInvalid": ValueError,
    "Conflict": OSError,
    "Error": OSError,
    "IsADirectory": IsADirectoryError,
    "IsSameFile": shutil.SameFileError,
    "NotADirectory": NotADirectoryError,
    "NotFound": FileNotFoundError,
    "PermissionDenied": PermissionError,
    "RangeNotSatisfied": OSError,
    "RateLimited": OSError,
    "Unexpected": OSError,
    "Unsupported": NotImplementedError,
}


def opendal_error(name: str, detail: str = "something failed") -> BaseException:
    """An exception as OpenDAL raises it: the kind first, then where, then why."""
    return getattr(odx, name)(f"{name} (permanent) at stat => {detail}")


def chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and everything it was raised from or during."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def is_opendal(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("opendal.")


# -- translate(): the table ----------------------------------------------------


def test_table_covers_every_opendal_exception():
    """A new opendal release with a new exception class must get a row here.

    OPENDAL_ERRORS is what the backend catches; the module's ``__all__`` (what the
    binding declares it exports) and a real failure are checked against it.
    """
    assert set(OPENDAL_ERRORS) == {getattr(odx, name) for name in odx.__all__}
    assert len(OPENDAL_ERRORS) == len(odx.__all__)
    with pytest.raises(OPENDAL_ERRORS):
        opendal.Operator("memory").stat("missing")
    assert set(EXPECTED) == set(odx.__all__)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_translate_gives_the_builtin_type_with_the_path(name):
    """Each kind maps to one builtin type that still says which path failed."""
    result = translate(opendal_error(name), PATH)
    assert type(result) is EXPECTED[name]
    assert not is_opendal(result)
    if isinstance(result, OSError):
        assert result.filename == PATH
        assert result.errno is not None
        assert "something failed" in result.strerror
    else:
        assert PATH in str(result)
        assert "something failed" in str(result)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("NotFound", errno.ENOENT),
        ("AlreadyExists", errno.EEXIST),
        ("IsADirectory", errno.EISDIR),
        ("NotADirectory", errno.ENOTDIR),
        ("PermissionDenied", errno.EACCES),
    ],
)
def test_translate_sets_the_matching_errno(name, code):
    """Code that checks ``exc.errno`` rather than the type sees the usual numbers."""
    assert translate(opendal_error(name), PATH).errno == code


def test_condition_not_match_is_file_exists_only_when_creating():
    """A failed if-not-exists write means the file exists; other failed conditions do not."""
    exc = opendal_error("ConditionNotMatch")
    created = translate(exc, PATH, creating=True)
    assert type(created) is FileExistsError
    assert created.filename == PATH
    assert created.errno == errno.EEXIST
    other = translate(exc, PATH)
    assert type(other) is OSError
    assert other.filename == PATH


def test_creating_changes_nothing_else():
    """``creating`` is about failed conditions only: a NotFound stays a NotFound."""
    assert type(translate(opendal_error("NotFound"), PATH, creating=True)) is FileNotFoundError


@pytest.mark.parametrize(
    "message",
    [
        "Unexpected (temporary) at read => operation timeout reached",
        "Unexpected (persistent) at stat, context: { timeout: 0.5s } => io timeout reached",
    ],
)
def test_timeout_reached_is_timeout_error(message):
    """OpenDAL's TimeoutLayer reports an Unexpected error; callers expect TimeoutError."""
    result = translate(odx.Unexpected(message), PATH)
    assert isinstance(result, TimeoutError)
    # Not exactly TimeoutError: asyncio rebuilds that class across threads and drops the path.
    assert type(result) is not TimeoutError
    assert result.filename == PATH
    assert result.errno == errno.ETIMEDOUT


@pytest.mark.parametrize("driver", DRIVERS)
def test_bare_oserror_from_opendal_files_is_translated(driver):
    """OpenDAL's file objects raise a plain OSError whose text starts with the kind."""
    exc = OSError(
        "NotFound (permanent) at read, context: { service: memory, path: x, range: 0- } "
        "=> entity not found"
    )
    assert error_kind(exc) == "NotFound"
    result = translate(exc, PATH)
    assert type(result) is FileNotFoundError
    assert result.filename == PATH
    reader = Reader(raising_backend(exc), PATH, Raises(exc), blocking=driver == "blocking")
    with pytest.raises(FileNotFoundError) as info:
        run(reader.read(10), driver)
    assert info.value.filename == PATH
    assert info.value.__cause__ is exc


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.ENOSPC, "No space left on device", "/tmp/x"),
        OSError("disk on fire"),
        FileNotFoundError(errno.ENOENT, "gone", "other"),
        KeyError("k"),
    ],
    ids=["oserror-with-errno", "oserror-text", "already-builtin", "not-an-oserror"],
)
def test_unrelated_errors_pass_through_unchanged(exc, driver):
    """Only OpenDAL's errors are translated; anything else keeps its identity."""
    assert error_kind(exc) is None
    with pytest.raises(type(exc)) as info:
        run(raising_backend(exc).stat(PATH), driver)
    assert info.value is exc


# -- the backend: chaining, creating --------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_backend_chains_the_original(name, driver):
    """The OpenDAL exception stays reachable as ``__cause__`` for debugging."""
    original = opendal_error(name)
    with pytest.raises(EXPECTED[name]) as info:
        run(raising_backend(original).stat(PATH), driver)
    assert info.value.__cause__ is original
    assert not is_opendal(info.value)
    if isinstance(info.value, OSError):
        assert info.value.filename == PATH


@pytest.mark.parametrize("driver", DRIVERS)
def test_backend_passes_creating_on(driver):
    """How writes with mode='create' get FileExistsError: a failed condition on a create."""
    backend = raising_backend(opendal_error("ConditionNotMatch"))
    with pytest.raises(FileExistsError):
        run(backend.write(PATH, b"x", creating=True), driver)
    with pytest.raises(OSError) as info:
        run(backend.write(PATH, b"x"), driver)
    assert info.value.errno == errno.ESTALE


# -- summary() -------------------------------------------------------------------

MULTILINE = (
    "NotFound (permanent) at read => entity not found\n"
    "\n"
    "Context:\n"
    "   service: fs\n"
    "   path: missing\n"
    "   range: 0-\n"
    "\n"
    "Source:\n"
    "   No such file or directory (os error 2)\n"
    "\n"
    "Backtrace:\n"
    "   0: std::backtrace_rs::backtrace::libunwind::trace\n"
    "   1: opendal::types::error::Error::new\n"
)


def test_summary_keeps_first_line_and_source():
    """Users need what failed and why, in one line, without a Rust backtrace."""
    text = summary(odx.NotFound(MULTILINE))
    assert text == (
        "NotFound (permanent) at read => entity not found (No such file or directory (os error 2))"
    )
    assert "\n" not in text


def test_summary_without_source_is_the_first_line():
    assert summary(
        odx.Unexpected("Unexpected (permanent) at list => boom\n\nContext:\n  x: y\n")
    ) == ("Unexpected (permanent) at list => boom")


def test_summary_of_a_real_backtrace(tmp_path):
    """With RUST_BACKTRACE=1 OpenDAL appends a long backtrace; the summary drops it."""
    code = textwrap.dedent(
        f"""
        import opendal
        from opendalfs.errors import summary
        op = opendal.Operator("fs", root={str(tmp_path)!r})
        op.write("file", b"x")
        try:
            op.stat("file/child")
        except Exception as exc:
            assert "Backtrace:" in str(exc), str(exc)
            print(summary(exc))
        """
    )
    env = {**os.environ, "RUST_BACKTRACE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout.strip()
    assert text.startswith("Unexpected"), text
    assert "(os error 20)" in text
    assert "Backtrace" not in text
    assert "\n" not in text


# -- real triggers on memory and fs ----------------------------------------------


def test_cat_missing_is_file_not_found(fs, root):
    with pytest.raises(FileNotFoundError) as info:
        fs.cat_file(f"{root}/missing")
    assert info.value.filename == f"{root}/missing"
    # OpenDAL's error is kept as the cause: its exception, or its file object's OSError
    assert any(error_kind(e) == "NotFound" for e in chain(info.value)[1:])


def test_pipe_create_on_existing_is_file_exists(fs, root):
    fs.pipe_file(f"{root}/file", b"old")
    with pytest.raises(FileExistsError):
        fs.pipe_file(f"{root}/file", b"new", mode="create")
    assert fs.cat_file(f"{root}/file") == b"old"


def test_open_xb_losing_a_race_is_file_exists(fs, root):
    """A file created by someone else while an 'xb' file is open fails at close."""
    f = fs.open(f"{root}/file", "xb")
    f.write(b"mine")
    fs.pipe_file(f"{root}/file", b"theirs")
    with pytest.raises(FileExistsError):
        f.close()
    assert fs.cat_file(f"{root}/file") == b"theirs"


def test_read_after_delete_is_file_not_found(fs, root):
    """OpenDAL's file-level errors (bare OSErrors) are translated too."""
    fs.pipe_file(f"{root}/file", b"abc")
    # Its size given, the open fetches nothing (else it may read the file whole).
    f = fs.open(f"{root}/file", "rb", cache_type="none", size=3)
    fs.rm(f"{root}/file")
    with pytest.raises(FileNotFoundError):
        f.read()


@pytest.mark.own_services
@pytest.mark.parametrize("service", ["fs"], indirect=True)
def test_write_below_a_file_is_an_oserror(fs, root):
    """On a real filesystem a file cannot have children; the error is a builtin one."""
    fs.pipe_file(f"{root}/file", b"x")
    with pytest.raises(OSError) as info:
        fs.pipe_file(f"{root}/file/child", b"y")
    assert not is_opendal(info.value)
    assert info.value.filename == f"{root}/file/child"


@pytest.mark.own_services
@pytest.mark.parametrize("service", ["fs"], indirect=True)
def test_path_below_a_file_does_not_exist(fs, root):
    """``a/file/child`` does not exist when ``a/file`` is a file: exists() is False.

    os.path.exists and fsspec's local filesystem say False; the OS reports ENOTDIR.
    """
    fs.pipe_file(f"{root}/file", b"x")
    assert fs.exists(f"{root}/file/child") is False
    with pytest.raises((FileNotFoundError, NotADirectoryError)):
        fs.info(f"{root}/file/child")
    with pytest.raises((FileNotFoundError, NotADirectoryError)):
        fs.cat_file(f"{root}/file/child")


def test_open_directory_is_a_directory(fs, root):
    fs.mkdir(f"{root}/dir")
    with pytest.raises(IsADirectoryError):
        fs.open(f"{root}/dir", "rb")


def test_cat_directory_is_a_directory(fs, root):
    """Reading a directory's bytes fails the same way as opening it does."""
    fs.mkdir(f"{root}/dir")
    with pytest.raises(IsADirectoryError):
        fs.cat_file(f"{root}/dir")


@pytest.mark.own_services
@pytest.mark.parametrize("service", ["fs"], indirect=True)
def test_write_onto_directory_is_a_directory(fs, root):
    """On fs, writing where a directory is fails with EISDIR; the type should say so."""
    fs.mkdir(f"{root}/dir")
    with pytest.raises(IsADirectoryError):
        fs.pipe_file(f"{root}/dir", b"x")


def test_rmdir_of_a_file_is_not_a_directory(fs, root):
    fs.pipe_file(f"{root}/file", b"x")
    with pytest.raises(NotADirectoryError):
        fs.rmdir(f"{root}/file")
    assert fs.exists(f"{root}/file")


def test_rmdir_of_non_empty_directory_is_enotempty(fs, root):
    fs.pipe_file(f"{root}/full/x", b"x")
    with pytest.raises(OSError) as info:
        fs.rmdir(f"{root}/full")
    assert info.value.errno == errno.ENOTEMPTY
    assert fs.cat_file(f"{root}/full/x") == b"x"


def test_rm_file_of_a_directory_is_a_directory(fs, root):
    fs.mkdir(f"{root}/dir")
    with pytest.raises(IsADirectoryError):
        fs.rm_file(f"{root}/dir")
    assert fs.isdir(f"{root}/dir")


def test_rm_of_missing_is_file_not_found(fs, root):
    with pytest.raises(FileNotFoundError):
        fs.rm(f"{root}/missing")


def test_sign_on_memory_is_not_implemented():
    fs = OpendalFileSystem("memory")
    fs.pipe_file("sign-test/file", b"x")
    try:
        with pytest.raises(NotImplementedError):
            fs.sign("sign-test/file")
    finally:
        fs.rm("sign-test", recursive=True)


def test_mkdir_of_existing_is_file_exists(fs, root):
    fs.mkdir(f"{root}/dir")
    with pytest.raises(FileExistsError):
        fs.mkdir(f"{root}/dir")


def test_invalid_config_is_value_error():
    """S3 without a region fails while building the operator: OpenDAL's ConfigInvalid."""
    with pytest.raises(ValueError, match="region") as info:
        OpendalFileSystem("s3", bucket="b", disable_config_load=True)
    assert isinstance(info.value.__cause__, odx.ConfigInvalid)


def bad_calls(fs: OpendalFileSystem, root: str, service) -> dict[str, object]:
    calls = {
        "cat missing": lambda: fs.cat_file(f"{root}/missing"),
        "cat range missing": lambda: fs.cat_file(f"{root}/missing", 1, 5),
        "cat negative missing": lambda: fs.cat_file(f"{root}/missing", -2),
        "info missing": lambda: fs.info(f"{root}/missing"),
        "ls missing": lambda: fs.ls(f"{root}/missing"),
        "open missing": lambda: fs.open(f"{root}/missing", "rb"),
        "open xb existing": lambda: fs.open(f"{root}/file", "xb"),
        "pipe create existing": lambda: fs.pipe_file(f"{root}/file", b"y", mode="create"),
        "cp missing": lambda: fs.cp_file(f"{root}/missing", f"{root}/copy"),
        "mv missing": lambda: fs.mv(f"{root}/missing", f"{root}/moved"),
        "get missing": lambda: fs.get_file(f"{root}/missing", "/nonexistent-dir/x"),
        "rm missing": lambda: fs.rm(f"{root}/missing"),
        "rm_file missing": lambda: fs.rm_file(f"{root}/missing"),
        "rmdir missing": lambda: fs.rmdir(f"{root}/missing"),
        "rmdir file": lambda: fs.rmdir(f"{root}/file"),
        "rmdir full": lambda: fs.rmdir(f"{root}/dir"),
        "mkdir existing": lambda: fs.mkdir(f"{root}/dir"),
        "modified missing": lambda: fs.modified(f"{root}/missing"),
        "ukey missing": lambda: fs.ukey(f"{root}/missing"),
        "open dir": lambda: fs.open(f"{root}/dir", "rb"),
        "escape root": lambda: fs.cat_file(f"{root}/../../x"),
    }
    if not service.presigns:
        calls["sign"] = lambda: fs.sign(f"{root}/file")
    if not service.object_store:
        calls.update(
            {
                "write below file": lambda: fs.pipe_file(f"{root}/file/child", b"x"),
                "open wb below file": lambda: fs.open(f"{root}/file/child", "wb").close(),
                "cat below file": lambda: fs.cat_file(f"{root}/file/child"),
                "mkdir below file": lambda: fs.mkdir(f"{root}/file/child"),
                "write onto dir": lambda: fs.pipe_file(f"{root}/dir", b"x"),
            }
        )
    return calls


def test_no_opendal_exception_reaches_the_user(fs, root, service):
    """A sweep of failing calls: every one raises, and none raises OpenDAL's own type."""
    fs.pipe_file(f"{root}/file", b"x")
    fs.pipe_file(f"{root}/dir/x", b"x")
    leaked = {}
    silent = []
    for label, call in bad_calls(fs, root, service).items():
        try:
            call()
        except Exception as exc:
            if is_opendal(exc):
                leaked[label] = type(exc)
        else:
            silent.append(label)
    assert not leaked
    assert not silent


async def test_a_call_that_never_answers_ends_at_the_asyncio_deadline():
    """The asyncio-side deadline (opendalfs/_guard.py) ends a wait that OpenDAL never ends."""
    never = asyncio.get_running_loop().create_future()  # stands for a lost OpenDAL result
    with pytest.raises(OperationTimeout, match=r"no answer within 0\.05 s") as caught:
        await bounded(never, 0.05, "read bucket/key")
    assert caught.value.filename == "read bucket/key"
    assert never.cancelled()  # cancelling drops the Rust future


async def test_the_deadline_leaves_answers_and_other_cancellations_alone():
    loop = asyncio.get_running_loop()
    answered = loop.create_future()
    loop.call_soon(answered.set_result, b"data")
    assert await bounded(answered, 5, "read k") == b"data"
    cancelled = loop.create_future()
    loop.call_soon(cancelled.cancel)
    with pytest.raises(asyncio.CancelledError):
        await bounded(cancelled, 5, "read k")


class _NeverAnswers:
    """An async OpenDAL face whose every call returns a future that never completes."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: asyncio.get_running_loop().create_future()


async def test_every_operator_call_carries_the_deadline():
    real = OpendalFileSystem("fs", root="/", timeout=7)._backend("")
    assert real.deadline == 7 + GRACE
    assert OpendalFileSystem("fs", root="/", timeout=None)._backend("").deadline is None
    # Awaited, as on every network service (fs makes its metadata calls in the loop,
    # and lists in a worker thread: the test below).
    awaited = dataclasses.replace(real.caps, inline_metadata=False, blocking_lists=False)
    never = Backend(_NeverAnswers(), awaited, scheme="fs", deadline=0.05)
    calls = {
        "stat": never.stat("k"),
        "read": never.read("k", 0, None),
        "write": never.write("k", b"x"),
        "delete": never.delete("k"),
        "create_dir": never.create_dir("d"),
        "copy": never.copy("k", "k2"),
        "rename": never.rename("k", "k2"),
        "presign_read": never.presign_read("k", 60),
        "list": never.list("d"),
        "open_reader": never.open_reader("k"),
        "open_writer": never.open_writer("k"),
    }
    for what, call in calls.items():
        with pytest.raises(OperationTimeout, match=r"no answer within 0\.05 s") as caught:
            await asyncio.wait_for(call, 5)
        assert caught.value.filename.endswith((" k", " d")), what


class _ListsForever:
    """A blocking face whose lister waits until it is let go."""

    def __init__(self) -> None:
        self.go = threading.Event()

    def list(self, path: str, **options: Any) -> Any:
        self.go.wait(30)
        return iter(())


async def test_a_listing_in_a_worker_thread_carries_the_deadline():
    """fs lists in a worker thread when awaited; a listing that never ends there still
    ends for the caller at the deadline (the thread is left to finish)."""
    real = OpendalFileSystem("fs", root="/")._backend("")
    face = _ListsForever()
    stuck = Backend(real.op, real.caps, scheme="fs", deadline=0.05, blocking_face=face)
    try:
        with pytest.raises(OperationTimeout, match=r"no answer within 0\.05 s") as caught:
            await asyncio.wait_for(stuck.list("d"), 5)
        assert caught.value.filename == "list d"
    finally:
        face.go.set()


def test_a_busy_answer_without_a_body_is_ebusy():
    """A HEAD has no error body: only the status in OpenDAL's context says 503."""
    exc = odx.Unexpected(
        "Unexpected (temporary) at stat\n\nContext:\n   service_operation: HeadObject\n"
        "   response: Parts { status: 503, version: HTTP/1.1, headers: {} }\n   path: k\n"
    )
    busy = translate(exc, "bucket/k")
    assert type(busy) is OSError
    assert busy.errno == errno.EBUSY
    assert "HTTP 503" in str(busy)
    assert busy.filename == "bucket/k"


def test_a_lost_connection_is_a_connection_error():
    exc = odx.Unexpected(
        "Unexpected (temporary) at write, context: { url: http://h/b/k } => send http "
        "request, source: connection closed before message completed"
    )
    lost = translate(exc, "b/k")
    assert isinstance(lost, ConnectionError)
    assert lost.filename == "b/k"
