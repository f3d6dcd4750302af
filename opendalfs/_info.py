"""The one info schema, shared by ``ls``, ``info`` and ``find``."""

from __future__ import annotations

from typing import Any

from opendal.types import Metadata

#: Metadata fields copied into an info dict when OpenDAL knows them.
_OPTIONAL_FIELDS = ("etag", "last_modified", "content_type", "content_md5", "version")


def make_info(name: str, meta: Metadata | None, *, is_dir: bool | None = None) -> dict[str, Any]:
    """An fsspec info dict for ``name``.

    Always ``name``, ``size`` and ``type`` (``"file"`` or ``"directory"``); then
    whatever the service reported: ``etag``, ``last_modified`` (a timezone-aware
    datetime, also given as ``mtime``, the key pyarrow reads), ``content_type``,
    ``content_md5`` and ``version`` (also given as ``VersionId``, s3fs' key).
    ``meta`` may be None for a directory that is only implied by the objects under it.
    """
    if is_dir is None:
        is_dir = meta is None or meta.is_dir
    info: dict[str, Any] = {
        "name": name,
        "size": 0 if is_dir or meta is None else meta.content_length,
        "type": "directory" if is_dir else "file",
    }
    if meta is not None:
        for field in _OPTIONAL_FIELDS:  # each read of a field builds a new object
            value = getattr(meta, field)
            if value is not None:
                info[field] = value
        if "last_modified" in info:
            info["mtime"] = info["last_modified"]
        if "version" in info:
            info["VersionId"] = info["version"]  # the key s3fs users read
    return info


def directory_info(name: str) -> dict[str, Any]:
    """Info for a directory known only by name (a container root, an implied prefix)."""
    return make_info(name, None, is_dir=True)
