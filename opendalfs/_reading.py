"""Reading: ``cat_file``, ``cat_ranges`` and the ranged reads behind open files.

A read is clamped at the end of the object (services report a range past the end
in many ways), retried within it, and its failures say what happened to the file.
Over a network a big read goes as parallel parts of one version (opendalfs/_parts.py).
"""

from __future__ import annotations

import errno
from typing import Any, NoReturn

from fsspec.asyn import _run_coros_in_chunks

from opendalfs import _parts, _ranges
from opendalfs._backend import Backend
from opendalfs._config import refuse_unknown
from opendalfs._naming import Naming
from opendalfs._sync import blocking_mode

#: The largest offset OpenDAL takes (a signed 64-bit size); any object ends before it.
MAX_OFFSET = 2**63 - 1

#: Files opened for reading with nothing known of them are fetched whole, without a
#: stat first, when they are at most this long (see Reading._whole_if_small).
OPEN_READS_WHOLE = 2**20


class Reading(Naming):
    """The reading half of the filesystem: whole files, byte ranges, open files' reads."""

    async def _cat_file(
        self,
        path: str,
        start: int | None = None,
        end: int | None = None,
        version_id: str | None = None,
        **kwargs: Any,
    ) -> bytes:
        """Bytes ``start:end`` of a file, sliced like ``bytes`` (negative, past the end).

        ``if_match=etag`` makes the read fail with ``OSError(ESTALE)`` if the
        object changed, where the service can check it. ``version_id`` (on a
        version-aware filesystem) reads a past version.
        """
        path, version = self._named_version(path, version_id)
        name, container, key = self._locate(path)
        if not key:  # the root or a container: FileNotFoundError if it is missing
            await self._info(name)
            raise IsADirectoryError(errno.EISDIR, "is a directory", name)
        backend = self._backend(container)
        options = _read_options(kwargs, name, backend, version)
        if (start is not None and start < 0) or (end is not None and end < 0):
            size = (await self._info(name, version_id=version, refresh=True))["size"]
            start = _clamp(start, size)
            end = _clamp(end, size)
        start = start or 0
        if end is not None and end > MAX_OFFSET:
            end = None  # past any object's end: read to the end
        if start > MAX_OFFSET:
            end = start  # past any object's end: nothing to read
        if end is not None and end <= start:
            if (await self._info(name, version_id=version))["type"] != "file":  # missing raises
                raise IsADirectoryError(errno.EISDIR, "is a directory", name)
            return b""
        if backend.caps.reads_directories and not (await self._info(name))["type"] == "file":
            raise IsADirectoryError(errno.EISDIR, "is a directory", name)
        return await self._read_explained(name, backend, start, end, options)

    async def _cat_ranges(
        self,
        paths: list[str],
        starts: int | list[int | None] | None,
        ends: int | list[int | None] | None,
        max_gap: int | None = None,
        batch_size: int | None = None,
        on_error: str = "return",
        **kwargs: Any,
    ) -> list[Any]:
        """Byte ranges of files; ranges of one file closer than ``max_gap`` are read at once.

        ``max_gap`` defaults to 1 MiB on services reached over a network and 0 (only
        touching or overlapping ranges) on in-process ones. With ``on_error="return"``
        a failed read's exception takes the place of each range it served.
        """
        if not isinstance(paths, list):
            raise TypeError(f"cat_ranges takes a list of paths, not {type(paths).__name__}")
        starts = list(starts) if isinstance(starts, (list, tuple)) else [starts] * len(paths)
        ends = list(ends) if isinstance(ends, (list, tuple)) else [ends] * len(paths)
        if not len(starts) == len(ends) == len(paths):
            raise ValueError(
                "cat_ranges needs as many starts and ends as paths (the same length): "
                f"{len(paths)} paths, {len(starts)} starts, {len(ends)} ends"
            )
        if max_gap is None:
            max_gap = _ranges.NETWORK_GAP
            first = self._named_version(paths[0], None)[0] if paths else ""
            if not paths or self._backend(self._locate(first)[1]).caps.in_process:
                max_gap = 0  # nothing to save by reading across a gap in memory
        spans, alone = _ranges.plan(paths, starts, ends, max_gap)
        reads = [self._cat_file(s.path, start=s.start, end=s.end, **kwargs) for s in spans]
        reads += [self._cat_file(paths[i], start=starts[i], end=ends[i], **kwargs) for i in alone]
        results = await _run_coros_in_chunks(
            reads, batch_size=batch_size or self.batch_size, nofiles=True, return_exceptions=True
        )
        out: list[Any] = [None] * len(paths)
        for span, result in zip(spans, results, strict=False):
            if isinstance(result, BaseException):
                for i in span.members:
                    out[i] = result
            else:
                for i, data in _ranges.cut(span, result, starts, ends).items():
                    out[i] = data
        for i, result in zip(alone, results[len(spans) :], strict=True):
            out[i] = result
        if on_error != "return":
            for result in out:
                if isinstance(result, BaseException):
                    raise result
        return out

    async def _whole_at_open(self, name: str) -> bytes | None:
        """File ``name`` fetched whole by the request that opens it to read, if it is
        small; None where a stat comes first.

        An open always asks the store, never a cache: a file changed elsewhere is
        read as it is now. Where a request is a round trip, one read answers what a
        stat would (the file exists, its size) and brings the bytes. A stat comes
        first where a read must run to its end (FTP: a stream dropped part way
        aborts a transfer), where reading a directory returns a page (WebDAV), where
        a cached listing says the file is larger (the size only steers the choice),
        and on fs and other local services (a stat costs microseconds there, and a
        probing read of a large file on fs fetches 2 MiB). In-process services
        (memory …) read the file whole, whatever its size, in one call made in this
        thread, as fsspec's memory filesystem copies it at open: another instance's
        write then cannot mix into the reads.
        """
        _, container, key = self._locate(name)
        if not key:
            return None  # the root or a container: a directory, as the stat says
        backend = self._backend(container)
        caps = backend.caps
        if caps.reads_to_end or caps.reads_directories:
            return None
        if caps.in_process:
            return await self._whole_if_small(name, backend, None)
        if not caps.remote:
            return None
        listed = self._listed_size(name)
        if listed is not None and listed > OPEN_READS_WHOLE:
            return None
        return await self._whole_if_small(name, backend, OPEN_READS_WHOLE)

    async def _whole_if_small(self, name: str, backend: Backend, limit: int | None) -> bytes | None:
        """All of file ``name`` from one streamed request if it is at most ``limit``
        bytes long (None: any length); None if it is longer (its stream is dropped
        after ``limit`` bytes).

        The bytes of a longer file are not kept: no ETag came with them, so the
        reads after its stat could not be held to the same version.
        """
        try:
            if backend.caps.in_process:
                # One call, cut at the end.
                data = await backend.read(name, 0, None if limit is None else limit + 1)
            else:
                data = await self._read_streamed(name, backend, 0, (limit or 0) + 1, {})
        except (FileNotFoundError, NotADirectoryError) as exc:
            await self._explain_missing(name, exc)
        if limit is not None and len(data) > limit:
            return None
        self._check_listing(name, {"type": "file", "size": len(data)})
        return data

    async def _read_for_open_file(
        self, name: str, start: int, end: int, etag: str | None, version: str | None = None
    ) -> bytes:
        """A range of a file already opened (so known to be a file): no type checks."""
        backend = self._backend(self._locate(name)[1])
        options = _read_options({"if_match": etag}, name, backend, version)
        return await self._read_explained(name, backend, start, end, options)

    def _reader_use(self, name: str) -> str:
        """How an open file of ``name`` reads: through one reader or by ranged reads.

        ``"seek"``: every read goes through one reader, sought to its range (memory,
        fs: see SEEKING_READERS), when the file reads in blocking mode; awaited, a
        seek is a second OpenDAL future, which costs more than the ranged read it
        saves. ``"stream"``: reads that follow one another go through one reader,
        others are ranged reads. ``"ranged"``: only ranged reads, where a read must
        run to the end (FTP): a stream left part way would abort a transfer, which
        is what those services cannot take.
        """
        caps = self._backend(self._locate(name)[1]).caps
        if caps.reads_to_end:
            return "ranged"
        if caps.seeking_readers and (caps.in_process or blocking_mode()):
            return "seek"
        return "stream"

    async def _open_reader(
        self,
        name: str,
        start: int,
        etag: str | None,
        version: str | None = None,
        chunk: int | None = None,
    ) -> Any:
        """A reader of ``name`` (of one of its versions) from ``start`` on: one request.

        ``chunk`` is what each of OpenDAL's reads behind it fetches (its default is
        2 MiB on fs): sized to the file's reads, a sought reader fetches what is read.
        """
        backend = self._backend(self._locate(name)[1])
        options = _read_options({"if_match": etag}, name, backend, version)
        if chunk is not None:
            options["chunk"] = chunk
        return await backend.open_reader(name, start, **options)

    async def _read_streamed(
        self, name: str, backend: Backend, start: int, size: int, options: dict[str, Any]
    ) -> bytes:
        """Up to ``size`` bytes from ``start`` through one plain GET, dropped after them."""
        reader = await backend.open_reader(name, start, **options)
        try:
            return await self._read_from_reader(reader, size)
        finally:
            await reader.close()

    async def _read_from_reader(self, reader: Any, size: int) -> bytes:
        """Up to ``size`` bytes from a reader (fewer only at the end of the file)."""
        data = await reader.read(size)
        if len(data) == size or not data:
            return data  # most reads: all at once
        chunks = [data]
        size -= len(data)
        while size > 0:
            data = await reader.read(size)
            if not data:
                break
            chunks.append(data)
            size -= len(data)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _read_explained(
        self,
        name: str,
        backend: Backend,
        start: int,
        end: int | None,
        options: dict[str, Any],
    ) -> bytes:
        """A ranged read whose failures say what happened to the file."""
        try:
            return await self._read_clamped(name, backend, start, end, options)
        except (FileNotFoundError, NotADirectoryError) as exc:
            await self._explain_missing(name, exc)
        except OSError as exc:
            if exc.errno != errno.ESTALE:
                raise
            self.invalidate_cache(name)  # the object changed: what we knew of it is stale
            if not await self._exists(name):
                # Some services answer a conditional read of a deleted object with
                # "condition not met" rather than "not found".
                raise FileNotFoundError(errno.ENOENT, "deleted while being read", name) from exc
            raise

    async def _explain_missing(self, name: str, exc: OSError) -> NoReturn:
        """Raise what a read of ``name`` that found nothing means: a directory, or missing."""
        if await self._isdir(name):
            raise IsADirectoryError(errno.EISDIR, "is a directory", name) from None
        if isinstance(exc, FileNotFoundError):
            raise exc
        # Below a file (fs says ENOTDIR): missing, as info and ls say.
        raise FileNotFoundError(errno.ENOENT, "no such file", name) from exc

    async def _read_clamped(
        self,
        name: str,
        backend: Backend,
        start: int,
        end: int | None,
        options: dict[str, Any],
    ) -> bytes:
        """One ranged read, clamped at the end of the object.

        Services report a range past the end in many ways (RangeNotSatisfied,
        "reader got too little data", a 416, an FTP error), so a failure that could
        be one is checked against the object's size: a range past the end is read
        again within it, anything else re-raised as it was.
        """
        size = None if end is None else end - start
        if backend.caps.reads_to_end and size is not None:
            return (await self._read_clamped(name, backend, start, None, options))[:size]
        try:
            if backend.caps.reads_in_parts and (size is None or size > self.read_chunk):
                return await self._read_in_parts(name, backend, start, end, options)
            return await backend.read(name, start, size, **options)
        except OSError as exc:
            if not _maybe_past_the_end(exc):
                raise
            try:
                meta = await backend.stat(name, version=options.get("version"))
            except Exception:
                raise exc from None  # the stat failing too says nothing about the range
            if meta.is_dir:
                raise IsADirectoryError(errno.EISDIR, "is a directory", name) from exc
            total = meta.content_length
            stop = total if end is None else min(end, total)
            if start < total and stop == (total if end is None else end):
                raise  # the range was within the object: a real failure
            if start >= total:
                return b""
            return await backend.read(name, start, stop - start, **options)

    async def _read_in_parts(
        self,
        name: str,
        backend: Backend,
        start: int,
        end: int | None,
        options: dict[str, Any],
    ) -> bytes:
        """Bytes ``start:end`` (None: to the end) as parallel parts of one version.

        The end and the ETag come from the caller (an open file), else from a stat.
        Where neither the caller nor the listing cache knows the object to be long,
        a plain GET of ``read_chunk`` + 1 bytes comes first: a small object ends
        within it, and that one request is the read. See opendalfs/_parts.py.
        """
        chunk = self.read_chunk
        if end is None and not self._known_longer(name, start + chunk):
            try:
                data = await self._read_if_short(name, backend, start, options)
            except ConnectionError:
                # opendal 0.47's readers drop their errors' source ("Connection refused"
                # …): a service that cannot be reached is asked by one plain read, whose
                # error says why, as cat_file's always did.
                return await backend.read(name, start, None, **options)
            if data is not None:
                return data
        etag = options.get("if_match")
        if end is None or etag is None:
            meta = await backend.stat(name, version=options.get("version"))
            if meta.is_dir:
                raise IsADirectoryError(errno.EISDIR, "is a directory", name)
            total = meta.content_length
            end = total if end is None else min(end, total)
            if start >= end:
                return b""
            etag = etag or meta.etag
            if etag is None:  # nothing holds parts to one version: one request
                return await backend.read(name, start, end - start, **options)
        parted = {**options, "if_match": etag, **_parts.read_options(chunk, self.read_concurrent)}
        return await backend.read(name, start, end - start, **parted)

    async def _read_if_short(
        self, name: str, backend: Backend, start: int, options: dict[str, Any]
    ) -> bytes | None:
        """Bytes from ``start`` to the end if there are at most ``read_chunk`` of them,
        from one plain GET (one response, one version); None if there are more.

        That GET is dropped past ``read_chunk`` bytes, and its bytes with it: nothing
        ties them to the version the parts will read (see opendalfs/_parts.py).
        """
        data = await self._read_streamed(name, backend, start, self.read_chunk + 1, options)
        return data if len(data) <= self.read_chunk else None

    def _known_longer(self, name: str, size: int) -> bool:
        """Whether a cached listing says file ``name`` is longer than ``size`` bytes
        (a hint of how to read it: the parts' stat says where the read ends)."""
        listed = self._listed_size(name)
        return listed is not None and listed > size


def _maybe_past_the_end(exc: OSError) -> bool:
    """Whether a failed read may have asked for a range past the end of the object.

    Services say so with RangeNotSatisfied (EINVAL) or an unexpected error (EIO);
    never with a timeout, a busy answer or a lost connection.
    """
    return type(exc) is OSError and exc.errno in (errno.EINVAL, errno.EIO)


def _clamp(offset: int | None, size: int) -> int | None:
    """Resolve a negative offset against ``size``, like a slice index."""
    if offset is None or offset >= 0:
        return offset
    return max(0, size + offset)


def _read_options(
    kwargs: dict[str, Any], name: str, backend: Backend, version: str | None = None
) -> dict[str, Any]:
    """The OpenDAL read options: ``if_match`` from ``kwargs``, and ``version``.

    Conditions the service cannot check are dropped.
    """
    if not kwargs:
        return {} if version is None else {"version": version}
    refuse_unknown(kwargs, ("if_match",), f"reading {name}")
    options = {k: v for k, v in kwargs.items() if v is not None}
    if version is not None:
        options["version"] = version
    if not backend.caps.read_if_match:
        options.pop("if_match", None)
    return options
