"""PyTorch and Lightning through opendalfs, on memory, fs and S3 (moto).

A ``DataLoader`` whose worker processes read samples by URL or through a
filesystem instance pickled to them (fs and S3: memory lives in one process), and
Lightning checkpoints written to, resumed from and loaded from ``opendal+`` URLs.
Runs in ``nox -s integration-torch`` (torch's CPU build and lightning).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import fsspec
import pytest

if os.environ.get("CI") != "true":  # under CI its nox session must have installed them
    pytest.importorskip("torch")
    pytest.importorskip("lightning")

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).parent))  # spawned workers import samples by name
from samples import FromFilesystem, FromUrls

from opendalfs._operators import ForkedProcessError, ProcessLocalStoreError

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
OUT_OF_PROCESS = pytest.mark.parametrize("service", ["fs", "s3"], indirect=True)
BY = pytest.mark.parametrize("by", ["url", "instance"])
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = [pytest.mark.own_services, pytest.mark.filterwarnings("ignore::UserWarning")]
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "torch.md"
SAMPLES = 12


def write_samples(fs: Any, root: str) -> list[str]:
    names = []
    for i in range(SAMPLES):
        names.append(f"{root}/samples/{i:03}.bin")
        fs.pipe_file(names[-1], torch.full((4,), float(i)).numpy().tobytes())
    return names


def dataset(by: str, service: Any, fs: Any, names: list[str]) -> Any:
    if by == "url":
        return FromUrls([fs.unstrip_protocol(n) for n in names], dict(service.options))
    return FromFilesystem(fs, names)


def load_all(ds: Any, **loader: Any) -> tuple[list[float], set[int]]:
    values, pids = [], set()
    for batch, batch_pids in DataLoader(ds, batch_size=3, **loader):
        values += batch[:, 0].tolist()
        pids |= set(batch_pids.tolist())
    return values, pids


@OUT_OF_PROCESS
@BY
@pytest.mark.parametrize("context", ["spawn", "forkserver"])
def test_dataloader_worker_processes(service, fs, root, by, context):
    names = write_samples(fs, root)
    values, pids = load_all(
        dataset(by, service, fs, names), num_workers=2, multiprocessing_context=context
    )
    assert values == [float(i) for i in range(SAMPLES)]
    assert os.getpid() not in pids
    assert len(pids) == 2


@SERVICES
@BY
def test_dataloader_in_the_main_process(service, fs, root, by):
    names = write_samples(fs, root)
    values, pids = load_all(dataset(by, service, fs, names), num_workers=0)
    assert values == [float(i) for i in range(SAMPLES)]
    assert pids == {os.getpid()}


@pytest.mark.parametrize("service", ["fs"], indirect=True)
def test_forked_workers_fail_loudly(service, fs, root):
    """OpenDAL's runtime cannot run in a child forked after it started (Linux's
    default DataLoader context): the worker raises at once, naming 'spawn'."""
    names = write_samples(fs, root)
    with pytest.raises(ForkedProcessError, match="spawn"):
        load_all(FromFilesystem(fs, names), num_workers=1, multiprocessing_context="fork")


@pytest.mark.parametrize("service", ["memory"], indirect=True)
def test_memory_in_worker_processes_fails_loudly(service, fs, root):
    names = write_samples(fs, root)
    with pytest.raises(ProcessLocalStoreError, match="worker process"):
        load_all(FromFilesystem(fs, names), num_workers=1, multiprocessing_context="spawn")


@SERVICES
def test_torch_save_and_load_through_a_file(service, fs, root):
    state = {"weights": torch.arange(10.0), "step": 7}
    with fs.open(f"{root}/state.pt", "wb") as f:
        torch.save(state, f)
    with fsspec.open(fs.unstrip_protocol(f"{root}/state.pt"), "rb", **service.options) as f:
        back = torch.load(f)
    assert torch.equal(back["weights"], state["weights"])
    assert back["step"] == 7


class Regression(L.LightningModule):
    def __init__(self, lr: float = 0.05) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch: Any, _: int) -> Any:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def batches() -> Any:
    x = torch.randn(32, 4, generator=torch.Generator().manual_seed(0))
    return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)


def trainer(epochs: int, tmp_path: Path, **options: Any) -> Any:
    return L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
        **options,
    )


@pytest.fixture
def options_by_protocol(service, monkeypatch):
    """Lightning opens checkpoint URLs with no options: fsspec's config gives them."""
    monkeypatch.setitem(fsspec.config.conf, f"opendal+{service.scheme}", dict(service.options))


@SERVICES
def test_lightning_checkpoints_resume_and_load(service, fs, root, tmp_path, options_by_protocol):
    dirpath = fs.unstrip_protocol(f"{root}/ckpt")
    checkpoints = L.pytorch.callbacks.ModelCheckpoint(
        dirpath=dirpath, monitor="loss", save_top_k=2, save_last=True
    )
    trainer(3, tmp_path, callbacks=[checkpoints]).fit(Regression(), batches())
    saved = sorted(p.rsplit("/", 1)[-1] for p in fs.ls(f"{root}/ckpt", detail=False))
    assert len(saved) == 3  # top two by loss, and last.ckpt
    assert "last.ckpt" in saved
    assert checkpoints.best_model_path.startswith(dirpath + "/")

    model = Regression.load_from_checkpoint(checkpoints.best_model_path)
    assert model.hparams.lr == 0.05
    resumed = trainer(5, tmp_path)
    resumed.fit(Regression(), batches(), ckpt_path=checkpoints.last_model_path)
    assert resumed.current_epoch == 5
    resumed.save_checkpoint(fs.unstrip_protocol(f"{root}/manual.ckpt"))
    with fs.open(f"{root}/manual.ckpt", "rb") as f:
        assert torch.load(f, weights_only=False)["epoch"] == 5


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/torch.md: its code runs as shown."""
    run_doc_snippets(DOC)
