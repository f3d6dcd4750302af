"""Smoke tests of the storage servers in ``servers.py``, through raw OpenDAL.

They check each server fixture on its own (start, prepare, one round trip, stop), so
a broken fixture shows up here rather than as a filesystem failure elsewhere. A
server whose software is missing is skipped, except under CI, where it fails.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import opendal
import pytest
import servers


def _start(name: str, workdir: Path) -> servers.Running:
    try:
        return servers.start(name, workdir)
    except servers.ServerUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name}: {exc} (CI must not skip a server)")
        pytest.skip(str(exc))


@pytest.fixture(scope="session", params=servers.NAMES)
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.Running]:
    name = request.param
    server = _start(name, tmp_path_factory.mktemp(f"server-{name}"))
    try:
        yield server
    finally:
        server.stop()


def _operator(server: servers.Running) -> opendal.AsyncOperator:
    key = servers.CONTAINER_OPTION.get(server.scheme)
    if key is None:
        assert server.container == ""
        return opendal.AsyncOperator(server.scheme, **server.options)
    assert server.container
    assert key not in server.options, "the container goes in Running.container"
    return opendal.AsyncOperator(server.scheme, **server.options, **{key: server.container})


async def test_round_trip(running: servers.Running) -> None:
    op = _operator(running)
    if running.scheme == "http":  # read-only: tests put files where the server reads
        assert running.seed_dir is not None
        name = f"smoke-{uuid.uuid4().hex[:8]}.bin"
        (running.seed_dir / name).write_bytes(b"0123456789")
        assert bytes(await op.read(name)) == b"0123456789"
        assert bytes(await op.read(name, offset=2, size=3)) == b"234"
        assert (await op.stat(name)).content_length == 10
        return
    assert running.seed_dir is None
    path = f"smoke-{uuid.uuid4().hex[:8]}/key.bin"
    data = bytes(range(256)) * 4
    await op.write(path, data)
    assert bytes(await op.read(path)) == data
    assert bytes(await op.read(path, offset=2, size=3)) == data[2:5]
    await op.delete(path)
    with pytest.raises(opendal.exceptions.NotFound):
        await op.stat(path)


def test_names_match_starters() -> None:
    assert set(servers.NAMES) == set(servers._STARTERS)
    with pytest.raises(ValueError, match="unknown server"):
        servers.start("no-such-server", Path("unused"))


def test_stop_is_idempotent_and_frees_the_port(tmp_path: Path) -> None:
    server = _start("redis", tmp_path)
    port = int(server.options["endpoint"].rsplit(":", 1)[1])
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    server.stop()
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
