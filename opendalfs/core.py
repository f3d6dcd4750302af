"""``OpendalFileSystem``: fsspec's async filesystem over ``opendal.AsyncOperator``."""

from __future__ import annotations

import asyncio
import errno
import functools
import hashlib
import os
from typing import TYPE_CHECKING, Any, Literal, overload

import fsspec.asyn
from fsspec.spec import make_instance

from opendalfs import _paths, _versions
from opendalfs._aliases import resolve as resolve_aliases
from opendalfs._backend import Backend
from opendalfs._capabilities import DEFAULT_OPTIONS, LOCAL_ROOTS, PROCESS_LOCAL
from opendalfs._config import (
    DEFAULT_READ_CHUNK,
    DEFAULT_READ_CONCURRENT,
    DEFAULT_WRITE_CHUNK,
    DEFAULT_WRITE_CONCURRENT,
    check_fs_root,
    checked_container,
    checked_settings,
    refuse_unknown,
)
from opendalfs._deleting import Deleting
from opendalfs._info import directory_info
from opendalfs._listing_cache import (
    add_found,
    listing_infos,
    listings_cached_by_default,
    scope_calls,
)
from opendalfs._lookup import Lookup
from opendalfs._naming import _strip, fixed_scheme
from opendalfs._operators import (
    fork_error,
    forked_after_use,
    secrets_of,
    service_options,
)
from opendalfs._parts import write_options
from opendalfs._reading import Reading
from opendalfs._services import is_secret, service_config
from opendalfs._sync import mirror
from opendalfs._transfers import STREAM_CHUNK, Transfers
from opendalfs._versioning import Versioning
from opendalfs._writers import (
    WRITE_OPTIONS,
    NonEmptyWriter,
    OneShotWriter,
    creates,
    empty_file_error,
)
from opendalfs.errors import mask
from opendalfs.file import OpendalAsyncFile, OpendalFile

__all__ = ["OpendalFileSystem"]


class OpendalFileSystem(Versioning, Reading, Deleting, Transfers, Lookup):
    """An fsspec filesystem for any Apache OpenDAL service.

    Parameters
    ----------
    scheme : str
        The OpenDAL service (``"s3"``, ``"memory"``, ``"fs"`` …). The per-service
        classes in ``opendalfs.registry`` set it for you.
    retries : int, optional
        How often OpenDAL's RetryLayer retries a failure it flags temporary; 0
        disables it. The default is 3, except on ``fs``: OpenDAL flags every local
        I/O error but a few (ENOTEMPTY, ENOTDIR, ENOSPC …) as temporary, and
        retrying a local disk error only delays the same failure.
    timeout : float or None, default 60
        Seconds one call may take, its retries included (OpenDAL's TimeoutLayer);
        None disables it.
    write_chunk : int, default 8 MiB
        Bytes per part when a file is written in parts (multipart uploads); also
        the write block size of files. ``open(..., write_chunk=...)`` overrides it.
    write_concurrent : int, default 8
        Parts uploaded at once. Memory held by one writing file is bounded by
        about ``write_chunk * (write_concurrent + 3)``.
    read_chunk, read_concurrent : int, default 8 MiB and 8
        Over a network (s3, gcs, azblob …), a read of more than ``read_chunk``
        bytes goes as ranged requests of that size, ``read_concurrent`` at once,
        all held to one version of the object; ``get_file`` writes each part where
        it belongs, holding about ``read_chunk * read_concurrent`` bytes.
    sync_driver : {"blocking", "loop"}, optional
        How the sync API runs an operation that makes one or a few OpenDAL calls
        in sequence (``info``, ``cat_file``, ``pipe_file``, ``ls`` …):
        ``"blocking"`` calls OpenDAL's blocking operator in the caller's thread
        (no event loop, no thread hop); ``"loop"`` runs it on fsspec's IO loop.
        The default is ``"blocking"`` on services whose blocking calls release the
        GIL and end within ``timeout`` (memory, fs, s3, azblob, gcs, webdav, http)
        and ``"loop"`` elsewhere. Work on many paths always runs on the loop.
    version_aware : bool, default False
        Reach past versions of objects as s3fs does (``version_id=``,
        ``?versionId=`` names, ``ls(versions=True)``, ``object_version_info``);
        ``NotImplementedError`` on services without versions.
    use_listings_cache : bool, optional
        Whether directory listings are kept (fsspec's dircache). The default is
        True where a listing costs a round trip, and False on ``fs`` and in-process
        stores (unless ``listings_expiry_time`` is given), which then answer every
        call as the store is, as fsspec's local and memory filesystems do.
    asynchronous, loop, batch_size, listings_expiry_time, max_paths
        fsspec's own arguments, with fsspec's meaning (as is ``skip_instance_cache``,
        which fsspec takes before the constructor runs).
    **options
        Everything else is the service's OpenDAL configuration (``endpoint``,
        ``region``, ``root`` …). A name the service does not know is a
        ``ValueError`` that lists the valid ones. Values may be strings, numbers,
        booleans or paths. The names users of s3fs, adlfs and gcsfs pass (``key``,
        ``secret``, ``endpoint_url``, ``anon``, ``client_kwargs``,
        ``connection_string``, ``token`` …) are translated; see docs/options.md.

    Notes
    -----
    **Paths.** Names never start or end with ``/``. For services with a container
    (bucket, container, filesystem or share: s3, gcs, azblob, oss …) the first
    segment is the container, as in s3fs: ``"bucket/dir/key"``. One instance
    reaches every container the credentials allow; passing the container option
    (``bucket="b"``) restricts it to that one, and names still start with it.
    Other services use plain names; ``fs`` resolves them under its ``root``
    (default ``/``), and no name (``..`` or absolute) reaches outside it.

    **Directories.** A directory exists when the service keeps it (a real
    directory on fs or webdav, a marker object made by ``mkdir`` on object stores)
    or when objects exist under its prefix (an implied directory). ``ls`` of a
    directory never includes the directory itself; ``ls`` of a file is
    ``[info(file)]``; ``ls`` of a missing path raises ``FileNotFoundError``.

    **Caches** (docs/consistency.md). Directory listings (``ls``, ``find``'s
    recursive listing) are kept in fsspec's dircache under fsspec's settings, by
    default only on services reached over a network; every write, delete, copy,
    move, mkdir and rmdir made here forgets what it outdated, and changes made by
    others are seen after ``invalidate_cache()``, ``refresh=True`` or
    ``listings_expiry_time`` seconds. What a stat or probe finds of one path serves
    only the rest of the call that asked, and an open always asks the store: a
    file written elsewhere is seen by the next call, as with s3fs.

    **Operators.** Operators are shared by every instance with the same
    configuration in a process, so in-process services such as ``memory`` behave
    like fsspec's ``memory://``: one store per process.
    """

    protocol: str = "opendal"
    #: The blocking twins are made once for the class by ``_sync.mirror``.
    mirror_sync_methods = False
    root_marker = ""
    #: fsspec's: the process and the loop this instance was made for.
    _pid: int
    _loop: asyncio.AbstractEventLoop | None

    def __init__(
        self,
        scheme: str | None = None,
        *,
        retries: int | None = None,
        timeout: float | None = 60.0,
        write_chunk: int = DEFAULT_WRITE_CHUNK,
        write_concurrent: int = DEFAULT_WRITE_CONCURRENT,
        read_chunk: int = DEFAULT_READ_CHUNK,
        read_concurrent: int = DEFAULT_READ_CONCURRENT,
        asynchronous: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        batch_size: int | None = None,
        use_listings_cache: bool | None = None,
        listings_expiry_time: float | None = None,
        max_paths: int | None = None,
        sync_driver: str | None = None,
        version_aware: bool = False,
        **options: Any,
    ) -> None:
        fixed = fixed_scheme(type(self))
        settings = checked_settings(
            scheme,
            fixed,
            type(self).__name__,
            retries=retries,
            timeout=timeout,
            write_chunk=write_chunk,
            write_concurrent=write_concurrent,
            read_chunk=read_chunk,
            read_concurrent=read_concurrent,
            sync_driver=sync_driver,
            version_aware=version_aware,
        )
        if use_listings_cache is None:  # asked for by giving an expiry, else the service's
            use_listings_cache = listings_expiry_time is not None or listings_cached_by_default(
                settings.scheme
            )
        super().__init__(
            asynchronous=asynchronous,
            loop=loop,
            batch_size=batch_size,
            use_listings_cache=use_listings_cache,
            listings_expiry_time=listings_expiry_time,
            max_paths=max_paths,
        )
        self._make_caches()
        self.scheme = scheme = settings.scheme
        self.protocol = f"opendal+{scheme}"
        if fixed is None:  # the generic class: strip this instance's plain scheme too
            self._strip_protocol = functools.partial(_strip, scheme=scheme)  # type: ignore[method-assign]
        self.service_config = service_config(scheme)
        self.retries = settings.retries
        self.timeout = settings.timeout
        self.write_chunk = settings.write_chunk
        self.write_concurrent = settings.write_concurrent
        self.read_chunk = settings.read_chunk
        self.read_concurrent = settings.read_concurrent
        self.sync_driver = settings.sync_driver
        #: Whether versions of objects can be named (``version_id``, ``?versionId=``).
        self.version_aware = settings.version_aware
        #: Whether the sync twins of single operations run in the caller's thread.
        self.drives_sync_calls = settings.sync_driver == "blocking" and not asynchronous
        options = {**DEFAULT_OPTIONS.get(scheme, {}), **options}
        options = resolve_aliases(scheme, options)
        key = self.service_config.container_option
        container = options.pop(key, None) if key else None
        self._options = service_options(self.service_config, options)
        self.container = None if container is None else checked_container(key or "", container)
        if scheme in LOCAL_ROOTS:
            check_fs_root(self._options["root"])
        self._secrets = secrets_of(self._options)
        self._config_keys: dict[str, tuple] = {}
        self._located: dict[str, tuple[str, str, str]] = {}
        if key is None or self.container is not None:
            self._backend(self.container or "")  # fail now on a bad configuration

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """fsspec's IO loop; in a child forked after OpenDAL ran, an error that says what
        to do instead (in a child of a parent that never ran it, the child's loop)."""
        if self._pid != os.getpid():
            parent = forked_after_use()
            if parent is not None:
                raise fork_error(parent)
            if self._loop is not None:
                self._loop = fsspec.asyn.get_loop()
            self._pid = os.getpid()
        return self._loop

    # -- naming ------------------------------------------------------------

    def __repr__(self) -> str:
        shown = {
            k: "***" if is_secret(k) else mask(v, self._secrets) for k, v in self._options.items()
        }
        if self.container is not None:
            shown[self.service_config.container_option or "container"] = self.container
        args = ", ".join(f"{k}={v!r}" for k, v in sorted(shown.items()))
        return f"{type(self).__name__}({self.scheme!r}{', ' if args else ''}{args})"

    #: On a copy of an in-process store's filesystem unpickled in another process:
    #: the process whose store it names.
    _store_process: int | None = None

    def __reduce__(self) -> Any:
        """Pickle by class and arguments; in-process stores also carry their process."""
        if self.scheme not in PROCESS_LOCAL:
            return super().__reduce__()
        owner = self._store_process or os.getpid()
        return _unpickle_in_process_store, (
            type(self),
            self.storage_args,
            self.storage_options,
            owner,
        )

    if TYPE_CHECKING:  # the sync twins are made by _sync.mirror; these are their types

        @overload
        def ls(
            self, path: str, detail: Literal[True] = ..., **kwargs: Any
        ) -> list[dict[str, Any]]: ...
        @overload
        def ls(self, path: str, detail: Literal[False], **kwargs: Any) -> list[str]: ...
        def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
            """The entries of directory ``path`` (``[info(path)]`` for a file).

            Info dicts, or names with ``detail=False``; ``prefix=`` keeps the names
            that start with it.
            """

        @overload
        def find(
            self,
            path: str,
            maxdepth: int | None = ...,
            withdirs: bool = ...,
            detail: Literal[False] = ...,
            **kwargs: Any,
        ) -> list[str]: ...
        @overload
        def find(
            self,
            path: str,
            maxdepth: int | None = ...,
            withdirs: bool = ...,
            *,
            detail: Literal[True],
            **kwargs: Any,
        ) -> dict[str, dict[str, Any]]: ...
        def find(
            self,
            path: str,
            maxdepth: int | None = None,
            withdirs: bool = False,
            detail: bool = False,
            **kwargs: Any,
        ) -> Any:
            """Every file below ``path``, and its directories with ``withdirs=True``.

            One recursive listing where the service has one; names, or a dict of
            info dicts by name with ``detail=True``.
            """

    @overload
    async def _ls(
        self, path: str, detail: Literal[True] = ..., **kwargs: Any
    ) -> list[dict[str, Any]]: ...
    @overload
    async def _ls(self, path: str, detail: Literal[False], **kwargs: Any) -> list[str]: ...
    async def _ls(
        self,
        path: str,
        detail: bool = True,
        refresh: bool = False,
        prefix: str = "",
        versions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """The entries of a directory (``[info]`` of a file).

        ``prefix`` keeps the entries whose last segment starts with it, as
        ``find(prefix=...)`` does. ``versions=True`` (version-aware only) lists
        every version of each file, named ``path?versionId=...``. Any other
        keyword is a TypeError rather than silently ignored.
        """
        refuse_unknown(kwargs, ("detail", "refresh", "prefix", "versions"), f"ls({path!r})")
        if not isinstance(prefix, str):
            raise TypeError(f"ls() prefix must be a str, not {type(prefix).__name__}")
        name, container, key = self._locate(path)
        cached: list[dict[str, Any]] | None = None
        if versions:
            listing = await self._list_versions(name, container, key)
        elif self.service_config.container_option is not None and not container:
            if self.container is None:
                self._backend("")  # raises: OpenDAL cannot list containers
            listing = [directory_info(self.container or "")]
        else:
            cached = None if refresh else self._cached_listing(name)
            listing = cached if cached is not None else await self._list_dir(name, container, key)
        if prefix:
            listing = [i for i in listing if _paths.basename(i["name"]).startswith(prefix)]
        return [dict(i) for i in listing] if detail else [i["name"] for i in listing]

    async def _list_dir(self, name: str, container: str, key: str) -> list[dict[str, Any]]:
        """List one directory; a file lists as itself, a missing path raises."""
        backend = self._backend(container)
        target = _paths.as_dir(key)
        token = self._listing_token()
        try:
            entries = await backend.list(name)
        except (NotADirectoryError, FileNotFoundError):
            if container and not key:
                raise  # the bucket itself is missing
            entries = []
        infos = listing_infos(backend, entries, target)
        # A file lists as nothing, or on some services (FTP) as a child named like
        # itself; either way its stat settles it.
        lone = (
            backend.caps.file_lists_as_child
            and len(infos) == 1
            and infos[0]["name"] == f"{name}/{_paths.basename(name)}"
        )
        if not infos or lone:
            info = await self._stat(name, container, key) if key else directory_info(name)
            if info is None:
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)
            if info["type"] == "file":
                return [info]
        self._store_listing(name, infos, token)
        return infos

    async def _find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        prefix: str = "",
        top_info: bool = True,
        **kwargs: Any,
    ) -> Any:
        """All files below ``path`` from one recursive OpenDAL listing.

        Always asked of the store, as s3fs's ``find`` is (a file added elsewhere is
        found); the listings it makes are kept for ``ls``. With ``withdirs``, ``path``
        itself is among them; without ``top_info`` (glob's, where the pattern cannot
        match it) its info is not asked for.
        """
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        name, container, key = self._locate(path)
        if self._backend(container).caps.recursive_list:
            token = self._listing_token()
            found, both = await self._list_recursive(name, container, key, prefix)
            if found and not prefix:
                self._cache_listings(name, found, both, token)
        else:
            found = await self._walk_listing(name, prefix, maxdepth)
        out = {
            n: info
            for n, info in found.items()
            if (withdirs or info["type"] == "file")
            and (maxdepth is None or _paths.depth(n, name) <= maxdepth)
        }
        if found and withdirs and name and not prefix:  # ``name`` itself does not match
            # Only names are returned without ``detail``: that one is known to exist.
            out[name] = await self._info(name) if detail and top_info else directory_info(name)
        elif not found and not prefix:
            info = await self._info_or_none(name)
            if info is not None and (info["type"] == "file" or withdirs) and name:
                out[name] = info
        names = sorted(out)
        return {n: dict(out[n]) for n in names} if detail else names

    async def _list_recursive(
        self, name: str, container: str, key: str, prefix: str
    ) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """Everything below ``name`` (starting with ``prefix``) from one recursive listing,
        and the names that are a file and a directory at once."""
        backend = self._backend(container)
        base = f"{key}/" if key else ""
        head = f"{container}/" if container else ""
        found: dict[str, dict[str, Any]] = {}
        both: set[str] = set()
        try:
            entries = await backend.list(name, prefix=prefix, recursive=True)
        except NotADirectoryError:
            return {}, set()  # ``name`` is a file
        except FileNotFoundError:
            return {}, set()  # its bucket is missing: nothing is below it
        add_found(found, both, entries, base, head, prefix)
        return found, both

    async def _walk_listing(
        self, name: str, prefix: str, maxdepth: int | None
    ) -> dict[str, dict[str, Any]]:
        """Everything below ``name`` by listing one directory level at a time.

        For services whose recursive listing cannot be trusted; the directories
        of each level are listed concurrently, and each listing is cached.
        """
        if await self._isfile(name) or not await self._isdir(name):
            return {}
        found: dict[str, dict[str, Any]] = {}
        level, depth = [name], 1
        while level and (maxdepth is None or depth <= maxdepth):
            listings = await asyncio.gather(
                *(self._ls(d, detail=True, refresh=True) for d in level)
            )
            level = []
            for listing in listings:
                for info in listing:
                    rel = info["name"][len(name) + 1 :] if name else info["name"]
                    if depth == 1 and not rel.startswith(prefix):
                        continue
                    found[info["name"]] = info
                    if info["type"] == "directory":
                        level.append(info["name"])
            depth += 1
        return found

    # -- reading -----------------------------------------------------------

    # -- writing -----------------------------------------------------------

    async def _glob(self, path: str, maxdepth: int | None = None, **kwargs: Any) -> Any:
        """fsspec's glob; the directory a pattern starts in is stated only when a ``**``
        could match it (``a/**`` includes ``a``), so ``a/*.parquet`` is one listing."""
        if "**" not in path:
            kwargs["top_info"] = False
        return await super()._glob(path, maxdepth=maxdepth, **kwargs)

    async def _pipe_file(
        self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        creating = creates(mode, path)
        name, backend, options = await self._prepare_write(path, creating, kwargs)
        if not value and not backend.caps.write_empty:
            raise empty_file_error(name, self.scheme)
        if not isinstance(value, bytes):
            if not isinstance(value, (bytearray, memoryview)):
                raise TypeError(
                    f"{name}: pipe_file writes bytes-like data, not {type(value).__name__}"
                )
            value = bytes(value)
        parts = write_options(backend.caps, self.write_chunk, self.write_concurrent, len(value))
        async with self._upload_slots(len(value) if parts else 0) as concurrent:
            if concurrent:
                parts["concurrent"] = concurrent
            await backend.write(name, value, creating=creating, **options, **parts)
        self._written(name, "file")

    async def _prepare_write(
        self, path: str, creating: bool, options: dict[str, Any]
    ) -> tuple[str, Backend, dict[str, Any]]:
        """(name, backend, OpenDAL write options) for a write to ``path``.

        A create must not replace an existing object: atomic with ``if_not_exists``
        where the service has it, an existence check first elsewhere (best effort).
        """
        name, container, key = self._locate(path)
        if not key:
            raise IsADirectoryError(errno.EISDIR, "cannot write to the root", name)
        backend = self._backend(container)
        if not backend.caps.write:
            raise NotImplementedError(f"{name}: {self.scheme} is read-only")
        options = _write_options(options, name)
        if creating:
            if backend.caps.if_not_exists:
                options["if_not_exists"] = True
            elif await self._exists(name):
                raise FileExistsError(errno.EEXIST, "file exists", name)
        return name, backend, options

    async def _touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        """Create an empty file; without ``truncate`` an existing file is left alone.

        Object stores cannot change a modification time without rewriting the
        object, so touching an existing file with ``truncate=False`` raises
        ``NotImplementedError`` rather than pretending.
        """
        if not truncate:
            info = await self._info_or_none(path)
            if info is not None:
                if info["type"] == "directory":
                    return
                raise NotImplementedError(
                    f"{info['name']}: {self.scheme} cannot update the modification time "
                    "of an existing file; use truncate=True to rewrite it empty"
                )
        await self._pipe_file(path, b"", **kwargs)

    async def _mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        name, container, key = self._locate(path)
        if await self._exists(name):
            raise FileExistsError(errno.EEXIST, "file exists", name)
        if not key:
            raise NotImplementedError(
                f"{name}: OpenDAL cannot create a {self.service_config.container_option}"
            )
        parent = _paths.parent(name)
        if not create_parents and parent and not await self._isdir(parent):
            raise FileNotFoundError(errno.ENOENT, "parent directory does not exist", name)
        await self._create_dir(name, container, key)
        self._remember(name, "directory")  # nothing of that name existed: no file wins

    async def _makedirs(self, path: str, exist_ok: bool = False) -> None:
        name, container, key = self._locate(path)
        kind = await self._file_or_directory(name)
        if kind is not None:
            if not exist_ok or kind != "directory":
                raise FileExistsError(errno.EEXIST, "file exists", name)
            return
        if not key:
            raise NotImplementedError(
                f"{name}: OpenDAL cannot create a {self.service_config.container_option}"
            )
        if not self._backend(container).caps.create_dir and exist_ok:
            return  # directories are implied by the keys below them, if at all
        await self._create_dir(name, container, key)
        self._remember(name, "directory")  # nothing of that name existed: no file wins

    async def _keep_dir(self, name: str) -> None:
        """Make sure directory ``name`` exists and stays when emptied, where the service can.

        Unlike ``makedirs(exist_ok=True)`` this writes the marker even when files
        already imply the directory: a copy's files may land first, concurrently.
        """
        _, container, key = self._locate(name)
        if key and self._backend(container).caps.create_dir:
            await self._create_dir(name, container, key)

    async def _create_dir(self, name: str, container: str, key: str) -> None:
        """Create a directory, and check it exists: some services (FTP) report success
        for a directory below a file that they did not create. On object stores a
        directory is a marker object, whose successful write is the proof."""
        backend = self._backend(container)
        if not backend.caps.create_dir:
            raise NotImplementedError(f"{name}: {self.scheme} has no directories to create")
        await backend.create_dir(name)
        self.invalidate_cache(name)
        if backend.caps.lists_by_prefix or await self._dir_exists(name, backend):
            return
        ancestor = _paths.parent(name)
        while ancestor and not await self._isfile(ancestor):
            ancestor = _paths.parent(ancestor)
        if ancestor:
            raise NotADirectoryError(errno.ENOTDIR, f"{ancestor} is a file", name)
        raise OSError(errno.EIO, f"{self.scheme} did not create the directory", name)

    # -- deleting ----------------------------------------------------------

    # -- copying and moving ------------------------------------------------

    # -- local transfers ---------------------------------------------------

    # -- files -------------------------------------------------------------

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        version_id: str | None = None,
        **kwargs: Any,
    ) -> OpendalFile:
        """Open a buffered file; see :class:`~opendalfs.file.OpendalFile` for the options.

        ``version_id`` (on a version-aware filesystem) opens a past version to read.
        """
        name, version = self._named_version(self._strip_protocol(path), version_id)
        if mode != "rb":
            _versions.refuse_write(name, version)
        return OpendalFile(
            self,
            name,
            mode,
            version=version,
            block_size=block_size,
            autocommit=autocommit,
            cache_options=cache_options,
            **kwargs,
        )

    async def open_async(
        self, path: str, mode: str = "rb", version_id: str | None = None, **kwargs: Any
    ) -> OpendalAsyncFile:
        """Open a file for ``await f.read()`` / ``await f.write()`` in async code.

        Modes ``rb``, ``wb``, ``ab`` and ``xb``; use it as ``async with``.
        ``version_id`` (on a version-aware filesystem) opens a past version to read.
        """
        name, version = self._named_version(self._strip_protocol(path), version_id)
        details = None
        if mode != "rb":
            _versions.refuse_write(name, version)
        whole = None
        if mode == "rb" and version is None:
            whole = await self._whole_at_open(name)
        if mode == "rb" and whole is None:
            details = await self._info(name, version_id=version, refresh=True)
            if details["type"] != "file":
                raise IsADirectoryError(errno.EISDIR, "is a directory", name)
        elif mode == "xb" and await self._exists(name):
            raise FileExistsError(errno.EEXIST, "file exists", name)
        return OpendalAsyncFile(
            self, name, mode, details=details, version=version, whole=whole, **kwargs
        )

    async def _open_writer(
        self,
        path: str,
        mode: str,
        chunk: int | None = None,
        concurrent: int | None = None,
        **options: Any,
    ) -> Any:
        """An OpenDAL writer for ``path`` in mode ``wb``, ``xb`` or ``ab``.

        ``xb`` is atomic (``if_not_exists``) where the service supports it, and an
        existence check before writing elsewhere. Appends are native where the
        service was seen to append, and elsewhere a rewrite (the old bytes are
        streamed into the new writer first), which keeps the old bytes on every
        service. ``options`` are OpenDAL write options (``content_type`` …).
        """
        creating = mode == "xb"
        name, backend, options = await self._prepare_write(path, creating, options)
        caps = backend.caps
        options.update(
            write_options(caps, chunk or self.write_chunk, concurrent or self.write_concurrent)
        )
        old = await self._info_or_none(name) if mode == "ab" else None
        if old is not None and old["type"] != "file":
            raise IsADirectoryError(errno.EISDIR, "is a directory", name)
        writer: Any
        if old is not None and caps.append:
            writer = await backend.open_writer(name, append=True, **options)
        elif not caps.write_streams:
            writer = OneShotWriter(backend, name, creating, options)
        else:
            writer = await backend.open_writer(name, creating=creating, **options)
        if not caps.write_empty:
            writer = NonEmptyWriter(writer, name, self.scheme)
        if old is not None and not caps.append:
            try:
                await backend.copy_into(name, writer, STREAM_CHUNK)
            except BaseException:
                del writer  # see _parts: dropped now, not with the traceback
                raise
        return writer

    # -- everything else ---------------------------------------------------

    async def _modified(self, path: str) -> Any:
        """The file's modification time; IsADirectoryError for a directory, as in s3fs."""
        info = await self._info(path)
        if info["type"] != "file":
            raise IsADirectoryError(
                errno.EISDIR, "a directory has no modification time", info["name"]
            )
        if "last_modified" not in info:
            raise NotImplementedError(
                f"{info['name']}: {self.scheme} reports no modification time for it"
            )
        return info["last_modified"]

    async def _created(self, path: str) -> Any:
        """Always NotImplementedError (after FileNotFoundError for a missing path).

        No service's OpenDAL metadata carries a creation time in opendal 0.47
        (``Metadata`` has ``last_modified`` only), so there is nothing to return.
        """
        info = await self._info(path)
        raise NotImplementedError(
            f"{info['name']}: OpenDAL reports no creation times (its metadata has "
            "only a modification time; see modified())"
        )

    async def _sign(self, path: str, expiration: int = 100, **kwargs: Any) -> str:
        name, container, _ = self._locate(path)
        backend = self._backend(container)
        if not backend.caps.presign_read:
            raise NotImplementedError(f"{name}: {self.scheme} cannot presign URLs")
        if isinstance(expiration, bool) or not isinstance(expiration, int) or expiration < 1:
            raise ValueError(f"{name}: expiration must be whole seconds >= 1, not {expiration!r}")
        return await backend.presign_read(name, expiration)

    async def _ukey(self, path: str) -> str:
        """A hex key that changes whenever the file's content does.

        Object stores change the ETag with every write, and a modification time
        finer than a second changes too, so those key the file. Elsewhere (memory,
        WebDAV servers whose ETag is built from a time in whole seconds) the
        content itself is hashed, which costs a read.
        """
        name, container, _ = self._locate(path)
        info = await self._info(name)
        parts = [info["name"], info["type"], info["size"], info.get("version")]
        modified = info.get("last_modified")
        if self._backend(container).caps.content_etags and info.get("etag"):
            parts.append(info["etag"])
        elif modified is not None and modified.microsecond:
            parts.append(modified)
        elif info["type"] == "file":
            parts.append(hashlib.sha256(await self._cat_file(name)).hexdigest())
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    def checksum(self, path: str) -> int:
        """An integer that changes whenever the file's content does (see ``ukey``)."""
        return int(self.ukey(path)[:32], 16)


#: The calls in which what one path was found to be serves the rest (see one_call).
scope_calls(
    OpendalFileSystem,
    (
        "_copy",
        "_mv",
        "_put",
        "_get",
        "_rm",
        "_cat",
        "_pipe",
        "_expand_path",
        "_find",
        "_glob",
        "_du",
        "_touch",
        "_mkdir",
        "_makedirs",
        "open_async",
    ),
)
mirror(
    OpendalFileSystem,
    extra=("mv", "rmdir", "touch", "modified", "created", "sign", "ukey", "object_version_info"),
)


def _unpickle_in_process_store(
    cls: type[OpendalFileSystem], args: tuple, kwargs: dict[str, Any], owner: int
) -> OpendalFileSystem:
    """Rebuild an in-process store's filesystem; in another process, one that says so."""
    if owner == os.getpid():
        return make_instance(cls, args, kwargs)
    fs = cls(*args, **{**kwargs, "skip_instance_cache": True})
    fs._store_process = owner
    fs._config_keys.clear()  # each later call checks the process again
    return fs


def _write_options(kwargs: dict[str, Any], name: str) -> dict[str, Any]:
    refuse_unknown(kwargs, WRITE_OPTIONS, f"writing {name}")
    for option, value in kwargs.items():
        wanted = dict if option == "user_metadata" else str
        if not isinstance(value, wanted):
            raise TypeError(
                f"{name}: write option {option} must be a {wanted.__name__}, "
                f"not {type(value).__name__}"
            )
    return dict(kwargs)
