"""A deadline on every awaited OpenDAL call, kept by the asyncio loop that awaits it.

OpenDAL's TimeoutLayer ends a call inside Rust. Three times in long test runs a
call still never came back (FTP and MySQL, after OpenDAL's connection pool had
timed out): the loop sat idle, the Rust runtime was parked, and the layer's
timer never surfaced. Whatever the cause, a user must get an error rather than
a hang, so each call's future also carries a timer on the asyncio side, set a
little after the TimeoutLayer's. When it fires, the call is cancelled (which
drops the Rust future) and :class:`~opendalfs.errors.OperationTimeout` is raised.
"""

from __future__ import annotations

import asyncio
import errno
from typing import Any

from opendalfs.errors import OperationTimeout

#: Seconds the asyncio-side deadline waits beyond the TimeoutLayer's.
GRACE = 5.0


async def bounded(future: Any, limit: float, what: str) -> Any:
    """Await an OpenDAL future; cancel it and raise OperationTimeout after ``limit`` s."""
    fired = []

    def expire() -> None:
        fired.append(True)
        future.cancel()

    timer = asyncio.get_running_loop().call_later(limit, expire)
    try:
        return await future
    except asyncio.CancelledError:
        if not fired:
            raise
        raise OperationTimeout(
            errno.ETIMEDOUT, f"OpenDAL gave no answer within {limit:g} s", what
        ) from None
    finally:
        timer.cancel()
