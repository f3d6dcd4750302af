"""docs/services.md says what every operation does on every service, and stays true.

Each service is measured again here with ``tests/tools/service_matrix.py``: no
operation may be broken, and the service's column and section of the committed
docs/services.md must be exactly what the tool renders for this measurement.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from opendalfs import OpendalFileSystem

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tests" / "tools" / "service_matrix.py"
DOC = ROOT / "docs" / "services.md"
OUT_OF_DATE = "docs/services.md is out of date: run python tests/tools/service_matrix.py"


@pytest.fixture(scope="module")
def matrix() -> Any:
    """tests/tools/service_matrix.py, loaded from its path (tests is not a package)."""
    module_spec = importlib.util.spec_from_file_location("service_matrix", TOOL)
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def committed() -> str:
    if not DOC.exists():
        pytest.fail(OUT_OF_DATE, pytrace=False)
    return DOC.read_text()


def check_measured(matrix: Any, name: str, rows: dict[str, tuple[str, str]], config: str) -> None:
    """No broken cell, and the docs say for ``name`` exactly what was measured."""
    broken = {op: note for op, (status, note) in rows.items() if status == matrix.BROKEN}
    assert not broken, f"{name}: broken operations: {broken}"
    expected = matrix.extract(matrix.render({name: rows}, {name: config}), name)
    found = matrix.extract(committed(), name)
    if found != expected:
        column = [f"{op}: {cell}" for op, cell in found[0].items()]
        wanted = [f"{op}: {cell}" for op, cell in expected[0].items()]
        diff = difflib.unified_diff(
            [*column, *found[1].splitlines()],
            [*wanted, *expected[1].splitlines()],
            "docs/services.md",
            "measured",
            lineterm="",
        )
        pytest.fail(f"{OUT_OF_DATE}\n" + "\n".join(diff), pytrace=False)


@pytest.mark.any_service
def test_service_matrix(matrix, fs, root, service):
    rows = matrix.classify(fs, root, service.scheme)
    assert list(rows) == list(matrix.OPERATIONS)
    if service.scheme == "s3" and os.environ.get("OPENDALFS_TEST_S3_ENDPOINT"):
        # Another S3 server than the one the docs describe: only nothing may be broken.
        broken = {op: note for op, (status, note) in rows.items() if status == matrix.BROKEN}
        assert not broken, f"s3: broken operations: {broken}"
        return
    config = matrix.config_example(service.scheme, service.options, service.container)
    check_measured(matrix, service.scheme, rows, config)


def test_http_service_matrix(matrix, servers):
    """The read-only http service, whose test files are put where nginx serves them."""
    running = servers("http")
    fs = OpendalFileSystem("http", **running.options)
    root = f"matrix-{uuid.uuid4().hex[:12]}"
    rows = matrix.classify(fs, root, "http", seed=matrix.seeder(running.seed_dir))
    assert list(rows) == list(matrix.OPERATIONS)
    check_measured(matrix, "http", rows, matrix.config_example("http", running.options))


def test_docs_cover_every_service_with_the_current_intro(matrix):
    text = committed()
    assert matrix.columns(text) == matrix.services(), OUT_OF_DATE
    assert matrix.intro(text) == matrix.INTRO, OUT_OF_DATE
    for name in matrix.services():
        column, section = matrix.extract(text, name)
        assert list(column) == list(matrix.OPERATIONS), OUT_OF_DATE
        assert section, OUT_OF_DATE


def test_render_keeps_services_apart(matrix):
    """A service's column and section do not depend on the other services rendered."""
    rows = dict.fromkeys(matrix.OPERATIONS, (matrix.NATIVE, ""))
    other = dict.fromkeys(matrix.OPERATIONS, (matrix.UNAVAILABLE, "memory cannot do it"))
    config = matrix.config_example("s3", {"endpoint": "http://127.0.0.1:9", "secret": "x"})
    alone = matrix.render({"s3": rows}, {"s3": config})
    together = matrix.render({"memory": other, "s3": rows}, {"memory": "", "s3": config})
    assert matrix.extract(alone, "s3") == matrix.extract(together, "s3")
    assert matrix.extract(together, "memory")[0] == dict.fromkeys(matrix.OPERATIONS, "✗")
    assert "<secret>" in config
    assert "127.0.0.1:<port>" in config
