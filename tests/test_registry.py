"""``opendal+<scheme>`` for every service in the installed opendal wheel.

Each service has a class importable by its qualified name (so filesystems
pickle, for dask), registered through pyproject's ``fsspec.specs`` entry points
(so ``fsspec.open("opendal+s3://...")`` works without importing opendalfs), and
``opendalfs.register`` adds anything else.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import fsspec
import pytest
from fsspec.registry import _registry

import opendalfs
from opendalfs import OpendalFileSystem
from opendalfs._services import schemes
from opendalfs.registry import SERVICE_CLASSES

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "tests" / "tools" / "generate_registry.py"
RUN_GENERATOR = "out of date: run `python tests/tools/generate_registry.py`"


@pytest.fixture(scope="module")
def generator():
    """tests/tools/generate_registry.py, loaded from its path (tests is not a package)."""
    module_spec = importlib.util.spec_from_file_location("generate_registry", GENERATOR)
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def generated_block(path: Path, generator) -> str:
    """The text from the BEGIN GENERATED line to the END GENERATED marker in ``path``."""
    pattern = re.escape(generator.BEGIN) + r".*?" + re.escape(generator.END)
    found = re.findall(pattern, path.read_text(), re.S)
    assert len(found) == 1, f"{path.name}: expected one generated block, found {len(found)}"
    return found[0]


# -- generated files ---------------------------------------------------------------


def test_registry_module_is_generated(generator):
    """registry.py's classes are exactly what the generator writes for this wheel."""
    block = generated_block(ROOT / "opendalfs" / "registry.py", generator)
    assert block == generator.registry_block(), f"opendalfs/registry.py is {RUN_GENERATOR}"


def test_entry_points_are_generated(generator):
    """pyproject's fsspec.specs entry points are exactly what the generator writes."""
    block = generated_block(ROOT / "pyproject.toml", generator)
    assert block == generator.entry_points_block(), f"pyproject.toml is {RUN_GENERATOR}"


def test_generator_and_package_agree_on_schemes(generator):
    """The generator and the package read the same scheme list from the wheel."""
    assert [scheme for _, scheme in generator.services()] == list(schemes())


def test_every_scheme_has_a_class():
    assert schemes(), "the opendal wheel offers no services?"
    assert set(SERVICE_CLASSES) == set(schemes())
    assert "memory" in SERVICE_CLASSES
    assert "s3" in SERVICE_CLASSES
    assert "fs" in SERVICE_CLASSES


# -- one class per scheme ------------------------------------------------------------


@pytest.mark.parametrize("scheme", schemes())
def test_class_is_importable_by_qualified_name(scheme):
    """pickle finds a class by module and qualified name; both must lead back to it."""
    cls = SERVICE_CLASSES[scheme]
    resolved = importlib.import_module(cls.__module__)
    for part in cls.__qualname__.split("."):
        resolved = getattr(resolved, part)
    assert resolved is cls
    assert "<locals>" not in cls.__qualname__
    assert pickle.loads(pickle.dumps(cls)) is cls


@pytest.mark.parametrize("scheme", schemes())
def test_class_scheme_and_protocol(scheme):
    cls = SERVICE_CLASSES[scheme]
    assert issubclass(cls, OpendalFileSystem)
    assert cls.scheme == scheme
    assert cls.protocol == f"opendal+{scheme}"


@pytest.mark.parametrize("scheme", schemes())
def test_fsspec_finds_the_class(scheme):
    assert fsspec.get_filesystem_class(f"opendal+{scheme}") is SERVICE_CLASSES[scheme]


def installed_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """opendalfs's own fsspec.specs entry points, from the installed distribution."""
    return {
        ep.name: ep
        for ep in importlib.metadata.entry_points(group="fsspec.specs")
        if ep.dist is not None and ep.dist.name == "opendalfs"
    }


def test_installed_entry_points_cover_every_scheme():
    """The installed metadata (not only pyproject) names every scheme; reinstall if not."""
    names = set(installed_entry_points())
    assert names == {f"opendal+{scheme}" for scheme in schemes()}


@pytest.mark.parametrize("scheme", schemes())
def test_installed_entry_point_loads_the_class(scheme):
    ep = installed_entry_points()[f"opendal+{scheme}"]
    cls = SERVICE_CLASSES[scheme]
    assert ep.value == f"{cls.__module__}:{cls.__qualname__}"
    assert ep.load() is cls


def test_fsspec_open_works_without_importing_opendalfs(tmp_path):
    """A fresh interpreter reaches opendal+memory:// through the entry points alone."""
    code = textwrap.dedent(
        """
        import sys
        import fsspec
        assert "opendalfs" not in sys.modules, "fsspec imported opendalfs eagerly"
        print("before", "opendalfs" in sys.modules)
        with fsspec.open("opendal+memory://x/y.txt", "wb") as f:
            f.write(b"through the entry point")
        with fsspec.open("opendal+memory://x/y.txt", "rb") as f:
            print("data", f.read().decode())
        print("class", type(f.fs).__module__ + "." + type(f.fs).__qualname__)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "before False",
        "data through the entry point",
        "class opendalfs.registry.MemoryFileSystem",
    ]


# -- register() ------------------------------------------------------------------------


@pytest.fixture
def mymem():
    yield "mymem"
    _registry.pop("mymem", None)


def test_register_under_another_protocol(mymem):
    """register() lets a user serve any scheme under a protocol of their choice."""
    cls = opendalfs.register("memory", protocol=mymem)
    assert cls is SERVICE_CLASSES["memory"]
    fs = fsspec.filesystem(mymem)
    assert isinstance(fs, SERVICE_CLASSES["memory"])
    fs.pipe_file("register-test/file", b"x")
    try:
        assert OpendalFileSystem("memory").cat_file("register-test/file") == b"x"
    finally:
        fs.rm("register-test", recursive=True)


def test_register_default_protocol_is_opendal_plus_scheme():
    assert opendalfs.register("memory") is SERVICE_CLASSES["memory"]
    assert fsspec.get_filesystem_class("opendal+memory") is SERVICE_CLASSES["memory"]


def test_register_unknown_scheme_names_it():
    with pytest.raises(ValueError, match="'nope'"):
        opendalfs.register("nope")
    assert "opendal+nope" not in fsspec.available_protocols()


#: The generic class given a scheme, and the scheme's own class.
BY_CLASS = pytest.mark.parametrize("generic", [True, False], ids=["generic", "per-service"])


def instance(scheme: str, generic: bool, **options: str) -> OpendalFileSystem:
    if generic:
        return OpendalFileSystem(scheme, **options)
    return SERVICE_CLASSES[scheme](**options)


# -- the protocol is one string ----------------------------------------------------------


@BY_CLASS
def test_an_instance_protocol_is_one_string(generic):
    """Tools use ``fs.protocol`` as a key or a name, so it is a string, not a tuple.

    Hugging Face ``datasets`` passes ``storage_options={fs.protocol: ...}``, and
    universal-pathlib and Airflow take ``protocol=fs.protocol``; a tuple fails there
    with "keywords must be strings" or "Unsupported filesystem: ('opendal+memory',)".
    """
    fs = instance("memory", generic)
    assert fs.protocol == "opendal+memory"
    assert type(fs).protocol == ("opendal" if generic else "opendal+memory")
    fs.pipe_file("protocol-test/a.txt", b"keyed")
    try:
        assert fs.unstrip_protocol("protocol-test/a.txt") == "opendal+memory://protocol-test/a.txt"
        url = fs.unstrip_protocol("protocol-test/a.txt")
        assert fs.unstrip_protocol(url) == url
        assert fs._strip_protocol(url) == "protocol-test/a.txt"
        # Options keyed by the protocol, as datasets' url_to_fs route passes them.
        found, path = fsspec.core.url_to_fs(url, **{fs.protocol: {}})
        assert (type(found), path) == (SERVICE_CLASSES["memory"], "protocol-test/a.txt")
        with fsspec.open(url, **{fs.protocol: {}}) as f:
            assert f.read() == b"keyed"
        assert fsspec.get_filesystem_class(fs.protocol) is SERVICE_CLASSES["memory"]
        assert pickle.loads(pickle.dumps(fs)).protocol == "opendal+memory"
    finally:
        fs.rm("protocol-test", recursive=True)


def test_the_protocol_names_the_filesystem_in_json():
    """fsspec's to_json/from_json write and read ``protocol`` as a name."""
    fs = SERVICE_CLASSES["memory"]()
    back = fsspec.AbstractFileSystem.from_json(fs.to_json())
    assert type(back) is SERVICE_CLASSES["memory"]
    assert back.protocol == "opendal+memory"


# -- per-service instances pickle --------------------------------------------------------


@BY_CLASS
def test_memory_instance_pickles_to_a_working_equal_filesystem(generic):
    """dask ships filesystems by pickling: the copy must equal and reach the same store."""
    fs = instance("memory", generic)
    fs.pipe_file("pickle-test/file", b"before pickling")
    try:
        data = pickle.dumps(fs)
        type(fs).clear_instance_cache()  # so loads() builds a new instance, not the cached one
        copy = pickle.loads(data)
        assert type(copy) is type(fs)
        assert copy is not fs
        assert copy == fs
        assert copy.cat_file("pickle-test/file") == b"before pickling"
    finally:
        fs.rm("pickle-test", recursive=True)


@BY_CLASS
def test_fs_instance_pickles_to_another_process(tmp_path, generic):
    """The pickled filesystem works here, and in a process that never imported opendalfs."""
    fs = instance("fs", generic, root=str(tmp_path))
    fs.pipe_file("dir/file", b"on disk")
    data = pickle.dumps(fs)
    type(fs).clear_instance_cache()
    copy = pickle.loads(data)
    assert copy is not fs
    assert copy == fs
    assert copy.cat_file("dir/file") == b"on disk"
    code = textwrap.dedent(
        """
        import pickle, sys
        assert "opendalfs" not in sys.modules
        fs = pickle.loads(sys.stdin.buffer.read())
        print(type(fs).__qualname__, fs.cat_file("dir/file").decode())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=data, capture_output=True, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().split() == [type(fs).__qualname__, "on", "disk"]
    assert type(fs).__qualname__ == ("OpendalFileSystem" if generic else "FsFileSystem")


def test_s3_instance_pickles_with_its_configuration():
    """Building an S3 filesystem needs no server; its pickle keeps every option."""
    cls = SERVICE_CLASSES["s3"]
    fs = cls(
        bucket="b1",
        endpoint="http://127.0.0.1:1",
        region="us-east-1",
        access_key_id="a",
        secret_access_key="b",
        disable_config_load=True,
    )
    data = pickle.dumps(fs)
    cls.clear_instance_cache()
    copy = pickle.loads(data)
    assert copy is not fs
    assert copy == fs
    assert repr(copy) == repr(fs)
    assert copy.container == "b1"
    assert copy._options == fs._options
