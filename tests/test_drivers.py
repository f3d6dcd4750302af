"""The two drivers of the sync API, and the rules the blocking one keeps.

The blocking driver runs an operation's coroutine in the caller's thread against
OpenDAL's blocking operator. These tests check its rules: a driven coroutine
never suspends (and if it did, the call fails loudly), driven calls make no trip
to fsspec's IO loop, no blocking call holds the GIL while it waits on a network,
and the blocking operator is built lazily, so that a fork before first use is fine.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from opendalfs import OpendalFileSystem, _sync
from opendalfs import file as file_module
from opendalfs._sync import SuspendedError, drive


def test_a_driven_coroutine_that_suspends_is_an_error():
    async def suspends() -> str:
        await asyncio.sleep(0)
        return "never"

    coro = suspends()
    with pytest.raises(SuspendedError, match="suspends"):
        drive(coro)
    assert coro.cr_frame is None  # closed, not left pending


def test_a_driven_coroutine_returns_and_raises_as_awaited():
    async def answers(value: Any) -> Any:
        if isinstance(value, BaseException):
            raise value
        return value

    assert drive(answers(42)) == 42
    with pytest.raises(FileNotFoundError, match="gone"):
        drive(answers(FileNotFoundError("gone")))


def test_a_sync_call_whose_coroutine_would_suspend_fails_loudly(monkeypatch):
    """No silent fallback to the loop: the bug shows as SuspendedError."""
    fs = OpendalFileSystem("memory", skip_instance_cache=True)
    fs.pipe_file("drivers/suspend", b"x")
    fs.invalidate_cache()

    async def suspending_stat(*args: Any, **kwargs: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {}

    monkeypatch.setattr(fs, "_stat", suspending_stat)
    with pytest.raises(SuspendedError):
        fs.info("drivers/suspend")


def test_driving_from_the_io_loop_is_refused():
    fs = OpendalFileSystem("memory", skip_instance_cache=True)

    async def from_the_loop() -> Any:
        return fs.info("anything")

    with pytest.raises(NotImplementedError, match="IO loop"):
        _sync.run_blocking(fs.loop, from_the_loop())


@pytest.fixture
def no_loop_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every trip to fsspec's IO loop fail the test (and record it)."""
    trips: list[str] = []

    def refuse(loop: Any, coro: Any) -> Any:
        trips.append(getattr(coro, "__qualname__", repr(coro)))
        coro.close()
        raise AssertionError(f"a driven call went to the IO loop: {trips[-1]}")

    monkeypatch.setattr(_sync, "run_blocking", refuse)
    monkeypatch.setattr(file_module, "run_blocking", refuse)
    return trips


@pytest.mark.own_services
@pytest.mark.parametrize("service", ["memory", "fs"], indirect=True)
def test_driven_calls_make_no_trip_to_the_io_loop(service, fs, root, no_loop_trips):
    """Every operation the blocking driver runs, on services whose listings may block."""
    assert fs.sync_driver == "blocking"
    fs.pipe_file(f"{root}/a.txt", b"0123456789")
    assert fs.cat_file(f"{root}/a.txt", start=2, end=5) == b"234"
    assert fs.info(f"{root}/a.txt")["size"] == 10
    assert fs.size(f"{root}/a.txt") == 10
    assert fs.exists(f"{root}/a.txt")
    assert not fs.exists(f"{root}/missing")
    assert fs.isfile(f"{root}/a.txt")
    assert not fs.isdir(f"{root}/a.txt")
    fs.makedirs(f"{root}/d/e", exist_ok=True)
    fs.mkdir(f"{root}/m")
    fs.touch(f"{root}/d/e/t")
    with fs.open(f"{root}/d/w.bin", "wb", block_size=5) as f:
        f.write(b"hello ")
        f.write(b"world")
    with fs.open(f"{root}/d/w.bin", "rb", block_size=4) as f:
        assert f.read(3) == b"hel"
        f.seek(6)
        assert f.read() == b"world"
    assert fs.ls(root, detail=False) == sorted(fs.ls(root, detail=False, refresh=True))
    assert f"{root}/d/e/t" in fs.find(root)
    assert fs.glob(f"{root}/d/*.bin") == [f"{root}/d/w.bin"]
    assert fs.du(root) == 21
    assert fs.ukey(f"{root}/a.txt")
    if service.mtime:
        assert fs.modified(f"{root}/a.txt")
    fs.rm_file(f"{root}/d/w.bin")
    fs.rmdir(f"{root}/m")
    assert no_loop_trips == []


@pytest.mark.own_services
@pytest.mark.parametrize("service", ["s3"], indirect=True)
def test_on_a_network_service_only_listings_go_to_the_loop(service, fs, root, monkeypatch):
    """Stats, reads, writes, deletes and files are blocking calls; listings take the loop."""
    trips: list[str] = []
    real = _sync.run_blocking

    def counted(loop: Any, coro: Any) -> Any:
        trips.append(coro.__qualname__)
        return real(loop, coro)

    monkeypatch.setattr(_sync, "run_blocking", counted)
    monkeypatch.setattr(file_module, "run_blocking", counted)
    fs.pipe_file(f"{root}/a", b"abc")
    assert fs.info(f"{root}/a")["size"] == 3
    assert fs.cat_file(f"{root}/a", start=1) == b"bc"
    with fs.open(f"{root}/b", "wb") as f:
        f.write(b"bytes")
    with fs.open(f"{root}/b", "rb") as f:
        assert f.read() == b"bytes"
    fs.rm_file(f"{root}/b")
    assert trips == []
    assert fs.ls(root, detail=False, refresh=True) == [f"{root}/a"]
    assert trips == ["Backend._list_async"]


# -- the GIL: no blocking call may hold it while it waits on a network -------------


@pytest.fixture
def webdav_in_this_process() -> Iterator[str]:
    """A WebDAV server on threads of this interpreter: it answers only while the
    caller's thread lets go of the GIL."""
    try:
        from cheroot import wsgi
        from wsgidav.wsgidav_app import WsgiDAVApp
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"wsgidav/cheroot missing under CI: {exc}", pytrace=False)
        pytest.skip(f"wsgidav/cheroot not installed: {exc}")
    with tempfile.TemporaryDirectory() as root:
        app = WsgiDAVApp(
            {
                "provider_mapping": {"/": root},
                "http_authenticator": {"domain_controller": None},
                "simple_dc": {"user_mapping": {"*": True}},
                "verbose": 0,
                "logging": {"enable": False},
            }
        )
        server = wsgi.Server(("127.0.0.1", 0), app, numthreads=4)
        server.prepare()
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.bind_addr[1]}"
        finally:
            server.stop()
            thread.join(10)


#: Seconds a call may wait: a call that held the GIL would time out at this.
GIL_TIMEOUT = 3


def test_the_sync_api_serves_a_server_in_the_same_interpreter(webdav_in_this_process):
    fs = OpendalFileSystem(
        "webdav", endpoint=webdav_in_this_process, timeout=GIL_TIMEOUT, skip_instance_cache=True
    )
    assert fs.sync_driver == "blocking"
    fs.pipe_file("gil/a.txt", b"alpha")
    fs.makedirs("gil/sub", exist_ok=True)
    with fs.open("gil/sub/b.txt", "wb") as f:
        f.write(b"beta")
    assert fs.cat_file("gil/a.txt") == b"alpha"
    assert fs.info("gil/sub/b.txt")["size"] == 4
    with fs.open("gil/sub/b.txt", "rb") as f:
        assert f.read() == b"beta"
    assert fs.exists("gil/a.txt")
    assert fs.ls("gil", detail=False, refresh=True) == ["gil/a.txt", "gil/sub"]
    assert fs.find("gil") == ["gil/a.txt", "gil/sub/b.txt"]
    fs.cp_file("gil/a.txt", "gil/c.txt")
    fs.rm_file("gil/a.txt")
    fs.rm("gil", recursive=True)
    assert not fs.exists("gil")


def test_a_blocking_listing_there_would_hold_the_gil(webdav_in_this_process, monkeypatch):
    """What the test above guards against: the blocking lister starves the server."""
    fs = OpendalFileSystem(
        "webdav", endpoint=webdav_in_this_process, timeout=GIL_TIMEOUT, skip_instance_cache=True
    )
    fs.pipe_file("held/a.txt", b"alpha")
    real = fs._backend("")
    broken = real.wrapped(lambda op: op)
    broken.caps = replace(real.caps, blocking_lists=True)
    monkeypatch.setattr(fs, "_backend", lambda container: broken)
    with pytest.raises(TimeoutError):
        fs.ls("held", refresh=True)


# -- forks, and which services drive their sync API blocking -----------------------

_FORK_AFTER_CONSTRUCTION = """
import multiprocessing, sys
from opendalfs import OpendalFileSystem

fs = OpendalFileSystem("fs", root=sys.argv[1])
assert fs._backend("")._blocking_face is None, "the blocking face was built eagerly"

def child():
    fs.pipe_file("from-child", b"child wrote this")
    print(fs.cat_file("from-child").decode(), flush=True)

process = multiprocessing.get_context("fork").Process(target=child)
process.start()
process.join(60)
assert process.exitcode == 0, process.exitcode
print(fs.cat_file("from-child").decode())
"""


def test_an_instance_only_constructed_before_a_fork_works_in_the_child(tmp_path):
    script = textwrap.dedent(_FORK_AFTER_CONSTRUCTION)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["child wrote this", "child wrote this"]


@pytest.mark.any_service
def test_the_profiles_say_which_services_drive_their_sync_api_blocking(service):
    fs = service.filesystem()
    assert fs.sync_driver == (
        (service.sync_driver or "blocking") if service.blocking_sync else "loop"
    )


#: The calls that INLINE_METADATA lets an awaited call make on the blocking face.
METADATA_CALLS = frozenset({"stat", "delete", "create_dir", "rename"})


def in_event_loop() -> bool:
    """Whether this thread is running an event loop (a worker thread is not)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def is_metadata(name: str, kwargs: dict[str, Any]) -> bool:
    return name in METADATA_CALLS and not kwargs.get("recursive")


class Guarded:
    """An operator face that fails the test on any call ``allows`` refuses."""

    def __init__(self, face: str, real: Any, allows: Callable[[str, dict[str, Any]], bool]):
        self.face = face
        self.real = real
        self.allows = allows

    def __getattr__(self, name: str) -> Any:
        def called(*args: Any, **kwargs: Any) -> Any:
            if not self.allows(name, kwargs):
                pytest.fail(f"{name}() called on the {self.face} face")
            return getattr(self.real, name)(*args, **kwargs)

        return called


@pytest.mark.any_service
def test_awaited_calls_block_only_where_nothing_can_wait(service, root):
    """On a service that waits on a network, the async API never calls the blocking
    operator (it would stall the event loop); on in-process ones it calls nothing else;
    on fs only its metadata calls go there in the loop's thread, each one local system
    call, and its listings in a worker thread."""
    fs = service.filesystem(asynchronous=True, skip_instance_cache=True)
    backend = fs._backend(service.container)
    real = {"async": backend.op, "blocking": backend.blocking_face()}
    faces: dict[str, Any] = {
        "async": Guarded("async", real["async"], lambda name, kw: not service.in_process),
        "blocking": Guarded("blocking", real["blocking"], lambda name, kw: service.in_process),
    }
    if service.inline_metadata:  # metadata calls inline, everything else awaited
        faces["async"].allows = lambda name, kw: not is_metadata(name, kw)
        faces["blocking"].allows = is_metadata
    if service.thread_lists:  # listings off the loop, through the blocking lister
        inline, awaited = faces["blocking"].allows, faces["async"].allows
        faces["blocking"].allows = lambda name, kw: (
            inline(name, kw) or (name == "list" and not in_event_loop())
        )
        faces["async"].allows = lambda name, kw: name != "list" and awaited(name, kw)
    guarded = backend.wrapped(lambda op: faces["async" if op is real["async"] else "blocking"])
    fs._backend = lambda container: guarded  # type: ignore[method-assign]
    path = f"{root}/f"

    async def work() -> None:
        await fs._pipe_file(path, b"abcdef")
        assert await fs._cat_file(path, start=1, end=3) == b"bc"
        assert (await fs._info(path))["size"] == 6
        f = await fs.open_async(path, "rb")
        f.seek(2)
        assert await f.read(2) == b"cd"
        await f.close()
        f = await fs.open_async(f"{root}/g", "wb")
        await f.write(b"written")
        await f.close()
        if service.listing:
            assert await fs._find(root) == [path, f"{root}/g"]
        await fs._rm_file(path)
        if service.listing:
            await fs._rm(root, recursive=True)  # a recursive delete is never inline

    asyncio.run(work())


def test_sync_driver_is_checked():
    with pytest.raises(ValueError, match="sync_driver must be"):
        OpendalFileSystem("memory", sync_driver="thread")
    with pytest.raises(ValueError, match="not available on redis"):
        OpendalFileSystem("redis", endpoint="redis://127.0.0.1:1", sync_driver="blocking")
    loop = OpendalFileSystem("memory", sync_driver="loop", skip_instance_cache=True)
    assert loop.sync_driver == "loop"
    assert not loop.drives_sync_calls
    loop.pipe_file("drivers/loop", b"via the loop")
    assert loop.cat_file("drivers/loop") == b"via the loop"


def test_an_awaited_whole_read_on_fs_states_then_reads_that_many_bytes(tmp_path):
    """OpenDAL's own whole read stats in its runtime; awaited on fs the stat is made in
    the loop's thread and the read is sized (half the time for small files)."""
    fs = OpendalFileSystem("fs", root=str(tmp_path), asynchronous=True, skip_instance_cache=True)
    backend = fs._backend("")
    log: list[tuple[str, str, dict[str, Any]]] = []

    def logging(face: str, real: Any) -> Guarded:
        def allows(name: str, kwargs: dict[str, Any]) -> bool:
            log.append((face, name, kwargs))
            return True

        return Guarded(face, real, allows)

    real_async = backend.op
    fs._backend = lambda container: backend.wrapped(  # type: ignore[method-assign]
        lambda op: logging("async" if op is real_async else "blocking", op)
    )

    async def work() -> None:
        await fs._pipe_file("f", b"abcdef")
        await fs._makedirs("d")
        log.clear()
        assert await fs._cat_file("f") == b"abcdef"
        assert await fs._cat_file("f", start=2) == b"cdef"
        with pytest.raises(IsADirectoryError, match="'d'"):
            await fs._cat_file("d")  # the stat says so; nothing is read

    asyncio.run(work())
    reads = [(face, name, kw.get("offset"), kw.get("size")) for face, name, kw in log]
    assert reads == [
        ("blocking", "stat", None, None),
        ("async", "read", None, 6),
        ("blocking", "stat", None, None),
        ("async", "read", 2, 4),
        ("blocking", "stat", None, None),
    ]
