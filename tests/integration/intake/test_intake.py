"""intake catalogs kept on memory, fs and S3 (moto), and the data they name there.

Both of intake 2's faces: the YAML catalogs of intake 1 (``intake.open_catalog``,
entries with ``{{ CATALOG_DIR }}``, which is the catalog's own ``opendal+…`` URL),
and intake 2's datatypes, readers and ``Catalog`` saved to and loaded from a URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("CI") != "true":  # under CI the integration extra must be installed
    pytest.importorskip("intake")
    pytest.importorskip("pandas")

import intake
import pandas as pd
from intake.readers import datatypes, readers

SERVICES = pytest.mark.parametrize("service", ["memory", "fs", "s3"], indirect=True)
#: Every service test here names its own services (conftest leaves them alone).
pytestmark = pytest.mark.own_services
DOC = Path(__file__).parents[3] / "docs" / "integrations" / "intake.md"
CSV = b"id,city,temp\n1,Oslo,3.5\n2,Lima,18.0\n3,Pune,31.25\n"
FRAME = pd.DataFrame(
    {"id": [1, 2, 3], "city": ["Oslo", "Lima", "Pune"], "temp": [3.5, 18.0, 31.25]}
)

CATALOG_V1 = """
metadata:
  version: 1
sources:
  weather:
    description: one day of weather
    driver: csv
    args:
      urlpath: "{{ CATALOG_DIR }}/data/weather.csv"
  weather_raw:
    driver: textfiles
    args:
      urlpath: "{{ CATALOG_DIR }}/data/weather.csv"
"""


def url(service: Any, path: str) -> str:
    return f"opendal+{service.scheme}://{path}"


@SERVICES
def test_yaml_catalog_by_url(service, fs, root):
    """The catalog, and the files its entries name relative to it, all in storage."""
    fs.pipe_file(f"{root}/cat/catalog.yaml", CATALOG_V1.encode())
    fs.pipe_file(f"{root}/cat/data/weather.csv", CSV)
    cat = intake.open_catalog(
        url(service, f"{root}/cat/catalog.yaml"), storage_options=service.options
    )
    assert sorted(cat) == ["weather", "weather_raw"]
    assert cat.weather.description == "one day of weather"
    # CATALOG_DIR is the catalog's URL: on S3 with its bucket.
    assert cat.weather.data.url == url(service, f"{root}/cat/data/weather.csv")
    pd.testing.assert_frame_equal(cat.weather.read(), FRAME)  # the catalog's options
    entry = cat.weather(storage_options=service.options)  # or the entry's own
    pd.testing.assert_frame_equal(entry.read(), FRAME)
    raw = cat.weather_raw(storage_options=service.options).read()
    assert "".join(raw).encode() == CSV


@SERVICES
def test_readers_by_url(service, fs, root):
    fs.pipe_file(f"{root}/weather.csv", CSV)
    FRAME.to_parquet(url(service, f"{root}/weather.parquet"), storage_options=service.options)
    csv = datatypes.CSV(url=url(service, f"{root}/weather.csv"), storage_options=service.options)
    pd.testing.assert_frame_equal(readers.PandasCSV(csv).read(), FRAME)
    parquet = datatypes.Parquet(
        url=url(service, f"{root}/weather.parquet"), storage_options=service.options
    )
    pd.testing.assert_frame_equal(readers.PandasParquet(parquet).read(), FRAME)


@SERVICES
def test_catalog_saved_to_and_loaded_from_storage(service, fs, root):
    """intake 2's ``Catalog`` written to a URL, read back, and its reader run."""
    fs.pipe_file(f"{root}/weather.csv", CSV)
    cat = intake.entry.Catalog()
    csv = datatypes.CSV(url=url(service, f"{root}/weather.csv"), storage_options=service.options)
    cat["weather"] = readers.PandasCSV(csv)
    cat.to_yaml_file(url(service, f"{root}/catalog.yaml"), **service.options)
    assert b"weather" in fs.cat_file(f"{root}/catalog.yaml")
    back = intake.from_yaml_file(url(service, f"{root}/catalog.yaml"), **service.options)
    pd.testing.assert_frame_equal(back["weather"].read(), FRAME)


@SERVICES
def test_a_catalog_from_a_filesystem_instance(service, fs, root):
    """With an instance at hand: its URL (``unstrip_protocol``) and its options."""
    fs.pipe_file(f"{root}/cat/catalog.yaml", CATALOG_V1.encode())
    fs.pipe_file(f"{root}/cat/data/weather.csv", CSV)
    cat = intake.open_catalog(
        fs.unstrip_protocol(f"{root}/cat/catalog.yaml"), storage_options=fs.storage_options
    )
    pd.testing.assert_frame_equal(cat.weather(storage_options=fs.storage_options).read(), FRAME)


@SERVICES
def test_a_missing_catalog(service, root):
    with pytest.raises(FileNotFoundError):
        list(
            intake.open_catalog(
                url(service, f"{root}/missing.yaml"), storage_options=service.options
            )
        )


def test_docs_snippet_runs(run_doc_snippets):
    """docs/integrations/intake.md: its code runs as shown."""
    run_doc_snippets(DOC)
