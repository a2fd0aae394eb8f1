"""Normalisation, shingles and datasketch-compatible signatures (ingest/minhash.py)."""

from __future__ import annotations

import pickle
import unicodedata

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.config import DedupSettings
from ingest.dedup.minhash import (
    MAX_BANDS,
    Fingerprint,
    Fingerprinter,
    LshLayout,
    band_keys,
    bands_from_minhash,
    check_settings,
    content_hash,
    estimate_containment,
    estimate_jaccard,
    fingerprint,
    lsh_layout,
    normalise_text,
    permutations,
    shingle_set,
    tokens,
)
from ingest.errors import ConfigError

DEFAULT = DedupSettings()


def reference_tokens(text: str) -> list[bytes]:
    """The documented rule, one character at a time (slow and obvious)."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    kept = []
    for ch in folded:
        if unicodedata.category(ch)[0] == "M":
            continue
        kept.append(ch if ch.isalnum() else " ")
    return unicodedata.normalize("NFC", "".join(kept)).encode("utf-8").split()


def datasketch_values(text: str, num_perm: int, size: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=1)
    for shingle in shingle_set(tokens(text), size):
        m.update(shingle)
    return m.hashvalues


# -- normalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello,   World!\n\n", "hello world"),
        ("Les États-Unis", "les etats unis"),
        ("LES ETATS-UNIS", "les etats unis"),
        ("l’été déjà où", "l ete deja ou"),
        ("Straße", "strasse"),
        ("ﬁnance", "finance"),  # ligature, NFKC
        ("ＯｐｅｎＡＩ", "openai"),  # full-width, NFKC
        ("snake_case", "snake case"),
        ("GPT-4o costs $20/month", "gpt 4o costs 20 month"),
        ("« Bonjour » — dit-il…", "bonjour dit il"),
        ("한국어 뉴스", "한국어 뉴스"),  # Hangul recomposed after NFKD
        ("Москва́ й", "москва и"),
        ("", ""),
        ("!!! ...", ""),
        ("lone\ud800surrogate é\udfff", "lone surrogate e"),  # from surrogateescape decoding
    ],
)
def test_normalise_text(text: str, expected: str) -> None:
    assert normalise_text(text) == expected


def test_french_and_english_versions_stay_different() -> None:
    en = "Elon Musk sued OpenAI and Sam Altman in San Francisco on Thursday."
    fr = "Elon Musk a poursuivi OpenAI et Sam Altman à San Francisco jeudi."
    assert content_hash(en) != content_hash(fr)
    en_fp, fr_fp = fingerprint(en, "en", DEFAULT), fingerprint(fr, "fr", DEFAULT)
    assert estimate_jaccard(en_fp.minhash, fr_fp.minhash) < 0.2


@settings(max_examples=300)
@given(st.text(st.characters(exclude_categories=())))  # lone surrogates included
def test_tokens_follow_the_documented_rule(text: str) -> None:
    assert tokens(text) == reference_tokens(text)


@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert content_hash(once) == content_hash(text)


def test_content_hash_is_hex_sha256_of_normalised_text() -> None:
    h = content_hash("Hello, World!")
    assert len(h) == 64 and int(h, 16) >= 0
    assert h == content_hash("HELLO world")
    assert h != content_hash("Hello, World! Again")


# -- shingles -------------------------------------------------------------------------


def test_shingles_are_distinct_word_ngrams() -> None:
    words = [b"a", b"b", b"a", b"b", b"a", b"b"]
    assert shingle_set(words, 2) == {b"a b", b"b a"}
    assert shingle_set(words, 6) == {b"a b a b a b"}


def test_short_text_is_one_shingle_and_empty_text_none() -> None:
    assert shingle_set([b"just", b"two"], 5) == {b"just two"}
    assert shingle_set([], 5) == set()
    assert fingerprint("Just two", None, DEFAULT).n_shingles == 1
    assert fingerprint(" ,;: ", None, DEFAULT).n_shingles == 0


# -- signatures ---------------------------------------------------------------------


@pytest.mark.parametrize("num_perm", [16, 100, 128, 1024])
def test_permutations_are_datasketchs(num_perm: int) -> None:
    a, b = permutations(num_perm)
    ds = MinHash(num_perm=num_perm, seed=1)
    assert np.array_equal(a, ds.permutations[0])
    assert np.array_equal(b, ds.permutations[1])


@settings(max_examples=60, deadline=None)
@given(
    st.text(min_size=0, max_size=400),
    st.sampled_from([16, 128, 200]),
    st.integers(min_value=1, max_value=6),
)
def test_minhash_equals_datasketch(text: str, num_perm: int, size: int) -> None:
    s = DedupSettings(num_perm=num_perm, shingle_size=size)
    ours = np.frombuffer(fingerprint(text, None, s).minhash, dtype="<u4")
    assert np.array_equal(ours, datasketch_values(text, num_perm, size))


def test_minhash_equals_datasketch_on_a_long_article() -> None:
    words = [f"w{(i * 7919) % 1000}" for i in range(1500)]
    text = " ".join(words)
    ours = np.frombuffer(fingerprint(text, "en", DEFAULT).minhash, dtype="<u4")
    assert np.array_equal(ours, datasketch_values(text, 128, 5))


def test_fingerprint_fields() -> None:
    fp = fingerprint("Musk sues OpenAI over its for-profit turn, again", "EN-us", DEFAULT)
    assert fp.language == "en"
    assert fp.content_hash == content_hash("musk sues openai over its for profit turn again")
    assert fp.n_shingles == 5
    assert len(fp.minhash) == 4 * 128
    assert len(fp.bands) == 8 * lsh_layout(DEFAULT).bands
    text = "a b c d e f"
    assert Fingerprinter(DEFAULT)(text, None) == fingerprint(text, None, DEFAULT)


def test_fingerprint_pickles_small() -> None:
    fp = fingerprint("word " * 1200, "fr", DEFAULT)
    data = pickle.dumps(fp)
    assert pickle.loads(data) == fp
    assert len(data) < 1200
    with pytest.raises(AttributeError):
        fp.language = "en"  # type: ignore[misc]


def test_bands_from_minhash_recomputes_the_bands() -> None:
    fp = fingerprint("The jury was told the case hinges on the 2015 emails.", None, DEFAULT)
    assert bands_from_minhash(fp.minhash, DEFAULT) == fp.bands
    other = DedupSettings(containment=0.5)
    assert len(bands_from_minhash(fp.minhash, other)) == 8 * lsh_layout(other).bands
    with pytest.raises(ConfigError, match="num_perm"):
        bands_from_minhash(fp.minhash, DedupSettings(num_perm=64))


def test_band_keys_vectorise_over_rows() -> None:
    layout = LshLayout(4, 2)
    values = np.arange(24, dtype=np.uint32).reshape(3, 8)
    keys = band_keys(values, layout)
    assert keys.shape == (3, 4) and keys.dtype == np.uint64
    assert np.array_equal(keys[1], band_keys(values[1], layout))
    same = values.copy()
    same[:, 0:2] = 99  # rows 0..2 now share band 0, and only band 0
    shared = band_keys(same, layout)
    assert len(set(shared[:, 0].tolist())) == 1
    assert len(set(shared[:, 1].tolist())) == 3


# -- layout and estimates ------------------------------------------------------------------


def test_default_layout_catches_threshold_pairs_and_contained_records() -> None:
    layout = lsh_layout(DEFAULT)
    assert layout == LshLayout(bands=42, rows=3)
    assert layout.probability(0.8) > 0.999999
    assert layout.probability(0.43) > 0.95  # contained in a host twice as long
    assert layout.probability(0.05) < 0.01


@pytest.mark.parametrize("num_perm", [16, 64, 128, 256, 1024])
@pytest.mark.parametrize("containment", [0.5, 0.9, 1.0])
def test_layout_fits_num_perm_and_memory_bound(num_perm: int, containment: float) -> None:
    layout = lsh_layout(DedupSettings(num_perm=num_perm, containment=containment))
    assert layout.bands * layout.rows <= num_perm
    assert 1 <= layout.bands <= MAX_BANDS
    assert layout.probability(0.8) > 0.999


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("threshold", 0.0),
        ("threshold", 1.5),
        ("containment", -0.1),
        ("num_perm", 8),
        ("num_perm", 128.0),
        ("shingle_size", 0),
        ("threshold", True),
    ],
)
def test_bad_settings_name_the_key(field: str, value: object) -> None:
    bad = DedupSettings(**{field: value})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=f"dedup.{field}") as info:
        check_settings(bad)
    assert "default" in info.value.fix


def test_estimates() -> None:
    a = np.arange(128, dtype="<u4")
    b = a.copy()
    b[:32] += 1000
    assert estimate_jaccard(a.tobytes(), b.tobytes()) == 0.75
    with pytest.raises(ConfigError):
        estimate_jaccard(a.tobytes(), a[:64].tobytes())
    # A (100 shingles) inside B (200): J = 100/200 = 0.5, C(A in B) = 1.
    assert estimate_containment(0.5, 100, 200) == pytest.approx(1.0)
    assert estimate_containment(0.5, 200, 100) == pytest.approx(0.5)
    assert estimate_containment(0.0, 10, 10) == 0.0
    assert estimate_containment(0.3, 0, 10) == 0.0


def test_fingerprint_is_a_frozen_slotted_dataclass() -> None:
    fp = Fingerprint("h", None, 0, b"", b"")
    assert not hasattr(fp, "__dict__")
