"""The options users of s3fs, adlfs and gcsfs already pass, in OpenDAL's words.

Each function takes the user's options and returns them with the familiar names
replaced by OpenDAL's (``key`` → ``access_key_id`` …). Giving both names of one
option with different values is a ``ValueError``; anything not recognised here is
left for the service's own validation.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from opendalfs._config import refuse_unknown


def _put(options: dict[str, Any], name: str, value: Any, source: str) -> None:
    """Set ``options[name]`` from ``source``, unless it already holds another value."""
    if value is None:
        return
    existing = options.get(name)
    if existing is not None and existing != value:
        raise ValueError(f"options {source!r} and {name!r} both given, with different values")
    options[name] = value


def _rename(options: dict[str, Any], alias: str, name: str) -> None:
    """Move ``options[alias]`` to ``options[name]``."""
    _put(options, name, options.pop(alias), alias)


def _flag(value: Any, name: str) -> bool:
    """A yes/no option: a bool, never a string such as "false" that would read as yes."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, not {value!r}")
    return value


def _client_kwargs(options: dict[str, Any], mapping: dict[str, str]) -> None:
    """Unpack s3fs-style ``client_kwargs`` whose keys have an OpenDAL equivalent."""
    given = options.pop("client_kwargs", None) or {}
    if not isinstance(given, dict):
        raise TypeError(f"client_kwargs must be a dict, not {type(given).__name__}")
    client = dict(given)
    refuse_unknown(client, mapping, "client_kwargs (those with an OpenDAL equivalent)", ValueError)
    for key, value in client.items():
        _put(options, mapping[key], value, f"client_kwargs[{key!r}]")


def s3(options: dict[str, Any]) -> dict[str, Any]:
    """s3fs's names: key, secret, token, endpoint_url, anon, client_kwargs, requester_pays."""
    options = dict(options)
    for alias, name in (
        ("key", "access_key_id"),
        ("secret", "secret_access_key"),
        ("token", "session_token"),
        ("endpoint_url", "endpoint"),
        ("requester_pays", "enable_request_payer"),
    ):
        if alias in options:
            _rename(options, alias, name)
    _client_kwargs(
        options,
        {
            "region_name": "region",
            "endpoint_url": "endpoint",
            "aws_access_key_id": "access_key_id",
            "aws_secret_access_key": "secret_access_key",
            "aws_session_token": "session_token",
        },
    )
    if _flag(options.pop("anon", False), "anon"):
        options.setdefault("allow_anonymous", True)
        options.setdefault("skip_signature", True)
    return options


def azblob(options: dict[str, Any]) -> dict[str, Any]:
    """adlfs's names and AZURE_STORAGE_* variables: connection_string, anon, account URL."""
    options = dict(options)
    connection = options.pop("connection_string", None) or os.environ.get(
        "AZURE_STORAGE_CONNECTION_STRING"
    )
    if connection:
        parts = dict(part.split("=", 1) for part in connection.strip(";").split(";") if "=" in part)
        for part, name in (
            ("AccountName", "account_name"),
            ("AccountKey", "account_key"),
            ("SharedAccessSignature", "sas_token"),
            ("BlobEndpoint", "endpoint"),
        ):
            _put(options, name, parts.get(part), f"connection_string {part}")
    for variable, name in (
        ("AZURE_STORAGE_ACCOUNT_NAME", "account_name"),
        ("AZURE_STORAGE_ACCOUNT_KEY", "account_key"),
        ("AZURE_STORAGE_SAS_TOKEN", "sas_token"),
    ):
        if name not in options and os.environ.get(variable):
            options[name] = os.environ[variable]
    if "credential" in options:  # adlfs: an account key given as the credential
        _rename(options, "credential", "account_key")
    if _flag(options.pop("anon", False), "anon"):
        options.setdefault("skip_signature", True)
    if "endpoint" not in options and options.get("account_name"):
        options["endpoint"] = f"https://{options['account_name']}.blob.core.windows.net"
    return options


def gcs(options: dict[str, Any]) -> dict[str, Any]:
    """gcsfs's names: token (a credentials file, "anon" …), endpoint_url, project."""
    options = dict(options)
    options.pop("project", None)  # gcsfs needs it to list or make buckets; OpenDAL does not
    if "endpoint_url" in options:
        _rename(options, "endpoint_url", "endpoint")
    token = options.get("token")
    if token == "anon":
        options.pop("token")
        options.setdefault("allow_anonymous", True)
    elif token in ("google_default", "cloud", "browser"):
        options.pop("token")  # OpenDAL finds the default credentials itself
    elif isinstance(token, (str, os.PathLike)) and os.path.isfile(token):
        options.pop("token")
        _put(options, "credential_path", os.fspath(token), "token")
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator and "endpoint" not in options:
        options["endpoint"] = emulator
        options.setdefault("allow_anonymous", True)
    return options


#: Alias translations by OpenDAL scheme.
ALIASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "s3": s3,
    "azblob": azblob,
    "gcs": gcs,
}


def resolve(scheme: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the familiar aliases of ``scheme`` turned into OpenDAL names."""
    translate = ALIASES.get(scheme)
    return translate(options) if translate else dict(options)
