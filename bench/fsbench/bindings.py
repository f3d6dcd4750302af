"""Which contender runs which workload on which backend, and with what.

A contender runs a workload when it fits the backend, the workload runs on that
backend, and there is a body for the contender's API: the fsspec body for sync
contenders, :mod:`fsbench.aio` for ``opendalfs-async``, :mod:`fsbench.raw` for
raw OpenDAL. A workload with its own ``subjects`` (zarr) runs with those
contenders only, each with the subject it names; one with ``only`` with those
contenders only, each with its own. boto3 runs the bodies of :mod:`fsbench.boto`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fsbench.aio import ASYNC_BODIES
from fsbench.backends import BackendInfo
from fsbench.boto import BOTO3_BODIES
from fsbench.contenders import CONTENDERS
from fsbench.raw import RAW_BODIES
from fsbench.workloads import WORKLOADS


@dataclass(frozen=True)
class Binding:
    """How one contender runs one workload: the subject it makes and the timed body."""

    make: Callable[[BackendInfo], Any]
    body: Callable[..., int]


_BODIES = {"raw": RAW_BODIES, "async": ASYNC_BODIES, "boto3": BOTO3_BODIES}


def binding(workload: str, contender: str, backend: str) -> Binding | None:
    """The binding, or None where the contender does not run the workload there."""
    w, c = WORKLOADS[workload], CONTENDERS[contender]
    if backend not in c.backends or backend not in w.backends:
        return None
    if (w.only is not None and contender not in w.only) or contender in w.without:
        return None
    if w.subjects is not None:
        make = w.subjects.get(contender)
        return None if make is None else Binding(make, w.run)
    body = _BODIES[c.api].get(workload) if c.api in _BODIES else w.run
    return None if body is None else Binding(c.make, body)


def runs(workload: str, contender: str, backend: str) -> bool:
    return binding(workload, contender, backend) is not None
