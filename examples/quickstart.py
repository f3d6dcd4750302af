"""pandas writes a Parquet dataset through opendalfs; dask reads it back.

The same code runs on two OpenDAL services, picked by the URL alone:
``opendal+memory://`` (an in-process store) and ``opendal+fs://`` (a local
directory, given as the ``root`` option). opendalfs registers its
``opendal+<service>`` protocols with fsspec through entry points, so pandas and
dask find it without an import. Run it with ``python3 -m nox -s demo``.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import dask
import dask.dataframe as dd
import fsspec
import numpy as np
import pandas as pd

PARTITIONS = 3
ROWS_PER_PARTITION = 1_000
CITIES = ["Lisbon", "Osaka", "Quito", "Tartu"]


def make_frame() -> pd.DataFrame:
    """A few thousand rows: an integer key, a string, a float and a timestamp.

    The strings are pyarrow-backed because that is what dask reads them back as.
    """
    rng = np.random.default_rng(seed=7)
    n = PARTITIONS * ROWS_PER_PARTITION
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "city": pd.array(rng.choice(CITIES, size=n), dtype="string[pyarrow]"),
            "temperature": rng.normal(15.0, 8.0, size=n).round(2),
            "measured_at": pd.date_range("2024-01-01", periods=n, freq="min"),
        }
    )


def round_trip(base_url: str, storage_options: dict[str, Any]) -> list[str]:
    """Write one Parquet file per partition under ``base_url``, read them back, compare.

    Returns the names of the files the filesystem lists under ``base_url``.
    """
    df = make_frame()
    for i in range(PARTITIONS):
        part = df.iloc[i * ROWS_PER_PARTITION : (i + 1) * ROWS_PER_PARTITION]
        url = f"{base_url}part-{i}.parquet"
        part.to_parquet(url, index=False, storage_options=storage_options)

    back = dd.read_parquet(base_url, storage_options=storage_options).compute()
    back = back.sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, df)

    fs, path = fsspec.url_to_fs(base_url, **storage_options)
    files = fs.find(path, detail=True)
    assert len(files) == PARTITIONS, sorted(files)
    print(f"{base_url}: {len(back)} rows in {len(files)} files")
    for name, info in sorted(files.items()):
        print(f"  {name}  {info['size']:,} bytes")
    print("  round trip OK")
    return sorted(files)


def main() -> None:
    """Run the round trip in memory, then in a temporary local directory."""
    round_trip("opendal+memory://demo/", {})

    with tempfile.TemporaryDirectory(prefix="opendalfs-demo-") as root:
        names = round_trip("opendal+fs://demo/", {"root": root})
        # With root set, fsspec paths are relative to it: the files are plain files there.
        on_disk = sorted(os.listdir(os.path.join(root, "demo")))
        assert [name.rsplit("/", 1)[-1] for name in names] == on_disk, on_disk
        print(f"  and on disk in {root}/demo: {', '.join(on_disk)}")


if __name__ == "__main__":
    # Threads, not dask.distributed: the demo needs nothing but dask itself.
    with dask.config.set(scheduler="threads"):
        main()
