"""Compare opendalfs with raw OpenDAL, s3fs, obstore, pyarrow and fsspec's own filesystems.

A benchmark, not a test: nothing fails on a slow number. For each backend
(memory, a local directory, S3 on a moto server it starts) it seeds the data
once, then runs every workload through every contender that runs it there
(``fsbench.bindings``), interleaved (A B C A B C …) for ``--rounds`` rounds, in
fresh interpreters (``fsbench.runner`` says which measurements share one).
opendalfs runs twice: through its sync API and, as ``opendalfs-async``, through
its coroutines. The ``latency`` backend is S3 (moto) behind the tests' proxy,
which holds every byte half a round trip each way (``--latency-ms``, 20 by
default) and counts requests by kind: the latency rows. The ``bandwidth`` backends
(S3, Azure Blob, GCS) add a pace to each connection (``--pace-mb``, 20 MB/s) and
move one big object, Parquet file or zarr array per row, boto3's TransferManager
among the contenders: the big-object rows. It prints markdown tables
of medians, ratios to raw OpenDAL, to s3fs (fsspec's own filesystem on memory and
fs) and to obstore, HTTP requests on S3, peak RSS, and whether each of issue 11's
targets holds; ``--json`` keeps every run.

Examples::

    python bench/compare.py --quick
    python bench/compare.py --backend s3 --workload cat_one --workload ls_large
    python bench/compare.py --contender raw-opendal --contender opendalfs --json out.json
    python bench/compare.py --backend fs --workload zarr_read --workload dask_many
    python bench/compare.py --quick --backend latency --latency-ms 40
    python bench/compare.py --backend bandwidth --pace-mb 20
    python bench/compare.py --list
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import sys
import time
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

from fsbench.backends import (
    BACKENDS,
    DEFAULT_PACE_MB,
    DEFAULT_RTT_MS,
    LATENCY,
    WIRE,
    for_backend,
)
from fsbench.contenders import CONTENDERS
from fsbench.report import (
    BACKEND_TITLES,
    details,
    failures,
    latency,
    measured_on,
    noise,
    overview,
    summarize,
    wire,
    wire_details,
    wire_memory,
)
from fsbench.runner import Plan, run
from fsbench.sizes import FULL, QUICK, Sizes, describe, describe_wire
from fsbench.targets import evaluate, table
from fsbench.workloads import LOOPBACK, WORKLOADS

PACKAGES = (
    "opendalfs",
    "opendal",
    "fsspec",
    "s3fs",
    "obstore",
    "pyarrow",
    "pandas",
    "dask",
    "zarr",
    "moto",
    "boto3",
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Compare opendalfs with raw OpenDAL and other fsspec filesystems.",
        epilog="Repeat --backend, --workload and --contender to pick several; --list names them.",
    )
    p.add_argument(
        "--quick", action="store_true", help="small sizes and 2 rounds: a few minutes on 2 cores"
    )
    p.add_argument(
        "--rounds",
        type=int,
        help="rounds per contender (default 5, --quick 2; big-object rows 3, --quick 1)",
    )
    p.add_argument("--backend", action="append", choices=BACKENDS, help="default: all")
    p.add_argument("--workload", action="append", choices=list(WORKLOADS), help="default: all")
    p.add_argument(
        "--contender",
        action="append",
        choices=list(CONTENDERS),
        help="default: all that are installed",
    )
    p.add_argument("--json", metavar="PATH", help="write settings, every run and the summary")
    p.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds one measurement may take (default 900)",
    )
    p.add_argument("--fs-dir", metavar="DIR", help="where the fs backend's directory goes")
    p.add_argument(
        "--latency-ms",
        type=float,
        default=DEFAULT_RTT_MS,
        metavar="MS",
        help=f"round trip the latency backend's proxy adds (default {DEFAULT_RTT_MS:g})",
    )
    p.add_argument(
        "--pace-mb",
        type=float,
        default=DEFAULT_PACE_MB,
        metavar="MB",
        help=f"each connection's pace on the bandwidth backends in MB/s ({DEFAULT_PACE_MB:g})",
    )
    p.add_argument(
        "--isolate",
        action="store_true",
        help="a fresh process for every measurement, small-object workloads too",
    )
    p.add_argument("--list", action="store_true", help="list workloads and contenders, then exit")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p


def list_choices(sizes: Sizes, quick: bool) -> None:
    print(f"workloads ({'--quick' if quick else 'full'} sizes; latency-only ones at latency's):")
    for name, w in WORKLOADS.items():
        only = []
        if w.backends != LOOPBACK:
            only.append(f"backends: {', '.join(w.backends)}")
        if w.subjects is not None or w.only is not None:
            only.append(f"contenders: {', '.join(w.subjects or w.only or ())}")
        if not w.wanted(sizes):
            only.append("left out at these sizes")
        text = w.describe(for_backend(sizes, LATENCY) if w.backends == (LATENCY,) else sizes)
        print(f"  {name:15} {text}" + (f"  ({'; '.join(only)})" if only else ""))
    print("contenders:")
    for name, c in CONTENDERS.items():
        state = "" if c.available() else "  (not installed)"
        print(f"  {name:15} backends: {', '.join(c.backends)}; {c.api} API{state}")


def versions() -> dict[str, str]:
    out = {}
    for package in PACKAGES:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    return info | versions() | {"opendalfs_from": opendalfs_location()}


def opendalfs_location() -> str:
    """Where ``import opendalfs`` finds the code measured (``PYTHONPATH`` may name another
    checkout); the workers inherit the driver's environment."""
    spec = importlib.util.find_spec("opendalfs")
    origin = spec.origin if spec is not None and spec.origin else "not installed"
    return str(Path(origin).parent)


def report(
    args: argparse.Namespace,
    sizes: Sizes,
    records: list[dict[str, Any]],
    info: dict[str, Any],
    wall: float,
) -> dict[str, Any]:
    """Print the markdown report; return the summaries and verdicts for ``--json``."""
    backends = args.backend or list(BACKENDS)
    workloads = args.workload or list(WORKLOADS)
    summaries = summarize(records)
    measured = {c for (_, _, c) in summaries}
    contenders = [c for c in CONTENDERS if c in measured]
    verdicts = evaluate(summaries, backends, workloads, sizes.big_size)

    load = " / ".join(
        f"{x[0]:.1f}" if x else "?" for x in (info["load_average"], info["load_average_end"])
    )
    print(f"\n## Results ({'quick' if args.quick else 'full'} run, {wall / 60:.1f} min)\n")
    if any(b not in (LATENCY, *WIRE) for b in backends):
        print(f"- Sizes: {describe(sizes)}.")
    print(
        f"- Machine: {info['cpu_count']} CPUs, {info['platform']}, Python {info['python']}; "
        f"1-minute load average {load} (start / end); {noise(summaries)}."
    )
    print("- Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()) + ".")
    print(f"- opendalfs measured from {info['opendalfs_from']}.")
    print(
        "- Seconds are medians over the rounds; x raw and x s3fs (fsspec's own filesystem "
        "on memory and fs) divide a contender's median by theirs; * marks a cell where "
        "some rounds failed (see Failures)."
    )
    print(
        "- raw-opendal calls the blocking opendal.Operator for one-by-one and single "
        "calls, and opendal.AsyncOperator with asyncio.gather for the batched workloads "
        "(pipe_batch, cat_batch, cat_ranges, get_files, put_files, pandas_read's file reads, "
        "and the objects of copy_tree, get_tree, put_tree)."
    )
    print(
        "- opendalfs-async is opendalfs made with asynchronous=True, its coroutines "
        "(await fs._cat_file(...), fs.open_async ...) run on one event loop per measurement. "
        "On the zarr rows, opendalfs and s3fs are zarr's FsspecStore over an asynchronous "
        "instance and obstore is zarr's ObjectStore over obstore's LocalStore or S3Store; "
        "x obstore divides by that."
    )
    for b in backends:
        cols = measured_on(summaries, b, contenders, 2)
        rows = measured_on(summaries, b, workloads, 1)
        if not rows:
            continue
        print(f"\n### {BACKEND_TITLES[b].format(rtt=args.latency_ms, pace=args.pace_mb)}\n")
        if b in WIRE:
            print(f"- Sizes: {describe_wire(for_backend(sizes, b))}.")
            print(
                "- Each cell: median seconds and MB/s; the ratios divide opendalfs' median by "
                "the other's (below 1: opendalfs is faster).\n"
            )
            print(wire(summaries, b, rows, cols, sizes))
            print()
            print(wire_details(summaries, b, rows, cols, sizes))
            memory = wire_memory(summaries, b, sizes)
            if memory:
                print("\n" + memory)
            continue
        if b == LATENCY:
            print(f"- Sizes: {describe(for_backend(sizes, b))}.")
            print(
                "- Each cell: median seconds, x raw-opendal, then the median number of "
                "requests and one round's requests by kind.\n"
            )
            print(latency(summaries, b, rows, cols))
        else:
            print(overview(summaries, b, rows, cols, sizes))
        print()
        print(details(summaries, b, rows, cols))
    if verdicts:  # the latency rows have no targets
        print("\n### Targets\n")
        print(table(verdicts))
    if any(v.text.startswith("open('wb') peak RSS") for v in verdicts):
        print("\nThe 1 GiB write bound is checked by bench/file_throughput.py as well.")
    problems = failures(summaries)
    if problems:
        print("\n### Failures\n")
        print("\n".join(problems))
    return {
        "summary": [s.to_json() for s in summaries.values()],
        "targets": [v.to_json() for v in verdicts],
    }


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.worker:
        from fsbench.worker import main as worker_main

        print(json.dumps(worker_main(json.loads(sys.stdin.read()))), flush=True)
        return
    sizes = QUICK if args.quick else FULL
    if args.rounds is not None:
        if args.rounds < 1:
            raise SystemExit("--rounds must be at least 1")
        sizes = replace(sizes, rounds=args.rounds, wire_rounds=args.rounds)
    if args.list:
        list_choices(sizes, args.quick)
        return
    for name in args.contender or []:
        if not CONTENDERS[name].available():
            raise SystemExit(f"{name} is not installed (pip install -e '.[bench]')")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # pyarrow, s3fs: no cloud
    info = machine()
    print(f"command: {shlex.join([sys.executable, *sys.argv])}", flush=True)
    started = time.perf_counter()
    plan = Plan(
        workloads=args.workload or [w for w, spec in WORKLOADS.items() if spec.wanted(sizes)],
        contenders=args.contender or [n for n, c in CONTENDERS.items() if c.available()],
        sizes=sizes,
        isolate=args.isolate,
        timeout=args.timeout,
        rtt_ms=args.latency_ms,
        pace_mb=args.pace_mb,
    )
    records = run(args.backend or list(BACKENDS), plan, args.fs_dir)
    wall = time.perf_counter() - started
    info["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    summary = report(args, sizes, records, info, wall)
    if args.json:
        out = {
            "settings": {
                "quick": args.quick,
                "sizes": sizes.to_json(),
                "command": sys.argv,
                "wall_seconds": wall,
                "latency_ms": args.latency_ms,
                "pace_mb": args.pace_mb,
            },
            "machine": info,
            "runs": records,
            **summary,
        }
        Path(args.json).write_text(json.dumps(out, indent=1, default=str))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
