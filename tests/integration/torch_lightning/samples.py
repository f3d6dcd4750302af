"""Map-style datasets for the DataLoader tests; importable by spawned workers."""

from __future__ import annotations

import os
from typing import Any

import fsspec
import torch
from torch.utils.data import Dataset


class FromFilesystem(Dataset):
    """Each sample is a file read through a filesystem instance (pickled to workers)."""

    def __init__(self, fs: Any, names: list[str]) -> None:
        self.fs = fs
        self.names = names

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        data = bytearray(self.fs.cat_file(self.names[i]))
        return torch.frombuffer(data, dtype=torch.float32), os.getpid()


class FromUrls(Dataset):
    """Each sample is a file opened by URL in the worker, with the service's options."""

    def __init__(self, urls: list[str], options: dict[str, Any]) -> None:
        self.urls = urls
        self.options = options

    def __len__(self) -> int:
        return len(self.urls)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        with fsspec.open(self.urls[i], "rb", **self.options) as f:
            data = bytearray(f.read())
        return torch.frombuffer(data, dtype=torch.float32), os.getpid()
