"""boto3's versions of the big-object rows: its ``TransferManager``, as its users call it.

``download_file``, ``download_fileobj`` (into memory: the ``cat_file`` row),
``upload_file`` and ``upload_fileobj`` (from memory: the ``pipe_file`` row), each
with the default ``TransferConfig``: objects over 8 MiB go as 8 MiB ranges or
parts, 10 at a time. boto3 is the yardstick of issue 26's targets.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

from fsbench import data
from fsbench.contenders import Boto3Subject
from fsbench.sizes import Sizes

Boto3Body = Callable[[Boto3Subject, Sizes, Any], int]


def _download(b: Boto3Subject, key: str, local: str) -> int:
    b.client.download_file(b.bucket, b.key(key), local, Config=b.config)
    return os.path.getsize(local)


def big_cat_file(b: Boto3Subject, z: Sizes, _: Any) -> int:
    buffer = io.BytesIO()
    b.client.download_fileobj(b.bucket, b.key(data.WIRE_KEY), buffer, Config=b.config)
    return buffer.getbuffer().nbytes


def big_get_file(b: Boto3Subject, z: Sizes, _: Any) -> int:
    return _download(b, data.WIRE_KEY, os.path.join(b.scratch, "got.bin"))


def huge_get_file(b: Boto3Subject, z: Sizes, _: Any) -> int:
    return _download(b, data.HUGE_KEY, os.path.join(b.scratch, "huge.bin"))


def big_put_file(b: Boto3Subject, z: Sizes, _: Any) -> int:
    local = os.path.join(b.local_dir, data.WIRE_LOCAL)
    b.client.upload_file(local, b.bucket, b.out(data.WIRE_KEY), Config=b.config)
    return z.wire_size


def big_pipe_file(b: Boto3Subject, z: Sizes, blob: bytes) -> int:
    source = io.BytesIO(blob)
    b.client.upload_fileobj(source, b.bucket, b.out(data.WIRE_KEY), Config=b.config)
    return len(blob)


#: boto3's body for each big-object row it has a call for.
BOTO3_BODIES: dict[str, Boto3Body] = {
    "big_cat_file": big_cat_file,
    "big_get_file": big_get_file,
    "huge_get_file": huge_get_file,
    "big_put_file": big_put_file,
    "big_pipe_file": big_pipe_file,
}
