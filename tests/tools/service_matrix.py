"""Write docs/services.md: what each fsspec operation does on each service, measured.

Run it from the repository root after a change to opendalfs or to a test server:
``python tests/tools/service_matrix.py``. It starts every test server with
``tests/servers.py`` (``memory`` and ``fs`` need none), performs every operation in
:data:`OPERATIONS` on each service, checks the result by reading it back, and writes
the table. ``tests/test_service_matrix.py`` measures each service again and fails
while the committed file says something else.

An operation is classified from what happened, and only then from the service's
capabilities (``fs._backend(container).caps``):

- ``native``: it worked and opendalfs did it with the matching OpenDAL operation;
- ``emulated``: it worked, and opendalfs did it another way (the note says how);
- ``not available``: it raised ``NotImplementedError``;
- ``emulator gap``: it failed on the test server for a reason listed in conftest's
  ``KNOWN_GAPS`` (a bug of the emulator, not of opendalfs), so it is unverified;
- ``broken``: it failed in any other way, or its result was wrong. This is a bug.

A check that fails is tried again on fresh files (:data:`ATTEMPTS` in all), so an
intermittent failure does not make the generated file differ from run to run.
"""

from __future__ import annotations

import datetime
import logging
import os
import random
import re
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
DOC = ROOT / "docs" / "services.md"
COMMAND = "python tests/tools/service_matrix.py"
for _path in (str(ROOT), str(TESTS)):  # opendalfs from this checkout; servers, conftest
    if _path not in sys.path:
        sys.path.insert(0, _path)

from opendalfs import OpendalFileSystem  # noqa: E402
from opendalfs._services import is_secret, service_config  # noqa: E402

#: The fsspec operations classified, in the order of the table's rows.
OPERATIONS: tuple[str, ...] = (
    "ls",
    "find",
    "info/exists",
    "cat_file (ranges)",
    "pipe_file",
    'pipe_file(mode="create")',
    "open rb",
    "open wb",
    "open ab",
    "open xb",
    "rm (recursive)",
    "cp_file",
    "mv",
    "mkdir/makedirs",
    "rmdir",
    "put_file",
    "get_file",
    "sign",
    "touch (empty files)",
    "modified",
)

NATIVE = "native"
EMULATED = "emulated"
UNAVAILABLE = "not available"
GAP = "emulator gap"
BROKEN = "broken"
SYMBOLS = {NATIVE: "✓", EMULATED: "~", UNAVAILABLE: "✗", GAP: "?", BROKEN: "‼"}

#: Read-only services, after the suite's (conftest's PROFILES) in the table: the checks
#: put their test files on the server by other means (``seed``).
READ_ONLY = ("http",)

#: What each service was measured against.
TEST_SERVERS = {
    "memory": "the in-process store",
    "fs": "a local directory",
    "s3": "moto's S3 server",
    "azblob": "Azurite",
    "gcs": "fake-gcs-server",
    "webdav": "wsgidav",
    "ftp": "pyftpdlib",
    "http": "nginx serving a directory",
    "redis": "redis-server",
    "postgresql": "PostgreSQL",
    "mysql": "MariaDB",
    "sqlite": "a database file",
}

#: The suite tests whose known emulator gaps (conftest's KNOWN_GAPS) an operation shares.
GAP_TESTS: dict[str, tuple[str, ...]] = {
    'pipe_file(mode="create")': (
        "test_pipe_overwrite_and_create",
        "test_pipe_create_on_existing_is_file_exists",
        "test_pipe_exclusive",
    ),
    "open xb": ("test_open_xb_losing_a_race_is_file_exists",),
    # Files of more than one part: the multipart upload that open wb and put_file share.
    "open wb": ("test_put_and_get_file_report_progress",),
    "put_file": ("test_put_and_get_file_report_progress",),
}

#: The method of ``_Probe`` that checks each operation (``check_<name>``).
CHECKS = {op: re.sub(r"[^a-z]+", "_", op).strip("_") for op in OPERATIONS}

#: How often a failing check is tried, on fresh files, before the failure counts: an
#: intermittent failure (a race in a client or server) must not flip a cell from one
#: run to the next. The suite's own tests are the place to catch those.
ATTEMPTS = 5

Result = tuple[str, str]
Seed = Callable[[str, bytes], None]


class Mismatch(Exception):
    """An operation returned without error but did not do what it should."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def services() -> list[str]:
    """Every service in the table, in column order."""
    from conftest import PROFILES

    return [*PROFILES, *READ_ONLY]


def _known_gaps() -> Mapping[tuple[str, str], str]:
    from conftest import KNOWN_GAPS

    return KNOWN_GAPS


def seeder(seed_dir: Path) -> Seed:
    """Put files where a read-only server (http) serves them from."""

    def seed(name: str, data: bytes) -> None:
        path = Path(seed_dir, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return seed


# --------------------------------------------------------------------------- classify


def classify(
    fs: OpendalFileSystem,
    root: str,
    service: str,
    *,
    seed: Seed | None = None,
    known_gaps: Mapping[tuple[str, str], str] | None = None,
) -> dict[str, Result]:
    """Perform every operation below ``root`` (a fresh directory) and classify it.

    ``service`` is the name in conftest's PROFILES (its known gaps apply). ``seed``
    puts test files in place for a service that cannot write them itself.
    """
    probe = _Probe(fs, root, service, seed, _known_gaps() if known_gaps is None else known_gaps)
    with tempfile.TemporaryDirectory(prefix="opendalfs-matrix-") as local:
        probe.local = Path(local)
        return {op: probe.classify(op) for op in OPERATIONS}


class _Probe:
    """The checks, one per operation, each in its own directory below the root."""

    def __init__(
        self,
        fs: OpendalFileSystem,
        root: str,
        service: str,
        seed: Seed | None,
        known_gaps: Mapping[tuple[str, str], str],
    ) -> None:
        self.fs = fs
        self.root = root
        self.service = service
        self.seed = seed
        self.known_gaps = known_gaps
        _, container, _ = fs._locate(root)
        backend = fs._backend(container)
        self.caps = backend.caps
        self.raw = backend.op.capability()
        self.local = Path()
        self.random = random.Random(service)

    # -- running one check -------------------------------------------------

    def classify(self, op: str) -> Result:
        """Check ``op``; a failure counts only if every one of :data:`ATTEMPTS` fails."""
        slug = re.sub(r"[^a-z]+", "-", op).strip("-")
        for attempt in range(ATTEMPTS):
            result = self.attempt(op, f"{self.root}/{slug}-{attempt}")
            if result[0] not in (BROKEN, GAP):
                break
        return result

    def attempt(self, op: str, base: str) -> Result:
        try:
            return getattr(self, "check_" + CHECKS[op])(base)
        except NotImplementedError as exc:
            if self.fs.scheme in str(exc):
                return UNAVAILABLE, self.say(exc)
            return BROKEN, f"NotImplementedError without the service's name: {self.say(exc)}"
        except Exception as exc:
            for test in GAP_TESTS.get(op, ()):
                reason = self.known_gaps.get((self.service, test))
                if reason:
                    return GAP, reason
            if isinstance(exc, Mismatch):
                return BROKEN, self.say(exc)
            return BROKEN, f"{type(exc).__name__}: {self.say(exc)}"

    def say(self, exc: BaseException) -> str:
        """An exception's message without the paths and ports of this one run."""
        if isinstance(exc, OSError) and exc.strerror:
            text = exc.strerror
        else:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        text = re.sub(re.escape(self.root) + r"[^\s:'\"]*", "…", text)
        text = re.sub(r"^…: ", "", text)
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
        return text.strip()

    def put(self, name: str, data: bytes) -> None:
        """Make a test file, through the filesystem or, for a read-only service, the seed."""
        if self.seed is not None:
            self.seed(name, data)
            return
        try:
            self.fs.pipe_file(name, data)
        except NotImplementedError as exc:
            raise Mismatch(f"cannot write a test file: {exc}") from exc

    def cat(self, name: str) -> bytes:
        self.fs.invalidate_cache()
        return self.fs.cat_file(name)

    def exists(self, name: str) -> bool:
        self.fs.invalidate_cache()
        return self.fs.exists(name)

    def data(self, size: int) -> bytes:
        return self.random.randbytes(size)

    # -- the checks, by operation --------------------------------------------

    def check_ls(self, d: str) -> Result:
        for rel in ("b", "a", "sub/c"):
            self.put(f"{d}/{rel}", rel.encode())
        got = self.fs.ls(d, detail=False, refresh=True)
        expect(got == [f"{d}/a", f"{d}/b", f"{d}/sub"], f"ls listed {got}")
        return NATIVE, ""

    def check_find(self, d: str) -> Result:
        files = [f"{d}/x", f"{d}/s/y", f"{d}/s/deep/z"]
        for name in files:
            self.put(name, b"1")
        self.fs.invalidate_cache()
        got = self.fs.find(d)
        expect(got == sorted(files), f"find found {got}")
        if not self.caps.recursive_list:
            return EMULATED, (
                "walked one directory level at a time: OpenDAL's recursive listing "
                "is not trusted on this service"
            )
        if not self.raw.list_with_recursive:
            return NATIVE, "one recursive OpenDAL listing (which OpenDAL builds level by level)"
        return NATIVE, "one recursive OpenDAL listing"

    def check_info_exists(self, d: str) -> Result:
        self.put(f"{d}/f", b"hello")
        self.fs.invalidate_cache()
        info = self.fs.info(f"{d}/f")
        expect(
            (info["name"], info["type"], info["size"]) == (f"{d}/f", "file", 5),
            f"info gave {info}",
        )
        expect(self.exists(f"{d}/f"), "exists() is False for a file")
        expect(not self.exists(f"{d}/missing"), "exists() is True for a missing path")
        try:
            self.fs.info(f"{d}/missing")
        except FileNotFoundError:
            pass
        else:
            raise Mismatch("info() of a missing path did not raise FileNotFoundError")
        return NATIVE, ""

    def check_cat_file_ranges(self, d: str) -> Result:
        data = self.data(1024)
        self.put(f"{d}/f", data)
        self.fs.invalidate_cache()
        for start, end in [(None, None), (10, 20), (-10, None), (1000, 2000), (2000, 3000)]:
            got = self.fs.cat_file(f"{d}/f", start, end)
            expect(got == data[start:end], f"cat_file({start}, {end}) read the wrong bytes")
        got = self.fs.cat_ranges([f"{d}/f"] * 2, [0, 500], [4, 510])
        expect(got == [data[0:4], data[500:510]], "cat_ranges read the wrong bytes")
        return self.ranged_reads()

    def ranged_reads(self) -> Result:
        if getattr(self.caps, "reads_to_end", False):
            return EMULATED, "a range is read from its start to the end of the file, then cut"
        return NATIVE, ""

    def check_pipe_file(self, d: str) -> Result:
        data = self.data(1000)
        self.fs.pipe_file(f"{d}/f", b"first")
        self.fs.pipe_file(f"{d}/f", data)
        expect(self.cat(f"{d}/f") == data, "the file does not hold what was written last")
        return NATIVE, ""

    def check_pipe_file_mode_create(self, d: str) -> Result:
        self.fs.pipe_file(f"{d}/f", b"first", mode="create")
        expect(self.cat(f"{d}/f") == b"first", "the created file holds the wrong bytes")
        try:
            self.fs.pipe_file(f"{d}/f", b"second", mode="create")
        except FileExistsError:
            pass
        else:
            raise Mismatch("a create on an existing file did not raise FileExistsError")
        expect(self.cat(f"{d}/f") == b"first", "a create replaced an existing file")
        if self.caps.if_not_exists:
            return NATIVE, "atomic: OpenDAL's if_not_exists"
        return EMULATED, "an existence check, then the write: not atomic"

    def check_open_rb(self, d: str) -> Result:
        data = self.data(200_000)
        self.put(f"{d}/f", data)
        self.fs.invalidate_cache()
        with self.fs.open(f"{d}/f", "rb", block_size=16 * 2**10) as f:
            expect(f.read(100) == data[:100], "read() after open gave the wrong bytes")
            f.seek(150_000)
            expect(f.read(30_000) == data[150_000:180_000], "read() after seek() was wrong")
            f.seek(-10, 2)
            expect(f.read() == data[-10:], "read() to the end was wrong")
            expect(f.read() == b"", "read() past the end was not empty")
        return self.ranged_reads()

    def check_open_wb(self, d: str) -> Result:
        # Two parts and a bit: OpenDAL uploads a part whenever write_chunk bytes are in.
        chunk = max(self.raw.write_multi_min_size or 0, 256 * 2**10)
        data = self.data(2 * chunk + 1000)
        with self.fs.open(f"{d}/f", "wb", write_chunk=chunk) as f:
            for start in range(0, len(data), 100_000):
                f.write(data[start : start + 100_000])
        expect(self.cat(f"{d}/f") == data, "the file does not hold what was written")
        if self.caps.write_multi:
            return NATIVE, "uploaded in parts of write_chunk bytes while it is written"
        return EMULATED, "the service takes an object in one request: held in memory until close"

    def check_open_ab(self, d: str) -> Result:
        self.put(f"{d}/f", b"old-")
        self.fs.invalidate_cache()
        with self.fs.open(f"{d}/f", "ab") as f:
            f.write(b"new")
        expect(self.cat(f"{d}/f") == b"old-new", "the old bytes were not kept")
        with self.fs.open(f"{d}/g", "ab") as f:
            f.write(b"fresh")
        expect(self.cat(f"{d}/g") == b"fresh", "appending to a new file did not create it")
        if self.caps.append:
            return NATIVE, "OpenDAL's append"
        return EMULATED, "a rewrite: the old bytes are copied into a new object, then the new ones"

    def check_open_xb(self, d: str) -> Result:
        with self.fs.open(f"{d}/f", "xb") as f:
            f.write(b"one")
        expect(self.cat(f"{d}/f") == b"one", "the created file holds the wrong bytes")
        try:
            self.fs.open(f"{d}/f", "xb")
        except FileExistsError:
            pass
        else:
            raise Mismatch("open(..., 'xb') of an existing file did not raise FileExistsError")
        # Someone else creates the file between our open and our close.
        f = self.fs.open(f"{d}/race", "xb")
        f.write(b"mine")
        self.fs.pipe_file(f"{d}/race", b"theirs")
        try:
            f.close()
            refused = False
        except FileExistsError:
            refused = True
        content = self.cat(f"{d}/race")
        expect(content == (b"theirs" if refused else b"mine"), "the raced file is mixed up")
        if self.caps.if_not_exists:
            expect(refused, "a file created after open(..., 'xb') was replaced on close")
            return NATIVE, "atomic: OpenDAL's if_not_exists; a file created meanwhile is kept"
        if refused:
            return EMULATED, "existence checks on open and before the write: not atomic"
        return EMULATED, "an existence check on open: a file created meanwhile is replaced"

    def check_rm_recursive(self, d: str) -> Result:
        self.put(f"{d}/one", b"1")
        self.fs.invalidate_cache()
        self.fs.rm(f"{d}/one")
        expect(not self.exists(f"{d}/one"), "rm() left the file")
        files = [f"{d}/tree/a", f"{d}/tree/s/b", f"{d}/tree/s/deep/c"]
        for name in files:
            self.put(name, b"1")
        self.fs.invalidate_cache()
        if not self.fs.isdir(f"{d}/tree"):
            try:
                self.fs.rm(f"{d}/tree", recursive=True)
            except FileNotFoundError:
                expect(all(self.exists(n) for n in files), "a failed rm() deleted files")
                return UNAVAILABLE, (
                    "no directories: keys are not grouped, so a directory does not exist "
                    "(FileNotFoundError); files are deleted by name"
                )
            raise Mismatch("rm(recursive=True) of a directory that does not exist succeeded")
        with _debug_log("opendalfs") as log:
            self.fs.rm(f"{d}/tree", recursive=True)
        expect(not self.exists(f"{d}/tree"), "rm(recursive=True) left the directory")
        expect(not any(self.exists(n) for n in files), "rm(recursive=True) left files")
        if any("recursive delete failed" in line for line in log):
            return EMULATED, (
                f"{TEST_SERVERS.get(self.service, 'the server')} refused OpenDAL's recursive "
                "delete, so opendalfs deleted entry by entry"
            )
        if self.caps.delete_recursive:
            return NATIVE, "one recursive OpenDAL delete"
        return EMULATED, "files one by one, then the directories, deepest first"

    def check_cp_file(self, d: str) -> Result:
        data = self.data(1000)
        self.put(f"{d}/src", data)
        self.fs.invalidate_cache()
        self.fs.cp_file(f"{d}/src", f"{d}/dst")
        expect(self.cat(f"{d}/dst") == data, "the copy holds the wrong bytes")
        expect(self.cat(f"{d}/src") == data, "the source changed")
        if self.caps.copy:
            return NATIVE, "server-side: OpenDAL's copy"
        return EMULATED, "streamed: read and written back through this process"

    def check_mv(self, d: str) -> Result:
        data = self.data(1000)
        self.put(f"{d}/src", data)
        self.fs.invalidate_cache()
        self.fs.mv(f"{d}/src", f"{d}/dst")
        expect(self.cat(f"{d}/dst") == data, "the moved file holds the wrong bytes")
        expect(not self.exists(f"{d}/src"), "the source is still there")
        if self.caps.rename:
            return NATIVE, "OpenDAL's rename"
        if self.caps.copy:
            return EMULATED, "a server-side copy, then a delete"
        return EMULATED, "a streamed copy, then a delete"

    def check_mkdir_makedirs(self, d: str) -> Result:
        try:
            self.fs.mkdir(f"{d}/m")
        except NotImplementedError as exc:
            note = self.say(exc)
            self.fs.makedirs(f"{d}/n/o", exist_ok=True)
            return UNAVAILABLE, f"{note}; makedirs(exist_ok=True) does nothing"
        expect(self.fs.isdir(f"{d}/m"), "mkdir() made no directory")
        self.fs.makedirs(f"{d}/n/o", exist_ok=True)
        self.fs.makedirs(f"{d}/m", exist_ok=True)
        self.fs.invalidate_cache()
        expect(self.fs.isdir(f"{d}/n/o"), "makedirs() made no directory")
        if self.caps.list:
            expect(self.fs.ls(f"{d}/m") == [], "a new directory is not empty")
        return NATIVE, ""

    def check_rmdir(self, d: str) -> Result:
        try:
            self.fs.mkdir(f"{d}/e")
        except NotImplementedError as exc:
            return UNAVAILABLE, f"no directories to remove: {self.say(exc)}"
        except Exception as exc:
            raise Mismatch(f"mkdir() failed: {type(exc).__name__}: {self.say(exc)}") from exc
        self.fs.rmdir(f"{d}/e")
        expect(not self.exists(f"{d}/e"), "rmdir() left the directory")
        return NATIVE, ""

    def check_put_file(self, d: str) -> Result:
        # Where the service takes parts, two of them and a bit (parts of write_chunk bytes).
        size = 2 * self.fs.write_chunk + 1000 if self.caps.write_multi else 300_000
        data = self.data(size)
        local = self.local / "up.bin"
        local.write_bytes(data)
        self.fs.put_file(str(local), f"{d}/f")
        expect(self.cat(f"{d}/f") == data, "the uploaded file holds the wrong bytes")
        if self.caps.write_multi:
            return NATIVE, "streamed from disk, in parts of write_chunk bytes"
        return EMULATED, "the service takes an object in one request: read whole into memory"

    def check_get_file(self, d: str) -> Result:
        data = self.data(300_000)
        self.put(f"{d}/f", data)
        self.fs.invalidate_cache()
        local = self.local / "down.bin"
        self.fs.get_file(f"{d}/f", str(local))
        expect(local.read_bytes() == data, "the downloaded file holds the wrong bytes")
        return NATIVE, ""

    def check_sign(self, d: str) -> Result:
        self.put(f"{d}/f", b"signed content")
        url = self.fs.sign(f"{d}/f", expiration=300)
        with urllib.request.urlopen(url, timeout=30) as response:
            expect(response.read() == b"signed content", "the signed URL read other bytes")
        return NATIVE, "a presigned URL, read with plain HTTP"

    def check_touch_empty_files(self, d: str) -> Result:
        self.fs.touch(f"{d}/f")
        self.fs.invalidate_cache()
        expect(self.fs.info(f"{d}/f")["size"] == 0, "the touched file is not empty")
        expect(self.cat(f"{d}/f") == b"", "the touched file is not empty")
        return NATIVE, ""

    def check_modified(self, d: str) -> Result:
        self.put(f"{d}/f", b"1")
        self.fs.invalidate_cache()
        when = self.fs.modified(f"{d}/f")
        expect(isinstance(when, datetime.datetime), f"modified() gave {when!r}")
        expect(when.tzinfo is not None, "modified() gave a naive datetime")
        return NATIVE, ""


@contextmanager
def _debug_log(name: str) -> Iterator[list[str]]:
    """The messages ``name``'s logger emits meanwhile, at every level."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger(name)
    handler, level = Collect(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# --------------------------------------------------------------------------- render

TABLE_HEADING = "## Operations by service"
SERVICES_HEADING = "## Services"

INTRO = f"""\
# Services

<!-- Generated by `{COMMAND}`: do not edit by hand. -->

What each fsspec operation does on each service, measured: `{COMMAND}`
starts a local server for every service, performs each operation on it, checks the
result by reading it back, and writes this file. `tests/test_service_matrix.py`
measures every service again and fails while this file says something else.

| cell | meaning |
|---|---|
| {SYMBOLS[NATIVE]} native | done by the matching OpenDAL operation |
| {SYMBOLS[EMULATED]} emulated | done by opendalfs another way; the service's notes say how |
| {SYMBOLS[UNAVAILABLE]} not available | raises `NotImplementedError` naming the service \
(directories on a service without them: the note says what happens) |
| {SYMBOLS[GAP]} emulator gap | not verified: the test server lacks the feature (see the notes) |
| {SYMBOLS[BROKEN]} broken | fails otherwise, or gives a wrong result: a bug |

The cells describe what happened against the test servers named below, with the
configuration shown for each; values in `<angle brackets>` are placeholders. A check
that fails is tried again on fresh files, and counts as failing only if it fails
{ATTEMPTS} times in a row: the table says what a service can do, and the test suite
catches intermittent failures.
"""


def config_example(scheme: str, options: Mapping[str, Any], container: str = "") -> str:
    """How to reach a test server, as code: secrets, ports and temporary paths hidden."""
    args = [f'"{scheme}"']
    for key, value in options.items():
        text = str(value)
        if is_secret(key):
            url = re.match(r"^([a-z][a-z0-9+.-]*)://", text)
            text = f"<{url.group(1)}://...>" if url else f"<{key}>"
        elif key == "root":
            text = "/path/to/directory"
        text = re.sub(r"(127\.0\.0\.1|localhost):\d+", r"\1:<port>", text)
        args.append(f'{key}="{text}"')
    if len(args) == 1:
        lines = [f"fs = OpendalFileSystem({args[0]})"]
    else:
        lines = ["fs = OpendalFileSystem(", *(f"    {arg}," for arg in args), ")"]
    option = service_config(scheme).container_option
    if option and container:
        lines.append(f'fs.ls("{container}")  # paths start with the {option}')
    return "\n".join(lines)


def render(results: Mapping[str, Mapping[str, Result]], configs: Mapping[str, str]) -> str:
    """docs/services.md for these services' results (one table column and section each)."""
    names = list(results)
    out = [INTRO, TABLE_HEADING, ""]
    out.append("| operation | " + " | ".join(names) + " |")
    out.append("|---|" + "|".join(":-:" for _ in names) + "|")
    for op in OPERATIONS:
        cells = [SYMBOLS[results[name][op][0]] for name in names]
        out.append(f"| `{op}` | " + " | ".join(cells) + " |")
    out += ["", SERVICES_HEADING, ""]
    for name in names:
        out += _section(name, results[name], configs.get(name, ""))
    return "\n".join(out).rstrip("\n") + "\n"


def _section(name: str, rows: Mapping[str, Result], config: str) -> list[str]:
    out = [f"### {name}", ""]
    out.append(f"Measured against {TEST_SERVERS.get(name, 'a local server')}.")
    option = service_config(name).container_option
    if option:
        out.append(
            f"Paths start with the {option}, as in s3fs: `{option}/dir/key`. Passing "
            f"`{option}=...` restricts the filesystem to that one {option}."
        )
    if name in READ_ONLY:
        out.append("A read-only service: the files are put on the server by other means.")
    out += ["", "```python", "from opendalfs import OpendalFileSystem", "", config, "```", ""]
    notes = [(op, status, note) for op, (status, note) in rows.items() if status != NATIVE or note]
    for op, status, note in notes:
        out.append(f"- `{op}`: {SYMBOLS[status]} {status}" + (f": {note}" if note else ""))
    if notes:
        out.append("")
    return out


def extract(markdown: str, name: str) -> tuple[dict[str, str], str]:
    """One service's table column (operation -> cell) and section, from a rendered file."""
    column: dict[str, str] = {}
    table = markdown.split(TABLE_HEADING, 1)[-1].split(SERVICES_HEADING, 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    if rows:
        header = [cell.strip() for cell in rows[0].strip("|").split("|")]
        if name in header:
            index = header.index(name)
            for line in rows[2:]:
                cells = [cell.strip() for cell in line.strip("|").split("|")]
                if len(cells) == len(header):
                    column[cells[0].strip("`")] = cells[index]
    found = re.search(rf"^### {re.escape(name)}\n.*?(?=^### |^## |\Z)", markdown, re.M | re.S)
    return column, found.group(0).rstrip("\n") if found else ""


def intro(markdown: str) -> str:
    """The part before the table, which is the same for every service (:data:`INTRO`)."""
    return markdown.split(TABLE_HEADING, 1)[0].rstrip("\n") + "\n"


def columns(markdown: str) -> list[str]:
    """The services in a rendered file's table, in order."""
    table = markdown.split(TABLE_HEADING, 1)[-1]
    header = next((line for line in table.splitlines() if line.startswith("|")), "|")
    return [cell.strip() for cell in header.strip("|").split("|")][1:]


# --------------------------------------------------------------------------- main


def measure(name: str, workdir: Path) -> tuple[dict[str, Result], str]:
    """Start ``name``'s server (if it has one), classify it, stop the server."""
    import servers

    root = f"matrix-{uuid.uuid4().hex[:12]}"
    if name == "memory":
        fs = OpendalFileSystem("memory")
        return classify(fs, root, name), config_example("memory", {})
    if name == "fs":
        options = {"root": str(workdir / "fsroot")}
        Path(options["root"]).mkdir(parents=True)
        return classify(OpendalFileSystem("fs", **options), root, name), config_example(
            "fs", options
        )
    running = servers.start(name, workdir)
    try:
        fs = OpendalFileSystem(running.scheme, **running.options)
        path = "/".join(p for p in (running.container, root) if p)
        seed = seeder(running.seed_dir) if running.seed_dir is not None else None
        rows = classify(fs, path, name, seed=seed)
        return rows, config_example(running.scheme, running.options, running.container)
    finally:
        running.stop()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        print(f"usage: {COMMAND}  (measures every service; takes no arguments)")
        return 2
    if os.environ.get("OPENDALFS_TEST_S3_ENDPOINT"):
        print("unset OPENDALFS_TEST_S3_ENDPOINT: the table describes the local test servers")
        return 2
    results: dict[str, dict[str, Result]] = {}
    configs: dict[str, str] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="opendalfs-matrix-") as tmp:
        for name in services():
            began = time.monotonic()
            results[name], configs[name] = measure(name, Path(tmp, name))
            print(f"{name:>10}: {time.monotonic() - began:5.1f} s", flush=True)
    DOC.write_text(render(results, configs))
    print(f"wrote {DOC.relative_to(ROOT)} in {time.monotonic() - started:.1f} s")
    for name, rows in results.items():
        for op, (status, note) in rows.items():
            if status == BROKEN:
                print(f"warning: {name}: {op} is broken: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
