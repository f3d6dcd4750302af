"""Building OpenDAL operators from user options, once per service configuration.

Operators are cached for the whole process by their full configuration, so two
filesystem instances with the same options share one operator: one connection
pool for remote services, and one store for in-process services such as
``memory`` (as fsspec's own ``memory://`` shares one store).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import opendal
from opendal.layers import RetryLayer, TimeoutLayer

from opendalfs._guard import GRACE, GuardedOperator
from opendalfs._services import ServiceSpec, is_secret, spec

#: Services whose native append was tested to keep the old bytes on any file. S3
#: claims append, but S3-compatible servers (moto) silently replace the object;
#: azblob appends only to append blobs, and ordinary writes make block blobs.
VERIFIED_APPEND = frozenset({"fs"})

#: Services where OpenDAL's recursive listing and recursive delete cannot be
#: trusted, so opendalfs walks and deletes directory by directory: on FTP the
#: emulated recursive listing skips empty directories three levels down, hangs
#: on a missing directory, and a recursive delete leaves directories behind.
WALKS_ITSELF = frozenset({"ftp"})

#: Services that list a file, asked for its listing, as a child named like itself.
FILE_LISTS_AS_CHILD = frozenset({"ftp"})

#: Services where a read must run to the end of the object. OpenDAL's FTP client
#: aborts a ranged transfer part way, the server answers "426 Transfer aborted",
#: and that stray answer is read by a later command on the same connection: about
#: one ranged read in 15 failed, and later writes failed with "226 Transfer
#: complete". Reading to the end keeps every transfer whole, at the cost of
#: fetching the rest of the object for each range.
READS_TO_END = frozenset({"ftp"})

#: Services whose stat of a directory path answers "a directory" without asking
#: the server (OpenDAL's http), so only files can be known to exist there.
BLIND_DIRECTORY_STAT = frozenset({"http"})

#: Services whose read of a directory returns a listing page instead of failing
#: (WebDAV servers answer GET on a collection with HTML), so a read checks first.
READS_DIRECTORIES = frozenset({"webdav"})

#: Services whose OpenDAL writer takes many writes although ``write_can_multi`` is
#: false (it gathers them and stores the object on close). Elsewhere such a writer
#: was seen to refuse the second write (WebDAV, key-value stores), so opendalfs
#: collects the blocks itself; here that would only add a copy of the whole object.
GATHERS_WRITES = frozenset({"memory"})

#: Services whose listing of a path without a trailing slash lists every name that
#: starts with it (``a/b`` lists ``a/b``, ``a/b/``, ``a/b-x`` …), checked on each.
#: One such listing tells whether a path is a file, a directory or missing, which
#: otherwise takes two stats (the file, then ``dir/``).
LISTS_BY_PREFIX = frozenset({"memory", "s3", "azblob", "gcs"})


@dataclass(frozen=True)
class Capabilities:
    """The operator capabilities that decide how each fsspec operation is carried out."""

    write: bool
    list: bool
    recursive_list: bool
    """OpenDAL's recursive listing is complete (native or emulated)."""
    copy: bool
    rename: bool
    create_dir: bool
    delete_recursive: bool
    if_not_exists: bool
    write_multi: bool
    """Writes go up in parts (``chunk``/``concurrent`` apply)."""
    write_streams: bool
    """OpenDAL's writer takes a write at a time (in parts, or gathered by OpenDAL)."""
    write_empty: bool
    presign_read: bool
    shared: bool
    read_if_match: bool
    append: bool
    """Native appends, only where they were seen to append (not just claimed)."""
    reads_directories: bool
    """A read of a directory returns something instead of failing."""
    directory_stat: bool
    """A stat of ``dir/`` tells whether the directory exists (not so on http)."""
    reads_to_end: bool
    """Ranged reads must be whole reads from the offset (then cut): see READS_TO_END."""
    file_lists_as_child: bool
    """A file's listing shows the file as its own child: see FILE_LISTS_AS_CHILD."""
    content_etags: bool
    """ETags change with every write (object stores), so they can key a cache."""
    lists_by_prefix: bool
    """A listing of ``a/b`` shows ``a/b`` and ``a/b/``: see LISTS_BY_PREFIX."""

    @classmethod
    def of(cls, op: opendal.AsyncOperator, scheme: str) -> Capabilities:
        cap = op.capability()
        return cls(
            write=cap.write,
            list=cap.list,
            recursive_list=scheme not in WALKS_ITSELF,
            copy=cap.copy,
            rename=cap.rename,
            create_dir=cap.create_dir,
            delete_recursive=cap.delete_with_recursive and scheme not in WALKS_ITSELF,
            if_not_exists=cap.write_with_if_not_exists,
            write_multi=cap.write_can_multi,
            write_streams=cap.write_can_multi or scheme in GATHERS_WRITES,
            write_empty=cap.write_can_empty,
            presign_read=cap.presign_read,
            shared=cap.shared,
            read_if_match=cap.read_with_if_match,
            append=cap.write_can_append and scheme in VERIFIED_APPEND,
            reads_directories=scheme in READS_DIRECTORIES,
            reads_to_end=scheme in READS_TO_END,
            file_lists_as_child=scheme in FILE_LISTS_AS_CHILD,
            directory_stat=scheme not in BLIND_DIRECTORY_STAT,
            content_etags=spec(scheme).container_option is not None,
            lists_by_prefix=cap.list and scheme in LISTS_BY_PREFIX,
        )


@dataclass(frozen=True)
class Handle:
    """An operator together with the capabilities read from it once."""

    op: opendal.AsyncOperator
    caps: Capabilities


def service_options(spec: ServiceSpec, options: Mapping[str, Any]) -> dict[str, str]:
    """Check user options against the service's configuration and turn them into strings.

    OpenDAL accepts and silently ignores unknown keys, so a typo such as
    ``regoin=`` would otherwise go unnoticed until a confusing failure later.
    """
    if spec.options is not None:
        unknown = sorted(set(options) - spec.options)
        if unknown:
            raise ValueError(
                f"unknown option{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))} for OpenDAL service {spec.scheme!r}; "
                f"valid options are: {', '.join(sorted(spec.options))}"
            )
    texts = {key: _option_text(key, value) for key, value in options.items() if value is not None}
    if "endpoint" in texts:
        _check_endpoint(texts["endpoint"])
    return texts


def _check_endpoint(endpoint: str) -> None:
    """Refuse an endpoint URL OpenDAL would only fail on at the first call, vaguely."""
    try:
        _ = urlsplit(endpoint).port
    except ValueError as exc:
        raise ValueError(
            f"option endpoint={endpoint!r} is not a valid URL ({str(exc).lower()})"
        ) from None


def _option_text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    shown = "<hidden>" if is_secret(key) else repr(value)
    raise TypeError(
        f"option {key!r} must be a string, number, boolean or path, "
        f"not {type(value).__name__} ({shown})"
    )


#: Operators by configuration, least recently used first. Each operator holds its
#: own connection pool, and pooled connections stay open while it lives: with no
#: bound, a process that made filesystems with many configurations kept them all
#: open until servers refused more (MariaDB's 151 connections went after about
#: 135 configurations; OpenDAL then reported "connection request: timeout").
_cache: OrderedDict[tuple, Handle] = OrderedDict()
_lock = threading.Lock()
#: How many configurations keep their operator (and pool) alive; in-process
#: stores (PROCESS_LOCAL) are never dropped, since their files live in them.
MAX_OPERATORS = 32

#: The process whose OpenDAL runtime this interpreter inherited, if it was forked
#: after operators were made. OpenDAL's Rust runtime keeps its worker threads in
#: the parent: in a forked child every OpenDAL call would wait forever.
_forked_from: int | None = None


def _after_fork_in_child() -> None:
    global _forked_from
    if _cache:
        _forked_from = next(iter(_cache))[0]
        _cache.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)

#: How long exit waits for OpenDAL's runtime threads to leave Python (see below).
EXIT_GRACE = 0.05
_exit_hook: list = []  # the registered hook, once


def _release_at_exit() -> None:
    """Let OpenDAL's runtime threads leave Python before the interpreter finalizes.

    A runtime thread that completes a future calls into asyncio
    (``call_soon_threadsafe``), which releases the GIL while it wakes the loop. If
    the interpreter starts finalizing meanwhile, the thread cannot take the GIL
    back: CPython ends it with ``pthread_exit``, whose unwinding through Rust
    frames aborts the process (SIGABRT; about 1 exit in 10 under CPU load with
    opendal 0.47.12). Dropping the operators and then giving up the GIL for a
    moment, while Python is still whole, lets those threads finish first.
    """
    _cache.clear()
    gc.collect()
    time.sleep(EXIT_GRACE)


#: Services whose data live in the memory of the process that made the operator.
PROCESS_LOCAL = frozenset({"memory", "dashmap", "moka", "mini-moka"})


class ProcessLocalStoreError(RuntimeError):
    """A filesystem of an in-process store (memory …) was used from another process."""


def process_local_error(scheme: str, owner: int) -> ProcessLocalStoreError:
    """The error for reaching ``owner``'s in-process store from this process."""
    return ProcessLocalStoreError(
        f"opendal+{scheme} keeps its files in the memory of process {owner}; this copy "
        f"of the filesystem was sent to process {os.getpid()} (a worker process?), which "
        "cannot reach them. Use a service outside the process (fs, s3 …) with worker "
        "processes, or threads."
    )


class ForkedProcessError(RuntimeError):
    """OpenDAL was used before this process was forked, so it cannot run here."""


def fork_error(parent: int) -> ForkedProcessError:
    """The error for using OpenDAL in a child forked from ``parent`` after it used OpenDAL."""
    return ForkedProcessError(
        f"OpenDAL was used in process {parent} before it forked process {os.getpid()}, "
        "and its runtime cannot run in a forked child (every call would hang). Start "
        "worker processes with the 'spawn' or 'forkserver' method, e.g. "
        "multiprocessing.get_context('spawn'), or make the filesystem in the child."
    )


def operator_for(
    scheme: str, options: Mapping[str, str], retries: int, timeout: float | None
) -> Handle:
    """The process-wide operator for this exact configuration, built on first use."""
    if _forked_from is not None:
        raise fork_error(_forked_from)
    key = (os.getpid(), scheme, tuple(sorted(options.items())), retries, timeout)
    handle = _cache.get(key)
    if handle is not None:  # the common case, without the lock
        with contextlib.suppress(KeyError):  # dropped meanwhile: it stays valid for this call
            _cache.move_to_end(key)
        return handle
    with _lock:
        handle = _cache.get(key)
        if handle is not None:
            return handle
        if not _exit_hook:
            _exit_hook.append(atexit.register(_release_at_exit))
        handle = _cache[key] = _build(scheme, options, retries, timeout)
        _evict()
    return handle


def _evict() -> None:
    """Drop the least recently used operators beyond MAX_OPERATORS (their pools close).

    A call under way keeps its operator alive until it ends; the next call of a
    filesystem whose operator was dropped builds it again.
    """
    droppable = [k for k in _cache if k[1] not in PROCESS_LOCAL]
    for key in droppable[: max(0, len(droppable) - MAX_OPERATORS)]:
        del _cache[key]


def _build(scheme: str, options: Mapping[str, str], retries: int, timeout: float | None) -> Handle:
    op = opendal.AsyncOperator(scheme, **options)
    if retries:
        # Short, jittered backoff: a transient failure is retried within about a
        # second, and a wrongly "temporary" error cannot stall a call for long.
        op = op.layer(RetryLayer(max_times=retries, min_delay=0.05, max_delay=2.0, jitter=True))
    if timeout:
        # Outermost, so one call (its retries included) ends within the timeout.
        op = op.layer(TimeoutLayer(timeout=timeout, io_timeout=timeout))
        # And a deadline on the asyncio side, should a result never come back.
        op = GuardedOperator(op, timeout + GRACE)
    return Handle(op, Capabilities.of(op, scheme))
