"""A deadline on every OpenDAL call, kept by the asyncio loop that awaits it.

OpenDAL's TimeoutLayer ends a call inside Rust. Three times in long test runs a
call still never came back (FTP and MySQL, after OpenDAL's connection pool had
timed out): the loop sat idle, the Rust runtime was parked, and the layer's
timer never surfaced. Whatever the cause, a user must get an error rather than
a hang, so each call's future also carries a timer on the asyncio side, set a
little after the TimeoutLayer's. When it fires, the call is cancelled (which
drops the Rust future) and :class:`~opendalfs.errors.OperationTimeout` is raised.
"""

from __future__ import annotations

import asyncio
import errno
from typing import Any

from opendalfs.errors import OperationTimeout

#: Seconds the asyncio-side deadline waits beyond the TimeoutLayer's.
GRACE = 5.0


async def bounded(future: Any, limit: float, what: str) -> Any:
    """Await an OpenDAL future; cancel it and raise OperationTimeout after ``limit`` s."""
    fired = []

    def expire() -> None:
        fired.append(True)
        future.cancel()

    timer = asyncio.get_running_loop().call_later(limit, expire)
    try:
        return await future
    except asyncio.CancelledError:
        if not fired:
            raise
        raise OperationTimeout(
            errno.ETIMEDOUT, f"OpenDAL gave no answer within {limit:g} s", what
        ) from None
    finally:
        timer.cancel()


class GuardedOperator:
    """An ``opendal.AsyncOperator`` whose calls, listers and files all carry a deadline."""

    def __init__(self, op: Any, limit: float) -> None:
        self._op = op
        self._limit = limit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._op, name)  # capability() and other plain methods

    def _bound(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        future = getattr(self._op, method)(path, *args, **kwargs)
        return bounded(future, self._limit, f"{method} {path}")

    def stat(self, path: str, **kwargs: Any) -> Any:
        return self._bound("stat", path, **kwargs)

    def read(self, path: str, **kwargs: Any) -> Any:
        return self._bound("read", path, **kwargs)

    def write(self, path: str, data: bytes, **kwargs: Any) -> Any:
        return self._bound("write", path, data, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self._bound("delete", path, **kwargs)

    def create_dir(self, path: str) -> Any:
        return self._bound("create_dir", path)

    def copy(self, source: str, target: str) -> Any:
        return self._bound("copy", source, target)

    def rename(self, source: str, target: str) -> Any:
        return self._bound("rename", source, target)

    def presign_read(self, path: str, expire_second: int) -> Any:
        return self._bound("presign_read", path, expire_second)

    async def list(self, path: str, **kwargs: Any) -> GuardedLister:
        return GuardedLister(await self._bound("list", path, **kwargs), self._limit, path)

    async def open(self, path: str, mode: str, **kwargs: Any) -> GuardedFile:
        return GuardedFile(await self._bound("open", path, mode, **kwargs), self._limit, path)


class GuardedLister:
    """An OpenDAL lister whose every step carries the deadline."""

    def __init__(self, lister: Any, limit: float, path: str) -> None:
        self._lister = lister
        self._limit = limit
        self._what = f"list {path}"

    def __aiter__(self) -> GuardedLister:
        return self

    def __anext__(self) -> Any:
        return bounded(self._lister.__anext__(), self._limit, self._what)


class GuardedFile:
    """An OpenDAL file whose reads, writes and close carry the deadline."""

    def __init__(self, file: Any, limit: float, path: str) -> None:
        self._file = file
        self._limit = limit
        self._path = path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def read(self, *args: Any) -> Any:
        return bounded(self._file.read(*args), self._limit, f"read {self._path}")

    def write(self, data: bytes) -> Any:
        return bounded(self._file.write(data), self._limit, f"write {self._path}")

    def close(self) -> Any:
        return bounded(self._file.close(), self._limit, f"close {self._path}")
