"""Cases with a second writer: one filesystem looks, someone else changes the store,
the same filesystem asks again. Shared by tests/test_other_writers.py, which holds
opendalfs to the rule in docs/consistency.md, and bench/consistency.py, which runs
the same cases on s3fs and fsspec's own filesystems for the table in that page.

Each case returns what the second answer was:

- ``"store"``: as the store is now;
- ``"stale"``: as the store was before the change;
- ``"wrong"``: neither (for bytes: a truncated or mixed object);
- ``"error: <type>"``: an exception where the store held an answer.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SMALL = b"a" * 10
LARGE = b"b" * 200_000


@dataclass
class Pair:
    """The filesystem under test and a second writer on the same store, each with the
    name of one fresh directory there (the two may spell it differently)."""

    fs: Any
    root: str
    other: Any
    other_root: str

    def at(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def there(self, rel: str) -> str:
        return f"{self.other_root}/{rel}"

    def write(self, rel: str, data: bytes) -> None:
        """The second writer's write."""
        self.other.pipe_file(self.there(rel), data)

    def read(self, path: str) -> bytes:
        """A file read whole through the filesystem under test."""
        with self.fs.open(path, "rb") as f:
            return f.read()


def judge(got: Any, now: Any, before: Any) -> str:
    if got == now:
        return "store"
    if got == before:
        return "stale"
    return "wrong"


def _names(listing: Any, root: str) -> list[str]:
    """The names in ``listing`` relative to ``root`` (fsspec's memory filesystem
    spells names with a leading ``/``)."""
    base = root.strip("/") + "/"
    return sorted(str(n).strip("/").removeprefix(base) for n in listing)


def exists_after_create(p: Pair) -> str:
    assert not p.fs.exists(p.at("f"))
    p.write("f", SMALL)
    return judge(p.fs.exists(p.at("f")), True, False)


def open_after_create(p: Pair) -> str:
    assert not p.fs.exists(p.at("f"))
    p.write("f", SMALL)
    try:
        return judge(p.read(p.at("f")), SMALL, None)
    except FileNotFoundError:
        return "stale"


def exists_after_delete(p: Pair) -> str:
    p.write("f", SMALL)
    p.fs.info(p.at("f"))
    p.other.rm_file(p.there("f"))
    return judge(p.fs.exists(p.at("f")), False, True)


def open_after_delete(p: Pair) -> str:
    p.write("f", SMALL)
    p.read(p.at("f"))
    p.other.rm_file(p.there("f"))
    try:
        return judge(p.read(p.at("f")), None, SMALL)
    except FileNotFoundError:
        return "store"


def info_after_overwrite(p: Pair) -> str:
    p.write("f", SMALL)
    p.fs.info(p.at("f"))
    p.write("f", LARGE)
    return judge(p.fs.info(p.at("f"))["size"], len(LARGE), len(SMALL))


def open_after_info_and_growth(p: Pair) -> str:
    p.write("f", SMALL)
    p.fs.info(p.at("f"))
    p.write("f", LARGE)
    return judge(p.read(p.at("f")), LARGE, SMALL)


def open_after_info_and_shrink(p: Pair) -> str:
    p.write("f", LARGE)
    p.fs.info(p.at("f"))
    p.write("f", SMALL)
    return judge(p.read(p.at("f")), SMALL, LARGE)


def cat_after_overwrite(p: Pair) -> str:
    p.write("f", SMALL)
    p.fs.cat_file(p.at("f"))
    p.write("f", LARGE)
    return judge(p.fs.cat_file(p.at("f")), LARGE, SMALL)


def open_after_ls_and_growth(p: Pair) -> str:
    p.write("d/f", SMALL)
    p.fs.ls(p.at("d"))
    p.write("d/f", LARGE)
    return judge(p.read(p.at("d/f")), LARGE, SMALL)


def isdir_after_create_below(p: Pair) -> str:
    assert not p.fs.isdir(p.at("d"))
    p.write("d/x", SMALL)
    return judge(p.fs.isdir(p.at("d")), True, False)


def find_after_add(p: Pair) -> str:
    p.write("d/a", SMALL)
    p.fs.find(p.at("d"))
    p.write("d/b", SMALL)
    return judge(_names(p.fs.find(p.at("d")), p.at("d")), ["a", "b"], ["a"])


def ls_after_add(p: Pair) -> str:
    p.write("d/a", SMALL)
    p.fs.ls(p.at("d"), detail=False)
    p.write("d/b", SMALL)
    return judge(_names(p.fs.ls(p.at("d"), detail=False), p.at("d")), ["a", "b"], ["a"])


def parquet_after_rewrite(p: Pair) -> str:
    import pandas as pd

    def table(rows: int) -> bytes:
        out = io.BytesIO()
        pd.DataFrame({"x": range(rows)}).to_parquet(out)
        return out.getvalue()

    p.write("t.parquet", table(10))
    assert len(pd.read_parquet(p.at("t.parquet"), filesystem=p.fs)) == 10
    p.write("t.parquet", table(100_000))
    return judge(len(pd.read_parquet(p.at("t.parquet"), filesystem=p.fs)), 100_000, 10)


@dataclass(frozen=True)
class Case:
    run: Callable[[Pair], str]
    #: What the case does, for the table in docs/consistency.md.
    says: str
    #: Whether fsspec documents the answer as the listing cache's: it may be as the
    #: store was before the change where listings are kept.
    listing: bool = False
    #: Whether it needs pandas and pyarrow (and a sync filesystem).
    pandas: bool = False

    @property
    def name(self) -> str:
        return self.run.__name__


CASES = (
    Case(exists_after_create, "`exists(p)` False; `p` made elsewhere; `exists(p)`"),
    Case(open_after_create, "`exists(p)` False; `p` made elsewhere; `open(p).read()`"),
    Case(exists_after_delete, "`info(p)`; `p` deleted elsewhere; `exists(p)`"),
    Case(open_after_delete, "`open(p).read()`; `p` deleted elsewhere; `open(p).read()`"),
    Case(info_after_overwrite, "`info(p)`; `p` rewritten larger elsewhere; `info(p)['size']`"),
    Case(open_after_info_and_growth, "`info(p)`; `p` rewritten larger; `open(p).read()`"),
    Case(open_after_info_and_shrink, "`info(p)`; `p` rewritten smaller; `open(p).read()`"),
    Case(cat_after_overwrite, "`cat(p)`; `p` rewritten elsewhere; `cat(p)`"),
    Case(open_after_ls_and_growth, "`ls(d)`; `d/f` rewritten larger; `open(d/f).read()`"),
    Case(isdir_after_create_below, "`isdir(d)` False; `d/x` made elsewhere; `isdir(d)`"),
    Case(find_after_add, "`find(d)`; `d/b` added elsewhere; `find(d)`"),
    Case(ls_after_add, "`ls(d)`; `d/b` added elsewhere; `ls(d)`", listing=True),
    Case(
        parquet_after_rewrite,
        "`pd.read_parquet(p)`; `p` rewritten with more rows; `pd.read_parquet(p)`",
        pandas=True,
    ),
)


def run_case(case: Case, pair: Pair) -> str:
    """The case's outcome; an exception where the store held an answer is one too."""
    try:
        return case.run(pair)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
