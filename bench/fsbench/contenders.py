"""Who is measured: raw OpenDAL and the fsspec filesystems, each made for one backend.

Every fsspec contender is made the way a user would make it, with its defaults
and ``skip_instance_cache=True`` (fsspec's instance cache), anew for every
measurement, so nothing cached by an earlier measurement can answer.
pyarrow's filesystems are not fsspec filesystems: the workloads reach them
through fsspec's ``ArrowFSWrapper``, and pandas and dask get the native
``pyarrow.fs`` object, as their users would pass it.

``opendalfs-async`` is opendalfs made with ``asynchronous=True`` and driven by
coroutines (``await fs._cat_file(...)``) on an event loop of its own, made
before the timer: the async API next to the sync one. The zarr workloads give
their contenders a zarr store instead (:class:`ZarrSubject`): zarr's
``FsspecStore`` over an asynchronous opendalfs or s3fs, and zarr's own
``ObjectStore`` over obstore.

The big-object rows (``bandwidth`` backends) add two yardsticks: raw OpenDAL
reading with ``concurrent`` ranged requests of ``chunk`` bytes and writing parts
as many at once (``raw-concurrent``), and boto3's ``TransferManager``
(``download_file``, ``upload_file`` … with its default ``TransferConfig``: 10
threads, 8 MiB parts), the S3 client that moves big objects fastest.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from fsbench.backends import (
    BANDWIDTH,
    BANDWIDTH_AZBLOB,
    BANDWIDTH_GCS,
    LATENCY,
    WIRE,
    BackendInfo,
    raw_operator,
)
from fsbench.data import WARMUP_DIR, WARMUP_KEY, WARMUP_MISSING, ZARR_WARMUP
from fsbench.sizes import MiB

#: ``raw-concurrent``'s reads: this many ranged requests at once, of ``RAW_CHUNK`` bytes;
#: its writes: parts of ``RAW_CHUNK`` bytes, as many at once.
RAW_CONCURRENT = 8
RAW_CHUNK = 8 * MiB


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

    #: A URL and ``storage_options`` for a key, for a contender that dask reaches by URL
    #: (as its users reach it) rather than by ``filesystem=``.
    url: Callable[[str], tuple[str, dict[str, Any]]] | None = None

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
    #: Read options of the big-object rows (``raw-concurrent``: parallel ranges).
    read_options: dict[str, int] = field(default_factory=dict)

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


@dataclass
class AsyncSubject:
    """opendalfs made with ``asynchronous=True``, and the event loop that drives it.

    The loop is made with the subject, before the timer, and serves the warm-up
    and the timed coroutine alike: one loop per measurement.
    """

    fs: Any
    root: str
    loop: asyncio.AbstractEventLoop
    token: str = ""
    local_dir: str = ""
    scratch: str = ""

    def path(self, key: str) -> str:
        return f"{self.root}/{key}" if self.root else key

    def out(self, key: str) -> str:
        return self.path(f"out/{self.token}/{key}")

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def seed(self, items: dict[str, bytes]) -> None:
        self.run(self.fs._pipe({self.path(k): v for k, v in items.items()}))
        self.fs.invalidate_cache()

    def warm_up(self) -> None:
        async def go() -> None:
            await self.fs._cat_file(self.path(WARMUP_KEY))
            await self.fs._info(self.path(WARMUP_KEY))
            await self.fs._ls(self.path(WARMUP_DIR), detail=True)
            await self.fs._exists(self.path(WARMUP_MISSING))

        self.run(go())
        self.fs.invalidate_cache()


@dataclass
class Boto3Subject:
    """boto3's S3 client and the ``TransferConfig`` its transfers run with (defaults)."""

    client: Any
    bucket: str
    prefix: str
    config: Any
    token: str = ""
    local_dir: str = ""
    scratch: str = ""

    def key(self, key: str) -> str:
        return self.prefix + key

    def out(self, key: str) -> str:
        return self.key(f"out/{self.token}/{key}")

    def warm_up(self) -> None:
        from botocore.exceptions import ClientError

        self.client.get_object(Bucket=self.bucket, Key=self.key(WARMUP_KEY))["Body"].read()
        self.client.head_object(Bucket=self.bucket, Key=self.key(WARMUP_KEY))
        self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.key(WARMUP_DIR) + "/")
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(WARMUP_MISSING))
        except ClientError:
            pass


@dataclass
class ZarrSubject:
    """A zarr store over the benchmark's root, for the zarr workloads.

    Arrays are named by their key below the root (``zarr/read``,
    ``out/<token>/zarr``), so one store, and one client, serves the warm-up and
    the timed work.
    """

    store: Any
    token: str = ""
    local_dir: str = ""
    scratch: str = ""

    def out(self, key: str) -> str:
        return f"out/{self.token}/{key}"

    def warm_up(self) -> None:
        """Read the small warm-up array: clients, connections, zarr's loop and codecs."""
        import zarr

        zarr.open_array(self.store, path=ZARR_WARMUP, mode="r", zarr_format=3)[...]


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


def make_raw_concurrent(info: BackendInfo) -> RawSubject:
    """Raw OpenDAL reading ``RAW_CONCURRENT`` ranges of ``RAW_CHUNK`` at once, and
    writing parts of that size as many at once."""
    subject = make_raw(info)
    subject.read_options = {"concurrent": RAW_CONCURRENT, "chunk": RAW_CHUNK}
    if subject.write_options:
        subject.write_options = {"chunk": RAW_CHUNK, "concurrent": RAW_CONCURRENT}
    return subject


def make_boto3(info: BackendInfo) -> Boto3Subject:
    import boto3
    from boto3.s3.transfer import TransferConfig

    client = boto3.client(
        "s3",
        endpoint_url=info.s3["endpoint"],
        region_name=info.s3["region"],
        aws_access_key_id=info.s3["access_key_id"],
        aws_secret_access_key=info.s3["secret_access_key"],
    )
    return Boto3Subject(client, info.s3["bucket"], f"{info.root}/", TransferConfig())


def _s3_root(info: BackendInfo) -> str:
    return f"{info.s3['bucket']}/{info.root}"


def _opendalfs(info: BackendInfo, asynchronous: bool = False) -> tuple[Any, str]:
    """opendalfs on ``info`` and the path of the benchmark's root in it."""
    from opendalfs import OpendalFileSystem

    common: dict[str, Any] = {"skip_instance_cache": True, "asynchronous": asynchronous}
    if info.name == "memory":
        return OpendalFileSystem("memory", **common), info.root
    if info.name == "fs":
        return OpendalFileSystem("fs", root=info.root, **common), ""
    if info.service:  # Azure Blob, GCS: the container is the path's first segment
        options = {k: v for k, v in info.options.items() if k not in ("container", "bucket")}
        return OpendalFileSystem(info.service, **common, **options), f"{info.container}/{info.root}"
    s3 = {k: v for k, v in info.s3.items() if k != "bucket"}
    return OpendalFileSystem("s3", disable_config_load=True, **common, **s3), _s3_root(info)


def make_opendalfs(info: BackendInfo) -> Subject:
    fs, root = _opendalfs(info)
    subject = Subject(fs, root, fs)
    if info.name == "fs":
        # dask reaches it by URL, as users do; the instance comes from fsspec's cache.
        subject.url = lambda key: (f"opendal+fs://{key}", {"root": info.root})
    return subject


def make_opendalfs_async(info: BackendInfo) -> AsyncSubject:
    """Made inside its loop, as async code makes it."""
    loop = asyncio.new_event_loop()

    async def make() -> tuple[Any, str]:
        return _opendalfs(info, asynchronous=True)

    fs, root = loop.run_until_complete(make())
    return AsyncSubject(fs, root, loop)


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
    return Subject(fs, info.root, fs, url=lambda key: (f"file://{info.root}/{key}", {}))


# -- zarr stores -----------------------------------------------------------------------


def zarr_opendalfs(info: BackendInfo) -> ZarrSubject:
    """zarr's ``FsspecStore`` over opendalfs, made as ``FsspecStore.from_url`` makes it.

    ``from_url`` asks fsspec for an ``asynchronous=True`` instance; this one
    skips fsspec's instance cache, as every contender here does.
    """
    from zarr.storage import FsspecStore

    fs, root = _opendalfs(info, asynchronous=True)
    return ZarrSubject(FsspecStore(fs, path=root))


def zarr_s3fs(info: BackendInfo) -> ZarrSubject:
    import s3fs
    from zarr.storage import FsspecStore

    fs = s3fs.S3FileSystem(
        key=info.s3["access_key_id"],
        secret=info.s3["secret_access_key"],
        endpoint_url=info.s3["endpoint"],
        client_kwargs={"region_name": info.s3["region"]},
        skip_instance_cache=True,
        asynchronous=True,
    )
    return ZarrSubject(FsspecStore(fs, path=_s3_root(info)))


def zarr_obstore(info: BackendInfo) -> ZarrSubject:
    """zarr's ``ObjectStore`` over obstore's ``LocalStore`` (fs) or ``S3Store`` (s3)."""
    from obstore.store import LocalStore, S3Store
    from zarr.storage import ObjectStore

    if info.name == "fs":
        return ZarrSubject(ObjectStore(LocalStore(prefix=info.root)))
    store = S3Store(
        info.s3["bucket"],
        prefix=info.root,
        endpoint=info.s3["endpoint"],
        region=info.s3["region"],
        access_key_id=info.s3["access_key_id"],
        secret_access_key=info.s3["secret_access_key"],
        client_options={"allow_http": True},
    )
    return ZarrSubject(ObjectStore(store))


#: The zarr workloads' contenders and how each makes its store.
ZARR_STORES: dict[str, Callable[[BackendInfo], ZarrSubject]] = {
    "opendalfs": zarr_opendalfs,
    "s3fs": zarr_s3fs,
    "obstore": zarr_obstore,
}


@dataclass(frozen=True)
class Contender:
    """A contender, the backends it fits, the module it needs, and the API it is driven by."""

    name: str
    backends: tuple[str, ...]
    module: str
    make: Callable[[BackendInfo], Any]
    #: "sync": the fsspec bodies of :mod:`fsbench.workloads`; "async": those of
    #: :mod:`fsbench.aio`; "raw": those of :mod:`fsbench.raw`; "boto3": those of
    #: :mod:`fsbench.boto`.
    api: str = "sync"

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None


RAW = "raw-opendal"
ASYNC = "opendalfs-async"
RAW_PARALLEL = "raw-concurrent"
BOTO3 = "boto3"
#: Backends every OpenDAL-based contender runs on.
OPENDAL_BACKENDS = ("memory", "fs", "s3", LATENCY, *WIRE)
#: S3 backends with a network between client and server.
S3_REMOTE = ("s3", LATENCY, BANDWIDTH)

#: In table order: the floor, the subject, then the others.
CONTENDERS: dict[str, Contender] = {
    c.name: c
    for c in (
        Contender(RAW, OPENDAL_BACKENDS, "opendal", make_raw, api="raw"),
        Contender(RAW_PARALLEL, WIRE, "opendal", make_raw_concurrent, api="raw"),
        Contender("opendalfs", OPENDAL_BACKENDS, "opendalfs", make_opendalfs),
        Contender(ASYNC, OPENDAL_BACKENDS, "opendalfs", make_opendalfs_async, api="async"),
        Contender("s3fs", S3_REMOTE, "s3fs", make_s3fs),
        Contender("fsspec-memory", ("memory",), "fsspec", make_fsspec_memory),
        Contender("fsspec-local", ("fs",), "fsspec", make_fsspec_local),
        Contender("obstore", ("memory", "fs", *S3_REMOTE), "obstore", make_obstore),
        Contender("pyarrow", ("fs", *S3_REMOTE), "pyarrow", make_pyarrow),
        Contender(BOTO3, (BANDWIDTH,), "boto3", make_boto3, api="boto3"),
    )
}

#: The second yardstick per backend: s3fs on S3, fsspec's own filesystem elsewhere.
REFERENCE = {
    "s3": "s3fs",
    LATENCY: "s3fs",
    BANDWIDTH: "s3fs",
    BANDWIDTH_AZBLOB: RAW_PARALLEL,
    BANDWIDTH_GCS: RAW_PARALLEL,
    "memory": "fsspec-memory",
    "fs": "fsspec-local",
}


def fits(contender: str, backend: str) -> bool:
    return backend in CONTENDERS[contender].backends
