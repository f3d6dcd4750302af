"""universal-pathlib support: ``UPath("opendal+<service>://...")``.

universal-pathlib picks a ``UPath`` subclass by protocol. Without one registered
for ``opendal+<service>`` it falls back to a generic class, and that class then
rejects its own URL: when it checks that the pieces of a path may be joined, it
cuts a protocol at its first ``+`` (a rule meant for ``webdav+https``) and asks
fsspec about ``opendal``, which no filesystem is, so every
``UPath("opendal+s3://bucket/key")`` fails with ``Protocol not known: 'opendal'``
(universal-pathlib 0.3).

:class:`OpendalPath` is registered for every ``opendal+<service>`` protocol through
pyproject's ``universal_pathlib.implementations`` entry points, so universal-pathlib
finds it without an import. It hands universal-pathlib its own URLs and paths
without the protocol (which it already knows), so nothing asks about ``opendal``;
everything else is universal-pathlib's generic implementation over opendalfs' fsspec
filesystem, with the names opendalfs uses (``bucket/key`` for object stores).

This module imports universal-pathlib; only its entry points load it.
"""

from __future__ import annotations

from typing import Any

import fsspec
from upath import UPath

__all__ = ["OpendalPath"]


class OpendalPath(UPath):
    """A ``UPath`` on any OpenDAL service, made by ``UPath("opendal+<service>://...")``."""

    __slots__ = ()

    @classmethod
    def _transform_init_args(
        cls, args: tuple[Any, ...], protocol: str, storage_options: dict[str, Any]
    ) -> tuple[tuple[Any, ...], str, dict[str, Any]]:
        # Import the filesystem class now: universal-pathlib reads the path rules
        # (separator, root) from fsspec's registry of imported classes, and would
        # otherwise guess them, with a warning.
        fsspec.get_filesystem_class(protocol)
        pieces: list[Any] = []
        for arg in args:
            if isinstance(arg, UPath) and arg.protocol == protocol and arg.is_absolute():
                if not pieces:  # the first path's options carry over, as for any UPath
                    storage_options = {**arg.storage_options, **storage_options}
                pieces = [arg.path]  # an absolute path replaces what came before it
            elif isinstance(arg, str) and _has_protocol(arg, protocol):
                pieces = [_without_protocol(arg, protocol)]
            else:
                pieces.append(arg)
        return super()._transform_init_args(tuple(pieces), protocol, storage_options)


def _has_protocol(url: str, protocol: str) -> bool:
    return url.startswith((f"{protocol}://", f"{protocol}::", f"{protocol}:/"))


def _without_protocol(url: str, protocol: str) -> str:
    rest = url[len(protocol) + 1 :]
    return rest[1:] if rest.startswith(":") else rest.lstrip("/")
