"""Near-duplicate decisions (ingest/dedup.py): properties, containment, restart."""

from __future__ import annotations

import random
from collections.abc import Iterable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.config import DedupSettings
from ingest.dedup.index import (
    Fingerprint,
    Match,
    NearDuplicateIndex,
    bands_from_minhash,
    choose,
    confirm,
    fingerprint,
)
from ingest.dedup.minhash import estimate_jaccard, lsh_layout
from ingest.errors import ConfigError
from ingest.types import DedupDecision

DEFAULT = DedupSettings()
SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "vu", "ga", "zo"]
VOCAB = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]  # 1,728 words


def words(seed: int, n: int, vocab: list[str] = VOCAB) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(vocab) for _ in range(n))


class Store:
    """The store's role in miniature: fingerprints by article id."""

    def __init__(self) -> None:
        self.fps: dict[int, Fingerprint] = {}

    def lookup(self, article_id: int) -> Fingerprint | None:
        return self.fps.get(article_id)

    def rows(self) -> list[tuple[int, str | None, int, bytes]]:
        return [(i, fp.n_shingles, fp.bands) for i, fp in self.fps.items()]


def index_with(
    texts: Iterable[tuple[int, str, str | None]], s: DedupSettings = DEFAULT
) -> tuple[NearDuplicateIndex, Store]:
    store = Store()
    index = NearDuplicateIndex(s, store.lookup)
    for article_id, text, language in texts:
        fp = fingerprint(text, language, s)
        store.fps[article_id] = fp
        index.add(article_id, fp)
    return index, store


def find(index: NearDuplicateIndex, text: str, language: str | None = "en") -> DedupDecision:
    return index.find(fingerprint(text, language, index.settings))


texts = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=150).map(" ".join)


# -- properties ---------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(texts, st.sampled_from(["en", "fr", None]))
def test_identical_clean_text_is_always_a_duplicate(text: str, language: str | None) -> None:
    index, _ = index_with([(5, text, language)])
    assert find(index, text.upper() + " !", language) == DedupDecision("near", 5, 1.0)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(VOCAB[:800]), min_size=1, max_size=150).map(" ".join),
    st.lists(st.sampled_from(VOCAB[800:]), min_size=1, max_size=150).map(" ".join),
)
def test_disjoint_text_never_is(a: str, b: str) -> None:
    index, _ = index_with([(1, a, "en")])
    assert find(index, b) == DedupDecision("new")
    assert index.candidates(fingerprint(b, "en", DEFAULT)) == []


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=2, max_size=25))
def test_decisions_are_deterministic(seeds: list[int]) -> None:
    """The same pages in the same order give the same decisions, in fresh indexes."""
    pages = [words(s % 7, 60) + " " + words(s, 10 + s) for s in seeds]

    def run() -> list[DedupDecision]:
        store = Store()
        index = NearDuplicateIndex(DEFAULT, store.lookup)
        out = []
        for i, page in enumerate(pages):
            fp = fingerprint(page, "en", DEFAULT)
            decision = index.find(fp)
            out.append(decision)
            if not decision.is_duplicate:
                store.fps[i] = fp
                index.add(i, fp)
        return out

    assert run() == run()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_choice_does_not_depend_on_candidate_order(seeds: list[int], rnd: random.Random) -> None:
    query = fingerprint(words(1, 80), None, DEFAULT)
    candidates = [(i, fingerprint(words(1, 80 - s), None, DEFAULT)) for i, s in enumerate(seeds)]
    shuffled = candidates[:]
    rnd.shuffle(shuffled)
    assert choose(query, candidates, DEFAULT) == choose(query, shuffled, DEFAULT)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.sampled_from(["en", "fr", None])),
                min_size=1, max_size=30))
def test_load_then_find_equals_add_then_find(specs: list[tuple[int, str | None]]) -> None:
    """The restart property: an index warm-started from rows decides like the live one."""
    stored = [(i, words(seed, 40) + " " + words(100 + i, 5), lang)
              for i, (seed, lang) in enumerate(specs)]
    live, store = index_with(stored)
    restarted = NearDuplicateIndex(DEFAULT, store.lookup)
    rows = store.rows()
    random.Random(len(rows)).shuffle(rows)
    restarted.load(rows)
    for seed in range(10):
        for lang in ("en", "fr", None):
            fp = fingerprint(words(seed, 40), lang, DEFAULT)
            assert restarted.find(fp) == live.find(fp)
            assert restarted.candidates(fp) == live.candidates(fp)


def test_restart_at_scale_with_merges() -> None:
    """10,000 random signatures plus near copies: load() and add() agree (merges included)."""
    rng = np.random.default_rng(7)
    store = Store()
    values = rng.integers(0, 2**32, size=(10_000, 128), dtype=np.uint32)
    values[5000:5100] = values[:100]
    values[5000:5100, :20] += 1  # J = 108/128 with the originals
    for i, v in enumerate(values):
        minhash = v.astype("<u4").tobytes()
        store.fps[i] = Fingerprint("h", None, 500, minhash, bands_from_minhash(minhash, DEFAULT))
    live = NearDuplicateIndex(DEFAULT, store.lookup)
    for i in range(10_000):
        live.add(i, store.fps[i])
    restarted = NearDuplicateIndex(DEFAULT, store.lookup)
    assert restarted.load(iter(store.rows())) == 10_000
    for i in range(0, 10_000, 37):
        fp = store.fps[i]
        decision = restarted.find(fp, exclude={i})
        assert decision == live.find(fp, exclude={i})
        if i < 100 or 5000 <= i < 5100:
            partner = i + 5000 if i < 100 else i - 5000
            assert decision == DedupDecision("near", partner, 108 / 128)
        else:
            assert decision == DedupDecision("new")


# -- containment and template-heavy pages ------------------------------------------------------


def test_page_containing_a_stored_record_is_a_duplicate() -> None:
    brief = words(11, 150)
    host = words(12, 60) + " " + brief + " " + words(13, 60)  # 1.8x longer
    index, store = index_with([(1, brief, "en")])
    host_fp = fingerprint(host, "en", DEFAULT)
    jaccard = estimate_jaccard(host_fp.minhash, store.fps[1].minhash)
    assert jaccard < DEFAULT.threshold  # not a duplicate by Jaccard alone ...
    decision = index.find(host_fp)
    assert decision.method == "near" and decision.duplicate_of == 1  # ... but by containment
    assert decision.similarity >= DEFAULT.containment
    match = confirm(host_fp, store.fps[1], DEFAULT)
    assert match == Match(jaccard, decision.similarity)


def test_page_holding_two_records_goes_to_the_one_it_shares_most_with() -> None:
    small, large = words(14, 60), words(15, 200)
    # Both stored records are contained whole (containment 1.0 for each);
    # the lower id is the smaller one, but the page is mostly the larger.
    index, _ = index_with([(1, small, "en"), (2, large, "en")])
    decision = find(index, large + " " + small)
    assert decision.duplicate_of == 2


def test_page_contained_in_a_stored_record_is_a_duplicate() -> None:
    brief = words(21, 150)
    host = words(22, 50) + " " + brief + " " + words(23, 50)
    index, _ = index_with([(1, host, "en")])
    decision = find(index, brief)
    assert decision.duplicate_of == 1 and decision.similarity >= DEFAULT.containment


def test_containment_limit_for_much_longer_hosts() -> None:
    """Documented limit: a brief inside a host 10x longer is not found (J about 0.1)."""
    brief = words(31, 60)
    host = words(32, 300) + " " + brief + " " + words(33, 300)
    index, _ = index_with([(1, host, "en")])
    assert find(index, brief) == DedupDecision("new")


def test_short_briefs_under_one_long_template_stay_apart() -> None:
    template = words(40, 70)  # the same disclaimer and author bio on every brief
    briefs = [(i, words(41 + i, 60) + " " + template, "en") for i in range(20)]
    index, _ = index_with(briefs)
    for i in range(20, 40):
        fp = fingerprint(words(41 + i, 60) + " " + template, "en", DEFAULT)
        assert index.candidates(fp)  # they share bands ...
        assert index.find(fp) == DedupDecision("new")  # ... but not their stories


def test_doubled_body_is_a_duplicate() -> None:
    body = words(50, 300)
    index, _ = index_with([(1, body, "en")])
    decision = find(index, body + " " + body)
    assert decision.duplicate_of == 1 and decision.similarity > 0.95


# -- languages, exclusions, ties ----------------------------------------------------------


LANGUAGES = st.sampled_from(["en", "fr", "de", "fr-FR", "EN", None])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 60), LANGUAGES, LANGUAGES, st.integers(0, 6))
def test_a_copys_decision_does_not_depend_on_language(seed: int, stored_as: str | None,
                                                       found_as: str | None,
                                                       added: int) -> None:
    """Issue 12: a syndicated copy matches whatever language either side carries (a
    declaration is often wrong); the decision is the one a language-blind index takes."""
    text = words(seed, 100)
    copy = text + (" " + words(200 + seed, added) if added else "")
    index, _ = index_with([(1, text, stored_as)])
    decision = find(index, copy, found_as)
    blind, _ = index_with([(1, text, None)])
    assert decision == find(blind, copy, None)
    assert decision.method == "near" and decision.duplicate_of == 1
    assert index.candidates(fingerprint(copy, found_as, DEFAULT)) == [1]


def test_a_translation_shares_no_shingles_and_stays_apart() -> None:
    english = ("The court in Oakland heard the first witness on Monday, a former board "
               "member who described how the company changed its structure in 2019 and "
               "why the founders disagreed about control of the research laboratory.")
    french = ("Le tribunal d'Oakland a entendu lundi le premier témoin, un ancien membre du "
              "conseil qui a décrit comment l'entreprise a changé de structure en 2019 et "
              "pourquoi les fondateurs se sont opposés sur le contrôle du laboratoire.")
    index, _ = index_with([(1, english, "en")])
    assert find(index, french, "fr") == DedupDecision("new")


def test_exclude_forbids_merges() -> None:
    text = words(70, 100)
    index, _ = index_with([(1, text, "en"), (2, text + " " + words(71, 4), "en")])
    fp = fingerprint(text, "en", DEFAULT)
    assert index.find(fp).duplicate_of == 1
    assert index.find(fp, exclude={1}).duplicate_of == 2
    assert index.find(fp, exclude={1, 2}) == DedupDecision("new")


def synthetic(n_shingles: int, equal_values: int) -> Fingerprint:
    """A fingerprint sharing ``equal_values`` of 128 MinHash values with ``synthetic(_, 128)``."""
    values = np.arange(128, dtype="<u4")
    values[equal_values:] += 1000
    minhash = values.tobytes()
    return Fingerprint("h", None, n_shingles, minhash, bands_from_minhash(minhash, DEFAULT))


def test_ranking_is_on_jaccard_not_on_saturated_containment() -> None:
    query = synthetic(1000, 128)
    brief = synthetic(100, 13)  # J 0.1: contained whole, containment estimate capped at 1.0
    copy = synthetic(1000, 109)  # J 0.85: a Jaccard match, similarity 0.85
    assert confirm(query, brief, DEFAULT) == Match(13 / 128, 1.0)
    assert choose(query, [(1, brief), (2, copy)], DEFAULT) == DedupDecision("near", 2, 109 / 128)


def test_ties_go_to_the_lowest_article_id() -> None:
    text = words(80, 100)
    for order in ([9, 3, 5], [3, 5, 9], [5, 9, 3]):
        index, _ = index_with([(i, text, "en") for i in order])
        assert find(index, text) == DedupDecision("near", 3, 1.0)


def test_higher_similarity_wins_over_lower_id() -> None:
    text = words(90, 200)
    index, _ = index_with([(1, text + " " + words(91, 25), "en"), (2, text, "en")])
    assert find(index, text).duplicate_of == 2


def test_deleted_records_are_skipped() -> None:
    text = words(100, 100)
    index, store = index_with([(1, text, "en")])
    del store.fps[1]
    assert find(index, text) == DedupDecision("new")


def test_updated_record_is_judged_on_its_current_signature() -> None:
    old, new = words(110, 100), words(111, 100)
    index, store = index_with([(1, old, "en")])
    store.fps[1] = fingerprint(new, "en", DEFAULT)
    index.add(1, store.fps[1])
    assert find(index, old) == DedupDecision("new")
    assert find(index, new) == DedupDecision("near", 1, 1.0)
    assert index.candidates(fingerprint(old, "en", DEFAULT)) == [1]


# -- empty texts, bad inputs -----------------------------------------------------------------


def test_text_without_words_is_new_and_not_indexed() -> None:
    index, store = index_with([(1, "...", "en")])
    assert len(index) == 0
    assert find(index, "!!!") == DedupDecision("new")
    restarted = NearDuplicateIndex(DEFAULT, store.lookup)
    assert restarted.load(store.rows()) == 0


def test_constructor_validates() -> None:
    with pytest.raises(ConfigError, match=r"dedup\.threshold"):
        NearDuplicateIndex(DedupSettings(threshold=0.0), lambda i: None)
    with pytest.raises(ConfigError, match="signature_lookup"):
        NearDuplicateIndex(DEFAULT, None)  # type: ignore[arg-type]


def test_fingerprint_from_other_settings_is_refused() -> None:
    index, _ = index_with([])
    other = fingerprint("some words here", None, DedupSettings(num_perm=64))
    with pytest.raises(ConfigError, match="index's settings"):
        index.find(other)
    with pytest.raises(ConfigError):
        index.add(1, other)


def test_load_with_stale_bands_names_the_article_and_indexes_nothing() -> None:
    index, _ = index_with([(1, words(120, 50), "en")])
    fp = fingerprint(words(121, 50), "en", DEFAULT)
    rows = [(7, fp.n_shingles, fp.bands), (8, fp.n_shingles, fp.bands[:-8])]
    with pytest.raises(ConfigError, match=r"article 8 .*bands_from_minhash"):
        index.load(rows)
    assert len(index) == 1
    assert find(index, words(120, 50)).duplicate_of == 1


def test_load_detects_bands_from_another_layout_of_the_same_width() -> None:
    before, after = DedupSettings(containment=0.7), DedupSettings(containment=0.5)
    assert lsh_layout(before) != lsh_layout(after)
    assert lsh_layout(before).bands == lsh_layout(after).bands  # same byte length
    _, store = index_with([(1, words(140, 80), "en")], before)
    restarted = NearDuplicateIndex(after, store.lookup)
    with pytest.raises(ConfigError, match=r"article 1 .*bands_from_minhash"):
        restarted.load(store.rows())
    rebanded = [(i, n, bands_from_minhash(store.fps[i].minhash, after))
                for i, n, _ in store.rows()]
    assert restarted.load(rebanded) == 1


def test_load_skips_empty_rows_and_reports_count() -> None:
    fp = fingerprint(words(130, 50), "en", DEFAULT)
    store = Store()
    store.fps[1] = fp
    index = NearDuplicateIndex(DEFAULT, store.lookup)
    assert index.load([(1, fp.n_shingles, fp.bands), (2, 0, fp.bands)]) == 1
    assert index.find(fp) == DedupDecision("near", 1, 1.0)
