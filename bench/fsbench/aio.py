"""opendalfs-async's version of the workloads: the same work through the coroutine API.

Each body does what its twin in :mod:`fsbench.workloads` does, with
``await fs._cat_file(...)``, ``await fs._pipe(...)``, ``await fs.open_async(...)``
and so on, in one coroutine that the subject's own event loop runs to its end.
pandas and dask take a sync filesystem, so their workloads have no body here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from fsbench import data, workloads
from fsbench.contenders import AsyncSubject
from fsbench.sizes import Sizes
from fsbench.workloads import bodies

AsyncBody = Callable[[AsyncSubject, Sizes, Any], int]


def pipe_one(s: AsyncSubject, z: Sizes, _: Any) -> int:
    blob = data.small_blob(0, z.small_size)

    async def go() -> None:
        for i in range(z.small_count):
            await s.fs._pipe_file(s.out(data.small_key(i)), blob)

    s.run(go())
    return z.small_count


def cat_one(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        total = 0
        for i in range(z.small_count):
            total += len(await s.fs._cat_file(s.path(data.small_key(i))))
        return total

    return s.run(go())


def pipe_batch(s: AsyncSubject, z: Sizes, _: Any) -> int:
    blob = data.small_blob(0, z.small_size)
    s.run(s.fs._pipe({s.out(data.small_key(i)): blob for i in range(z.small_count)}))
    return z.small_count


def cat_batch(s: AsyncSubject, z: Sizes, _: Any) -> int:
    found = s.run(s.fs._cat([s.path(data.small_key(i)) for i in range(z.small_count)]))
    return sum(len(v) for v in found.values())


def info(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        total = 0
        for i in range(z.small_count):
            total += (await s.fs._info(s.path(data.small_key(i))))["size"]
        return total

    return s.run(go())


def exists_missing(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        found = 0
        for i in range(z.small_count):
            found += bool(await s.fs._exists(s.path(data.missing_key(i))))
        return found

    return s.run(go())


def ls_small(s: AsyncSubject, z: Sizes, _: Any) -> int:
    return len(s.run(s.fs._ls(s.path("small"), detail=True, refresh=True)))


def ls_large(s: AsyncSubject, z: Sizes, _: Any) -> int:
    return len(s.run(s.fs._ls(s.path("wide"), detail=True, refresh=True)))


def find_tree(s: AsyncSubject, z: Sizes, _: Any) -> int:
    return len(s.run(s.fs._find(s.path("tree"))))


def cat_file_big(s: AsyncSubject, z: Sizes, _: Any) -> int:
    return len(s.run(s.fs._cat_file(s.path(data.BIG_KEY))))


def open_write_big(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> None:
        async with await s.fs.open_async(s.out(data.BIG_KEY), "wb") as f:
            for block in data.blocks(z.big_size, z.block):
                await f.write(block)

    s.run(go())
    return z.big_size


def open_read_big(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        total = 0
        async with await s.fs.open_async(s.path(data.BIG_KEY), "rb") as f:
            while chunk := await f.read(z.block):
                total += len(chunk)
        return total

    return s.run(go())


def cat_ranges(s: AsyncSubject, z: Sizes, _: Any) -> int:
    starts = data.range_offsets(z)
    ends = [start + z.range_size for start in starts]
    found = s.run(s.fs._cat_ranges([s.path(data.RANGED_KEY)] * len(starts), starts, ends))
    for b in found:
        if isinstance(b, BaseException):
            raise b
    return sum(len(b) for b in found)


def seek_read(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        total = 0
        async with await s.fs.open_async(s.path(data.RANGED_KEY), "rb") as f:
            for start in data.range_offsets(z):
                f.seek(start)
                total += len(await f.read(z.range_size))
        return total

    return s.run(go())


def get_files(s: AsyncSubject, z: Sizes, _: Any) -> int:
    n = z.transfer_count
    s.run(
        s.fs._get(
            [s.path(data.transfer_key(i)) for i in range(n)],
            [os.path.join(s.scratch, data.local_file_name(i)) for i in range(n)],
        )
    )
    return n


def put_files(s: AsyncSubject, z: Sizes, _: Any) -> int:
    n = z.transfer_count
    s.run(
        s.fs._put(
            [os.path.join(s.local_dir, data.local_file_name(i)) for i in range(n)],
            [s.out(data.transfer_key(i)) for i in range(n)],
        )
    )
    return n


def open_read_small(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        total = 0
        for i in range(z.small_count):
            async with await s.fs.open_async(s.path(data.small_key(i)), "rb") as f:
                total += len(await f.read())
        return total

    return s.run(go())


def open_write_small(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> None:
        async with await s.fs.open_async(s.out("small.bin"), "wb") as f:
            await f.write(data.small_blob(0, z.small_size))

    s.run(go())
    return z.small_size


def info_dir(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        infos = [await s.fs._info(s.path("small")) for _ in range(workloads.INFO_DIR_CALLS)]
        return sum(i["type"] == "directory" for i in infos)

    return s.run(go())


def isdir(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        return sum([await s.fs._isdir(s.path("small")) for _ in range(workloads.ISDIR_CALLS)])

    return s.run(go())


def copy_tree(s: AsyncSubject, z: Sizes, _: Any) -> int:
    s.run(s.fs._copy(s.path(data.DIR_TREE), s.out("copy"), recursive=True))
    return z.dir_files


def mv_file(s: AsyncSubject, z: Sizes, _: Any) -> int:
    s.run(s.fs._mv(s.out(workloads.MV_SOURCE), s.out("moved")))
    return 1


def put_tree(s: AsyncSubject, z: Sizes, _: Any) -> int:
    s.run(s.fs._put(os.path.join(s.local_dir, data.DIR_TREE), s.out("put"), recursive=True))
    return z.dir_files


def get_tree(s: AsyncSubject, z: Sizes, _: Any) -> int:
    s.run(s.fs._get(s.path(data.DIR_TREE), os.path.join(s.scratch, "got"), recursive=True))
    return workloads.local_files(s.scratch)


def rm_tree(s: AsyncSubject, z: Sizes, _: Any) -> int:
    s.run(s.fs._rm(s.out(workloads.RM_DIR), recursive=True))
    return z.dir_files


def touch_exists(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        await s.fs._touch(s.out("touched"))
        return int(await s.fs._exists(s.out("touched")))

    return s.run(go())


def big_cat_file(s: AsyncSubject, z: Sizes, _: Any) -> int:
    return len(s.run(s.fs._cat_file(s.path(data.WIRE_KEY))))


def big_open_read(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        async with await s.fs.open_async(s.path(data.WIRE_KEY), "rb") as f:
            return len(await f.read())

    return s.run(go())


def big_read_n(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> int:
        total = 0
        async with await s.fs.open_async(s.path(data.WIRE_KEY), "rb") as f:
            while chunk := await f.read(workloads.WIRE_READ):
                total += len(chunk)
        return total

    return s.run(go())


def big_get_file(s: AsyncSubject, z: Sizes, _: Any) -> int:
    local = os.path.join(s.scratch, "got.bin")
    s.run(s.fs._get_file(s.path(data.WIRE_KEY), local))
    return os.path.getsize(local)


def big_put_file(s: AsyncSubject, z: Sizes, _: Any) -> int:
    s.run(s.fs._put_file(os.path.join(s.local_dir, data.WIRE_LOCAL), s.out(data.WIRE_KEY)))
    return z.wire_size


def big_pipe_file(s: AsyncSubject, z: Sizes, blob: bytes) -> int:
    s.run(s.fs._pipe_file(s.out(data.WIRE_KEY), blob))
    return len(blob)


def big_open_write(s: AsyncSubject, z: Sizes, _: Any) -> int:
    async def go() -> None:
        async with await s.fs.open_async(s.out(data.WIRE_KEY), "wb") as f:
            for block in data.blocks(z.wire_size, z.block):
                await f.write(block)

    s.run(go())
    return z.wire_size


def glob(s: AsyncSubject, z: Sizes, _: Any) -> int:
    return len(s.run(s.fs._glob(s.path("parquet") + "/*.parquet")))


#: opendalfs-async's body for every workload the async API can do.
ASYNC_BODIES: dict[str, AsyncBody] = bodies(globals())
