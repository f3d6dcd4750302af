"""Names in, OpenDAL paths out: normalization, containers, and the ``fs`` root."""

from __future__ import annotations

import os
import re

import pytest

from opendalfs import OpendalFileSystem, _paths


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("", ""),
        ("/", ""),
        ("a", "a"),
        ("/a/b/", "a/b"),
        ("a//b///c", "a/b/c"),
        ("./a/./b", "a/b"),
        ("a/b/../c", "a/c"),
        ("opendal+memory://a/b", "a/b"),
        ("opendal+s3://bucket/key", "bucket/key"),
        ("opendal+fs:///tmp/x", "tmp/x"),
    ],
)
def test_normalize(raw, name):
    assert OpendalFileSystem._strip_protocol(raw) == name


@pytest.mark.parametrize("raw", ["..", "../x", "a/../../x", "/../etc/passwd"])
def test_names_cannot_leave_the_root(raw):
    with pytest.raises(ValueError, match="escapes the root"):
        OpendalFileSystem._strip_protocol(raw)


def test_nul_is_refused():
    with pytest.raises(ValueError, match="NUL"):
        OpendalFileSystem._strip_protocol("a\x00b")


def test_helpers():
    assert _paths.split_container("bucket/dir/key") == ("bucket", "dir/key")
    assert _paths.split_container("bucket") == ("bucket", "")
    assert _paths.parent("a/b/c") == "a/b"
    assert _paths.parent("a") == ""
    assert _paths.as_dir("a/b") == "a/b/"
    assert _paths.as_dir("") == "/"
    assert _paths.depth("a/b/c", "a") == 2
    assert _paths.depth("x", "") == 1


def test_per_service_classes_strip_their_plain_scheme_too():
    from opendalfs.registry import MemoryFileSystem, S3FileSystem

    assert S3FileSystem._strip_protocol("s3://bucket/key") == "bucket/key"
    with pytest.raises(ValueError, match=r"s3://"):
        MemoryFileSystem._strip_protocol("s3://bucket/key")


def test_fs_stays_inside_its_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    fs = OpendalFileSystem("fs", root=str(root))
    # An absolute name is relative to the root, never the machine's /.
    fs.pipe_file(str(outside), b"inside")
    assert outside.read_bytes() == b"keep"
    assert (root / str(outside).lstrip("/")).read_bytes() == b"inside"
    for bad in ("../outside.txt", "a/../../outside.txt"):
        for call in (fs.cat_file, fs.rm, fs.info, fs.ls):
            with pytest.raises(ValueError, match="escapes the root"):
                call(bad)
        with pytest.raises(ValueError, match="escapes the root"):
            fs.pipe_file(bad, b"x")
        with pytest.raises(ValueError, match="escapes the root"):
            fs.mv("anything", bad)
    assert outside.read_bytes() == b"keep"
    assert sorted(os.listdir(tmp_path)) == ["outside.txt", "root"]


def test_fs_without_root_uses_absolute_paths(tmp_path):
    fs = OpendalFileSystem("fs")
    target = tmp_path / "abs.txt"
    fs.pipe_file(str(target), b"absolute")
    assert target.read_bytes() == b"absolute"
    assert fs.cat_file(f"opendal+fs://{target}") == b"absolute"
    assert fs.info(str(target))["name"] == str(target).lstrip("/")


def test_docs_list_the_container_services_the_wheel_has():
    """docs/paths.md names the container services; they must be exactly the wheel's."""
    from pathlib import Path

    from opendalfs._services import schemes, service_config

    docs = (Path(__file__).parents[1] / "docs" / "paths.md").read_text()
    row = next(line for line in docs.splitlines() if line.startswith("| with a container"))
    documented = set(re.findall(r"`([a-z0-9-]+)`", row.split("|")[1]))
    expected = {s for s in schemes() if service_config(s).container_option is not None}
    assert documented == expected


@pytest.mark.parametrize(
    ("scheme", "raw", "name"),
    [
        ("s3", "s3://bucket/key", "bucket/key"),
        ("s3", "s3a://bucket/key", "bucket/key"),
        ("gcs", "gs://bucket/key", "bucket/key"),
        ("gcs", "gcs://bucket/key", "bucket/key"),
        ("azblob", "az://container/key", "container/key"),
        ("azblob", "abfs://container/key", "container/key"),
        ("azblob", "abfss://container@account.dfs.core.windows.net/key", "container/key"),
        ("fs", "file:///tmp/x", "tmp/x"),
        ("fs", "local:///tmp/x", "tmp/x"),
        ("memory", "memory://a/b", "a/b"),
        ("ftp", "ftp://a/b", "a/b"),
    ],
)
def test_peer_protocols_are_stripped(scheme, raw, name):
    from opendalfs.registry import SERVICE_CLASSES

    assert SERVICE_CLASSES[scheme]._strip_protocol(raw) == name


@pytest.mark.parametrize(
    ("scheme", "raw"),
    [
        ("azblob", "s3://bucket/key"),
        ("azblob", "opendal+s3://bucket/key"),
        ("gcs", "s3://bucket/key"),
        ("s3", "gs://bucket/key"),
        ("memory", "file:///tmp/x"),
        ("fs", "xyz://a"),
    ],
)
def test_other_protocols_are_refused_by_name(scheme, raw):
    from opendalfs.registry import SERVICE_CLASSES

    protocol = raw.partition("://")[0]
    for given in (raw, [raw]):
        with pytest.raises(ValueError, match=re.escape(f"{protocol}://")):
            SERVICE_CLASSES[scheme]._strip_protocol(given)


def test_the_generic_class_takes_any_opendal_protocol_and_no_other():
    assert OpendalFileSystem._strip_protocol("opendal+gcs://b/k") == "b/k"
    with pytest.raises(ValueError, match=r"s3://"):
        OpendalFileSystem._strip_protocol("s3://b/k")
    assert OpendalFileSystem("memory")._strip_protocol("memory://a") == "a"
    with pytest.raises(ValueError, match=r"opendal\+s3://"):
        OpendalFileSystem("memory")._strip_protocol("opendal+s3://a")
