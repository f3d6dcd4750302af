"""Path handling: fsspec names in, OpenDAL paths out.

fsspec names never start or end with ``/``. For services with a container the
first segment is the container (``bucket/dir/key``), as in s3fs and gcsfs. OpenDAL
paths are relative to the operator's root; directories end with ``/``.
"""

from __future__ import annotations

import re

_PROTOCOL = re.compile(r"^opendal\+([a-z0-9-]+)://")

#: Any ``xyz://`` at the start of a path (RFC 3986 scheme characters).
_ANY_PROTOCOL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")

#: The protocols that users of each service's own fsspec filesystem write (s3fs,
#: gcsfs, adlfs, ossfs, fsspec's ``file`` and ``memory``), taken as spellings of
#: ``opendal+<service>://``. Every service also takes its plain name
#: (``ftp://``, ``webdav://`` …). Protocols whose URLs start with a host rather
#: than a path (``hdfs://namenode/``, ``http://host/``) are not listed.
PEER_PROTOCOLS: dict[str, tuple[str, ...]] = {
    "s3": ("s3", "s3a"),
    "gcs": ("gs", "gcs"),
    "gcs-grpc": ("gs", "gcs"),
    "azblob": ("az", "abfs", "abfss"),
    "azdls": ("abfs", "abfss"),
    "oss": ("oss",),
    "obs": ("obs",),
    "cos": ("cos", "cosn"),
    "fs": ("file", "local"),
    "memory": ("memory",),
}

#: Azure protocols whose URLs may name the account too: ``abfs://container@account.host/key``.
_AZURE_ACCOUNT_FORM = frozenset({"abfs", "abfss", "az"})


def strip_scheme(path: str, scheme: str | None) -> str:
    """Remove the protocol from ``path``; refuse a protocol of another filesystem.

    ``opendal+<scheme>://``, ``<scheme>://`` and the protocols in
    :data:`PEER_PROTOCOLS` are removed. Any other ``xyz://`` is a ``ValueError``
    that names it: left in place, it would become a bucket or directory named
    ``xyz:``, and the request would go to the wrong place or fail obscurely.
    """
    if not isinstance(path, str):
        raise TypeError(f"{path!r}: a path must be a str, not {type(path).__name__}")
    found = _ANY_PROTOCOL.match(path)
    if found is None:
        return path
    protocol = found.group(1)
    rest = path[found.end() :]
    own = _PROTOCOL.match(path)
    if own is not None and (scheme is None or own.group(1) == scheme):
        return rest
    if scheme is None and protocol == "opendal":
        return rest
    peers = PEER_PROTOCOLS.get(scheme or "", ())
    if scheme is not None and (protocol == scheme or protocol in peers):
        if protocol in _AZURE_ACCOUNT_FORM and protocol != scheme:
            container, slash, key = rest.partition("/")
            rest = container.partition("@")[0] + slash + key
        return rest
    accepted = (
        ", ".join(f"{p}://" for p in dict.fromkeys((f"opendal+{scheme}", scheme, *peers)))
        if scheme
        else "opendal+<service>://"
    )
    raise ValueError(
        f"{path!r}: {protocol}:// is not a protocol of this filesystem "
        f"({'opendal+' + scheme if scheme else 'opendal'}); it takes {accepted} or a "
        "path without a protocol"
    )


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
