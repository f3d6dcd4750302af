"""What the filesystem remembers, and the one rule for how long: see docs/consistency.md.

Two things are remembered, each as fresh as the store allows:

- **Listings** (fsspec's dircache): a directory's entries from ``ls``, from
  ``find``'s recursive listing, or from the page a directory's ``info`` lists.
  They follow fsspec's settings (``use_listings_cache``, ``listings_expiry_time``,
  ``max_paths``), as s3fs's do, and are on by default only where a listing costs a
  round trip (:func:`listings_cached_by_default`): on ``fs`` and in-process stores
  every call asks the store, as fsspec's ``LocalFileSystem`` and ``MemoryFileSystem``
  do. Every change made through this instance forgets what it outdated, and a
  listing made while something changed is not kept (``_listing_token``).
- **Single paths** (what a stat, a probe or our own write found, missing
  included) serve only the rest of the call that learned them: one ``copy``,
  ``get``, ``put``, ``rm``, ``find`` or ``open`` asks about each path once, and the
  next call asks the store again (:func:`one_call`). Nothing about single paths
  outlives the call, so this memory cannot grow or go stale.

Reads never take a size from either: an open states (or reads) the file afresh.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

from fsspec.dircache import DirCache

from opendalfs import _paths
from opendalfs._backend import Backend
from opendalfs._capabilities import LOCAL
from opendalfs._info import directory_info, make_info
from opendalfs._naming import Naming


class QuickDirCache(DirCache):
    """fsspec's DirCache, with a ``get`` that raises nothing inside where no expiry or
    size bound applies: most names asked about are not in the cache, and a KeyError
    raised and caught costs more than the rest of such a lookup."""

    def get(self, key: str, default: Any = None) -> Any:
        if self.listings_expiry_time is None and not self.max_paths:
            return self._cache.get(key, default)
        return super().get(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        if default and self.listings_expiry_time is None and not self.max_paths:
            return self._cache.pop(key, *default)
        return super().pop(key, *default)

    def discard(self, keys: list[str]) -> None:
        """Forget ``keys``, those cached and those not (as ``del`` does, in any mode)."""
        pop = self._cache.pop
        for key in keys:
            pop(key, None)


def quick_copy(cache: DirCache) -> QuickDirCache:
    """An empty QuickDirCache with ``cache``'s settings."""
    return QuickDirCache(cache.use_listings_cache, cache.listings_expiry_time, cache.max_paths)


class ProvenDirectory(list):  # type: ignore[type-arg]
    """A directory's cached listing made just after a stat found no file of its name.

    While it is kept, it also answers what the name is (a directory: on object
    stores a file of the same name would win), as s3fs answers ``info`` of a
    directory whose listing it holds. It goes with the listing: by expiry, or by a
    write of the name, which forgets the name's listing.
    """


def listings_cached_by_default(scheme: str) -> bool:
    """Whether listings are kept when the user does not say: only where one costs a
    round trip. On the local disk and in in-process stores another process or
    instance may change anything at any time, and asking again costs microseconds."""
    return scheme not in LOCAL


class _Learned:
    """What one call learned of single paths, for one filesystem."""

    __slots__ = ("missing_seen", "paths")

    def __init__(self) -> None:
        #: name -> (kind or None for missing, info or None)
        self.paths: dict[str, tuple[str | None, dict[str, Any] | None]] = {}
        #: Whether some name was found missing (only then are ancestors asked about).
        self.missing_seen = False


#: What the call under way learned, by filesystem (``id``); None outside a call.
_THIS_CALL: ContextVar[dict[int, _Learned] | None] = ContextVar("opendalfs_call", default=None)

_Method = TypeVar("_Method", bound=Callable[..., Coroutine[Any, Any, Any]])


def one_call(method: _Method) -> _Method:
    """Make ``method`` one call: what it and the calls it makes learn of single paths
    serves the rest of it, and is forgotten when it returns.

    Nested calls join the outermost one; tasks it gathers share it too.
    """

    @functools.wraps(method)
    async def scoped(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _THIS_CALL.get() is not None:
            return await method(self, *args, **kwargs)
        token = _THIS_CALL.set({})
        try:
            return await method(self, *args, **kwargs)
        finally:
            _THIS_CALL.reset(token)

    return scoped  # type: ignore[return-value]


def scope_calls(cls: type, names: tuple[str, ...]) -> None:
    """Make each method ``names`` of ``cls`` (its own or inherited) :func:`one_call`."""
    for name in names:
        setattr(cls, name, one_call(getattr(cls, name)))


class ListingCache(Naming):
    """The bookkeeping of fsspec's dircache, and of single paths within one call.

    ``dircache`` is replaced by a QuickDirCache with the same settings when the
    filesystem is made (``_make_caches``).
    """

    #: fsspec's listings cache (a QuickDirCache once the filesystem is made).
    dircache: QuickDirCache
    #: Counts cache invalidations, so a listing made meanwhile is not cached.
    _generation = 0

    def _listing_token(self) -> int:
        """Taken before listing; a listing stored with a stale token is dropped."""
        return self._generation

    def _cached_listing(self, name: str) -> list[dict[str, Any]] | None:
        return self.dircache.get(name)

    def _make_caches(self) -> None:
        """Swap fsspec's (still empty) dircache for a QuickDirCache with its settings."""
        self.dircache = quick_copy(self.dircache)

    def _learned(self, create: bool = False) -> _Learned | None:
        """What the call under way learned of single paths here; None outside a call."""
        call = _THIS_CALL.get()
        if call is None:
            return None
        learned = call.get(id(self))
        if learned is None and create:
            learned = call[id(self)] = _Learned()
        return learned

    def _remember(
        self, name: str, kind: str | None, info: dict[str, Any] | None = None, token: int = -1
    ) -> None:
        """Keep what ``name`` is, for the rest of this call: ``"file"``, ``"directory"``
        or None (missing), with its full info where a stat gave it.

        ``token`` is the listing token taken before the request that told it, if
        any: an answer that a change made meanwhile may have outdated is not kept.
        """
        if token not in (-1, self._generation):
            return
        learned = self._learned(create=True)
        if learned is not None:
            learned.paths[name] = (kind, info)
            if kind is None:
                learned.missing_seen = True

    def _written(self, name: str, kind: str) -> None:
        """After a write, copy or mkdir made here: forget what it changed, keep what it
        made for the rest of the call."""
        self._changed(name)
        self._remember(name, kind)

    def _seen(self, name: str) -> tuple[str | None, dict[str, Any] | None] | None:
        """What this call learned of ``name`` alone; FileNotFoundError if it or an
        ancestor was found missing (nothing lies below a missing name)."""
        learned = self._learned()
        if learned is None:
            return None
        seen = learned.paths
        record = seen.get(name)
        if record is not None:
            if record[0] is None:
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)
            return record
        if not learned.missing_seen:
            return None  # no name known missing: no ancestor can be
        while name:
            name = _paths.parent(name)
            above = seen.get(name)
            if above is not None:
                if above[0] is None:
                    raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)
                return None
        return None

    def _cached_kind(self, name: str) -> str | None:
        """``"file"``, ``"directory"``, or None where nothing cached tells.

        FileNotFoundError where the cache proves ``name`` missing.
        """
        known = self._cached_entry(name)
        return None if known is None else known[0]

    def _store_listing(
        self, name: str, infos: list[dict[str, Any]], token: int, proven: bool = False
    ) -> None:
        """Keep the listing of directory ``name`` unless something changed since ``token``;
        ``proven`` (or a proven listing it replaces) makes it a ProvenDirectory."""
        if token == self._generation:
            self._keep_listing(name, infos, proven)

    def _keep_listing(self, name: str, infos: list[dict[str, Any]], proven: bool) -> None:
        cache = self.dircache
        if proven or type(cache.get(name)) is ProvenDirectory:
            infos = ProvenDirectory(infos)
        cache[name] = infos

    def _cached_info(self, name: str) -> dict[str, Any] | None:
        """Info from the parent's cached listing or from this call; FileNotFoundError if
        they prove absence."""
        known = self._cached_entry(name)
        return None if known is None or known[1] is None else dict(known[1])

    def _cached_entry(self, name: str) -> tuple[str | None, dict[str, Any] | None] | None:
        """(kind, info or None) of ``name`` from the parent's cached listing, else from
        what this call learned of the name alone; FileNotFoundError if they prove absence."""
        listing = self.dircache.get(_paths.parent(name))
        if listing is None:
            if type(self.dircache.get(name)) is ProvenDirectory:
                return "directory", directory_info(name)
            return self._seen(name)
        same = [info for info in listing if info["name"] == name]
        if same:
            # A file wins over a directory of the same name (object stores), as in _stat.
            info = min(same, key=lambda info: info["type"] != "file")
            return info["type"], info
        raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)

    def _listed_size(self, name: str) -> int | None:
        """The size a cached listing gives ``name``: a hint of how to read it, never
        where a read ends."""
        listing = self.dircache.get(_paths.parent(name))
        for info in listing or ():
            if info["name"] == name and info["type"] == "file":
                return info["size"]
        return None

    def _check_listing(self, name: str, info: dict[str, Any] | None) -> None:
        """Forget the parent's cached listing where a fresh answer about ``name`` (None:
        missing) contradicts it: the next ``ls`` then shows what the store holds."""
        parent = _paths.parent(name)
        listing = self.dircache.get(parent)
        if listing is None:
            return
        listed = [i for i in listing if i["name"] == name]
        if info is None:
            stale = bool(listed)
        elif info["type"] == "directory":
            stale = not any(i["type"] == "directory" for i in listed)
        else:
            keys = [k for k in ("type", "size", "etag") if k in info]
            stale = not any(all(i.get(k) == info[k] for k in keys) for i in listed)
        if stale:
            self.dircache.discard([parent])

    def _cache_listings(
        self, name: str, found: dict[str, dict[str, Any]], both: set[str], token: int
    ) -> None:
        """Fill the listing cache for ``name`` and every directory below it from ``found``.

        ``found`` is a complete recursive listing, so each directory's children
        are all in it: a later ``ls``, ``info`` or ``exists`` below ``name`` needs
        no request. A directory holding a name that is both a file and a
        directory is left out: its real listing shows that name twice.
        """
        if token != self._generation or not self.dircache.use_listings_cache:
            return  # something changed while it was listed, or nothing is kept
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
                self._keep_listing(directory, infos, proven=False)

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forget what is cached of ``path``, everything below it, and its parents.

        Also tells listings still under way that they may be stale: they are not
        cached when they finish.
        """
        self._forget(None if path is None else self._strip_protocol(path), below=True)

    def _changed(self, name: str) -> None:
        """Forget what is cached of the one object ``name`` (a file written or deleted)
        and of its parents. What lies below the name is other objects, unchanged,
        so a thousand writes do not each search the whole cache."""
        self._forget(name, below=False)

    def _forget(self, name: str | None, *, below: bool) -> None:
        self._generation += 1
        learned = self._learned()
        cache = self.dircache
        if not cache and (learned is None or not learned.paths):
            return  # nothing cached: most writes of a program that never lists
        seen = learned.paths if learned is not None else {}
        if name is None:
            cache.clear()
            seen.clear()
            return
        if below:
            cache.discard([k for k in cache if k.startswith(f"{name}/")])
            for k in [k for k in seen if k.startswith(f"{name}/")]:
                del seen[k]
        lineage = [name]
        while name:
            name = name.rpartition("/")[0]  # its parent
            lineage.append(name)
        cache.discard(lineage)
        for k in lineage:
            seen.pop(k, None)


def add_found(
    found: dict[str, dict[str, Any]],
    both: set[str],
    entries: list[Any],
    base: str,
    head: str,
    prefix: str,
) -> None:
    """Record the entries of a recursive listing of ``base`` and the directories they
    imply, by name (``head`` names the container).

    On object stores a name can be a file and a directory at once; the file wins
    (as in ``info``), and the name goes into ``both``. Each implied directory is
    built once, with the first entry below it: this loop runs once per entry, so
    it does as little as it can there.
    """
    top = head + base
    cut = len(base)
    for entry in entries:
        path = entry.path
        if not path.startswith(base):
            continue
        rel = path[cut:].rstrip("/")
        if not rel or not rel.startswith(prefix):
            continue  # the listed directory itself, or outside the prefix
        full = top + rel
        slash = full.rfind("/", len(top))
        if slash >= 0:
            parent = full[:slash]
            seen = found.get(parent)
            if seen is None:
                _add_directories(found, both, parent, len(top))
            elif seen["type"] == "file":
                both.add(parent)
        info = make_info(full, entry.metadata)
        if full in found:
            _record_found(found, both, info)
        else:
            found[full] = info


def _add_directories(
    found: dict[str, dict[str, Any]], both: set[str], directory: str, start: int
) -> None:
    """Record ``directory`` and its ancestors (from ``start`` on in the name), deepest
    first, up to one already found: that one's own were recorded with it."""
    while True:
        found[directory] = directory_info(directory)
        slash = directory.rfind("/", start)
        if slash < 0:
            return
        directory = directory[:slash]
        seen = found.get(directory)
        if seen is not None:
            if seen["type"] == "file":
                both.add(directory)
            return


def _record_found(found: dict[str, dict[str, Any]], both: set[str], info: dict[str, Any]) -> None:
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


def listing_infos(backend: Backend, entries: list[Any], target: str) -> list[dict[str, Any]]:
    """Info dicts of a directory's entries by name, without the directory itself
    (``target``, its ``dir/`` key: some services list a directory inside itself)."""
    infos = []
    name = backend.name
    for entry in entries:
        path = entry.path  # each read of a field builds a new str
        if path != target and path != "/":
            infos.append(make_info(name(path), entry.metadata))
    infos.sort(key=_by_name)
    return infos


def _by_name(info: dict[str, Any]) -> str:
    return info["name"]
