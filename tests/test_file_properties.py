"""Property tests: files behave like ``io.BytesIO`` for any content and any call sequence."""

from __future__ import annotations

import io
import uuid

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

CACHE_TYPES = ["sequential", "readahead", "bytes", "blockcache", "first", "background", "none"]

contents = st.binary(max_size=20_000) | st.builds(
    lambda lines: b"\n".join(lines), st.lists(st.binary(max_size=80), max_size=200)
)
read_ops = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(-1, 5_000)),
        st.tuples(st.just("readline"), st.integers(-1, 200)),
        st.tuples(st.just("seek"), st.integers(-25_000, 25_000), st.integers(0, 2)),
        st.tuples(st.just("tell")),
    ),
    max_size=25,
)


def _apply(f, op):
    """Run one operation; return its result, or ``"error"`` for a seek before the start.

    ``BytesIO`` clamps a relative seek before the start to 0 where a local file
    raises; a file must raise (``ValueError``), so the model does too.
    """
    name, *args = op
    if name != "seek":
        return getattr(f, name)(*args)
    offset, whence = args
    if isinstance(f, io.BytesIO):
        base = (0, f.tell(), len(f.getbuffer()))[whence]
        if base + offset < 0:
            return "error"
    try:
        return f.seek(offset, whence)
    except ValueError:
        return "error"


@pytest.mark.any_service
@pytest.mark.any_service
@pytest.mark.any_service
@given(
    data=contents,
    ops=read_ops,
    block_size=st.integers(1, 4096),
    cache_type=st.sampled_from(CACHE_TYPES),
)
def test_reads_match_bytesio(fs, root, service, data, ops, block_size, cache_type):
    assume(data or service.empty_files)
    path = f"{root}/{uuid.uuid4().hex}"
    fs.pipe_file(path, data)
    model = io.BytesIO(data)
    with fs.open(path, "rb", block_size=block_size, cache_type=cache_type) as f:
        for op in ops:
            assert _apply(f, op) == _apply(model, op), op
        assert f.read() == model.read()


@given(
    chunks=st.lists(st.binary(max_size=3_000) | st.just(b""), max_size=30),
    block_size=st.integers(1, 2_048),
    mode=st.sampled_from(["wb", "xb"]),
)
def test_writes_store_the_concatenation(fs, root, service, chunks, block_size, mode):
    assume(any(chunks) or service.empty_files)
    path = f"{root}/{uuid.uuid4().hex}"
    with fs.open(path, mode, block_size=block_size) as f:
        for chunk in chunks:
            assert f.write(chunk) == len(chunk)
        assert f.tell() == sum(map(len, chunks))
    assert fs.cat_file(path) == b"".join(chunks)


@given(old=st.binary(max_size=5_000), chunks=st.lists(st.binary(max_size=2_000), max_size=10))
def test_appends_keep_the_old_bytes(fs, root, service, old, chunks):
    assume(old or service.empty_files)
    path = f"{root}/{uuid.uuid4().hex}"
    fs.pipe_file(path, old)
    with fs.open(path, "ab", block_size=1_000) as f:
        for chunk in chunks:
            f.write(chunk)
    assert fs.cat_file(path) == old + b"".join(chunks)
