"""The workloads, each written once against the fsspec API.

A body gets a :class:`~fsbench.contenders.Subject` and the sizes, does the timed
work and returns a number (bytes, entries, rows, files) that must equal
``expect(sizes)``: a wrong answer is reported, not timed. Raw OpenDAL's versions
of the same bodies are in :mod:`fsbench.raw`. Anything a body needs that is not
the work itself (DataFrames to write) comes from ``prepare``, untimed.
The async API's versions are in :mod:`fsbench.aio`. A workload may run on some
backends only, and the zarr ones bring their own contenders (zarr stores).

The latency rows (backend ``latency``: S3 behind a delay) are the workloads that
list it among their backends: some of the others at small sizes, and the
directory-level calls (``copy``, ``mv``, ``put``, ``get``, ``rm`` of a tree,
``info`` and ``isdir`` of a directory, ``touch``, ``glob``), whose cost on a
distant store is the number of round trips they make in sequence.

The big-object rows (``big_*``, ``huge_get_file``; the ``bandwidth`` backends:
a delay and a pace per connection) move one big object, Parquet file or zarr
array each, where the time is what parallel requests make of narrow connections.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fsbench import data
from fsbench.backends import BANDWIDTH, BANDWIDTH_AZBLOB, LATENCY, WIRE, BackendInfo
from fsbench.contenders import ZARR_STORES, Subject, ZarrSubject
from fsbench.sizes import Sizes, show_bytes, show_count, zarr_chunk_bytes, zarr_chunks

Body = Callable[[Any, Sizes, Any], int]
#: Every backend but ``latency``.
LOOPBACK = ("memory", "fs", "s3")
#: The loopback backends and the latency rows.
EVERYWHERE = (*LOOPBACK, LATENCY)


@dataclass(frozen=True)
class Workload:
    name: str
    describe: Callable[[Sizes], str]
    #: The fixtures it reads (``warmup`` is always added).
    fixtures: tuple[str, ...]
    run: Body
    expect: Callable[[Sizes], int]
    #: Directories below this measurement's ``out/`` it writes into; made beforehand
    #: on ``fs`` so that no contender pays for creating parent directories.
    writes: tuple[str, ...] = ()
    prepare: Callable[[Sizes], Any] | None = None
    #: Objects written (untimed, by raw OpenDAL) below this measurement's ``out/``
    #: before the timer: what a workload that moves or deletes objects works on.
    stage: Callable[[Sizes], Iterable[tuple[str, bytes]]] | None = None
    #: Small-object and metadata workloads, which may share one process.
    light: bool = False
    #: The backends it runs on.
    backends: tuple[str, ...] = LOOPBACK
    #: Where set, the only contenders it runs with, each with the subject it makes
    #: for this workload instead of its own.
    subjects: Mapping[str, Callable[[BackendInfo], Any]] | None = None
    #: Where set, the only contenders that run it (with their own subjects).
    only: tuple[str, ...] | None = None
    #: Contenders that leave it out (pyarrow's chunked reads of a whole big object
    #: through fsspec's wrapper: 256 KiB a request, minutes a round).
    without: tuple[str, ...] = ()
    #: Bytes it moves, where a rate (MB/s) says more than seconds: the big-object rows.
    moved: Callable[[Sizes], int] | None = None
    #: False where the sizes leave it out (``huge_get_file`` in ``--quick``).
    wanted: Callable[[Sizes], bool] = lambda z: True


# -- small objects, one by one and batched -------------------------------------


def pipe_one(s: Subject, z: Sizes, _: Any) -> int:
    blob = data.small_blob(0, z.small_size)
    for i in range(z.small_count):
        s.fs.pipe_file(s.out(data.small_key(i)), blob)
    return z.small_count


def cat_one(s: Subject, z: Sizes, _: Any) -> int:
    return sum(len(s.fs.cat_file(s.path(data.small_key(i)))) for i in range(z.small_count))


def pipe_batch(s: Subject, z: Sizes, _: Any) -> int:
    blob = data.small_blob(0, z.small_size)
    s.fs.pipe({s.out(data.small_key(i)): blob for i in range(z.small_count)})
    return z.small_count


def cat_batch(s: Subject, z: Sizes, _: Any) -> int:
    found = s.fs.cat([s.path(data.small_key(i)) for i in range(z.small_count)])
    return sum(len(v) for v in found.values())


# -- metadata ------------------------------------------------------------------------


def info(s: Subject, z: Sizes, _: Any) -> int:
    return sum(s.fs.info(s.path(data.small_key(i)))["size"] for i in range(z.small_count))


def exists_missing(s: Subject, z: Sizes, _: Any) -> int:
    return sum(bool(s.fs.exists(s.path(data.missing_key(i)))) for i in range(z.small_count))


def ls_small(s: Subject, z: Sizes, _: Any) -> int:
    return len(s.fs.ls(s.path("small"), detail=True, refresh=True))


def ls_large(s: Subject, z: Sizes, _: Any) -> int:
    return len(s.fs.ls(s.path("wide"), detail=True, refresh=True))


def find_tree(s: Subject, z: Sizes, _: Any) -> int:
    return len(s.fs.find(s.path("tree")))


# -- one large object ------------------------------------------------------------------


def cat_file_big(s: Subject, z: Sizes, _: Any) -> int:
    return len(s.fs.cat_file(s.path(data.BIG_KEY)))


def open_write_big(s: Subject, z: Sizes, _: Any) -> int:
    return write_blocks(s.fs, s.out(data.BIG_KEY), z.big_size, z.block)


def write_blocks(fs: Any, path: str, size: int, block: int) -> int:
    """``size`` bytes through ``fs.open(path, "wb")`` in ``block``-sized writes."""
    with fs.open(path, "wb") as f:
        for piece in data.blocks(size, block):
            f.write(piece)
    return size


def open_read_big(s: Subject, z: Sizes, _: Any) -> int:
    total = 0
    with s.fs.open(s.path(data.BIG_KEY), "rb") as f:
        while chunk := f.read(z.block):
            total += len(chunk)
    return total


def cat_ranges(s: Subject, z: Sizes, _: Any) -> int:
    starts = data.range_offsets(z)
    ends = [start + z.range_size for start in starts]
    found = s.fs.cat_ranges([s.path(data.RANGED_KEY)] * len(starts), starts, ends)
    for b in found:
        if isinstance(b, BaseException):  # fsspec returns failures in the list
            raise b
    return sum(len(b) for b in found)


def seek_read(s: Subject, z: Sizes, _: Any) -> int:
    total = 0
    with s.fs.open(s.path(data.RANGED_KEY), "rb") as f:
        for start in data.range_offsets(z):
            f.seek(start)
            total += len(f.read(z.range_size))
    return total


# -- dataframes -----------------------------------------------------------------------------


def pandas_write(s: Subject, z: Sizes, frames: list) -> int:
    for i, frame in enumerate(frames):
        frame.to_parquet(
            s.out(data.parquet_key(i)), filesystem=s.parquet_fs, engine="pyarrow", index=False
        )
    return sum(len(frame) for frame in frames)


def pandas_read(s: Subject, z: Sizes, _: Any) -> int:
    import pandas as pd

    return len(pd.read_parquet(s.path("parquet"), filesystem=s.parquet_fs, engine="pyarrow"))


def dask_read(s: Subject, z: Sizes, _: Any) -> int:
    import dask.dataframe as dd

    frame = dd.read_parquet(s.path("parquet"), filesystem=s.parquet_fs)
    return len(frame.compute(scheduler="threads"))


def dask_many(s: Subject, z: Sizes, _: Any) -> int:
    """By URL where the contender has one (opendalfs, fsspec's local), else ``filesystem=``."""
    import dask.dataframe as dd

    if s.url is not None:
        url, options = s.url(data.MANY_DIR)
        frame = dd.read_parquet(url, storage_options=options)
    else:
        frame = dd.read_parquet(s.path(data.MANY_DIR), filesystem=s.parquet_fs)
    return len(frame.compute(scheduler="threads"))


def parquet_total_rows(z: Sizes) -> int:
    return data.parquet_rows(z) * z.parquet_files


# -- zarr ----------------------------------------------------------------------------------


def zarr_write(s: ZarrSubject, z: Sizes, values: Any) -> int:
    """Create the array (its metadata and its parent groups), then write every chunk."""
    array = data.create_zarr(s.store, s.out("zarr"), z)
    array[...] = values
    return int(values.size)


def zarr_read(s: ZarrSubject, z: Sizes, _: Any) -> int:
    import zarr

    array = zarr.open_array(s.store, path=data.ZARR_ARRAY, mode="r", zarr_format=3)
    return int(array[...].sum(dtype="int64"))


def _zarr_text(verb: str) -> Callable[[Sizes], str]:
    return lambda z: (
        f"zarr {verb}: {show_count(zarr_chunks(z))} chunks of {show_bytes(zarr_chunk_bytes(z))}"
    )


# -- local transfers ---------------------------------------------------------------------------


def get_files(s: Subject, z: Sizes, _: Any) -> int:
    n = z.transfer_count
    s.fs.get(
        [s.path(data.transfer_key(i)) for i in range(n)],
        [os.path.join(s.scratch, data.local_file_name(i)) for i in range(n)],
    )
    return n


def put_files(s: Subject, z: Sizes, _: Any) -> int:
    n = z.transfer_count
    s.fs.put(
        [os.path.join(s.local_dir, data.local_file_name(i)) for i in range(n)],
        [s.out(data.transfer_key(i)) for i in range(n)],
    )
    return n


# -- the latency rows' own: whole directories and single calls --------------------------

#: The directory ``info_dir`` and ``isdir`` ask about, and how often.
INFO_DIR_CALLS = 3
ISDIR_CALLS = 2


def open_read_small(s: Subject, z: Sizes, _: Any) -> int:
    total = 0
    for i in range(z.small_count):
        with s.fs.open(s.path(data.small_key(i)), "rb") as f:
            total += len(f.read())
    return total


def open_write_small(s: Subject, z: Sizes, _: Any) -> int:
    with s.fs.open(s.out("small.bin"), "wb") as f:
        f.write(data.small_blob(0, z.small_size))
    return z.small_size


def info_dir(s: Subject, z: Sizes, _: Any) -> int:
    return sum(s.fs.info(s.path("small"))["type"] == "directory" for _ in range(INFO_DIR_CALLS))


def isdir(s: Subject, z: Sizes, _: Any) -> int:
    return sum(bool(s.fs.isdir(s.path("small"))) for _ in range(ISDIR_CALLS))


def copy_tree(s: Subject, z: Sizes, _: Any) -> int:
    s.fs.copy(s.path(data.DIR_TREE), s.out("copy"), recursive=True)
    return z.dir_files


def mv_file(s: Subject, z: Sizes, _: Any) -> int:
    s.fs.mv(s.out(MV_SOURCE), s.out("moved"))
    return 1


def put_tree(s: Subject, z: Sizes, _: Any) -> int:
    s.fs.put(os.path.join(s.local_dir, data.DIR_TREE), s.out("put"), recursive=True)
    return z.dir_files


def get_tree(s: Subject, z: Sizes, _: Any) -> int:
    s.fs.get(s.path(data.DIR_TREE), os.path.join(s.scratch, "got"), recursive=True)
    return local_files(s.scratch)


def rm_tree(s: Subject, z: Sizes, _: Any) -> int:
    s.fs.rm(s.out(RM_DIR), recursive=True)
    return z.dir_files


def touch_exists(s: Subject, z: Sizes, _: Any) -> int:
    s.fs.touch(s.out("touched"))
    return int(s.fs.exists(s.out("touched")))


def glob(s: Subject, z: Sizes, _: Any) -> int:
    return len(s.fs.glob(s.path("parquet") + "/*.parquet"))


# -- the big-object rows: one object at the wire's speed -----------------------------------

#: Bytes per ``read(n)`` and ``readinto`` call on the big-object rows.
WIRE_READ = 16 * 2**20


def big_cat_file(s: Subject, z: Sizes, _: Any) -> int:
    return len(s.fs.cat_file(s.path(data.WIRE_KEY)))


def big_open_read(s: Subject, z: Sizes, _: Any) -> int:
    with s.fs.open(s.path(data.WIRE_KEY), "rb") as f:
        return len(f.read())


def big_read_n(s: Subject, z: Sizes, _: Any) -> int:
    total = 0
    with s.fs.open(s.path(data.WIRE_KEY), "rb") as f:
        while chunk := f.read(WIRE_READ):
            total += len(chunk)
    return total


def big_readinto(s: Subject, z: Sizes, _: Any) -> int:
    total = 0
    buffer = memoryview(bytearray(WIRE_READ))
    with s.fs.open(s.path(data.WIRE_KEY), "rb") as f:
        while n := f.readinto(buffer):
            total += n
    return total


def big_get_file(s: Subject, z: Sizes, _: Any) -> int:
    local = os.path.join(s.scratch, "got.bin")
    s.fs.get_file(s.path(data.WIRE_KEY), local)
    return os.path.getsize(local)


def huge_get_file(s: Subject, z: Sizes, _: Any) -> int:
    local = os.path.join(s.scratch, "huge.bin")
    s.fs.get_file(s.path(data.HUGE_KEY), local)
    return os.path.getsize(local)


def big_put_file(s: Subject, z: Sizes, _: Any) -> int:
    s.fs.put_file(os.path.join(s.local_dir, data.WIRE_LOCAL), s.out(data.WIRE_KEY))
    return z.wire_size


def big_pipe_file(s: Subject, z: Sizes, blob: bytes) -> int:
    s.fs.pipe_file(s.out(data.WIRE_KEY), blob)
    return len(blob)


def big_open_write(s: Subject, z: Sizes, _: Any) -> int:
    return write_blocks(s.fs, s.out(data.WIRE_KEY), z.wire_size, z.block)


def big_parquet(s: Subject, z: Sizes, _: Any) -> int:
    import pandas as pd

    return len(pd.read_parquet(s.path(data.WIRE_PARQUET), filesystem=s.parquet_fs))


def big_parquet_columns(s: Subject, z: Sizes, _: Any) -> int:
    import pandas as pd

    columns = list(data.WIRE_PARQUET_SUBSET)
    return len(pd.read_parquet(s.path(data.WIRE_PARQUET), filesystem=s.parquet_fs, columns=columns))


def big_parquet_arrow(s: Subject, z: Sizes, _: Any) -> int:
    import pyarrow.parquet as pq

    return pq.read_table(s.path(data.WIRE_PARQUET), filesystem=s.parquet_fs).num_rows


def big_zarr_read(s: ZarrSubject, z: Sizes, _: Any) -> int:
    import zarr

    array = zarr.open_array(s.store, path=data.WIRE_ZARR, mode="r", zarr_format=3)
    return int(array[...].sum(dtype="int64"))


def big_zarr_write(s: ZarrSubject, z: Sizes, values: Any) -> int:
    array = data.create_wire_zarr(s.store, s.out("zarr"), z)
    array[...] = values
    return int(values.size)


def _wire_row(
    name: str,
    describe: Callable[[Sizes], str],
    fixtures: tuple[str, ...],
    run: Body,
    expect: Callable[[Sizes], int],
    backends: tuple[str, ...] = (BANDWIDTH,),
    moved: Callable[[Sizes], int] = lambda z: z.wire_size,
    **options: Any,
) -> Workload:
    """A big-object row: its own process, on the ``bandwidth`` backends it names."""
    return Workload(
        name, describe, fixtures, run, expect, backends=backends, moved=moved, **options
    )


def _wire_text(what: str) -> Callable[[Sizes], str]:
    return lambda z: what.format(size=show_bytes(z.wire_size), read=show_bytes(WIRE_READ))


def _parquet_text(what: str) -> Callable[[Sizes], str]:
    return lambda z: (
        f"{what} of one Parquet file of {show_bytes(z.wire_size)}: "
        f"{z.wire_row_groups} row groups x {z.wire_columns} columns"
    )


#: The big-object rows, which ``WORKLOADS`` holds with the others.
WIRE_ROWS = (
    _wire_row(
        "big_cat_file",
        _wire_text("cat_file of {size}"),
        ("wire",),
        big_cat_file,
        lambda z: z.wire_size,
        backends=WIRE,
        without=("pyarrow",),
    ),
    _wire_row(
        "big_open_read",
        _wire_text("open('rb').read() of {size}"),
        ("wire",),
        big_open_read,
        lambda z: z.wire_size,
    ),
    _wire_row(
        "big_read_n",
        _wire_text("open('rb') and read({read}) calls, {size}"),
        ("wire",),
        big_read_n,
        lambda z: z.wire_size,
        without=("pyarrow",),
    ),
    _wire_row(
        "big_readinto",
        _wire_text("open('rb') and readinto a {read} buffer, {size}"),
        ("wire",),
        big_readinto,
        lambda z: z.wire_size,
        without=("pyarrow",),
    ),
    _wire_row(
        "big_get_file",
        _wire_text("get_file of {size} to a local file"),
        ("wire",),
        big_get_file,
        lambda z: z.wire_size,
        backends=WIRE,
    ),
    _wire_row(
        "big_put_file",
        _wire_text("put_file of a local file of {size}"),
        (),
        big_put_file,
        lambda z: z.wire_size,
        backends=(BANDWIDTH, BANDWIDTH_AZBLOB),  # fake-gcs-server has no multipart
        writes=("",),
    ),
    _wire_row(
        "big_pipe_file",
        _wire_text("pipe_file of {size}"),
        (),
        big_pipe_file,
        lambda z: z.wire_size,
        writes=("",),
        prepare=lambda z: data.big_blob(z.wire_size),
        without=("pyarrow",),
    ),
    _wire_row(
        "big_open_write",
        lambda z: f"open('wb'): {show_bytes(z.wire_size)} in {show_bytes(z.block)} writes",
        (),
        big_open_write,
        lambda z: z.wire_size,
        writes=("",),
        without=("pyarrow",),
    ),
    _wire_row(
        "big_parquet",
        _parquet_text("pandas read_parquet"),
        ("wire_parquet",),
        big_parquet,
        data.wire_parquet_rows,
    ),
    _wire_row(
        "big_parquet_columns",
        lambda z: (
            _parquet_text("pandas read_parquet")(z)
            + f", {len(data.WIRE_PARQUET_SUBSET)} columns of them"
        ),
        ("wire_parquet",),
        big_parquet_columns,
        data.wire_parquet_rows,
        moved=lambda z: z.wire_size * len(data.WIRE_PARQUET_SUBSET) // z.wire_columns,
    ),
    _wire_row(
        "big_parquet_arrow",
        _parquet_text("pyarrow.parquet.read_table"),
        ("wire_parquet",),
        big_parquet_arrow,
        data.wire_parquet_rows,
    ),
    _wire_row(
        "big_zarr_read",
        lambda z: (
            f"zarr read of {show_bytes(z.wire_size)} in chunks of {show_bytes(z.wire_zarr_chunk)}"
        ),
        ("wire_zarr", "zarr_warmup"),
        big_zarr_read,
        data.wire_zarr_sum,
        subjects=ZARR_STORES,
    ),
    _wire_row(
        "big_zarr_write",
        lambda z: (
            f"zarr write of {show_bytes(z.wire_size)} in chunks of {show_bytes(z.wire_zarr_chunk)}"
        ),
        ("zarr_warmup",),
        big_zarr_write,
        data.wire_zarr_count,
        writes=("zarr",),
        prepare=data.wire_zarr_values,
        subjects=ZARR_STORES,
    ),
    _wire_row(
        "huge_get_file",
        lambda z: f"get_file of {show_bytes(z.huge_size)}: peak RSS",
        ("huge",),
        huge_get_file,
        lambda z: z.huge_size,
        moved=lambda z: z.huge_size,
        only=("opendalfs", "boto3"),
        wanted=lambda z: z.huge_size > 0,
    ),
)


def local_files(directory: str) -> int:
    """Files below ``directory``: what a ``get`` of a tree brought."""
    return sum(len(files) for _, _, files in os.walk(directory))


#: What ``mv_file`` and ``rm_tree`` work on, written below ``out/<token>/`` untimed.
MV_SOURCE = "mv-source"
RM_DIR = "rm"


def _mv_stage(z: Sizes) -> Iterable[tuple[str, bytes]]:
    yield MV_SOURCE, data.small_blob(0, z.small_size)


def _rm_stage(z: Sizes) -> Iterable[tuple[str, bytes]]:
    return data.dir_tree(z, RM_DIR)


def _tree_text(verb: str) -> Callable[[Sizes], str]:
    return lambda z: (
        f"{verb} of {z.dir_files} x {show_bytes(z.small_size)} in {z.tree_dirs} directories"
    )


def _latency_row(
    name: str,
    describe: Callable[[Sizes], str],
    fixtures: tuple[str, ...],
    run: Body,
    expect: Callable[[Sizes], int],
    **options: Any,
) -> Workload:
    """A workload of the latency rows alone; light, as its data are small."""
    return Workload(
        name, describe, fixtures, run, expect, light=True, backends=(LATENCY,), **options
    )


def _small_text(verb: str, how: str) -> Callable[[Sizes], str]:
    return lambda z: f"{verb} {show_count(z.small_count)} x {show_bytes(z.small_size)}, {how}"


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "pipe_one",
            _small_text("pipe_file", "one by one"),
            (),
            pipe_one,
            lambda z: z.small_count,
            writes=("small",),
            light=True,
            backends=EVERYWHERE,
        ),
        Workload(
            "cat_one",
            _small_text("cat_file", "one by one"),
            ("small",),
            cat_one,
            lambda z: z.small_count * z.small_size,
            light=True,
            backends=EVERYWHERE,
        ),
        Workload(
            "pipe_batch",
            _small_text("pipe", "one call with a dict"),
            (),
            pipe_batch,
            lambda z: z.small_count,
            writes=("small",),
            light=True,
        ),
        Workload(
            "cat_batch",
            _small_text("cat", "one call with a list"),
            ("small",),
            cat_batch,
            lambda z: z.small_count * z.small_size,
            light=True,
            backends=EVERYWHERE,
        ),
        Workload(
            "info",
            lambda z: f"info of {show_count(z.small_count)} files, one by one",
            ("small",),
            info,
            lambda z: z.small_count * z.small_size,
            light=True,
            backends=EVERYWHERE,
        ),
        Workload(
            "exists_missing",
            lambda z: f"exists of {show_count(z.small_count)} missing paths, one by one",
            (),
            exists_missing,
            lambda z: 0,
            light=True,
            backends=EVERYWHERE,
        ),
        Workload(
            "ls_small",
            lambda z: f"ls of {show_count(z.small_count)} entries (refresh)",
            ("small",),
            ls_small,
            lambda z: z.small_count,
            light=True,
            backends=EVERYWHERE,
        ),
        Workload(
            "ls_large",
            lambda z: f"ls of {show_count(z.wide_count)} entries (refresh)",
            ("wide",),
            ls_large,
            lambda z: z.wide_count,
            light=True,
        ),
        Workload(
            "find_tree",
            lambda z: f"find of {show_count(z.tree_count)} files, {data.TREE_DEPTH} levels",
            ("tree",),
            find_tree,
            lambda z: z.tree_count,
            light=True,
            backends=EVERYWHERE,
        ),
        Workload(
            "cat_file_big",
            lambda z: f"cat_file of {show_bytes(z.big_size)}",
            ("big",),
            cat_file_big,
            lambda z: z.big_size,
        ),
        Workload(
            "open_write_big",
            lambda z: f"open('wb'): {show_bytes(z.big_size)} in {show_bytes(z.block)} writes",
            (),
            open_write_big,
            lambda z: z.big_size,
            writes=("",),
            backends=EVERYWHERE,
        ),
        Workload(
            "open_read_big",
            lambda z: f"open('rb'): {show_bytes(z.big_size)} in {show_bytes(z.block)} reads",
            ("big",),
            open_read_big,
            lambda z: z.big_size,
        ),
        Workload(
            "cat_ranges",
            lambda z: (
                f"cat_ranges: {z.ranges} x {show_bytes(z.range_size)} of "
                f"{show_bytes(z.ranged_size)}"
            ),
            ("ranged",),
            cat_ranges,
            lambda z: z.ranges * z.range_size,
            backends=EVERYWHERE,
        ),
        Workload(
            "seek_read",
            lambda z: (
                f"seek+read: {z.ranges} x {show_bytes(z.range_size)} of "
                f"{show_bytes(z.ranged_size)}, one open file"
            ),
            ("ranged",),
            seek_read,
            lambda z: z.ranges * z.range_size,
        ),
        Workload(
            "pandas_write",
            lambda z: f"pandas to_parquet: {z.parquet_files} files, {show_bytes(z.parquet_bytes)}",
            (),
            pandas_write,
            parquet_total_rows,
            writes=("parquet",),
            prepare=data.parquet_frames,
            backends=EVERYWHERE,
        ),
        Workload(
            "pandas_read",
            lambda z: (
                f"pandas read_parquet: {z.parquet_files} files, {show_bytes(z.parquet_bytes)}"
            ),
            ("parquet",),
            pandas_read,
            parquet_total_rows,
            backends=EVERYWHERE,
        ),
        Workload(
            "dask_read",
            lambda z: f"dask read_parquet: {z.parquet_files} files, {show_bytes(z.parquet_bytes)}",
            ("parquet",),
            dask_read,
            parquet_total_rows,
            backends=EVERYWHERE,
        ),
        Workload(
            "dask_many",
            lambda z: (
                f"dask read_parquet: {show_count(z.many_files)} files of "
                f"{show_count(z.many_rows)} rows"
            ),
            ("many",),
            dask_many,
            lambda z: z.many_files * z.many_rows,
            backends=("fs",),
        ),
        Workload(
            "zarr_write",
            _zarr_text("write"),
            ("zarr_warmup",),
            zarr_write,
            lambda z: data.zarr_side(z) ** 2,
            writes=("zarr",),
            prepare=data.zarr_values,
            backends=("fs", "s3", LATENCY),
            subjects=ZARR_STORES,
        ),
        Workload(
            "zarr_read",
            _zarr_text("read"),
            ("zarr", "zarr_warmup"),
            zarr_read,
            data.zarr_sum,
            backends=("fs", "s3", LATENCY),
            subjects=ZARR_STORES,
        ),
        Workload(
            "get_files",
            lambda z: f"get {z.transfer_count} x {show_bytes(z.transfer_size)} to local files",
            ("transfer",),
            get_files,
            lambda z: z.transfer_count,
        ),
        Workload(
            "put_files",
            lambda z: f"put {z.transfer_count} x {show_bytes(z.transfer_size)} local files",
            (),
            put_files,
            lambda z: z.transfer_count,
            writes=("transfer",),
        ),
        Workload(
            "open_read_small",
            _small_text("open('rb').read()", "one by one"),
            ("small",),
            open_read_small,
            lambda z: z.small_count * z.small_size,
            light=True,
            backends=EVERYWHERE,
        ),
        _latency_row(
            "open_write_small",
            lambda z: f"open('wb') of {show_bytes(z.small_size)}",
            (),
            open_write_small,
            lambda z: z.small_size,
            writes=("",),
        ),
        _latency_row(
            "info_dir",
            lambda z: f"info of a directory, {INFO_DIR_CALLS} times on one instance",
            ("small",),
            info_dir,
            lambda z: INFO_DIR_CALLS,
        ),
        _latency_row(
            "isdir",
            lambda z: f"isdir of a directory, {ISDIR_CALLS} times on one instance",
            ("small",),
            isdir,
            lambda z: ISDIR_CALLS,
        ),
        _latency_row(
            "copy_tree",
            lambda z: _tree_text("copy(recursive=True)")(z) + " (and their markers)",
            ("dirtree",),
            copy_tree,
            lambda z: z.dir_files,
            writes=("",),
        ),
        _latency_row(
            "mv_file",
            lambda z: f"mv of one {show_bytes(z.small_size)} file",
            (),
            mv_file,
            lambda z: 1,
            writes=("",),
            stage=_mv_stage,
        ),
        _latency_row(
            "put_tree",
            _tree_text("put(recursive=True) of a local tree"),
            (),
            put_tree,
            lambda z: z.dir_files,
            writes=("",),
        ),
        _latency_row(
            "get_tree",
            _tree_text("get(recursive=True)"),
            ("dirtree",),
            get_tree,
            lambda z: z.dir_files,
        ),
        _latency_row(
            "rm_tree",
            lambda z: _tree_text("rm(recursive=True)")(z) + " (and their markers)",
            (),
            rm_tree,
            lambda z: z.dir_files,
            writes=("",),
            stage=_rm_stage,
        ),
        _latency_row(
            "touch_exists",
            lambda z: "touch, then exists of the same path",
            (),
            touch_exists,
            lambda z: 1,
            writes=("",),
        ),
        _latency_row(
            "glob",
            lambda z: f"glob of dir/*.parquet ({z.parquet_files} matches)",
            ("parquet",),
            glob,
            lambda z: z.parquet_files,
        ),
        *WIRE_ROWS,
    )
}


def bodies(namespace: Mapping[str, Any]) -> dict[str, Body]:
    """The functions in ``namespace`` named after a workload: a module's bodies."""
    return {name: namespace[name] for name in WORKLOADS if callable(namespace.get(name))}
