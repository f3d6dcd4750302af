"""Object versions as s3fs users know them, on a moto bucket with versioning on.

Every service is checked for a clear refusal of versions where it has none; the
version tests themselves run on S3, the one service under test that keeps versions.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import servers as server_lib

from opendalfs import OpendalFileSystem


def test_version_aware_needs_a_service_with_versions(service: Any, root: str) -> None:
    if service.versions:
        fs = service.filesystem(version_aware=True, skip_instance_cache=True)
        assert fs.version_aware
        fs.pipe_file(f"{root}/f", b"x")
        assert fs.cat_file(f"{root}/f") == b"x"
        return
    with pytest.raises(NotImplementedError, match=f"{service.scheme} has no object versions"):
        service.filesystem(version_aware=True, skip_instance_cache=True).info(root)


def test_versions_need_a_version_aware_filesystem(fs: OpendalFileSystem, root: str) -> None:
    path = f"{root}/f"
    fs.pipe_file(path, b"data")
    needs = "version_aware=True"
    with pytest.raises(ValueError, match=needs):
        fs.cat_file(path, version_id="v1")
    with pytest.raises(ValueError, match=needs):
        fs.info(path, version_id="v1")
    with pytest.raises(ValueError, match=needs):
        fs.open(path, version_id="v1")
    with pytest.raises(ValueError, match=needs):
        fs.ls(root, versions=True)
    with pytest.raises(ValueError, match=needs):
        fs.object_version_info(path)
    with pytest.raises(ValueError, match="version_aware"):
        OpendalFileSystem("memory", version_aware="yes")


# -- on a versioned S3 bucket ------------------------------------------------


@pytest.fixture(scope="module")
def s3(servers: Any, pytestconfig: pytest.Config) -> tuple[Any, str]:
    """The S3 server and its versioned bucket."""
    chosen = pytestconfig.getoption("--service")
    if chosen and "s3" not in chosen:
        pytest.skip("object versions are tested on s3, and --service leaves it out")
    running = servers("s3")
    return running, server_lib.versioned_s3_bucket(running)


@pytest.fixture(params=["blocking", "loop"])
def vfs(s3: tuple[Any, str], request: pytest.FixtureRequest) -> OpendalFileSystem:
    running, _ = s3
    return OpendalFileSystem(
        "s3",
        version_aware=True,
        sync_driver=request.param,
        skip_instance_cache=True,
        **running.options,
    )


@pytest.fixture
def vroot(vfs: OpendalFileSystem, s3: tuple[Any, str]) -> Iterator[str]:
    name = f"{s3[1]}/t-{uuid.uuid4().hex[:12]}"
    yield name
    # Not ``if exists``: moto lists a prefix holding only delete markers as a directory.
    with contextlib.suppress(FileNotFoundError):
        vfs.rm(name, recursive=True)


def _two_versions(fs: OpendalFileSystem, path: str) -> tuple[str, str]:
    """Write ``path`` twice; the version IDs of the first and the second write."""
    fs.pipe_file(path, b"first")
    first = fs.info(path)["version"]
    fs.pipe_file(path, b"second!")
    second = fs.info(path)["version"]
    assert first != second
    return first, second


def test_info_shows_the_version(vfs: OpendalFileSystem, vroot: str) -> None:
    path = f"{vroot}/f"
    first, second = _two_versions(vfs, path)
    info = vfs.info(path)
    assert info["VersionId"] == info["version"] == second
    assert info["size"] == 7
    old = vfs.info(path, version_id=first)
    assert (old["name"], old["size"], old["version"], old["VersionId"]) == (path, 5, first, first)
    assert vfs.info(f"{path}?versionId={first}") == old


def test_cat_file_reads_a_past_version(vfs: OpendalFileSystem, vroot: str) -> None:
    path = f"{vroot}/f"
    first, second = _two_versions(vfs, path)
    assert vfs.cat_file(path) == b"second!"
    assert vfs.cat_file(path, version_id=first) == b"first"
    assert vfs.cat_file(path, version_id=second) == b"second!"
    assert vfs.cat_file(f"{path}?versionId={first}") == b"first"
    assert vfs.cat_file(path, start=1, end=3, version_id=first) == b"ir"
    assert vfs.cat_file(path, start=-3, version_id=first) == b"rst"  # its own size
    assert vfs.cat_file(path, start=3, end=100, version_id=first) == b"st"
    assert vfs.cat_file(path, start=9, version_id=first) == b""
    assert vfs.cat_ranges([path, path], [0, 2], [2, 4], version_id=first) == [b"fi", b"rs"]
    assert vfs.cat_ranges([f"{path}?versionId={first}", path], [0, 0], [2, 2]) == [b"fi", b"se"]
    assert vfs.cat([f"{path}?versionId={first}", path]) == {
        f"{path}?versionId={first}": b"first",
        path: b"second!",
    }


def test_open_reads_a_past_version(vfs: OpendalFileSystem, vroot: str) -> None:
    path = f"{vroot}/f"
    first, _ = _two_versions(vfs, path)
    with vfs.open(path, version_id=first, block_size=2) as f:
        assert f.size == 5
        assert f.read(2) == b"fi"
        f.seek(3)
        assert f.read() == b"st"
    with vfs.open(f"{path}?versionId={first}") as f:
        assert f.read() == b"first"
    with vfs.open(path) as f:
        assert f.read() == b"second!"

    async def read_async() -> bytes:
        afs = OpendalFileSystem("s3", **{**vfs.storage_options, "asynchronous": True})
        f = await afs.open_async(path, version_id=first)
        try:
            return await f.read()
        finally:
            await f.close()

    assert asyncio.run(read_async()) == b"first"


def test_versions_outlive_a_delete(vfs: OpendalFileSystem, vroot: str) -> None:
    path = f"{vroot}/f"
    first, second = _two_versions(vfs, path)
    vfs.rm(path)
    assert not vfs.exists(path)
    with pytest.raises(FileNotFoundError):
        vfs.cat_file(path)
    assert vfs.cat_file(path, version_id=first) == b"first"
    versions = vfs.object_version_info(path)
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(second, False), (first, False)]


def test_listing_versions(vfs: OpendalFileSystem, vroot: str) -> None:
    path = f"{vroot}/f"
    first, second = _two_versions(vfs, path)
    vfs.pipe_file(f"{vroot}/sub/g", b"g")
    versions = vfs.object_version_info(path)
    assert [(v["VersionId"], v["size"], v["IsLatest"]) for v in versions] == [
        (second, 7, True),
        (first, 5, False),
    ]
    assert all(v["name"] == path for v in versions)
    listed = vfs.ls(vroot, versions=True)
    names = sorted(i["name"] for i in listed)
    assert names == sorted(
        [f"{path}?versionId={first}", f"{path}?versionId={second}", f"{vroot}/sub"]
    )
    for info in listed:
        if info["type"] == "file":
            assert len(vfs.cat_file(info["name"])) == info["size"]
    assert sorted(vfs.ls(path, versions=True, detail=False)) == sorted(
        [f"{path}?versionId={first}", f"{path}?versionId={second}"]
    )
    # The plain listing, and what it caches, still show each file once.
    assert vfs.ls(vroot, detail=False) == [path, f"{vroot}/sub"]
    assert vfs.ls(vroot, detail=False) == [path, f"{vroot}/sub"]
    assert vfs.ls(f"{vroot}/sub", versions=True, detail=False)[0].startswith(f"{vroot}/sub/g?")


def test_bad_versions_are_refused(vfs: OpendalFileSystem, vroot: str) -> None:
    path = f"{vroot}/f"
    first, _ = _two_versions(vfs, path)
    missing = "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"  # well-formed, never issued
    with pytest.raises(FileNotFoundError, match=path):
        vfs.cat_file(path, version_id=missing)
    with pytest.raises(FileNotFoundError, match=path):
        vfs.info(path, version_id=missing)
    with pytest.raises(ValueError, match="non-empty str"):
        vfs.cat_file(path, version_id="")
    with pytest.raises(ValueError, match="names version"):
        vfs.cat_file(f"{path}?versionId={first}", version_id="other")
    with pytest.raises(ValueError, match="cannot be written"):
        vfs.open(path, "wb", version_id=first)
    with pytest.raises(ValueError, match="cannot be written"):
        vfs.open(f"{path}?versionId={first}", "ab")
    assert vfs.exists(f"{path}?versionId={first}")
    assert not vfs.exists(f"{path}?versionId={missing}")
    with pytest.raises(ValueError, match="names a version"):
        vfs.rm(f"{path}?versionId={first}")
    with pytest.raises(ValueError, match="names a version"):
        vfs.cp(f"{path}?versionId={first}", f"{vroot}/copy")
    with pytest.raises(ValueError, match="names a version"):
        vfs.pipe_file(f"{path}?versionId={first}", b"x")
    with pytest.raises(FileNotFoundError):
        vfs.object_version_info(f"{vroot}/never-written")
    with pytest.raises(IsADirectoryError):
        vfs.object_version_info(vroot.partition("/")[0])
    assert vfs.cat_file(path) == b"second!"  # nothing was written
