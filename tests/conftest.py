"""Filesystem fixtures shared by the whole suite: one per service under test.

Each test gets a fresh, empty place to work (``fs_root``) on every service, and
the fixtures say what the service can do, so the same test body runs everywhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from opendalfs import OpendalFileSystem
from opendalfs._operators import Capabilities, Handle

# Property tests: a fixed, repeatable budget under CI; HYPOTHESIS_PROFILE=soak for more.
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
settings.register_profile("ci", max_examples=60, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=60, **_COMMON)
settings.register_profile("soak", max_examples=5_000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@dataclass(frozen=True)
class Service:
    """A service under test and what it can do."""

    scheme: str
    options: dict[str, Any] = field(default_factory=dict)
    #: Whether a directory can exist with nothing in it.
    empty_directories: bool = True
    #: Object-store naming: a key may sit below another key's name (``a`` and ``a/b``).
    object_store: bool = False
    #: Whether the service reports modification times.
    mtime: bool = True
    #: The first path segment every test path starts with (the bucket, for object stores).
    container: str = ""

    def filesystem(self, **extra: Any) -> OpendalFileSystem:
        return OpendalFileSystem(self.scheme, **self.options, **extra)

    def caps(self, fs: OpendalFileSystem) -> Capabilities:
        """What the operator behind this service's test container can do."""
        return fs._handle(self.container).caps


SERVICES = ["memory", "fs", "s3"]


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Service:
    if request.param == "fs":
        root = tmp_path_factory.mktemp("fsroot")
        return Service("fs", {"root": str(root)})
    if request.param == "s3":
        env = os.environ
        if "OPENDALFS_TEST_S3_ENDPOINT" not in env:
            pytest.skip("no S3 server yet")
        return Service(
            "s3",
            {
                "endpoint": env["OPENDALFS_TEST_S3_ENDPOINT"],
                "region": env.get("OPENDALFS_TEST_S3_REGION", "us-east-1"),
                "access_key_id": env.get("OPENDALFS_TEST_S3_ACCESS_KEY_ID", "minioadmin"),
                "secret_access_key": env.get("OPENDALFS_TEST_S3_SECRET_ACCESS_KEY", "minioadmin"),
                "disable_config_load": "true",
            },
            container=env.get("OPENDALFS_TEST_S3_BUCKET", "test-bucket"),
            object_store=True,
        )
    return Service(request.param, object_store=True, mtime=False)


@pytest.fixture
def fs(service: Service) -> OpendalFileSystem:
    fs = service.filesystem()
    fs.invalidate_cache()
    return fs


@pytest.fixture
def root(fs: OpendalFileSystem, service: Service) -> Iterator[str]:
    """A fresh directory name for one test; removed afterwards."""
    name = "/".join(p for p in (service.container, f"t-{uuid.uuid4().hex[:12]}") if p)
    yield name
    if fs.exists(name):
        fs.rm(name, recursive=True)


class CountingOperator:
    """Forwards to a real AsyncOperator and counts the calls made to it, by method."""

    def __init__(self, op: Any) -> None:
        self._op = op
        self.calls: dict[str, int] = {}
        self.log: list[tuple[str, tuple, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._op, name)
        if not callable(target):
            return target

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.log.append((name, args, kwargs))
            return target(*args, **kwargs)

        return counted


@pytest.fixture
def counting(
    fs: OpendalFileSystem, service: Service, monkeypatch: pytest.MonkeyPatch
) -> CountingOperator:
    """Count every OpenDAL call ``fs`` makes from here on (one operator per test)."""
    real = fs._handle(service.container)
    proxy = CountingOperator(real.op)
    monkeypatch.setattr(fs, "_handle", lambda container: Handle(proxy, real.caps))
    return proxy
