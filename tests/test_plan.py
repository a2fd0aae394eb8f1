"""The page-decision rules (``ingest.pipeline.plan``) and the tier decision
(``ingest.dedup.decide``), each with plain values: no store, no network.

The near tier is an injected finder here; a counting one proves it is only
asked when the cheaper tiers (the editors' merge, the URL, the exact text) did
not decide.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clean.article import is_learnable_key, paragraph_key
from ingest.config import DedupSettings
from ingest.dedup.decide import decide
from ingest.errors import (
    ExtractError,
    ExtractTimeout,
    HTTPStatusError,
    NetworkError,
    NewsdedupError,
    RobotsDisallowed,
    UnsupportedContent,
)
from ingest.pipeline.plan import (
    REMEMBERED,
    AddArticle,
    AddDuplicate,
    AlreadyKnown,
    Facts,
    Failed,
    Skip,
    Update,
    apply_template,
    learnable,
    page_canonical,
    plan_failure,
    plan_filter,
    plan_known,
    plan_new,
    plan_update,
)
from ingest.pipeline.process import processed_page
from ingest.pipeline.topic import TopicFilter
from ingest.types import (
    NO_FINGERPRINT,
    CleanedArticle,
    DedupDecision,
    DiscoveredLink,
    FetchedPage,
    Fingerprint,
    KnownUrl,
    PageTask,
    Paragraph,
    ProcessedPage,
    Removal,
)

URL = "https://news.example/2025/11/musk-v-openai"
STORY = ("The lawsuit, filed in federal court in San Francisco, accuses the company of "
         "abandoning its founding mission in favour of profit.")
SECOND = ("Lawyers for the company called the claims baseless and said they would ask the "
          "judge to dismiss the case before it reaches a jury next spring.")
PROMO = "Sign up for our daily newsletter and never miss a story"


def task(url: str = URL, known: KnownUrl | None = None, updated: str | None = None) -> PageTask:
    return PageTask(DiscoveredLink(url, "feed", updated=updated), url, known)


def done(*texts: str, language: str | None = "en", title: str | None = None,
         canonical: str | None = None, removed: tuple[Removal, ...] = ()) -> ProcessedPage:
    article = CleanedArticle(URL, title, None, None, language,
                             tuple(Paragraph(t) for t in texts), removed=removed,
                             canonical_url=canonical)
    return processed_page(article, DedupSettings())


def fetched(final_url: str = URL) -> FetchedPage:
    return FetchedPage(url=URL, final_url=final_url, status=200, content_type="text/html",
                       body=b"<html></html>", fetched_at="2025-11-22T08:00:00+00:00")


class Finder:
    """A near-tier finder that counts its calls and answers ``answer`` (or, given
    ``candidates``, the first one not excluded, as the real index does)."""

    def __init__(self, answer: DedupDecision | None = None,
                 candidates: tuple[int, ...] = ()) -> None:
        self.answer, self.candidates = answer or DedupDecision("new"), candidates
        self.calls: list[tuple[Fingerprint, frozenset[int]]] = []

    def __call__(self, fp: Fingerprint, excluded: Container[int]) -> DedupDecision:
        self.calls.append((fp, frozenset(i for i in range(100) if i in excluded)))
        for candidate in self.candidates:
            if candidate not in excluded:
                return DedupDecision("near", candidate, 0.9)
        return self.answer


def facts(merge: tuple[int, float] | None = None, excluded: frozenset[int] = frozenset(),
          url: int | None = None, hash_: int | None = None) -> Facts:
    return Facts(merge, excluded, url, hash_)


# -- a failure -----------------------------------------------------------------------


@pytest.mark.parametrize("error", [
    HTTPStatusError("gone", url=URL, status=404), HTTPStatusError("gone", url=URL, status=410),
    UnsupportedContent("a PDF", url=URL), ExtractError("nothing left", url=URL)])
def test_a_failure_that_will_not_heal_is_remembered(error: NewsdedupError) -> None:
    assert error.reason in REMEMBERED
    assert plan_failure(task(), error) == Failed(task(), error, remember=True)


@pytest.mark.parametrize("error", [
    HTTPStatusError("busy", url=URL, status=503, retry_after=60.0),
    HTTPStatusError("slow down", url=URL, status=429), NetworkError("reset", url=URL),
    RobotsDisallowed("disallowed", url=URL), ExtractTimeout("too slow", url=URL)])
def test_a_failure_that_may_heal_is_not_remembered(error: NewsdedupError) -> None:
    plan = plan_failure(task(), error)
    assert isinstance(plan, Failed) and plan.error is error and plan.remember is False


@pytest.mark.parametrize(("kind", "remember"), [
    ("article", False), ("alias", False), ("duplicate", False), ("variant", False),
    ("skipped", True)])
def test_a_lasting_failure_of_a_stored_page_leaves_its_record_alone(
        kind: str, remember: bool) -> None:
    """A stored record that now answers 404 stays a record; a skipped page stays skipped."""
    known = KnownUrl(kind, 7 if kind != "skipped" else None, "2025-11-21")
    error = HTTPStatusError("gone", url=URL, status=404)
    assert plan_failure(task(known=known), error).remember is remember


# -- a URL stored since discovery --------------------------------------------------------


def test_a_url_still_unknown_goes_on_to_the_next_rules() -> None:
    assert plan_known(task(), None) is None


def test_another_spelling_of_a_stored_page_is_a_url_duplicate() -> None:
    plan = plan_known(task(), KnownUrl("variant", 7, None))
    assert plan == AddDuplicate(task(), "url", 7, 1.0)


@pytest.mark.parametrize("again", [
    KnownUrl("article", 3, None), KnownUrl("alias", 3, None), KnownUrl("duplicate", 3, None),
    KnownUrl("skipped", None, None, reason="off_topic"), KnownUrl("variant", None, None)])
def test_a_url_stored_meanwhile_needs_nothing_written(again: KnownUrl) -> None:
    assert plan_known(task(), again) == AlreadyKnown(task(), again.kind)


# -- the topic and language filter ------------------------------------------------------------


def test_the_topic_filter_reads_title_and_text() -> None:
    topic = TopicFilter((("musk",), ("openai", "altman")))
    assert plan_filter(task(), done(STORY, title="Musk sues OpenAI"), topic) is None
    assert plan_filter(task(), done(STORY, title="Musk in court"), topic) == Skip(
        task(), "off_topic")


def test_the_language_filter_trusts_the_identified_language_only() -> None:
    french_only = TopicFilter((), languages=("fr",))
    assert plan_filter(task(), done(STORY, language="en"), french_only) == Skip(
        task(), "off_language")
    assert plan_filter(task(), done(STORY, language="fr"), french_only) is None
    assert plan_filter(task(), done(STORY, language=None), french_only) is None, \
        "an unidentified language is not off"


def test_a_page_the_worker_kept_out_is_skipped_for_the_workers_reason() -> None:
    """The worker filtered it before fingerprinting: the writer takes its word."""
    kept_out = ProcessedPage(done(STORY).article, NO_FINGERPRINT, (), skip="off_language",
                             filtered=True)
    assert plan_filter(task(), kept_out, TopicFilter(())) == Skip(task(), "off_language")


def test_a_page_the_worker_let_through_is_not_filtered_again() -> None:
    """The writer is the main process's hot path: the worker's verdict stands, the topic
    (which would keep this page out) is not run a second time."""
    passed = replace(done(STORY), filtered=True)
    assert plan_filter(task(), passed, TopicFilter((("zzzunmatched",),))) is None
    assert plan_filter(task(), done(STORY), TopicFilter((("zzzunmatched",),))) == Skip(
        task(), "off_topic")


# -- an update ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["article", "alias"])
def test_a_stored_record_fetched_again_is_updated_in_place(kind: str) -> None:
    known = KnownUrl(kind, 12, "2025-11-21")
    assert plan_update(task(known=known)) == Update(task(known=known), 12)


@pytest.mark.parametrize("known", [
    None, KnownUrl("duplicate", 12, None), KnownUrl("variant", 12, None),
    KnownUrl("skipped", None, "2025-11-21", reason="no_article"), KnownUrl("article", None, None)])
def test_anything_else_is_no_update(known: KnownUrl | None) -> None:
    assert plan_update(task(known=known)) is None


# -- the URL a new record is stored under -------------------------------------------------------


def test_a_declared_canonical_is_resolved_against_the_final_url() -> None:
    page = fetched("https://news.example/amp/2025/11/musk-v-openai")
    assert page_canonical(task(), page, done(STORY, canonical="/2025/11/musk-v-openai")) == URL


def test_without_a_declaration_the_final_url_is_canonicalised() -> None:
    page = fetched("https://News.Example/moved?utm_source=feed&id=3#top")
    assert page_canonical(task(), page, done(STORY)) == "https://news.example/moved?id=3"


def test_a_declared_site_root_is_ignored_as_a_template_bug() -> None:
    page = fetched("https://news.example/2025/11/x")
    assert page_canonical(task(), page, done(STORY, canonical="https://news.example/")) == \
        "https://news.example/2025/11/x"


def test_an_unusable_final_url_falls_back_to_the_task_url() -> None:
    page = fetched("about:blank")
    assert page_canonical(task(URL + "?utm_medium=rss"), page, done(STORY)) == URL


# -- the tiers, after the editors ----------------------------------------------------------------


def test_an_editors_merge_wins_over_every_tier() -> None:
    near = Finder(DedupDecision("near", 5, 0.95))
    plan = plan_new(task(), done(STORY), URL, facts(merge=(3, 0.91), url=1, hash_=2), near)
    assert plan == AddDuplicate(task(), "review", 3, 0.91)
    assert near.calls == []


def test_a_url_match_wins_over_an_exact_match_and_near_is_not_asked() -> None:
    near = Finder(DedupDecision("near", 5, 0.95))
    assert plan_new(task(), done(STORY), URL, facts(url=1, hash_=2), near) == AddDuplicate(
        task(), "url", 1, 1.0)
    assert near.calls == []


def test_an_exact_match_wins_over_near_and_near_is_not_asked() -> None:
    near = Finder(DedupDecision("near", 5, 0.95))
    assert plan_new(task(), done(STORY), URL, facts(hash_=2), near) == AddDuplicate(
        task(), "exact", 2, 1.0)
    assert near.calls == []


def test_excluded_url_and_hash_matches_fall_through_to_near_once() -> None:
    """An editor split this page from records 1 and 2: they are not its duplicates, and
    the near tier is told so it does not find them either."""
    page = done(STORY)
    near = Finder(candidates=(1, 2, 8))
    plan = plan_new(task(), page, URL, facts(excluded=frozenset({1, 2}), url=1, hash_=2), near)
    assert plan == AddDuplicate(task(), "near", 8, 0.9)
    assert near.calls == [(page.fingerprint, frozenset({1, 2}))]


def test_an_excluded_url_match_still_lets_the_exact_tier_decide() -> None:
    near = Finder()
    plan = plan_new(task(), done(STORY), URL, facts(excluded=frozenset({1}), url=1, hash_=2),
                    near)
    assert plan == AddDuplicate(task(), "exact", 2, 1.0) and near.calls == []


def test_no_match_anywhere_is_a_new_article_under_its_canonical_url_and_site() -> None:
    page = done(STORY, PROMO)
    near = Finder()
    plan = plan_new(task("https://news.example:8443/x"), page, "https://news.example/y",
                    facts(), near)
    assert plan == AddArticle(task("https://news.example:8443/x"), "https://news.example/y",
                              "news.example:8443", learnable(page))
    assert len(near.calls) == 1


def test_decide_takes_the_first_tier_and_computes_near_only_when_needed() -> None:
    calls: list[int] = []

    def near() -> DedupDecision:
        calls.append(1)
        return DedupDecision("near", 9, 0.83)

    assert decide(url_match=4, hash_match=5, near=near) == DedupDecision("url", 4, 1.0)
    assert decide(url_match=None, hash_match=5, near=near) == DedupDecision("exact", 5, 1.0)
    assert calls == []
    assert decide(url_match=None, hash_match=None, near=near) == DedupDecision("near", 9, 0.83)
    assert calls == [1]


ids = st.one_of(st.none(), st.integers(1, 6))
PAGE = done(STORY, SECOND)


@settings(max_examples=200, deadline=None)
@given(url=ids, hash_=ids, excluded=st.frozensets(st.integers(1, 6)),
       candidates=st.lists(st.integers(1, 6), max_size=4))
def test_plan_new_never_folds_a_page_into_a_record_it_was_split_from(
        url: int | None, hash_: int | None, excluded: frozenset[int],
        candidates: list[int]) -> None:
    near = Finder(candidates=tuple(candidates))
    plan = plan_new(task(), PAGE, URL, facts(excluded=excluded, url=url, hash_=hash_), near)
    if isinstance(plan, AddDuplicate):
        assert plan.duplicate_of not in excluded
    # The tiers in order: near is asked exactly when neither cheaper tier could decide.
    url_ok, hash_ok = url is not None and url not in excluded, \
        hash_ is not None and hash_ not in excluded
    assert len(near.calls) == (0 if url_ok or hash_ok else 1)
    method = plan.method if isinstance(plan, AddDuplicate) else "new"
    assert method == ("url" if url_ok else "exact" if hash_ok else
                      "near" if set(candidates) - excluded else "new")



# -- what a new record learns -------------------------------------------------------------------


def test_a_new_article_learns_each_learnable_paragraph_once_per_key() -> None:
    page = done(PROMO, STORY, "Read more", "36 | Alabama | 45.8 | 12",
                "SIGN UP for our daily newsletter, and never miss a story!", SECOND)
    assert learnable(page) == ((paragraph_key(PROMO), PROMO), (paragraph_key(STORY), STORY),
                               (paragraph_key(SECOND), SECOND))


def test_a_new_article_plan_carries_what_it_learns() -> None:
    page = done(PROMO, STORY, PROMO)
    plan = plan_new(task(), page, URL, facts(), Finder())
    assert isinstance(plan, AddArticle)
    assert [key for key, _ in plan.learn] == [paragraph_key(PROMO), paragraph_key(STORY)]


words = st.sampled_from(["musk", "court", "42", "the", "openai", "Judge", "sued", "7"])
paragraphs = st.lists(st.lists(words, min_size=1, max_size=7).map(" ".join), max_size=10)


@settings(max_examples=200, deadline=None)
@given(paragraphs)
def test_learnable_keys_are_unique_learnable_and_first_seen(texts: list[str]) -> None:
    page = done(*texts)
    learned = learnable(page)
    keys = [key for key, _ in learned]
    assert len(keys) == len(set(keys))
    assert all(is_learnable_key(key) for key in keys)
    expected = {}
    for text in texts:
        if is_learnable_key(paragraph_key(text)):
            expected.setdefault(paragraph_key(text), text)
    assert dict(learned) == expected and keys == list(expected)


# -- a template learned while the page was in flight ---------------------------------------------


def test_template_paragraphs_go_as_template_removals_and_the_fingerprint_follows() -> None:
    earlier = (Removal("Share", "share_widget"),)
    page = done(STORY, PROMO, SECOND, removed=earlier)
    out = apply_template(page, frozenset({paragraph_key(PROMO)}), DedupSettings())
    assert [p.text for p in out.article.paragraphs] == [STORY, SECOND]
    assert out.article.removed == (*earlier, Removal(PROMO, "template"))
    assert out.keys == (paragraph_key(STORY), paragraph_key(SECOND))
    assert out.fingerprint == done(STORY, SECOND).fingerprint != page.fingerprint


def test_a_page_untouched_by_the_template_or_all_template_is_left_as_it_is() -> None:
    page = done(STORY, PROMO)
    assert apply_template(page, frozenset({"some other line"}), DedupSettings()) is page
    assert apply_template(page, frozenset(page.keys), DedupSettings()) is page
    assert apply_template(page, frozenset(), DedupSettings()) is page


@settings(max_examples=150, deadline=None)
@given(paragraphs.filter(bool), st.data())
def test_apply_template_partitions_the_paragraphs_and_never_empties_a_page(
        texts: list[str], data: st.DataObject) -> None:
    page = done(*texts)
    template = frozenset(data.draw(st.lists(st.sampled_from(page.keys))))
    out = apply_template(page, template, DedupSettings())
    assert out.article.paragraphs, "a page is never emptied"
    kept = [p.text for p in out.article.paragraphs]
    gone = [r.text for r in out.article.removed]
    if out is not page:
        assert all(key not in template for key in out.keys)
        assert sorted(kept + gone) == sorted(texts)
        assert all(paragraph_key(t) in template for t in gone)
    assert len(out.keys) == len(out.article.paragraphs)
