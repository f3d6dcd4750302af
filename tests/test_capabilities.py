"""The services' profiles (conftest.PROFILES) and opendalfs's capabilities agree.

Tests take what a service does from its profile, written from what the service is
known to do; opendalfs decides how to carry out each operation from
``opendalfs._capabilities``. This test holds the two to each other on each live
service, so a wrong capability, or a wrong profile, fails here by name.
"""

from __future__ import annotations

import pytest

#: The facts of a profile that opendalfs reads from its own capabilities
#: (``opendalfs._capabilities.Capabilities``), and their names there;
#: the test below holds each service's profile and capabilities to each other.
CAPABILITY_OF: dict[str, str] = {
    "listing": "list",
    "empty_files": "write_empty",
    "blocking_sync": "blocking_calls",
    "recursive_listing": "recursive_list",
    "creates_directories": "create_dir",
    "server_copy": "copy",
    "renames": "rename",
    "presigns": "presign_read",
    "reads_directories": "reads_directories",
    "lists_by_prefix": "lists_by_prefix",
    "write_parts": "write_multi",
    "write_streams": "write_streams",
    "native_append": "append",
    "read_if_match": "read_if_match",
    "seeking_reads": "seeking_readers",
    "stat_sees_directories": "stat_sees_directories",
    "versions": "versions",
}


@pytest.mark.any_service
def test_profiles_agree_with_the_capabilities(fs, service):
    caps = fs._backend(service.container).caps
    profile = {fact: getattr(service, fact) for fact in CAPABILITY_OF}
    code = {fact: getattr(caps, name) for fact, name in CAPABILITY_OF.items()}
    assert code == profile
