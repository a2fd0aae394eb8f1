"""Compact band buckets (ingest/lsh.py), checked against a naive model."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ingest.dedup.lsh as lsh
from ingest.dedup.lsh import BandIndex, Column
from ingest.errors import ConfigError

N_BANDS = 3
# Few distinct prefixes so that rows share buckets; low bits vary to check
# that only the top 32 bits of a key are compared.
PREFIXES = [0, 1, 2, 0xFFFFFFFF]
keys_strategy = st.lists(
    st.tuples(st.sampled_from(PREFIXES), st.integers(0, 0xFFFFFFFF)).map(
        lambda p: (p[0] << 32) | p[1]
    ),
    min_size=N_BANDS,
    max_size=N_BANDS,
)


def as_keys(values: list[int] | list[list[int]]) -> np.ndarray:
    """One row of keys, or a chunk of rows."""
    return np.array(values, dtype=np.uint64)


def naive_query(stored: list[list[int]], query: list[int]) -> list[int]:
    return [
        row
        for row, keys in enumerate(stored)
        if any(k >> 32 == q >> 32 for k, q in zip(keys, query, strict=True))
    ]


def test_column_grows_and_truncates() -> None:
    c = Column(np.int64)
    for i in range(3000):
        c.append(i)
    c.extend(np.arange(5))
    assert len(c) == 3005
    assert c.view()[-6:].tolist() == [2999, 0, 1, 2, 3, 4]
    c.truncate(2)
    assert c.view().tolist() == [0, 1]


def test_add_then_query() -> None:
    index = BandIndex(N_BANDS)
    assert index.add(as_keys([1 << 32, 2 << 32, 3 << 32])) == 0
    assert index.add(as_keys([4 << 32, 2 << 32, 5 << 32])) == 1
    assert index.query(as_keys([9 << 32, 2 << 32, 9 << 32])).tolist() == [0, 1]
    assert index.query(as_keys([4 << 32, 9 << 32, 9 << 32])).tolist() == [1]
    assert index.query(as_keys([9 << 32, 9 << 32, 9 << 32])).tolist() == []
    # Same band value in another band position is not a match.
    assert index.query(as_keys([2 << 32, 9 << 32, 9 << 32])).tolist() == []


def test_only_the_top_32_bits_are_compared() -> None:
    index = BandIndex(1)
    index.add(as_keys([(7 << 32) | 5]))
    index.load([as_keys([[(7 << 32) | 6]])])
    assert index.query(as_keys([(7 << 32) | 123])).tolist() == [0, 1]


def test_extreme_prefixes() -> None:
    index = BandIndex(1)
    index.load([as_keys([[0], [0xFFFFFFFF_FFFFFFFF]])])
    assert index.query(as_keys([0xFFFFFFFF_00000000])).tolist() == [1]
    assert index.query(as_keys([0x00000000_FFFFFFFF])).tolist() == [0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.lists(keys_strategy, max_size=6)), max_size=8),
    st.lists(keys_strategy, min_size=1, max_size=4),
    st.integers(min_value=1, max_value=4),
)
def test_matches_naive_model(
    ops: list[tuple[bool, list[list[int]]]], queries: list[list[int]], merge_every: int
) -> None:
    """Any mix of load() and add() (with merges) answers like a linear scan."""
    index = BandIndex(N_BANDS, merge_every=merge_every)
    stored: list[list[int]] = []
    for bulk, batch in ops:
        if bulk:
            assert index.load([as_keys(batch).reshape(-1, N_BANDS)]) == len(batch)
            stored.extend(batch)
            continue
        for keys in batch:
            assert index.add(as_keys(keys)) == len(stored)
            stored.append(keys)
    assert len(index) == len(stored)
    for query in queries:
        assert index.query(as_keys(query)).tolist() == naive_query(stored, query)


def test_load_in_chunks_equals_adds_with_merges() -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 40, size=(500, N_BANDS), dtype=np.uint64) << np.uint64(32)
    bulk = BandIndex(N_BANDS)
    bulk.load([keys[:123], keys[123:400], keys[400:]])
    one_by_one = BandIndex(N_BANDS, merge_every=7)
    for row in keys:
        one_by_one.add(row)
    stored = keys.tolist()
    for query in rng.integers(0, 40, size=(50, N_BANDS), dtype=np.uint64) << np.uint64(32):
        expected = naive_query(stored, query.tolist())
        assert bulk.query(query).tolist() == expected
        assert one_by_one.query(query).tolist() == expected


def test_load_after_adds_keeps_row_numbers() -> None:
    index = BandIndex(1, merge_every=100)
    index.add(as_keys([1 << 32]))
    index.add(as_keys([2 << 32]))
    assert index.load([as_keys([[1 << 32], [3 << 32]])]) == 2
    assert index.query(as_keys([1 << 32])).tolist() == [0, 2]
    assert index.add(as_keys([3 << 32])) == 4
    assert index.query(as_keys([3 << 32])).tolist() == [3, 4]


def test_failed_load_indexes_nothing() -> None:
    index = BandIndex(2)
    index.add(as_keys([1 << 32, 1 << 32]))

    def chunks() -> Iterator[np.ndarray]:
        yield as_keys([[1 << 32, 2 << 32]])
        raise RuntimeError("cursor died")

    with pytest.raises(RuntimeError):
        index.load(chunks())
    assert len(index) == 1
    assert index.query(as_keys([1 << 32, 1 << 32])).tolist() == [0]


def test_wrong_shapes_are_config_errors() -> None:
    index = BandIndex(2)
    with pytest.raises(ConfigError, match="bands_from_minhash"):
        index.add(as_keys([1, 2, 3]))
    with pytest.raises(ConfigError):
        index.query(np.array([1, 2], dtype=np.int64))
    with pytest.raises(ConfigError):
        index.load([as_keys([[1, 2, 3]])])
    with pytest.raises(ConfigError, match="n_bands"):
        BandIndex(0)
    with pytest.raises(ConfigError, match="merge_every"):
        BandIndex(2, merge_every=0)


def test_capacity_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lsh, "MAX_ROWS", 3)
    index = BandIndex(1)
    index.load([as_keys([[1], [2]])])
    index.add(as_keys([3]))
    with pytest.raises(ConfigError, match="at most 3"):
        index.add(as_keys([4]))
    with pytest.raises(ConfigError):
        index.load([as_keys([[5]])])


def test_memory_is_about_8_bytes_per_band_and_row() -> None:
    index = BandIndex(42)
    rng = np.random.default_rng(0)
    index.load([rng.integers(0, 2**63, size=(10_000, 42), dtype=np.uint64)])
    per_row = (index.nbytes() - 4096 * 42 * 4) / len(index)
    assert per_row == 42 * 8
