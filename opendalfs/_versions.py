"""Object versions, as s3fs users know them: ``version_aware``, ``version_id``, ``?versionId=``.

A version-aware filesystem reads, stats and lists past versions of objects on
services whose OpenDAL backend does all three by version ID (s3, oss and cos in
opendal 0.47). A version is named by the ``version_id=`` keyword or by a
``?versionId=`` suffix of the path, the form its listings give back. Versions are
read-only: a write makes a new version, it cannot choose one.
"""

from __future__ import annotations

from typing import Any

import opendal

#: What follows a path to name one of its versions (s3fs' form).
SUFFIX = "?versionId="


def split_version(path: str, version_id: str | None, version_aware: bool) -> tuple[str, str | None]:
    """``path`` without a version suffix, and the version it or ``version_id`` names.

    Outside a version-aware filesystem a ``?`` is an ordinary character of a name,
    and ``version_id`` is a ValueError rather than silently the current version.
    """
    if not version_aware:
        if version_id is not None:
            raise ValueError(f"{path}: version_id needs a filesystem made with version_aware=True")
        return path, None
    name, found, suffix = path.rpartition(SUFFIX)
    if not found:
        return path, _checked(path, version_id)
    if version_id is not None and version_id != suffix:
        raise ValueError(f"{path}: the path names version {suffix!r}, version_id {version_id!r}")
    return name, _checked(path, suffix)


def _checked(path: str, version: Any) -> str | None:
    if version is None:
        return None
    if not isinstance(version, str) or not version:
        raise ValueError(f"{path}: a version ID is a non-empty str, not {version!r}")
    return version


def versioned_name(name: str, version: str) -> str:
    """The name a listing of versions gives one version of ``name``."""
    return f"{name}{SUFFIX}{version}"


def refuse_write(name: str, version: str | None) -> None:
    """A version cannot be written: each write makes a new one, named by the service."""
    if version is not None:
        raise ValueError(
            f"{name}: version {version!r} cannot be written; a write makes a new version"
        )


def unsupported(scheme: str) -> NotImplementedError:
    return NotImplementedError(
        f"{scheme} has no object versions in opendal {opendal.__version__}: "
        "version_aware=True needs a service that stats, reads and lists by version "
        "(such as s3)"
    )
