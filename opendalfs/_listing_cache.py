"""The listing cache: fsspec's dircache, kept correct across every change made here.

The filesystem touches the dircache only through this interface: a listing goes
in with ``_store_listing`` (one directory) or ``_cache_listings`` (a recursive
listing), comes out with ``_cached_listing``, ``_cached_tree`` or ``_cached_info``,
and every change made through the filesystem calls ``invalidate_cache``. A listing
carries the token taken before it was made, and is not stored if anything changed
meanwhile, so concurrent threads never cache a listing that misses a write.

What one path is (its stat, a probe's answer, our own write) is kept beside the
listings with ``_remember``, under the same expiry and the same invalidation, so
asking twice about one path costs one request, as listing a directory twice does.
"""

from __future__ import annotations

import errno
from typing import Any

from fsspec.dircache import DirCache

from opendalfs import _paths
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


class ListingCache(Naming):
    """The bookkeeping of fsspec's dircache for this filesystem.

    ``dircache`` is replaced by a QuickDirCache with the same settings when the
    filesystem is made, and ``_paths_seen`` made beside it (``_make_caches``).
    """

    #: fsspec's listings cache (a QuickDirCache once the filesystem is made).
    dircache: QuickDirCache
    #: What single paths are, by name: kept and expired as the listings are.
    _paths_seen: QuickDirCache
    #: Counts cache invalidations, so a listing made meanwhile is not cached.
    _generation = 0
    #: Whether a name was remembered missing since the cache was last cleared (until
    #: then no lookup needs to ask about a name's ancestors).
    _missing_seen = False

    def _listing_token(self) -> int:
        """Taken before listing; a listing stored with a stale token is dropped."""
        return self._generation

    def _cached_listing(self, name: str) -> list[dict[str, Any]] | None:
        return self.dircache.get(name)

    def _cached_tree(self, name: str) -> dict[str, dict[str, Any]] | None:
        """Everything below directory ``name`` by name, if cached listings cover it all.

        An ``ls`` of a directory without subdirectories is its whole tree, so a
        ``find`` after it (pandas and pyarrow list, then walk) needs no request.
        """
        found: dict[str, dict[str, Any]] = {}
        pending = [name]
        while pending:
            listing = self._cached_listing(pending.pop())
            if listing is None:
                return None
            for info in listing:
                if info["name"] in found:
                    return None  # a file and a directory of one name: list it again
                found[info["name"]] = info
                if info["type"] == "directory":
                    pending.append(info["name"])
        return found

    def _make_caches(self) -> None:
        """Swap fsspec's (still empty) dircache for a QuickDirCache with its settings,
        and make the cache of single paths with the same."""
        self.dircache = quick_copy(self.dircache)
        self._paths_seen = quick_copy(self.dircache)

    def _remember(
        self, name: str, kind: str | None, info: dict[str, Any] | None = None, token: int = -1
    ) -> None:
        """Keep what ``name`` is: ``"file"``, ``"directory"`` or None (missing), with its
        full info where a stat gave it.

        ``token`` is the listing token taken before the request that told it, if
        any: an answer that a change made meanwhile may have outdated is not kept.
        """
        if token in (-1, self._generation):
            self._paths_seen[name] = (kind, info)
            if kind is None:
                self._missing_seen = True

    def _written(self, name: str, kind: str) -> None:
        """After a write, copy or mkdir made here: forget what it changed, keep what it made."""
        self._changed(name)
        self._remember(name, kind)

    def _seen(self, name: str) -> tuple[str | None, dict[str, Any] | None] | None:
        """What was learned of ``name`` alone; FileNotFoundError if it or an ancestor is
        known to be missing (nothing lies below a missing name)."""
        seen = self._paths_seen
        if not seen:
            return None
        record = seen.get(name)
        if record is not None:
            if record[0] is None:
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)
            return record
        if not self._missing_seen:
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

    def _store_listing(self, name: str, infos: list[dict[str, Any]], token: int) -> None:
        """Keep the listing of directory ``name`` unless something changed since ``token``."""
        if token == self._generation:
            self.dircache[name] = infos

    def _cached_info(self, name: str) -> dict[str, Any] | None:
        """Info from the parent's cached listing or an earlier stat of ``name``;
        FileNotFoundError if the cache proves absence."""
        known = self._cached_entry(name)
        return None if known is None or known[1] is None else dict(known[1])

    def _cached_entry(self, name: str) -> tuple[str | None, dict[str, Any] | None] | None:
        """(kind, info or None) of ``name`` from the parent's cached listing, else from
        what was learned of the name alone; FileNotFoundError if the cache proves absence."""
        listing = self.dircache.get(_paths.parent(name))
        if listing is None:
            return self._seen(name)
        same = [info for info in listing if info["name"] == name]
        if same:
            # A file wins over a directory of the same name (object stores), as in _stat.
            info = min(same, key=lambda info: info["type"] != "file")
            return info["type"], info
        raise FileNotFoundError(errno.ENOENT, "no such file or directory", name)

    def _cache_listings(
        self, name: str, found: dict[str, dict[str, Any]], both: set[str], token: int
    ) -> None:
        """Fill the listing cache for ``name`` and every directory below it from ``found``.

        ``found`` is a complete recursive listing, so each directory's children
        are all in it: a later ``ls``, ``info`` or ``exists`` below ``name`` needs
        no request. A directory holding a name that is both a file and a
        directory is left out: its real listing shows that name twice.
        """
        if token != self._generation:
            return  # something changed while it was listed
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
        caches: list[QuickDirCache] = [c for c in (self.dircache, self._paths_seen) if c]
        if not caches:
            return  # nothing cached: most writes of a program that never lists
        if name is None:
            for cache in caches:
                cache.clear()
            self._missing_seen = False
            return
        if below:
            for cache in caches:
                cache.discard([k for k in cache if k.startswith(f"{name}/")])
        lineage = [name]
        while name:
            name = name.rpartition("/")[0]  # its parent
            lineage.append(name)
        for cache in caches:
            cache.discard(lineage)


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
