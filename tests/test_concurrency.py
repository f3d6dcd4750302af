"""Concurrency: one filesystem shared by many threads, many coroutines, and many loops.

Each worker keeps a model of what it wrote, and every read is checked against it as
the run goes; afterwards a new instance (which shares no listing cache) must see
exactly the models, and every listing left in the shared instance's cache must agree
with a fresh listing. A deadlock fails through pytest-timeout, never by a clock in
the test. ``OPENDALFS_STRESS_OPS`` raises the number of operations per thread.

tests/integration/zarr/test_zarr_loops.py already runs an ``asynchronous=True``
instance in two ``asyncio.run`` calls in a row and from two threads at once; the
loop tests here cover what it does not: an instance made inside a loop, files and
cancelled calls that outlive their loop.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from opendalfs import OpendalFileSystem

if TYPE_CHECKING:
    from conftest import Service

#: Each service under both drivers of the sync API: blocking (its default) and the loop.
SERVICES = ["memory", "fs", "s3", "memory@loop", "fs@loop", "s3@loop"]
on_services = pytest.mark.parametrize("service", SERVICES, indirect=True)
#: The async API has one driver: its tests run once per service.
on_services_async = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services

THREADS = 16
OPS = int(os.environ.get("OPENDALFS_STRESS_OPS", "200"))
#: Seconds a join may wait before the test calls it a deadlock (pytest-timeout is the
#: real bound; this only keeps a stuck thread from hiding the others' errors).
HANG_GUARD = 300
#: Names each thread writes under its own directory: some nested, so that a
#: directory appears and disappears as its files come and go.
NAMES = [f"f{k}" for k in range(6)] + [f"sub/g{k}" for k in range(3)]
SHARED = {f"s{k}": f"shared-{k}".encode() for k in range(4)}


def fresh(service: Service) -> OpendalFileSystem:
    """An instance with its own, empty listing cache."""
    return service.filesystem(skip_instance_cache=True)


def assert_cache_agrees(fs: OpendalFileSystem, other: OpendalFileSystem, root: str) -> None:
    """Every cached listing at or below ``root`` is what a fresh listing says."""
    for name in sorted(k for k in list(fs.dircache) if k == root or k.startswith(f"{root}/")):
        cached = [i["name"] for i in fs.dircache[name]]
        assert cached == other.ls(name, detail=False, refresh=True), f"stale cache of {name}"


def assert_stored(other: OpendalFileSystem, base: str, model: dict[str, bytes]) -> None:
    """``base`` holds exactly the files of ``model`` (relative name -> bytes)."""
    assert other.find(base) == sorted(f"{base}/{n}" for n in model)
    for rel, data in model.items():
        assert other.cat_file(f"{base}/{rel}") == data, f"{base}/{rel}"


@dataclass
class Worker:
    """One thread's share of the run: its directory, its model and its random choices."""

    fs: OpendalFileSystem
    root: str
    number: int
    model: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base = f"{self.root}/t{self.number}"
        self.rng = random.Random(self.number)

    def path(self, rel: str) -> str:
        return f"{self.base}/{rel}"

    def run(self, ops: int) -> None:
        actions = self.actions()
        for step in range(ops):
            self.rng.choice(actions)(step)

    def actions(self) -> list[Callable[[int], None]]:
        """Writes and reads of this thread's directory, reads of the shared one."""
        return [
            self.pipe,
            self.pipe,
            self.cat,
            self.info,
            self.exists,
            self.ls,
            self.rm_file,
            self.mv,
            self.touch,
            self.find,
            self.read_shared,
            self.read_shared,
        ]

    def present(self) -> str | None:
        return self.rng.choice(sorted(self.model)) if self.model else None

    def pipe(self, step: int) -> None:
        rel = self.rng.choice(NAMES)
        data = f"{self.number}:{step}:{rel}".encode()
        self.fs.pipe_file(self.path(rel), data)
        self.model[rel] = data

    def touch(self, step: int) -> None:
        rel = self.rng.choice(NAMES)
        self.fs.touch(self.path(rel))
        self.model[rel] = b""

    def cat(self, step: int) -> None:
        rel = self.present()
        if rel is not None:
            assert self.fs.cat_file(self.path(rel)) == self.model[rel], rel

    def info(self, step: int) -> None:
        rel = self.rng.choice(NAMES)
        if rel in self.model:
            assert self.fs.info(self.path(rel))["size"] == len(self.model[rel]), rel
        else:
            with pytest.raises(FileNotFoundError):
                self.fs.info(self.path(rel))

    def exists(self, step: int) -> None:
        rel = self.rng.choice(NAMES)
        assert self.fs.exists(self.path(rel)) == (rel in self.model), rel

    def ls(self, step: int) -> None:
        if not self.model:
            return
        listing = self.fs.ls(self.base, detail=True)
        files = sorted(i["name"] for i in listing if i["type"] == "file")
        dirs = {i["name"] for i in listing if i["type"] == "directory"}
        assert files == sorted(self.path(n) for n in self.model if "/" not in n)
        if any(n.startswith("sub/") for n in self.model):
            assert self.path("sub") in dirs

    def find(self, step: int) -> None:
        assert self.fs.find(self.base) == sorted(self.path(n) for n in self.model)

    def rm_file(self, step: int) -> None:
        rel = self.present()
        if rel is not None:
            self.fs.rm_file(self.path(rel))
            del self.model[rel]

    def mv(self, step: int) -> None:
        rel = self.present()
        free = [n for n in NAMES if n not in self.model]
        if rel is not None and free:
            target = self.rng.choice(free)
            self.fs.mv(self.path(rel), self.path(target))
            self.model[target] = self.model.pop(rel)

    def read_shared(self, step: int) -> None:
        shared = f"{self.root}/shared"
        if self.rng.random() < 0.5:
            rel = self.rng.choice(sorted(SHARED))
            assert self.fs.cat_file(f"{shared}/{rel}") == SHARED[rel]
        else:
            assert self.fs.ls(shared, detail=False) == [f"{shared}/{n}" for n in sorted(SHARED)]


def run_threads(targets: list[Callable[[], None]]) -> None:
    """Start the targets together; re-raise the first error any of them hit."""
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Callable[[], None]) -> None:
        try:
            barrier.wait(HANG_GUARD)
            target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD)
    assert not any(t.is_alive() for t in threads), "a thread never finished: deadlock?"
    if errors:
        raise errors[0]


@on_services
@pytest.mark.timeout(600)
def test_threads_share_one_filesystem(service, fs, root):
    """16 threads x OPS mixed calls on one instance: no deadlock, no error, and the
    cache and the store agree with each thread's model afterwards."""
    fs.pipe({f"{root}/shared/{n}": data for n, data in SHARED.items()})
    workers = [Worker(fs, root, i) for i in range(THREADS)]
    run_threads([lambda w=w: w.run(OPS) for w in workers])
    other = fresh(service)
    for worker in workers:
        assert_stored(other, worker.base, worker.model)
    assert_cache_agrees(fs, other, root)


@on_services
@pytest.mark.timeout(300)
def test_threads_listing_the_whole_tree_while_others_write(service, fs, root):
    """``find`` of the common parent (which fills the listing cache) runs while the
    other threads write below it and list what they wrote: no listing it caches may
    hide a write made before it was cached."""
    fs.pipe({f"{root}/shared/{n}": data for n, data in SHARED.items()})
    writers = [Worker(fs, root, i) for i in range(THREADS // 2)]

    def write(worker: Worker) -> None:
        for step in range(OPS // 4):
            worker.pipe(step)
            worker.ls(step)  # from the cache, if a survey filled it
            worker.exists(step)

    def survey() -> None:
        for _ in range(OPS // 4):
            fs.find(root)

    run_threads([lambda w=w: write(w) for w in writers] + [survey] * (THREADS // 2))
    other = fresh(service)
    for worker in writers:
        assert_stored(other, worker.base, worker.model)
    assert_cache_agrees(fs, other, root)


@on_services_async
@pytest.mark.timeout(300)
async def test_500_calls_gathered_on_one_loop(service, root):
    """500 mixed coroutines at once on an ``asynchronous=True`` instance."""
    fs = service.filesystem(asynchronous=True, skip_instance_cache=True)
    readable = {f"{root}/r/{k}": f"read-{k}".encode() * (k + 1) for k in range(50)}
    await fs._pipe(readable)
    names = sorted(readable)
    written: dict[str, bytes] = {}

    async def call(i: int) -> None:
        name = names[i % len(names)]
        kind = i % 4
        if kind == 0:
            path = f"{root}/w/{i}"
            written[path] = f"written-{i}".encode()
            await fs._pipe_file(path, written[path])
        elif kind == 1:
            assert await fs._cat_file(name) == readable[name]
        elif kind == 2:
            assert (await fs._info(name))["size"] == len(readable[name])
        else:
            assert await fs._ls(f"{root}/r", detail=False) == names

    await asyncio.gather(*(call(i) for i in range(500)))
    other = fresh(service)
    assert other.find(f"{root}/w") == sorted(written)
    assert other.cat(sorted(written)) == written
    assert await fs._ls(f"{root}/w", detail=False) == sorted(written)
    assert_cache_agrees(fs, other, root)


# -- one asynchronous instance, several event loops -------------------------------------------


def in_new_loop(make: Callable[[], Any]) -> Any:
    """``asyncio.run`` of ``make()``; a loop stuck past the guard fails instead of hanging."""

    async def guarded() -> Any:
        return await asyncio.wait_for(make(), HANG_GUARD)

    return asyncio.run(guarded())


def in_thread(target: Callable[[], Any]) -> Any:
    """Run ``target`` in a new thread (so: with its own event loop); its result."""
    box: list[Any] = []
    run_threads([lambda: box.append(target())])
    return box[0]


@on_services_async
@pytest.mark.timeout(120)
def test_an_instance_made_inside_a_loop_serves_later_loops(service, root):
    """Made with ``asynchronous=True`` inside one ``asyncio.run``; the next run gets the
    same instance from fsspec's cache, and it works there and in another thread's loop."""

    async def make() -> OpendalFileSystem:
        fs = service.filesystem(asynchronous=True)
        await fs._pipe_file(f"{root}/a", b"first loop")
        await fs._ls(root)  # leave a listing in the cache
        return fs

    async def again() -> tuple[OpendalFileSystem, bytes, list[str]]:
        fs = service.filesystem(asynchronous=True)
        await fs._pipe_file(f"{root}/b", b"second loop")
        return fs, await fs._cat_file(f"{root}/a"), await fs._ls(root, detail=False)

    first = in_new_loop(make)
    second, data, listing = in_new_loop(again)
    assert second is first
    assert data == b"first loop"
    assert listing == [f"{root}/a", f"{root}/b"]

    async def elsewhere() -> bytes:
        await first._rm_file(f"{root}/a")
        return await first._cat_file(f"{root}/b")

    assert in_thread(lambda: in_new_loop(elsewhere)) == b"second loop"
    assert fresh(service).find(root) == [f"{root}/b"]


@on_services_async
@pytest.mark.timeout(120)
def test_async_files_outlive_the_loop_that_opened_them(service, root):
    """A file opened (and half written) in one loop is finished in another."""
    fs = service.filesystem(asynchronous=True, skip_instance_cache=True)

    async def start_writing() -> Any:
        f = await fs.open_async(f"{root}/f", "wb")
        await f.write(b"begun in one loop, ")
        return f

    async def finish(f: Any) -> tuple[Any, bytes]:
        await f.write(b"ended in another")
        await f.close()
        reader = await fs.open_async(f"{root}/f", "rb")
        return reader, await reader.read(5)

    writer = in_new_loop(start_writing)
    reader, head = in_thread(lambda: in_new_loop(lambda: finish(writer)))
    assert head == b"begun"

    async def read_on() -> bytes:
        return await reader.read()

    assert in_new_loop(read_on) == b" in one loop, ended in another"


@on_services_async
@pytest.mark.timeout(120)
def test_calls_cancelled_or_abandoned_with_their_loop_leave_it_usable(service, root):
    """Reads cancelled mid-flight, and reads still pending when their loop closes, do
    not break the instance (nor OpenDAL's runtime) for the next loops."""
    fs = service.filesystem(asynchronous=True, skip_instance_cache=True)
    data = bytes(range(256)) * 4096  # 1 MiB

    async def cancel_reads() -> int:
        await fs._pipe_file(f"{root}/big", data)
        tasks = [asyncio.ensure_future(fs._cat_file(f"{root}/big")) for _ in range(40)]
        await asyncio.sleep(0)  # let them start
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return sum(isinstance(r, asyncio.CancelledError) for r in results)

    async def abandon_reads() -> list[asyncio.Future]:
        pending = [asyncio.ensure_future(fs._cat_file(f"{root}/big")) for _ in range(40)]
        await asyncio.sleep(0)  # asyncio.run cancels what is left when it returns
        return pending

    async def use() -> tuple[bytes, list[str]]:
        await fs._pipe_file(f"{root}/small", b"still fine")
        return await fs._cat_file(f"{root}/small"), await fs._find(root)

    cancelled = in_new_loop(cancel_reads)
    if service.in_process:  # an awaited call there never suspends: none is caught mid-flight
        assert cancelled == 0
    else:
        assert cancelled > 0
    in_new_loop(abandon_reads)
    expected = (b"still fine", [f"{root}/big", f"{root}/small"])
    assert in_new_loop(use) == expected
    assert in_thread(lambda: in_new_loop(use)) == expected
