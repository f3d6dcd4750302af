"""Issue 6's performance targets, and whether each holds in this run.

A target compares opendalfs' median with another contender's on a set of
workloads (``opendalfs ≤ limit x other``), or bounds the peak RSS of a large
write. A workload where either side was not measured is "not measured", which
is not a pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fsbench.contenders import RAW
from fsbench.report import markdown, ratio
from fsbench.sizes import MiB
from fsbench.workloads import WORKLOADS

ONE_BY_ONE = ("pipe_one", "cat_one", "info", "exists_missing")
BATCHED = ("pipe_batch", "cat_batch")
SMALL_AND_METADATA = (*ONE_BY_ONE, *BATCHED, "ls_small", "ls_large", "find_tree")
ALL = tuple(WORKLOADS)


@dataclass(frozen=True)
class Target:
    backend: str
    text: str
    workloads: tuple[str, ...]
    other: str
    limit: float


TARGETS = (
    Target("s3", "every workload ≤ 1.15 x raw OpenDAL", ALL, RAW, 1.15),
    Target(
        "s3",
        "small-object and metadata workloads ≥ 2 x faster than s3fs",
        SMALL_AND_METADATA,
        "s3fs",
        0.5,
    ),
    Target("s3", "no workload slower than obstore's adapter", ALL, "obstore", 1.0),
    Target("s3", "no workload slower than pyarrow", ALL, "pyarrow", 1.0),
    Target("memory", "one-by-one sync calls ≤ 3 x raw", ONE_BY_ONE, RAW, 3.0),
    Target("memory", "large write through open ≤ 3 x raw", ("open_write_big",), RAW, 3.0),
    Target(
        "memory",
        "batched calls, find and cat_ranges ≤ 1.5 x raw",
        (*BATCHED, "find_tree", "cat_ranges"),
        RAW,
        1.5,
    ),
    Target(
        "memory",
        "large reads (cat_file, open) ≤ 1.2 x raw",
        ("cat_file_big", "open_read_big"),
        RAW,
        1.2,
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
    failing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    worst: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def judge(target: Target, summaries: dict, workloads: list[str]) -> Verdict:
    v = Verdict(target.backend, target.text, None)
    worst: tuple[float, str] | None = None
    for w in target.workloads:
        if w not in workloads:
            continue
        r = ratio(summaries, target.backend, w, "opendalfs", target.other)
        if r is None:
            v.missing.append(w)
            continue
        v.checked += 1
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
            v.holds = checked <= RSS_BOUND_MIB
            if not v.holds:
                v.failing.append(v.worst)
        out.append(v)
    return out


def evaluate(
    summaries: dict, backends: list[str], workloads: list[str], big_size: int
) -> list[Verdict]:
    verdicts = [judge(t, summaries, workloads) for t in TARGETS if t.backend in backends]
    return verdicts + judge_rss(summaries, backends, big_size)


def table(verdicts: list[Verdict]) -> str:
    def holds(v: Verdict) -> str:
        return {True: "yes", False: "NO", None: "not measured"}[v.holds]

    rows = [
        [
            v.backend,
            v.text,
            holds(v),
            v.worst or "—",
            ", ".join(v.failing) or "—",
            ", ".join(v.missing) or "—",
        ]
        for v in verdicts
    ]
    return markdown(["backend", "target", "holds", "worst", "failing", "not measured"], rows)
