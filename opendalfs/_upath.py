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

On services with a container (s3, gcs, azblob …) the container is the root, as
for universal-pathlib's own S3, GCS and Azure paths: ``drive`` is the bucket,
``anchor`` is ``"bucket/"``, ``parents`` end at it, and a target given to
``rename`` without a protocol is absolute when it starts with the bucket
(``"bucket/new"``). Elsewhere names are absolute from the service's root, and a
``rename`` target is absolute when it starts with ``/`` (``"/dir/new"``), as for
upath's ``MemoryPath``. A relative target (``"new"``), or ``absolute()`` of a
relative path, needs a working directory, which fsspec filesystems do not have:
universal-pathlib raises ``UnsupportedOperation``, as for its own paths.

This module imports universal-pathlib; only its entry points load it.
"""

from __future__ import annotations

import os
from typing import Any

import fsspec
from upath import UPath
from upath._flavour import WrappedFileSystemFlavour
from upath._protocol import get_upath_protocol
from upath.implementations.cloud import CloudPath

from opendalfs._services import schemes, service_config

__all__ = ["OpendalPath"]

#: The ``opendal+<service>`` protocols whose first segment is a bucket or container.
CONTAINER_PROTOCOLS = frozenset(
    f"opendal+{s}" for s in schemes() if service_config(s).container_option is not None
)


def _register_container_protocols() -> None:
    """Give the container protocols the path rules of upath's S3/GCS/Azure paths.

    universal-pathlib keys those rules (the bucket is the anchor; empty segments
    are kept) by protocol in ``WrappedFileSystemFlavour.protocol_config``, and
    caches each protocol's flavour, so the cache is cleared after adding them.
    """
    config = WrappedFileSystemFlavour.protocol_config
    for rule in ("netloc_is_anchor", "supports_empty_parts"):
        config[rule] |= CONTAINER_PROTOCOLS
    WrappedFileSystemFlavour.from_protocol.cache_clear()


_register_container_protocols()


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

    # On container services the bucket is the root: the rules of upath's CloudPath
    # (S3Path, GCSPath, AzurePath), restated since its methods use super().

    @property
    def root(self) -> str:
        if self.protocol in CONTAINER_PROTOCOLS:
            return CloudPath.root.fget(self)  # type: ignore[attr-defined]
        return super().root

    @property
    def path(self) -> str:
        if self.protocol not in CONTAINER_PROTOCOLS:
            return super().path
        path = super().path.rstrip(self.parser.sep)
        if self._relative_base is None and path and self.parser.sep not in path:
            return path + self.root  # the bucket alone: "bucket/"
        return path

    @property
    def parts(self) -> Any:
        parts = super().parts
        if (
            self.protocol in CONTAINER_PROTOCOLS
            and self._relative_base is None
            and len(parts) == 2
            and not parts[1]
        ):
            return parts[:1]
        return parts

    def __str__(self) -> str:
        text = super().__str__()
        if self.protocol in CONTAINER_PROTOCOLS and self._relative_base is None:
            drive = self.parser.splitdrive(text)[0]
            if drive and text == f"{self.protocol}://{drive}":
                return f"{text}{self.root}"
        return text

    def rename(self, target: Any, **kwargs: Any) -> Any:
        """Rename to ``target``, taken as universal-pathlib's own paths take it.

        A target with the protocol is absolute, and so is one that starts at the
        anchor: ``"bucket/"`` on container services (as for upath's ``S3Path``),
        ``"/"`` elsewhere (as for its ``MemoryPath``). Any other target is relative
        to a working directory, which fsspec filesystems do not have, so
        universal-pathlib raises ``UnsupportedOperation`` for it. A target given as a
        path object without a protocol (``UPath("/dir/new")``, a ``PurePosixPath``)
        is taken as its string, as upath's ``MemoryPath`` takes it.
        """
        if isinstance(target, os.PathLike) and not getattr(target, "protocol", ""):
            target = os.fspath(target)
        if (
            self.protocol not in CONTAINER_PROTOCOLS
            and isinstance(target, str)
            and target.startswith("/")
            and not get_upath_protocol(target)
        ):
            target = self.with_segments(target)  # upath's anchor here is "", not "/"
        return super().rename(target, **kwargs)


def _has_protocol(url: str, protocol: str) -> bool:
    return url.startswith((f"{protocol}://", f"{protocol}::", f"{protocol}:/"))


def _without_protocol(url: str, protocol: str) -> str:
    rest = url[len(protocol) + 1 :]
    return rest[1:] if rest.startswith(":") else rest.lstrip("/")
