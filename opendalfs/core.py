"""``OpendalFileSystem``: fsspec's async filesystem over ``opendal.AsyncOperator``."""

from __future__ import annotations

import asyncio
import errno
import functools
import hashlib
import logging
import os
import re
from glob import has_magic
from typing import Any, ClassVar

import fsspec.asyn
from fsspec.asyn import AsyncFileSystem, _run_coros_in_chunks
from fsspec.callbacks import DEFAULT_CALLBACK, Callback, NoOpCallback
from fsspec.spec import make_instance
from fsspec.utils import stringify_path

from opendalfs import _paths, _ranges, _versions
from opendalfs._aliases import resolve as resolve_aliases
from opendalfs._backend import Backend
from opendalfs._capabilities import BLOCKING_CALLS, PROCESS_LOCAL
from opendalfs._info import directory_info, make_info
from opendalfs._operators import (
    backend_for,
    config_key,
    fork_error,
    forked_after_use,
    process_local_error,
    secrets_of,
    service_options,
)
from opendalfs._services import is_secret, spec
from opendalfs._sync import mirror
from opendalfs._writers import (
    WRITE_OPTIONS,
    NonEmptyWriter,
    OneShotWriter,
    check_count,
    empty_file_error,
)
from opendalfs.errors import mask
from opendalfs.file import OpendalAsyncFile, OpendalFile

logger = logging.getLogger("opendalfs")

#: Bytes moved per step when streaming between services or to and from local files.
STREAM_CHUNK = 8 * 2**20

#: What no bucket, container or share name holds on any service: whitespace, controls.
_BAD_CONTAINER = re.compile(r"[\s\x00-\x1f\x7f]")

#: The largest offset OpenDAL takes (a signed 64-bit size); any object ends before it.
MAX_OFFSET = 2**63 - 1

#: Names one existence probe lists at most (one page of an S3 listing).
PROBE_PAGE = 1000

#: Part size and parallel parts of a multipart write.
DEFAULT_WRITE_CHUNK = 8 * 2**20
DEFAULT_WRITE_CONCURRENT = 4

#: Retries of a failure OpenDAL flags temporary, on services reached over a network.
DEFAULT_RETRIES = 3

#: How many paths ``_locate`` remembers before it starts afresh.
LOCATED_PATHS = 4096

#: How the sync API may run its calls (see ``sync_driver``).
SYNC_DRIVERS = ("blocking", "loop")


class OpendalFileSystem(AsyncFileSystem):
    """An fsspec filesystem for any Apache OpenDAL service.

    Parameters
    ----------
    scheme : str
        The OpenDAL service (``"s3"``, ``"memory"``, ``"fs"`` …). The per-service
        classes in :mod:`opendalfs.registry` set it for you.
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
    write_concurrent : int, default 4
        Parts uploaded at once. Memory held by one writing file is bounded by
        about ``write_chunk * (write_concurrent + 2)``.
    sync_driver : {"blocking", "loop"}, optional
        How the sync API runs an operation that makes one or a few OpenDAL calls
        in sequence (``info``, ``cat_file``, ``pipe_file``, ``ls`` …):
        ``"blocking"`` calls OpenDAL's blocking operator in the caller's thread
        (no event loop, no thread hop); ``"loop"`` runs it on fsspec's IO loop.
        The default is ``"blocking"`` on services whose blocking calls release the
        GIL and end within ``timeout`` (memory, fs, s3, azblob, gcs, webdav, http)
        and ``"loop"`` elsewhere. Work on many paths always runs on the loop.
    asynchronous, loop, batch_size, use_listings_cache, listings_expiry_time, \
max_paths, skip_instance_cache
        fsspec's own arguments, with fsspec's meaning.
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

    **Listings cache.** Directory listings (from ``ls``, and from ``find``'s
    recursive listing) are kept in fsspec's dircache and invalidated by every
    write, delete, copy, move, mkdir and rmdir made through this instance.
    Changes made by others are seen after ``invalidate_cache()``,
    ``refresh=True`` or ``listings_expiry_time`` seconds.

    **Operators.** Operators are shared by every instance with the same
    configuration in a process, so in-process services such as ``memory`` behave
    like fsspec's ``memory://``: one store per process.
    """

    protocol: ClassVar[str | tuple[str, ...]] = ("opendal",)
    #: The blocking twins are made once for the class by ``_sync.mirror``.
    mirror_sync_methods = False
    root_marker = ""
    #: The service of a per-service subclass; None on the generic class.
    scheme: ClassVar[str | None] = None

    def __init__(
        self,
        scheme: str | None = None,
        *,
        retries: int | None = None,
        timeout: float | None = 60.0,
        write_chunk: int = DEFAULT_WRITE_CHUNK,
        write_concurrent: int = DEFAULT_WRITE_CONCURRENT,
        asynchronous: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        batch_size: int | None = None,
        use_listings_cache: bool = True,
        listings_expiry_time: float | None = None,
        max_paths: int | None = None,
        sync_driver: str | None = None,
        version_aware: bool = False,
        **options: Any,
    ) -> None:
        fixed = type(self).scheme
        if scheme is None:
            scheme = fixed
        if scheme is None:
            raise TypeError("OpendalFileSystem needs the OpenDAL service name, e.g. 'memory'")
        if fixed is not None and scheme != fixed:
            raise ValueError(f"{type(self).__name__} is for {fixed!r}, not {scheme!r}")
        if retries is None:
            retries = 0 if scheme == "fs" else DEFAULT_RETRIES
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be a whole number >= 0, not {retries!r}")
        check_count("write_chunk", write_chunk)
        check_count("write_concurrent", write_concurrent)
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise ValueError(
                f"timeout must be a positive number of seconds or None, not {timeout!r}"
            )
        if sync_driver is None:
            sync_driver = "blocking" if scheme in BLOCKING_CALLS else "loop"
        elif sync_driver not in SYNC_DRIVERS:
            raise ValueError(f"sync_driver must be 'blocking' or 'loop', not {sync_driver!r}")
        elif sync_driver == "blocking" and scheme not in BLOCKING_CALLS:
            raise ValueError(
                f"sync_driver='blocking' is not available on {scheme}: its blocking calls "
                "cannot be bounded by the timeout, so its sync API runs on the IO loop"
            )
        if not isinstance(version_aware, bool):
            raise ValueError(f"version_aware must be True or False, not {version_aware!r}")
        super().__init__(
            asynchronous=asynchronous,
            loop=loop,
            batch_size=batch_size,
            use_listings_cache=use_listings_cache,
            listings_expiry_time=listings_expiry_time,
            max_paths=max_paths,
        )
        self.scheme = scheme
        self.protocol = (f"opendal+{scheme}",)
        if fixed is None:  # the generic class: strip this instance's plain scheme too
            self._strip_protocol = functools.partial(_strip, scheme=scheme)
        self.spec = spec(scheme)
        self.retries = retries
        self.timeout = timeout
        self.write_chunk = write_chunk
        self.write_concurrent = write_concurrent
        self.sync_driver = sync_driver
        #: Whether versions of objects can be named (``version_id``, ``?versionId=``).
        self.version_aware = version_aware
        #: Whether the sync twins of single operations run in the caller's thread.
        self.drives_sync_calls = sync_driver == "blocking" and not asynchronous
        if scheme == "fs":
            options.setdefault("root", "/")
        options = resolve_aliases(scheme, options)
        key = self.spec.container_option
        self.container: str | None = options.pop(key, None) if key else None
        self._options = service_options(self.spec, options)
        if self.container is not None:
            self.container = _paths.normalize(str(self.container))
            if not self.container or "/" in self.container or _BAD_CONTAINER.search(self.container):
                raise ValueError(f"{key} must be a single valid name, not {self.container!r}")
        if scheme == "fs":
            _check_fs_root(self._options["root"])
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

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return _strip(path, cls.scheme)

    def __repr__(self) -> str:
        shown = {
            k: "***" if is_secret(k) else mask(v, self._secrets) for k, v in self._options.items()
        }
        if self.container is not None:
            shown[self.spec.container_option or "container"] = self.container
        args = ", ".join(f"{k}={v!r}" for k, v in sorted(shown.items()))
        return f"{type(self).__name__}({self.scheme!r}{', ' if args else ''}{args})"

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
        if self.spec.container_option is None:
            container, key = "", name
        else:
            container, key = _paths.split_container(name)
        if key != key.strip():
            raise ValueError(
                f"{name!r}: OpenDAL trims whitespace at the ends of a path, so this name "
                "cannot be kept as given"
            )
        if container and _BAD_CONTAINER.search(container):
            raise ValueError(f"{name!r}: {container!r} is not a valid {self.spec.container_option}")
        if self.container is not None and container and container != self.container:
            raise ValueError(
                f"{name!r} is outside {self.spec.container_option} {self.container!r}, "
                "the only one this filesystem may use"
            )
        return name, container, key

    #: Counts cache invalidations, so a listing made meanwhile is not cached.
    _generation = 0

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

    def _backend(self, container: str) -> Backend:
        """The backend for ``container`` (``""`` for services without containers)."""
        key = self._config_keys.get(container)
        if key is None:
            key = self._config_key(container)
        return backend_for(key)

    def _config_key(self, container: str) -> tuple:
        if self._store_process is not None and self._store_process != os.getpid():
            raise process_local_error(self.scheme, self._store_process)
        option = self.spec.container_option
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

    # -- metadata ----------------------------------------------------------

    async def _info(
        self, path: str, version_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """fsspec's ``info``; ``version_id`` (version-aware only) names a past version."""
        path, version = self._named_version(path, version_id)
        if version is not None:
            return await self._version_info(path, version)
        name, container, key = self._locate(path)
        if not key:
            if container:
                await self._check_container(name, container)
            return directory_info(name)
        cached = self._cached_info(name)
        if cached is not None:
            return cached
        return await self._stat(name, container, key)

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

    async def _check_container(self, name: str, container: str) -> None:
        """Raise FileNotFoundError (or PermissionError …) unless the container is reachable."""
        await self._backend(container).list(name, most=1)

    def _cached_info(self, name: str) -> dict[str, Any] | None:
        """Info from the parent's cached listing; FileNotFoundError if it proves absence."""
        parent = _paths.parent(name)
        try:
            listing = self.dircache[parent]
        except KeyError:
            return None
        same = [info for info in listing if info["name"] == name]
        if same:
            # A file wins over a directory of the same name (object stores), as in _stat.
            return dict(min(same, key=lambda info: info["type"] != "file"))
        raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)

    async def _stat(self, name: str, container: str, key: str) -> dict[str, Any]:
        """Stat ``key`` as a file, then as a directory (which may be implied)."""
        backend = self._backend(container)
        try:
            return make_info(name, await backend.stat(name))
        except (FileNotFoundError, NotADirectoryError) as exc:
            missing: OSError = exc
        if not backend.caps.directory_stat:
            raise FileNotFoundError(errno.ENOENT, "no such file", name) from missing
        try:
            meta = await backend.stat(name, directory=True)
            if meta.is_dir:
                return make_info(name, meta, is_dir=True)
        except (FileNotFoundError, NotADirectoryError):
            pass
        raise FileNotFoundError(errno.ENOENT, "no such file or directory", name) from missing

    async def _exists(self, path: str, **kwargs: Any) -> bool:
        return await self._kind(path) is not None

    async def _isdir(self, path: str) -> bool:
        return await self._kind(path) == "directory"

    async def _isfile(self, path: str) -> bool:
        return await self._kind(path) == "file"

    async def _kind(self, path: str) -> str | None:
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
            cached = self._cached_info(name)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if cached is not None:
            return cached["type"]
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
            return "file"  # a file wins over a directory of the same name, as in info
        if kinds or seen < PROBE_PAGE:
            return kinds.pop() if kinds else None
        info = await self._info_or_none(name)  # a full page of other names: ask directly
        return None if info is None else info["type"]

    async def _info_or_none(self, path: str) -> dict[str, Any] | None:
        try:
            return await self._info(path)
        except (FileNotFoundError, NotADirectoryError):
            return None

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
        if kwargs:
            raise TypeError(
                f"ls() got unexpected keyword argument(s) {', '.join(sorted(kwargs))}; "
                "it takes detail, refresh, prefix and versions"
            )
        if not isinstance(prefix, str):
            raise TypeError(f"ls() prefix must be a str, not {type(prefix).__name__}")
        name, container, key = self._locate(path)
        if versions:
            listing = await self._list_versions(name, container, key)
        elif self.spec.container_option is not None and not container:
            if self.container is None:
                self._backend("")  # raises: OpenDAL cannot list containers
            listing = [directory_info(self.container)]
        else:
            listing = None if refresh else self.dircache.get(name)
            if listing is None:
                listing = await self._list_dir(name, container, key)
        if prefix:
            listing = [i for i in listing if _paths.basename(i["name"]).startswith(prefix)]
        return [dict(i) for i in listing] if detail else [i["name"] for i in listing]

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

    async def _list_dir(self, name: str, container: str, key: str) -> list[dict[str, Any]]:
        """List one directory; a file lists as itself, a missing path raises."""
        backend = self._backend(container)
        target = _paths.as_dir(key)
        generation = self._generation
        try:
            entries = await backend.list(name)
        except (NotADirectoryError, FileNotFoundError):
            if container and not key:
                raise  # the bucket itself is missing
            entries = []
        infos = [
            make_info(backend.name(entry.path), entry.metadata)
            for entry in entries
            if entry.path not in (target, "/")  # some services list a directory inside itself
        ]
        # A file lists as nothing, or on some services (FTP) as a child named like
        # itself; either way its stat settles it.
        lone = (
            backend.caps.file_lists_as_child
            and len(infos) == 1
            and infos[0]["name"] == f"{name}/{_paths.basename(name)}"
        )
        if not infos or lone:
            info = await self._stat(name, container, key) if key else directory_info(name)
            if info["type"] == "file":
                return [info]
        infos.sort(key=lambda i: i["name"])
        if generation == self._generation:  # nothing changed while it was listed
            self.dircache[name] = infos
        return infos

    async def _find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        prefix: str = "",
        **kwargs: Any,
    ) -> Any:
        """All files below ``path`` from one recursive OpenDAL listing."""
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        name, container, key = self._locate(path)
        if self._backend(container).caps.recursive_list:
            generation = self._generation
            found, both = await self._list_recursive(name, container, key, prefix)
            if found and not prefix and generation == self._generation:
                self._cache_listings(name, found, both)
        else:
            found = await self._walk_listing(name, prefix, maxdepth)
        out = {
            n: info
            for n, info in found.items()
            if (withdirs or info["type"] == "file")
            and (maxdepth is None or _paths.depth(n, name) <= maxdepth)
        }
        if found and withdirs and name and not prefix:  # ``name`` itself does not match
            out[name] = await self._info(name)
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
        for entry in entries:
            _add_found(found, entry.path, entry.metadata, base, head, prefix, both)
        return found, both

    def _cache_listings(self, name: str, found: dict[str, dict[str, Any]], both: set[str]) -> None:
        """Fill the listing cache for ``name`` and every directory below it from ``found``.

        ``found`` is a complete recursive listing, so each directory's children
        are all in it: a later ``ls``, ``info`` or ``exists`` below ``name`` needs
        no request. A directory holding a name that is both a file and a
        directory is left out: its real listing shows that name twice.
        """
        listings: dict[str, list[dict[str, Any]]] = {name: []}
        for child, info in found.items():
            if info["type"] == "directory":
                listings.setdefault(child, [])
        for child, info in found.items():
            siblings = listings.get(_paths.parent(child))
            if siblings is not None:
                siblings.append(info)
        for parent in {_paths.parent(n) for n in both}:
            listings.pop(parent, None)
        for directory, infos in listings.items():
            if infos:  # an empty one may be a link OpenDAL did not follow: ls will see
                infos.sort(key=lambda i: i["name"])
                self.dircache[directory] = infos

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
            listings = await asyncio.gather(*(self._ls(d, detail=True) for d in level))
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

    # -- reading -----------------------------------------------------------

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
        name, container, _ = self._locate(path)
        backend = self._backend(container)
        options = _read_options(kwargs, name, backend, version)
        if (start is not None and start < 0) or (end is not None and end < 0):
            size = (await self._info(name, version_id=version))["size"]
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
        return await self._read_file(name, backend, start, end, options)

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

    async def _read_open_file(
        self, name: str, start: int, end: int, etag: str | None, version: str | None = None
    ) -> bytes:
        """A range of a file already opened (so known to be a file): no type checks."""
        backend = self._backend(self._locate(name)[1])
        options = _read_options({"if_match": etag}, name, backend, version)
        return await self._read_file(name, backend, start, end, options)

    def _reader_use(self, name: str) -> str:
        """How an open file of ``name`` reads: through one reader or by ranged reads.

        ``"seek"``: every read goes through one reader, sought to its range (memory,
        fs: see SEEKING_READERS). ``"stream"``: reads that follow one another go
        through one reader, others are ranged reads. ``"ranged"``: only ranged reads,
        where a read must run to the end (FTP): a stream left part way would abort
        a transfer, which is what those services cannot take.
        """
        caps = self._backend(self._locate(name)[1]).caps
        if caps.reads_to_end:
            return "ranged"
        return "seek" if caps.seeking_readers else "stream"

    async def _open_reader(
        self, name: str, start: int, etag: str | None, version: str | None = None
    ) -> Any:
        """A reader of ``name`` (of one of its versions) from ``start`` on: one request."""
        backend = self._backend(self._locate(name)[1])
        options = _read_options({"if_match": etag}, name, backend, version)
        return await backend.open_reader(name, start, **options)

    async def _read_stream(self, reader: Any, size: int) -> bytes:
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

    async def _read_file(
        self,
        name: str,
        backend: Backend,
        start: int,
        end: int | None,
        options: dict[str, Any],
    ) -> bytes:
        """A ranged read whose failures say what happened to the file."""
        try:
            return await self._read(name, backend, start, end, options)
        except (FileNotFoundError, NotADirectoryError) as exc:
            if await self._isdir(name):
                raise IsADirectoryError(errno.EISDIR, "is a directory", name) from None
            if isinstance(exc, FileNotFoundError):
                raise
            # Below a file (fs says ENOTDIR): missing, as info and ls say.
            raise FileNotFoundError(errno.ENOENT, "no such file", name) from exc
        except OSError as exc:
            if exc.errno != errno.ESTALE:
                raise
            self.invalidate_cache(name)  # the object changed: what we knew of it is stale
            if not await self._exists(name):
                # Some services answer a conditional read of a deleted object with
                # "condition not met" rather than "not found".
                raise FileNotFoundError(errno.ENOENT, "deleted while being read", name) from exc
            raise

    async def _read(
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
            return (await self._read(name, backend, start, None, options))[:size]
        try:
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

    # -- writing -----------------------------------------------------------

    async def _pipe_file(
        self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        creating = _creating(mode, path)
        name, backend, options = await self._prepare_write(path, creating, kwargs)
        if not value and not backend.caps.write_empty:
            raise empty_file_error(name, self.scheme)
        if not isinstance(value, bytes):
            if not isinstance(value, (bytearray, memoryview)):
                raise TypeError(
                    f"{name}: pipe_file writes bytes-like data, not {type(value).__name__}"
                )
            value = bytes(value)
        await backend.write(name, value, creating=creating, **options)
        self.invalidate_cache(name)

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
                f"{name}: OpenDAL cannot create a {self.spec.container_option}"
            )
        parent = _paths.parent(name)
        if not create_parents and parent and not await self._isdir(parent):
            raise FileNotFoundError(errno.ENOENT, "parent directory does not exist", name)
        await self._create_dir(name, container, key)

    async def _makedirs(self, path: str, exist_ok: bool = False) -> None:
        name, container, key = self._locate(path)
        info = await self._info_or_none(name)
        if info is not None:
            if not exist_ok or info["type"] != "directory":
                raise FileExistsError(errno.EEXIST, "file exists", name)
            return
        if not key:
            raise NotImplementedError(
                f"{name}: OpenDAL cannot create a {self.spec.container_option}"
            )
        if not self._backend(container).caps.create_dir and exist_ok:
            return  # directories are implied by the keys below them, if at all
        await self._create_dir(name, container, key)

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
        for a directory below a file that they did not create."""
        backend = self._backend(container)
        if not backend.caps.create_dir:
            raise NotImplementedError(f"{name}: {self.scheme} has no directories to create")
        await backend.create_dir(name)
        self.invalidate_cache(name)
        if not await self._dir_exists(name, backend):
            ancestor = _paths.parent(name)
            while ancestor and not await self._isfile(ancestor):
                ancestor = _paths.parent(ancestor)
            if ancestor:
                raise NotADirectoryError(errno.ENOTDIR, f"{ancestor} is a file", name)
            raise OSError(errno.EIO, f"{self.scheme} did not create the directory", name)

    async def _dir_exists(self, name: str, backend: Backend) -> bool:
        """Whether the directory ``name/`` exists, whatever a file of the same name does."""
        try:
            return (await backend.stat(name, directory=True)).is_dir
        except (FileNotFoundError, NotADirectoryError):
            return False

    # -- deleting ----------------------------------------------------------

    async def _rm_file(self, path: str, **kwargs: Any) -> None:
        name, container, _ = self._locate(path)
        info = await self._info(name)
        if info["type"] == "directory":
            raise IsADirectoryError(
                errno.EISDIR, "is a directory; use rmdir or rm(recursive=True)", name
            )
        await self._backend(container).delete(name)
        self.invalidate_cache(name)

    async def _rmdir(self, path: str) -> None:
        name, container, key = self._locate(path)
        info = await self._info(name)
        if info["type"] != "directory":
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", name)
        if not key and container:
            raise NotImplementedError(
                f"{name}: OpenDAL cannot delete a {self.spec.container_option}; "
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
        plain = [n for n in names if not has_magic(n)]
        infos = await _run_coros_in_chunks(
            [self._info(n) for n in plain], batch_size=batch_size or self.batch_size, nofiles=True
        )
        tops.update(zip(plain, infos, strict=True))
        if not tops:
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", str(path))
        files: list[str] = []
        dirs: list[str] = []
        for name, info in tops.items():
            if info["type"] == "file":
                files.append(name)
                if recursive:
                    more_files, more_dirs = await self._below_file(name, maxdepth)
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

    async def _below_file(self, name: str, maxdepth: int | None) -> tuple[list[str], list[str]]:
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
        self.invalidate_cache(name)

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forget cached listings of ``path``, everything below it, and its parents.

        Also tells listings still under way that they may be stale: they are not
        cached when they finish.
        """
        self._generation += 1
        if path is None:
            self.dircache.clear()
            return
        name = self._strip_protocol(path)
        below = f"{name}/"
        for cached in [k for k in self.dircache if k.startswith(below)]:
            self.dircache.pop(cached, None)
        while True:
            self.dircache.pop(name, None)
            if not name:
                break
            name = _paths.parent(name)

    # -- copying and moving ------------------------------------------------

    async def _cp_file(self, path1: str, path2: str, move: bool = False, **kwargs: Any) -> None:
        await self._transfer(path1, path2, move=move)

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
        kinds = await asyncio.gather(*(self._kind(n) for n in plain))
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
                await self._refuse_tree_on_its_line(plain[0], kinds[0], target, "move")
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
            name = self._strip_protocol(path1)
            kind = await self._kind(name)
            if kind is not None:  # a missing source fails in fsspec's copy
                target = await self._copy_target(path1, path2)
                await self._refuse_tree_on_its_line(name, kind, target, "copy")
        await super()._copy(
            path1,
            path2,
            recursive=recursive,
            on_error=on_error,
            maxdepth=maxdepth,
            batch_size=batch_size,
            **kwargs,
        )

    async def _refuse_tree_on_its_line(
        self, name: str, kind: str | None, target: str, what: str
    ) -> None:
        """Refuse a recursive transfer of a tree onto its own line (below, onto itself or
        onto an ancestor's name): its sources would be overwritten while they are
        read, so the result would depend on the order of the requests."""
        on_line = target == name or target.startswith(f"{name}/") or name.startswith(f"{target}/")
        if on_line and (kind == "directory" or (kind == "file" and await self._has_children(name))):
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
        if path2.endswith("/") or await self._kind(target) == "directory":
            return "/".join(p for p in (target, _paths.basename(source)) if p)
        return target

    async def _transfer(self, path1: str, path2: str, *, move: bool) -> None:
        """Copy (or with ``move``, rename when possible) one file or directory entry."""
        name1, container1, _ = self._locate(path1)
        name2, container2, key2 = self._locate(path2)
        info = await self._info(name1)
        if name1 == name2:
            return
        if info["type"] == "directory":
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
            await source.copy_into(name1, writer, STREAM_CHUNK)
            await writer.close()
        self.invalidate_cache(name2)
        if renamed:
            self.invalidate_cache(name1)

    # -- local transfers ---------------------------------------------------

    async def _get_file(
        self, rpath: str, lpath: str, callback: Callback = DEFAULT_CALLBACK, **kwargs: Any
    ) -> None:
        """Stream a file to local disk; a failed download leaves no local file behind.

        No stat first unless a callback wants the size (and the listing cache
        does not know it) or the service reads directories as pages: without
        one, a directory is recognised when its read fails. Local disk I/O runs in a
        worker thread so it overlaps the network.
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
            reader = await backend.open_reader(name)
            try:
                while chunk := await reader.read(STREAM_CHUNK):
                    await asyncio.to_thread(local.write, chunk)
                    callback.relative_update(len(chunk))
            finally:
                await reader.close()
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

    async def _put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Callback = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        """Stream a local file up through one writer (in parts where the service can)."""
        name = self._strip_protocol(rpath)
        if await asyncio.to_thread(os.path.isdir, lpath):
            await self._keep_dir(name)
            return
        creating = _creating(mode, name)
        size = await asyncio.to_thread(os.path.getsize, lpath)
        callback.set_size(size)
        with open(lpath, "rb") as local:  # noqa: ASYNC230 - opening is instant; reads go to a thread
            writer = await self._open_writer(name, "xb" if creating else "wb", **kwargs)
            while chunk := await asyncio.to_thread(local.read, STREAM_CHUNK):
                await writer.write(chunk)
                callback.relative_update(len(chunk))
            await writer.close()
        self.invalidate_cache(name)

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
        if mode == "rb":
            details = await self._info(name, version_id=version)
            if details["type"] != "file":
                raise IsADirectoryError(errno.EISDIR, "is a directory", name)
        elif mode == "xb" and await self._exists(name):
            raise FileExistsError(errno.EEXIST, "file exists", name)
        return OpendalAsyncFile(self, name, mode, details=details, version=version, **kwargs)

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
        if caps.write_multi:
            options["chunk"] = chunk or self.write_chunk
            options["concurrent"] = concurrent or self.write_concurrent
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
            await backend.copy_into(name, writer, STREAM_CHUNK)
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


def _strip(path: Any, scheme: str | None) -> Any:
    """fsspec names for ``path`` (or a list of paths), with any protocol removed."""
    if isinstance(path, list):
        return [_strip(p, scheme) for p in path]
    return _paths.normalize(_paths.strip_scheme(stringify_path(path), scheme))


def _check_fs_root(root: str) -> None:
    """An ``fs`` root must be a directory (or not exist yet: OpenDAL creates it)."""
    if os.path.exists(root) and not os.path.isdir(root):
        raise ValueError(f"fs root {root!r} is not a directory")


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
    unknown = set(kwargs) - {"if_match"}
    if unknown:
        raise TypeError(f"{name}: unexpected read option(s) {', '.join(sorted(unknown))}")
    options = {k: v for k, v in kwargs.items() if v is not None}
    if version is not None:
        options["version"] = version
    if not backend.caps.read_if_match:
        options.pop("if_match", None)
    return options


def _creating(mode: str, name: str) -> bool:
    if mode not in ("overwrite", "create"):
        raise ValueError(f"{name}: mode must be 'overwrite' or 'create', not {mode!r}")
    return mode == "create"


def _write_options(kwargs: dict[str, Any], name: str) -> dict[str, Any]:
    unknown = set(kwargs) - WRITE_OPTIONS
    if unknown:
        raise TypeError(
            f"{name}: unexpected write option(s) {', '.join(sorted(unknown))}; "
            f"valid ones are {', '.join(sorted(WRITE_OPTIONS))}"
        )
    for option, value in kwargs.items():
        wanted = dict if option == "user_metadata" else str
        if not isinstance(value, wanted):
            raise TypeError(
                f"{name}: write option {option} must be a {wanted.__name__}, "
                f"not {type(value).__name__}"
            )
    return dict(kwargs)


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _refuse_below(name: str, target: str, what: str) -> None:
    """Refuse to move or copy ``name`` to ``target`` below it."""
    if target.startswith(f"{name}/"):
        raise OSError(errno.EINVAL, f"cannot {what} {name!r} into itself", target)


def _add_found(
    found: dict[str, dict[str, Any]],
    path: str,
    meta: Any,
    base: str,
    head: str,
    prefix: str,
    both: set[str],
) -> None:
    """Record one recursive-listing entry and the directories it implies.

    On object stores a name can be a file and a directory at once; the file wins
    (as in ``info``), and the name goes into ``both``.
    """
    rel = path[len(base) :].rstrip("/")
    if not path.startswith(base) or not rel or not rel.startswith(prefix):
        return  # the listed directory itself, or outside the prefix
    parts = rel.split("/")
    for i in range(1, len(parts)):
        _record(found, both, directory_info(head + base + "/".join(parts[:i])))
    full = head + base + rel
    _record(found, both, make_info(full, meta, is_dir=meta.is_dir))


def _record(found: dict[str, dict[str, Any]], both: set[str], info: dict[str, Any]) -> None:
    """Keep ``info`` unless a file of its name is known; note names of both kinds."""
    seen = found.get(info["name"])
    if seen is None:
        found[info["name"]] = info
    elif seen["type"] != info["type"]:
        both.add(info["name"])
        if info["type"] == "file":
            found[info["name"]] = info
    elif info["type"] == "file" or seen.keys() < info.keys():
        found[info["name"]] = info  # the entry itself over the directory it implied
