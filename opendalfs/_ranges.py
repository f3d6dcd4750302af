"""Range coalescing for ``cat_ranges``: nearby ranges of a file become one read.

Readers of columnar formats (Parquet, zarr shards) ask for many small ranges of
one file at once. On an object store each read is a request whose latency dwarfs
the time to send a few hundred extra kilobytes, so ranges closer than ``gap``
bytes are read together, up to ``MAX_SPAN`` bytes per read, and cut apart after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Ranges this close are read in one request on services reached over a network.
NETWORK_GAP = 2**20
#: The most one coalesced read fetches, so a read stays parallel and bounded.
MAX_SPAN = 32 * 2**20


@dataclass
class Span:
    """One read that serves the ranges at ``members`` (indexes into the request)."""

    path: str
    start: int
    end: int
    members: list[int] = field(default_factory=list)


def plan(
    paths: list[str], starts: list[int | None], ends: list[int | None], gap: int
) -> tuple[list[Span], list[int]]:
    """(coalesced spans, indexes of ranges to read on their own).

    Only plain ranges (``0 <= start < end``) are coalesced; open-ended and
    negative ones are resolved against the file's size by ``cat_file`` itself.
    """
    alone: list[int] = []
    by_path: dict[str, list[tuple[int, int, int]]] = {}
    for i, (path, start, end) in enumerate(zip(paths, starts, ends, strict=True)):
        if start is None or end is None or start < 0 or end <= start:
            alone.append(i)
        else:
            by_path.setdefault(path, []).append((start, end, i))
    spans: list[Span] = []
    for path, ranges in by_path.items():
        current: Span | None = None
        for start, end, i in sorted(ranges):
            if (
                current is not None
                and start <= current.end + gap
                and max(end, current.end) - current.start <= MAX_SPAN
            ):
                current.end = max(current.end, end)
            else:
                current = Span(path, start, end)
                spans.append(current)
            current.members.append(i)
    return spans, alone


def cut(span: Span, data: bytes, starts: list[int | None], ends: list[int | None]) -> dict:
    """Each member range's bytes out of the span's ``data`` (short at the file's end)."""
    out = {}
    for i in span.members:
        start, end = starts[i] - span.start, ends[i] - span.start  # type: ignore[operator]
        out[i] = data if start == 0 and end >= len(data) else data[start:end]
    return out
