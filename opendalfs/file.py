"""Files: fsspec's read caches over ranged reads, writes streamed into one OpenDAL writer."""

from __future__ import annotations

import contextlib
import errno
import io
import threading
from typing import TYPE_CHECKING, Any

from fsspec.asyn import AbstractAsyncStreamedFile
from fsspec.caching import AllBytes
from fsspec.spec import AbstractBufferedFile

from opendalfs._cache import SequentialCache
from opendalfs._config import refuse_unknown
from opendalfs._sync import drive, run_blocking
from opendalfs._writers import WRITE_OPTIONS, check_count

if TYPE_CHECKING:
    from opendalfs.core import OpendalFileSystem

__all__ = ["MODES", "OpendalAsyncFile", "OpendalFile"]

MODES = ("rb", "wb", "ab", "xb")
"""The modes a file opens in: read, write, append, and create (``xb``: fails if it exists)."""

#: What fsspec's file classes take besides the write options.
FILE_OPTIONS = frozenset({"autocommit", "cache_type", "cache_options", "size"})

#: The smallest piece a sought reader fetches (see _Download._read_range).
MIN_READER_CHUNK = 64 * 2**10

#: ``bytes`` written to a file at least this long skip its buffer (see OpendalFile.write).
DIRECT_WRITE = 2**20


def _check_mode(path: str, mode: str) -> None:
    """A malformed mode is a ValueError, as for ``open``; a valid but unsupported one is not."""
    if mode in MODES:
        return
    letters = set(mode)
    valid = (
        len(letters) == len(mode)
        and letters <= set("rwaxbt+")
        and len(letters & set("rwax")) == 1
        and not {"b", "t"} <= letters
    )
    if not valid:
        raise ValueError(f"{path}: invalid mode {mode!r}")
    raise NotImplementedError(
        f"{path}: mode {mode!r} is not supported; use one of {', '.join(MODES)}"
    )


class _Upload:
    """The writing half both file classes share: one OpenDAL writer per file.

    Blocks go to the writer as the buffer fills, and OpenDAL uploads them in parts
    (``write_chunk`` bytes, ``write_concurrent`` at once) where the service can.
    The object appears when the writer is closed: on ``close`` or, with
    ``autocommit=False``, on ``commit``. ``discard`` drops the writer unclosed,
    which leaves nothing of it visible.
    """

    fs: OpendalFileSystem
    path: str

    def _setup_upload(
        self, fs: OpendalFileSystem, path: str, mode: str, kwargs: dict[str, Any]
    ) -> int:
        """Take the write options out of ``kwargs``; return the default block size.

        In a writing mode anything left over that fsspec's file does not take is
        refused, as ``pipe_file`` refuses it, rather than silently ignored.
        """
        self._writer: Any = None
        chunk, concurrent = kwargs.pop("write_chunk", None), kwargs.pop("write_concurrent", None)
        self._chunk: int = fs.write_chunk if chunk is None else chunk
        self._concurrent: int = fs.write_concurrent if concurrent is None else concurrent
        self._write_options = {k: kwargs.pop(k) for k in WRITE_OPTIONS if k in kwargs}
        if mode != "rb":
            check_count("write_chunk", self._chunk)
            check_count("write_concurrent", self._concurrent)
            valid = FILE_OPTIONS | WRITE_OPTIONS | {"write_chunk", "write_concurrent"}
            refuse_unknown(kwargs, valid, f"opening {path} {mode!r}")
        return self._chunk

    async def _new_writer(self, mode: str) -> Any:
        return await self.fs._open_writer(
            self.path, mode, self._chunk, self._concurrent, **self._write_options
        )

    async def _write_block(self, data: bytes) -> None:
        if data:
            await self._writer.write(data)

    async def _finish(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()
            self.fs._written(self.path, "file")

    def discard(self) -> None:
        """Abandon the upload: nothing of it becomes visible."""
        self._writer = None


class _Download:
    """The reading half both file classes share: ranged reads, streamed when in sequence.

    A read that continues the previous one goes through one OpenDAL reader kept
    open from there on, so a file read front to back costs one request (as a raw
    OpenDAL reader does) instead of one per block. Any other read is a ranged
    read, except where the reader seeks in place (memory, fs): there every read
    goes through the one reader. A read of more than ``read_chunk`` bytes over a
    network is a ranged read, in parallel parts (see opendalfs/_parts.py). The
    reader carries the ETag seen at open where the service checks it.
    """

    fs: OpendalFileSystem
    path: str
    size: int

    def _setup_download(
        self, etag: str | None, version: str | None, whole: bytes | None = None
    ) -> None:
        self._given_etag = etag
        #: The whole file, where it was fetched at open: every read is served from it.
        self._whole = whole
        self._version = version
        self._reader: Any = None
        self._reader_at = -1
        self._last_end = -1
        self._reader_use: str | None = None  # fs._reader_use(path), asked on first read
        self._reader_chunk = 0  # what each of the sought reader's fetches asks for

    async def _read_range(self, start: int, end: int) -> bytes:
        if self._whole is not None:
            return self._whole[start:end]
        if end <= start:  # fsspec's async read past the end asks for (loc, size)
            return b""
        use = self._reader_use
        if use is None:
            use = self._reader_use = self.fs._reader_use(self.path)
        in_sequence = start in (self._last_end, self._reader_at)
        self._last_end = end
        whole = self._reader is None and start == 0 and end >= self.size  # no reader for it
        big = end - start > self.fs.read_chunk  # a ranged read goes in parallel parts
        if use == "ranged" or (use == "stream" and (big or not in_sequence)) or whole:
            return await self.fs._read_for_open_file(
                self.path, start, end, self._etag(), self._version
            )
        # A sought reader fetches in pieces of about the reads' size: on fs a 64 KiB
        # read cost 100 µs with OpenDAL's 2 MiB default and 35 µs so, while a read
        # many pieces long is worth a new reader with larger ones.
        chunk = max(end - start, MIN_READER_CHUNK) if use == "seek" else None
        try:
            if self._reader is not None and chunk is not None:
                if chunk > 4 * self._reader_chunk:
                    await self._drop_reader()
                elif self._reader_at != start:
                    self._reader_at = await self._reader.seek(start)
            if self._reader_at != start:
                await self._drop_reader()
                self._reader = await self.fs._open_reader(
                    self.path, start, self._etag(), self._version, chunk
                )
                self._reader_at, self._reader_chunk = start, chunk or 0
            data = await self.fs._read_from_reader(self._reader, end - start)
        except OSError as exc:
            await self._drop_reader()
            if isinstance(exc, TimeoutError):
                raise  # a second try would double the wait
            # A ranged read says what happened (changed, deleted, a passing failure).
            return await self.fs._read_for_open_file(
                self.path, start, end, self._etag(), self._version
            )
        self._reader_at += len(data)
        return data

    def _etag(self) -> str | None:
        """The ETag seen at open (the sync file learns it from fsspec's ``details``)."""
        details = getattr(self, "_details", None)  # fsspec's, without fetching it
        return details.get("etag") if details else self._given_etag

    async def _drop_reader(self) -> None:
        reader, self._reader, self._reader_at = self._reader, None, -1
        if reader is not None:
            with contextlib.suppress(Exception):  # closing a reader loses nothing
                await reader.close()


class OpendalFile(_Download, _Upload, AbstractBufferedFile):
    """A file on any OpenDAL service, opened with ``OpendalFileSystem.open``.

    Reads fetch byte ranges into the fsspec cache chosen by ``cache_type``
    (``block_size`` and ``cache_options`` apply). The default, ``sequential``,
    fetches exactly what a read asks for, and reads ``block_size`` ahead only
    while reads follow one another; a file no larger than a block is fetched whole.
    Opening costs one request, and always asks the store (never a cache), so a
    file changed elsewhere is read as it is now: a small file on a network service
    is fetched whole by it (an in-process store's file, whatever its size), and
    read as it was then; otherwise one fresh ``info`` brings the size and ETag, and
    where the service can check an ETag every read requires it, so a file replaced
    under an open reader raises ``OSError(ESTALE)`` instead of mixing old and new
    bytes.

    Writes take ``write_chunk`` and ``write_concurrent`` (defaults from the
    filesystem). A file left by an exception, or dropped unclosed, is discarded.
    """

    fs: OpendalFileSystem
    closed: bool
    offset: int | None
    buffer: io.BytesIO

    def __init__(
        self,
        fs: OpendalFileSystem,
        path: str,
        mode: str = "rb",
        block_size: int | str | None = None,
        version: str | None = None,
        **kwargs: Any,
    ) -> None:
        _check_mode(path, mode)
        if mode == "xb" and fs.exists(path):
            raise FileExistsError(errno.EEXIST, "file exists", path)
        write_block = self._setup_upload(fs, path, mode, kwargs)
        if block_size in (None, "default") and mode != "rb":
            block_size = write_block
        chosen_cache = kwargs.setdefault("cache_type", None)
        if chosen_cache is None:
            kwargs["cache_type"] = SequentialCache.name
        # One read at a time: caches such as "background" fetch from another thread,
        # and an OpenDAL reader takes one call at a time.
        self._reading = threading.Lock()
        whole = None
        if version is not None:
            self._details = fs.info(path, version_id=version)  # that version's size
        elif mode == "rb" and kwargs.get("size") is None:
            self.fs = fs
            whole = self._run(fs._whole_at_open, path)
            if whole is None:
                # Asked afresh: a size from a cache would end the reads of a file
                # changed since at its old length.
                self._details = fs.info(path, refresh=True)
            elif chosen_cache is None:
                # Every read is served from these bytes: fsspec's "all" cache holds them,
                # and slices them without a call through the file's fetcher.
                kwargs.update(size=len(whole), cache_type=AllBytes.name)
                kwargs["cache_options"] = {"data": whole}
            else:  # the cache asked for, filled from these bytes by its first reads
                kwargs["size"] = len(whole)
        self._setup_download(None, version, whole)  # some caches read while fsspec's __init__ runs
        super().__init__(fs, path, mode, block_size=block_size, **kwargs)
        if mode == "rb" and whole is None and self.details["type"] != "file":
            raise IsADirectoryError(errno.EISDIR, "is a directory", path)

    def _fetch_range(self, start: int, end: int) -> bytes:
        with self._reading:
            return self._run(self._read_range, start, end)

    def close(self) -> None:
        """Close the file; one being written is finished and becomes visible now."""
        loop = self.fs.loop
        if getattr(self, "_reader", None) is not None and (
            self.fs.drives_sync_calls or (loop is not None and not loop.is_closed())
        ):
            with self._reading:
                self._run(self._drop_reader)
        if self.mode == "rb" or self.closed or getattr(self, "_unclosable", False):
            super().close()
            return
        # fsspec's close would then forget all below the parent directory; the commit
        # already told the listing cache what the write changed.
        try:
            if not self.forced:
                self.flush(force=True)
        finally:
            self.closed = True

    def readline(self, size: int | None = -1) -> bytes:
        """Read to the next newline, or at most ``size`` bytes, as a local file does."""
        start = self.tell()
        line = super().readline()
        if size is not None and 0 <= size < len(line):
            line = line[:size]
            self.seek(start + size)
        return line

    def write(self, data: Any) -> int:
        """Buffer ``data``; ``bytes`` of a megabyte or more go to the writer as they are.

        Handing large ``bytes`` straight over skips two copies (into the buffer and
        out of it); OpenDAL's writer still uploads in ``write_chunk`` parts.
        Mutable buffers are always copied, since the caller may change them.
        """
        if type(data) is not bytes or len(data) < min(self.blocksize, DIRECT_WRITE):
            return super().write(data)
        if not self.writable():
            raise ValueError("File not in write mode")
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if self.forced:
            raise ValueError("This file has been force-flushed, can only close")
        if self.offset is None:
            self.offset = 0
            try:
                self._initiate_upload()
            except BaseException:
                self.closed = True
                raise
        for block in (self.buffer.getvalue(), data):
            self._run(self._write_block, block)
            self.offset += len(block)
        self.buffer = io.BytesIO()
        self.loc += len(data)
        return len(data)

    def _initiate_upload(self) -> None:
        self._writer = self._run(self._new_writer, self.mode)

    def _upload_chunk(self, final: bool = False) -> bool:
        self._run(self._write_block, self.buffer.getvalue())
        if final and self.autocommit:
            self.commit()
        return True

    def commit(self) -> None:
        """Finish the upload: the object becomes visible now."""
        self._run(self._finish)

    def _run(self, method: Any, *args: Any) -> Any:
        """Run one of the async methods both file classes share, by the filesystem's driver.

        In the caller's thread against the blocking operator where the filesystem
        drives its sync calls so; else on fsspec's IO loop, through a runner that
        lets a timeout through with its path (fsspec's ``sync`` would replace it
        with an empty ``FSTimeoutError``).
        """
        if self.fs.drives_sync_calls:
            return drive(method(*args))
        return run_blocking(self.fs.loop, method(*args))

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None and self.writable() and not self.closed:
            self.discard()
            self.closed = True
            return
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "closed", True) and self.writable():
            self.discard()
            self.closed = True


class OpendalAsyncFile(_Download, _Upload, AbstractAsyncStreamedFile):
    """A file for async code, from ``await fs.open_async(path, mode)``.

    ``await f.read(size)``, ``await f.write(data)``, ``await f.close()``, and
    fsspec's synchronous ``seek``/``tell``. Reads are not cached: each ``read``
    is one ranged request. Leaving ``async with`` by an exception discards a
    write.
    """

    fs: OpendalFileSystem
    closed: bool

    def __init__(
        self,
        fs: OpendalFileSystem,
        path: str,
        mode: str = "rb",
        details: dict[str, Any] | None = None,
        block_size: int | None = None,
        version: str | None = None,
        whole: bytes | None = None,
        **kwargs: Any,
    ) -> None:
        _check_mode(path, mode)
        write_block = self._setup_upload(fs, path, mode, kwargs)
        self._creating = mode == "xb"
        # fsspec's streamed file knows "wb" and "ab"; an exclusive create is a
        # "wb" whose writer refuses to replace an existing object.
        base_mode = "wb" if self._creating else mode
        size = details["size"] if details else None if whole is None else len(whole)
        super().__init__(
            fs,
            path,
            base_mode,
            block_size=block_size or (None if mode == "rb" else write_block),
            cache_type="none",
            size=size,
            **kwargs,
        )
        self._details = details
        self._setup_download(details.get("etag") if details else None, version, whole)

    async def _fetch_range(self, start: int, end: int) -> bytes:
        return await self._read_range(start, end)

    async def close(self) -> None:
        """Close the file; one being written is finished and becomes visible now."""
        await self._drop_reader()
        if self.mode == "rb" or self.closed:
            await super().close()
            return
        # As in OpendalFile.close: the commit told the listing cache what changed.
        try:
            if not self.forced:
                await self.flush(force=True)
        finally:
            self.closed = True

    async def _initiate_upload(self) -> None:
        self._writer = await self._new_writer("xb" if self._creating else self.mode)

    async def _upload_chunk(self, final: bool = False) -> bool:
        await self._write_block(self.buffer.getvalue())
        if final:
            await self._finish()
        return True

    async def __aexit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None and self.writable() and not self.closed:
            self.discard()
            self.closed = True
            return
        await self.close()

    def __del__(self) -> None:
        if not getattr(self, "closed", True):
            if self.writable():
                self.discard()
            self.closed = True
