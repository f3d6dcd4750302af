"""Faults between OpenDAL and S3: resets, 503 SlowDown, a stopped server, a silent one.

A :class:`~faultproxy.FaultProxy` sits on loopback between the filesystem and the
moto server, and is switched into a fault mode at run time. Each test checks
what a user sees: a builtin ``OSError`` naming the path (never an OpenDAL
exception, never a hang), no partial object on the server, a listing cache that
still tells the truth, and a filesystem that works again once the fault is gone.
A second filesystem that talks to moto directly is the ground truth.

Where the number of retries is what varies, no server is needed: a socket that
never answers, a port nothing listens on and a tiny HTTP server that always
answers 503 stand in for S3.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

import pytest
from faultproxy import FaultProxy, kind
from helpers import s3_options

from opendalfs import OpendalFileSystem
from opendalfs.errors import OPENDAL_ERRORS, OperationTimeout

#: A stuck call fails the test instead of waiting for the suite's timeout.
pytestmark = pytest.mark.timeout(60)

MiB = 2**20
#: moto's smallest multipart part; BIG is written as parts of 5, 5 and 2 MiB.
PART = 5 * MiB
BIG = random.Random(1).randbytes(12 * MiB)
OLD = random.Random(2).randbytes(MiB + 7)
A = b"alpha bytes"
B = b"bytes of b"
NEW = b"new bytes"
#: Seconds for the ``timeout`` option where a test waits for it.
TIMEOUT = 2.0
#: Slack for thread scheduling on a loaded machine, on top of a bound in seconds.
MARGIN = 1.5
#: A call that should end within a second may take this long before the test calls it a hang.
HANG_GUARD = 30.0


@pytest.fixture(scope="module")
def s3(servers: Any, pytestconfig: pytest.Config) -> Any:
    """The S3 server; these tests need no other service."""
    chosen = pytestconfig.getoption("--service")
    if chosen and "s3" not in chosen:
        pytest.skip("the fault tests run on s3 only, and --service leaves it out")
    running = servers("s3")
    if urlparse(running.options["endpoint"]).scheme != "http":
        pytest.skip("the fault proxy speaks plain HTTP only")
    return running


@dataclass
class Rig:
    """A proxy in front of S3, a test directory, and the truth about it."""

    proxy: FaultProxy
    options: dict[str, str]
    direct: OpendalFileSystem
    dir: str
    #: "blocking" or "loop" (the sync API's driver), or "async" (the async API).
    api: str

    def fs(self, **kwargs: Any) -> Any:
        """A fresh filesystem whose every request goes through the proxy, used through
        the API under test (the async one behind the same method names)."""
        options = {**self.options, "endpoint": self.proxy.url}
        if self.api == "async":
            return AsyncAPI(options, kwargs)
        return OpendalFileSystem(
            "s3", skip_instance_cache=True, sync_driver=self.api, **options, **kwargs
        )

    def path(self, name: str) -> str:
        return f"{self.dir}/{name}"


class AsyncAPI:
    """An ``asynchronous=True`` filesystem whose ``fs.name(...)`` awaits ``fs._name(...)``
    on a loop of its own, and whose ``open`` is ``open_async``: the fault tests'
    calls, made through the async API."""

    def __init__(self, options: dict[str, str], kwargs: dict[str, Any]) -> None:
        self._loop = asyncio.new_event_loop()
        self._fs = self._loop.run_until_complete(self._make(options, kwargs))

    @staticmethod
    async def _make(options: dict[str, str], kwargs: dict[str, Any]) -> OpendalFileSystem:
        return OpendalFileSystem(
            "s3", skip_instance_cache=True, asynchronous=True, **options, **kwargs
        )

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._fs, f"_{name}", None)
        if method is None or not inspect.iscoroutinefunction(method):
            return getattr(self._fs, name)  # attributes and plain methods, as they are
        return lambda *args, **kwargs: self._loop.run_until_complete(method(*args, **kwargs))

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> AsyncFileInSync:
        opening = self._fs.open_async(path, mode, **kwargs)
        return AsyncFileInSync(self._loop, self._loop.run_until_complete(opening))


class AsyncFileInSync:
    """An async file driven from a test's sync code, one call at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, file: Any) -> None:
        self._loop = loop
        self._file = file

    def read(self, size: int = -1) -> bytes:
        return self._loop.run_until_complete(self._file.read(size))

    def write(self, data: bytes) -> int:
        return self._loop.run_until_complete(self._file.write(data))

    def __enter__(self) -> AsyncFileInSync:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.run_until_complete(self._file.__aexit__(*exc))


@pytest.fixture(params=["blocking", "loop", "async"])
def rig(s3: Any, request: pytest.FixtureRequest) -> Iterator[Rig]:
    endpoint = urlparse(s3.options["endpoint"])
    proxy = FaultProxy((endpoint.hostname, endpoint.port))
    direct = OpendalFileSystem("s3", **s3.options)
    where = f"{s3.container}/faults-{uuid.uuid4().hex[:12]}"
    rig = Rig(proxy, dict(s3.options), direct, where, request.param)
    yield rig
    proxy.close()
    if direct.exists(rig.dir):
        direct.rm(rig.dir, recursive=True)
    assert proxy.errors == []


def listing(fs: OpendalFileSystem, path: str, refresh: bool = False) -> dict[str, Any]:
    """``{name: size}`` of what ``ls`` shows (``"dir"`` for directories)."""
    infos = fs.ls(path, detail=True, refresh=refresh)
    return {i["name"].rsplit("/", 1)[1]: i["size"] if i["type"] == "file" else "dir" for i in infos}


def assert_listed(rig: Rig, fs: OpendalFileSystem, expected: dict[str, Any]) -> None:
    """The server holds ``expected``, and ``fs`` (maybe from its cache) says so too."""
    assert listing(rig.direct, rig.dir, refresh=True) == expected
    assert listing(fs, rig.dir) == expected


def seed(rig: Rig, fs: OpendalFileSystem) -> dict[str, Any]:
    """Write ``a`` and ``sub/b`` through ``fs`` and list the test directory into its cache.

    Returns that listing. ``sub`` stays unlisted, so a stat of ``sub/b`` asks the server.
    """
    fs.pipe_file(rig.path("a"), A)
    fs.pipe_file(rig.path("sub/b"), B)
    expected = {"a": len(A), "sub": "dir"}
    assert listing(fs, rig.dir) == expected
    return expected


def write_in_parts(fs: OpendalFileSystem, path: str, data: bytes) -> None:
    with fs.open(path, "wb", write_chunk=PART) as f:
        f.write(data)


def read_through_file(fs: OpendalFileSystem, path: str) -> bytes:
    """Read with a file object (opened from the cached listing, so only the read asks)."""
    with fs.open(path, "rb") as f:
        return f.read()


@dataclass(frozen=True)
class Call:
    """One filesystem call on the seeded directory: the path it names, and its result."""

    path: str
    run: Callable[[], Any]
    result: Any
    #: What the call adds to the directory when it succeeds.
    adds: dict[str, Any]


def calls(rig: Rig, fs: OpendalFileSystem) -> dict[str, Call]:
    """Calls of each kind, on paths :func:`seed` made (or new ones for writes)."""
    a, b, d = rig.path("a"), rig.path("sub/b"), rig.dir
    new, big = rig.path("new"), rig.path("big")
    return {
        "cat_file": Call(a, lambda: fs.cat_file(a), A, {}),
        "file_read": Call(a, lambda: read_through_file(fs, a), A, {}),
        "info": Call(b, lambda: fs.info(b)["size"], len(B), {}),
        # The filesystem remembers that its own write made ``b``: forget it, to ask.
        "exists": Call(b, lambda: fs.invalidate_cache(b) or fs.exists(b), True, {}),
        "ls": Call(d, lambda: fs.ls(d, detail=False, refresh=True), [a, rig.path("sub")], {}),
        "pipe_file": Call(new, lambda: fs.pipe_file(new, NEW), None, {"new": len(NEW)}),
        "file_write_in_parts": Call(
            big, lambda: write_in_parts(fs, big, BIG), None, {"big": len(BIG)}
        ),
    }


def assert_names_path(exc: BaseException, path: str) -> None:
    """A builtin ``OSError`` that names ``path``, not an OpenDAL exception."""
    assert isinstance(exc, OSError), repr(exc)
    assert not isinstance(exc, OPENDAL_ERRORS), repr(exc)
    assert exc.filename == path, repr(exc)


def assert_connection_failure(exc: BaseException, path: str) -> None:
    """A ``ConnectionError`` naming ``path`` that says the request could not be sent.

    The same reset surfaces as ECONNRESET, EPIPE or (hyper's "connection closed
    before message completed", no errno) ECONNABORTED, by timing.
    """
    assert_names_path(exc, path)
    assert isinstance(exc, ConnectionError), repr(exc)
    assert "send http request" in str(exc), repr(exc)


# -- stand-ins for a failing server, without moto ------------------------------------


def raised_by(call: Callable[[], Any], guard: float = HANG_GUARD) -> BaseException | None:
    """Run ``call`` in a thread; its exception (None if it returned). Fails on a hang."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(guard)
    if thread.is_alive():
        pytest.fail(f"the call did not return within {guard} s")
    return outcome[0]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers them."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return  # the server socket was closed
            held.append(conn)  # keep it open, say nothing

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    for conn in held:
        conn.close()


class Busy(BaseHTTPRequestHandler):
    """Answers every request with S3's 503 SlowDown, and counts the requests."""

    protocol_version = "HTTP/1.1"
    requests: list[str]

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.requests.append(f"{self.command} {self.path}")
        body = b"<Error><Code>SlowDown</Code><Message>slow down</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = do_DELETE = _reply

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def busy_server() -> Iterator[tuple[int, list[str]]]:
    """(port, requests seen) of an HTTP server that is always busy."""
    requests: list[str] = []
    handler = type("CountingBusy", (Busy,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], requests
    server.shutdown()
    server.server_close()


# -- 1. a connection reset in the middle of a multipart upload ----------------------


@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_reset_mid_multipart_upload_fails_and_leaves_no_partial_object(rig, existing):
    fs = rig.fs()
    target = rig.path("big")
    before = {"keep": 4}
    fs.pipe_file(rig.path("keep"), b"keep")
    if existing:
        fs.pipe_file(target, OLD)
        before["big"] = len(OLD)
    assert listing(fs, rig.dir) == before

    rig.proxy.reset_after(7 * MiB)  # in the second part: the upload has begun
    with pytest.raises(OSError) as failed:
        write_in_parts(fs, target, BIG)

    assert_connection_failure(failed.value, target)
    assert rig.proxy.resets >= fs.retries + 1  # every attempt at the part was reset
    rig.proxy.forward()
    assert_listed(rig, fs, before)
    if existing:
        assert rig.direct.cat_file(target) == OLD
        assert fs.cat_file(target) == OLD
    else:
        assert not rig.direct.exists(target)
        assert not fs.exists(target)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_one_reset_mid_multipart_upload_is_retried_to_the_full_object(rig, existing):
    fs = rig.fs()
    target = rig.path("big")
    if existing:
        fs.pipe_file(target, OLD)
    fs.pipe_file(rig.path("keep"), b"keep")
    listing(fs, rig.dir)  # cached, so the write must invalidate it

    rig.proxy.reset_after(7 * MiB, once=True)
    write_in_parts(fs, target, BIG)

    assert rig.proxy.resets == 1
    assert rig.direct.cat_file(target) == BIG
    assert rig.direct.info(target)["etag"].strip('"').endswith("-3")  # three parts
    assert_listed(rig, fs, {"big": len(BIG), "keep": 4})


# -- 2. 503 SlowDown answers -------------------------------------------------------

#: Calls that are one request on a healthy server, so the proxy's count is exact.
ONE_REQUEST = ["cat_file", "file_read", "info", "ls", "pipe_file"]


@pytest.mark.parametrize("name", ONE_REQUEST)
def test_slow_down_within_the_retry_budget_succeeds(rig, name):
    fs = rig.fs()
    before = seed(rig, fs)
    call = calls(rig, fs)[name]

    rig.proxy.slow_down(fs.retries)
    requests = rig.proxy.requests
    assert call.run() == call.result

    assert rig.proxy.slowdowns == fs.retries
    assert rig.proxy.requests - requests == fs.retries + 1
    assert_listed(rig, fs, {**before, **call.adds})
    if call.adds:
        assert rig.direct.cat_file(call.path) == NEW


@pytest.mark.parametrize("name", ONE_REQUEST)
def test_slow_down_beyond_the_retry_budget_is_a_busy_oserror(rig, name):
    """A throttled call that runs out of retries is ``OSError(EBUSY)`` saying why."""
    fs = rig.fs()
    before = seed(rig, fs)
    call = calls(rig, fs)[name]

    rig.proxy.slow_down(fs.retries + 1)
    requests = rig.proxy.requests
    with pytest.raises(OSError) as failed:
        call.run()

    assert_names_path(failed.value, call.path)
    assert failed.value.errno == errno.EBUSY, repr(failed.value)
    assert "SlowDown" in str(failed.value) or "503" in str(failed.value), repr(failed.value)
    assert rig.proxy.slowdowns == fs.retries + 1
    assert rig.proxy.requests - requests == fs.retries + 1  # no attempt past the budget
    assert_listed(rig, fs, before)


@pytest.mark.parametrize("retries", [0, 1, 3])
def test_retries_repeat_a_temporary_failure(busy_server, retries):
    """A 503 is temporary: OpenDAL asks again ``retries`` times, then gives up."""
    port, requests = busy_server
    fs = OpendalFileSystem("s3", **s3_options(port, retries=retries, timeout=HANG_GUARD))
    exc = raised_by(lambda: fs.cat_file("b/key"))
    assert isinstance(exc, OSError), repr(exc)
    assert exc.filename == "b/key"
    assert exc.errno == errno.EBUSY
    assert requests == ["GET /b/key"] * (retries + 1)


# -- 3. a server stopped and started again -----------------------------------------


def test_a_stopped_server_fails_fast_and_the_same_filesystem_recovers(rig):
    fs = rig.fs(timeout=TIMEOUT, retries=2)
    before = seed(rig, fs)
    table = calls(rig, fs)

    rig.proxy.stop()
    for name, call in table.items():
        started = time.monotonic()
        with pytest.raises(OSError) as failed:
            call.run()
        assert time.monotonic() - started < TIMEOUT + MARGIN, name
        assert_connection_failure(failed.value, call.path)

    rig.proxy.start()
    assert_listed(rig, fs, before)
    requests = rig.proxy.requests
    for i in range(3):
        name = rig.path(f"again-{i}")
        fs.pipe_file(name, NEW + bytes([i]))
        assert fs.info(name)["size"] == len(NEW) + 1
        assert fs.cat_file(name) == NEW + bytes([i])
        assert f"again-{i}" in listing(fs, rig.dir, refresh=True)
    assert rig.proxy.requests - requests >= 12  # all went to the server, none to a cache
    assert_listed(rig, fs, {**before, **{f"again-{i}": len(NEW) + 1 for i in range(3)}})


def test_connection_refused_is_a_builtin_oserror(closed_port):
    fs = OpendalFileSystem("s3", **s3_options(closed_port, retries=0))
    exc = raised_by(lambda: fs.cat_file("b/key"))
    assert isinstance(exc, OSError), repr(exc)
    assert not type(exc).__module__.startswith("opendal.")
    assert exc.filename == "b/key"
    assert "refused" in str(exc).lower()


# -- 4. a server that stops answering -------------------------------------------------


@pytest.mark.parametrize(
    "name", ["cat_file", "file_read", "info", "exists", "ls", "pipe_file", "file_write_in_parts"]
)
def test_a_silent_server_times_out_within_the_timeout(rig, name):
    """``timeout`` bounds a whole call, retries included (the TimeoutLayer is outermost)."""
    fs = rig.fs(timeout=TIMEOUT)
    before = seed(rig, fs)
    call = calls(rig, fs)[name]

    rig.proxy.hang()
    requests = rig.proxy.requests
    started = time.monotonic()
    with pytest.raises(TimeoutError) as failed:
        call.run()
    elapsed = time.monotonic() - started

    assert isinstance(failed.value, OperationTimeout), repr(failed.value)
    assert failed.value.errno == errno.ETIMEDOUT
    assert_names_path(failed.value, call.path)
    assert elapsed < TIMEOUT + MARGIN
    assert rig.proxy.requests > requests  # the request reached the server and was held
    rig.proxy.forward()
    assert_listed(rig, fs, before)
    assert fs.cat_file(rig.path("a")) == A


@pytest.mark.parametrize("retries", [0, 2])
def test_a_silent_socket_times_out_with_or_without_retries(silent_port, retries):
    """A server that never answers ends in the builtin TimeoutError naming the path."""
    fs = OpendalFileSystem("s3", **s3_options(silent_port, timeout=0.5, retries=retries))
    exc = raised_by(lambda: fs.cat_file("b/key"))
    assert isinstance(exc, TimeoutError), repr(exc)
    assert not type(exc).__module__.startswith("opendal.")
    assert "b/key" in str(exc), f"{type(exc).__name__}({str(exc)!r})"


def test_a_delay_holds_each_request_a_round_trip_and_logs_its_kind(s3, tmp_path):
    """The latency bench's proxy: every request waits two delays, big bodies pass
    whole, and each request's kind is logged before it is forwarded."""
    delay = 0.05
    endpoint = urlparse(s3.options["endpoint"])
    log = tmp_path / "requests.log"
    proxy = FaultProxy((endpoint.hostname, endpoint.port), delay=delay, log=log)
    fs = OpendalFileSystem("s3", skip_instance_cache=True, **{**s3.options, "endpoint": proxy.url})
    path = f"{s3.container}/delay-{uuid.uuid4().hex[:12]}"
    try:
        started = time.perf_counter()
        fs.pipe_file(path, BIG)
        assert fs.cat_file(path) == BIG
        elapsed = time.perf_counter() - started
        fs.rm(path)
    finally:
        proxy.close()
    assert proxy.errors == []
    logged = [line.split(" ", 1)[0] for line in log.read_text().splitlines()]
    assert logged == [kind(head) for head in proxy.heads]
    assert {"PUT", "GET"} <= set(logged)
    # A lower bound only: nothing in tests/ holds a clock to an upper one.
    assert elapsed >= 2 * 2 * delay


def test_a_chunked_request_body_is_framed_and_forwarded(s3):
    """pyarrow's S3 client sends chunked bodies; the proxy frames them as whole requests."""
    endpoint = urlparse(s3.options["endpoint"])
    proxy = FaultProxy((endpoint.hostname, endpoint.port))
    key = f"chunked-{uuid.uuid4().hex[:12]}"
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    head = (
        f"PUT /{s3.container}/{key} HTTP/1.1\r\nHost: {endpoint.netloc}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
            sock.sendall(head + body)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        proxy.close()
    assert proxy.requests == 1
    assert proxy.errors == []
    direct = OpendalFileSystem("s3", skip_instance_cache=True, **s3.options)
    assert direct.cat_file(f"{s3.container}/{key}") == b"hello world"
    direct.rm(f"{s3.container}/{key}")


def test_a_paced_connection_carries_whole_requests_and_answers_both_ways(s3, tmp_path):
    """The big-object bench's proxy: paced and delayed, a multipart write and a read
    pass byte for byte, and every request is answered and out of flight at the end."""
    endpoint = urlparse(s3.options["endpoint"])
    log = tmp_path / "requests.log"
    proxy = FaultProxy((endpoint.hostname, endpoint.port), delay=0.005, pace=32 * MiB, log=log)
    fs = OpendalFileSystem("s3", skip_instance_cache=True, **{**s3.options, "endpoint": proxy.url})
    path = f"{s3.container}/paced-{uuid.uuid4().hex[:12]}"
    try:
        fs.pipe_file(path, BIG)
        assert fs.cat_file(path) == BIG
        assert fs.cat_file(path, start=MiB, end=2 * MiB) == BIG[MiB : 2 * MiB]
        fs.rm(path)
    finally:
        proxy.close()
    assert proxy.errors == []
    assert proxy.in_flight == 0
    # Each logged line: kind, the requests in flight with it, the request line.
    lines = [line.split(" ", 2) for line in log.read_text().splitlines()]
    assert [k for k, _, _ in lines] == [kind(head) for head in proxy.heads]
    assert all(1 <= int(n) <= proxy.most_in_flight for _, n, _ in lines)
    assert {"PUT", "GET", "DELETE"} <= {k for k, _, _ in lines}


def test_requests_in_flight_are_counted_from_head_to_the_end_of_their_answer(s3):
    """Requests held unanswered are all in flight at once; a client that waits for
    each answer before its next request never has two in flight."""
    endpoint = urlparse(s3.options["endpoint"])
    proxy = FaultProxy((endpoint.hostname, endpoint.port))
    fs = OpendalFileSystem("s3", skip_instance_cache=True, **{**s3.options, "endpoint": proxy.url})
    path = f"{s3.container}/in-flight-{uuid.uuid4().hex[:12]}"
    request = f"GET /{path} HTTP/1.1\r\nHost: {endpoint.netloc}\r\n\r\n".encode()
    try:
        proxy.hang()
        clients = [socket.create_connection(("127.0.0.1", proxy.port)) for _ in range(3)]
        for client in clients:
            client.sendall(request)
        wait_until(lambda: proxy.requests == 3)
        assert (proxy.in_flight, proxy.most_in_flight) == (3, 3)
        for client in clients:
            client.close()
        wait_until(lambda: proxy.in_flight == 0)  # a dropped connection's requests end

        proxy.forward()
        proxy.reset_in_flight()
        assert proxy.most_in_flight == 0
        fs.pipe_file(path, OLD)
        for _ in range(3):
            assert fs.cat_file(path) == OLD
        fs.rm(path)
    finally:
        proxy.close()
    assert proxy.errors == []
    assert (proxy.in_flight, proxy.most_in_flight) == (0, 1)


def wait_until(condition: Callable[[], bool], guard: float = HANG_GUARD) -> None:
    """Wait for the proxy's threads to get ``condition`` true; fails if they never do."""
    deadline = time.monotonic() + guard
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {guard} s")
        time.sleep(0.01)
