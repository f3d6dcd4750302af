"""The option names users of s3fs, adlfs and gcsfs pass are translated, not rejected."""

from __future__ import annotations

import pytest

from opendalfs import OpendalFileSystem, _aliases


def opts(scheme, **options):
    return OpendalFileSystem(scheme, skip_instance_cache=True, **options)._options


def test_s3fs_names():
    got = opts(
        "s3",
        key="AK",
        secret="SK",
        token="ST",
        endpoint_url="http://127.0.0.1:1",
        client_kwargs={"region_name": "eu-west-1"},
        requester_pays=True,
    )
    assert got == {
        "access_key_id": "AK",
        "secret_access_key": "SK",
        "session_token": "ST",
        "endpoint": "http://127.0.0.1:1",
        "region": "eu-west-1",
        "enable_request_payer": "true",
    }


def test_s3_anonymous():
    got = opts("s3", anon=True, region="us-east-1")
    assert got["allow_anonymous"] == "true"
    assert got["skip_signature"] == "true"
    assert "allow_anonymous" not in opts("s3", anon=False, region="us-east-1")


def test_s3_client_kwargs_endpoint_and_keys():
    got = opts(
        "s3",
        client_kwargs={
            "endpoint_url": "http://127.0.0.1:2",
            "region_name": "auto",
            "aws_access_key_id": "AK",
            "aws_secret_access_key": "SK",
        },
    )
    assert got["endpoint"] == "http://127.0.0.1:2"
    assert got["access_key_id"] == "AK"


@pytest.mark.parametrize(
    "options",
    [
        {"key": "a", "access_key_id": "b"},
        {"endpoint_url": "http://x", "endpoint": "http://y"},
        {"client_kwargs": {"region_name": "a"}, "region": "b"},
    ],
)
def test_conflicting_aliases_are_refused(options):
    options = {"region": "us-east-1", **options}
    with pytest.raises(ValueError, match="both given"):
        OpendalFileSystem("s3", skip_instance_cache=True, **options)


def test_same_value_twice_is_fine():
    assert opts("s3", key="a", access_key_id="a", region="r")["access_key_id"] == "a"


def test_unknown_client_kwargs_are_refused():
    with pytest.raises(ValueError, match="verify"):
        OpendalFileSystem("s3", region="r", client_kwargs={"verify": False})


def test_azure_connection_string_and_account():
    conn = (
        "DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=a2V5;"
        "BlobEndpoint=http://127.0.0.1:10000/dev;"
    )
    got = opts("azblob", connection_string=conn)
    assert got == {
        "account_name": "dev",
        "account_key": "a2V5",
        "endpoint": "http://127.0.0.1:10000/dev",
    }
    got = opts("azblob", account_name="acct", account_key="a2V5")
    assert got["endpoint"] == "https://acct.blob.core.windows.net"
    assert opts("azblob", account_name="acct", credential="a2V5")["account_key"] == "a2V5"


def test_azure_environment(monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "envacct")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "a2V5")
    got = opts("azblob")
    assert got["account_name"] == "envacct"
    assert got["endpoint"] == "https://envacct.blob.core.windows.net"
    assert opts("azblob", account_name="given")["account_name"] == "given"


def test_gcsfs_names(tmp_path, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    got = opts("gcs", token="anon", endpoint_url="http://127.0.0.1:3", project="p")
    assert got == {"allow_anonymous": "true", "endpoint": "http://127.0.0.1:3"}
    creds = tmp_path / "creds.json"
    creds.write_text("{}")
    got = _aliases.gcs({"token": str(creds)})
    assert got == {"credential_path": str(creds)}
    assert _aliases.gcs({"token": "google_default"}) == {}
    assert _aliases.gcs({"token": "ya29.access-token"}) == {"token": "ya29.access-token"}


def test_gcs_emulator_variable(monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443")
    got = _aliases.gcs({})
    assert got == {"endpoint": "http://127.0.0.1:4443", "allow_anonymous": True}


def test_other_services_are_untouched():
    assert _aliases.resolve("memory", {"root": "/x"}) == {"root": "/x"}
    with pytest.raises(ValueError, match="'key'"):
        OpendalFileSystem("memory", key="x")


@pytest.mark.own_services
@pytest.mark.parametrize("service", ["s3", "azblob"], indirect=True)
def test_familiar_options_reach_a_live_server(service, servers, root):
    """s3fs-style and adlfs-style options work against the real test servers."""
    o = service.options
    if service.scheme == "s3":
        fs = OpendalFileSystem(
            "s3",
            key=o["access_key_id"],
            secret=o["secret_access_key"],
            client_kwargs={"endpoint_url": o["endpoint"], "region_name": o["region"]},
            disable_config_load=True,
            skip_instance_cache=True,
        )
    else:
        conn = (
            f"DefaultEndpointsProtocol=http;AccountName={o['account_name']};"
            f"AccountKey={o['account_key']};BlobEndpoint={o['endpoint']};"
        )
        fs = OpendalFileSystem("azblob", connection_string=conn, skip_instance_cache=True)
    fs.pipe_file(f"{root}/k", b"familiar")
    assert fs.cat_file(f"{root}/k") == b"familiar"
    assert service.filesystem().cat_file(f"{root}/k") == b"familiar"
