"""What each filesystem answers after another writer changed the store: the table in
docs/consistency.md.

Runs every case of ``tests/other_writers.py`` (the cases tests/test_other_writers.py
holds opendalfs to) on opendalfs and on the filesystem its users would otherwise
reach for: s3fs on S3 (moto), fsspec's ``LocalFileSystem`` on the local disk,
fsspec's ``MemoryFileSystem`` in memory; on Azure Blob (Azurite) and GCS
(fake-gcs-server) opendalfs alone (adlfs and gcsfs are not in the bench extra).
The second writer is an uncached opendalfs instance on the object stores (a
stand-in for ``aws s3 cp``), ``LocalFileSystem`` on disk, and another instance in
memory. Each filesystem under test is made with its defaults.

    python bench/consistency.py                 # every store, markdown to stdout
    python bench/consistency.py --store s3 --store fs

Run it from a virtualenv with the ``bench`` extra (``nox -s bench -- consistency``).
A cell is ``store`` (the store's answer), ``stale`` (the answer from before the
change), ``wrong`` (neither: for a read, bytes that were never the file's) or
``error: <type>``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fsbench.backends import _from_tests

STORES = ("s3", "azblob", "gcs", "fs", "memory")


cases = _from_tests("other_writers")

#: (label, make a Pair for a fresh directory named ``rel``) on one store.
Contender = tuple[str, Callable[[str], Any]]


@contextmanager
def store(name: str, workdir: Path) -> Iterator[list[Contender]]:
    """The contenders on store ``name``, each with its second writer."""
    from opendalfs import OpendalFileSystem

    if name == "fs":
        from fsspec.implementations.local import LocalFileSystem

        disk = tempfile.mkdtemp(prefix="opendalfs-consistency-", dir=workdir)
        writer = LocalFileSystem(auto_mkdir=True)
        yield [
            (
                "opendalfs",
                lambda rel: cases.Pair(
                    OpendalFileSystem("fs", root=disk, skip_instance_cache=True),
                    rel,
                    writer,
                    f"{disk}/{rel}",
                ),
            ),
            (
                "LocalFileSystem",
                lambda rel: cases.Pair(LocalFileSystem(), f"{disk}/{rel}", writer, f"{disk}/{rel}"),
            ),
        ]
        return
    if name == "memory":
        from fsspec.implementations.memory import MemoryFileSystem

        def memory(kind: Callable[..., Any]) -> Callable[[str], Any]:
            # Two instances of one kind reach one store: the other is the second writer.
            return lambda rel: cases.Pair(
                kind(skip_instance_cache=True), rel, kind(skip_instance_cache=True), rel
            )

        yield [
            ("opendalfs", memory(lambda **kw: OpendalFileSystem("memory", **kw))),
            ("MemoryFileSystem", memory(MemoryFileSystem)),
        ]
        return
    running = _from_tests("servers").start(name, workdir)
    try:
        options = running.options

        def ours(**extra: Any) -> Any:
            return OpendalFileSystem(name, **options, skip_instance_cache=True, **extra)

        writer = ours(use_listings_cache=False)

        def pair(make: Callable[[], Any]) -> Callable[[str], Any]:
            return lambda rel: cases.Pair(
                make(), f"{running.container}/{rel}", writer, f"{running.container}/{rel}"
            )

        contenders: list[Contender] = [("opendalfs", pair(ours))]
        if name == "s3":
            contenders.append(("s3fs", pair(lambda: _s3fs(options))))
        yield contenders
    finally:
        running.stop()


def _s3fs(options: dict[str, Any]) -> Any:
    import s3fs

    return s3fs.S3FileSystem(
        key=options["access_key_id"],
        secret=options["secret_access_key"],
        endpoint_url=options["endpoint"],
        client_kwargs={"region_name": options["region"]},
        skip_instance_cache=True,
    )


def run_store(name: str, workdir: Path) -> dict[str, dict[str, str]]:
    """case -> contender -> outcome, on store ``name``: each case on a fresh instance."""
    results: dict[str, dict[str, str]] = {}
    with store(name, workdir) as contenders:
        for label, make in contenders:
            for case in cases.CASES:
                pair = make(f"c-{uuid.uuid4().hex[:10]}")
                results.setdefault(case.name, {})[label] = cases.run_case(case, pair)
    return results


def table(results: dict[str, dict[str, dict[str, str]]]) -> str:
    """One markdown table: a row per case, a column per store and contender."""
    columns = [(s, c) for s, by_case in results.items() for c in next(iter(by_case.values()))]
    head = ["case", *[f"{s}: {c}" for s, c in columns]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in cases.CASES:
        cells = [results[s][case.name][c] for s, c in columns]
        lines.append(f"| {case.says} | " + " | ".join(cells) + " |")
    counts = [sum(results[s][case.name][c] == "store" for case in cases.CASES) for s, c in columns]
    lines.append(
        f"| **as the store** (of {len(cases.CASES)}) | "
        + " | ".join(f"**{n}**" for n in counts)
        + " |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", action="append", choices=STORES, help="repeatable")
    parser.add_argument("--json", help="also write the outcomes, store -> case -> contender")
    args = parser.parse_args()
    import opendalfs

    print(f"opendalfs {opendalfs.__version__} from {opendalfs.__file__}", file=sys.stderr)
    unavailable = _from_tests("servers").ServerUnavailable
    results = {}
    with tempfile.TemporaryDirectory(prefix="opendalfs-consistency-") as tmp:
        for name in args.store or STORES:
            try:
                results[name] = run_store(name, Path(tmp))
            except unavailable as exc:
                print(f"{name}: left out, its server is unavailable: {exc}", file=sys.stderr)
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
