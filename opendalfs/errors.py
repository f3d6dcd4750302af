"""The one translation from OpenDAL's errors to Python's builtin exceptions.

fsspec, pandas, zarr and pyarrow branch on ``FileNotFoundError``,
``IsADirectoryError`` and friends; OpenDAL's exceptions are not ``OSError``s at
all, and its file objects raise a bare ``OSError`` whose text starts with the
error kind. Every OpenDAL call in opendalfs goes through
``opendalfs._backend.Backend``, which raises ``translate``'s result, so
none of them reaches a user untranslated.
"""

from __future__ import annotations

import errno
import re
import shutil
from collections.abc import Iterable

from opendal import exceptions as odx

from opendalfs._capabilities import EXISTS_MEANS_PARENT_IS_FILE

__all__ = [
    "MIN_SECRET_LENGTH",
    "OPENDAL_ERRORS",
    "OperationTimeout",
    "error_kind",
    "mask",
    "masked_cause",
    "summary",
    "translate",
]

OPENDAL_ERRORS: tuple[type[BaseException], ...] = tuple(
    cls for cls in vars(odx).values() if isinstance(cls, type) and issubclass(cls, BaseException)
)
"""Every exception class ``opendal.exceptions`` defines; they share no common base class."""


class OperationTimeout(TimeoutError):
    """A call ran past the filesystem's ``timeout``: a builtin ``TimeoutError``.

    A subclass only because asyncio rebuilds an exception of exactly the class
    ``TimeoutError`` when it crosses threads, dropping the path and the cause.
    """


#: OpenDAL's kind names whose meaning is a builtin ``OSError`` subclass and errno.
_OS_ERRORS: dict[str, tuple[type[OSError], int]] = {
    "NotFound": (FileNotFoundError, errno.ENOENT),
    "AlreadyExists": (FileExistsError, errno.EEXIST),
    "IsADirectory": (IsADirectoryError, errno.EISDIR),
    "NotADirectory": (NotADirectoryError, errno.ENOTDIR),
    "PermissionDenied": (PermissionError, errno.EACCES),
    "IsSameFile": (shutil.SameFileError, errno.EINVAL),
    "RateLimited": (OSError, errno.EBUSY),
    "Conflict": (OSError, errno.EBUSY),
    "RangeNotSatisfied": (OSError, errno.EINVAL),
}

# "NotFound (permanent) at read, context: ..." as raised by opendal's file objects.
_KIND_PREFIX = re.compile(r"^([A-Za-z]+) \((?:permanent|temporary|persistent)\)")
# The operating system's own error, quoted in the source of an "Unexpected" error.
_OS_ERRNO = re.compile(r"\(os error (\d+)\)")
# The HTTP status in an error's context ("response: Parts { status: 503, ...").
_HTTP_STATUS = re.compile(r"\bstatus: (\d{3})\b")
#: What OpenDAL's "configuration invalid" says when the bucket or container is missing.
_MISSING_CONTAINER = ("NoSuchBucket", "ContainerNotFound", "bucket does not exist")
# Operations that put a file at a path (their parents are made as needed).
_PLACING = re.compile(r" at (write|copy|rename)\b")
#: HTTP statuses that mean "busy, try later" even without an error body (HEAD).
_BUSY_STATUSES = frozenset({"429", "503"})


def error_kind(exc: BaseException) -> str | None:
    """OpenDAL's name for what went wrong (``"NotFound"`` …), or None if not OpenDAL's."""
    if isinstance(exc, OPENDAL_ERRORS):
        match = _KIND_PREFIX.match(str(exc))
        return match.group(1) if match else type(exc).__name__
    if type(exc) is OSError and not exc.args[1:]:
        match = _KIND_PREFIX.match(str(exc))
        return match.group(1) if match else None
    return None


def summary(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """One line from an OpenDAL message: what failed and, if given, its source.

    OpenDAL messages span many lines (context, source, a backtrace); users need the
    first line and the underlying cause. Secret values are masked.
    """
    lines = [line.strip() for line in str(exc).splitlines()]
    text = lines[0] if lines else type(exc).__name__
    if "Source:" in lines:
        source = lines[lines.index("Source:") + 1 :]
        if source and source[0]:
            text = f"{text} ({source[0]})"
    return mask(text, secrets)


MIN_SECRET_LENGTH = 4
"""The shortest secret value that ``mask`` hides in a text."""


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``***``.

    Values shorter than ``MIN_SECRET_LENGTH`` are left alone: they turn up by
    chance inside ordinary words (a secret ``b`` would make ``newbucket``
    ``new***ucket`` in every message), and a secret that short protects next to
    nothing. A repr still hides a secret option's value whatever its length.
    """
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, "***")
    return text


def masked_cause(exc: BaseException, secrets: Iterable[str]) -> BaseException:
    """``exc``, or a copy whose message hides the secrets it quotes (a SAS token in a URL).

    The original OpenDAL error is kept as ``__cause__`` for debugging, and
    tracebacks print it whole, so it must not carry a secret either.
    """
    text = str(exc)
    hidden = mask(text, secrets)
    if hidden == text:
        return exc
    try:
        return type(exc)(hidden)
    except Exception:  # an exception class that takes other arguments
        return RuntimeError(hidden)


def translate(
    exc: BaseException,
    path: str,
    *,
    secrets: Iterable[str] = (),
    creating: bool = False,
    service: str = "",
) -> Exception:
    """The builtin exception that says what ``exc`` means for ``path``.

    ``creating`` marks a write that must not replace an existing object, where a
    failed condition means the object exists. ``service`` names the OpenDAL
    service in messages that would not say it otherwise.
    """
    kind = error_kind(exc) or "Unexpected"
    cause = summary(exc, secrets)
    if kind == "ConditionNotMatch":
        if creating:
            return FileExistsError(errno.EEXIST, cause, path)
        return OSError(errno.ESTALE, cause, path)
    if kind == "Unsupported":
        where = f"{service} does not support this: " if service else ""
        return NotImplementedError(f"{path}: {where}{cause}")
    if kind == "ConfigInvalid":
        if any(marker in cause for marker in _MISSING_CONTAINER):
            return FileNotFoundError(errno.ENOENT, cause, path)
        return ValueError(f"{path}: {cause}")
    if (
        kind == "AlreadyExists"
        and not creating
        and service in EXISTS_MEANS_PARENT_IS_FILE
        and _PLACING.search(cause)
    ):
        return NotADirectoryError(errno.ENOTDIR, f"{cause} (a parent is a file)", path)
    if " at rename" in cause and f"(os error {errno.ENOTEMPTY})" in cause:
        # A file renamed onto a directory that holds something.
        return IsADirectoryError(errno.EISDIR, f"{cause} (the target is a directory)", path)
    if kind in _OS_ERRORS:
        builtin, code = _OS_ERRORS[kind]
        return builtin(code, cause, path)
    if "timeout reached" in cause:
        return OperationTimeout(errno.ETIMEDOUT, cause, path)
    os_errno = _OS_ERRNO.search(cause)
    if os_errno:
        # OSError(errno, ...) builds the matching subclass (ENOTDIR: NotADirectoryError …).
        return OSError(int(os_errno.group(1)), cause, path)
    status = _HTTP_STATUS.search(str(exc))
    if status and status.group(1) in _BUSY_STATUSES:
        return OSError(errno.EBUSY, f"{cause} (HTTP {status.group(1)}: the service is busy)", path)
    if "send http request" in cause:
        return ConnectionError(errno.ECONNABORTED, cause, path)
    if status:
        return OSError(errno.EIO, f"{cause} (HTTP {status.group(1)})", path)
    return OSError(errno.EIO, cause, path)
