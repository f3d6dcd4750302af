"""Writers for services whose OpenDAL writer lacks something fsspec's files need.

Both look like the backend's writer (``await write``, ``await close``), so the
file classes never need to know which one they hold.
"""

from __future__ import annotations

from typing import Any

#: OpenDAL write options opendalfs passes on (``pipe_file``, ``open``, ``put_file``).
WRITE_OPTIONS = frozenset(
    {"content_type", "content_disposition", "content_encoding", "cache_control", "user_metadata"}
)


def check_count(option: str, value: Any) -> None:
    """Refuse a part size or part count that is not a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{option} must be a whole number >= 1, not {value!r}")


class OneShotWriter:
    """Collects the blocks and stores the object in one call on close.

    For services that take an object in a single request (WebDAV, key-value
    stores): their OpenDAL writer refuses a second ``write``. The whole object is
    held in memory until ``close``; that is the price of such a service.
    """

    def __init__(self, backend: Any, name: str, creating: bool, options: dict[str, Any]) -> None:
        self._backend = backend
        self._name = name
        self._creating = creating
        self._options = options
        self._blocks: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self._blocks.append(data)

    async def close(self) -> None:
        data = b"".join(self._blocks)
        self._blocks = []
        await self._backend.write(self._name, data, creating=self._creating, **self._options)


class NonEmptyWriter:
    """Refuses to close with nothing written, where OpenDAL would store nothing.

    On services that cannot hold empty objects (FTP), OpenDAL's zero-byte write
    silently creates no file; opendalfs says so instead.
    """

    def __init__(self, writer: Any, name: str, scheme: str) -> None:
        self._writer = writer
        self._name = name
        self._scheme = scheme
        self._written = 0

    async def write(self, data: bytes) -> None:
        self._written += len(data)
        await self._writer.write(data)

    async def close(self) -> None:
        if not self._written:
            raise empty_file_error(self._name, self._scheme)
        await self._writer.close()


def empty_file_error(name: str, scheme: str) -> NotImplementedError:
    """The error for an empty file on a service that cannot store one."""
    return NotImplementedError(
        f"{name}: {scheme} cannot store empty files (OpenDAL writes nothing)"
    )


def creates(mode: str, name: str) -> bool:
    """Whether a ``pipe_file``/``put_file`` mode creates only (``"create"``) or overwrites."""
    if mode not in ("overwrite", "create"):
        raise ValueError(f"{name}: mode must be 'overwrite' or 'create', not {mode!r}")
    return mode == "create"
