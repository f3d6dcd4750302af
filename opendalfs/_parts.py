"""Big transfers as plans: a known span cut into parts, a few of them in flight at once.

Over a network one connection carries tens of MB/s, however fast the machine; a
big object goes faster as parallel ranged GETs and parallel multipart parts (AWS
suggests ranges of 8-16 MB; boto3 moves 8 MiB parts, 10 at a time). The small
object never pays for this: it is one request, as before.

**Reads.** A span of more than ``read_chunk`` bytes is read in parts of that size,
``read_concurrent`` at once, every part held to one ETag with ``if_match``: an
object replaced during the read fails it with ``OSError(ESTALE)``, never mixes
versions, and a part that comes back short fails it too. Where the bytes end up
in memory (``cat_file``, an open file's read) this is one OpenDAL ``read`` with
``concurrent`` and ``chunk``: OpenDAL cuts the span, runs the parts, and its
RetryLayer retries each part's request alone. ``get_file`` uses
:func:`download` instead, which writes each part at its offset in the local file
as it comes, so no more than about ``read_chunk * read_concurrent`` bytes are
held at once, whatever the object's size.

**The first request, when the size is not known.** ``cat_file`` and ``get_file``
are usually called knowing nothing of the object. A stat first would cost every
small object a second round trip, so the first request is a plain GET, read for at
most ``read_chunk`` + 1 bytes: if the object ended within them, that response was
the whole object (one response is one version) and nothing else is sent. Only a
longer object is stated, for its size and ETag, and read in parts.

Those first bytes are then dropped, not kept as the first part, because nothing
can tie them to the ETag the stat reports. opendal 0.47's ``read`` and readers
return bytes only, not the ETag or ``Content-Range`` that came with them; a
conditional request made later tells what the object is *now*, not what it was
when the first GET was answered; and Last-Modified cannot order the two (S3 stamps
a multipart object with the time its upload *began*, which may precede the first
GET although the object replaced it after). Keeping them could join the first
part of one version to the rest of another. So an object of unknown size larger
than ``read_chunk`` costs one part's worth of bytes more, read alone before the
others (128 MiB at 20 MB/s a connection: ``cat_file`` 2.4-2.5 s, where an open
file, whose first request reads 1 MiB, took 2.1-2.2 s); a small object is one GET,
a big one that GET, a HEAD and its parts. Where the size is known (an open file, a
listing cache that knows the file, a range with an end) the first GET is skipped,
and the HEAD too where the ETag is known. A binding that returned the first GET's
ETag would let those bytes stay: they would be the first part, checked like the
others.

**Many big files at once.** fsspec's ``get`` and ``put`` of a tree run up to
``batch_size`` files at once (128 by default): with every big file's parts in
flight too, that would be a thousand connections (past a common limit of 1024
open files) and gigabytes held. So the parts of all downloads of one filesystem
share ``read_concurrent`` :class:`Slots`, and the uploads of big local files and
big ``pipe_file`` values share ``write_concurrent``: each takes one slot per part it
will have in flight. Small files (one request each) take none, and still go
``batch_size`` at once.

**Writes.** A write of more than ``write_chunk`` bytes goes up as a multipart
upload of ``write_concurrent`` parts at once where the service writes in parts
(OpenDAL's ``chunk``/``concurrent``); its RetryLayer retries each part alone.
opendal 0.47's Python writer has no ``abort``, so an upload dropped part way
leaves its parts on the service until its lifecycle rule removes them; nothing of
it becomes visible. Dropping the writer is what stops its parts, so code that
writes deletes its reference to a writer before an exception leaves it: else the
exception's traceback keeps the writer, and its connections, alive as long as the
exception lives (in a notebook, until the next error).
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO, Any

from fsspec.callbacks import Callback

from opendalfs._capabilities import Capabilities
from opendalfs._sync import blocking_mode


def read_options(chunk: int, concurrent: int) -> dict[str, int]:
    """OpenDAL's read options that cut a span into parts read at once."""
    return {"chunk": chunk, "concurrent": concurrent}


def write_options(
    caps: Capabilities, chunk: int, concurrent: int, size: int | None = None
) -> dict[str, int]:
    """OpenDAL's write options for a multipart upload, where the service writes in parts.

    Given the ``size`` of a one-shot write, only one of more than a part over a
    network: on fs a write of bytes in hand is one call, best left as it is.
    """
    if not caps.write_multi or (size is not None and (size <= chunk or not caps.remote)):
        return {}
    return {"chunk": chunk, "concurrent": concurrent}


def parts(start: int, stop: int, chunk: int) -> list[tuple[int, int]]:
    """``(offset, size)`` of each part of the span ``start:stop``, ``chunk`` bytes long
    but the last."""
    return [(offset, min(chunk, stop - offset)) for offset in range(start, stop, chunk)]


class Slots:
    """A pool of ``size`` parts in flight, shared by the transfers of one filesystem.

    asyncio's primitives belong to the loop that first waits on them, and one
    filesystem may run on several (fsspec's IO loop, a caller's), so there is a
    pool per loop.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._pools: weakref.WeakKeyDictionary[Any, tuple[asyncio.Semaphore, asyncio.Lock]]
        self._pools = weakref.WeakKeyDictionary()

    @asynccontextmanager
    async def take(self, wanted: int) -> AsyncIterator[int]:
        """Hold ``wanted`` slots (at most the pool's size) while the block runs;
        yields how many. Slots are taken one holder at a time, so two holders
        waiting for the last slots cannot each keep the other waiting."""
        if wanted < 1 or blocking_mode():
            # Driven in the caller's thread (the blocking driver), a call cannot wait for
            # slots; it is one call of that thread, and many-path work runs on a loop.
            yield max(0, min(wanted, self.size))
            return
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = (asyncio.Semaphore(self.size), asyncio.Lock())
        slots, taking = pool
        count = min(wanted, self.size)
        taken = 0
        try:
            async with taking:
                while taken < count:
                    await slots.acquire()
                    taken += 1
            yield count
        finally:
            for _ in range(taken):
                slots.release()


async def download(
    backend: Any,
    name: str,
    size: int,
    local: IO[bytes],
    *,
    chunk: int,
    slots: Slots,
    options: dict[str, Any],
    callback: Callback,
) -> None:
    """Write bytes ``0:size`` of ``name`` into the local file ``local`` at their offsets,
    each part holding one of ``slots`` while it is read and written; the first failure
    cancels the rest.

    ``options`` carry the ``if_match`` that holds every part to one version.
    """
    write_at = _writer_at(local)

    async def part(offset: int, length: int) -> None:
        async with slots.take(1):  # the read and its write: what the pool bounds
            data = await backend.read(name, offset, length, **options)
            if len(data) != length:
                raise OSError(errno.EIO, f"part at {offset} came back short", name)
            await asyncio.to_thread(write_at, data, offset)
        callback.relative_update(length)

    tasks = [asyncio.ensure_future(part(*p)) for p in parts(0, size, chunk)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _writer_at(local: IO[bytes]) -> Any:
    """A function writing bytes at an offset of ``local``, safe from many threads."""
    if hasattr(os, "pwrite"):
        fd = local.fileno()

        def pwrite(data: bytes, offset: int) -> None:
            view = memoryview(data)
            while view:  # a write may take fewer bytes than it was given
                done = os.pwrite(fd, view, offset)
                view, offset = view[done:], offset + done

        return pwrite
    lock = threading.Lock()

    def write_at(data: bytes, offset: int) -> None:
        with lock:
            local.seek(offset)
            local.write(data)

    return write_at
