"""Plain helpers that more than one test module uses (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import opendal

from opendalfs._backend import Backend
from opendalfs._capabilities import Capabilities
from opendalfs._sync import drive

#: The secret key of :func:`s3_options`; no server ever checks it.
S3_SECRET = "s3cr3t-value"


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
