"""Naming: fsspec names to (container, key) and the backend that serves them.

The base of every part of the filesystem: each one locates a path and asks its
backend, and nothing else reaches OpenDAL.
"""

from __future__ import annotations

import os
from typing import Any

from fsspec.asyn import AsyncFileSystem
from fsspec.utils import stringify_path

from opendalfs import _paths, _versions
from opendalfs._backend import Backend
from opendalfs._config import BAD_CONTAINER
from opendalfs._operators import (
    backend_for,
    config_key,
    process_local_error,
)

#: How many paths ``_locate`` remembers before it starts afresh.
LOCATED_PATHS = 4096


class Naming(AsyncFileSystem):
    """Where a name lives: its container, its key, its backend."""

    #: The OpenDAL service: a class fact of each per-service class (``scheme = "s3"``),
    #: an instance fact of the generic class (``OpendalFileSystem("s3")``).
    scheme: str
    #: The one container this instance may use (the ``bucket=`` option), else None.
    container: str | None
    version_aware: bool
    #: Part size and parts at once of a big read over a network (see opendalfs/_parts.py).
    read_chunk: int
    read_concurrent: int

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return _strip(path, fixed_scheme(cls))

    def _locate(self, path: Any) -> tuple[str, str, str]:
        """(fsspec name, container, key inside the container's operator) for ``path``.

        Remembered for the most recent string paths: most calls name a path seen before.
        """
        if type(path) is str:
            located = self._located.get(path)
            if located is None:
                located = self._located[path] = self._locate_anew(path)
                if len(self._located) > LOCATED_PATHS:
                    self._located.clear()
            return located
        return self._locate_anew(path)

    def _locate_anew(self, path: Any) -> tuple[str, str, str]:
        name = self._strip_protocol(path)
        if self.version_aware and _versions.SUFFIX in name:
            raise ValueError(f"{name!r} names a version: only reads and info take one")
        if self.service_config.container_option is None:
            container, key = "", name
        else:
            container, key = _paths.split_container(name)
        if key != key.strip():
            raise ValueError(
                f"{name!r}: OpenDAL trims whitespace at the ends of a path, so this name "
                "cannot be kept as given"
            )
        if container and BAD_CONTAINER.search(container):
            raise ValueError(
                f"{name!r}: {container!r} is not a valid {self.service_config.container_option}"
            )
        if self.container is not None and container and container != self.container:
            raise ValueError(
                f"{name!r} is outside {self.service_config.container_option} {self.container!r}, "
                "the only one this filesystem may use"
            )
        return name, container, key

    def _backend(self, container: str) -> Backend:
        """The backend for ``container`` (``""`` for services without containers)."""
        key = self._config_keys.get(container)
        if key is None:
            key = self._config_key(container)
        return backend_for(key)

    def _config_key(self, container: str) -> tuple:
        if self._store_process is not None and self._store_process != os.getpid():
            raise process_local_error(self.scheme, self._store_process)
        option = self.service_config.container_option
        options = self._options
        if option is not None:
            if not container:
                raise NotImplementedError(
                    f"{self.scheme}: OpenDAL cannot list or create {option}s; "
                    f"start the path with the {option} name"
                )
            options = {**options, option: container}
        key = config_key(self.scheme, options, self.retries, self.timeout)
        if self.version_aware and not backend_for(key).caps.versions:
            raise _versions.unsupported(self.scheme)
        if len(self._config_keys) < 64:  # bounded: one instance may reach many buckets
            self._config_keys[container] = key
        return key


def fixed_scheme(cls: type) -> str | None:
    """The service a per-service class is for; None for the generic class."""
    return getattr(cls, "scheme", None)


def _strip(path: Any, scheme: str | None) -> Any:
    """fsspec names for ``path`` (or a list of paths), with any protocol removed."""
    if isinstance(path, list):
        return [_strip(p, scheme) for p in path]
    return _paths.normalize(_paths.strip_scheme(stringify_path(path), scheme))
