"""fsspec's own abstract test suite, run on every service the suite knows."""

from __future__ import annotations

import posixpath
import uuid

import pytest
from fsspec.tests.abstract import AbstractFixtures
from fsspec.tests.abstract.copy import AbstractCopyTests
from fsspec.tests.abstract.get import AbstractGetTests
from fsspec.tests.abstract.open import AbstractOpenTests
from fsspec.tests.abstract.pipe import AbstractPipeTests
from fsspec.tests.abstract.put import AbstractPutTests


class OpendalFixtures(AbstractFixtures):
    @pytest.fixture
    def fs(self, service):
        fs = service.filesystem()
        fs.invalidate_cache()
        return fs

    @pytest.fixture
    def fs_join(self):
        return posixpath.join

    @pytest.fixture
    def fs_path(self, fs, service):
        path = "/".join(p for p in (service.container, f"abstract-{uuid.uuid4().hex[:12]}") if p)
        yield path
        if fs.exists(path):
            fs.rm(path, recursive=True)

    @pytest.fixture
    def supports_empty_directories(self, service):
        return service.empty_directories


class TestCopy(OpendalFixtures, AbstractCopyTests):
    pass


class TestGet(OpendalFixtures, AbstractGetTests):
    pass


class TestPut(OpendalFixtures, AbstractPutTests):
    pass


class TestPipe(OpendalFixtures, AbstractPipeTests):
    pass


class TestOpen(OpendalFixtures, AbstractOpenTests):
    pass
