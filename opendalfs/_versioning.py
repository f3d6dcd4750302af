"""The filesystem's object-version methods (see :mod:`opendalfs._versions`)."""

from __future__ import annotations

import errno
from typing import Any

from opendalfs import _paths, _versions
from opendalfs._backend import Backend
from opendalfs._info import make_info
from opendalfs._naming import Naming


class Versioning(Naming):
    """Past versions of objects: their info, their listings, names that carry them."""

    def _named_version(self, path: str, version_id: str | None) -> tuple[str, str | None]:
        """``path`` without a ``?versionId=`` suffix, and the version named (see _versions)."""
        if version_id is None and not self.version_aware:
            return path, None
        return _versions.split_version(path, version_id, self.version_aware)

    async def _version_info(self, path: str, version: str) -> dict[str, Any]:
        """Info of one version of a file (never cached: listings show current versions)."""
        name, container, key = self._locate(path)
        if not key:
            raise IsADirectoryError(errno.EISDIR, "a bucket has no versions", name)
        return make_info(name, await self._backend(container).stat(name, version=version))

    async def _list_versions(self, name: str, container: str, key: str) -> list[dict[str, Any]]:
        """Every version of the files in directory ``name`` (of file ``name``); not cached."""
        if not self.version_aware:
            raise ValueError(
                f"{name}: versions=True needs a filesystem made with version_aware=True"
            )
        backend = self._backend(container)
        target = _paths.as_dir(key)
        infos = []
        for entry in await backend.list(name, versions=True):
            if entry.path in (target, "/"):
                continue  # the directory itself
            info = make_info(backend.name(entry.path), entry.metadata)
            if info["type"] == "file" and "version" in info:
                info["name"] = _versions.versioned_name(info["name"], info["version"])
            infos.append(info)
        if not infos and key:
            infos = [
                {**info, "name": _versions.versioned_name(name, info["version"])}
                for info in await self._versions_of(name, backend)
            ]
        if not infos:  # an empty directory, a file without versions, or nothing
            info = await self._info(name)
            return [info] if info["type"] == "file" else []
        return sorted(infos, key=lambda i: i["name"])

    async def _versions_of(self, name: str, backend: Backend) -> list[dict[str, Any]]:
        """Info of each version of the file ``name``, as the service lists them."""
        key = backend.key(name)
        entries = await backend.list(name, directory=False, versions=True)
        return [
            make_info(name, entry.metadata)
            for entry in entries
            if entry.path == key and entry.metadata.version is not None
        ]

    async def _object_version_info(self, path: str) -> list[dict[str, Any]]:
        """Every version of a file, newest first on S3, each with ``IsLatest`` (as in s3fs)."""
        name, container, key = self._locate(path)
        if not self.version_aware:
            raise ValueError(f"{name}: object versions need a filesystem made version_aware=True")
        if not key:
            raise IsADirectoryError(errno.EISDIR, "a bucket has no versions", name)
        backend = self._backend(container)
        found = await self._versions_of(name, backend)
        if not found:
            raise FileNotFoundError(errno.ENOENT, "no such file or versions of it", name)
        try:
            latest = (await backend.stat(name)).version
        except FileNotFoundError:
            latest = None  # deleted: its newest version is a delete marker
        return [{**info, "IsLatest": info["version"] == latest} for info in found]

    async def _expand_path(
        self, path: Any, recursive: bool = False, maxdepth: int | None = None, **kwargs: Any
    ) -> list[str]:
        """fsspec's, except that a version's name (``...?versionId=``) is no glob pattern."""
        paths = [path] if isinstance(path, str) else path
        if not self.version_aware or not any(_versions.SUFFIX in p for p in paths):
            return await super()._expand_path(path, recursive, maxdepth, **kwargs)
        versions = {self._strip_protocol(p) for p in paths if _versions.SUFFIX in p}
        rest = [p for p in paths if _versions.SUFFIX not in p]
        if rest:
            versions.update(await super()._expand_path(rest, recursive, maxdepth, **kwargs))
        return sorted(versions)
