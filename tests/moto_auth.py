"""Wrong credentials that a real S3 server refuses: moto with its authentication on.

moto checks no signatures unless asked, so :func:`rejected_credentials` makes an
IAM user and switches moto's authentication on for one block only; every other
test keeps its anonymous server.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

from opendalfs import OpendalFileSystem


def _moto_auth(endpoint: str, count: str) -> None:
    """Authenticate every request to moto from now on ("0"), or none again ("inf")."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form body would hide the count
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


_iam_keys: dict[str, tuple[str, str]] = {}


def moto_access_key(endpoint: str, region: str) -> tuple[str, str]:
    """(key id, secret) of an IAM user allowed everything on S3, made once per server."""
    if endpoint not in _iam_keys:
        import boto3  # moto's own dependency

        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id="setup",
            aws_secret_access_key="setup",
        )
        user = f"opendalfs-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=user)
        policy = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
        iam.put_user_policy(
            UserName=user,
            PolicyName="s3",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [policy]}),
        )
        key = iam.create_access_key(UserName=user)["AccessKey"]
        _iam_keys[endpoint] = (key["AccessKeyId"], key["SecretAccessKey"])
    return _iam_keys[endpoint]


@contextlib.contextmanager
def rejected_credentials(
    service: Any, wrong_secret: str = "wrong-secret-access-key"
) -> Iterator[tuple[OpendalFileSystem, OpendalFileSystem]]:
    """(accepted, rejected): S3 filesystems whose secret the server takes and refuses.

    Against moto (the default), an IAM user is made and moto's authentication is on
    for the block only, so every other test keeps its anonymous server. A real
    server (``OPENDALFS_TEST_S3_ENDPOINT``) checks signatures by itself.
    """
    options = dict(service.options)
    moto = not os.environ.get("OPENDALFS_TEST_S3_ENDPOINT")
    if moto:
        key_id, secret = moto_access_key(options["endpoint"], options["region"])
        options.update(access_key_id=key_id, secret_access_key=secret)

    def make(secret: str) -> OpendalFileSystem:
        return OpendalFileSystem(
            "s3",
            **{**options, "secret_access_key": secret},
            retries=0,
            skip_instance_cache=True,
        )

    accepted, rejected = make(options["secret_access_key"]), make(wrong_secret)
    if moto:
        _moto_auth(options["endpoint"], "0")
    try:
        yield accepted, rejected
    finally:
        if moto:
            _moto_auth(options["endpoint"], "inf")
