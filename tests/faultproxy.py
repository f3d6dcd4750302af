"""A TCP proxy on 127.0.0.1 that forwards HTTP/1.1 and injects faults when told to.

Test code only. Each request from the client is framed (its head, then a
``Content-Length`` or chunked body), so every request is counted and a fault hits whole
requests, never a byte count that depends on timing; answers are pumped back
unparsed. OpenDAL's HTTP client does not pipeline, so a new request on a
connection means the answer to the previous one has arrived.

Faults (each replaces the previous one; :meth:`FaultProxy.forward` clears them):
``reset_after`` resets the connection that carries the N-th byte of request
traffic (RST, as a crashed peer does); ``slow_down`` answers the next K requests
itself with S3's ``503 SlowDown``; ``hang`` reads requests and never answers;
``stop`` refuses new connections and drops open ones until ``start``.

A request is *in flight* from its head's arrival until the last byte of its
answer is handed on (the answers are framed too, for this only); ``in_flight``
counts them now and ``most_in_flight`` the most at once since
:meth:`FaultProxy.reset_in_flight`, so a test can tell parallel requests from
sequential ones by counting, not timing.

Every request's head is kept in ``heads``; :func:`kinds` sorts them into what an
S3 user pays for (HEAD, GET, LIST, PUT, COPY, DELETE, batch DELETE). With ``log``,
each request's kind, the requests in flight with it (itself included) and its
first line are also appended to that file before the request is forwarded, so
another process can count the requests it caused and how many ran at once.

``delay`` makes the proxy a delay line, as a distant server is: every piece of
data, either way, is handed on ``delay`` seconds after it arrived, in order, so a
request costs two ``delay`` more and a large transfer keeps its throughput.
``pace`` narrows each connection, as one stream to a cloud store is narrow: each
direction of each connection carries at most ``pace`` bytes a second (the data
pass the pace, then the delay line: a link of that bandwidth and length). The
proxy reads no faster than that, so the sender is held back by TCP's own flow
control and nothing piles up in the proxy.
Opening a connection costs nothing more: moto closes each connection after its
answer, so a client reconnects for every request, which a real store's keep-alive
spares it. Faults act on requests as they come out of the delay line; a
``503 SlowDown`` the proxy makes itself goes back without a delay.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

HOST = "127.0.0.1"
CHUNK = 64 * 1024
_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$")
_CHUNKED = re.compile(rb"(?im)^transfer-encoding:.*chunked")
_STATUS = re.compile(rb"^HTTP/\d\.\d (\d{3})")
_SLOW_DOWN_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message>"
    b"<RequestId>faultproxy</RequestId></Error>"
)
#: S3's throttling answer; the body is left out for HEAD requests, as S3 does.
SLOW_DOWN_HEAD = (
    b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(_SLOW_DOWN_BODY)
)


class FaultProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream`` until a fault is switched on.

    Counters (read them while the proxy is idle): ``requests`` seen (and ``heads``,
    each one's head), ``slowdowns`` answered, ``resets`` made, requests ``in_flight``
    and the ``most_in_flight`` at once. Anything unexpected inside the
    proxy's threads lands in ``errors``; a test should check it stays empty.
    ``delay`` (seconds each way) and ``pace`` (bytes a second, each direction of
    each connection) apply to connections opened after they are set.
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        delay: float = 0.0,
        pace: float | None = None,
        log: str | Path | None = None,
    ) -> None:
        self.upstream = upstream
        self.delay = delay
        self.pace = pace
        self.log = log
        self.requests = 0
        self.heads: list[bytes] = []
        self.slowdowns = 0
        self.resets = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._budget: int | None = None  # request bytes left before a reset
        self._switch()
        self._listener: socket.socket | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # -- switching faults ----------------------------------------------------

    def forward(self) -> None:
        """Clear every fault: forward all traffic."""
        self._switch()

    def reset_after(self, nbytes: int, *, once: bool = False) -> None:
        """Reset the connection carrying request byte ``nbytes`` + 1 (and, unless
        ``once``, every connection after it that sends anything)."""
        self._switch(budget=nbytes, once=once)

    def slow_down(self, count: int) -> None:
        """Answer the next ``count`` requests with ``503 SlowDown``, then forward again."""
        self._switch(slowdowns=count)

    def hang(self) -> None:
        """Read every request and never answer it."""
        self._switch(hang=True)

    def reset_in_flight(self) -> None:
        """Count ``most_in_flight`` afresh from the requests in flight now."""
        with self._lock:
            self.most_in_flight = self.in_flight

    def _switch(
        self, budget: int | None = None, once: bool = False, slowdowns: int = 0, hang: bool = False
    ) -> None:
        with self._lock:
            self._budget, self._reset_once = budget, once
            self._slowdowns_left, self._hang = slowdowns, hang

    def stop(self) -> None:
        """Like a stopped server: refuse new connections and drop every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _abort(listener)  # shutting a listener down wakes its blocked accept()
            listener.close()
        with self._lock:
            for sock in self._sockets:
                _abort(sock)

    close = stop

    def start(self) -> None:
        """Listen again (on the same port once it has one) and forward."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    # -- the work ------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            self._track(client)
            if self._listener is not listener:  # stopped while accepting
                _abort(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _incoming(self, sock: socket.socket) -> Receiver:
        """What ``sock`` receives, through the pace and the delay line when there are."""
        source: Receiver = sock
        if self.pace:
            source = _Paced(source, self.pace)
        if self.delay:
            source = _DelayLine(source, self.delay)
        return source

    def _serve(self, client: socket.socket) -> None:
        """Read requests from one client connection and act on each as the mode says."""
        reader = _Reader(self._incoming(client))
        upstream: socket.socket | None = None
        #: The methods of this connection's requests in flight, oldest first.
        pending: deque[bytes] = deque()
        try:
            while (head := reader.head()) is not None:
                if _CHUNKED.search(head):
                    body = reader.chunked()
                else:
                    match = _LENGTH.search(head)
                    body = reader.body(int(match.group(1)) if match else 0)
                with self._lock:
                    self.requests += 1
                    self.heads.append(head)
                    pending.append(head.split(b" ", 1)[0])
                    self.in_flight += 1
                    self.most_in_flight = max(self.most_in_flight, self.in_flight)
                    if self.log is not None:
                        with open(self.log, "ab") as log:
                            log.write(
                                b"%s %d %s\n"
                                % (kind(head).encode(), self.in_flight, head.split(b"\r\n", 1)[0])
                            )
                    answer = self._slowdowns_left > 0
                    self._slowdowns_left -= answer
                    self.slowdowns += answer
                    hang = self._hang
                if answer or hang:
                    for _ in body:
                        pass
                    if answer:
                        self._answered(pending)
                        is_head = head.startswith(b"HEAD ")
                        client.sendall(SLOW_DOWN_HEAD + (b"" if is_head else _SLOW_DOWN_BODY))
                        return
                    continue
                if upstream is None:
                    upstream = self._track(socket.create_connection(self.upstream))
                    answers = self._incoming(upstream)
                    threading.Thread(
                        target=self._pump, args=(answers, client, pending), daemon=True
                    ).start()
                for piece in itertools.chain([head], body):
                    allowed = self._spend(len(piece))
                    upstream.sendall(piece[:allowed])
                    if allowed < len(piece):
                        _linger_zero(client)  # so closing it below sends an RST
                        return
        except OSError:
            pass  # a peer went away or the proxy was stopped: the connection ends
        except Exception as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            if upstream is not None:
                _abort(upstream)  # wakes the pump blocked on it
                self._untrack(upstream)
            self._untrack(client)
            with self._lock:  # what was never answered is in flight no more
                self.in_flight -= len(pending)
                pending.clear()

    def _pump(self, source: Receiver, target: socket.socket, pending: deque[bytes]) -> None:
        """Copy answers back to the client until the server closes; then tell the client.

        Each answer is framed to see where it ends: the request it answers is
        counted out of flight before its last piece goes on, so a client that
        waits for one answer before its next request is never seen with two.
        """
        reader = _Reader(source)
        with contextlib.suppress(OSError):
            try:
                while (head := reader.head()) is not None:
                    status = _STATUS.match(head)
                    code = int(status.group(1)) if status else 0
                    if 100 <= code < 200:  # 100 Continue: the answer is still to come
                        target.sendall(head)
                        continue
                    with self._lock:
                        method = pending[0] if pending else b""
                    last = head
                    for piece in _answer_body(reader, head, method, code):
                        target.sendall(last)
                        last = piece
                    self._answered(pending)
                    target.sendall(last)
                target.sendall(reader.buf)  # a piece of a head the server never ended
            except ConnectionAbortedError:
                pass  # the server closed in the middle of an answer: the client sees that
            target.shutdown(socket.SHUT_WR)

    def _answered(self, pending: deque[bytes]) -> None:
        """The oldest request in ``pending`` has its answer."""
        with self._lock:
            if pending:
                pending.popleft()
                self.in_flight -= 1

    def _spend(self, n: int) -> int:
        """How many of the next ``n`` request bytes may pass before a reset."""
        with self._lock:
            if self._budget is None:
                return n
            allowed = min(n, self._budget)
            self._budget -= allowed
            if allowed < n:
                self.resets += 1
                if self._reset_once:
                    self._budget = None
            return allowed

    def _track(self, sock: socket.socket) -> socket.socket:
        # Pieces go on as they come: Nagle's algorithm would hold a small one back
        # until the last is acknowledged, a delay of the proxy's making.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        sock.close()


_COPY_SOURCE = re.compile(rb"(?im)^x-(amz|ms)-copy-source:")


def kind(head: bytes) -> str:
    """What an S3 (or Azure Blob) request is: HEAD, GET, LIST, PUT, COPY, DELETE or BATCH."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    method, target = line.split(" ")[:2]
    query = target.partition("?")[2]
    params = {p.partition("=")[0] for p in query.split("&") if p}
    if method == "POST" and "delete" in params:
        return "BATCH"  # S3's DeleteObjects
    if method == "GET" and (params & {"list-type", "delimiter", "prefix", "comp"}):
        return "LIST"
    if method == "PUT" and _COPY_SOURCE.search(head):
        return "COPY"
    return method


def _answer_body(reader: _Reader, head: bytes, method: bytes, code: int) -> Iterator[bytes]:
    """The body of the answer ``head`` to a ``method`` request, piece by piece."""
    if method == b"HEAD" or code in (204, 304):
        return iter(())
    if _CHUNKED.search(head):
        return reader.chunked()
    if match := _LENGTH.search(head):
        return reader.body(int(match.group(1)))
    return reader.rest()


def kinds(heads: Iterable[bytes]) -> Counter[str]:
    """How many requests of each :func:`kind` ``heads`` hold."""
    return Counter(kind(head) for head in heads)


class Receiver(Protocol):
    """What the proxy reads a connection through: the socket, or a delay line on it."""

    def recv(self, size: int, /) -> bytes: ...


class _Paced:
    """Hands on what ``source`` receives at ``rate`` bytes a second at most.

    A token bucket: each piece is held until the bytes before it and itself have
    had their time at ``rate``; a bucket of :data:`CHUNK` bytes lets a piece handed
    on late (a busy machine) be made up for by the next one, so the rate holds
    over a long transfer. While a piece is held nothing more is received, so the
    kernel's buffers fill and the sender waits, as it would behind a narrow link.
    """

    def __init__(self, source: Receiver, rate: float) -> None:
        self._source = source
        self._rate = rate
        self._due = time.monotonic()

    def recv(self, size: int, /) -> bytes:
        data = self._source.recv(min(size, CHUNK))
        now = time.monotonic()
        self._due = max(self._due, now - CHUNK / self._rate) + len(data) / self._rate
        if (wait := self._due - now) > 0:
            time.sleep(wait)
        return data


class _DelayLine:
    """Hands out what ``sock`` receives ``delay`` seconds after it arrived, in order.

    A thread receives as fast as the peer sends and queues each piece with the
    time it is due, so the delay does not slow a long transfer down. ``recv``
    returns whole pieces (up to :data:`CHUNK` bytes), whatever ``size`` asks for;
    an error of the socket comes out of the line like its data.
    """

    def __init__(self, sock: Receiver, delay: float) -> None:
        self._delay = delay
        self._queue: queue.SimpleQueue[tuple[float, bytes | OSError]] = queue.SimpleQueue()
        threading.Thread(target=self._fill, args=(sock,), daemon=True).start()

    def _fill(self, sock: Receiver) -> None:
        data: bytes | OSError = b""
        try:
            while data := sock.recv(CHUNK):
                self._queue.put((time.monotonic() + self._delay, data))
        except OSError as exc:
            data = exc
        self._queue.put((time.monotonic() + self._delay, data))  # the end: b"" or the error

    def recv(self, size: int, /) -> bytes:
        due, data = self._queue.get()
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        if isinstance(data, OSError):
            raise data
        return data


class _Reader:
    """Buffered reads of HTTP request heads and bodies from one connection."""

    def __init__(self, sock: Receiver) -> None:
        self.sock = sock
        self.buf = b""

    def head(self) -> bytes | None:
        """The next request head, or None when the client has closed the connection."""
        while b"\r\n\r\n" not in self.buf:
            data = self.sock.recv(CHUNK)
            if not data:
                return None
            self.buf += data
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return head + b"\r\n\r\n"

    def chunked(self) -> Iterator[bytes]:
        """A chunked body as it came (pyarrow's uploads are chunked): each chunk with
        its size line, then the last chunk and the trailers."""
        while True:
            line = self._line()
            yield line
            size = int(line.split(b";", 1)[0], 16)
            if size == 0:
                while (trailer := self._line()) != b"\r\n":
                    yield trailer
                yield trailer
                return
            yield from self.body(size + 2)  # the data and its CRLF

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            data = self.sock.recv(CHUNK)
            if not data:
                raise ConnectionAbortedError("the client closed in the middle of a body")
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line + b"\r\n"

    def body(self, size: int) -> Iterator[bytes]:
        """The ``size`` body bytes that follow, piece by piece, as they arrive."""
        while size > 0:
            if not self.buf:
                self.buf = self.sock.recv(min(CHUNK, size))
                if not self.buf:
                    raise ConnectionAbortedError("the client closed in the middle of a body")
            piece, self.buf = self.buf[:size], self.buf[size:]
            size -= len(piece)
            yield piece

    def rest(self) -> Iterator[bytes]:
        """Everything until the peer closes (an answer without a length)."""
        if self.buf:
            yield self.buf
            self.buf = b""
        while data := self.sock.recv(CHUNK):
            yield data


def _linger_zero(sock: socket.socket) -> None:
    """Make closing ``sock`` reset the connection (RST) instead of ending it (FIN)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _abort(sock: socket.socket) -> None:
    """Drop a connection another thread may be blocked on: wake it, and reset on close."""
    _linger_zero(sock)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
