"""How much work each workload does: the full sizes of issues 6 and 11 and the ``--quick`` ones."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

KiB = 2**10
MiB = 2**20


@dataclass(frozen=True)
class Sizes:
    """Counts and byte sizes of the workloads, and how many rounds to run."""

    #: 1 KiB objects piped and read one by one and batched; also the small listing.
    small_count: int = 1000
    small_size: int = KiB
    #: Entries in the large listing.
    wide_count: int = 10_000
    #: Files ``find`` walks, spread over a tree of directories four levels deep.
    tree_count: int = 10_000
    #: The one large object (cat_file, open, cat_ranges, seek+read).
    big_size: int = 256 * MiB
    #: Bytes per ``f.write`` / ``f.read`` call on the large object.
    block: int = 4 * MiB
    #: Random reads of ``range_size`` bytes from an object of ``ranged_size``. It is
    #: smaller than the large object because moto reads a whole object for every
    #: ranged GET: 500 ranges of 256 MiB would measure moto, not the clients.
    ranges: int = 500
    range_size: int = 64 * KiB
    ranged_size: int = 32 * MiB
    #: The Parquet dataset: about this many bytes in this many files.
    parquet_bytes: int = 200 * 10**6
    parquet_files: int = 8
    #: Files moved by ``get`` and ``put``.
    transfer_count: int = 100
    transfer_size: int = MiB
    #: The zarr array: ``zarr_grid`` x ``zarr_grid`` chunks of ``zarr_chunk`` x
    #: ``zarr_chunk`` int32 values, uncompressed (32 x 32 x 4 bytes: 4 KiB a chunk).
    zarr_grid: int = 32
    zarr_chunk: int = 32
    #: The many small Parquet files dask reads: this many files of this many rows.
    many_files: int = 200
    many_rows: int = 2000
    #: The directory tree copy, get, put and rm move: this many small files spread
    #: over ``tree_dirs`` subdirectories, each with a directory marker on a store.
    dir_files: int = 60
    tree_dirs: int = 4
    #: Rounds: every contender runs every workload this many times, interleaved.
    rounds: int = 5
    #: The big-object rows (``bandwidth`` backends): the object most rows move, the
    #: Parquet file (``wire_row_groups`` row groups of ``wire_columns`` float64 columns)
    #: and the zarr array (chunks of ``wire_zarr_chunk`` bytes) are about this size.
    wire_size: int = 128 * MiB
    wire_row_groups: int = 8
    wire_columns: int = 4
    wire_zarr_chunk: int = 8 * MiB
    #: The object whose ``get_file`` peak RSS is measured; 0 leaves that row out.
    huge_size: int = 1024 * MiB
    #: Rounds of the big-object rows, which move the most bytes of any.
    wire_rounds: int = 3

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sizes:
        return cls(**data)


FULL = Sizes()

#: A few minutes on two cores: a tenth of the counts, 16 MiB instead of 256 MiB,
#: a 16 MB Parquet dataset, 256 zarr chunks, 40 small Parquet files, two rounds.
QUICK = replace(
    FULL,
    small_count=100,
    wide_count=1000,
    tree_count=1000,
    big_size=16 * MiB,
    ranges=100,
    ranged_size=8 * MiB,
    parquet_bytes=16 * 10**6,
    transfer_count=20,
    zarr_grid=16,
    many_files=40,
    rounds=2,
    wire_size=32 * MiB,
    huge_size=0,
    wire_rounds=1,
)


#: The latency rows (S3 behind the delaying proxy), full run and ``--quick`` alike:
#: at 20 ms a round trip, each sequential request costs more than the bytes it moves.
LATENCY_SIZES = replace(
    QUICK,
    small_count=50,
    tree_count=360,
    big_size=64 * MiB,
    ranges=50,
    parquet_bytes=8 * 10**6,
    parquet_files=4,
)


def zarr_chunks(z: Sizes) -> int:
    return z.zarr_grid**2


def zarr_chunk_bytes(z: Sizes) -> int:
    return z.zarr_chunk**2 * 4  # int32


def show_bytes(n: int) -> str:
    """``"256 MiB"``, ``"64 KiB"``, ``"200 MB"``: the unit that divides ``n`` exactly."""
    for unit, scale in (("GiB", 2**30), ("MiB", MiB), ("MB", 10**6), ("KiB", KiB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def show_count(n: int) -> str:
    return f"{n:,}"


def describe(z: Sizes) -> str:
    """The sizes in one line, for the report's header."""
    return (
        f"{show_count(z.small_count)} x {show_bytes(z.small_size)} small objects, "
        f"listings of {show_count(z.small_count)} and {show_count(z.wide_count)}, "
        f"a tree of {show_count(z.tree_count)} files, a {show_bytes(z.big_size)} object "
        f"in {show_bytes(z.block)} calls, {z.ranges} x {show_bytes(z.range_size)} ranges "
        f"of a {show_bytes(z.ranged_size)} object, "
        f"{z.parquet_files} Parquet files of {show_bytes(z.parquet_bytes)} in all, "
        f"{z.transfer_count} x {show_bytes(z.transfer_size)} get/put, "
        f"a zarr array of {show_count(zarr_chunks(z))} x {show_bytes(zarr_chunk_bytes(z))} "
        f"chunks, {show_count(z.many_files)} Parquet files of {show_count(z.many_rows)} rows, "
        f"{z.rounds} round(s)"
    )


def describe_wire(z: Sizes) -> str:
    """The big-object rows' sizes in one line."""
    huge = f", get_file of {show_bytes(z.huge_size)} for peak RSS" if z.huge_size else ""
    return (
        f"a {show_bytes(z.wire_size)} object, a Parquet file of about that size "
        f"({z.wire_row_groups} row groups x {z.wire_columns} float64 columns), a zarr array "
        f"of about that size in {show_bytes(z.wire_zarr_chunk)} chunks{huge}, "
        f"{z.rounds} round(s)"
    )
