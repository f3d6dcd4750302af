"""What the installed opendal wheel knows about each service.

Everything here is read from opendal itself (`opendal.services.Scheme` for the
schemes compiled into the wheel, `opendal.config` for each service's options), so a
new opendal release brings its services without a change here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import opendal
import opendal.config
from opendal.services import Scheme

#: Option names that name a service's top-level namespace (bucket, container, ...).
#: A service whose configuration has one of them keeps it as the first path segment.
CONTAINER_OPTIONS = ("bucket", "container", "filesystem", "share_name")

#: Words that mark an option as secret: its value never appears in a repr or an error.
_SECRET_WORDS = ("key", "secret", "password", "token", "credential", "connection_string", "sas")
_NOT_SECRET = frozenset({"access_key_id", "key_field", "application_key_id", "client_id"})


@dataclass(frozen=True)
class ServiceConfig:
    """The static facts about one service that the filesystem needs."""

    scheme: str
    options: frozenset[str] | None
    """Valid configuration keys, or None when the wheel has no typed config for it."""
    container_option: str | None
    """The option that names the container (``bucket`` for s3), if the service has one."""


@functools.cache
def schemes() -> tuple[str, ...]:
    """The schemes compiled into the installed opendal wheel, sorted."""
    members = (getattr(Scheme, name) for name in dir(Scheme) if name[:1].isupper())
    return tuple(sorted(m.value for m in members if isinstance(m, Scheme)))


def _config_classes() -> dict[str, type]:
    """Map each scheme to its ``opendal.config.*Config`` TypedDict."""
    by_scheme = {}
    for name in dir(Scheme):
        member = getattr(Scheme, name)
        if isinstance(member, Scheme):
            config = getattr(opendal.config, f"{name}Config", None)
            if config is not None:
                by_scheme[member.value] = config
    return by_scheme


@functools.cache
def service_config(scheme: str) -> ServiceConfig:
    """The configuration facts of ``scheme``; ValueError when the wheel does not offer it."""
    if scheme not in schemes():
        raise ValueError(
            f"unknown OpenDAL service {scheme!r}: opendal {opendal.__version__} "
            f"offers {', '.join(schemes())}"
        )
    config = _config_classes().get(scheme)
    if config is None:
        return ServiceConfig(scheme, None, None)
    keys = frozenset(config.__annotations__) - {"scheme"}
    container = next((k for k in CONTAINER_OPTIONS if k in keys), None)
    return ServiceConfig(scheme, keys, container)


def is_secret(option: str) -> bool:
    """Whether an option's value must be hidden from reprs and messages."""
    name = option.lower()
    return name not in _NOT_SECRET and any(word in name for word in _SECRET_WORDS)
