"""Issues 11's and 26's performance targets (and issue 6's RSS bound), and whether each
holds in this run.

A target compares opendalfs' median (its sync API; zarr's ``FsspecStore`` over it
on the zarr rows) with another contender's on a set of workloads
(``opendalfs ≤ limit x other``), or bounds the peak RSS of a large write. A
workload where either side was not measured is "not measured", which is not a
pass. Each line reports every ratio it was judged on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fsbench.backends import BANDWIDTH, LATENCY, WIRE
from fsbench.contenders import BOTO3, CONTENDERS, RAW
from fsbench.report import markdown, memory_bound_mib, ratio, read_parts
from fsbench.sizes import MiB
from fsbench.workloads import WORKLOADS

ONE_BY_ONE = ("pipe_one", "cat_one", "info", "exists_missing")
LISTINGS_AND_BATCHES = (
    "ls_small",
    "ls_large",
    "find_tree",
    "cat_batch",
    "pipe_batch",
    "cat_ranges",
)
ZARR = ("zarr_write", "zarr_read")
#: Every row but zarr's, whose obstore is zarr's ObjectStore rather than obstore's adapter.
FSSPEC_ROWS = tuple(w for w in WORKLOADS if w not in ZARR)
ALL = tuple(WORKLOADS)
#: Issue 11 holds opendalfs to the package it replaces too; this harness has no
#: such contender (both install as ``opendalfs``), so that line is never measured.
UPSTREAM = "upstream opendalfs"


@dataclass(frozen=True)
class Target:
    backend: str
    text: str
    workloads: tuple[str, ...]
    other: str
    limit: float
    #: The other side's workload, where it is not the same row (boto3's download_file).
    against: str | None = None


#: Issue 26's rows that read a whole big object, and those that write one.
WIRE_READS = ("big_cat_file", "big_get_file", "big_open_read")
WIRE_WRITES = ("big_put_file", "big_open_write")

TARGETS = (
    Target("memory", "one-by-one sync calls ≤ 2 x raw", ONE_BY_ONE, RAW, 2.0),
    Target(
        "memory",
        "ls, find, cat(list), pipe(dict), cat_ranges ≤ 1.5 x raw",
        LISTINGS_AND_BATCHES,
        RAW,
        1.5,
    ),
    Target("memory", "seek+read in one open file ≤ 3 x raw", ("seek_read",), RAW, 3.0),
    Target("memory", "large write through open ≤ 1.5 x raw", ("open_write_big",), RAW, 1.5),
    Target("memory", "large read through open ≤ 1.2 x raw", ("open_read_big",), RAW, 1.2),
    Target("fs", "one-by-one sync calls ≤ 1.3 x raw", ("pipe_one", "cat_one", "info"), RAW, 1.3),
    Target(
        "fs",
        "ls, find, exists, seek+read ≤ 1.5 x raw",
        ("ls_small", "ls_large", "find_tree", "exists_missing", "seek_read"),
        RAW,
        1.5,
    ),
    Target("fs", "zarr: FsspecStore over opendalfs ≤ 1.1 x obstore's", ZARR, "obstore", 1.1),
    Target("s3", "one-by-one sync calls ≤ 1.15 x raw", ONE_BY_ONE, RAW, 1.15),
    Target("s3", "no row behind obstore's adapter", FSSPEC_ROWS, "obstore", 1.0),
    Target("s3", "no row behind s3fs", ALL, "s3fs", 1.0),
    Target("s3", "no row behind upstream opendalfs", ALL, UPSTREAM, 1.0),
    Target("s3", "zarr: FsspecStore over opendalfs ≤ 1.1 x obstore's", ZARR, "obstore", 1.1),
    Target(
        BANDWIDTH,
        "cat_file, get_file, open().read() no slower than boto3's download_file",
        WIRE_READS,
        BOTO3,
        1.0,
        against="big_get_file",
    ),
    Target(
        BANDWIDTH,
        "cat_file, get_file, open().read() ≥ 3 x s3fs's throughput",
        WIRE_READS,
        "s3fs",
        1 / 3,
    ),
    Target(
        BANDWIDTH,
        "put_file, open('wb') no slower than boto3's upload_file",
        WIRE_WRITES,
        BOTO3,
        1.0,
        against="big_put_file",
    ),
    Target(
        BANDWIDTH,
        "pandas read_parquet of one big file no slower than pyarrow's own S3",
        ("big_parquet",),
        "pyarrow",
        1.0,
    ),
)

#: Write settings of opendalfs' ``open(..., "wb")`` (its defaults) and the RSS bound.
WRITE_CHUNK = 8 * MiB
WRITE_CONCURRENT = 4
RSS_BOUND_MIB = 3 * WRITE_CHUNK * WRITE_CONCURRENT / MiB + 100


@dataclass
class Verdict:
    backend: str
    text: str
    holds: bool | None
    checked: int = 0
    #: Every ratio (or RSS) the target was judged on, as text: "cat_one 1.21x".
    measured: list[str] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    worst: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def judge(target: Target, summaries: dict, workloads: list[str]) -> Verdict:
    v = Verdict(target.backend, target.text, None)
    if target.other not in CONTENDERS:
        v.missing.append(f"{target.other} is not a contender of this harness")
        return v
    worst: tuple[float, str] | None = None
    for w in target.workloads:
        if w not in workloads:
            continue
        r = ratio(summaries, target.backend, w, "opendalfs", target.other, target.against)
        if r is None:
            v.missing.append(w)
            continue
        v.checked += 1
        v.measured.append(f"{w} {r:.2f}x")
        if r > target.limit:
            v.failing.append(f"{w} {r:.2f}x")
        if worst is None or r > worst[0]:
            worst = (r, w)
    if worst is not None:
        v.worst = f"{worst[1]} {worst[0]:.2f}x"
    v.holds = None if not v.checked else not v.failing
    return v


def judge_rss(summaries: dict, backends: list[str], big_size: int) -> list[Verdict]:
    """opendalfs' peak RSS writing the large file through ``open`` against the bound.

    On memory the written file itself stays resident, so there the check is the
    growth during the write minus the file. bench/file_throughput.py checks the
    same bound with a 1 GiB file.
    """
    out = []
    for backend in backends:
        text = f"open('wb') peak RSS ≤ 3 x chunk x concurrency + 100 MiB ({RSS_BOUND_MIB:g} MiB)"
        v = Verdict(backend, text, None)
        s = summaries.get((backend, "open_write_big", "opendalfs"))
        if s is None or s.peak_rss_mib is None:
            v.missing.append("open_write_big")
        else:
            held = big_size / MiB if backend == "memory" else 0.0
            checked = (s.delta_rss_mib - held) if backend == "memory" else s.peak_rss_mib
            v.checked = 1
            v.worst = f"{checked:.0f} MiB" + (" (growth minus the file)" if held else "")
            v.measured.append(v.worst)
            v.holds = checked <= RSS_BOUND_MIB
            if not v.holds:
                v.failing.append(v.worst)
        out.append(v)
    return out


def judge_huge_rss(summaries: dict) -> Verdict:
    """opendalfs' peak RSS in ``get_file`` of the huge object against issue 26's bound."""
    part, concurrency, _ = read_parts()
    bound = memory_bound_mib(part, concurrency)
    text = f"get_file peak RSS ≤ read part x concurrency x 3 + 100 MiB ({bound:g} MiB)"
    v = Verdict(BANDWIDTH, text, None)
    s = summaries.get((BANDWIDTH, "huge_get_file", "opendalfs"))
    if s is None or s.peak_rss_mib is None:
        v.missing.append("huge_get_file")
        return v
    v.checked = 1
    v.worst = f"{s.peak_rss_mib:.0f} MiB"
    v.measured.append(v.worst)
    v.holds = s.peak_rss_mib <= bound
    if not v.holds:
        v.failing.append(v.worst)
    return v


def evaluate(
    summaries: dict, backends: list[str], workloads: list[str], big_size: int
) -> list[Verdict]:
    """The verdicts of the targets on ``backends`` that name at least one of ``workloads``."""
    verdicts = [
        judge(t, summaries, workloads)
        for t in TARGETS
        if t.backend in backends and any(w in workloads for w in t.workloads)
    ]
    if "open_write_big" in workloads:
        # On latency the workloads share a process: its peak is not the write's own.
        own = [b for b in backends if b not in (LATENCY, *WIRE)]
        verdicts += judge_rss(summaries, own, big_size)
    if BANDWIDTH in backends and "huge_get_file" in workloads:
        verdicts.append(judge_huge_rss(summaries))
    return verdicts


def verdict_text(v: Verdict) -> str:
    """``holds (worst …)``, ``does not hold: …`` or ``not measured``."""
    if v.holds is None:
        return "not measured"
    if v.holds:
        return f"holds (worst {v.worst})" if v.checked > 1 else "holds"
    return "does not hold: " + ", ".join(v.failing)


def table(verdicts: list[Verdict]) -> str:
    rows = [
        [
            v.backend,
            v.text,
            verdict_text(v),
            ", ".join(v.measured) or "—",
            ", ".join(v.missing) or "—",
        ]
        for v in verdicts
    ]
    return markdown(["backend", "target", "verdict", "measured", "not measured"], rows)
