"""Runs the measurements: which process runs what, in which order, and what it reported.

Every worker is a fresh interpreter (``compare.py --worker``, see
:mod:`fsbench.worker`). A large-data workload gets a worker of its own. The
small-object and metadata workloads of one contender and round share a worker
on ``fs`` and ``s3`` (unless ``isolate``): their stores are outside the process
and equal for everyone, and an interpreter start with its imports costs more
than most of them measure. On ``latency`` every workload of one contender and
round shares a worker (unless ``isolate``): there the time is the round trips',
and the data are small. Order: backend by backend; within one, round by
round, workload by workload, contender after contender (A B C A B C …).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsbench.backends import DEFAULT_PACE_MB, DEFAULT_RTT_MS, LATENCY, WIRE, Backend, for_backend
from fsbench.bindings import runs
from fsbench.data import write_local_files
from fsbench.sizes import Sizes
from fsbench.workloads import WORKLOADS

WORKER = [sys.executable, str(Path(__file__).resolve().parents[1] / "compare.py"), "--worker"]


def run_worker(cfg: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
    """The jobs of ``cfg`` in a fresh interpreter; a crash or timeout fails each job."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            WORKER,
            input=json.dumps(cfg),
            capture_output=True,
            text=True,
            timeout=timeout * len(cfg["jobs"]),
            check=False,
        )
        lines = [line for line in proc.stdout.splitlines() if line.startswith("[")]
        if lines:
            records = json.loads(lines[-1])
        else:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            failed = f"worker exit {proc.returncode}: {' / '.join(tail)}"
            records = [{"workload": j["workload"], "error": failed} for j in cfg["jobs"]]
    except subprocess.TimeoutExpired:
        failed = f"timed out after {timeout:g} s per workload"
        records = [{"workload": j["workload"], "error": failed} for j in cfg["jobs"]]
    for record in records:
        record["worker_seconds"] = (time.perf_counter() - started) / len(records)
    return records


@dataclass
class Plan:
    """What to run; ``done`` counts the measurements reported so far."""

    workloads: list[str]
    contenders: list[str]
    sizes: Sizes
    isolate: bool
    timeout: float
    #: The round trip the latency rows' proxy adds.
    rtt_ms: float = DEFAULT_RTT_MS
    #: Each connection's pace on the big-object rows, MB/s.
    pace_mb: float = DEFAULT_PACE_MB
    local_dir: str = ""
    total: int = 0
    done: int = 0

    def report(self, backend: str, rnd: int, contender: str, out: dict[str, Any]) -> None:
        """One progress line per measurement."""
        self.done += 1
        where = f"[{self.done}/{self.total}] {backend:6} r{rnd + 1}"
        what = f"{out['workload']:15} {contender:14}"
        if "error" in out:
            shown = out["error"].strip().splitlines()[-1][:120]
            print(f"{where} {what} ERROR {shown}", flush=True)
            return
        requests = "" if out.get("requests") is None else f"{out['requests']:6d} req"
        if out.get("most_in_flight") is not None:
            requests += f" {out['most_in_flight']:3d} at once"
        seconds, peak = out["seconds"], out["peak_rss_mib"]
        print(f"{where} {what} {seconds:9.4f} s {requests} {peak:7.0f} MiB", flush=True)


def units(workloads: list[str], isolate: bool, shared: bool = False) -> list[list[str]]:
    """Workloads grouped by process: the light ones (``shared``: all) together unless
    ``isolate``."""
    light = [] if isolate else [w for w in workloads if shared or WORKLOADS[w].light]
    alone = [[w] for w in workloads if w not in light]
    return ([light] if light else []) + alone


def run_backend(backend: Backend, plan: Plan) -> list[dict[str, Any]]:
    """Seed one backend, then every round of every workload and contender on it."""
    name = backend.info.name
    sizes = for_backend(plan.sizes, name)
    started = time.perf_counter()
    here = [w for w in plan.workloads if any(runs(w, c, name) for c in plan.contenders)]
    fixtures = sorted({"warmup", *(f for w in here for f in WORKLOADS[w].fixtures)})
    backend.seed(fixtures, sizes)
    print(f"{name}: seeded {', '.join(fixtures)} in {time.perf_counter() - started:.1f} s")
    # In-process stores are process-wide (fsspec's memory://, opendalfs' operators),
    # and fsspec's memory info/exists scan every key: on memory one measurement's
    # data would slow the next, so there none share a process.
    isolate = plan.isolate or backend.seeds_in_worker
    records = []
    for rnd in range(sizes.rounds):
        for unit in units(here, isolate, shared=name == LATENCY):
            for c in plan.contenders:
                jobs = [
                    {"workload": w, "token": f"{w}-{c}-{rnd}-{uuid.uuid4().hex[:8]}"}
                    for w in unit
                    if runs(w, c, name)
                ]
                if not jobs:
                    continue
                cfg = {
                    "backend": backend.info.to_json(),
                    "contender": c,
                    "jobs": jobs,
                    "sizes": sizes.to_json(),
                    "local_dir": plan.local_dir,
                }
                for job, out in zip(jobs, run_worker(cfg, plan.timeout), strict=True):
                    if WORKLOADS[job["workload"]].writes:
                        backend.clean(f"out/{job['token']}")
                    plan.report(name, rnd, c, out)
                    records.append({"backend": name, "contender": c, "round": rnd, **out})
    return records


def run(backends: list[str], plan: Plan, fs_dir: str | None = None) -> list[dict[str, Any]]:
    """Every measurement of ``plan`` on every backend, one backend after the other."""
    plan.total = sum(
        for_backend(plan.sizes, b).rounds * runs(w, c, b)
        for b in backends
        for w in plan.workloads
        for c in plan.contenders
    )
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="opendalfs-compare-") as work:
        plan.local_dir = os.path.join(work, "local")
        os.makedirs(plan.local_dir)
        wire = any(b in WIRE for b in backends)
        write_local_files(plan.local_dir, plan.sizes, wire=wire)
        for name in backends:
            try:
                backend = Backend(name, Path(work) / name, fs_dir, plan.rtt_ms, plan.pace_mb)
            except Exception as exc:
                if type(exc).__name__ != "ServerUnavailable":  # tests/servers.py's
                    raise
                print(f"{name}: skipped, its server is missing: {exc}", flush=True)
                continue
            try:
                records += run_backend(backend, plan)
            finally:
                backend.stop()
    return records
