"""Blocking twins of the async methods, run on fsspec's IO loop.

fsspec makes these for every instance with its ``sync()``, which replaces any
``TimeoutError`` raised inside with an empty ``FSTimeoutError``, losing the path
and the cause. opendalfs builds the twins once, on the class, with a runner that
lets the error through as it was raised.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import fsspec.asyn
from fsspec.spec import AbstractFileSystem


def run_blocking(loop: asyncio.AbstractEventLoop | None, coro: Any) -> Any:
    """Run ``coro`` on ``loop`` from another thread and wait for its result."""
    if loop is None or loop.is_closed():
        coro.close()
        raise RuntimeError(
            "this filesystem was made with asynchronous=True: await its _methods instead"
        )
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        raise NotImplementedError(
            "a blocking call from fsspec's IO loop would wait on itself; await the _method"
        )
    return asyncio.run_coroutine_threadsafe(coro, loop).result()


def _blocking(name: str) -> Callable[..., Any]:
    """A blocking method that runs ``self._<name>`` (looked up on each call)."""
    template = getattr(AbstractFileSystem, name, None)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return run_blocking(self.loop, getattr(self, f"_{name}")(*args, **kwargs))

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
            setattr(cls, public, _blocking(public))
        elif inspect.isasyncgenfunction(impl):
            setattr(cls, public, _blocking_generator(public))
    return cls
