"""Worker processes: a forked child fails at once with advice, a spawned one works.

OpenDAL's Rust runtime keeps its threads in the process that started it, so after
a fork every OpenDAL call in the child would wait forever (seen with opendal
0.47.12, sync and async). opendalfs cannot restart that runtime; it refuses at
once with an error that says what to do.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle

import pytest

from opendalfs import OpendalFileSystem
from opendalfs._operators import ForkedProcessError, ProcessLocalStoreError

HANG_GUARD = 60  # seconds: a hang fails the test instead of the whole run


def _read(fs_bytes: bytes, path: str) -> bytes:
    return pickle.loads(fs_bytes).cat_file(path)


_PARENT: list[OpendalFileSystem] = []  # the parent's instance, inherited by forked children


def _read_with_parent_instance(path: str) -> bytes:
    return _PARENT[0].cat_file(path)


def _read_with_new_instance(path: str) -> bytes:
    return OpendalFileSystem("memory", skip_instance_cache=True).cat_file(path)


def _outcome(call, *args):
    try:
        return ("ok", call(*args))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@pytest.fixture
def used_memory_fs():
    fs = OpendalFileSystem("memory")
    fs.pipe_file("proc/x", b"parent data")
    return fs


@pytest.mark.parametrize("via", ["same instance", "new instance"])
def test_forked_child_fails_fast_with_advice(used_memory_fs, via):
    ctx = multiprocessing.get_context("fork")
    _PARENT[:] = [used_memory_fs]
    reader = _read_with_parent_instance if via == "same instance" else _read_with_new_instance
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        kind, message = pool.submit(_outcome, reader, "proc/x").result(timeout=HANG_GUARD)
    assert kind == ForkedProcessError.__name__
    assert "spawn" in message
    assert "forked" in message


def test_spawned_child_works_on_a_shared_service(tmp_path):
    """The filesystem travels by pickle; a service outside the process is reachable."""
    fs = OpendalFileSystem("fs", root=str(tmp_path))
    fs.pipe_file("data.bin", b"on disk")
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        result = pool.submit(_read, pickle.dumps(fs), "data.bin").result(timeout=HANG_GUARD)
    assert result == b"on disk"


def test_spawned_child_cannot_reach_the_parents_memory_store(used_memory_fs):
    """``memory`` lives in one process: a worker that gets it by pickle is told so."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        future = pool.submit(_outcome, _read, pickle.dumps(used_memory_fs), "proc/x")
        kind, message = future.result(timeout=HANG_GUARD)
    assert kind == ProcessLocalStoreError.__name__
    assert "fs, s3" in message


_EXIT_SCRIPT = """
import asyncio
from opendalfs import OpendalFileSystem
fs = OpendalFileSystem("memory")
fs.pipe({f"x/{i}": b"1" * 1000 for i in range(50)})
fs.cat([f"x/{i}" for i in range(50)])
async def also_async():
    afs = OpendalFileSystem("memory", asynchronous=True, skip_instance_cache=True)
    await asyncio.gather(*(afs._cat_file(f"x/{i}") for i in range(50)))
asyncio.run(also_async())
"""


def test_interpreter_exit_is_clean_under_load():
    """Exit right after many calls must not abort (opendal's threads racing finalization).

    Without the exit hook about one run in ten aborted with SIGABRT on two busy
    cores; the runs go two at a time to keep both cores busy.
    """
    import subprocess
    import sys

    runs, codes = 24, []
    for _ in range(runs // 2):
        pair = [subprocess.Popen([sys.executable, "-c", _EXIT_SCRIPT]) for _ in range(2)]
        codes += [p.wait(timeout=HANG_GUARD) for p in pair]
    assert codes == [0] * runs
