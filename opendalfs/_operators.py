"""Building OpenDAL operators from user options, once per service configuration.

Backends (an operator and what goes with it) are cached for the whole process by
their full configuration, so two filesystem instances with the same options share
one operator: one connection pool for remote services, and one store for
in-process services such as ``memory`` (as fsspec's own ``memory://`` shares one
store).
"""

from __future__ import annotations

import atexit
import gc
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import opendal
from opendal.layers import RetryLayer, TimeoutLayer

from opendalfs._backend import Backend, runtime
from opendalfs._capabilities import NO_LAYERS, PROCESS_LOCAL, Capabilities
from opendalfs._config import refuse_unknown
from opendalfs._guard import GRACE
from opendalfs._services import ServiceConfig, is_secret, service_config
from opendalfs.errors import OPENDAL_ERRORS, masked_cause, translate


def service_options(config: ServiceConfig, options: Mapping[str, Any]) -> dict[str, str]:
    """Check user options against the service's configuration and turn them into strings.

    OpenDAL accepts and silently ignores unknown keys, so a typo such as
    ``regoin=`` would otherwise go unnoticed until a confusing failure later.
    """
    if config.options is not None:
        refuse_unknown(options, config.options, f"OpenDAL service {config.scheme!r}", ValueError)
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
_live_backends: OrderedDict[tuple, Backend] = OrderedDict()
_lock = threading.Lock()
#: How many configurations keep their operator (and pool) alive; in-process
#: stores (PROCESS_LOCAL) are never dropped, since their files live in them.
MAX_OPERATORS = 32

#: The process whose OpenDAL runtime this interpreter inherited, if it was forked
#: after operators were made. OpenDAL's Rust runtime keeps its worker threads in
#: the parent: in a forked child every OpenDAL call would wait forever.
_forked_from: int | None = None


def _after_fork_in_child() -> None:
    """Refuse OpenDAL in a child whose parent ran it; operators that never ran still work."""
    global _forked_from
    if runtime.started:
        _forked_from = next(iter(_live_backends))[0] if _live_backends else os.getppid()
        _live_backends.clear()


def forked_after_use() -> int | None:
    """The parent whose OpenDAL runtime this forked process inherited, if any."""
    return _forked_from


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
    _live_backends.clear()
    gc.collect()
    time.sleep(EXIT_GRACE)


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


def config_key(
    scheme: str, options: Mapping[str, str], retries: int, timeout: float | None
) -> tuple:
    """The cache key of one configuration; a filesystem computes it once per container."""
    return (os.getpid(), scheme, tuple(sorted(options.items())), retries, timeout)


def backend_for(key: tuple) -> Backend:
    """The process-wide backend for the configuration ``key`` (see config_key), built once."""
    if _forked_from is not None:
        raise fork_error(_forked_from)
    backend = _live_backends.get(key)
    if backend is not None:  # the common case, without the lock
        try:
            _live_backends.move_to_end(key)
        except KeyError:  # dropped meanwhile: it stays valid for this call
            pass
        return backend
    with _lock:
        backend = _live_backends.get(key)
        if backend is not None:
            return backend
        if not _exit_hook:
            _exit_hook.append(atexit.register(_release_at_exit))
        _, scheme, items, retries, timeout = key
        options = dict(items)
        try:
            built = _build(scheme, options, retries, timeout)
        except OPENDAL_ERRORS as exc:
            container_option = service_config(scheme).container_option
            where = options.get(container_option or "", "") or scheme
            raise translate(exc, where, secrets=secrets_of(options), service=scheme) from (
                masked_cause(exc, secrets_of(options))
            )
        backend = _live_backends[key] = built
        _evict()
    return backend


def _evict() -> None:
    """Drop the least recently used operators beyond MAX_OPERATORS (their pools close).

    A call under way keeps its operator alive until it ends; the next call of a
    filesystem whose operator was dropped builds it again.
    """
    droppable = [k for k in _live_backends if k[1] not in PROCESS_LOCAL]
    for key in droppable[: max(0, len(droppable) - MAX_OPERATORS)]:
        del _live_backends[key]


def _build(scheme: str, options: Mapping[str, str], retries: int, timeout: float | None) -> Backend:
    op = opendal.AsyncOperator(scheme, **options)
    layered = scheme not in NO_LAYERS
    if retries and layered:
        # Short, jittered backoff: a transient failure is retried within about a
        # second, and a wrongly "temporary" error cannot stall a call for long.
        op = op.layer(RetryLayer(max_times=retries, min_delay=0.05, max_delay=2.0, jitter=True))
    if timeout and layered:
        # Outermost, so one call (its retries included) ends within the timeout.
        op = op.layer(TimeoutLayer(timeout=timeout, io_timeout=timeout))
    caps = Capabilities.of(op, scheme)
    container_option = service_config(scheme).container_option
    return Backend(
        op,
        caps,
        scheme=scheme,
        container=options.get(container_option, "") if container_option else "",
        secrets=secrets_of(options),
        # And a deadline on the asyncio side, should a result never come back.
        deadline=timeout + GRACE if timeout and layered else None,
    )


def secrets_of(options: Mapping[str, str]) -> tuple[str, ...]:
    """The option values that must never appear in a message: secrets, URL passwords."""
    return tuple(
        [v for k, v in options.items() if is_secret(k)]
        + [p for p in map(_url_password, options.values()) if p]
    )


def _url_password(value: str) -> str | None:
    """The password written into a URL option (``redis://user:pw@host``), if any."""
    if "://" not in value or "@" not in value:
        return None
    try:
        return urlsplit(value).password
    except ValueError:
        return None
