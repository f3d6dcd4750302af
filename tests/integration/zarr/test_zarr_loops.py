"""One filesystem used from several event loops, as zarr and applications do.

zarr runs its own event loop in a thread of its own, an application may call
``asyncio.run`` more than once, and threads may each run a loop. An instance made
with ``asynchronous=True`` is bound to none of them: it must work from each (never
"Future attached to a different loop", never a hang), and a blocking call on it
must fail at once with an error that says what to do. Each wait has a generous
guard, so a hang fails the test instead of stalling the run.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

if sys.version_info < (3, 11):
    pytest.skip("zarr 3.1 and kerchunk need Python 3.11", allow_module_level=True)
if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    pytest.importorskip("zarr", minversion="3")

import numpy as np
import zarr
import zarr.api.asynchronous as azarr
from zarr.storage import FsspecStore

SERVICES = ["memory", "fs", "s3"]
on_services = pytest.mark.parametrize("service", SERVICES, indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services

#: Seconds before a stuck loop or thread fails the test: a guard against hangs only.
HANG_GUARD = 120


def run_in_new_loop(make: Callable[[], Any]) -> Any:
    """``asyncio.run`` of the coroutine ``make()``, failing rather than hanging."""

    async def guarded() -> Any:
        return await asyncio.wait_for(make(), HANG_GUARD)

    return asyncio.run(guarded())


def run_in_threads(*targets: Callable[[], Any]) -> list[Any]:
    """Run each target in its own thread, all started together; their results in order.

    A barrier makes them start at the same moment, so their loops overlap.
    """
    barrier = threading.Barrier(len(targets))
    results: list[Any] = [None] * len(targets)
    errors: list[BaseException] = []

    def run(i: int, target: Callable[[], Any]) -> None:
        try:
            barrier.wait(HANG_GUARD)
            results[i] = target()
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(i, t), daemon=True) for i, t in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD)
    assert not any(t.is_alive() for t in threads), "a thread's event loop hung"
    if errors:
        raise errors[0]
    return results


async def exercise(fs: Any, base: str, tag: str, files: int = 8) -> dict[str, Any]:
    """Writes, reads, lists and deletes under ``base/tag`` with concurrent calls."""
    here = f"{base}/{tag}"
    names = sorted(f"{here}/f{i}" for i in range(files))
    await asyncio.gather(*(fs._pipe_file(n, f"{tag}:{n}".encode()) for n in names))
    contents = await asyncio.gather(*(fs._cat_file(n) for n in names))
    ranges = await fs._cat_ranges(names, [0] * files, [len(tag)] * files)
    listed = await fs._ls(here, detail=False)
    found = await fs._find(here)
    info = await fs._info(names[0])
    await fs._rm(here, recursive=True)
    gone = not await fs._exists(names[0])
    return {
        "contents": contents == [f"{tag}:{n}".encode() for n in names],
        "ranges": ranges == [tag.encode()] * files,
        "listed": sorted(listed) == names,
        "found": found == names,
        "size": info["size"] == len(f"{tag}:{names[0]}"),
        "gone": gone,
    }


ALL_GOOD = dict.fromkeys(("contents", "ranges", "listed", "found", "size", "gone"), True)


@on_services
def test_asynchronous_instance_in_two_asyncio_runs(service, root):
    fs = service.filesystem(asynchronous=True)
    assert run_in_new_loop(lambda: exercise(fs, root, "first")) == ALL_GOOD
    assert run_in_new_loop(lambda: exercise(fs, root, "second")) == ALL_GOOD


@on_services
def test_asynchronous_instance_from_two_threads_at_once(service, root):
    fs = service.filesystem(asynchronous=True)
    results = run_in_threads(
        lambda: run_in_new_loop(lambda: exercise(fs, root, "left", files=16)),
        lambda: run_in_new_loop(lambda: exercise(fs, root, "right", files=16)),
    )
    assert results == [ALL_GOOD, ALL_GOOD]


@on_services
def test_blocking_call_on_an_asynchronous_instance_says_what_to_do(service, root):
    fs = service.filesystem(asynchronous=True)
    with pytest.raises(RuntimeError, match="asynchronous=True: await its _methods"):
        fs.ls(root)

    async def from_a_loop() -> None:
        fs.ls(root)

    with pytest.raises(RuntimeError, match="asynchronous=True: await its _methods"):
        run_in_new_loop(from_a_loop)


@on_services
def test_blocking_instance_from_a_running_loop(service, root):
    """A blocking call where a loop already runs (a notebook cell) works, and so does
    awaiting the blocking instance's coroutines in a loop that is not fsspec's."""
    fs = service.filesystem()
    fs.pipe(f"{root}/x", b"blocking")

    async def in_a_loop() -> tuple[bytes, bytes]:
        return fs.cat(f"{root}/x"), await fs._cat_file(f"{root}/x")

    assert run_in_new_loop(in_a_loop) == (b"blocking", b"blocking")
    assert run_in_new_loop(in_a_loop) == (b"blocking", b"blocking")


@on_services
def test_zarr_loop_and_application_loops_share_a_filesystem(service, root):
    """zarr's blocking API (on zarr's own loop) and its async API on the caller's loops
    (two asyncio.run in a row, then two threads at once) use one instance."""
    fs = service.filesystem(asynchronous=True)
    store = FsspecStore(fs, path=f"{root}/shared.zarr")
    data = np.arange(60 * 40, dtype="i8").reshape(60, 40)
    array = zarr.create_array(store, shape=data.shape, chunks=(10, 10), dtype="i8")
    array[:] = data  # on zarr's loop

    async def read(rows: slice) -> np.ndarray:
        opened = await azarr.open_array(store=store, mode="r")
        return await opened.getitem((rows, slice(None)))

    async def write_then_read(rows: slice, value: int) -> np.ndarray:
        opened = await azarr.open_array(store=store, mode="r+")
        await opened.setitem((rows, slice(None)), value)
        return await opened.getitem((rows, slice(None)))

    np.testing.assert_array_equal(run_in_new_loop(lambda: read(slice(0, 30))), data[:30])
    np.testing.assert_array_equal(run_in_new_loop(lambda: read(slice(30, 60))), data[30:])

    top, bottom = run_in_threads(
        lambda: run_in_new_loop(lambda: write_then_read(slice(0, 30), -1)),
        lambda: run_in_new_loop(lambda: write_then_read(slice(30, 60), -2)),
    )
    assert (top == -1).all()
    assert (bottom == -2).all()

    expected = data.copy()
    expected[:30], expected[30:] = -1, -2
    np.testing.assert_array_equal(zarr.open_array(store, mode="r")[:], expected)  # zarr's loop
