"""Who is measured: raw OpenDAL and the fsspec filesystems, each made for one backend.

Every fsspec contender is made the way a user would make it, with its defaults
and ``skip_instance_cache=True`` (fsspec's instance cache), anew for every
measurement, so nothing cached by an earlier measurement can answer.
pyarrow's filesystems are not fsspec filesystems: the workloads reach them
through fsspec's ``ArrowFSWrapper``, and pandas and dask get the native
``pyarrow.fs`` object, as their users would pass it.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from fsbench.backends import BackendInfo, raw_operator
from fsbench.data import WARMUP_DIR, WARMUP_KEY, WARMUP_MISSING


@dataclass
class Subject:
    """One fsspec contender ready to run a workload."""

    fs: Any
    #: Prefix that turns a benchmark key into this filesystem's path ("" for none).
    root: str
    #: What pandas and dask get as ``filesystem=``.
    parquet_fs: Any
    #: This measurement's own output directory, below ``out/``.
    token: str = ""
    #: Local files ``put`` uploads, and an empty local directory ``get`` fills.
    local_dir: str = ""
    scratch: str = ""

    def path(self, key: str) -> str:
        return f"{self.root}/{key}" if self.root else key

    def out(self, key: str) -> str:
        return self.path(f"out/{self.token}/{key}")

    def seed(self, items: dict[str, bytes]) -> None:
        """Fill an in-process store through the contender itself (memory backend)."""
        self.fs.pipe({self.path(k): v for k, v in items.items()})
        self.fs.invalidate_cache()

    def warm_up(self) -> None:
        """Make clients, connections and lazily loaded code; leave no listing cached."""
        self.fs.cat_file(self.path(WARMUP_KEY))
        self.fs.info(self.path(WARMUP_KEY))
        self.fs.ls(self.path(WARMUP_DIR), detail=True)
        self.fs.exists(self.path(WARMUP_MISSING))
        self.fs.invalidate_cache()


@dataclass
class RawSubject:
    """Raw OpenDAL: the blocking ``Operator`` and an ``AsyncOperator`` on one store.

    The async operator is made from the blocking one, so that both reach the same
    in-process store on ``memory``; ``run`` drives it on an event loop made
    before the timing starts.
    """

    op: Any
    prefix: str
    loop: asyncio.AbstractEventLoop
    aop: Any = None
    token: str = ""
    local_dir: str = ""
    scratch: str = ""
    #: Write options the service takes (multipart parts), as opendalfs passes them.
    write_options: dict[str, int] = field(default_factory=dict)

    def key(self, key: str) -> str:
        return self.prefix + key

    def out(self, key: str) -> str:
        return self.key(f"out/{self.token}/{key}")

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def seed(self, items: dict[str, bytes]) -> None:
        async def put_all() -> None:
            await asyncio.gather(*(self.aop.write(self.key(k), v) for k, v in items.items()))

        self.run(put_all())

    def warm_up(self) -> None:
        async def read() -> bytes:
            return await self.aop.read(self.key(WARMUP_KEY))

        self.op.read(self.key(WARMUP_KEY))
        self.op.stat(self.key(WARMUP_KEY))
        list(self.op.list(self.key(WARMUP_DIR) + "/"))
        self.op.exists(self.key(WARMUP_MISSING))
        self.run(read())


def make_raw(info: BackendInfo) -> RawSubject:
    from opendalfs.core import DEFAULT_WRITE_CHUNK, DEFAULT_WRITE_CONCURRENT

    op, prefix = raw_operator(info)
    loop = asyncio.new_event_loop()

    async def to_async() -> Any:
        return op.to_async_operator()

    subject = RawSubject(op, prefix, loop, aop=loop.run_until_complete(to_async()))
    if op.capability().write_can_multi:
        subject.write_options = {
            "chunk": DEFAULT_WRITE_CHUNK,
            "concurrent": DEFAULT_WRITE_CONCURRENT,
        }
    return subject


def _s3_root(info: BackendInfo) -> str:
    return f"{info.s3['bucket']}/{info.root}"


def make_opendalfs(info: BackendInfo) -> Subject:
    from opendalfs import OpendalFileSystem

    if info.name == "memory":
        fs = OpendalFileSystem("memory", skip_instance_cache=True)
        return Subject(fs, info.root, fs)
    if info.name == "fs":
        fs = OpendalFileSystem("fs", root=info.root, skip_instance_cache=True)
        return Subject(fs, "", fs)
    s3 = {k: v for k, v in info.s3.items() if k != "bucket"}
    fs = OpendalFileSystem("s3", disable_config_load=True, skip_instance_cache=True, **s3)
    return Subject(fs, _s3_root(info), fs)


def make_s3fs(info: BackendInfo) -> Subject:
    import s3fs

    fs = s3fs.S3FileSystem(
        key=info.s3["access_key_id"],
        secret=info.s3["secret_access_key"],
        endpoint_url=info.s3["endpoint"],
        client_kwargs={"region_name": info.s3["region"]},
        skip_instance_cache=True,
    )
    return Subject(fs, _s3_root(info), fs)


def make_obstore(info: BackendInfo) -> Subject:
    from obstore.fsspec import FsspecStore

    if info.name == "memory":
        fs = FsspecStore("memory", skip_instance_cache=True)
        return Subject(fs, info.root, fs)
    if info.name == "fs":
        fs = FsspecStore("file", skip_instance_cache=True)
        return Subject(fs, info.root, fs)
    fs = FsspecStore(
        "s3",
        endpoint=info.s3["endpoint"],
        region=info.s3["region"],
        access_key_id=info.s3["access_key_id"],
        secret_access_key=info.s3["secret_access_key"],
        client_options={"allow_http": True},
        skip_instance_cache=True,
    )
    return Subject(fs, _s3_root(info), fs)


def make_pyarrow(info: BackendInfo) -> Subject:
    from fsspec.implementations.arrow import ArrowFSWrapper
    from pyarrow import fs as pafs

    if info.name == "fs":
        native = pafs.LocalFileSystem()
        return Subject(ArrowFSWrapper(native), info.root, native)
    scheme, _, host = info.s3["endpoint"].partition("://")
    native = pafs.S3FileSystem(
        access_key=info.s3["access_key_id"],
        secret_key=info.s3["secret_access_key"],
        region=info.s3["region"],
        endpoint_override=host,
        scheme=scheme,
    )
    return Subject(ArrowFSWrapper(native), _s3_root(info), native)


def make_fsspec_memory(info: BackendInfo) -> Subject:
    from fsspec.implementations.memory import MemoryFileSystem

    fs = MemoryFileSystem(skip_instance_cache=True)
    return Subject(fs, f"/{info.root}", fs)


def make_fsspec_local(info: BackendInfo) -> Subject:
    from fsspec.implementations.local import LocalFileSystem

    fs = LocalFileSystem(skip_instance_cache=True)
    return Subject(fs, info.root, fs)


@dataclass(frozen=True)
class Contender:
    """A contender, the backends it fits, and the module it needs."""

    name: str
    backends: tuple[str, ...]
    module: str
    make: Callable[[BackendInfo], Subject | RawSubject]

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None


RAW = "raw-opendal"

#: In table order: the floor, the subject, then the others.
CONTENDERS: dict[str, Contender] = {
    c.name: c
    for c in (
        Contender(RAW, ("memory", "fs", "s3"), "opendal", make_raw),
        Contender("opendalfs", ("memory", "fs", "s3"), "opendalfs", make_opendalfs),
        Contender("s3fs", ("s3",), "s3fs", make_s3fs),
        Contender("fsspec-memory", ("memory",), "fsspec", make_fsspec_memory),
        Contender("fsspec-local", ("fs",), "fsspec", make_fsspec_local),
        Contender("obstore", ("memory", "fs", "s3"), "obstore", make_obstore),
        Contender("pyarrow", ("fs", "s3"), "pyarrow", make_pyarrow),
    )
}

#: The second yardstick per backend: s3fs on S3, fsspec's own filesystem elsewhere.
REFERENCE = {"s3": "s3fs", "memory": "fsspec-memory", "fs": "fsspec-local"}


def fits(contender: str, backend: str) -> bool:
    return backend in CONTENDERS[contender].backends
