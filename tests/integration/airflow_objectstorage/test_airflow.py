"""Airflow's ``ObjectStoragePath`` on opendalfs, on memory, fs and S3 (moto).

Airflow knows the schemes of its providers; any other fsspec filesystem is
attached (``attach(protocol=fs.protocol, conn_id=..., fs=fs)``) and named by a URL
that carries the connection id (``opendal+s3://conn@bucket/key``). Without a
connection id, a path makes its own filesystem from the options it is given
(``ObjectStoragePath(url, **options)``). Runs in ``nox -s integration-airflow``.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

# Before airflow is imported: its home (logs, config) in a temporary directory.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="opendalfs-airflow-"))

if os.environ.get("CI") != "true":  # under CI its nox session must have installed it
    pytest.importorskip("airflow.sdk")

from airflow.sdk import ObjectStoragePath
from airflow.sdk.io import attach

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "airflow.md"


def attached(fs: Any) -> str:
    """Attach ``fs`` under a fresh connection id; the id names it in URLs."""
    conn_id = f"opendal_{uuid.uuid4().hex[:8]}"
    attach(protocol=fs.protocol, conn_id=conn_id, fs=fs)
    return conn_id


def by_connection(service: Any, conn_id: str, path: str) -> ObjectStoragePath:
    return ObjectStoragePath(f"opendal+{service.scheme}://{conn_id}@{path}")


@SERVICES
def test_an_attached_filesystem(service, fs, root):
    """``attach(protocol=fs.protocol, fs=fs)``: the protocol is one string."""
    fs.pipe_file(f"{root}/in.txt", b"hello airflow")
    conn_id = attached(fs)
    path = by_connection(service, conn_id, f"{root}/in.txt")
    assert path.conn_id == conn_id
    assert str(path) == f"opendal+{service.scheme}://{conn_id}@{root}/in.txt"
    assert path.read_text() == "hello airflow"
    assert path.exists()
    assert path.stat().st_size == 13

    out = path.parent / "sub" / "out.txt"
    out.write_bytes(b"written")
    assert fs.cat_file(f"{root}/sub/out.txt") == b"written"
    assert sorted(p.name for p in path.parent.iterdir()) == ["in.txt", "sub"]
    assert [p.name for p in path.parent.glob("*.txt")] == ["in.txt"]
    out.unlink()
    assert not fs.exists(f"{root}/sub/out.txt")


@SERVICES
def test_copy_and_move(service, fs, root, tmp_path):
    fs.pipe_file(f"{root}/a.csv", b"x,y\n1,2\n")
    conn_id = attached(fs)
    source = by_connection(service, conn_id, f"{root}/a.csv")
    source.copy(by_connection(service, conn_id, f"{root}/b.csv"))
    assert fs.cat_file(f"{root}/b.csv") == b"x,y\n1,2\n"
    local = ObjectStoragePath(f"file://{tmp_path}/a.csv")
    source.copy(local)  # across filesystems: streamed through Airflow
    assert (tmp_path / "a.csv").read_bytes() == b"x,y\n1,2\n"
    by_connection(service, conn_id, f"{root}/b.csv").move(
        by_connection(service, conn_id, f"{root}/c.csv")
    )
    assert sorted(n.rsplit("/", 1)[-1] for n in fs.ls(root, detail=False)) == ["a.csv", "c.csv"]


@SERVICES
def test_serialize_round_trip(service, fs, root):
    """Airflow passes paths between tasks serialized (XCom); the connection id stays."""
    fs.pipe_file(f"{root}/x.txt", b"x")
    conn_id = attached(fs)
    path = by_connection(service, conn_id, f"{root}/x.txt")
    back = ObjectStoragePath.deserialize(path.serialize(), ObjectStoragePath.__version__)
    assert back == path
    assert back.read_bytes() == b"x"


@SERVICES
def test_storage_options_without_a_connection(service, fs, root):
    fs.pipe_file(f"{root}/in.txt", b"by options")
    path = ObjectStoragePath(f"opendal+{service.scheme}://{root}/in.txt", **service.options)
    assert path.conn_id is None
    assert path.read_bytes() == b"by options"
    (path.parent / "out.txt").write_text("back")
    assert fs.cat_file(f"{root}/out.txt") == b"back"
    # Airflow's own methods look the filesystem up by protocol and connection id.
    with pytest.raises(ValueError, match="No filesystem registered for scheme opendal"):
        path.stat()


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/airflow.md: its code runs as shown."""
    run_doc_snippets(DOC)
