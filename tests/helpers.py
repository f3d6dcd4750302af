"""Plain helpers that more than one test module uses (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlparse

import fsspec.asyn
import opendal
import pytest
from faultproxy import FaultProxy

from opendalfs._backend import Backend
from opendalfs._capabilities import Capabilities
from opendalfs._sync import drive

#: The secret key of :func:`s3_options`; no server ever checks it.
S3_SECRET = "s3cr3t-value"


def proxied_store(
    servers: Any, scheme: str, config: pytest.Config, **proxy_options: Any
) -> tuple[FaultProxy, Any, dict[str, Any]]:
    """The object store ``scheme`` behind a :class:`~faultproxy.FaultProxy`: the proxy,
    the running server, and the options that reach it through the proxy. Skips where
    ``--service`` leaves the store out, or where it speaks HTTPS (the proxy cannot)."""
    chosen = config.getoption("--service")
    if chosen and scheme not in chosen:
        pytest.skip(f"--service leaves {scheme} out")
    running = servers(scheme)
    endpoint = urlparse(running.options["endpoint"])
    if endpoint.scheme != "http":
        pytest.skip("the proxy speaks plain HTTP only")
    proxy = FaultProxy((endpoint.hostname, endpoint.port), **proxy_options)
    through = endpoint._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
    return proxy, running, {**running.options, "endpoint": through}


def s3_options(port: int, **extra: Any) -> dict[str, Any]:
    """S3 options for an endpoint on this machine, with nothing read from the environment."""
    return {
        "bucket": "b",
        "endpoint": f"http://127.0.0.1:{port}",
        "region": "us-east-1",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": S3_SECRET,
        "disable_config_load": True,
        **extra,
    }


class Raises:
    """An OpenDAL operator or file (either face) whose every call raises ``exc``."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise self.exc

        return call


def raising_backend(exc: BaseException, secrets: tuple[str, ...] = ()) -> Backend:
    """A memory backend whose every OpenDAL call, async or blocking, raises ``exc``."""
    caps = Capabilities.of(opendal.AsyncOperator("memory"), "memory")
    face = Raises(exc)
    return Backend(face, caps, scheme="memory", secrets=secrets, blocking_face=face)


#: The two ways a backend call runs: awaited (the async API, the IO loop) or driven
#: in the caller's thread with the backend in blocking mode (the sync API's default).
DRIVERS = ("async", "blocking")


def run(call: Coroutine[Any, Any, Any], driver: str) -> Any:
    """Run a backend call the way ``driver`` names."""
    return asyncio.run(call) if driver == "async" else drive(call)


class AsyncAPI:
    """An asynchronous filesystem's coroutines behind plain calls, so that one test body
    runs through the async API: ``info(p)`` awaits ``fs._info(p)`` and ``open(p, mode)``
    awaits ``fs.open_async(p, mode)``, each on fsspec's IO loop. Other attributes are
    the filesystem's own."""

    def __init__(self, fs: Any) -> None:
        self.fs = fs

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.fs, f"_{name}", None)
        if not inspect.iscoroutinefunction(method):
            return getattr(self.fs, name)
        return lambda *args, **kwargs: _on_io_loop(method(*args, **kwargs))

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> AsyncFileAPI:
        return AsyncFileAPI(_on_io_loop(self.fs.open_async(path, mode, **kwargs)))


class AsyncFileAPI:
    """An async file's coroutines behind plain calls (``read``, ``write``, ``close``, and
    ``with``); ``seek``/``tell`` and the rest are the file's own."""

    def __init__(self, f: Any) -> None:
        self.f = f

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.f, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        return lambda *args, **kwargs: _on_io_loop(attribute(*args, **kwargs))

    def __enter__(self) -> AsyncFileAPI:
        return self

    def __exit__(self, *exc: Any) -> None:
        _on_io_loop(self.f.__aexit__(*exc))


def _on_io_loop(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, fsspec.asyn.get_loop()).result()
