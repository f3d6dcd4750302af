"""dvc-objects over opendalfs, on memory, fs and S3 (moto).

dvc-objects' ``FileSystem`` wraps any fsspec filesystem (``FileSystem(fs=...)``);
its ``ObjectDB`` keeps content-addressed objects (``cache/ab/cdef…``) on it, and its
``generic`` and ``transfer`` helpers move files and objects between filesystems.
The opendalfs filesystem is made by URL (``fsspec.core.url_to_fs``) or given as an
instance.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import fsspec
import pytest

if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    pytest.importorskip("dvc_objects")

from dvc_objects.db import ObjectDB
from dvc_objects.fs import generic, localfs
from dvc_objects.fs.base import FileSystem
from dvc_objects.transfer import transfer

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
BY = pytest.mark.parametrize("by", ["url", "instance"])
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "dvc-objects.md"
BLOBS = [b"first object", b"second object" * 1000, b""]


def oid(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def dvc_fs(by: str, service: Any, fs: Any, path: str) -> tuple[FileSystem, str]:
    """A dvc-objects filesystem on the service, and ``path`` as it names it."""
    if by == "url":
        found, name = fsspec.core.url_to_fs(f"opendal+{service.scheme}://{path}", **service.options)
        return FileSystem(fs=found), name
    return FileSystem(fs=fs), path


@SERVICES
@BY
def test_object_db(service, fs, root, by):
    dfs, cache = dvc_fs(by, service, fs, f"{root}/cache")
    odb = ObjectDB(dfs, cache)
    for data in BLOBS:
        odb.add_bytes(oid(data), data)
    for data in BLOBS:
        assert odb.exists(oid(data))
        assert dfs.cat_file(odb.get(oid(data)).path) == data
    first = oid(BLOBS[0])
    assert odb.oid_to_path(first) == f"{cache}/{first[:2]}/{first[2:]}"
    assert fs.cat_file(f"{root}/cache/{first[:2]}/{first[2:]}") == BLOBS[0]
    assert sorted(odb.all()) == sorted(oid(d) for d in BLOBS)
    missing = "0" * 32
    assert set(odb.oids_exist({first, missing})) == {first}
    odb.delete(first)
    assert not odb.exists(first)
    assert sorted(odb.all()) == sorted(oid(d) for d in BLOBS[1:])


@SERVICES
@BY
def test_transfer_objects_both_ways(service, fs, root, tmp_path, by):
    dfs, cache = dvc_fs(by, service, fs, f"{root}/cache")
    remote = ObjectDB(dfs, cache)
    local = ObjectDB(localfs, str(tmp_path / "local-cache"))
    for data in BLOBS[:2]:
        local.add_bytes(oid(data), data)
    assert transfer(local, remote, {oid(d) for d in BLOBS[:2]}) == {oid(d) for d in BLOBS[:2]}
    remote.add_bytes(oid(BLOBS[2]), BLOBS[2])
    assert transfer(remote, local, {oid(d) for d in BLOBS}) == {oid(BLOBS[2])}
    assert sorted(local.all()) == sorted(remote.all()) == sorted(oid(d) for d in BLOBS)
    with pytest.raises(Exception, match="missing objects"):
        transfer(local, remote, {"f" * 32})


@SERVICES
@BY
def test_generic_copy_transfer_and_get(service, fs, root, tmp_path, by):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"A" * 3000)
    (src / "sub" / "b.txt").write_bytes(b"B")
    dfs, base = dvc_fs(by, service, fs, f"{root}/up")
    generic.copy(localfs, str(src / "a.txt"), dfs, f"{base}/a.txt")
    generic.transfer(localfs, [str(src / "sub" / "b.txt")], dfs, [f"{base}/sub/b.txt"])
    assert sorted(dfs.find(base)) == [f"{base}/a.txt", f"{base}/sub/b.txt"]
    assert dfs.exists([f"{base}/a.txt", f"{base}/nope"]) == [True, False]
    assert dfs.size(f"{base}/a.txt") == 3000
    with (src / "a.txt").open("rb") as fobj:
        dfs.upload_fobj(fobj, f"{base}/copy.txt")
    assert fs.cat_file(f"{root}/up/copy.txt") == b"A" * 3000

    dfs.get(base, str(tmp_path / "down"))
    got = {
        p.relative_to(tmp_path / "down").as_posix(): p.read_bytes()
        for p in (tmp_path / "down").rglob("*")
        if p.is_file()
    }
    assert got == {"a.txt": b"A" * 3000, "sub/b.txt": b"B", "copy.txt": b"A" * 3000}
    dfs.rm(base, recursive=True)
    assert not fs.exists(f"{root}/up/a.txt")


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/dvc-objects.md: its code runs as shown."""
    run_doc_snippets(DOC)
