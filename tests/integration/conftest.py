"""Shared by the integration tests: running a docs page's code as a user would."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.fixture
def run_doc_snippets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Path], dict[str, Any]]:
    """Run every ```python block of a docs page in order, in one namespace, in a temp dir."""

    def run(page: Path) -> dict[str, Any]:
        monkeypatch.chdir(tmp_path)
        blocks = _PYTHON_BLOCK.findall(page.read_text(encoding="utf-8"))
        assert blocks, f"{page} shows no python code"
        namespace: dict[str, Any] = {"__name__": "__main__"}
        for block in blocks:
            exec(compile(block, str(page), "exec"), namespace)
        return namespace

    return run
