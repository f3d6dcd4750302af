"""Raw OpenDAL's version of every workload: the same operations, called directly.

One-by-one and single-call workloads use the blocking ``opendal.Operator``, as a
synchronous user would; batched workloads (``cat``/``pipe`` of many objects,
``cat_ranges``, ``get``/``put``) run every call at once on ``AsyncOperator``
with ``asyncio.gather``, and so do the Parquet files ``pandas_read`` fetches (pyarrow
reads a dataset's files in parallel), and the files of a tree that is copied, got or
put (one recursive listing, then every object at once). Large writes pass the
multipart options opendalfs passes (``chunk``, ``concurrent``) where the service
takes them. This is the
floor opendalfs is held to, so nothing here does more work than it must.

On the big-object rows every read passes the subject's ``read_options`` (none:
one stream; ``raw-concurrent``: ranges at once) and every write its
``write_options``; a read of a Parquet file reads the whole file, then parses it
(a column subset too: the floor of moving the bytes, not of choosing them).
"""

from __future__ import annotations

import asyncio
import fnmatch
import io
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from fsbench import data, workloads
from fsbench.contenders import RawSubject
from fsbench.sizes import Sizes
from fsbench.workloads import bodies

RawBody = Callable[[RawSubject, Sizes, Any], int]


def _files(r: RawSubject, directory: str, recursive: bool = False) -> list[Any]:
    """Entries below ``directory`` (a key), without the directory itself, metadata read."""
    target = r.key(directory) + "/"
    entries = [e for e in r.op.list(target, recursive=recursive) if e.path != target]
    for e in entries:
        e.metadata.content_length  # noqa: B018 - what an fsspec listing reports
    return entries


def pipe_one(r: RawSubject, z: Sizes, _: Any) -> int:
    blob = data.small_blob(0, z.small_size)
    for i in range(z.small_count):
        r.op.write(r.out(data.small_key(i)), blob)
    return z.small_count


def cat_one(r: RawSubject, z: Sizes, _: Any) -> int:
    return sum(len(r.op.read(r.key(data.small_key(i)))) for i in range(z.small_count))


def pipe_batch(r: RawSubject, z: Sizes, _: Any) -> int:
    blob = data.small_blob(0, z.small_size)

    async def go() -> None:
        await asyncio.gather(
            *(r.aop.write(r.out(data.small_key(i)), blob) for i in range(z.small_count))
        )

    r.run(go())
    return z.small_count


def cat_batch(r: RawSubject, z: Sizes, _: Any) -> int:
    async def go() -> list[bytes]:
        return await asyncio.gather(
            *(r.aop.read(r.key(data.small_key(i))) for i in range(z.small_count))
        )

    return sum(len(b) for b in r.run(go()))


def info(r: RawSubject, z: Sizes, _: Any) -> int:
    return sum(r.op.stat(r.key(data.small_key(i))).content_length for i in range(z.small_count))


def exists_missing(r: RawSubject, z: Sizes, _: Any) -> int:
    return sum(bool(r.op.exists(r.key(data.missing_key(i)))) for i in range(z.small_count))


def ls_small(r: RawSubject, z: Sizes, _: Any) -> int:
    return len(_files(r, "small"))


def ls_large(r: RawSubject, z: Sizes, _: Any) -> int:
    return len(_files(r, "wide"))


def find_tree(r: RawSubject, z: Sizes, _: Any) -> int:
    return sum(1 for e in _files(r, "tree", recursive=True) if e.metadata.is_file)


def cat_file_big(r: RawSubject, z: Sizes, _: Any) -> int:
    return len(r.op.read(r.key(data.BIG_KEY)))


def open_write_big(r: RawSubject, z: Sizes, _: Any) -> int:
    with r.op.open(r.out(data.BIG_KEY), "wb", **r.write_options) as f:
        for block in data.blocks(z.big_size, z.block):
            f.write(bytes(block))
    return z.big_size


def open_read_big(r: RawSubject, z: Sizes, _: Any) -> int:
    total = 0
    with r.op.open(r.key(data.BIG_KEY), "rb") as f:
        while chunk := f.read(z.block):
            total += len(chunk)
    return total


def cat_ranges(r: RawSubject, z: Sizes, _: Any) -> int:
    key = r.key(data.RANGED_KEY)

    async def go() -> list[bytes]:
        return await asyncio.gather(
            *(r.aop.read(key, offset=o, size=z.range_size) for o in data.range_offsets(z))
        )

    return sum(len(b) for b in r.run(go()))


def seek_read(r: RawSubject, z: Sizes, _: Any) -> int:
    total = 0
    with r.op.open(r.key(data.RANGED_KEY), "rb") as f:
        for start in data.range_offsets(z):
            f.seek(start)
            want = z.range_size
            while want and (chunk := f.read(want)):  # a read may return less than asked
                total += len(chunk)
                want -= len(chunk)
    return total


def pandas_write(r: RawSubject, z: Sizes, frames: list) -> int:
    for i, frame in enumerate(frames):
        buf = io.BytesIO()
        frame.to_parquet(buf, engine="pyarrow", index=False)
        r.op.write(r.out(data.parquet_key(i)), buf.getvalue())
    return sum(len(frame) for frame in frames)


def _read_table(r: RawSubject, path: str) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.py_buffer(r.op.read(path)))


def pandas_read(r: RawSubject, z: Sizes, _: Any) -> int:
    """Files fetched at once, as pyarrow's dataset reader fetches them in parallel."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = sorted(e.path for e in _files(r, "parquet"))

    async def go() -> list[bytes]:
        return await asyncio.gather(*(r.aop.read(p) for p in paths))

    tables = [pq.read_table(pa.py_buffer(blob)) for blob in r.run(go())]
    return len(pa.concat_tables(tables).to_pandas())


class _PartReader:
    """Reads one Parquet file into pandas for ``dd.from_map``.

    dask hashes the function of a graph; this one holds an operator, which does
    not hash, so it names its own token.
    """

    def __init__(self, r: RawSubject) -> None:
        self.r = r

    def __call__(self, path: str) -> Any:
        return _read_table(self.r, path).to_pandas()

    def __dask_tokenize__(self) -> str:
        return f"raw-opendal-parquet-{self.r.token}"


def _dask_read(r: RawSubject, directory: str) -> int:
    """Every Parquet file in ``directory``, one dask partition each, on dask's threads."""
    import dask.dataframe as dd
    import pandas as pd

    paths = sorted(e.path for e in _files(r, directory))
    # The schema is known, as dask's read_parquet learns it from a footer.
    meta = pd.DataFrame({"id": pd.Series(dtype="int64")})
    for name in data.PARQUET_COLUMNS:
        meta[name] = pd.Series(dtype="float64")
    frame = dd.from_map(_PartReader(r), paths, meta=meta)
    return len(frame.compute(scheduler="threads"))


def dask_read(r: RawSubject, z: Sizes, _: Any) -> int:
    return _dask_read(r, "parquet")


def dask_many(r: RawSubject, z: Sizes, _: Any) -> int:
    return _dask_read(r, data.MANY_DIR)


def get_files(r: RawSubject, z: Sizes, _: Any) -> int:
    """Local files are written on the loop: 1 MiB to the page cache beats a thread hop."""

    async def one(i: int) -> None:
        blob = await r.aop.read(r.key(data.transfer_key(i)))
        Path(r.scratch, data.local_file_name(i)).write_bytes(blob)  # noqa: ASYNC240

    async def go() -> None:
        await asyncio.gather(*(one(i) for i in range(z.transfer_count)))

    r.run(go())
    return z.transfer_count


def put_files(r: RawSubject, z: Sizes, _: Any) -> int:
    async def one(i: int) -> None:
        blob = Path(r.local_dir, data.local_file_name(i)).read_bytes()  # noqa: ASYNC240
        await r.aop.write(r.out(data.transfer_key(i)), blob)

    async def go() -> None:
        await asyncio.gather(*(one(i) for i in range(z.transfer_count)))

    r.run(go())
    return z.transfer_count


def open_write_small(r: RawSubject, z: Sizes, _: Any) -> int:
    r.op.write(r.out("small.bin"), data.small_blob(0, z.small_size))
    return z.small_size


def info_dir(r: RawSubject, z: Sizes, _: Any) -> int:
    key = r.key("small") + "/"
    return sum(r.op.stat(key).is_dir for _ in range(workloads.INFO_DIR_CALLS))


def isdir(r: RawSubject, z: Sizes, _: Any) -> int:
    key = r.key("small") + "/"
    return sum(r.op.stat(key).is_dir for _ in range(workloads.ISDIR_CALLS))


def _gather(r: RawSubject, calls: Callable[[], Iterable[Awaitable[Any]]]) -> None:
    """Every call of ``calls()`` at once; made on the loop, which AsyncOperator needs."""

    async def go() -> None:
        await asyncio.gather(*calls())

    r.run(go())


def copy_tree(r: RawSubject, z: Sizes, _: Any) -> int:
    """One recursive listing, then every copy (and directory marker) at once."""
    source = r.key(data.DIR_TREE) + "/"
    entries = _files(r, data.DIR_TREE, recursive=True)
    target = r.out("copy") + "/"
    files = [e.path for e in entries if e.metadata.is_file]
    dirs = [e.path for e in entries if e.metadata.is_dir]
    _gather(
        r,
        lambda: [
            *(r.aop.copy(p, target + p.removeprefix(source)) for p in files),
            *(r.aop.create_dir(target + p.removeprefix(source)) for p in dirs),
        ],
    )
    return len(files)


def mv_file(r: RawSubject, z: Sizes, _: Any) -> int:
    """S3 has no rename: a copy, then a delete."""
    source = r.out(workloads.MV_SOURCE)
    r.op.copy(source, r.out("moved"))
    r.op.delete(source)
    return 1


def put_tree(r: RawSubject, z: Sizes, _: Any) -> int:
    local = os.path.join(r.local_dir, data.DIR_TREE)
    paths = [os.path.join(d, f) for d, _, files in os.walk(local) for f in files]

    async def one(path: str, key: str) -> None:
        blob = Path(path).read_bytes()  # noqa: ASYNC240
        await r.aop.write(key, blob)

    _gather(r, lambda: [one(p, r.out("put/" + os.path.relpath(p, local))) for p in paths])
    return len(paths)


def get_tree(r: RawSubject, z: Sizes, _: Any) -> int:
    """One recursive listing, then every read at once, each written where it belongs."""
    source = r.key(data.DIR_TREE) + "/"
    local = os.path.join(r.scratch, "got")

    async def one(key: str, target: str) -> None:
        Path(target).write_bytes(await r.aop.read(key))  # noqa: ASYNC240

    files = {}
    for e in _files(r, data.DIR_TREE, recursive=True):
        target = os.path.join(local, e.path.removeprefix(source))
        os.makedirs(target if e.metadata.is_dir else os.path.dirname(target), exist_ok=True)
        if e.metadata.is_file:
            files[e.path] = target
    _gather(r, lambda: [one(key, target) for key, target in files.items()])
    return workloads.local_files(r.scratch)


def rm_tree(r: RawSubject, z: Sizes, _: Any) -> int:
    r.op.remove_all(r.out(workloads.RM_DIR) + "/")
    return z.dir_files


def touch_exists(r: RawSubject, z: Sizes, _: Any) -> int:
    r.op.write(r.out("touched"), b"")
    return int(r.op.exists(r.out("touched")))


def glob(r: RawSubject, z: Sizes, _: Any) -> int:
    return sum(fnmatch.fnmatch(e.path, "*.parquet") for e in _files(r, "parquet"))


def _wire_read(r: RawSubject, key: str) -> bytes:
    return r.op.read(r.key(key), **r.read_options)


def big_cat_file(r: RawSubject, z: Sizes, _: Any) -> int:
    return len(_wire_read(r, data.WIRE_KEY))


def big_read_n(r: RawSubject, z: Sizes, _: Any) -> int:
    total = 0
    with r.op.open(r.key(data.WIRE_KEY), "rb", **r.read_options) as f:
        while chunk := f.read(workloads.WIRE_READ):
            total += len(chunk)
    return total


def big_get_file(r: RawSubject, z: Sizes, _: Any) -> int:
    local = Path(r.scratch, "got.bin")
    local.write_bytes(_wire_read(r, data.WIRE_KEY))
    return local.stat().st_size


def big_put_file(r: RawSubject, z: Sizes, _: Any) -> int:
    blob = Path(r.local_dir, data.WIRE_LOCAL).read_bytes()
    r.op.write(r.out(data.WIRE_KEY), blob, **r.write_options)
    return len(blob)


def big_pipe_file(r: RawSubject, z: Sizes, blob: bytes) -> int:
    r.op.write(r.out(data.WIRE_KEY), blob, **r.write_options)
    return len(blob)


def big_open_write(r: RawSubject, z: Sizes, _: Any) -> int:
    with r.op.open(r.out(data.WIRE_KEY), "wb", **r.write_options) as f:
        for block in data.blocks(z.wire_size, z.block):
            f.write(bytes(block))
    return z.wire_size


def _wire_table(r: RawSubject, columns: list[str] | None = None) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.py_buffer(_wire_read(r, data.WIRE_PARQUET)), columns=columns)


def big_parquet(r: RawSubject, z: Sizes, _: Any) -> int:
    return len(_wire_table(r).to_pandas())


def big_parquet_columns(r: RawSubject, z: Sizes, _: Any) -> int:
    return len(_wire_table(r, list(data.WIRE_PARQUET_SUBSET)).to_pandas())


def big_parquet_arrow(r: RawSubject, z: Sizes, _: Any) -> int:
    return _wire_table(r).num_rows


#: Raw OpenDAL's body for every workload in :data:`fsbench.workloads.WORKLOADS`.
RAW_BODIES: dict[str, RawBody] = {
    **bodies(globals()),
    "open_read_small": cat_one,  # the floor of open().read() is one read
    "big_open_read": big_cat_file,
}
