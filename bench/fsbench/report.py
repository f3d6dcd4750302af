"""Medians, ratios and markdown tables from the measurements' records."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from fsbench.contenders import ASYNC, BOTO3, RAW, RAW_PARALLEL, REFERENCE
from fsbench.sizes import MiB, Sizes
from fsbench.workloads import WORKLOADS

BACKEND_TITLES = {
    "memory": "memory (in-process store: pure adapter overhead)",
    "fs": "fs (a local directory; reads come from the page cache)",
    "s3": "s3 (moto on 127.0.0.1; requests counted in moto's log)",
    "latency": (
        "latency (moto behind a proxy that adds {rtt:g} ms a round trip; requests counted "
        "by kind at the proxy)"
    ),
    "bandwidth": (
        "bandwidth: big objects (moto behind a proxy that adds {rtt:g} ms a round trip and "
        "paces each connection to {pace:g} MB/s each way)"
    ),
    "bandwidth-azblob": (
        "bandwidth-azblob: big objects on Azure Blob (Azurite behind the proxy: {rtt:g} ms, "
        "{pace:g} MB/s a connection)"
    ),
    "bandwidth-gcs": (
        "bandwidth-gcs: big objects on GCS (fake-gcs-server behind the proxy: {rtt:g} ms, "
        "{pace:g} MB/s a connection)"
    ),
}


@dataclass
class Summary:
    """One contender on one workload and backend, over all its rounds."""

    backend: str
    workload: str
    contender: str
    runs: int = 0
    median: float | None = None
    low: float | None = None
    high: float | None = None
    requests: float | None = None
    methods: dict[str, int] = field(default_factory=dict)
    peak_rss_mib: float | None = None
    delta_rss_mib: float | None = None
    #: The most requests in flight at once, in any round (``bandwidth`` backends).
    most_in_flight: int | None = None
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str], Summary]:
    """Group the records by (backend, workload, contender); medians of the good runs."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["backend"], r["workload"], r["contender"]), []).append(r)
    out = {}
    for key, runs in groups.items():
        s = Summary(*key)
        good = [r for r in runs if "error" not in r]
        s.errors = [r["error"] for r in runs if "error" in r]
        s.runs = len(good)
        if good:
            times = [r["seconds"] for r in good]
            s.median, s.low, s.high = statistics.median(times), min(times), max(times)
            counted = [r["requests"] for r in good if r.get("requests") is not None]
            s.requests = statistics.median(counted) if counted else None
            s.methods = good[0].get("methods") or {}
            s.peak_rss_mib = max(r["peak_rss_mib"] for r in good)
            s.delta_rss_mib = max(r["delta_rss_mib"] for r in good)
            flights = [r["most_in_flight"] for r in good if r.get("most_in_flight") is not None]
            s.most_in_flight = max(flights) if flights else None
        out[key] = s
    return out


def ratio(
    summaries: dict, backend: str, workload: str, a: str, b: str, b_workload: str | None = None
) -> float | None:
    """Median of ``a`` over median of ``b`` (on ``b_workload`` if given), when both were
    measured."""
    x = summaries.get((backend, workload, a))
    y = summaries.get((backend, b_workload or workload, b))
    if x is None or y is None or x.median is None or not y.median:
        return None
    return x.median / y.median


def seconds_text(x: float | None) -> str:
    if x is None:
        return "—"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}" if x >= 0.01 else f"{x:.4f}"


def ratio_text(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


def markdown(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A markdown table, columns padded so that it also reads as plain text."""
    body = [list(head), *(list(r) for r in rows)]
    widths = [max(len(r[i]) for r in body) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in body
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(s: Summary | None) -> str:
    if s is None:
        return "—"
    if s.median is None:
        return "error"
    return seconds_text(s.median) + ("*" if s.errors else "")


def measured_on(summaries: dict, backend: str, names: Sequence[str], index: int) -> list[str]:
    """The ``names`` (workloads: ``index`` 1, contenders: 2) measured on ``backend``, in order."""
    seen = {key[index] for key in summaries if key[0] == backend}
    return [n for n in names if n in seen]


def ratio_columns(backend: str, contenders: Sequence[str]) -> list[tuple[str, str]]:
    """The (subject, yardstick) pairs of the overview: opendalfs' sync and async API against
    raw OpenDAL, opendalfs against the backend's reference and against obstore."""
    pairs = [("opendalfs", RAW), (ASYNC, RAW), ("opendalfs", REFERENCE[backend])]
    pairs.append(("opendalfs", "obstore"))
    return [(a, b) for a, b in pairs if a in contenders and b in contenders]


def overview(
    summaries: dict, backend: str, workloads: list[str], contenders: list[str], sizes: Sizes
) -> str:
    """Median seconds per workload (rows) and contender (columns), opendalfs' ratios last."""
    pairs = ratio_columns(backend, contenders)
    head = ["workload", *contenders, *(f"{a} x {'raw' if b == RAW else b}" for a, b in pairs)]
    rows = []
    for w in workloads:
        cells = [_cell(summaries.get((backend, w, c))) for c in contenders]
        ratios = [ratio_text(ratio(summaries, backend, w, a, b)) for a, b in pairs]
        rows.append([WORKLOADS[w].describe(sizes), *cells, *ratios])
    return markdown(head, rows)


def details(summaries: dict, backend: str, workloads: list[str], contenders: list[str]) -> str:
    """One row per workload and contender: spread, ratios, requests and memory."""
    ref = REFERENCE[backend]
    head = [
        "workload",
        "contender",
        "median s",
        "min-max s",
        "x raw",
        f"x {ref}",
        "x obstore",
        "requests",
        "peak RSS MiB",
        "+RSS MiB",
    ]

    def cells(w: str, c: str, s: Summary) -> list[str]:
        methods = " ".join(f"{m}:{n}" for m, n in sorted(s.methods.items()))
        requests = "—" if s.requests is None else f"{s.requests:g}"
        return [
            ratio_text(ratio(summaries, backend, w, c, RAW)),
            ratio_text(ratio(summaries, backend, w, c, ref)),
            ratio_text(ratio(summaries, backend, w, c, "obstore")),
            f"{requests} ({methods})" if methods else requests,
            *_memory(s),
        ]

    return markdown(head, _detail_rows(summaries, backend, workloads, contenders, len(head), cells))


def _detail_rows(
    summaries: dict,
    backend: str,
    workloads: list[str],
    contenders: list[str],
    width: int,
    cells: Callable[[str, str, Summary], list[str]],
) -> list[list[str]]:
    """One row per workload and contender measured: the workload, the contender, the
    median and the spread, then ``cells``; ``error`` where no round succeeded."""
    rows = []
    for w in workloads:
        for c in contenders:
            s = summaries.get((backend, w, c))
            if s is None:
                continue
            if s.median is None:
                rows.append([w, c, "error", *[""] * (width - 3)])
                continue
            failed = f" ({len(s.errors)} failed)" if s.errors else ""
            spread = f"{seconds_text(s.low)}-{seconds_text(s.high)}"
            rows.append([w, c, seconds_text(s.median) + failed, spread, *cells(w, c, s)])
    return rows


def _memory(s: Summary) -> list[str]:
    """Peak RSS and its growth during the timed call, in MiB."""
    return [f"{s.peak_rss_mib:.0f}", f"{max(0.0, s.delta_rss_mib or 0.0):.0f}"]


def _kinds(s: Summary) -> str:
    """``50 (GET 50)``: the median count and one round's requests by kind."""
    if s.requests is None:
        return "—"
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(s.methods.items()))
    return f"{s.requests:g} ({kinds})" if kinds else f"{s.requests:g}"


def latency(summaries: dict, backend: str, workloads: list[str], contenders: list[str]) -> str:
    """Per latency row and contender: median seconds, x raw OpenDAL, requests by kind."""
    head = ["workload", *contenders]
    rows = []
    for w in workloads:
        cells = []
        for c in contenders:
            s = summaries.get((backend, w, c))
            if s is None or s.median is None:
                cells.append(_cell(s))
                continue
            times = (
                f"{_cell(s)} s"
                if c == RAW
                else f"{_cell(s)} s, {ratio_text(ratio(summaries, backend, w, c, RAW))}"
            )
            cells.append(f"{times}; {_kinds(s)}")
        rows.append([w, *cells])
    return markdown(head, rows)


#: The yardsticks of the big-object rows' ratio columns (opendalfs' median over theirs).
WIRE_YARDSTICKS = (BOTO3, "s3fs", "pyarrow", "obstore", RAW, RAW_PARALLEL)


def rate_text(summary: Summary | None, moved: int) -> str:
    """``73 MB/s``: the bytes a row moves over its median time."""
    if summary is None or not summary.median:
        return "—"
    return f"{moved / summary.median / 1e6:.0f} MB/s"


def wire(
    summaries: dict, backend: str, workloads: list[str], contenders: list[str], sizes: Sizes
) -> str:
    """Per big-object row: each contender's median seconds and MB/s, then opendalfs'
    (sync) ratios to the yardsticks measured here."""
    yardsticks = [c for c in WIRE_YARDSTICKS if c in contenders]
    head = ["row", *contenders, *(f"opendalfs x {c}" for c in yardsticks)]
    rows = []
    for w in workloads:
        moved = _moved(w, sizes)
        cells = []
        for c in contenders:
            s = summaries.get((backend, w, c))
            cells.append(
                _cell(s)
                if s is None or s.median is None
                else f"{_cell(s)} s, {rate_text(s, moved)}"
            )
        ratios = [ratio_text(ratio(summaries, backend, w, "opendalfs", c)) for c in yardsticks]
        rows.append([w, *cells, *ratios])
    return markdown(head, rows)


def _moved(workload: str, sizes: Sizes) -> int:
    moved = WORKLOADS[workload].moved
    return moved(sizes) if moved else 0


def wire_details(
    summaries: dict, backend: str, workloads: list[str], contenders: list[str], sizes: Sizes
) -> str:
    """One row per big-object row and contender: spread, rate, requests by kind, the most
    in flight at once, memory."""
    head = [
        "row",
        "contender",
        "median s",
        "min-max s",
        "MB/s",
        "requests",
        "most in flight",
        "peak RSS MiB",
        "+RSS MiB",
    ]

    def cells(w: str, c: str, s: Summary) -> list[str]:
        return [
            rate_text(s, _moved(w, sizes)).removesuffix(" MB/s"),
            _kinds(s),
            "—" if s.most_in_flight is None else str(s.most_in_flight),
            *_memory(s),
        ]

    return markdown(head, _detail_rows(summaries, backend, workloads, contenders, len(head), cells))


#: boto3's TransferConfig defaults: 8 MiB parts, 10 threads.
BOTO3_PARTS = (8 * MiB, 10)


def read_parts() -> tuple[int, int, str]:
    """opendalfs' read part size and concurrency (its defaults), and where they came from."""
    try:
        from opendalfs._config import DEFAULT_READ_CHUNK, DEFAULT_READ_CONCURRENT
    except ImportError:  # before parallel reads: the part size issue 26 suggests
        return 8 * MiB, 8, "8 MiB x 8 assumed: this opendalfs has no read parts"
    return DEFAULT_READ_CHUNK, DEFAULT_READ_CONCURRENT, "opendalfs' defaults"


def memory_bound_mib(part: int, concurrency: int) -> float:
    """Issue 26's bound on get_file's peak RSS: part size x concurrency x 3 + 100 MiB."""
    return part * concurrency * 3 / MiB + 100


def wire_memory(summaries: dict, backend: str, sizes: Sizes) -> str:
    """The peak RSS of ``get_file`` of the huge object, each against its bound."""
    lines = []
    part, concurrency, source = read_parts()
    bounds = {"opendalfs": (part, concurrency, source), BOTO3: (*BOTO3_PARTS, "TransferConfig")}
    for c, (p, n, why) in bounds.items():
        s = summaries.get((backend, "huge_get_file", c))
        if s is None or s.peak_rss_mib is None:
            continue
        bound = memory_bound_mib(p, n)
        verdict = "within" if s.peak_rss_mib <= bound else "over"
        lines.append(
            f"- get_file of {sizes.huge_size // MiB} MiB, {c}: peak RSS {s.peak_rss_mib:.0f} MiB "
            f"(+{max(0.0, s.delta_rss_mib or 0.0):.0f} MiB over its start), {verdict} the bound "
            f"{p // MiB} MiB x {n} x 3 + 100 MiB = {bound:.0f} MiB ({why})"
        )
    return "\n".join(lines)


def noise(summaries: dict) -> str:
    """How far rounds disagreed: the median and worst max/min over all measured cells."""
    spreads = sorted(
        (s.high / s.low, f"{b} {w} {c}")
        for (b, w, c), s in summaries.items()
        if s.runs > 1 and s.low
    )
    if not spreads:
        return "one round: no spread to show"
    median = statistics.median(x for x, _ in spreads)
    worst, where = spreads[-1]
    return f"max/min of the rounds is {median:.2f}x at the median, {worst:.2f}x at worst ({where})"


def failures(summaries: dict) -> list[str]:
    """One line per contender and workload that failed at least once."""
    out = []
    for (backend, w, c), s in sorted(summaries.items()):
        for error in dict.fromkeys(s.errors):
            first = error.strip().splitlines()[-1] if error.strip() else "?"
            out.append(f"- {backend} {w} {c}: {first[:300]}")
    return out
