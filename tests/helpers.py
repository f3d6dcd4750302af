"""Plain helpers that more than one test module uses (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any

#: The secret key of :func:`s3_options`; no server ever checks it.
S3_SECRET = "s3cr3t-value"


def s3_options(port: int, **extra: Any) -> dict[str, Any]:
    """S3 options for an endpoint on this machine, with nothing read from the environment."""
    return {
        "bucket": "b",
        "endpoint": f"http://127.0.0.1:{port}",
        "region": "us-east-1",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": S3_SECRET,
        "disable_config_load": True,
        **extra,
    }
