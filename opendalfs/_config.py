"""Configuration: every check of the constructor's arguments, and the one refusal of
an option nobody would read.

A filesystem is made with plain values that fail here, naming the argument, rather
than later in a call that cannot say which argument was wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from opendalfs import _paths
from opendalfs._capabilities import BLOCKING_CALLS, NO_RETRIES
from opendalfs._writers import check_count

#: Part size and parallel parts of a multipart write.
DEFAULT_WRITE_CHUNK = 8 * 2**20
DEFAULT_WRITE_CONCURRENT = 8

#: Part size and parallel parts of a big read over a network (see opendalfs/_parts.py):
#: AWS suggests ranges of 8-16 MB, and boto3 reads 8 MiB parts, 10 at a time.
DEFAULT_READ_CHUNK = 8 * 2**20
DEFAULT_READ_CONCURRENT = 8

#: Retries of a failure OpenDAL flags temporary, on services reached over a network.
DEFAULT_RETRIES = 3

#: How the sync API may run its calls (see ``sync_driver``).
SYNC_DRIVERS = ("blocking", "loop")

#: What no bucket, container or share name holds on any service: whitespace, controls.
BAD_CONTAINER = re.compile(r"[\s\x00-\x1f\x7f]")


def refuse_unknown(
    given: Iterable[str],
    valid: Iterable[str],
    what: str,
    error: type[Exception] = TypeError,
) -> None:
    """Refuse options that nothing reads: a typo must fail, naming it and the valid ones.

    ``error`` is TypeError for keywords of a call, ValueError for a service's settings.
    """
    known = set(valid)
    unknown = sorted(set(given) - known)
    if unknown:
        raise error(
            f"{what}: unexpected option{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; valid ones are {', '.join(sorted(known))}"
        )


@dataclass(frozen=True)
class Settings:
    """The checked values of opendalfs' own constructor arguments."""

    scheme: str
    retries: int
    timeout: float | None
    write_chunk: int
    write_concurrent: int
    read_chunk: int
    read_concurrent: int
    sync_driver: str
    version_aware: bool


def checked_settings(
    scheme: str | None,
    fixed: str | None,
    cls_name: str,
    *,
    retries: int | None,
    timeout: float | None,
    write_chunk: int,
    write_concurrent: int,
    read_chunk: int,
    read_concurrent: int,
    sync_driver: str | None,
    version_aware: bool,
) -> Settings:
    """opendalfs' arguments checked, with each service's defaults filled in.

    ``fixed`` is the service of a per-service class (None on the generic class).
    """
    if scheme is None:
        scheme = fixed
    if scheme is None:
        raise TypeError("OpendalFileSystem needs the OpenDAL service name, e.g. 'memory'")
    if fixed is not None and scheme != fixed:
        raise ValueError(f"{cls_name} is for {fixed!r}, not {scheme!r}")
    if retries is None:
        retries = 0 if scheme in NO_RETRIES else DEFAULT_RETRIES
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number >= 0, not {retries!r}")
    check_count("write_chunk", write_chunk)
    check_count("write_concurrent", write_concurrent)
    check_count("read_chunk", read_chunk)
    check_count("read_concurrent", read_concurrent)
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        raise ValueError(f"timeout must be a positive number of seconds or None, not {timeout!r}")
    if sync_driver is None:
        sync_driver = "blocking" if scheme in BLOCKING_CALLS else "loop"
    elif sync_driver not in SYNC_DRIVERS:
        raise ValueError(f"sync_driver must be 'blocking' or 'loop', not {sync_driver!r}")
    elif sync_driver == "blocking" and scheme not in BLOCKING_CALLS:
        raise ValueError(
            f"sync_driver='blocking' is not available on {scheme}: its blocking calls "
            "cannot be bounded by the timeout, so its sync API runs on the IO loop"
        )
    if not isinstance(version_aware, bool):
        raise ValueError(f"version_aware must be True or False, not {version_aware!r}")
    return Settings(
        scheme,
        retries,
        timeout,
        write_chunk,
        write_concurrent,
        read_chunk,
        read_concurrent,
        sync_driver,
        version_aware,
    )


def checked_container(option: str, value: object) -> str:
    """The container option (``bucket=`` …) as a name: one segment, nothing invalid."""
    container = _paths.normalize(str(value))
    if not container or "/" in container or BAD_CONTAINER.search(container):
        raise ValueError(f"{option} must be a single valid name, not {value!r}")
    return container


def check_fs_root(root: str) -> None:
    """An ``fs`` root must be a directory (or not exist yet: OpenDAL creates it)."""
    if os.path.exists(root) and not os.path.isdir(root):
        raise ValueError(f"fs root {root!r} is not a directory")
