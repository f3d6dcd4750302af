"""The one info schema, shared by ``ls``, ``info`` and ``find``."""

from __future__ import annotations

from typing import Any

from opendal.types import Metadata


def make_info(name: str, meta: Metadata | None, *, is_dir: bool | None = None) -> dict[str, Any]:
    """An fsspec info dict for ``name``.

    Always ``name``, ``size`` and ``type`` (``"file"`` or ``"directory"``); then
    whatever the service reported: ``etag``, ``last_modified`` (a timezone-aware
    datetime, also given as ``mtime``, the key pyarrow reads), ``content_type``,
    ``content_md5`` and ``version`` (also given as ``VersionId``, s3fs' key).
    ``meta`` may be None for a directory that is only implied by the objects under it.

    Each field read builds a new Python object in the binding, so each is read once,
    spelled out (a listing of many entries spends most of its Python time here).
    """
    if meta is None:
        return {"name": name, "size": 0, "type": "directory"}
    if is_dir is None:
        is_dir = meta.is_dir
    info: dict[str, Any] = {
        "name": name,
        "size": 0 if is_dir else meta.content_length,
        "type": "directory" if is_dir else "file",
    }
    if (etag := meta.etag) is not None:
        info["etag"] = etag
    if (modified := meta.last_modified) is not None:
        info["last_modified"] = info["mtime"] = modified
    if (content_type := meta.content_type) is not None:
        info["content_type"] = content_type
    if (md5 := meta.content_md5) is not None:
        info["content_md5"] = md5
    if (version := meta.version) is not None:
        info["version"] = info["VersionId"] = version  # s3fs users read VersionId
    return info


def directory_info(name: str) -> dict[str, Any]:
    """Info for a directory known only by name (a container root, an implied prefix)."""
    return make_info(name, None, is_dir=True)
