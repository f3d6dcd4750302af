"""Measurements in a fresh interpreter: one contender, one backend, one or more workloads.

The runner gives each large-data workload a process of its own, so that its
peak RSS is its own and nothing it leaves behind (caches, connection pools, freed
memory the allocator keeps) meets another measurement; the small-object and
metadata workloads may share one (see :mod:`fsbench.runner`), each with a new
filesystem instance.

Before each timer starts the worker makes the contender afresh
(``skip_instance_cache``), seeds an in-process store (``memory``), makes output
directories (``fs``), prepares inputs, and warms the contender up on a separate
object (a read, an info, a listing and a miss, then ``invalidate_cache()``), so
that clients, connections and lazily loaded code exist and no listing is cached.
A workload that moves or deletes objects has them written (``stage``) below its
output directory by raw OpenDAL. Then it resets the peak RSS and notes where the
request log (moto's, or the proxy's on ``latency``) ends; after the timer it
checks the workload's answer.
"""

from __future__ import annotations

import gc
import os
import resource
import shutil
import tempfile
import time
import traceback
from typing import Any

from fsbench import data
from fsbench.backends import (
    BackendInfo,
    count_requests,
    log_size,
    most_in_flight,
    write_objects,
)
from fsbench.bindings import binding
from fsbench.memory import current_rss_mib, peak_rss_mib, reset_peak_rss
from fsbench.sizes import Sizes
from fsbench.workloads import WORKLOADS


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _setup(subject: Any, info: BackendInfo, workload: str, sizes: Sizes) -> None:
    w = WORKLOADS[workload]
    if info.name == "memory":
        for name in ("warmup", *w.fixtures):
            subject.seed(dict(data.FIXTURES[name](sizes)))
    if info.name == "fs":
        for sub in w.writes:
            os.makedirs(os.path.join(info.root, "out", subject.token, sub), exist_ok=True)
    if w.stage is not None:
        out = f"out/{subject.token}/"
        write_objects(info, ((out + k, v) for k, v in w.stage(sizes)))
    subject.warm_up()


def measure(
    info: BackendInfo, contender: str, workload: str, token: str, sizes: Sizes, local_dir: str
) -> dict[str, Any]:
    """Run one measurement and return its record."""
    w = WORKLOADS[workload]
    bound = binding(workload, contender, info.name)
    if bound is None:
        raise ValueError(f"{contender} does not run {workload} on {info.name}")
    body = bound.body
    baseline = current_rss_mib()
    subject = bound.make(info)
    subject.token = token
    subject.local_dir = local_dir
    subject.scratch = tempfile.mkdtemp(prefix="opendalfs-compare-get-")
    try:
        _setup(subject, info, workload, sizes)
        prepared = w.prepare(sizes) if w.prepare else None
        gc.collect()
        reset = reset_peak_rss()
        start_rss = current_rss_mib()
        log_start = log_size(info.request_log)
        cpu = _cpu_seconds()
        start = time.perf_counter()
        answer = body(subject, sizes, prepared)
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu
        peak = peak_rss_mib()
        requests, methods, _ = count_requests(info, log_start)
        in_flight = most_in_flight(info, log_start)
    finally:
        shutil.rmtree(subject.scratch, ignore_errors=True)
    expected = w.expect(sizes)
    record: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "requests": requests if info.request_log else None,
        "methods": methods,
        "most_in_flight": in_flight,
        "baseline_rss_mib": baseline,
        "start_rss_mib": start_rss,
        "peak_rss_mib": peak,
        "delta_rss_mib": peak - start_rss,
        "peak_reset": reset,
        "answer": answer,
        "expected": expected,
        "pid": os.getpid(),
    }
    if answer != expected:
        record["error"] = f"wrong answer: {answer}, expected {expected}"
    return record


def main(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Every job in ``cfg``, in order; a failure becomes that job's record, not a crash."""
    info = BackendInfo.from_json(cfg["backend"])
    sizes = Sizes.from_json(cfg["sizes"])
    records = []
    for job in cfg["jobs"]:
        try:
            record = measure(
                info, cfg["contender"], job["workload"], job["token"], sizes, cfg["local_dir"]
            )
        except Exception as exc:
            lines = traceback.format_exception_only(type(exc), exc)
            record = {"error": "".join(lines).strip()[-600:], "traceback": traceback.format_exc()}
        records.append({"workload": job["workload"], **record})
    return records
