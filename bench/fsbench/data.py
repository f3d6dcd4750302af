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


def missing_key(i: int) -> str:
    return f"missing/{i:05d}"


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
}


def write_local_files(directory: str, sizes: Sizes) -> list[str]:
    """The local files ``put`` uploads, made once per run."""
    paths = []
    for i in range(sizes.transfer_count):
        path = os.path.join(directory, local_file_name(i))
        with open(path, "wb") as f:
            f.write(small_blob(i, sizes.transfer_size))
        paths.append(path)
    return paths
