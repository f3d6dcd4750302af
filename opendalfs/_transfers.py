"""Copies and moves, within a service, between services and to and from local files.

A copy is server-side where the service can copy, and streamed through one reader
and one writer elsewhere; a move is a rename where the service can rename.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from glob import has_magic
from typing import Any

from fsspec.callbacks import DEFAULT_CALLBACK, Callback, NoOpCallback

from opendalfs import _parts, _paths
from opendalfs._backend import Backend
from opendalfs._naming import Naming
from opendalfs._writers import creates

#: Bytes moved per step when streaming between services or to and from local files.
STREAM_CHUNK = 8 * 2**20


class Transfers(Naming):
    """The copying and moving part of the filesystem."""

    async def _cp_file(self, path1: str, path2: str, move: bool = False, **kwargs: Any) -> None:
        await self._copy_by_streaming(path1, path2, move=move)

    async def _mv(
        self,
        path1: str | list[str],
        path2: str | list[str],
        recursive: bool = False,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Move by renaming where the service can, else by copying then deleting.

        Sources are deleted only after every copy has succeeded, so a failure
        part way leaves each object at its source, its target, or both.
        """
        sources = [path1] if isinstance(path1, str) else path1
        plain = [self._strip_protocol(p) for p in sources if not has_magic(p)]
        self._strip_protocol(path2)  # a bad target name fails before anything is looked up
        kinds = await asyncio.gather(*(self._file_or_directory(n) for n in plain))
        for name, kind in zip(plain, kinds, strict=True):
            if kind is None:  # before anything moves: a move is all or nothing here
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)
        if isinstance(path1, str) and isinstance(path2, str) and plain:
            if kinds[0] == "directory" and not recursive:
                raise IsADirectoryError(
                    errno.EISDIR, "is a directory; use mv(recursive=True)", plain[0]
                )
            target = await self._copy_target(path1, path2)
            if target == plain[0]:
                return  # onto itself (another spelling, or the directory it is in)
            _refuse_below(plain[0], target, "move")
            if recursive:
                await self._refuse_copy_into_itself(plain[0], target, "move")
        elif isinstance(path2, str):
            for name in plain:
                _refuse_below(name, self._strip_protocol(path2), "move")
        await super()._copy(
            path1, path2, recursive=recursive, maxdepth=maxdepth, on_error="raise", move=True
        )
        leftovers = [p for p in sources if has_magic(p) or await self._exists(p)]
        if leftovers:
            await self._rm(leftovers, recursive=recursive, maxdepth=maxdepth)

    async def _copy(
        self,
        path1: str | list[str],
        path2: str | list[str],
        recursive: bool = False,
        on_error: str | None = None,
        maxdepth: int | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        """fsspec's copy, refusing a tree copied onto its own line (into itself, onto
        itself or onto an ancestor's name): the result would depend on the order of
        the requests, as sources are overwritten while they are copied."""
        if recursive and isinstance(path1, str) and isinstance(path2, str) and not has_magic(path1):
            target = await self._copy_target(path1, path2)
            await self._refuse_copy_into_itself(self._strip_protocol(path1), target, "copy")
        await super()._copy(
            path1,
            path2,
            recursive=recursive,
            on_error=on_error,
            maxdepth=maxdepth,
            batch_size=batch_size,
            **kwargs,
        )

    async def _refuse_copy_into_itself(self, name: str, target: str, what: str) -> None:
        """Refuse a recursive transfer of a tree onto its own line (below, onto itself or
        onto an ancestor's name): its sources would be overwritten while they are
        read, so the result would depend on the order of the requests. A missing
        source is left to fail where it is copied."""
        on_line = target == name or target.startswith(f"{name}/") or name.startswith(f"{target}/")
        if not on_line:
            return
        kind = await self._file_or_directory(name)
        if kind == "directory" or (kind == "file" and await self._has_children(name)):
            raise OSError(errno.EINVAL, f"cannot {what} {name!r} into itself", target)

    async def _has_children(self, name: str) -> bool:
        """Whether anything lies below the file ``name`` (possible on object stores)."""
        _, container, key = self._locate(name)
        backend = self._backend(container)
        if not backend.caps.lists_by_prefix:
            return False
        marker = _paths.as_dir(key)
        entries = await backend.list(name, most=2)
        # An empty directory of the same name is no tree.
        return any(entry.path != marker for entry in entries)

    async def _copy_target(self, path1: str, path2: str) -> str:
        """Where fsspec's copy puts the single source ``path1``, given ``path2``.

        Inside ``path2`` when it is an existing directory (or ends with ``/``),
        unless ``path1`` ends with ``/`` (then its contents go to ``path2`` itself).
        """
        source, target = self._strip_protocol(path1), self._strip_protocol(path2)
        if path1.endswith("/") or source == target:
            return target
        if path2.endswith("/") or await self._file_or_directory(target) == "directory":
            return "/".join(p for p in (target, _paths.basename(source)) if p)
        return target

    async def _copy_by_streaming(self, path1: str, path2: str, *, move: bool) -> None:
        """Copy (or with ``move``, rename when possible) one file or directory entry."""
        name1, container1, _ = self._locate(path1)
        name2, container2, key2 = self._locate(path2)
        kind = await self._kind(name1)
        if name1 == name2:
            return
        if kind == "directory":
            await self._keep_dir(name2)
            return
        if not key2:
            raise IsADirectoryError(errno.EISDIR, "cannot write to the root", name2)
        source = self._backend(container1)
        renamed = move and source.caps.rename and container1 == container2
        if renamed:
            await source.rename(name1, name2)
        elif container1 == container2 and source.caps.copy:
            await source.copy(name1, name2)
        else:
            writer = await self._open_writer(name2, "wb")
            try:
                await source.copy_into(name1, writer, STREAM_CHUNK)
                await writer.close()
            except BaseException:
                del writer  # see _parts: dropped now, not with the traceback
                raise
        self._written(name2, "file")
        if renamed:
            self.invalidate_cache(name1)

    async def _get_file(
        self, rpath: str, lpath: str, callback: Callback = DEFAULT_CALLBACK, **kwargs: Any
    ) -> None:
        """Stream a file to local disk; a failed download leaves no local file behind.

        No stat first unless a callback wants the size (and the listing cache
        does not know it) or the service reads directories as pages: without
        one, a directory is recognised when its read fails. Local disk I/O runs in a
        worker thread so it overlaps the network. Over a network a file longer than
        ``read_chunk`` comes down in parallel parts (see :meth:`_download_in_parts`).
        """
        name, container, _ = self._locate(rpath)
        if await asyncio.to_thread(os.path.isdir, lpath):
            return
        backend = self._backend(container)
        info = self._cached_info(name)  # FileNotFoundError if the cache proves absence
        reports = not isinstance(callback, NoOpCallback)  # a progress bar wants the size
        if info is None and (reports or backend.caps.reads_directories):
            info = await self._info(name)
        if info is not None and info["type"] == "directory":
            await asyncio.to_thread(os.makedirs, lpath, exist_ok=True)
            return
        if info is not None:
            callback.set_size(info["size"])
        local = await asyncio.to_thread(open, lpath, "wb")
        try:
            if backend.caps.reads_in_parts and (info is None or info["size"] > self.read_chunk):
                await self._download_in_parts(name, backend, info is None, local, callback)
            else:
                await _stream_down(backend, name, local, callback)
            await asyncio.to_thread(local.close)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            local.close()
            _remove_quietly(lpath)
            if info is None and await self._isdir(name):
                await asyncio.to_thread(os.makedirs, lpath, exist_ok=True)
                return
            raise
        except BaseException:
            local.close()
            _remove_quietly(lpath)
            raise

    async def _download_in_parts(
        self, name: str, backend: Backend, probe: bool, local: Any, callback: Callback
    ) -> None:
        """File ``name`` written into ``local`` in parallel parts of one version, each at
        its offset (see opendalfs/_parts.py).

        With ``probe`` (nothing is known of the file) a plain GET of ``read_chunk`` + 1
        bytes comes first: a small file ends within it, and that is the download.
        """
        if probe:
            data = await self._read_if_short(name, backend, 0, {})
            if data is not None:
                await asyncio.to_thread(local.write, data)
                callback.relative_update(len(data))
                return
        meta = await backend.stat(name)
        if meta.is_dir:
            raise IsADirectoryError(errno.EISDIR, "is a directory", name)
        if meta.etag is None:  # nothing holds parts to one version: one stream
            await _stream_down(backend, name, local, callback)
            return
        await _parts.download(
            backend,
            name,
            meta.content_length,
            local,
            chunk=self.read_chunk,
            slots=self._read_slots,
            options={"if_match": meta.etag},
            callback=callback,
        )

    async def _put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Callback = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        """Stream a local file up through one writer (in parts where the service can).

        ``overwrite=False`` is ``mode="create"`` (``True``, the default mode), the
        spelling some tools use (prefect's ``put_directory``).
        """
        if "overwrite" in kwargs:
            mode = "overwrite" if kwargs.pop("overwrite") else "create"
        name = self._strip_protocol(rpath)
        if await asyncio.to_thread(os.path.isdir, lpath):
            await self._keep_dir(name)
            return
        creating = creates(mode, name)
        size = await asyncio.to_thread(os.path.getsize, lpath)
        callback.set_size(size)
        with open(lpath, "rb") as local:  # noqa: ASYNC230 - opening is instant; reads go to a thread
            async with self._upload_slots(size) as concurrent:
                mode = "xb" if creating else "wb"
                writer = await self._open_writer(name, mode, None, concurrent, **kwargs)
                try:
                    while chunk := await asyncio.to_thread(local.read, STREAM_CHUNK):
                        await writer.write(chunk)
                        callback.relative_update(len(chunk))
                    await writer.close()
                except BaseException:
                    del writer  # see _parts: dropped now, not with the traceback
                    raise
        self._written(name, "file")

    @asynccontextmanager
    async def _upload_slots(self, size: int) -> AsyncIterator[int | None]:
        """Hold a slot for each part an upload of ``size`` bytes will have in flight,
        while it runs (see opendalfs/_parts.py); yields its ``concurrent`` (None: the
        default, for an upload of one part, which takes no slot)."""
        parts = -(-size // self.write_chunk) if size > self.write_chunk else 0
        async with self._write_slots.take(parts) as taken:
            yield taken or None

    @functools.cached_property
    def _read_slots(self) -> _parts.Slots:
        """The parts all downloads of this filesystem may have in flight at once."""
        return _parts.Slots(self.read_concurrent)

    @functools.cached_property
    def _write_slots(self) -> _parts.Slots:
        """The parts all uploads of big local files may have in flight at once."""
        return _parts.Slots(self.write_concurrent)


async def _stream_down(backend: Backend, name: str, local: Any, callback: Callback) -> None:
    """File ``name`` through one reader into ``local``, ``STREAM_CHUNK`` bytes a step."""
    reader = await backend.open_reader(name)
    try:
        while chunk := await reader.read(STREAM_CHUNK):
            await asyncio.to_thread(local.write, chunk)
            callback.relative_update(len(chunk))
    finally:
        await reader.close()


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _refuse_below(name: str, target: str, what: str) -> None:
    """Refuse to move or copy ``name`` to ``target`` below it."""
    if target.startswith(f"{name}/"):
        raise OSError(errno.EINVAL, f"cannot {what} {name!r} into itself", target)
