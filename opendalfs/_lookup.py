"""What a path is: ``info``, ``exists``, ``isdir``, ``isfile``, in the fewest requests
the freshness rule of ``_listing_cache`` allows.

A cached listing answers where it covers the name; what this call already learned
of the name answers next; else the store is asked: a stat (two where a directory
must be told apart), or on services that list by prefix one listing of the name,
which tells a file, a directory and nothing apart in one request.
"""

from __future__ import annotations

import errno
from typing import Any

from opendalfs import _paths, _versions
from opendalfs._backend import Backend
from opendalfs._info import directory_info, make_info
from opendalfs._listing_cache import ListingCache, listing_infos

#: Names one existence probe lists at most (one page of an S3 listing).
PROBE_PAGE = 1000


class Lookup(ListingCache):
    """The metadata part of the filesystem."""

    async def _info(
        self, path: str, version_id: str | None = None, refresh: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        """fsspec's ``info``; ``version_id`` (version-aware only) names a past version.

        ``refresh=True`` asks the store even where a cached listing could answer.
        """
        path, version = self._named_version(path, version_id)
        if version is not None:
            return await self._version_info(path, version)
        name, container, key = self._locate(path)
        info = await self._current_info(name, container, key, missing_ok=False, refresh=refresh)
        if info is None:  # known missing from the cache
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)
        return info

    async def _current_info(
        self, name: str, container: str, key: str, *, missing_ok: bool, refresh: bool = False
    ) -> dict[str, Any] | None:
        """Info of ``name`` from the cache or one stat (two where a directory must be
        told apart); None where the cache knows it missing. ``refresh`` skips the
        cache, and forgets a cached listing that the answer contradicts.

        Found missing by a stat, it is FileNotFoundError with OpenDAL's error as its
        cause, or with ``missing_ok`` None, without building that error
        (``exists`` of a missing path).
        """
        if not key and not container:
            return directory_info(name)
        if not refresh:
            try:
                cached = self._cached_info(name)
            except FileNotFoundError:
                return None
            if cached is not None:
                return cached
        token = self._listing_token()
        try:
            if key:
                info = await self._stat(name, container, key, missing_ok=missing_ok)
            else:  # a container: FileNotFoundError (or PermissionError …) unless reachable
                await self._backend(container).list(name, most=1)
                info = directory_info(name)
        except FileNotFoundError:
            self._remember(name, None, token=token)
            if refresh:
                self._check_listing(name, None)
            raise
        self._remember(name, None if info is None else info["type"], info, token)
        if refresh:
            self._check_listing(name, info)
        return info

    async def _stat(
        self, name: str, container: str, key: str, *, missing_ok: bool = False
    ) -> dict[str, Any] | None:
        """Stat ``key`` as a file, then as a directory (which may be implied).

        Neither: FileNotFoundError from OpenDAL's error, or None with ``missing_ok``.
        """
        backend = self._backend(container)
        missing: OSError | None = None
        try:
            meta = await backend.stat(name, missing_ok=missing_ok)
        except (FileNotFoundError, NotADirectoryError) as exc:  # NotADirectory: below a file
            meta, missing = None, exc
        if meta is not None:
            return make_info(name, meta)
        caps = backend.caps
        if caps.lists_by_prefix and caps.remote and caps.directory_stat:
            # A directory there is its listing (its stat carries nothing more): one page
            # of it answers as the stat would, and the ``find`` or ``ls`` that follows.
            if await self._list_page(name, backend, key):
                return directory_info(name)
        elif not caps.stat_sees_directories and caps.directory_stat:
            try:
                meta = await backend.stat(name, directory=True, missing_ok=True)
            except NotADirectoryError:
                meta = None
            if meta is not None and meta.is_dir:
                return make_info(name, meta, is_dir=True)
        if missing is None:
            return None
        raise FileNotFoundError(errno.ENOENT, "no such file or directory", name) from missing

    async def _exists(self, path: str, **kwargs: Any) -> bool:
        return await self._file_or_directory(path) is not None

    async def _isdir(self, path: str) -> bool:
        return await self._file_or_directory(path) == "directory"

    async def _isfile(self, path: str) -> bool:
        return await self._file_or_directory(path) == "file"

    async def _kind(self, path: str) -> str:
        """``"file"`` or ``"directory"``; FileNotFoundError naming ``path`` if it is missing."""
        kind = await self._file_or_directory(path)
        if kind is None:
            name = self._strip_protocol(path)
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)
        return kind

    async def _file_or_directory(self, path: str) -> str | None:
        """``"file"``, ``"directory"`` or None (missing), in one request where one suffices.

        Where the service lists by prefix, one listing of the name answers all
        three cases; elsewhere it is ``info``'s stats (two for a missing path).
        """
        if self.version_aware and _versions.SUFFIX in path:
            info = await self._info_or_none(path)  # does that version exist?
            return None if info is None else info["type"]
        name, container, key = self._locate(path)
        backend = self._backend(container) if key else None
        if backend is None or not backend.caps.lists_by_prefix:
            info = await self._info_or_none(name)
            return None if info is None else info["type"]
        try:
            cached = self._cached_kind(name)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if cached is not None:
            return cached
        token = self._listing_token()
        try:
            entries = await backend.list(name, directory=False, most=PROBE_PAGE)
        except FileNotFoundError:
            return None  # the bucket itself is missing
        seen = len(entries)
        kinds = {
            "directory" if entry.path.endswith("/") else "file"
            for entry in entries
            if entry.path in (key, f"{key}/")
        }
        if "file" in kinds:
            kind: str | None = "file"  # a file wins over a directory of the same name, as in info
        elif kinds or seen < PROBE_PAGE:
            kind = kinds.pop() if kinds else None
        else:  # a full page of other names: ask directly
            info = await self._info_or_none(name)
            return None if info is None else info["type"]
        self._remember(name, kind, token=token)
        return kind

    async def _info_or_none(self, path: str, refresh: bool = False) -> dict[str, Any] | None:
        """``info``, or None where the path is missing."""
        path, version = self._named_version(path, None)
        try:
            if version is not None:
                return await self._version_info(path, version)
            return await self._current_info(*self._locate(path), missing_ok=True, refresh=refresh)
        except (FileNotFoundError, NotADirectoryError):
            return None  # a missing version or container

    async def _list_page(self, name: str, backend: Backend, key: str) -> bool:
        """Whether directory ``name`` holds anything, from one page of its listing.

        Asked just after a stat found no file of that name, so a page that holds the
        whole directory is kept as a :class:`ProvenDirectory`: it answers the
        ``ls``, ``find`` and ``info`` of the directory that tend to follow.
        """
        token = self._listing_token()
        try:
            entries = await backend.list(name, most=PROBE_PAGE)
        except (FileNotFoundError, NotADirectoryError):
            return False
        if entries and len(entries) < PROBE_PAGE:
            infos = listing_infos(backend, entries, _paths.as_dir(key))
            self._store_listing(name, infos, token, proven=True)
        return bool(entries)

    async def _dir_exists(self, name: str, backend: Backend) -> bool:
        """Whether the directory ``name/`` exists, whatever a file of the same name does."""
        try:
            return (await backend.stat(name, directory=True)).is_dir
        except (FileNotFoundError, NotADirectoryError):
            return False
