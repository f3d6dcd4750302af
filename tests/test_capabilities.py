"""The services' profiles (conftest.PROFILES) and opendalfs's capabilities agree.

Tests take what a service does from its profile, written from what the service is
known to do; opendalfs decides how to carry out each operation from
``opendalfs._capabilities``. This test holds the two to each other on each live
service, so a wrong capability, or a wrong profile, fails here by name.
"""

from __future__ import annotations

import pytest
from conftest import CAPABILITY_OF


@pytest.mark.any_service
def test_profiles_agree_with_the_capabilities(fs, service):
    caps = fs._backend(service.container).caps
    profile = {fact: getattr(service, fact) for fact in CAPABILITY_OF}
    code = {fact: getattr(caps, name) for fact, name in CAPABILITY_OF.items()}
    assert code == profile
