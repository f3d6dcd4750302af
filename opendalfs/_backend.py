"""The one place that calls OpenDAL: an operator, its capabilities, errors and deadlines.

Every OpenDAL call opendalfs makes goes through a :class:`Backend`, one per
operator (a configuration and, on services with containers, one container). It
turns fsspec names into OpenDAL paths, translates OpenDAL's errors into builtin
exceptions that name the path the user gave, and bounds each call by the
filesystem's ``timeout``.

A backend runs in one of two modes, chosen by whoever drives the coroutine:

- **async** (the default): it awaits ``opendal.AsyncOperator``, with an
  asyncio-side deadline beside OpenDAL's TimeoutLayer;
- **blocking** (:func:`opendalfs._sync.drive` sets it): it calls the same
  operator's blocking face, ``AsyncOperator.to_operator()``, which shares the
  store and connection pool, and returns at once, so the coroutine that awaits
  it never suspends. Blocking listings hold the GIL in opendal 0.47.12, so on
  services reached over a network a listing in blocking mode still runs on
  fsspec's IO loop; every other blocking call releases the GIL while it waits.

A backend of an in-process service (memory, dashmap, moka …) calls its blocking
face in both modes: nothing there can wait, so an awaited call answers in the
event loop's own thread instead of a hop to OpenDAL's runtime and back (100-200 µs,
most of such a call). On fs the same holds for the metadata calls, one system call
each (``INLINE_METADATA``), and an awaited listing runs the blocking lister in a
worker thread: one hop, where the async lister hops once per entry. No other call
ever goes to the blocking face unless the blocking driver asked for it.
"""

from __future__ import annotations

import asyncio
import builtins
import errno
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import opendal

from opendalfs import _paths
from opendalfs._capabilities import Capabilities
from opendalfs._guard import bounded
from opendalfs._sync import blocking_mode, run_on_io_loop
from opendalfs.errors import OPENDAL_ERRORS, error_kind, masked_cause, translate

#: OpenDAL's kinds of error that say a path is missing (``missing_ok``).
_MISSING = frozenset({"NotFound", "NotADirectory"})

#: What a call may raise that :func:`translate` knows: OpenDAL's classes, and the bare
#: ``OSError`` its file objects raise with the error kind at the start of the text.
_CAUGHT: tuple[type[BaseException], ...] = (*OPENDAL_ERRORS, OSError)


class _RuntimeState:
    """Whether OpenDAL's Rust runtime has run in this process (fork safety needs it).

    Building an operator starts nothing; the first async call, or building the
    blocking face, starts the runtime, whose threads a forked child lacks.
    """

    started = False


runtime = _RuntimeState()


class Backend:
    """The door to one OpenDAL operator, for both drivers.

    Methods take fsspec names (``bucket/dir/key``) and return awaitables; in
    blocking mode those are already complete. ``directory=True`` addresses the
    directory form of a name (``dir/``).
    """

    def __init__(
        self,
        op: opendal.AsyncOperator,
        caps: Capabilities,
        *,
        scheme: str,
        container: str = "",
        secrets: tuple[str, ...] = (),
        deadline: float | None = None,
        blocking_face: Any = None,
    ) -> None:
        self.op = op
        self.caps = caps
        self.scheme = scheme
        self.container = container
        self.secrets = secrets
        self.deadline = deadline
        self._cut = len(container) + 1 if container else 0
        self._blocking_face = blocking_face
        self._face_lock = threading.Lock()
        #: Whether every call goes to the blocking face, awaited or not: see the module.
        self.inline = caps.in_process

    def wrapped(self, wrap: Callable[[Any], Any]) -> Backend:
        """The same backend with both operator faces passed through ``wrap`` (tests count calls)."""
        return Backend(
            wrap(self.op),
            self.caps,
            scheme=self.scheme,
            container=self.container,
            secrets=self.secrets,
            deadline=self.deadline,
            blocking_face=wrap(self.blocking_face()),
        )

    def blocking_face(self) -> Any:
        """The blocking ``opendal.Operator`` over the same store, built on first use.

        Built lazily because building it starts OpenDAL's runtime: an instance
        only constructed before a fork must still work in the child.
        """
        face = self._blocking_face
        if face is None:
            with self._face_lock:
                face = self._blocking_face
                if face is None:
                    runtime.started = True
                    face = self._blocking_face = self.op.to_operator()
        return face

    def blocks(self) -> bool:
        """Whether a call made now goes to the blocking face (and so answers at once)."""
        return self.inline or blocking_mode()

    # -- names -------------------------------------------------------------

    def key(self, name: str) -> str:
        """The OpenDAL path of the fsspec name ``name`` (``""`` for the root)."""
        return name[self._cut :]

    def name(self, path: str) -> str:
        """The fsspec name of an OpenDAL path listed by this backend."""
        path = path.rstrip("/")
        return f"{self.container}/{path}" if self.container and path else path or self.container

    def _path(self, name: str, directory: bool) -> str:
        key = name[self._cut :]
        return _paths.as_dir(key) if directory else key

    # -- the choke point ---------------------------------------------------

    async def _call(
        self,
        method: str,
        name: str,
        *args: Any,
        creating: bool = False,
        metadata: bool = False,
        by_file: Callable[..., Any] | None = None,
        missing_ok: bool = False,
        **options: Any,
    ) -> Any:
        """Run one operator method in the current mode, with errors translated for ``name``.

        ``metadata`` marks a stat, a single delete, a mkdir or a rename: see
        INLINE_METADATA. ``by_file`` does the method's work through the blocking
        face's file objects instead, when the call is blocking: see FILE_CALLS.
        ``missing_ok`` returns None where OpenDAL says the path is missing, without
        building the exception that would say so (``exists`` of a missing path).
        """
        try:
            if self.blocks() or (metadata and self.caps.inline_metadata):
                face = self.blocking_face()
                if by_file is not None:
                    return by_file(face, *args, **options)
                return getattr(face, method)(*args, **options)
            return await self._async_call(method, name, *args, **options)
        except _CAUGHT as exc:
            if missing_ok and error_kind(exc) in _MISSING:
                return None
            raise self._builtin_error(exc, name, creating) from masked_cause(exc, self.secrets)

    def _async_call(self, method: str, name: str, *args: Any, **options: Any) -> Awaitable[Any]:
        runtime.started = True
        future = getattr(self.op, method)(*args, **options)
        if self.deadline is None:
            return future
        return bounded(future, self.deadline, f"{method} {name}")

    def _builtin_error(self, exc: BaseException, name: str, creating: bool) -> BaseException:
        if error_kind(exc) is None:
            return exc  # ours (a deadline's OperationTimeout) or not OpenDAL's: as it is
        return translate(exc, name, secrets=self.secrets, creating=creating, service=self.scheme)

    # -- operations ----------------------------------------------------------

    def stat(
        self,
        name: str,
        *,
        directory: bool = False,
        version: str | None = None,
        missing_ok: bool = False,
    ) -> Awaitable[Any]:
        """OpenDAL's metadata of ``name`` (of one of its versions, given ``version``);
        with ``missing_ok``, None where it is missing."""
        path = self._path(name, directory)
        if version is not None:
            return self._call(
                "stat", name, path, version=version, metadata=True, missing_ok=missing_ok
            )
        return self._call("stat", name, path, metadata=True, missing_ok=missing_ok)

    def read(self, name: str, offset: int, size: int | None, **options: Any) -> Awaitable[bytes]:
        """Bytes from ``offset``, ``size`` of them (None: to the end)."""
        path = self._path(name, False)
        caps = self.caps
        if size is None and caps.inline_metadata and not self.blocks():
            return self._read_to_end(name, offset, options)
        by_file = caps.file_calls and (caps.in_process or (size is None and not offset))
        return self._call(
            "read",
            name,
            path,
            offset=offset or None,
            size=size,
            by_file=_read_by_file if by_file else None,
            **options,
        )

    async def _read_to_end(self, name: str, offset: int, options: dict[str, Any]) -> bytes:
        """An awaited read to the end of a file on fs: a stat in this thread (see
        INLINE_METADATA), then a read of that many bytes.

        OpenDAL's own ``read`` of a whole file stats it and reads that many bytes too,
        but both in its runtime: 256 reads of 4 KiB, ten at a time, took 80 ms so
        and 38 ms this way. A file that shrinks in between fails the read past its
        end, which the caller's clamp reads again within it.
        """
        meta = await self.stat(name)
        if meta.is_dir:
            raise IsADirectoryError(errno.EISDIR, "is a directory", name)
        size = meta.content_length - (offset or 0)
        if size <= 0:
            return b""
        return await self.read(name, offset, size, **options)

    def write(self, name: str, data: bytes, *, creating: bool = False, **options: Any) -> Any:
        path = self._path(name, False)
        by_file = _write_by_file if self.caps.file_calls else None
        return self._call("write", name, path, data, creating=creating, by_file=by_file, **options)

    def delete(self, name: str, *, directory: bool = False, recursive: bool = False) -> Any:
        path = self._path(name, directory)
        if recursive:
            return self._call("delete", name, path, recursive=True)
        return self._call("delete", name, path, metadata=True)

    def create_dir(self, name: str) -> Awaitable[None]:
        return self._call("create_dir", name, self._path(name, True), metadata=True)

    def copy(self, source: str, target: str) -> Awaitable[None]:
        """A server-side copy within this backend; errors name the source."""
        return self._call("copy", source, self._path(source, False), self._path(target, False))

    def rename(self, source: str, target: str) -> Awaitable[None]:
        source_path, target_path = self._path(source, False), self._path(target, False)
        return self._call("rename", source, source_path, target_path, metadata=True)

    async def presign_read(self, name: str, expiration: int) -> str:
        """A presigned GET URL; async only (the blocking face cannot presign)."""
        try:
            request = await self._async_call(
                "presign_read", name, self._path(name, False), expiration
            )
        except _CAUGHT as exc:
            raise self._builtin_error(exc, name, False) from masked_cause(exc, self.secrets)
        return request.url

    async def list(
        self,
        name: str,
        *,
        directory: bool = True,
        prefix: str = "",
        recursive: bool = False,
        most: int | None = None,
        versions: bool = False,
    ) -> list[Any]:
        """OpenDAL entries below ``name`` (its ``dir/`` form, or with ``directory=False``
        every path that starts with the name), at most ``most`` of them.

        ``prefix`` narrows a directory listing to the children starting with it;
        ``versions`` lists every version of each object, newest first.
        """
        key = self.key(name)
        path = ((f"{key}/" if key else "") + prefix or "/") if directory else key
        options: dict[str, Any] = {"recursive": True} if recursive else {}
        if versions:
            options["versions"] = True
        if most is not None:
            options["limit"] = most
        try:
            if not self.blocks():
                if self.caps.blocking_lists:
                    # fs: the async lister hops to OpenDAL's runtime and back for every
                    # entry (21 ms for 200), the blocking one in a worker thread once.
                    listing = asyncio.get_running_loop().run_in_executor(
                        None, self._list_blocking, path, most, options
                    )
                    if self.deadline is None:
                        return await listing
                    return await bounded(listing, self.deadline, f"list {name}")
                return await self._list_async(name, path, most, options)
            if not self.caps.blocking_lists:
                # The blocking lister holds the GIL while it waits: list on the IO loop.
                return run_on_io_loop(self._list_async(name, path, most, options))
            return self._list_blocking(path, most, options)
        except _CAUGHT as exc:
            raise self._builtin_error(exc, name, False) from masked_cause(exc, self.secrets)

    def _list_blocking(
        self, path: str, most: int | None, options: dict[str, Any]
    ) -> builtins.list[Any]:
        entries = []
        for entry in self.blocking_face().list(path, **options):
            entries.append(entry)
            if most is not None and len(entries) >= most:
                break
        return entries

    async def _list_async(
        self, name: str, path: str, most: int | None, options: dict[str, Any]
    ) -> builtins.list[Any]:
        lister = await self._async_call("list", name, path, **options)
        entries: builtins.list[Any] = []
        what = f"list {name}"
        while most is None or len(entries) < most:
            step = lister.__anext__()
            if self.deadline is not None:
                step = bounded(step, self.deadline, what)
            try:
                entry = await step
            except StopAsyncIteration:
                break
            entries.append(entry)
        return entries

    async def open_reader(self, name: str, offset: int = 0, **options: Any) -> Reader:
        """A streaming reader of ``name`` from ``offset`` on (one request)."""
        blocking = self.blocks()
        file = await self._call("open", name, self._path(name, False), "rb", **options)
        reader = Reader(self, name, file, blocking)
        if offset:
            try:
                await reader.seek(offset)
            except BaseException:
                await reader.close()
                raise
        return reader

    async def open_writer(self, name: str, *, creating: bool = False, **options: Any) -> Writer:
        """OpenDAL's writer for ``name``; the object appears when it is closed."""
        blocking = self.blocks()
        path = self._path(name, False)
        file = await self._call("open", name, path, "wb", creating=creating, **options)
        return Writer(self, name, file, blocking, creating)

    async def copy_into(self, name: str, writer: Any, chunk: int) -> None:
        """Stream ``name`` into ``writer`` (another backend's), ``chunk`` bytes a step."""
        reader = await self.open_reader(name)
        try:
            while data := await reader.read(chunk):
                await writer.write(data)
        finally:
            await reader.close()


def _read_by_file(
    face: Any, path: str, *, offset: int | None = None, size: int | None = None, **options: Any
) -> bytes:
    """``face.read``'s bytes through a reader in this thread; a range past the end of
    the file is cut short there, as a slice is, instead of failing.

    Only for whole reads, or readers that seek in place (in-process ones: fs's
    refetches 2 MiB, and with a smaller ``chunk`` it reads a directory as empty).
    """
    file = face.open(path, "rb", **options)
    try:
        if offset:
            file.seek(offset)
        if size is None:
            return file.read()
        data = file.read(size)  # a reader may return less than asked before the end
        if len(data) == size or not data:
            return data
        pieces = [data]
        size -= len(data)
        while size > 0 and (data := file.read(size)):
            pieces.append(data)
            size -= len(data)
        return b"".join(pieces)
    finally:
        file.close()


def _write_by_file(face: Any, path: str, data: bytes, **options: Any) -> None:
    """``face.write`` through a writer in this thread; the object appears on close,
    and a failed write is never closed, so it leaves nothing behind."""
    file = face.open(path, "wb", **options)
    file.write(data)
    file.close()


class _OpenFile:
    """An OpenDAL file object used in the mode it was opened in, whatever the caller's."""

    def __init__(self, backend: Backend, name: str, file: Any, blocking: bool) -> None:
        self._backend = backend
        self.name = name
        self._file = file
        self._blocking = blocking

    async def _file_call(self, method: str, *args: Any, creating: bool = False) -> Any:
        backend = self._backend
        try:
            result = getattr(self._file, method)(*args)
            if self._blocking:
                return result
            if backend.deadline is None:
                return await result
            return await bounded(result, backend.deadline, f"{method} {self.name}")
        except _CAUGHT as exc:
            raise backend._builtin_error(exc, self.name, creating) from masked_cause(
                exc, backend.secrets
            )


class Reader(_OpenFile):
    """A streaming reader: ``await read(size)``, ``await seek(offset)``, ``await close()``."""

    def read(self, size: int) -> Awaitable[bytes]:
        return self._file_call("read", size)

    def seek(self, offset: int) -> Awaitable[int]:
        return self._file_call("seek", offset)

    def close(self) -> Awaitable[None]:
        return self._file_call("close")


class Writer(_OpenFile):
    """OpenDAL's writer: ``await write(data)``, ``await close()`` (which stores the object)."""

    def __init__(
        self, backend: Backend, name: str, file: Any, blocking: bool, creating: bool
    ) -> None:
        super().__init__(backend, name, file, blocking)
        self._creating = creating

    def write(self, data: bytes) -> Awaitable[Any]:
        return self._file_call("write", data, creating=self._creating)

    def close(self) -> Awaitable[None]:
        return self._file_call("close", creating=self._creating)
