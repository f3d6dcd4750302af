"""Model-based test: random call sequences, each result checked against a plain model.

Hypothesis drives an ``OpendalFileSystem`` with random sequences of fsspec calls
(writes, reads, listings, copies, moves, deletes) on a tiny namespace: three names,
one a prefix of another, at most three levels deep. Collisions are the point: a
file written where a directory is, a move onto an existing name, a delete of
something already gone. ``Model`` says what each call must return or raise,
exception type included, and after every step two invariants hold: the store's
whole tree (seen by a second instance without a cache) is the model's, and every
listing cached by the instance under test equals a fresh listing.

The model's semantics are the documented ones (docs/paths.md, docs/files.md):

- A directory exists when it is kept (``makedirs``, or any directory on ``fs``) or
  when something exists below it. On object stores a name may be a file and a
  directory at once (``a`` and ``a/b``); ``info`` and everything built on it
  (``isdir``, ``isfile``, ``size``, ``find``'s types) then describe the file, and
  ``ls`` of the parent shows both entries.
- Elsewhere (``fs``), a write onto a directory is ``IsADirectoryError``, and any
  write below a file is ``NotADirectoryError``: the path's parent is not a
  directory. A lookup there finds nothing (``FileNotFoundError``), like ``info``.
- ``copy``/``mv`` map names as fsspec does (into an existing directory, keeping the
  source's name). A copy or move onto the source's own name does nothing (for
  ``mv``, also when the target resolves to it: ``mv("d/f", "d")``). ``mv("d",
  "d/sub")``, and a recursive copy whose target lies inside its source, are
  ``OSError(EINVAL)`` and change nothing: the copy's result would depend on the
  order of its requests. ``mv`` of a directory needs ``recursive=True``
  (``IsADirectoryError``).
- ``rm(path, recursive=True)`` removes the path and everything below it, file and
  directory alike.

Budget: a fixed ``MODEL_EXAMPLES`` x ``MODEL_STEPS`` per service, derandomized
under the "ci" profile. Under ``HYPOTHESIS_PROFILE=soak`` the test runs fresh
batches until ``OPENDALFS_SOAK_SECONDS`` (per service) are spent; ``nox -s soak``
sets both.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import TYPE_CHECKING, Any

import pytest
from fsspec.implementations.local import LocalFileSystem
from helpers import AsyncAPI
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from opendalfs import OpendalFileSystem

if TYPE_CHECKING:
    from conftest import Service

#: Examples and steps per service for CI and everyday runs: about 55 s on S3 (moto)
#: and under 10 s each on memory and fs, on 2 cores.
MODEL_EXAMPLES = 60
MODEL_STEPS = 40
#: Under the soak profile: longer sequences, in batches that repeat with fresh seeds
#: until the time is spent (about a minute per batch on S3).
SOAK_BATCH = 25
SOAK_STEPS = 60

#: Three names, one a prefix of another (``a`` is not ``ab``'s directory).
NAMES = ("a", "ab", "b")

#: Paths (relative to the example's root) that writes and makedirs were given: drawn
#: again often, so reads, copies and deletes find something there more often than not.
used = Bundle("used")
#: A path below the example's root; ``anywhere`` may also be the root itself.
below_root = st.one_of(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join), used)
anywhere = st.one_of(st.lists(st.sampled_from(NAMES), max_size=3).map("/".join), used)
contents = st.binary(max_size=12)
offsets = st.none() | st.integers(-16, 16)
#: A read-side call on an open file: ("seek", n) from the start, ("tail", n) from
#: the end, ("read", n) with -1 for "to the end".
read_calls = st.lists(
    st.tuples(st.sampled_from(["seek", "tail", "read"]), st.integers(-1, 14)), max_size=6
)

Entry = tuple[str, str, int]
"""(name, type, size): what the model knows of an info dict."""


def _on_one_line(a: str, b: str) -> bool:
    """Whether one of the names lies below the other."""
    return a.startswith(f"{b}/") or b.startswith(f"{a}/")


def _parent(name: str) -> str:
    return name.rpartition("/")[0]


@dataclass
class Model:
    """What the store under ``root`` holds: file name -> bytes, and kept directories.

    Each method does what the matching filesystem call must do: it returns the
    result or raises the exception the call must raise, and changes the model as
    the call must change the store (also the part done before an error).
    """

    root: str
    #: Object-store naming: a name may be a file and a directory, directories are
    #: kept only by ``makedirs``, and writes make no parents.
    object_store: bool
    #: Whether the service keeps a directory with nothing in it.
    keeps_directories: bool
    empty_files: bool
    #: Whether a move renames each file (its source goes at once) or copies it.
    renames: bool
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)

    def clone(self) -> Model:
        return replace(self, files=dict(self.files), dirs=set(self.dirs))

    # -- what exists -------------------------------------------------------

    def parents(self, name: str) -> Iterator[str]:
        """The directories above ``name``, up to and including the root."""
        while name != self.root:
            name = _parent(name)
            yield name

    def below(self, name: str) -> set[str]:
        """Every name below ``name``, the directories implied on the way included."""
        found = set()
        for n in chain(self.files, self.dirs):
            while n.startswith(f"{name}/"):
                found.add(n)
                n = _parent(n)
        return found

    def is_dir(self, name: str) -> bool:
        return name in self.dirs or any(
            n.startswith(f"{name}/") for n in chain(self.files, self.dirs)
        )

    def entry(self, name: str) -> Entry:
        """``info(name)``: a name that is a file and a directory is described as the file."""
        if name in self.files:
            return name, "file", len(self.files[name])
        if self.is_dir(name):
            return name, "directory", 0
        raise FileNotFoundError(errno.ENOENT, "model: no such file", name)

    def kind(self, name: str) -> str | None:
        try:
            return self.entry(name)[1]
        except FileNotFoundError:
            return None

    # -- reading -----------------------------------------------------------

    def read(self, name: str) -> bytes:
        if name in self.files:
            return self.files[name]
        if self.is_dir(name):
            raise IsADirectoryError(errno.EISDIR, "model: is a directory", name)
        raise FileNotFoundError(errno.ENOENT, "model: no such file", name)

    def ls(self, name: str) -> list[Entry]:
        """Children (a file-and-directory name twice); a file lists as itself."""
        children = {f"{name}/{n[len(name) + 1 :].split('/')[0]}" for n in self.below(name)}
        listing = [(c, "file", len(self.files[c])) for c in children if c in self.files]
        listing += [(c, "directory", 0) for c in children if self.is_dir(c)]
        if listing:
            return sorted(listing)
        if name in self.files:
            return [self.entry(name)]
        if self.is_dir(name):
            return []
        raise FileNotFoundError(errno.ENOENT, "model: no such directory", name)

    def find(self, name: str, withdirs: bool, maxdepth: int | None) -> dict[str, Entry]:
        below = self.below(name)
        if not below:
            kind = self.kind(name)
            keep = kind == "file" or (kind == "directory" and withdirs)
            return {name: self.entry(name)} if keep else {}
        found = {
            n: self.entry(n)
            for n in below
            if (withdirs or n in self.files)
            and (maxdepth is None or n[len(name) + 1 :].count("/") < maxdepth)
        }
        if withdirs:
            found[name] = self.entry(name)
        return found

    # -- writing -----------------------------------------------------------

    def write(self, name: str, data: bytes) -> None:
        """Store a file; elsewhere than on object stores its parents become directories."""
        if not self.object_store:
            if self.is_dir(name):
                raise IsADirectoryError(errno.EISDIR, "model: is a directory", name)
            self._check_parents(name)
        if not data and not self.empty_files:
            raise NotImplementedError(f"{name}: model: no empty files")
        self.files[name] = data
        if not self.object_store:
            self.dirs.update(self.parents(name))

    def append(self, name: str, data: bytes) -> None:
        if self.kind(name) == "directory":
            raise IsADirectoryError(errno.EISDIR, "model: is a directory", name)
        self.write(name, self.files.get(name, b"") + data)

    def touch(self, name: str, truncate: bool) -> None:
        kind = None if truncate else self.kind(name)
        if kind == "file":
            raise NotImplementedError(f"{name}: model: cannot update a modification time")
        if kind is None:
            self.write(name, b"")

    def makedirs(self, name: str, exist_ok: bool) -> None:
        kind = self.kind(name)
        if kind is not None:
            if not exist_ok or kind == "file":
                raise FileExistsError(errno.EEXIST, "model: exists", name)
            return
        if not self.keeps_directories:
            if exist_ok:
                return
            raise NotImplementedError(f"{name}: model: no directories to create")
        self._make_dir(name)

    def _make_dir(self, name: str) -> None:
        if not self.object_store:
            if name in self.files:
                raise FileExistsError(errno.EEXIST, "model: a file is there", name)
            self._check_parents(name)
            self.dirs.update(self.parents(name))
        if self.keeps_directories:
            self.dirs.add(name)

    def _check_parents(self, name: str) -> None:
        """Elsewhere than on object stores, nothing can be below a file."""
        if any(p in self.files for p in self.parents(name)):
            raise NotADirectoryError(errno.ENOTDIR, "model: a parent is a file", name)

    # -- deleting ----------------------------------------------------------

    def rm(self, name: str, recursive: bool) -> None:
        kind = self.kind(name)
        if kind is None:
            raise FileNotFoundError(errno.ENOENT, "model: no such file", name)
        if recursive:
            for n in self.below(name) | {name}:
                self.files.pop(n, None)
                self.dirs.discard(n)
        elif kind == "file":
            del self.files[name]
        else:
            raise IsADirectoryError(errno.EISDIR, "model: is a directory", name)

    def rmdir(self, name: str) -> None:
        kind = self.kind(name)
        if kind is None:
            raise FileNotFoundError(errno.ENOENT, "model: no such directory", name)
        if kind == "file":
            raise NotADirectoryError(errno.ENOTDIR, "model: not a directory", name)
        if self.below(name):
            raise OSError(errno.ENOTEMPTY, "model: directory not empty", name)
        self.dirs.discard(name)

    # -- copying and moving ------------------------------------------------

    def cp_file(self, src: str, dst: str) -> None:
        self._transfer(self.clone(), src, dst, move=False)

    def copy(self, src: str, dst: str, recursive: bool) -> None:
        """fsspec's ``copy``; a recursive copy ignores sources that vanished meanwhile."""
        errors = self._transfer_all(src, dst, recursive, move=False)
        for exc in errors:
            if not (recursive and isinstance(exc, FileNotFoundError)):
                raise exc

    def mv(self, src: str, dst: str, recursive: bool) -> None:
        self._require(src)
        if not recursive and self.kind(src) == "directory":
            raise IsADirectoryError(errno.EISDIR, "model: a directory needs recursive", src)
        target = dst if src == dst else self._target(src, dst)
        if target == src:
            return  # already there
        if target.startswith(f"{src}/"):
            raise OSError(errno.EINVAL, "model: cannot move into itself", dst)
        errors = self._transfer_all(src, dst, recursive, move=True)
        if errors:
            raise errors[0]
        if self.kind(src) is not None:
            self.rm(src, recursive)

    def _require(self, name: str) -> None:
        if self.kind(name) is None:
            raise FileNotFoundError(errno.ENOENT, "model: no such file", name)

    def _target(self, src: str, dst: str) -> str:
        """Where ``src`` goes: into ``dst`` when that is a directory, as fsspec does."""
        name = src.rpartition("/")[2]
        return f"{dst}/{name}" if self.kind(dst) == "directory" else dst

    def _transfer_all(self, src: str, dst: str, recursive: bool, move: bool) -> list[OSError]:
        """Copy (or move) ``src`` and, if recursive, all below it; return the errors in order.

        A non-recursive copy of a directory copies nothing. Each pair is done on
        its own, so the others complete when one fails.
        """
        target = dst if src == dst else self._target(src, dst)
        if recursive:
            self._require(src)
            tree = self.kind(src) == "directory" or self.below(src)
            if tree and (target == src or _on_one_line(src, target)):
                raise OSError(errno.EINVAL, "model: cannot copy into itself", target)
            sources = sorted(self.below(src) | {src})
        elif self.kind(src) == "directory":
            return []
        else:
            sources = [src]
        before = self.clone()
        errors = []
        for name in sources:
            try:
                self._transfer(before, name, target + name[len(src) :], move)
            except OSError as exc:
                errors.append(exc)
        return errors

    def _transfer(self, before: Model, src: str, dst: str, move: bool) -> None:
        kind = before.kind(src)
        if kind is None:
            raise FileNotFoundError(errno.ENOENT, "model: no such file", src)
        if src == dst:
            return  # nothing to do
        if kind == "directory":
            self._make_dir(dst)
            return
        self.write(dst, before.files[src])
        if move and self.renames:
            del self.files[src]


# -- comparing outcomes ------------------------------------------------------


def _outcome(call: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    try:
        return call(), None
    except Exception as exc:
        return None, exc


def _same_error(expected: BaseException, actual: BaseException) -> bool:
    """The error the model names; a plain OSError with an errno also needs that errno."""
    if type(expected) is OSError and expected.errno is not None:
        return isinstance(actual, OSError) and actual.errno == expected.errno
    return isinstance(actual, type(expected))


def _entry(info: dict[str, Any]) -> Entry:
    return info["name"], info["type"], info["size"]


def _file_calls(f: Any, calls: list[tuple[str, int]], size: int) -> list[Any]:
    """Run read-side calls on an open file (or a BytesIO holding the model's bytes)."""
    results: list[Any] = []
    for call, n in calls:
        if call == "seek":
            results.append(f.seek(max(n, 0)))
        elif call == "tail":
            results.append(f.seek(-min(max(n, 0), size), 2))
        else:
            results.append(f.read(n))
    results.append(f.read())
    return results


class FilesystemMachine(RuleBasedStateMachine):
    """One example: random calls in a fresh directory, each checked against ``Model``."""

    def __init__(
        self, fs: OpendalFileSystem, service: Service, base: str, second_writer: bool = False
    ) -> None:
        super().__init__()
        self.fs = fs
        #: Sees the store as it is: no listing cache, no shared instance.
        self.fresh = service.filesystem(skip_instance_cache=True, use_listings_cache=False)
        #: Changes the store behind ``fs``'s back, where the example has a second writer:
        #: fsspec's LocalFileSystem on fs, another instance elsewhere.
        self.other: Any = None
        self.there: Callable[[str], str] = lambda name: name
        if second_writer and service.scheme == "fs":
            self.other = LocalFileSystem(auto_mkdir=True)
            self.there = lambda name: f"{service.options['root']}/{name}"
        elif second_writer:
            self.other = self.fresh
        self.root = f"{base}/{uuid.uuid4().hex[:8]}"
        self.model = Model(
            root=self.root,
            object_store=service.object_store,
            keeps_directories=service.empty_directories,
            empty_files=service.empty_files,
            renames=service.renames,
        )

    def at(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def check(
        self,
        what: str,
        expect: Callable[[Model], Any],
        call: Callable[[], Any],
        convert: Callable[[Any], Any] = lambda value: value,
    ) -> None:
        """Run ``call`` and the model's ``expect``; results, or errors, must match."""
        model = self.model.clone()
        expected, expected_error = _outcome(lambda: expect(model))
        actual, actual_error = _outcome(lambda: convert(call()))
        if expected_error is not None:
            assert actual_error is not None, f"{what}: expected {expected_error!r}, got {actual!r}"
            assert _same_error(expected_error, actual_error), (
                f"{what}: expected {expected_error!r}, got {actual_error!r}"
            )
        else:
            assert actual_error is None, f"{what}: expected {expected!r}, got {actual_error!r}"
            assert actual == expected, f"{what}: expected {expected!r}, got {actual!r}"
        self.model = model

    # -- set-up and tear-down ----------------------------------------------

    @initialize(made=st.booleans())
    def start(self, made: bool) -> None:
        """Start from a missing root, or from an empty directory."""
        if made:
            self.check(
                "makedirs(root)",
                lambda m: m.makedirs(m.root, False),
                lambda: self.fs.makedirs(self.root),
            )

    def teardown(self) -> None:
        """Remove the example's directory; a failure here must not hide the example's."""
        self.fs.invalidate_cache()
        with contextlib.suppress(OSError):
            self.fresh.rm(self.root, recursive=True)

    # -- writing -----------------------------------------------------------

    @rule(target=used, path=below_root, data=contents)
    def pipe(self, path: str, data: bytes) -> str:
        p = self.at(path)
        self.check(
            f"pipe_file({p!r})", lambda m: m.write(p, data), lambda: self.fs.pipe_file(p, data)
        )
        return path

    @rule(
        target=used,
        path=below_root,
        mode=st.sampled_from(["wb", "ab"]),
        chunks=st.lists(contents, max_size=4),
        block_size=st.integers(1, 8),
    )
    def write_file(self, path: str, mode: str, chunks: list[bytes], block_size: int) -> str:
        p = self.at(path)
        data = b"".join(chunks)

        def expect(m: Model) -> list[int]:
            (m.write if mode == "wb" else m.append)(p, data)
            return [len(c) for c in chunks]

        def call() -> list[int]:
            with self.fs.open(p, mode, block_size=block_size) as f:
                return [f.write(c) for c in chunks]

        self.check(f"open({p!r}, {mode!r}).write({chunks!r})", expect, call)
        return path

    @rule(target=used, path=below_root, truncate=st.booleans())
    def touch(self, path: str, truncate: bool) -> str:
        p = self.at(path)
        self.check(
            f"touch({p!r}, truncate={truncate})",
            lambda m: m.touch(p, truncate),
            lambda: self.fs.touch(p, truncate=truncate),
        )
        return path

    @rule(target=used, path=below_root, exist_ok=st.booleans())
    def makedirs(self, path: str, exist_ok: bool) -> str:
        p = self.at(path)
        self.check(
            f"makedirs({p!r}, exist_ok={exist_ok})",
            lambda m: m.makedirs(p, exist_ok),
            lambda: self.fs.makedirs(p, exist_ok=exist_ok),
        )
        return path

    # -- deleting ----------------------------------------------------------

    @rule(path=anywhere, recursive=st.booleans())
    def rm(self, path: str, recursive: bool) -> None:
        p = self.at(path)
        self.check(
            f"rm({p!r}, recursive={recursive})",
            lambda m: m.rm(p, recursive),
            lambda: self.fs.rm(p, recursive=recursive),
        )

    @rule(path=below_root)
    def rmdir(self, path: str) -> None:
        p = self.at(path)
        self.check(f"rmdir({p!r})", lambda m: m.rmdir(p), lambda: self.fs.rmdir(p))

    # -- copying and moving ------------------------------------------------

    @rule(src=below_root, dst=anywhere)
    def cp_file(self, src: str, dst: str) -> None:
        s, d = self.at(src), self.at(dst)
        self.check(
            f"cp_file({s!r}, {d!r})", lambda m: m.cp_file(s, d), lambda: self.fs.cp_file(s, d)
        )

    @rule(src=anywhere, dst=anywhere, recursive=st.booleans())
    def copy(self, src: str, dst: str, recursive: bool) -> None:
        s, d = self.at(src), self.at(dst)
        self.check(
            f"copy({s!r}, {d!r}, recursive={recursive})",
            lambda m: m.copy(s, d, recursive),
            lambda: self.fs.copy(s, d, recursive=recursive),
        )

    @rule(src=below_root, dst=anywhere, recursive=st.booleans())
    def mv(self, src: str, dst: str, recursive: bool) -> None:
        s, d = self.at(src), self.at(dst)
        self.check(
            f"mv({s!r}, {d!r}, recursive={recursive})",
            lambda m: m.mv(s, d, recursive),
            lambda: self.fs.mv(s, d, recursive=recursive),
        )

    # -- reading -----------------------------------------------------------

    @rule(path=below_root, start=offsets, end=offsets)
    def cat_file(self, path: str, start: int | None, end: int | None) -> None:
        p = self.at(path)
        self.check(
            f"cat_file({p!r}, {start}, {end})",
            lambda m: m.read(p)[start:end],
            lambda: self.fs.cat_file(p, start, end),
        )

    @rule(path=below_root, calls=read_calls, block_size=st.integers(1, 8))
    def read_file(self, path: str, calls: list[tuple[str, int]], block_size: int) -> None:
        p = self.at(path)

        def expect(m: Model) -> list[Any]:
            data = m.read(p)
            return _file_calls(io.BytesIO(data), calls, len(data))

        def call() -> list[Any]:
            with self.fs.open(p, "rb", block_size=block_size) as f:
                return _file_calls(f, calls, f.size)

        self.check(f"open({p!r}, 'rb') then {calls!r}", expect, call)

    # -- looking -----------------------------------------------------------

    @rule(path=anywhere, detail=st.booleans(), refresh=st.booleans())
    def ls(self, path: str, detail: bool, refresh: bool) -> None:
        p = self.at(path)

        def expect(m: Model) -> list[Any]:
            listing = m.ls(p)
            return listing if detail else [name for name, _, _ in listing]

        def convert(listing: list[Any]) -> list[Any]:
            return sorted(map(_entry, listing)) if detail else listing

        self.check(
            f"ls({p!r}, detail={detail}, refresh={refresh})",
            expect,
            lambda: self.fs.ls(p, detail=detail, refresh=refresh),
            convert,
        )

    @rule(path=anywhere, call=st.sampled_from(["info", "exists", "isdir", "isfile", "size"]))
    def look(self, path: str, call: str) -> None:
        p = self.at(path)
        expect: dict[str, Callable[[Model], Any]] = {
            "info": lambda m: m.entry(p),
            "exists": lambda m: m.kind(p) is not None,
            "isdir": lambda m: m.kind(p) == "directory",
            "isfile": lambda m: m.kind(p) == "file",
            "size": lambda m: m.entry(p)[2],
        }
        convert = _entry if call == "info" else lambda value: value
        self.check(f"{call}({p!r})", expect[call], lambda: getattr(self.fs, call)(p), convert)

    @rule(
        path=anywhere,
        withdirs=st.booleans(),
        maxdepth=st.sampled_from([None, 1, 2]),
        detail=st.booleans(),
    )
    def find(self, path: str, withdirs: bool, maxdepth: int | None, detail: bool) -> None:
        p = self.at(path)

        def expect(m: Model) -> Any:
            found = m.find(p, withdirs, maxdepth)
            return found if detail else sorted(found)

        def convert(found: Any) -> Any:
            return {n: _entry(i) for n, i in found.items()} if detail else found

        self.check(
            f"find({p!r}, withdirs={withdirs}, maxdepth={maxdepth}, detail={detail})",
            expect,
            lambda: self.fs.find(p, withdirs=withdirs, maxdepth=maxdepth, detail=detail),
            convert,
        )

    # -- a second writer -----------------------------------------------------

    @precondition(lambda self: self.other is not None)
    @rule(target=used, path=below_root, data=contents)
    def written_elsewhere(self, path: str, data: bytes) -> str:
        """Another writer makes or rewrites a file (larger or smaller), where it can."""
        p = self.at(path)
        model = self.model.clone()
        try:
            model.write(p, data)
        except (OSError, NotImplementedError):
            return path  # not a write the store takes: nothing changes
        self.other.pipe_file(self.there(p), data)
        self.model = model
        return path

    @precondition(lambda self: self.other is not None)
    @rule(path=below_root)
    def deleted_elsewhere(self, path: str) -> None:
        """Another writer deletes a file, if there is one."""
        p = self.at(path)
        if p not in self.model.files:
            return
        self.other.rm_file(self.there(p))
        self.model.rm(p, recursive=False)

    # -- invariants --------------------------------------------------------

    @invariant()
    def the_store_holds_the_model(self) -> None:
        """A second, uncached instance finds exactly the model's names and types."""
        found = self.fresh.find(self.root, withdirs=True, detail=True)
        stored = {n: _entry(i) for n, i in found.items()}
        expected = self.model.find(self.root, withdirs=True, maxdepth=None)
        assert stored == expected, f"stored {stored}, model {expected}"

    @invariant()
    def cached_listings_are_fresh(self) -> None:
        """Every listing cached under the root equals one made now without a cache
        (with a second writer nothing may be cached: see the test below)."""
        for name, cached in list(self.fs.dircache.items()):
            if name != self.root and not name.startswith(f"{self.root}/"):
                continue
            try:
                fresh = self.fresh.ls(name, detail=True)
            except FileNotFoundError:
                raise AssertionError(
                    f"{name}: cached listing of a directory that is gone"
                ) from None
            cached, fresh = sorted(map(_entry, cached)), sorted(map(_entry, fresh))
            assert cached == fresh, f"{name}: cached {cached}, fresh {fresh}"


def _budgets() -> Iterator[settings]:
    """The settings of each run: one fixed run, or under "soak" batches until time is up.

    Without ``OPENDALFS_SOAK_SECONDS`` the soak profile makes one run of its own
    ``max_examples``. Each batch gets fresh random seeds; one under way when time
    is up still finishes.
    """
    fixed = {"report_multiple_bugs": False}
    if os.environ.get("HYPOTHESIS_PROFILE") != "soak":
        yield settings(max_examples=MODEL_EXAMPLES, stateful_step_count=MODEL_STEPS, **fixed)
        return
    seconds = float(os.environ.get("OPENDALFS_SOAK_SECONDS", "0"))
    if seconds <= 0:
        yield settings(stateful_step_count=SOAK_STEPS, **fixed)
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        yield settings(
            max_examples=SOAK_BATCH, stateful_step_count=SOAK_STEPS, derandomize=False, **fixed
        )


#: Each service under both drivers of the sync API: blocking (its default) and the loop.
MODEL_SERVICES = ["memory", "fs", "s3", "memory@loop", "fs@loop", "s3@loop"]


@pytest.mark.own_services
@pytest.mark.parametrize("service", MODEL_SERVICES, indirect=True)
def test_random_calls_match_the_model(service, root):
    """One writer, listings kept (as they are by default on object stores): every
    change made through the instance leaves its cached listings true."""
    fs = service.filesystem(skip_instance_cache=True, use_listings_cache=True)
    for budget in _budgets():
        run_state_machine_as_test(lambda: FilesystemMachine(fs, service, root), settings=budget)


#: The second writer's runs: each service under both drivers of the sync API, and
#: through the async API.
SECOND_WRITER_RUNS = [(s, "sync") for s in MODEL_SERVICES] + [
    (s, "async") for s in ("memory", "fs", "s3")
]


@pytest.mark.own_services
@pytest.mark.parametrize(("service", "api"), SECOND_WRITER_RUNS, indirect=["service"])
def test_random_calls_with_a_second_writer_match_the_model(service, api, root):
    """Another writer creates, rewrites and deletes between the steps, and every answer
    is still the store's: nothing about single paths outlives its call, and an open
    asks the store. On fs and memory that is the default; on S3 with listings not
    kept (fsspec documents kept listings as stale until refreshed:
    tests/test_other_writers.py holds S3's default to the rest of the rule)."""
    options = {} if service.scheme in ("memory", "fs") else {"use_listings_cache": False}
    fs = service.filesystem(skip_instance_cache=True, asynchronous=api == "async", **options)
    assert not fs.dircache.use_listings_cache
    tested = AsyncAPI(fs) if api == "async" else fs
    for budget in _budgets():
        run_state_machine_as_test(
            lambda: FilesystemMachine(tested, service, root, second_writer=True), settings=budget
        )
