"""Write and read one large file through ``fs.open``; report throughput and peak RSS.

A benchmark, not a test: nothing here asserts on time. It reports, per service,
the median throughput of writing a file through ``fs.open(path, "wb",
write_chunk=..., write_concurrent=...)`` and of reading it back through
``fs.open(path, "rb")``, and the peak resident memory of each operation next to
the bound the writer is meant to keep::

    peak RSS <= 3 * write_chunk * write_concurrent + 100 MiB

Every measurement runs in a fresh interpreter (this script again, in a hidden
``--worker`` mode), so ``ru_maxrss`` belongs to that one operation. ``memory``
keeps its data inside the process, so its write and read share one worker and
its stored object counts toward RSS: there the bound is checked against the peak
minus the stored object.

Examples::

    python bench/file_throughput.py                       # 1 GiB, memory and fs, 3 runs
    python bench/file_throughput.py --size 256MiB --repeat 1 --service fs
    python bench/file_throughput.py --s3-endpoint http://127.0.0.1:9000 --s3-bucket b \\
        --s3-key minioadmin --s3-secret minioadmin --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterator
from importlib import metadata
from typing import Any

MiB = 2**20
SERVICES = ("memory", "fs", "s3")
S3_ENV = "OPENDALFS_TEST_S3_"
S3_FIELDS = ("endpoint", "bucket", "region", "key", "secret")
#: Where the bound is checked against the peak minus the stored object.
IN_PROCESS = frozenset({"memory"})
#: Seed of the random block every run writes, so every run writes the same bytes.
SEED = 20240601

_UNITS = {
    "": 1,
    "b": 1,
    "k": 2**10,
    "kib": 2**10,
    "kb": 10**3,
    "m": 2**20,
    "mib": 2**20,
    "mb": 10**6,
    "g": 2**30,
    "gib": 2**30,
    "gb": 10**9,
    "t": 2**40,
    "tib": 2**40,
    "tb": 10**12,
}


def parse_size(text: str) -> int:
    """Bytes in ``"1GiB"``, ``"256MiB"``, ``"4M"`` (binary), ``"500MB"`` (decimal), ``"4096"``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1GiB, 256MiB, 4096)")
    value = int(float(match.group(1)) * _UNITS[unit])
    if value < 1:
        raise argparse.ArgumentTypeError(f"size must be at least 1 byte, not {text!r}")
    return value


def show_size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return f"{n}B"


def show_mib(x: float) -> str:
    """``196`` for 196.0, ``100.8`` for 100.75."""
    return f"{x:.1f}".removesuffix(".0")


# -- memory readings ---------------------------------------------------------


def peak_rss_mib() -> float:
    """The process's peak RSS so far (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MiB if sys.platform == "darwin" else peak / 1024


def current_rss_mib() -> float:
    """The process's RSS now (Linux ``/proc``); the peak so far elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mib()
    return pages * os.sysconf("SC_PAGE_SIZE") / MiB


def reset_peak_rss() -> bool:
    """Restart ``ru_maxrss`` from the current RSS (Linux >= 4.0); False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return peak_rss_mib() <= current_rss_mib() + 1


# -- the worker: one measured operation in a fresh process --------------------


def blocks(size: int, block: int) -> Iterator[memoryview]:
    """``size`` bytes in ``block``-sized views of one reused random buffer.

    Each block starts with its number, so no two blocks are equal. The buffer is
    overwritten between blocks: consumers must copy (``f.write`` does) or finish
    with a block (``crc32`` does) before asking for the next.
    """
    buf = bytearray(random.Random(SEED).randbytes(block))
    view = memoryview(buf)
    done = 0
    number = 0
    while done < size:
        n = min(block, size - done)
        head = min(8, n)
        buf[:head] = number.to_bytes(8, "little")[:head]
        yield view[:n]
        done += n
        number += 1


def expected_crc(size: int, block: int) -> int:
    crc = 0
    for data in blocks(size, block):
        crc = zlib.crc32(data, crc)
    return crc


def write_phase(fs: Any, path: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Write ``size`` bytes through one ``fs.open(..., "wb")``; the timing ends at close."""
    size, block = cfg["size"], cfg["block"]
    gen = blocks(size, block)
    start = time.perf_counter()
    with fs.open(path, "wb", write_chunk=cfg["chunk"], write_concurrent=cfg["concurrent"]) as f:
        file_block = f.blocksize
        for data in gen:
            f.write(data)
    seconds = time.perf_counter() - start
    peak = peak_rss_mib()
    rss_after = current_rss_mib()
    # The checksum of what was written, from a second, untimed pass over the same blocks.
    return {
        "op": "write",
        "bytes": size,
        "seconds": seconds,
        "mib_s": size / MiB / seconds,
        "crc32": expected_crc(size, block),
        "peak_rss_mib": peak,
        "rss_after_mib": rss_after,
        "file_blocksize": file_block,
    }


def read_phase(fs: Any, path: str, cfg: dict[str, Any], expect: dict[str, int]) -> dict[str, Any]:
    """Read the file back in ``block`` calls; the checksum's own time is left out."""
    block = cfg["block"]
    total = 0
    crc = 0
    hashing = 0.0
    start = time.perf_counter()
    with fs.open(path, "rb") as f:
        cache = type(f.cache).__name__
        file_block = f.blocksize
        while True:
            data = f.read(block)
            if not data:
                break
            t = time.perf_counter()
            crc = zlib.crc32(data, crc)
            total += len(data)
            del data
            hashing += time.perf_counter() - t
    wall = time.perf_counter() - start
    peak = peak_rss_mib()
    rss_after = current_rss_mib()
    if total != expect["bytes"] or crc != expect["crc32"]:
        raise SystemExit(
            f"read back {total} bytes with crc32 {crc:#010x}; "
            f"wrote {expect['bytes']} bytes with crc32 {expect['crc32']:#010x}"
        )
    seconds = wall - hashing
    return {
        "op": "read",
        "bytes": total,
        "seconds": seconds,
        "wall_seconds": wall,
        "mib_s": total / MiB / seconds,
        "crc32": crc,
        "verified": True,
        "peak_rss_mib": peak,
        "rss_after_mib": rss_after,
        "cache": cache,
        "file_blocksize": file_block,
    }


def worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """Run one phase (``write``, ``read``, ``writeread``, ``delete``) and report it."""
    from opendalfs import OpendalFileSystem

    fs = OpendalFileSystem(cfg["service"], **cfg["options"])
    fs.loop  # noqa: B018 - start fsspec's IO thread before the baseline
    out: dict[str, Any] = {
        "service": cfg["service"],
        "phase": cfg["phase"],
        "pid": os.getpid(),
        "baseline_rss_mib": current_rss_mib(),
        "baseline_peak_mib": peak_rss_mib(),
        "phases": [],
    }
    path = cfg["path"]
    written = None
    if cfg["phase"] == "delete":
        fs.rm_file(path)
        return out
    if cfg["phase"] in ("write", "writeread"):
        written = write_phase(fs, path, cfg)
        out["phases"].append(written)
    if cfg["phase"] in ("read", "writeread"):
        expect = cfg.get("expect") or {k: written[k] for k in ("bytes", "crc32")}
        # In a shared worker the read's peak starts from the RSS the write left.
        out["peak_reset"] = reset_peak_rss() if cfg["phase"] == "writeread" else None
        out["phases"].append(read_phase(fs, path, cfg, expect))
    return out


def worker_main() -> None:
    """Worker mode: the configuration comes on stdin (it may hold S3 secrets)."""
    result = worker(json.loads(sys.stdin.read()))
    print(json.dumps(result), flush=True)


# -- the driver ----------------------------------------------------------------


def run_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; its stderr passes through."""
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker"],
        input=json.dumps(cfg),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        sys.stdout.write(proc.stdout)
        raise SystemExit(f"{cfg['service']} {cfg['phase']} worker failed (exit {proc.returncode})")
    return json.loads(lines[-1])


def measurements(service: str, args: argparse.Namespace, s3: dict[str, str]) -> list[dict]:
    """One repeat: the worker outputs that measure one write and one read on ``service``."""
    base = {
        "service": service,
        "size": args.size,
        "block": args.block,
        "chunk": args.chunk,
        "concurrent": args.concurrent,
    }
    name = f"opendalfs-bench-{uuid.uuid4().hex}.bin"
    if service == "memory":
        return [run_worker({**base, "phase": "writeread", "options": {}, "path": name})]
    if service == "fs":
        root = tempfile.mkdtemp(prefix="opendalfs-bench-", dir=args.fs_dir)
        cfg = {**base, "options": {"root": root}, "path": name}
        try:
            wrote = run_worker({**cfg, "phase": "write"})
            expect = {k: wrote["phases"][0][k] for k in ("bytes", "crc32")}
            if args.fs_cold:
                evict(os.path.join(root, name))
            read = run_worker({**cfg, "phase": "read", "expect": expect})
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return [wrote, read]
    options = {
        "bucket": s3["bucket"],
        "endpoint": s3["endpoint"],
        "region": s3["region"] or "us-east-1",
        "access_key_id": s3["key"],
        "secret_access_key": s3["secret"],
    }
    cfg = {
        **base,
        "options": {k: v for k, v in options.items() if v},
        "path": f"{s3['bucket']}/opendalfs-bench/{name}",
    }
    wrote = None
    try:
        wrote = run_worker({**cfg, "phase": "write"})
        expect = {k: wrote["phases"][0][k] for k in ("bytes", "crc32")}
        read = run_worker({**cfg, "phase": "read", "expect": expect})
    finally:
        if wrote is not None:
            run_worker({**cfg, "phase": "delete"})
    return [wrote, read]


def evict(path: str) -> None:
    """Push a file out of the page cache, so the read comes from the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def phase_rows(service: str, runs: list[list[dict]], size: int) -> list[dict[str, Any]]:
    """Flatten the workers' output into one record per (repeat, operation)."""
    rows = []
    for repeat, workers in enumerate(runs):
        for out in workers:
            for phase in out["phases"]:
                held = size / MiB if service in IN_PROCESS else 0.0
                # A shared worker's read cannot be told apart from its write without a reset.
                baseline = out["baseline_rss_mib"]
                if phase["op"] == "read" and out["phase"] == "writeread":
                    baseline = out["phases"][0]["rss_after_mib"]
                    if not out.get("peak_reset"):
                        phase = {**phase, "peak_includes_write": True}
                rows.append(
                    {
                        **phase,
                        "repeat": repeat,
                        "worker_pid": out["pid"],
                        "worker_phase": out["phase"],
                        "peak_reset": out.get("peak_reset"),
                        "baseline_rss_mib": out["baseline_rss_mib"],
                        "phase_start_rss_mib": baseline,
                        "increment_mib": phase["peak_rss_mib"] - out["baseline_rss_mib"],
                        "held_mib": held,
                        "checked_mib": phase["peak_rss_mib"] - held,
                    }
                )
    return rows


def summarize(rows: list[dict[str, Any]], bound: float) -> list[dict[str, Any]]:
    summary = []
    for op in ("write", "read"):
        mine = [r for r in rows if r["op"] == op]
        if not mine:
            continue
        checked = max(r["checked_mib"] for r in mine)
        summary.append(
            {
                "op": op,
                "runs": len(mine),
                "median_mib_s": statistics.median(r["mib_s"] for r in mine),
                "median_seconds": statistics.median(r["seconds"] for r in mine),
                "peak_rss_mib": max(r["peak_rss_mib"] for r in mine),
                "baseline_rss_mib": max(r["baseline_rss_mib"] for r in mine),
                "increment_mib": max(r["increment_mib"] for r in mine),
                "rss_after_mib": max(r["rss_after_mib"] for r in mine),
                "held_mib": mine[0]["held_mib"],
                "checked_mib": checked,
                "bound_mib": bound,
                "holds": checked <= bound,
                "peak_includes_write": any(r.get("peak_includes_write") for r in mine),
            }
        )
    return summary


def table(summary: list[dict[str, Any]]) -> str:
    head = (
        "op",
        "MiB/s",
        "seconds",
        "peak RSS",
        "baseline",
        "+baseline",
        "RSS after",
        "checked",
        "bound",
        "holds",
    )
    body = [
        (
            s["op"],
            f"{s['median_mib_s']:.1f}",
            f"{s['median_seconds']:.3f}",
            f"{s['peak_rss_mib']:.1f}",
            f"{s['baseline_rss_mib']:.1f}",
            f"{s['increment_mib']:.1f}",
            f"{s['rss_after_mib']:.1f}",
            f"{s['checked_mib']:.1f}",
            show_mib(s["bound_mib"]),
            "yes" if s["holds"] else "NO",
        )
        for s in summary
    ]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("  " + line for line in lines)


def fs_type(path: str) -> str:
    """The mounted filesystem type holding ``path`` (Linux), or ``"?"``."""
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                fields = line.split()
                point = fields[1].replace("\\040", " ")
                inside = path == point or path.startswith(point.rstrip("/") + "/")
                if inside and len(point) > len(best):
                    best, kind = point, fields[2]
    except OSError:
        pass
    return kind


def pick_fs_dir(requested: str | None) -> str:
    """A directory on disk for the fs service: never tmpfs unless asked for by name."""
    if requested:
        return os.path.realpath(requested)
    for candidate in (tempfile.gettempdir(), "/var/tmp"):
        real = os.path.realpath(candidate)
        if os.path.isdir(real) and fs_type(real) not in ("tmpfs", "ramfs"):
            return real
    raise SystemExit("no on-disk temporary directory found; pass --fs-dir DIR")


def machine(fs_dir: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
        info["memory_gib"] = round(kib / 2**20, 1)
    except (OSError, IndexError, ValueError):
        pass
    for package in ("opendalfs", "opendal", "fsspec"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    if fs_dir:
        info["fs_dir"] = fs_dir
        info["fs_dir_type"] = fs_type(fs_dir)
    return info


def s3_settings(args: argparse.Namespace) -> dict[str, str]:
    return {f: getattr(args, f"s3_{f}") or "" for f in S3_FIELDS}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=(
            "Write and read one file through opendalfs' fs.open; report median "
            "throughput and peak RSS against 3 x chunk x concurrent + 100 MiB."
        ),
        epilog=(
            "S3 options default to the environment variables OPENDALFS_TEST_S3_ENDPOINT, "
            "_BUCKET, _REGION, _KEY and _SECRET; with an endpoint and a bucket, s3 joins "
            "the default services."
        ),
    )
    p.add_argument("--size", type=parse_size, default=2**30, help="file size (default 1GiB)")
    p.add_argument(
        "--service",
        action="append",
        choices=SERVICES,
        help="service to measure, repeatable (default: memory, fs, and s3 when configured)",
    )
    p.add_argument("--chunk", type=parse_size, default=8 * MiB, help="write_chunk (default 8MiB)")
    p.add_argument("--concurrent", type=int, default=4, help="write_concurrent (default 4)")
    p.add_argument(
        "--block",
        type=parse_size,
        default=4 * MiB,
        help="bytes per f.write / f.read call (default 4MiB)",
    )
    p.add_argument("--repeat", type=int, default=3, help="runs per service; medians reported")
    p.add_argument("--json", metavar="PATH", help="write every raw result here")
    p.add_argument(
        "--fs-dir",
        metavar="DIR",
        help="where fs makes its temporary root (default: the temp dir, if not tmpfs)",
    )
    p.add_argument(
        "--fs-cold",
        action="store_true",
        help="fsync the fs file and drop it from the page cache before reading it",
    )
    for field, what in zip(
        S3_FIELDS,
        ("endpoint URL", "bucket", "region", "access key id", "secret access key"),
        strict=True,
    ):
        env = f"{S3_ENV}{field.upper()}"
        p.add_argument(f"--s3-{field}", default=os.environ.get(env), help=f"S3 {what} (${env})")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.worker:
        worker_main()
        return
    if args.repeat < 1 or args.concurrent < 1:
        raise SystemExit("--repeat and --concurrent must be at least 1")
    s3 = s3_settings(args)
    s3_ready = bool(s3["endpoint"] and s3["bucket"])
    services = list(dict.fromkeys(args.service or ["memory", "fs", *(["s3"] if s3_ready else [])]))
    if "s3" in services and not s3_ready:
        raise SystemExit(
            "--service s3 needs --s3-endpoint and --s3-bucket (or OPENDALFS_TEST_S3_*)"
        )
    args.fs_dir = pick_fs_dir(args.fs_dir) if "fs" in services else None
    bound = 3 * args.chunk * args.concurrent / MiB + 100
    command = shlex.join([sys.executable, *sys.argv])
    info = machine(args.fs_dir)

    print(f"command: {command}")
    print(
        f"machine: {info['cpu_count']} CPUs"
        + (f" ({info['cpus_usable']} usable)" if "cpus_usable" in info else "")
        + (f", {info['memory_gib']} GiB RAM" if "memory_gib" in info else "")
        + f", {info['platform']}"
    )
    print(
        f"python {info['python']}, opendalfs {info['opendalfs']}, "
        f"opendal {info['opendal']}, fsspec {info['fsspec']}"
    )
    print(
        f"file {show_size(args.size)}, f.write/f.read blocks of {show_size(args.block)}, "
        f"write_chunk {show_size(args.chunk)}, write_concurrent {args.concurrent}, "
        f"{args.repeat} run(s) per service"
    )
    if args.fs_dir:
        cold = "dropped from the page cache" if args.fs_cold else "warm in the page cache"
        print(f"fs root under {args.fs_dir} ({info['fs_dir_type']}); read {cold}")
    print(
        f"bound: 3 x {show_size(args.chunk)} x {args.concurrent} + 100 MiB = {show_mib(bound)} MiB"
    )
    sys.stdout.flush()

    results: dict[str, Any] = {}
    for service in services:
        runs = []
        for repeat in range(args.repeat):
            runs.append(measurements(service, args, s3))
            for row in phase_rows(service, [runs[-1]], args.size):
                print(
                    f"  {service} {row['op']} run {repeat + 1}/{args.repeat}: "
                    f"{row['mib_s']:.1f} MiB/s, {row['seconds']:.3f} s, "
                    f"peak RSS {row['peak_rss_mib']:.1f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
        rows = phase_rows(service, runs, args.size)
        results[service] = {"runs": rows, "summary": summarize(rows, bound)}

    for service, result in results.items():
        print(f"\n{service}")
        print(table(result["summary"]))
        if service in IN_PROCESS:
            print(
                f"  {service} stores the file inside this process: its {args.size / MiB:.0f} "
                "MiB count toward RSS, so 'checked' = peak RSS - stored object."
            )
            if any(s["peak_includes_write"] for s in result["summary"]):
                print("  (read's peak could not be reset after the write: it includes it)")
    print(
        "\nMiB/s and seconds are medians; peak RSS, baseline, +baseline (peak - baseline), "
        "RSS after and checked\nare the worst run. baseline = RSS after imports and "
        "filesystem creation; RSS after = RSS once\nthe file is closed. checked = peak RSS "
        "(memory: minus the stored object), compared with bound.\nAll sizes in MiB."
    )

    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "command": command,
                    "machine": info,
                    "settings": {
                        "size": args.size,
                        "block": args.block,
                        "chunk": args.chunk,
                        "concurrent": args.concurrent,
                        "repeat": args.repeat,
                        "services": services,
                        "fs_cold": args.fs_cold,
                        "bound_mib": bound,
                    },
                    "results": results,
                },
                out,
                indent=2,
            )
            out.write("\n")
        print(f"raw results: {args.json}")


if __name__ == "__main__":
    main()
