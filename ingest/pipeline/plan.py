"""What to write for one page: pure decisions, as lemon24/reader's ``Decider``.

The single writer (:mod:`ingest.pipeline.record`) reads what the store knows
about a page once (:class:`Facts`), asks these functions what to do, and
applies the answer (a :data:`Plan`) in one place. Nothing here touches the
store or the network, so each rule is tested alone, with plain values::

    >>> from ingest.types import DiscoveredLink, PageTask
    >>> task = PageTask(DiscoveredLink("https://a.example/x", "feed"), "https://a.example/x")
    >>> plan = plan_known(task, KnownUrl("variant", 7, None))
    >>> plan.method, plan.duplicate_of
    ('url', 7)

The order of the rules is the order of the checks a page passes: a failure;
a URL stored meanwhile (or another spelling of a stored one); the topic and
language filter; an update of a known record; then the editors' reviews and
the dedup tiers, which decide between a duplicate and a new record.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, replace

from ingest.clean.article import is_learnable_key
from ingest.config import DedupSettings
from ingest.dedup.decide import decide
from ingest.dedup.minhash import fingerprint
from ingest.errors import NewsdedupError
from ingest.pipeline.topic import TopicFilter
from ingest.types import (
    CleanedArticle,
    DedupDecision,
    DedupMethod,
    FetchedPage,
    Fingerprint,
    KnownUrl,
    PageTask,
    ProcessedPage,
    Removal,
)
from ingest.urls import canonical_url, declared_canonical, host_key

# Failures that will not heal by themselves: remembered so the page is not refetched
# until its source says it changed.
REMEMBERED = frozenset({"status_404", "status_410", "content_type", "no_article"})

NearFinder = Callable[[Fingerprint, Container[int]], DedupDecision]


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page as it comes to the writer: fetched and processed, or failed."""

    task: PageTask
    page: FetchedPage | None = None
    processed: ProcessedPage | None = None
    error: NewsdedupError | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """What the store knew about a page when it came to be written, read in one place:
    the editors' reviews that concern it (by its URLs), and the first two tiers' matches."""

    merge_target: tuple[int, float] | None
    excluded: frozenset[int]
    url_match: int | None
    hash_match: int | None


@dataclass(frozen=True, slots=True)
class Failed:
    """Not stored; ``remember`` puts it in ``skipped`` so it is not refetched."""

    task: PageTask
    error: NewsdedupError
    remember: bool


@dataclass(frozen=True, slots=True)
class AlreadyKnown:
    """Stored meanwhile under this URL (``kind``): nothing to write."""

    task: PageTask
    kind: str


@dataclass(frozen=True, slots=True)
class Skip:
    """Kept out by the topic or language filter; remembered in ``skipped``."""

    task: PageTask
    reason: str


@dataclass(frozen=True, slots=True)
class Update:
    """A known record's page fetched again (its feed entry changed)."""

    task: PageTask
    article_id: int


@dataclass(frozen=True, slots=True)
class AddDuplicate:
    """Folded into record ``duplicate_of`` by tier ``method``."""

    task: PageTask
    method: DedupMethod
    duplicate_of: int
    similarity: float


@dataclass(frozen=True, slots=True)
class AddArticle:
    """A new record under ``canonical``; ``learn`` its paragraphs for per-site learning."""

    task: PageTask
    canonical: str
    site: str
    learn: tuple[tuple[str, str], ...]


Plan = Failed | AlreadyKnown | Skip | Update | AddDuplicate | AddArticle


def plan_failure(task: PageTask, error: NewsdedupError) -> Failed:
    """A page that could not be fetched or extracted; remembered if it will not heal."""
    remember = error.reason in REMEMBERED and (task.known is None or
                                               task.known.kind == "skipped")
    return Failed(task, error, remember)


def plan_known(task: PageTask, again: KnownUrl | None) -> Plan | None:
    """A URL the store got since discovery: a ``url`` duplicate when it is another
    spelling of a stored page, else nothing to write; None when it is still new."""
    if again is None:
        return None
    if again.kind == "variant" and again.article_id is not None:
        return AddDuplicate(task, "url", again.article_id, 1.0)
    return AlreadyKnown(task, again.kind)


def plan_filter(task: PageTask, done: ProcessedPage, topic: TopicFilter) -> Skip | None:
    """Off topic, or off the configured languages (identified, never declared): as the
    worker found it before fingerprinting, or asked here when it did not filter (a
    processor without the filter, reprocess's kept old text)."""
    article = done.article
    off = done.skip if done.filtered else topic.verdict(
        article.title, article.text, article.language, article.language_confidence)
    return None if off is None else Skip(task, off)


def plan_update(task: PageTask) -> Update | None:
    """The task's URL is a stored record (or its alias): update it in place."""
    known = task.known
    if known is not None and known.article_id is not None and known.kind in ("article",
                                                                             "alias"):
        return Update(task, known.article_id)
    return None


def keeps_stored(access: str, words: int, fetched: CleanedArticle) -> bool:
    """Whether a record's stored text must stay although its page was fetched again:
    the page now shows a paywalled teaser shorter than the text we hold (articles often
    go behind the paywall a day after they were free). A teaser replaced by the full
    text, or a correction of a free article, goes through.

    >>> from ingest.types import Paragraph
    >>> teaser = CleanedArticle("u", None, None, None, "en", (Paragraph("First lines."),),
    ...                         access="paywalled")
    >>> keeps_stored("free", 800, teaser), keeps_stored("paywalled", 2, teaser)
    (True, False)
    """
    return (fetched.access == "paywalled" and access != "paywalled"
            and len(fetched.text.split()) < words)


def page_canonical(task: PageTask, page: FetchedPage, done: ProcessedPage) -> str:
    """The URL a new record is stored under: the page's declared canonical when it is
    acceptable (``ingest.urls.declared_canonical``), else the task's canonical URL."""
    try:
        return declared_canonical(page.final_url, done.article.canonical_url)
    except ValueError:
        return canonical_url(task.url)


def plan_new(task: PageTask, done: ProcessedPage, canonical: str, facts: Facts,
             near: NearFinder) -> AddDuplicate | AddArticle:
    """The tiers, after the editors: a merge they made stands, a split pair stays apart."""
    if facts.merge_target is not None:
        return AddDuplicate(task, "review", *facts.merge_target)
    excluded = facts.excluded
    decision = decide(
        url_match=None if facts.url_match in excluded else facts.url_match,
        hash_match=None if facts.hash_match in excluded else facts.hash_match,
        near=lambda: near(done.fingerprint, excluded))
    if decision.is_duplicate:
        assert decision.duplicate_of is not None
        return AddDuplicate(task, decision.method, decision.duplicate_of, decision.similarity)
    return AddArticle(task, canonical, host_key(task.url), learnable(done))


def learnable(done: ProcessedPage) -> tuple[tuple[str, str], ...]:
    """The record's paragraphs that count for per-site learning, one per key."""
    seen: dict[str, str] = {}
    for paragraph, key in zip(done.article.paragraphs, done.keys, strict=True):
        if is_learnable_key(key):
            seen.setdefault(key, paragraph.text)
    return tuple(seen.items())


def apply_template(done: ProcessedPage, template: frozenset[str],
                   dedup: DedupSettings) -> ProcessedPage:
    """``done`` without its paragraphs whose key is ``template``, each one recorded as
    a ``template`` removal; ``done`` itself when none or all of them are (a page that
    is all template is the template's own page, as in :func:`strip_template`). The
    fingerprint is computed again only when something went: the worker already
    applied the template it knew, so this happens only for template learned while
    the page was in flight.

    >>> from ingest.types import CleanedArticle, Paragraph
    >>> from ingest.pipeline.process import processed_page
    >>> page = processed_page(CleanedArticle("u", None, None, None, "en", (
    ...     Paragraph("A story."), Paragraph("Subscribe to our daily letter now"))),
    ...     DedupSettings())
    >>> out = apply_template(page, frozenset({page.keys[1]}), DedupSettings())
    >>> out.article.text, out.keys == page.keys[:1], out.article.removed[0].rule
    ('A story.', True, 'template')
    """
    if template.isdisjoint(done.keys) or template.issuperset(done.keys):
        return done
    article = done.article
    pairs = tuple(zip(article.paragraphs, done.keys, strict=True))
    kept = tuple((p, key) for p, key in pairs if key not in template)
    removed = tuple(Removal(p.text, "template") for p, key in pairs if key in template)
    cleaned = replace(article, paragraphs=tuple(p for p, _ in kept),
                      removed=article.removed + removed)
    return replace(done, article=cleaned,
                   fingerprint=fingerprint(cleaned.text, cleaned.language, dedup),
                   keys=tuple(key for _, key in kept))
