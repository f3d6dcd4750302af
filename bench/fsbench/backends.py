"""The storage each workload runs against: memory, a local directory, S3 on moto, and
S3 on moto behind a delay (the latency rows).

The driver opens a backend once, seeds the fixtures there with raw OpenDAL (the
fastest tool at hand, and untimed), and hands each worker a :class:`BackendInfo`.
``memory`` is the exception: its store lives inside one process, so each worker
seeds its own store through the contender under test.

S3 is moto's server, started by ``tests/servers.py`` (so the bench and the tests
start it the same way). moto logs one line per HTTP request it answers, which is
how requests are counted there: no proxy sits between client and server.

``latency`` is another moto server with the tests' ``FaultProxy``
(``tests/faultproxy.py``, loaded by path as well) in front of it, holding every
piece of data half a round trip each way, as a distant object store would. Every
contender, and the seeding, reaches it through the proxy, which logs the kind of
each request (HEAD, GET, LIST, PUT, COPY, DELETE, BATCH); requests are counted
from that log.

The ``bandwidth`` backends (the big-object rows) put the same proxy, with the same
delay, in front of moto, Azurite or fake-gcs-server, and also narrow each
connection to a pace (20 MB/s by default), as one stream to a cloud store is
narrow; the proxy logs how many requests were in flight as each one began. Their
fixtures, large, are seeded on the server directly, past the proxy.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from fsbench.data import FIXTURES
from fsbench.sizes import LATENCY_SIZES, Sizes

#: S3 behind the delaying proxy: the latency rows.
LATENCY = "latency"
#: S3, Azure Blob and GCS behind the delaying and pacing proxy: the big-object rows.
BANDWIDTH = "bandwidth"
BANDWIDTH_AZBLOB = "bandwidth-azblob"
BANDWIDTH_GCS = "bandwidth-gcs"
WIRE = (BANDWIDTH, BANDWIDTH_AZBLOB, BANDWIDTH_GCS)
#: The server each ``bandwidth`` backend runs (``tests/servers.py``'s names, OpenDAL's schemes).
WIRE_SERVICES = {BANDWIDTH: "s3", BANDWIDTH_AZBLOB: "azblob", BANDWIDTH_GCS: "gcs"}
#: Backends whose requests the proxy counts by kind.
PROXIED = (LATENCY, *WIRE)
BACKENDS = ("memory", "fs", "s3", LATENCY, *WIRE)
#: Round trip the proxy adds on ``latency`` unless told otherwise (``--latency-ms``).
DEFAULT_RTT_MS = 20.0
#: Each connection's pace on the ``bandwidth`` backends, MB/s each way (``--pace-mb``).
DEFAULT_PACE_MB = 20.0
ROOT = Path(__file__).resolve().parents[2]
#: The benchmark's objects live under this key prefix (memory, s3) or in a fresh directory (fs).
PREFIX = "bench"
SEED_CONCURRENCY = 32
#: One request in moto's (werkzeug's) log: `... "GET /bucket/key HTTP/1.1" 200 -`;
#: answers other than 200 are wrapped in colour codes.
_REQUEST_LINE = re.compile(rb'\] "(?:\x1b\[[\d;]*m)*([A-Z]+) [^"]* HTTP/[\d.]+')
#: One request in the proxy's log: its kind, the requests in flight, its request line.
_KIND_LINE = re.compile(rb"(?m)^([A-Z]+) ")
_IN_FLIGHT = re.compile(rb"(?m)^[A-Z]+ (\d+) ")


@dataclass
class BackendInfo:
    """What a worker needs to reach a backend; plain data, sent as JSON."""

    name: str
    #: fs: the directory; memory and s3: the key prefix inside the store or bucket.
    root: str
    #: s3 only: endpoint, region, access_key_id, secret_access_key, bucket.
    s3: dict[str, str] = field(default_factory=dict)
    #: moto's log, or the proxy's on ``latency``, whose lines are counted; None where
    #: requests are not counted.
    request_log: str | None = None
    #: The delay's round trip in milliseconds (``latency`` and ``bandwidth`` only).
    rtt_ms: float | None = None
    #: Each connection's pace in MB/s (``bandwidth`` backends only).
    pace_mb: float | None = None
    #: Azure Blob and GCS (``bandwidth-azblob``, ``-gcs``): OpenDAL's scheme, its options
    #: (the container's among them) and the container, the first segment of fsspec paths.
    service: str = ""
    options: dict[str, str] = field(default_factory=dict)
    container: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BackendInfo:
        return cls(**data)


def raw_operator(info: BackendInfo, blocking: bool = True) -> tuple[Any, str]:
    """An OpenDAL operator on ``info`` and the key prefix of the benchmark's objects.

    No retry or timeout layers: raw OpenDAL is the floor the others are held to.
    The ``AsyncOperator`` must be made inside a running event loop.
    """
    import opendal

    cls = opendal.Operator if blocking else opendal.AsyncOperator
    if info.name == "memory":
        return cls("memory"), f"{info.root}/"
    if info.name == "fs":
        return cls("fs", root=info.root), ""
    if info.service:
        return cls(info.service, **info.options), f"{info.root}/"
    options = {k: v for k, v in info.s3.items() if v}
    return cls("s3", disable_config_load="true", **options), f"{info.root}/"


def for_backend(sizes: Sizes, backend: str) -> Sizes:
    """The sizes ``backend`` runs with: the latency rows have their own, with the run's
    rounds; the big-object rows run ``wire_rounds`` rounds."""
    if backend == LATENCY:
        return replace(LATENCY_SIZES, rounds=sizes.rounds)
    if backend in WIRE:
        return replace(sizes, rounds=sizes.wire_rounds)
    return sizes


def count_requests(info: BackendInfo, start: int) -> tuple[int, dict[str, int], int]:
    """(requests, requests per HTTP method or, on ``latency``, per kind, log size) in
    ``info``'s request log after byte ``start``."""
    if info.request_log is None:
        return 0, {}, 0
    with open(info.request_log, "rb") as f:
        f.seek(start)
        text = f.read()
    pattern = _KIND_LINE if info.name in PROXIED else _REQUEST_LINE
    methods = Counter(m.decode() for m in pattern.findall(text))
    return sum(methods.values()), dict(methods), start + len(text)


def most_in_flight(info: BackendInfo, start: int) -> int | None:
    """The most requests in flight at once after byte ``start`` of the proxy's log
    (at the start of a request, where the count peaks); None where no proxy counts."""
    if info.request_log is None or info.name not in WIRE:
        return None
    with open(info.request_log, "rb") as f:
        f.seek(start)
        counts = [int(n) for n in _IN_FLIGHT.findall(f.read())]
    return max(counts, default=0)


def log_size(log: str | None) -> int:
    return os.path.getsize(log) if log else 0


def _servers() -> ModuleType:
    return _from_tests("servers")


def _faultproxy() -> ModuleType:
    return _from_tests("faultproxy")


def _from_tests(module_name: str) -> ModuleType:
    """``tests/<module_name>.py``, loaded by path so that ``tests/`` stays off ``sys.path``."""
    name = f"opendalfs_test_{module_name}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / f"{module_name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class Backend:
    """A backend opened by the driver: seeded once, cleaned after writes, stopped at the end."""

    def __init__(
        self,
        name: str,
        workdir: Path,
        fs_dir: str | None = None,
        rtt_ms: float = DEFAULT_RTT_MS,
        pace_mb: float = DEFAULT_PACE_MB,
    ) -> None:
        self._stop = None
        self._proxy: Any = None
        self._dir: str | None = None
        #: Where the fixtures are written: past the proxy on the ``bandwidth`` backends.
        self._seed_info: BackendInfo | None = None
        if name == "memory":
            self.info = BackendInfo("memory", PREFIX)
        elif name == "fs":
            self._dir = tempfile.mkdtemp(prefix="opendalfs-compare-", dir=fs_dir)
            self.info = BackendInfo("fs", self._dir)
        elif name in (BANDWIDTH_AZBLOB, BANDWIDTH_GCS):
            running = _servers().start(WIRE_SERVICES[name], workdir)
            self._stop = running.stop
            direct = dict(running.options)
            direct["bucket" if running.scheme == "gcs" else "container"] = running.container
            endpoint, request_log = self._proxied(direct["endpoint"], workdir, rtt_ms, pace_mb)
            self.info = BackendInfo(
                name,
                PREFIX,
                request_log=request_log,
                rtt_ms=rtt_ms,
                pace_mb=pace_mb,
                service=running.scheme,
                options={**direct, "endpoint": endpoint},
                container=running.container,
            )
            self._seed_info = replace(self.info, options=direct)
        elif name in ("s3", LATENCY, BANDWIDTH):
            running = _servers().start("s3", workdir)
            self._stop = running.stop
            options = running.options
            endpoint = direct_endpoint = options["endpoint"]
            log = workdir / "moto.log"
            # Another endpoint (OPENDALFS_TEST_S3_ENDPOINT) leaves no log to count.
            request_log = str(log) if log.exists() else None
            if name in PROXIED:
                pace = pace_mb if name == BANDWIDTH else None
                endpoint, request_log = self._proxied(endpoint, workdir, rtt_ms, pace)
            self.info = BackendInfo(
                name,
                PREFIX,
                s3={
                    "endpoint": endpoint,
                    "region": options["region"],
                    "access_key_id": options["access_key_id"],
                    "secret_access_key": options["secret_access_key"],
                    "bucket": running.container,
                },
                request_log=request_log,
                rtt_ms=rtt_ms if name in PROXIED else None,
                pace_mb=pace_mb if name == BANDWIDTH else None,
            )
            if name == BANDWIDTH:
                seed_s3 = {**self.info.s3, "endpoint": direct_endpoint}
                self._seed_info = replace(self.info, s3=seed_s3)
        else:
            raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")

    def _proxied(
        self, endpoint: str, workdir: Path, rtt_ms: float, pace_mb: float | None
    ) -> tuple[str, str]:
        """Start the proxy in front of ``endpoint``: (its endpoint, its request log).

        A path in ``endpoint`` (Azurite's account) is kept after the proxy's address.
        """
        upstream = urlsplit(endpoint)
        log = workdir / "requests.log"
        log.touch()
        self._proxy = _faultproxy().FaultProxy(
            (upstream.hostname, upstream.port),
            delay=rtt_ms / 2000,
            pace=pace_mb * 1e6 if pace_mb else None,
            log=log,
        )
        return self._proxy.url + upstream.path, str(log)

    @property
    def seeds_in_worker(self) -> bool:
        """True for ``memory``: each worker fills its own in-process store."""
        return self.info.name == "memory"

    def seed(self, names: list[str], sizes: Sizes) -> None:
        """Write the fixtures ``names`` with raw OpenDAL (nothing for memory)."""
        if not self.seeds_in_worker and names:
            asyncio.run(_seed(self._seed_info or self.info, names, sizes))

    def clean(self, key: str) -> None:
        """Delete everything under ``key`` (a measurement's output), untimed."""
        if self.seeds_in_worker:
            return
        if self.info.name == "fs":
            shutil.rmtree(os.path.join(self.info.root, key), ignore_errors=True)
            return
        op, prefix = raw_operator(self._seed_info or self.info)
        if self.info.service == "gcs":  # fake-gcs-server fails OpenDAL's batch delete
            for entry in op.list(f"{prefix}{key}/", recursive=True):
                if not entry.path.endswith("/"):
                    op.delete(entry.path)
            return
        op.remove_all(f"{prefix}{key}/")

    def stop(self) -> None:
        if self._proxy is not None:
            self._proxy.close()
            for error in self._proxy.errors:  # a failed measurement says what it saw
                print(f"{self.info.name}: the proxy failed: {error}")
            self._proxy = None
        if self._stop is not None:
            self._stop()
            self._stop = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def write_objects(info: BackendInfo, items: Iterable[tuple[str, bytes]]) -> None:
    """Write ``items`` (keys below the root) with raw OpenDAL; a key ending in ``/`` is a
    directory marker."""
    asyncio.run(_write(info, [items]))


async def _write(info: BackendInfo, batches: Iterable[Iterable[tuple[str, bytes]]]) -> None:
    op, prefix = raw_operator(info, blocking=False)
    limit = asyncio.Semaphore(SEED_CONCURRENCY)

    async def put(key: str, data: bytes) -> None:
        async with limit:
            if key.endswith("/"):
                await op.create_dir(prefix + key)
            else:
                await op.write(prefix + key, data)

    for items in batches:
        await asyncio.gather(*(put(k, v) for k, v in items))


async def _seed(info: BackendInfo, names: list[str], sizes: Sizes) -> None:
    await _write(info, (FIXTURES[name](sizes) for name in names))
