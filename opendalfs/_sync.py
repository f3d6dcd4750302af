"""The two drivers of the sync API: in the caller's thread, or on fsspec's IO loop.

Every operation is written once, as a coroutine (``_info``, ``_cat_file`` …).
Its blocking twin runs that coroutine one of two ways:

- :func:`drive`: in the caller's thread, with the backend in blocking mode, so
  each OpenDAL call is the blocking operator's and returns at once; the
  coroutine never suspends and needs no event loop, and no thread hop is paid.
  A coroutine that does suspend is a bug, reported as such, never run otherwise.
- :func:`run_blocking`: on fsspec's IO loop, for work that gains from
  concurrency (many paths, many ranges, trees) and for services whose blocking
  calls cannot be bounded.

fsspec's own ``sync()`` replaces any ``TimeoutError`` raised inside with an empty
``FSTimeoutError``, losing the path and the cause; these runners let errors
through as they were raised.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from typing import Any

import fsspec.asyn
from fsspec.spec import AbstractFileSystem

#: True while :func:`drive` runs a coroutine: backends then call the blocking operator.
_BLOCKING: ContextVar[bool] = ContextVar("opendalfs_blocking", default=False)

blocking_mode = _BLOCKING.get
"""Whether the running coroutine is driven in blocking mode (see :func:`drive`)."""

#: The operations whose sync twin runs in the caller's thread where the service
#: allows it: each makes one or a few OpenDAL calls in sequence.
DRIVEN = frozenset(
    {
        "info",
        "exists",
        "isfile",
        "isdir",
        "size",
        "cat_file",
        "pipe_file",
        "rm_file",
        "touch",
        "ls",
        "find",
        "glob",
        "du",
        "mkdir",
        "makedirs",
        "rmdir",
        "modified",
        "created",
        "ukey",
    }
)


class SuspendedError(RuntimeError):
    """A coroutine driven in blocking mode waited on something: a bug in opendalfs."""


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to its end in this thread, the backend in blocking mode.

    Refused on fsspec's IO loop, whose other work a blocking call would stall.
    """
    if asyncio._get_running_loop() is fsspec.asyn.loop[0] is not None:
        coro.close()
        raise NotImplementedError(
            "a blocking call from fsspec's IO loop would stall it; await the _method"
        )
    token = _BLOCKING.set(True)
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    finally:
        _BLOCKING.reset(token)
    coro.close()
    raise SuspendedError(
        f"{getattr(coro, '__qualname__', coro)} suspended while driven in blocking mode; "
        "this is a bug in opendalfs, please report it"
    )


async def _in_async_mode(coro: Coroutine[Any, Any, Any]) -> Any:
    """Await ``coro`` with the backend in async mode, whatever context scheduled it."""
    token = _BLOCKING.set(False)
    try:
        return await coro
    finally:
        _BLOCKING.reset(token)


def run_blocking(loop: asyncio.AbstractEventLoop | None, coro: Any) -> Any:
    """Run ``coro`` on ``loop`` from another thread and wait for its result."""
    if loop is None or loop.is_closed():
        coro.close()
        raise RuntimeError(
            "this filesystem was made with asynchronous=True: await its _methods instead"
        )
    if asyncio._get_running_loop() is loop:
        coro.close()
        raise NotImplementedError(
            "a blocking call from fsspec's IO loop would wait on itself; await the _method"
        )
    return asyncio.run_coroutine_threadsafe(_in_async_mode(coro), loop).result()


def run_on_io_loop(coro: Any) -> Any:
    """Run ``coro`` on fsspec's IO loop and wait (a backend call that must not block here)."""
    return run_blocking(fsspec.asyn.get_loop(), coro)


def _blocking(name: str, driven: bool) -> Callable[..., Any]:
    """A blocking method that runs ``self._<name>`` (looked up on each call)."""
    template = getattr(AbstractFileSystem, name, None)
    private = f"_{name}"

    if driven:

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            coro = getattr(self, private)(*args, **kwargs)
            if self.drives_sync_calls:
                return drive(coro)
            return run_blocking(self.loop, coro)

    else:

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return run_blocking(self.loop, getattr(self, private)(*args, **kwargs))

    if template is not None:
        functools.update_wrapper(method, template)
    return method


def _blocking_generator(name: str) -> Callable[..., Iterator[Any]]:
    """A blocking generator over the async generator ``self._<name>``."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        agen = getattr(self, f"_{name}")(*args, **kwargs)
        while True:
            try:
                yield run_blocking(self.loop, agen.__anext__())
            except StopAsyncIteration:
                return

    method.__name__ = name
    return method


def mirror(cls: type, extra: tuple[str, ...] = ()) -> type:
    """Give ``cls`` a blocking twin for each async method whose twin is fsspec's default.

    The methods are those fsspec mirrors (its ``async_methods`` and the
    ``AsyncFileSystem`` coroutines) plus ``extra``, given without the underscore.
    Those in :data:`DRIVEN` are driven in the caller's thread when the instance's
    ``drives_sync_calls`` says so.
    """
    fsspec_names = set(fsspec.asyn.async_methods) | {
        n for n in dir(fsspec.asyn.AsyncFileSystem) if n.startswith("_") and not n.startswith("__")
    }
    for private in sorted(fsspec_names | {f"_{n}" for n in extra}):
        public = private[1:]
        impl = getattr(cls, private, None)
        current = getattr(cls, public, None)
        if current is not None and current is not getattr(AbstractFileSystem, public, None):
            continue  # the class defines its own
        if inspect.iscoroutinefunction(impl):
            setattr(cls, public, _blocking(public, public in DRIVEN))
        elif inspect.isasyncgenfunction(impl):
            setattr(cls, public, _blocking_generator(public))
    return cls
