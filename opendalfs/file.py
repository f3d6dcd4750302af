"""The sync buffered file: fsspec read caches over ranged reads, writes via an OpenDAL writer."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from fsspec.asyn import sync
from fsspec.spec import AbstractBufferedFile

if TYPE_CHECKING:
    from opendalfs.core import OpendalFileSystem

MODES = ("rb", "wb", "ab", "xb")


class OpendalFile(AbstractBufferedFile):
    """A file on any OpenDAL service, opened with :meth:`OpendalFileSystem.open`.

    Reads fetch byte ranges into the fsspec cache chosen by ``cache_type``.
    Writes stream block by block into one OpenDAL writer, which uploads in parts
    where the service can; the object appears only when the file is closed
    (or, with ``autocommit=False``, committed). A file left by an exception or
    dropped unclosed is aborted: nothing partial becomes visible.
    """

    fs: OpendalFileSystem

    def __init__(self, fs: OpendalFileSystem, path: str, mode: str = "rb", **kwargs: Any) -> None:
        if mode not in MODES:
            raise NotImplementedError(
                f"{path}: mode {mode!r} is not supported; use one of {', '.join(MODES)}"
            )
        if mode == "xb" and fs.exists(path):
            raise FileExistsError(errno.EEXIST, "file exists", path)
        self._writer: Any = None
        super().__init__(fs, path, mode, **kwargs)
        if mode == "rb" and self.details["type"] != "file":
            raise IsADirectoryError(errno.EISDIR, "is a directory", path)

    def _fetch_range(self, start: int, end: int) -> bytes:
        return self.fs.cat_file(self.path, start, end)

    def _initiate_upload(self) -> None:
        self._writer = self._run(self.fs._open_writer, self.path, self.mode)

    def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getvalue()
        if data:
            self._run(self._writer.write, data)
        if final and self.autocommit:
            self.commit()
        return True

    def commit(self) -> None:
        """Finish the upload: the object becomes visible now."""
        writer, self._writer = self._writer, None
        if writer is not None:
            self._run(writer.close)
            self.fs.invalidate_cache(self.path)

    def discard(self) -> None:
        """Abandon the upload: nothing of it becomes visible."""
        self._writer = None

    def _run(self, method: Any, *args: Any) -> Any:
        """Call an async method on fsspec's IO loop, where OpenDAL's futures must start."""
        with self.fs._translated(self.path, creating=self.mode == "xb"):
            return sync(self.fs.loop, _call, method, *args)

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


async def _call(method: Any, *args: Any) -> Any:
    return await method(*args)
