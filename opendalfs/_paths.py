"""Path handling: fsspec names in, OpenDAL paths out.

fsspec names never start or end with ``/``. For services with a container the
first segment is the container (``bucket/dir/key``), as in s3fs and gcsfs. OpenDAL
paths are relative to the operator's root; directories end with ``/``.
"""

from __future__ import annotations

import re

_PROTOCOL = re.compile(r"^opendal\+[a-z0-9-]+://")


def strip_scheme(path: str, scheme: str | None) -> str:
    """Remove an ``opendal+<scheme>://`` or ``<scheme>://`` prefix from ``path``."""
    if not isinstance(path, str):
        raise TypeError(f"{path!r}: a path must be a str, not {type(path).__name__}")
    stripped = _PROTOCOL.sub("", path, count=1)
    if stripped == path and scheme and path.startswith(f"{scheme}://"):
        stripped = path[len(scheme) + 3 :]
    return stripped


def normalize(path: str) -> str:
    """Resolve ``.``, ``..`` and repeated slashes; refuse what would leave the root.

    A leading ``/`` means the root of the filesystem (for ``fs``, its ``root=``), so
    absolute paths can never reach outside it; neither can ``..``.
    """
    if "\x00" in path:
        raise ValueError(f"{path!r}: a path cannot contain a NUL character")
    if not path.isascii():
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            # OpenDAL would store U+FFFD instead, so different names would collide.
            raise ValueError(
                f"{path!r}: a path must be valid Unicode (no lone surrogates)"
            ) from None
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ValueError(f"{path!r}: the path escapes the root of the filesystem")
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def split_container(path: str) -> tuple[str, str]:
    """Split a normalized name into (container, key inside it)."""
    container, _, key = path.partition("/")
    return container, key


def parent(path: str) -> str:
    """The parent of a normalized name (``""`` for a top-level name)."""
    return path.rpartition("/")[0]


def basename(path: str) -> str:
    """The last segment of a normalized name."""
    return path.rpartition("/")[2]


def as_dir(key: str) -> str:
    """The OpenDAL path of a directory key: ``a/b/``, or ``/`` for the root."""
    return f"{key}/" if key else "/"


def depth(path: str, base: str) -> int:
    """How many levels ``path`` lies below ``base`` (1 for a direct child)."""
    rel = path[len(base) + 1 :] if base else path
    return rel.count("/") + 1
