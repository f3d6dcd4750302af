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


class ListingCache(Naming):
    """The bookkeeping of fsspec's dircache for this filesystem."""

    #: Counts cache invalidations, so a listing made meanwhile is not cached.
    _generation = 0

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

    @property
    def _paths_seen(self) -> DirCache:
        """What single paths are, by name: kept and expired as the listings are."""
        try:
            return self.__dict__["_paths_seen_cache"]
        except KeyError:
            listings = self.dircache
            seen = DirCache(
                listings.use_listings_cache, listings.listings_expiry_time, listings.max_paths
            )
            self.__dict__["_paths_seen_cache"] = seen
            return seen

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
        try:
            listing = self.dircache[_paths.parent(name)]
        except KeyError:
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
        caches = [c for c in (self.dircache, self._paths_seen) if c]
        if not caches:
            return  # nothing cached: most writes of a program that never lists
        if name is None:
            for cache in caches:
                cache.clear()
            return
        if below:
            for cache in caches:
                for cached in [k for k in cache if k.startswith(f"{name}/")]:
                    cache.pop(cached, None)
        while True:
            for cache in caches:
                cache.pop(name, None)
            if not name:
                break
            name = _paths.parent(name)


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
    full = head + base + rel
    # The directories it implies, deepest first, up to one already found: that one's
    # own were recorded with it, so a tree of n entries builds each directory once.
    ancestor = full
    for _ in range(rel.count("/")):
        ancestor = ancestor[: ancestor.rindex("/")]
        seen = found.get(ancestor)
        if seen is not None:
            if seen["type"] == "file":
                both.add(ancestor)
            break
        found[ancestor] = directory_info(ancestor)
    _record_found(found, both, make_info(full, meta, is_dir=meta.is_dir))


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
