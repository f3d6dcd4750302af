"""universal-pathlib's ``UPath`` on ``opendal+<service>://`` URLs, on memory, fs and S3.

opendalfs registers ``opendalfs._upath.OpendalPath`` for every ``opendal+<service>``
protocol through the ``universal_pathlib.implementations`` entry points (see that
module for why the generic fallback cannot be used).
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import warnings
from importlib.metadata import entry_points
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    pytest.importorskip("upath")

from upath import UPath
from upath.core import UnsupportedOperation
from upath.registry import get_upath_class

from opendalfs import OpendalFileSystem
from opendalfs._services import schemes

SERVICES = ["memory", "fs", "s3"]
on_services = pytest.mark.parametrize("service", SERVICES, indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def upath(service: Any, path: str) -> UPath:
    """``UPath("opendal+<service>://<path>", **options)``, as a user writes it."""
    return UPath(f"opendal+{service.scheme}://{path}", **service.options)


# -- registration ----------------------------------------------------------------------


def test_every_opendal_protocol_has_the_opendal_path_class():
    """The upath entry points name the same protocols as the fsspec ones, and load."""
    text = PYPROJECT.read_text()
    upath_section = text.split('[project.entry-points."universal_pathlib.implementations"]')[1]
    upath_section = upath_section.split("\n[", 1)[0]
    declared = re.findall(
        r'^"(opendal\+[^"]+)" = "opendalfs\._upath:OpendalPath"$', upath_section, re.M
    )
    assert declared == [f"opendal+{s}" for s in sorted(schemes())]

    installed = {ep.name for ep in entry_points(group="universal_pathlib.implementations")}
    missing = set(declared) - installed
    assert not missing, f"reinstall opendalfs (pip install -e .) to register {sorted(missing)}"

    from opendalfs._upath import OpendalPath

    for protocol in declared:
        assert get_upath_class(protocol) is OpendalPath


def test_no_fallback_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "not explicitly implemented" / "Could not find default"
        path = UPath("opendal+memory://upath-warnings/a.txt")
    assert type(path).__name__ == "OpendalPath"


# -- on each service -------------------------------------------------------------------


@on_services
def test_str_keeps_the_whole_path(service, root):
    path = upath(service, f"{root}/dir/data.csv")
    assert str(path) == f"opendal+{service.scheme}://{root}/dir/data.csv"
    assert path.path == f"{root}/dir/data.csv"
    assert path.protocol == f"opendal+{service.scheme}"
    assert path.storage_options == service.options
    if service.container:
        assert str(path).startswith(f"opendal+s3://{service.container}/")
        # The bucket alone is its root, as upath's S3Path writes it.
        assert str(upath(service, service.container)) == f"opendal+s3://{service.container}/"
    assert isinstance(path.fs, OpendalFileSystem)
    assert path.fs.scheme == service.scheme


@on_services
def test_write_and_read(service, root):
    text = upath(service, f"{root}/notes/hello.txt")
    text.write_text("hello, upath\n")
    assert text.read_text() == "hello, upath\n"
    assert text.read_bytes() == b"hello, upath\n"

    binary = upath(service, f"{root}/notes/blob.bin")
    binary.write_bytes(bytes(range(256)))
    assert binary.read_bytes() == bytes(range(256))
    with binary.open("rb") as f:
        f.seek(250)
        assert f.read() == bytes(range(250, 256))
    assert binary.stat().st_size == 256


@on_services
def test_exists_is_file_is_dir(service, root):
    base = upath(service, root)
    (base / "d" / "f.txt").write_text("x")
    assert (base / "d" / "f.txt").exists()
    assert (base / "d" / "f.txt").is_file()
    assert (base / "d").exists()
    assert (base / "d").is_dir()
    assert not (base / "d").is_file()
    assert not (base / "missing").exists()
    assert not (base / "d" / "missing.txt").is_file()


@on_services
def test_joins(service, root):
    base = upath(service, root)
    joined = base / "a" / "b.txt"
    assert str(joined) == f"opendal+{service.scheme}://{root}/a/b.txt"
    assert joined == base.joinpath("a", "b.txt")
    assert joined == UPath(f"opendal+{service.scheme}://{root}", "a", "b.txt", **service.options)
    assert joined.storage_options == service.options
    assert joined.name == "b.txt"
    assert joined.stem == "b"
    assert joined.suffix == ".txt"
    assert joined.parent == base / "a"
    assert joined.with_name("c.csv") == base / "a" / "c.csv"
    assert joined.with_suffix(".csv") == base / "a" / "b.csv"
    assert str(joined.relative_to(base)) == "a/b.txt"

    # A UPath of a UPath keeps the options; an absolute path replaces what precedes it.
    again = UPath(joined)
    assert again == joined
    assert again.storage_options == service.options
    assert base / joined == joined


@on_services
def test_iterdir(service, root):
    base = upath(service, root)
    for name in ("one.txt", "two.txt", "sub/three.txt"):
        (base / name).write_text(name)
    children = sorted(base.iterdir())
    assert [p.name for p in children] == ["one.txt", "sub", "two.txt"]
    assert all(p.protocol == f"opendal+{service.scheme}" for p in children)
    assert all(p.storage_options == service.options for p in children)
    assert [p.is_dir() for p in children] == [False, True, False]
    assert [p.read_text() for p in sorted((base / "sub").iterdir())] == ["sub/three.txt"]


@on_services
def test_glob(service, root):
    base = upath(service, root)
    for name in ("a.csv", "b.csv", "c.txt", "deep/d.csv", "deep/er/e.csv"):
        (base / name).write_text(name)
    assert sorted(p.name for p in base.glob("*.csv")) == ["a.csv", "b.csv"]
    assert sorted(p.name for p in base.glob("deep/*.csv")) == ["d.csv"]
    assert sorted(p.name for p in base.glob("**/*.csv")) == ["a.csv", "b.csv", "d.csv", "e.csv"]
    assert sorted(p.name for p in base.rglob("*.csv")) == ["a.csv", "b.csv", "d.csv", "e.csv"]
    found = next(iter(base.glob("c.*")))
    assert str(found) == f"opendal+{service.scheme}://{root}/c.txt"
    assert found.read_text() == "c.txt"


@on_services
def test_mkdir_touch_unlink_rmdir(service, root):
    base = upath(service, root)
    folder = base / "made"
    folder.mkdir(parents=True)
    assert folder.is_dir()
    marker = folder / "empty"
    marker.touch()
    assert marker.is_file()
    assert marker.read_bytes() == b""
    with pytest.raises(OSError, match="not empty"):
        folder.rmdir(recursive=False)
    marker.unlink()
    assert not marker.exists()
    folder.rmdir()
    assert not folder.exists()


@on_services
def test_pickles_with_its_options(service, root):
    path = upath(service, f"{root}/p.txt")
    path.write_text("pickled")
    back = pickle.loads(pickle.dumps(path))
    assert back == path
    assert back.storage_options == service.options
    assert back.read_text() == "pickled"


@on_services
def test_filesystem_and_upath_agree(service, root, fs):
    """What UPath writes the filesystem finds under the same name, and the reverse."""
    upath(service, f"{root}/from-upath.txt").write_text("u")
    fs.pipe(f"{root}/from-fs.txt", b"f")
    fs.invalidate_cache()
    assert fs.cat(f"{root}/from-upath.txt") == b"u"
    assert upath(service, f"{root}/from-fs.txt").read_text() == "f"
    assert UPath(fs.unstrip_protocol(f"{root}/from-fs.txt"), **service.options).read_text() == "f"


@on_services
def test_a_path_from_the_filesystem_protocol(service, root, fs):
    """``UPath(path, protocol=fs.protocol, **fs.storage_options)``: the idiom of tools
    that hold a filesystem and want a path on it (the protocol is one string)."""
    fs.pipe(f"{root}/by-protocol.txt", b"p")
    path = UPath(f"{root}/by-protocol.txt", protocol=fs.protocol, **fs.storage_options)
    assert type(path).__name__ == "OpendalPath"
    assert str(path) == f"opendal+{service.scheme}://{root}/by-protocol.txt"
    assert path.read_text() == "p"


# -- protocols universal-pathlib cannot parse ------------------------------------------


def test_hyphenated_service_with_protocol_argument():
    """``opendal+mini-moka`` works when the protocol is given as an argument."""
    path = UPath("upath-hyphen/a.txt", protocol="opendal+mini-moka")
    assert type(path).__name__ == "OpendalPath"
    path.write_text("moka")
    assert path.read_text() == "moka"
    assert str(path) == "opendal+mini-moka://upath-hyphen/a.txt"


@pytest.mark.xfail(
    strict=True,
    reason="universal-pathlib reads a protocol as [A-Za-z][A-Za-z0-9+]+ and takes "
    "'opendal+mini-moka://...' for a local path ('-' and '.' are valid in URL schemes)",
)
def test_hyphenated_service_url():
    path = UPath("opendal+mini-moka://upath-hyphen/b.txt")
    assert path.protocol == "opendal+mini-moka"


DOC = Path(__file__).resolve().parents[3] / "docs" / "integrations" / "upath.md"


def test_docs_snippet_runs(run_doc_snippets, tmp_path, monkeypatch):
    """docs/integrations/upath.md: its code runs as shown."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the snippet's files go
    run_doc_snippets(DOC)


# -- the bucket is the root; the rest of the UPath surface ------------------------------


@on_services
def test_the_container_is_the_root(service, root):
    path = upath(service, f"{root}/a/b.txt")
    if service.container:
        assert path.drive == service.container
        assert path.anchor == f"{service.container}/"
        assert path.parts == (f"{service.container}/", *root.split("/")[1:], "a", "b.txt")
        top = path.parents[-1]
        assert top.path == f"{service.container}/"
        assert str(top) == f"opendal+s3://{service.container}/"
        assert top.parent == top
        assert top.is_dir()
    else:
        assert path.drive == ""
        assert path.parts[-3:] == (root, "a", "b.txt")
    assert path.is_absolute()
    assert path.parent.parent == upath(service, root)


@on_services
def test_rename_takes_a_target_without_a_protocol(service, root):
    """From the anchor, as for upath's own paths: ``rename("bucket/b")`` on S3 (S3Path),
    ``rename("/dir/b")`` elsewhere (MemoryPath)."""
    source = upath(service, f"{root}/a.txt")
    source.write_text("moved")
    absolute = f"{root}/b.txt" if service.container else f"/{root}/b.txt"
    target = source.rename(absolute)
    assert target == upath(service, f"{root}/b.txt")
    assert target.read_text() == "moved"
    assert not source.exists()
    again = target.rename(upath(service, f"{root}/sub/c.txt"))
    assert again.read_text() == "moved"
    assert again.rename(f"opendal+{service.scheme}://{root}/d.txt").read_text() == "moved"
    with pytest.raises(ValueError, match="protocol"):
        again.rename(f"opendal+nosuch://{root}/x")


def relative_targets(service: Any, root: str) -> list[str]:
    """Targets that name no anchor: relative to a working directory fsspec lacks."""
    targets = ["b.txt", "./b.txt", "sub/b.txt"]
    if not service.container:
        targets.append(f"{root}/b.txt")  # memory's MemoryPath wants "/" first as well
    return targets


@on_services
def test_a_relative_rename_target_needs_a_working_directory(service, root):
    """upath's MemoryPath and S3Path raise UnsupportedOperation (``cwd()``) for a
    relative target; so does OpendalPath, and the file stays where it was."""
    source = upath(service, f"{root}/a.txt")
    source.write_text("stays")
    for target in relative_targets(service, root):
        with pytest.raises(UnsupportedOperation, match=r"cwd\(\) is unsupported"):
            source.rename(target)
    assert source.read_text() == "stays"
    assert sorted(p.name for p in upath(service, root).iterdir()) == ["a.txt"]


def test_upaths_own_memory_path_takes_targets_the_same_way():
    """The behaviour matched above, on the installed universal-pathlib's MemoryPath."""
    source = UPath("memory:///upath-rename/a.txt")
    source.write_text("m")
    for target in ("b.txt", "./b.txt", "upath-rename/b.txt"):
        with pytest.raises(UnsupportedOperation, match=r"cwd\(\) is unsupported"):
            source.rename(target)
    moved = source.rename("/upath-rename/b.txt")
    assert moved.read_text() == "m"
    for target in (UPath("/upath-rename/c.txt"), PurePosixPath("/upath-rename/d.txt")):
        moved = moved.rename(target)  # a plain path object: absolute, as a string is
        assert (moved.path, moved.read_text()) == (str(target), "m")
    moved.fs.rm("/upath-rename", recursive=True)


@pytest.mark.parametrize("service", ["memory", "fs"], indirect=True)
def test_rename_takes_an_absolute_path_object(service, root):
    """``rename(UPath("/dir/b"))`` (or a ``PurePosixPath``) moves the file there, as
    upath's MemoryPath does, instead of asking for a working directory."""
    source = upath(service, f"{root}/a.txt")
    source.write_text("moved")
    for name in ("b.txt", "c.txt"):
        kind = UPath if name == "b.txt" else PurePosixPath
        target = source.rename(kind(f"/{root}/{name}"))
        assert target == upath(service, f"{root}/{name}")
        assert target.read_text() == "moved"
        assert not source.exists()
        source = target


@on_services
def test_absolute(service, root):
    """An absolute path is its own ``absolute()``; a relative one needs ``cwd()``."""
    path = upath(service, f"{root}/a/b.txt")
    assert path.is_absolute()
    assert path.absolute() == path
    relative = path.relative_to(upath(service, root))
    assert not relative.is_absolute()
    with pytest.raises(UnsupportedOperation, match=r"cwd\(\) is unsupported"):
        relative.absolute()
    with pytest.raises(UnsupportedOperation, match=r"cwd\(\) is unsupported"):
        type(path).cwd()
    memory = UPath("memory:///upath-absolute/a/b.txt")  # upath's own, for comparison
    assert memory.absolute() == memory
    with pytest.raises(UnsupportedOperation, match=r"cwd\(\) is unsupported"):
        memory.relative_to(UPath("memory:///upath-absolute")).absolute()


@on_services
def test_the_rest_of_the_path_surface(service, root):
    base = upath(service, root)
    f = base / "dir" / "data.csv"
    assert f.with_suffix(".parquet").name == "data.parquet"
    assert f.with_stem("other").name == "other.csv"
    assert f.with_name("x").parent == base / "dir"
    assert f.suffixes == [".csv"]
    assert f.full_match("**/*.csv")
    assert f.relative_to(base / "dir").as_posix() == "data.csv"
    assert not f.exists()
    f.parent.mkdir(parents=True, exist_ok=True)
    assert f.parent.is_dir()
    with pytest.raises(FileExistsError):
        f.parent.mkdir(exist_ok=False)
    assert f.write_bytes(b"a,b\n1,2\n") == 8
    assert f.write_text("a,b\n") == 4
    assert f.read_text() == "a,b\n"
    stat = f.stat()
    assert stat.st_size == 4
    assert f.is_file()
    f.touch(exist_ok=True)
    assert f.read_text() == "a,b\n"  # touch keeps the content
    with pytest.raises(FileExistsError):
        f.touch(exist_ok=False)
    (base / "dir" / "more.txt").write_text("m")
    assert sorted(p.name for p in (base / "dir").iterdir()) == ["data.csv", "more.txt"]
    assert sorted(p.name for p in base.rglob("*")) == ["data.csv", "dir", "more.txt"]
    assert [p.name for p in base.glob("dir/*.txt")] == ["more.txt"]
    with f.open("r") as handle:
        assert handle.read() == "a,b\n"
    f.unlink()
    assert not f.exists()
    f.unlink(missing_ok=True)
    with pytest.raises(FileNotFoundError):
        f.unlink()
    (base / "dir" / "more.txt").unlink()
    (base / "dir").rmdir()  # recursive=False on an empty one: upath 0.3 raises StopIteration
    assert not (base / "dir").exists()


@pytest.mark.parametrize("service", ["s3"], indirect=True)
@pytest.mark.xfail(
    strict=True,
    raises=NotImplementedError,
    reason="OpenDAL cannot list buckets, so the top of an S3 URL has no listing",
)
def test_listing_all_buckets(service, root):
    list(UPath("opendal+s3://", **service.options).iterdir())
