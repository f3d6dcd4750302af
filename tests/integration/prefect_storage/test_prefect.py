"""prefect's ``RemoteFileSystem`` block on opendalfs, on memory, fs and S3 (moto).

The block takes an ``opendal+<service>://`` basepath and the service's options as
``settings``; flows persist their results through it. Flows need a Prefect API:
the module lets Prefect start its temporary local server (on the loopback), with
its home in a temporary directory. Runs in ``nox -s integration-prefect``.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

# Before prefect is imported: its home, and patience for its temporary server.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="opendalfs-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
# Its server stops at exit, after pytest closed the stream its INFO lines go to.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

if os.environ.get("CI") != "true":  # under CI its nox session must have installed it
    pytest.importorskip("prefect")

from prefect import flow, task
from prefect.filesystems import RemoteFileSystem

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "prefect.md"


def block(service: Any, path: str) -> RemoteFileSystem:
    return RemoteFileSystem(
        basepath=f"opendal+{service.scheme}://{path}", settings=dict(service.options)
    )


@SERVICES
def test_write_and_read_paths(service, fs, root):
    storage = block(service, f"{root}/store")
    storage.write_path("a/b.txt", b"through prefect")
    assert storage.read_path("a/b.txt") == b"through prefect"
    assert fs.cat_file(f"{root}/store/a/b.txt") == b"through prefect"
    assert type(storage.filesystem).__module__ == "opendalfs.registry"
    fs.pipe_file(f"{root}/store/from-fs.txt", b"x")
    assert storage.read_path("from-fs.txt") == b"x"
    with pytest.raises(FileNotFoundError):
        storage.read_path("missing.txt")


@SERVICES
def test_put_directory(service, fs, root, tmp_path):
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "one.txt").write_text("1")
    (tmp_path / "src" / "sub" / "two.txt").write_text("2")
    storage = block(service, f"{root}/deploy")
    storage.put_directory(local_path=str(tmp_path / "src"))
    assert sorted(fs.find(f"{root}/deploy")) == [
        f"{root}/deploy/one.txt",
        f"{root}/deploy/sub/two.txt",
    ]
    storage.get_directory(local_path=str(tmp_path / "back"))
    assert (tmp_path / "back" / "sub" / "two.txt").read_text() == "2"


@task(persist_result=True)
def double(x: int) -> int:
    return 2 * x


@SERVICES
def test_flow_results_persisted_through_the_block(service, fs, root):
    storage = block(service, f"{root}/results")
    storage.save(f"opendal-{service.scheme}-{uuid.uuid4().hex[:8]}")  # flows want saved blocks

    @flow(result_storage=storage, persist_result=True)
    def pipeline(x: int) -> int:
        return double(x) + 1

    state = pipeline(20, return_state=True)
    assert state.is_completed()
    assert state.result() == 41
    results = fs.find(f"{root}/results")
    assert len(results) == 2  # the task's result and the flow's
    assert all(fs.size(name) > 0 for name in results)


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/prefect.md: its code runs as shown."""
    run_doc_snippets(DOC)
