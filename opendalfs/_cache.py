"""The default read cache of opendalfs files: read ahead only while reads run in sequence.

fsspec's ``readahead`` cache fetches a whole block (5 MiB by default) beyond every
read it cannot serve, so 64 KiB read at random offsets costs 5 MiB each. This
cache fetches exactly what a read asks for until small reads follow one another, and
only then reads a block ahead. A file no larger than a block is fetched whole on its
first read: a Parquet footer and the columns after it then cost one request.
"""

from __future__ import annotations

from fsspec.caching import BaseCache, Fetcher, register_cache


class SequentialCache(BaseCache):
    """Serve reads from one cached range; read ahead after a read that continues the last."""

    name = "sequential"

    def __init__(self, blocksize: int, fetcher: Fetcher, size: int) -> None:
        super().__init__(blocksize, fetcher, size)
        self.cache = b""
        self.start = 0
        self.end = 0
        self._last_stop = -1

    def _fetch(self, start: int | None, stop: int | None) -> bytes:
        start = 0 if start is None else start
        stop = self.size if stop is None else min(stop, self.size)
        if start >= stop:
            return b""
        sequential = start == self._last_stop
        self._last_stop = stop
        if self.start <= start and stop <= self.end:
            self.hit_count += 1
            return self.cache[start - self.start : stop - self.start]
        self.miss_count += 1
        if self.size <= self.blocksize:  # small: the whole file in the one request
            self.cache = self.fetcher(0, self.size)
            self.start, self.end = 0, len(self.cache)
            self.total_requested_bytes += len(self.cache)
            return self.cache[start:stop]
        head = b""
        if self.start <= start < self.end:  # the cached range holds the first part
            head = self.cache[start - self.start :]
            start = self.end
        want = stop - start
        # Reading ahead batches small reads; a large one is worth its own request.
        ahead = self.blocksize if sequential and want < self.blocksize // 4 else 0
        fetched = self.fetcher(start, min(self.size, stop + ahead))
        self.total_requested_bytes += len(fetched)
        self.cache, self.start, self.end = fetched, start, start + len(fetched)
        if not ahead and not head:
            return fetched  # exactly the read: no copy
        return head + fetched[:want]


register_cache(SequentialCache, clobber=True)
