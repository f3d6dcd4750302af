"""examples/explore.ipynb runs headless, cell by cell, without an error.

nbclient runs it in a python3 kernel on this interpreter: ipykernel's kernel spec is
installed into a temporary Jupyter path, so a ``python3`` kernel that the machine
has elsewhere (another Python, without opendalfs) is never picked. The notebook's
blocking fsspec calls run inside the kernel's event loop, which is the case the
notebook exists to show working.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

import pytest

if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    for module in ("nbclient", "nbformat", "ipykernel", "matplotlib", "tqdm", "pandas", "pyarrow"):
        pytest.importorskip(module)

import nbformat
from ipykernel.kernelspec import install as install_kernel_spec
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[3] / "examples" / "explore.ipynb"
#: Seconds one cell may take (the slowest copies 20 MiB twice): a guard against hangs only.
CELL_TIMEOUT = 600


@pytest.fixture
def kernel_on_this_python(tmp_path_factory, monkeypatch) -> str:
    """The name of a kernel spec that starts this interpreter, found before any other."""
    prefix = tmp_path_factory.mktemp("jupyter")
    install_kernel_spec(kernel_name="python3", prefix=str(prefix))
    spec = json.loads((prefix / "share/jupyter/kernels/python3/kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    return "python3"


def stream_text(nb, name: str) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.output_type == "stream" and out.name == name
    )


def rich_outputs(nb, mime: str) -> list[str]:
    return [
        out.data[mime]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.output_type in ("execute_result", "display_data") and mime in out.data
    ]


def test_notebook_is_committed_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    assert all(cell.outputs == [] for cell in code), "clear the notebook's outputs"
    assert all(cell.execution_count is None for cell in code), "clear the execution counts"


def test_notebook_runs(kernel_on_this_python, tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel_on_this_python,
        timeout=CELL_TIMEOUT,
        startup_timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    # Fails with CellExecutionError, naming the cell, on any error in any cell.
    client.execute()

    stdout = stream_text(nb, "stdout")
    stderr = stream_text(nb, "stderr")
    # Blocking calls ran where the kernel's event loop was running.
    assert "event loop running in this cell: True" in stdout
    assert "sales/2024-01.parquet" in stdout
    assert "in 3 files" in stdout
    assert "(336, 3)" in stdout
    # pandas' preview, the plot read back, the progress bars and the async listing.
    assert any("store" in text and "sales" in text for text in rich_outputs(nb, "text/html"))
    assert len(rich_outputs(nb, "image/png")) == 1
    for bar in ("put: 100%", "get: 100%", "files: 100%"):
        assert bar in stderr, stderr
    assert "2024-01.parquet" in stdout  # get of the whole directory
    assert any(
        "sales/2024-03.parquet" in text for text in rich_outputs(nb, "text/plain")
    )  # await afs._ls(...)


DOC = Path(__file__).resolve().parents[3] / "docs" / "integrations" / "notebooks.md"


def test_docs_snippets_run(kernel_on_this_python, monkeypatch, tmp_path):
    """docs/integrations/notebooks.md: its Python blocks run as shown, from the repository."""
    monkeypatch.chdir(NOTEBOOK.parents[1])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the snippet's files go
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {"__name__": "__main__"})
