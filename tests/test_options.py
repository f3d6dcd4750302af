"""Options: fsspec's own, OpenDAL's checked ones, retries, timeouts, instance caching.

What retries and timeouts do when a server fails is tested in test_faults.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import fsspec.core
import pytest
from helpers import s3_options

from opendalfs import OpendalFileSystem
from opendalfs.registry import SERVICE_CLASSES


@pytest.fixture
def memory_dir() -> Iterator[str]:
    """A fresh directory name in the process-wide memory store, removed afterwards."""
    name = f"opt-{uuid.uuid4().hex[:12]}"
    yield name
    fs = OpendalFileSystem("memory")
    if fs.exists(name):
        fs.rm(name, recursive=True)


# -- fsspec's own arguments --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "check"),
    [
        ({"use_listings_cache": False}, lambda fs: fs.dircache.use_listings_cache is False),
        ({"listings_expiry_time": 5}, lambda fs: fs.dircache.listings_expiry_time == 5),
        ({"max_paths": 10}, lambda fs: fs.dircache.max_paths == 10),
        ({"skip_instance_cache": True}, lambda fs: fs is not OpendalFileSystem("memory")),
        ({"batch_size": 4}, lambda fs: fs.batch_size == 4),
    ],
    ids=[
        "use_listings_cache",
        "listings_expiry_time",
        "max_paths",
        "skip_instance_cache",
        "batch_size",
    ],
)
def test_fsspec_arguments_are_not_passed_to_opendal(kwargs, check, memory_dir):
    """memory accepts only ``root``, so any of these reaching OpenDAL would be a ValueError."""
    fs = OpendalFileSystem("memory", **kwargs)
    assert check(fs)
    assert fs._options == {}
    assert repr(fs) == "OpendalFileSystem('memory')"
    fs.pipe({f"{memory_dir}/a": b"1", f"{memory_dir}/b": b"2"})
    assert fs.cat(f"{memory_dir}/*") == {f"{memory_dir}/a": b"1", f"{memory_dir}/b": b"2"}


def test_use_listings_cache_false_caches_nothing(memory_dir):
    fs = OpendalFileSystem("memory", use_listings_cache=False)
    fs.pipe_file(f"{memory_dir}/a", b"1")
    assert fs.ls(memory_dir, detail=False) == [f"{memory_dir}/a"]
    assert len(fs.dircache) == 0


def test_asynchronous_instance_from_asyncio_run(memory_dir):
    """``asynchronous=True`` gives the coroutine methods for use inside an event loop."""

    async def main() -> tuple[bytes, list[str]]:
        fs = OpendalFileSystem("memory", asynchronous=True)
        assert fs.asynchronous
        await fs._pipe_file(f"{memory_dir}/a", b"async bytes")
        data = await fs._cat_file(f"{memory_dir}/a")
        names = await fs._ls(memory_dir, detail=False)
        await fs._rm(memory_dir, recursive=True)
        return data, names

    data, names = asyncio.run(main())
    assert data == b"async bytes"
    assert names == [f"{memory_dir}/a"]
    assert not OpendalFileSystem("memory").exists(memory_dir)


# -- OpenDAL's options are checked ------------------------------------------------------------


def test_misspelt_option_names_it_and_lists_valid_ones():
    with pytest.raises(ValueError) as info:
        OpendalFileSystem("s3", regoin="us-east-1")
    message = str(info.value)
    assert "'regoin'" in message
    assert "region" in message.replace("'regoin'", "")
    assert "endpoint" in message


def test_unknown_option_on_memory():
    with pytest.raises(ValueError, match="'endpoint'") as info:
        OpendalFileSystem("memory", endpoint="x")
    assert "root" in str(info.value)


@pytest.mark.parametrize("value", [{"a": 1}, ["a"], (1, 2), {1, 2}, b"bytes", object()])
def test_wrong_value_type_is_type_error_naming_the_option(value):
    with pytest.raises(TypeError, match="'root'"):
        OpendalFileSystem("memory", root=value)


def test_bools_ints_and_paths_are_accepted(tmp_path):
    """Python values become OpenDAL's strings: True is 'true', a Path is its text."""
    fs = OpendalFileSystem("fs", root=tmp_path)
    fs.pipe_file("file", b"x")
    assert (tmp_path / "file").read_bytes() == b"x"
    s3 = OpendalFileSystem(
        "s3", **s3_options(1, enable_virtual_host_style=False, batch_max_operations=100)
    )
    assert s3._options["enable_virtual_host_style"] == "false"
    assert s3._options["disable_config_load"] == "true"
    assert s3._options["batch_max_operations"] == "100"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"retries": -1},
        {"retries": "3"},
        {"retries": 1.5},
        {"retries": True},
        {"timeout": 0},
        {"timeout": -1},
        {"timeout": float("nan")},
        {"timeout": True},
    ],
    ids=repr,
)
def test_bad_retries_and_timeout_are_value_errors(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        OpendalFileSystem("memory", **kwargs)


def test_unknown_scheme_lists_the_schemes():
    with pytest.raises(ValueError, match="'nope'") as info:
        OpendalFileSystem("nope")
    assert "memory" in str(info.value)
    assert "s3" in str(info.value)


def test_no_scheme_on_the_generic_class():
    with pytest.raises(TypeError):
        OpendalFileSystem()


def test_per_service_class_refuses_another_scheme():
    with pytest.raises(ValueError, match="'memory'"):
        SERVICE_CLASSES["memory"]("fs")


# -- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["memory", "s3"])
def test_retries_default_is_three(scheme):
    fs = OpendalFileSystem(scheme, **(s3_options(1) if scheme == "s3" else {}))
    assert fs.retries == 3


def test_retries_zero_works(memory_dir):
    fs = OpendalFileSystem("memory", retries=0)
    assert fs.retries == 0
    fs.pipe_file(f"{memory_dir}/a", b"x")
    assert fs.cat_file(f"{memory_dir}/a") == b"x"


# -- instance caching ---------------------------------------------------------------------------


def test_instances_are_cached():
    assert OpendalFileSystem("memory") is OpendalFileSystem("memory")


def test_skip_instance_cache_shares_the_store(memory_dir):
    """A new instance of the same configuration sees the same data: one store per process."""
    fs = OpendalFileSystem("memory")
    other = OpendalFileSystem("memory", skip_instance_cache=True)
    assert other is not fs
    fs.pipe_file(f"{memory_dir}/a", b"shared")
    assert other.cat_file(f"{memory_dir}/a") == b"shared"
    assert other._backend("").op is fs._backend("").op


# -- containers (s3) need no server --------------------------------------------------------


S3_NO_SERVER = {
    "endpoint": "http://127.0.0.1:1",
    "region": "us-east-1",
    "access_key_id": "a",
    "secret_access_key": "b",
    "disable_config_load": True,
}


@pytest.fixture
def s3() -> OpendalFileSystem:
    return OpendalFileSystem("s3", **S3_NO_SERVER)


def test_s3_names_start_with_the_bucket(s3):
    assert s3._strip_protocol("opendal+s3://bucket/dir/key") == "bucket/dir/key"
    assert s3.unstrip_protocol("bucket/dir/key") == "opendal+s3://bucket/dir/key"
    assert s3._locate("bucket/dir/key") == ("bucket/dir/key", "bucket", "dir/key")


@pytest.mark.parametrize("generic", [True, False], ids=["OpendalFileSystem", "per-service"])
@pytest.mark.parametrize(
    ("scheme", "options"), [("s3", S3_NO_SERVER), ("memory", {})], ids=["s3", "memory"]
)
def test_plain_scheme_prefix_is_stripped(scheme, options, generic):
    """``s3://bucket/key`` names the same object as ``opendal+s3://bucket/key``.

    The generic class and the per-service class must agree: the instance knows
    its scheme, so a ``<scheme>://`` prefix must not become part of the name.
    """
    cls = OpendalFileSystem if generic else SERVICE_CLASSES[scheme]
    fs = cls(scheme, **options)
    assert fs._strip_protocol(f"{scheme}://bucket/dir/key") == "bucket/dir/key"
    assert fs._locate(f"{scheme}://bucket/dir/key")[0] == "bucket/dir/key"


def test_url_to_fs_gives_the_s3_class_and_full_name():
    fs, path = fsspec.core.url_to_fs("opendal+s3://bucket/dir/key", **S3_NO_SERVER)
    assert type(fs) is SERVICE_CLASSES["s3"]
    assert path == "bucket/dir/key"
    assert fs.unstrip_protocol(path) == "opendal+s3://bucket/dir/key"


def test_one_operator_per_bucket(s3):
    assert s3._backend("b1") is s3._backend("b1")
    assert s3._backend("b1").op is not s3._backend("b2").op


def test_bucket_option_restricts_to_that_bucket():
    fs = OpendalFileSystem("s3", bucket="b1", **S3_NO_SERVER)
    with pytest.raises(ValueError, match="'b1'"):
        fs._locate("b2/x")
    assert fs._locate("b1/x") == ("b1/x", "b1", "x")


def test_listing_buckets_is_not_implemented(s3):
    """OpenDAL cannot list buckets; with one bucket given, it is the only entry."""
    with pytest.raises(NotImplementedError):
        s3.ls("")
    fs = OpendalFileSystem("s3", bucket="b1", **S3_NO_SERVER)
    assert fs.ls("", detail=False) == ["b1"]


@pytest.mark.parametrize("bucket", ["", "a/b", ".."])
def test_bucket_option_must_be_one_name(bucket):
    with pytest.raises(ValueError):
        OpendalFileSystem("s3", bucket=bucket, **S3_NO_SERVER)


def test_fs_root_as_path_object(tmp_path):
    """The root given as a pathlib.Path confines names like a string root does."""
    fs = OpendalFileSystem("fs", root=Path(tmp_path))
    fs.pipe_file("/abs/name", b"x")
    assert (tmp_path / "abs" / "name").read_bytes() == b"x"
    with pytest.raises(ValueError):
        fs.cat_file("../outside")


def test_operators_of_many_configurations_are_not_all_kept(tmp_path):
    """Each operator keeps a connection pool open: the process keeps a bounded number.

    Without a bound a run that made about 135 MariaDB configurations exhausted the
    server's connections ("connection request: timeout"); in-process stores stay.
    """
    from opendalfs import _operators

    memory = OpendalFileSystem("memory", timeout=12.5)
    memory.pipe_file("kept/f", b"still here")
    first = OpendalFileSystem("fs", root=str(tmp_path), timeout=1000, skip_instance_cache=True)
    first.pipe_file("a", b"1")
    for i in range(_operators.MAX_OPERATORS + 10):
        fs = OpendalFileSystem("fs", root=str(tmp_path), timeout=1 + i, skip_instance_cache=True)
        assert fs.cat_file("a") == b"1"
    kept = [key for key in _operators._live_backends if key[1] not in _operators.PROCESS_LOCAL]
    assert len(kept) <= _operators.MAX_OPERATORS
    assert memory.cat_file("kept/f") == b"still here"  # never dropped
    assert first.cat_file("a") == b"1"  # its operator was dropped, and is made again
