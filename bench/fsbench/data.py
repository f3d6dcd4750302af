"""What the benchmark's objects hold and where they live, for every backend alike.

Keys are relative to the backend's benchmark root; each contender turns a key
into its own path. Contents are deterministic, so every contender of every round
reads the same bytes. Fixtures are the data a workload reads; they are written
once per backend before any timing (per process for ``memory``, whose store
lives in the process).
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Callable, Iterator
from typing import Any

from fsbench.sizes import MiB, Sizes

SEED = 20240601
#: Read, listed and missed by every contender before its timing starts.
WARMUP_DIR = "warmup"
WARMUP_KEY = "warmup/file"
WARMUP_MISSING = "warmup/missing"
BIG_KEY = "big.bin"
RANGED_KEY = "ranged.bin"
#: Depth of the ``find`` tree, and about how many files share a leaf directory.
TREE_DEPTH = 4
TREE_LEAF_FILES = 16
TINY = b"0123456789abcdef" * 4  # 64 bytes: the listed objects' content does not matter
PARQUET_COLUMNS = ("a", "b", "c", "d", "e")
#: The zarr array the read workload reads, and a small one every zarr store reads first.
ZARR_ARRAY = "zarr/read"
ZARR_WARMUP = "zarr/warmup"
#: The many small Parquet files dask reads, one directory.
MANY_DIR = "many"
#: The directory tree that copy and get read (``put`` uploads a local twin of it).
DIR_TREE = "dirtree"
#: The big-object rows' object, Parquet file and zarr array, and the 1 GiB object.
WIRE_KEY = "wire.bin"
WIRE_PARQUET = "wire.parquet"
WIRE_ZARR = "zarr/wire"
HUGE_KEY = "huge.bin"
#: The local file ``put_file`` uploads on the big-object rows (below the run's local dir).
WIRE_LOCAL = "wire.bin"
#: The columns of the big Parquet file a column-subset read asks for.
WIRE_PARQUET_SUBSET = ("a", "c")
#: Values along a row of the big zarr array's chunks (int32): 2,048 x 4 bytes.
WIRE_ZARR_WIDTH = 2048


def small_key(i: int) -> str:
    return f"small/{i:05d}"


def wide_key(i: int) -> str:
    return f"wide/{i:05d}"


def tree_fanout(count: int) -> int:
    """Subdirectories per directory, so that leaves hold about ``TREE_LEAF_FILES`` files.

    10,000 files: 5 per level, 625 leaf directories of 16 files.
    """
    return max(1, round((count / TREE_LEAF_FILES) ** (1 / TREE_DEPTH)))


def tree_key(i: int, count: int) -> str:
    """File ``i`` of ``count`` in the tree: ``tree/d0/d1/d2/d3/i``."""
    fanout = tree_fanout(count)
    dirs = [str((i // fanout**level) % fanout) for level in range(TREE_DEPTH)]
    return "tree/" + "/".join(dirs) + f"/{i:05d}"


def transfer_key(i: int) -> str:
    return f"transfer/{i:03d}"


def parquet_key(i: int) -> str:
    return f"parquet/part-{i}.parquet"


def many_key(i: int) -> str:
    return f"{MANY_DIR}/part-{i:03d}.parquet"


def missing_key(i: int) -> str:
    return f"missing/{i:05d}"


def dir_tree(sizes: Sizes, base: str, markers: bool = True) -> Iterator[tuple[str, bytes]]:
    """``sizes.dir_files`` small files in ``sizes.tree_dirs`` subdirectories of ``base``,
    and (``markers``) each subdirectory's marker, a key ending in ``/``."""
    for d in range(sizes.tree_dirs):
        if markers:
            yield f"{base}/d{d}/", b""
        for i in range(d, sizes.dir_files, sizes.tree_dirs):
            yield f"{base}/d{d}/{i:03d}", small_blob(i, sizes.small_size)


def small_blob(i: int, size: int) -> bytes:
    """``size`` bytes that differ per ``i``."""
    head = f"{i:08d}".encode()
    return (head * (size // len(head) + 1))[:size]


def blocks(size: int, block: int) -> Iterator[memoryview]:
    """``size`` bytes in ``block``-sized views of one random buffer, numbered per block.

    The buffer is reused: a consumer must copy (``write`` does) before the next block.
    """
    buf = bytearray(random.Random(SEED).randbytes(block))
    view = memoryview(buf)
    done = number = 0
    while done < size:
        n = min(block, size - done)
        buf[: min(8, n)] = number.to_bytes(8, "little")[: min(8, n)]
        yield view[:n]
        done += n
        number += 1


def big_blob(size: int) -> bytes:
    return b"".join(bytes(b) for b in blocks(size, 4 * MiB))


def range_offsets(sizes: Sizes) -> list[int]:
    """``sizes.ranges`` random offsets into the ranged object, the same every run."""
    rng = random.Random(SEED)
    top = sizes.ranged_size - sizes.range_size
    return [rng.randrange(0, top + 1) for _ in range(sizes.ranges)]


def parquet_rows(sizes: Sizes) -> int:
    """Rows per file: random float64 barely compresses, so 8 bytes a value."""
    columns = len(PARQUET_COLUMNS) + 1  # and the int64 id
    return max(1, sizes.parquet_bytes // sizes.parquet_files // (8 * columns))


def parquet_frames(sizes: Sizes) -> list:
    """The Parquet dataset as ``parquet_files`` pandas DataFrames, one per file."""
    import numpy as np
    import pandas as pd

    rows = parquet_rows(sizes)
    frames = []
    for i in range(sizes.parquet_files):
        rng = np.random.default_rng(SEED + i)
        columns = {"id": np.arange(i * rows, (i + 1) * rows, dtype="int64")}
        columns.update({name: rng.random(rows) for name in PARQUET_COLUMNS})
        frames.append(pd.DataFrame(columns))
    return frames


def parquet_blob(frame: Any) -> bytes:
    """One DataFrame as Parquet bytes (pyarrow, no index)."""
    buf = io.BytesIO()
    frame.to_parquet(buf, engine="pyarrow", index=False)
    return buf.getvalue()


def many_frame(i: int, rows: int) -> Any:
    """Small Parquet file ``i`` of the many: the columns of the large dataset."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED + i)
    columns = {"id": np.arange(i * rows, (i + 1) * rows, dtype="int64")}
    columns.update({name: rng.random(rows) for name in PARQUET_COLUMNS})
    return pd.DataFrame(columns)


def zarr_side(sizes: Sizes, grid: int | None = None) -> int:
    """Values along a side of an array of ``grid`` x ``grid`` chunks (default: the large one)."""
    return (sizes.zarr_grid if grid is None else grid) * sizes.zarr_chunk


def zarr_values(sizes: Sizes, grid: int | None = None) -> Any:
    """The zarr array's values: 0, 1, 2 … as int32."""
    import numpy as np

    side = zarr_side(sizes, grid)
    return np.arange(side * side, dtype="int32").reshape(side, side)


def zarr_sum(sizes: Sizes, grid: int | None = None) -> int:
    """The sum of :func:`zarr_values`: what a complete read adds up to."""
    n = zarr_side(sizes, grid) ** 2
    return n * (n - 1) // 2


def create_zarr(store: Any, name: str, sizes: Sizes, grid: int | None = None) -> Any:
    """An empty array for :func:`zarr_values` at ``name``: zarr v3, chunks uncompressed.

    Without a compressor the bytes moved are the values themselves and the time
    is the store's, not zstd's.
    """
    import zarr

    side = zarr_side(sizes, grid)
    return zarr.create_array(
        store,
        name=name,
        shape=(side, side),
        chunks=(sizes.zarr_chunk, sizes.zarr_chunk),
        dtype="int32",
        compressors=None,
        zarr_format=3,
    )


def wire_parquet_rows(sizes: Sizes) -> int:
    """Rows of the big Parquet file: ``wire_size`` bytes of float64 values."""
    per_group = sizes.wire_size // (8 * sizes.wire_columns * sizes.wire_row_groups)
    return per_group * sizes.wire_row_groups


def wire_parquet_blob(sizes: Sizes) -> bytes:
    """One Parquet file of ``wire_row_groups`` row groups and ``wire_columns`` random
    float64 columns (pyarrow's defaults otherwise: Snappy, which random values defeat)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = wire_parquet_rows(sizes)
    rng = np.random.default_rng(SEED)
    table = pa.table({name: rng.random(rows) for name in PARQUET_COLUMNS[: sizes.wire_columns]})
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=rows // sizes.wire_row_groups)
    return buf.getvalue()


def wire_zarr_shape(sizes: Sizes) -> tuple[tuple[int, int], tuple[int, int]]:
    """(shape, chunks) of the big zarr array: ``wire_size`` bytes of int32 in chunks of
    ``wire_zarr_chunk`` bytes, one chunk across."""
    chunk_rows = sizes.wire_zarr_chunk // (4 * WIRE_ZARR_WIDTH)
    chunks = max(1, sizes.wire_size // sizes.wire_zarr_chunk)
    return (chunks * chunk_rows, WIRE_ZARR_WIDTH), (chunk_rows, WIRE_ZARR_WIDTH)


def wire_zarr_values(sizes: Sizes) -> Any:
    """The big zarr array's values: 0, 1, 2 … as int32."""
    import numpy as np

    shape, _ = wire_zarr_shape(sizes)
    return np.arange(shape[0] * shape[1], dtype="int32").reshape(shape)


def wire_zarr_count(sizes: Sizes) -> int:
    """Values in the big zarr array."""
    shape, _ = wire_zarr_shape(sizes)
    return shape[0] * shape[1]


def wire_zarr_sum(sizes: Sizes) -> int:
    n = wire_zarr_count(sizes)
    return n * (n - 1) // 2


def create_wire_zarr(store: Any, name: str, sizes: Sizes) -> Any:
    """An empty big zarr array at ``name``: zarr v3, chunks uncompressed."""
    import zarr

    shape, chunks = wire_zarr_shape(sizes)
    return zarr.create_array(
        store,
        name=name,
        shape=shape,
        chunks=chunks,
        dtype="int32",
        compressors=None,
        zarr_format=3,
    )


def local_file_name(i: int) -> str:
    return f"{i:03d}.bin"


Fixture = Callable[[Sizes], Iterator[tuple[str, bytes]]]


def _warmup(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    yield WARMUP_KEY, TINY


def _small(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    for i in range(sizes.small_count):
        yield small_key(i), small_blob(i, sizes.small_size)


def _wide(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    for i in range(sizes.wide_count):
        yield wide_key(i), TINY


def _tree(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    for i in range(sizes.tree_count):
        yield tree_key(i, sizes.tree_count), TINY


def _big(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    yield BIG_KEY, big_blob(sizes.big_size)


def _ranged(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    yield RANGED_KEY, big_blob(sizes.ranged_size)


def _transfer(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    for i in range(sizes.transfer_count):
        yield transfer_key(i), small_blob(i, sizes.transfer_size)


def _parquet(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    for i, frame in enumerate(parquet_frames(sizes)):
        yield parquet_key(i), parquet_blob(frame)


def _dir_tree(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    return dir_tree(sizes, DIR_TREE)


def _many(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    for i in range(sizes.many_files):
        yield many_key(i), parquet_blob(many_frame(i, sizes.many_rows))


def _zarr_array(name: str, sizes: Sizes, grid: int | None = None) -> Iterator[tuple[str, bytes]]:
    """An array written by zarr into a dict: its keys (parent groups too) and bytes."""
    from zarr.storage import MemoryStore

    written: dict[str, Any] = {}
    create_zarr(MemoryStore(written), name, sizes, grid)[...] = zarr_values(sizes, grid)
    for key, buffer in written.items():
        yield key, buffer.to_bytes()


def _wire(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    yield WIRE_KEY, big_blob(sizes.wire_size)


def _huge(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    yield HUGE_KEY, big_blob(sizes.huge_size)


def _wire_parquet(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    yield WIRE_PARQUET, wire_parquet_blob(sizes)


def _wire_zarr(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    from zarr.storage import MemoryStore

    written: dict[str, Any] = {}
    create_wire_zarr(MemoryStore(written), WIRE_ZARR, sizes)[...] = wire_zarr_values(sizes)
    for key, buffer in written.items():
        yield key, buffer.to_bytes()


def _zarr(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    return _zarr_array(ZARR_ARRAY, sizes)


def _zarr_warmup(sizes: Sizes) -> Iterator[tuple[str, bytes]]:
    return _zarr_array(ZARR_WARMUP, sizes, grid=2)


#: Every fixture by name; workloads name the ones they read.
FIXTURES: dict[str, Fixture] = {
    "warmup": _warmup,
    "small": _small,
    "wide": _wide,
    "tree": _tree,
    "big": _big,
    "ranged": _ranged,
    "transfer": _transfer,
    "parquet": _parquet,
    "many": _many,
    "dirtree": _dir_tree,
    "zarr": _zarr,
    "zarr_warmup": _zarr_warmup,
    "wire": _wire,
    "huge": _huge,
    "wire_parquet": _wire_parquet,
    "wire_zarr": _wire_zarr,
}


def write_local_files(directory: str, sizes: Sizes, wire: bool = False) -> list[str]:
    """The local files ``put`` uploads, made once per run, the tree ``put`` of a
    directory uploads (``DIR_TREE`` below ``directory``) and, with ``wire``, the big
    file of the big-object rows (``WIRE_LOCAL``)."""
    if wire:
        with open(os.path.join(directory, WIRE_LOCAL), "wb") as f:
            for block in blocks(sizes.wire_size, 4 * MiB):
                f.write(block)
    paths = []
    for i in range(sizes.transfer_count):
        path = os.path.join(directory, local_file_name(i))
        with open(path, "wb") as f:
            f.write(small_blob(i, sizes.transfer_size))
        paths.append(path)
    for key, blob in dir_tree(sizes, DIR_TREE, markers=False):
        os.makedirs(os.path.dirname(os.path.join(directory, key)), exist_ok=True)
        with open(os.path.join(directory, key), "wb") as f:
            f.write(blob)
    return paths
