"""Deleting: ``rm_file``, ``rmdir`` and ``rm``, with or without recursion.

A subtree goes in one recursive OpenDAL delete where the service has a trustworthy
one, and entry by entry, deepest first, elsewhere.
"""

from __future__ import annotations

import errno
import logging
from glob import has_magic
from typing import Any

from fsspec.asyn import _run_coros_in_chunks

from opendalfs import _paths, _versions
from opendalfs._naming import Naming

logger = logging.getLogger("opendalfs")


class Deleting(Naming):
    """The deleting part of the filesystem."""

    async def _rm_file(self, path: str, **kwargs: Any) -> None:
        name, container, _ = self._locate(path)
        # A stat: one request for the file expected here (a probe would list).
        if (await self._info(name))["type"] == "directory":
            raise IsADirectoryError(
                errno.EISDIR, "is a directory; use rmdir or rm(recursive=True)", name
            )
        await self._backend(container).delete(name)
        self._changed(name)

    async def _rmdir(self, path: str) -> None:
        name, container, key = self._locate(path)
        if await self._kind(name) != "directory":
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", name)
        if not key and container:
            raise NotImplementedError(
                f"{name}: OpenDAL cannot delete a {self.service_config.container_option}; "
                "use the service's own tools"
            )
        if not key:
            raise PermissionError(errno.EPERM, "the root cannot be removed", name)
        if await self._ls(name, refresh=True, detail=False):
            raise OSError(errno.ENOTEMPTY, "directory not empty", name)
        await self._backend(container).delete(name, directory=True)
        self.invalidate_cache(name)

    async def _rm(
        self,
        path: str | list[str],
        recursive: bool = False,
        maxdepth: int | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Delete files, and with ``recursive`` whole directories.

        A directory whose subtree is deleted in full goes in one recursive OpenDAL
        delete where the service has one (batched requests on object stores);
        otherwise its files go first, then its directories, deepest first. With
        ``maxdepth``, directories that still hold deeper entries are kept.
        """
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        tops: dict[str, dict[str, Any]] = {}
        names = [self._strip_protocol(p) for p in ([path] if isinstance(path, str) else path)]
        for name in names:
            if self.version_aware and _versions.SUFFIX in name:
                self._locate(name)  # refuses it: a version cannot be deleted here
            if has_magic(name):
                tops.update(await self._glob(name, maxdepth=maxdepth, detail=True))
        kinds = {name: info["type"] for name, info in tops.items()}
        plain = [n for n in names if not has_magic(n)]
        found = await _run_coros_in_chunks(
            [self._kind(n) for n in plain], batch_size=batch_size or self.batch_size, nofiles=True
        )
        kinds.update(zip(plain, found, strict=True))
        if not kinds:
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", str(path))
        files: list[str] = []
        dirs: list[str] = []
        for name, kind in kinds.items():
            if kind == "file":
                files.append(name)
                if recursive:
                    more_files, more_dirs = await self._entries_below_file(name, maxdepth)
                    files += more_files
                    dirs += more_dirs
            elif not recursive:
                raise IsADirectoryError(
                    errno.EISDIR, "is a directory; use rm(recursive=True)", name
                )
            elif maxdepth is None and await self._remove_tree(name):
                continue
            else:
                below = await self._find(name, maxdepth=maxdepth, withdirs=True, detail=True)
                files += [n for n, i in below.items() if i["type"] == "file"]
                dirs += [n for n, i in below.items() if i["type"] == "directory" and n != name]
                dirs.append(name)
        await _run_coros_in_chunks(
            [self._delete(n, is_dir=False) for n in files],
            batch_size=batch_size or self.batch_size,
            nofiles=True,
        )
        deeper_first = sorted(set(dirs), key=lambda n: n.count("/"), reverse=True)
        for name in deeper_first:
            if maxdepth is None or not await self._ls(name, refresh=True, detail=False):
                await self._delete(name, is_dir=True)

    async def _entries_below_file(
        self, name: str, maxdepth: int | None
    ) -> tuple[list[str], list[str]]:
        """(files, directories) a recursive delete of the file ``name`` must also remove.

        On object stores a file's name can also be a directory (``a`` and ``a/b``
        both exist, or a ``mkdir`` marker ``a/``); elsewhere nothing is below a file.
        """
        _, container, key = self._locate(name)
        backend = self._backend(container)
        if not backend.caps.lists_by_prefix:
            return [], []
        found, both = await self._list_recursive(name, container, key, "")
        below = {
            n: i for n, i in found.items() if maxdepth is None or _paths.depth(n, name) <= maxdepth
        }
        files = [n for n, i in below.items() if i["type"] == "file"]
        # Names that are files and directories at once are directories too.
        dirs = [n for n, i in below.items() if i["type"] == "directory" or n in both]
        if files or dirs or await self._dir_exists(name, backend):
            dirs.append(name)  # the directory of the same name
        return files, dirs

    async def _remove_tree(self, name: str) -> bool:
        """Delete a directory and all below it in one call, if the service can.

        Returns False when the caller must delete entry by entry: the service has
        no recursive delete, or its batch request failed (some servers that speak
        a service's protocol lack the batch API; GCS's emulator rejects it). A
        real problem, such as a denied permission, fails again entry by entry.
        """
        _, container, key = self._locate(name)
        backend = self._backend(container)
        if not key or not backend.caps.delete_recursive:
            return False
        try:
            await backend.delete(name, directory=True, recursive=True)
        except (FileNotFoundError, PermissionError, NotImplementedError):
            raise
        except OSError as exc:
            logger.debug("%s: recursive delete failed (%s); deleting entry by entry", name, exc)
            self.invalidate_cache(name)
            return False
        self.invalidate_cache(name)
        return True

    async def _delete(self, name: str, *, is_dir: bool) -> None:
        _, container, key = self._locate(name)
        if not key:
            return  # a container root stays
        await self._backend(container).delete(name, directory=is_dir)
        if is_dir:
            self.invalidate_cache(name)
        else:
            self._changed(name)
