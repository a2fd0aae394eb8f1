"""One page's CPU work: decode, extract, clean, identify the language, fingerprint.

This is the function the worker processes run (see ``ingest.pipeline.workers``), and
the one ``extract``, ``reprocess`` and the benchmarks call directly, so a
page is processed the same way wherever it comes from. Pure: bytes in,
values out::

    >>> html = ("<html><head><title>Le procès</title></head><body><article><p>"
    ...         + "Le tribunal a entendu les deux fondateurs lundi à Oakland. " * 12
    ...         + "</p></article></body></html>").encode()
    >>> done = process_page(PageJob(url="https://a.example/x", body=html))
    >>> done.article.title, done.article.language, len(done.fingerprint.content_hash)
    ('Le procès', 'fr', 64)

:func:`process_page_timed` is the same work timed stage by stage (``decode``,
``extract``, ``clean`` with the language identification, ``fingerprint``): what
a crawl's workers run, so the cycle can add each page's
:class:`~ingest.pipeline.stats.Stats` to its own. A page that fails comes back as
its error beside the time it took, not raised, so that time is counted too::

    >>> done, stats = process_page_timed(PageJob(url="https://a.example/x", body=html))
    >>> sorted(stats.times), done.article.title
    (['clean', 'decode', 'extract', 'fingerprint'], 'Le procès')
    >>> error, stats = process_page_timed(PageJob(url="https://a.example/y", body=b"<html>"))
    >>> type(error).__name__, "fingerprint" in stats.times
    ('ExtractError', False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ingest.clean.article import clean_article, paragraph_key
from ingest.clean.language import identify
from ingest.config import DedupSettings
from ingest.dedup.index import fingerprint
from ingest.errors import ExtractError, NewsdedupError, NotAnArticle
from ingest.extract.access import access_of
from ingest.extract.decode import decode_html
from ingest.extract.page import extract_with_removals
from ingest.extract.walls import find_wall
from ingest.pipeline.stats import Stats
from ingest.pipeline.topic import TopicFilter
from ingest.types import NO_FINGERPRINT, CleanedArticle, ProcessedPage


@dataclass(frozen=True, slots=True)
class PageJob:
    """What a worker needs to process one page."""

    url: str
    body: bytes
    charset: str | None = None
    template: frozenset[str] = frozenset()
    dedup: DedupSettings = field(default_factory=DedupSettings)
    declared_language: str | None = None
    """A language claimed outside the page (HTTP ``Content-Language``, else the feed's)."""
    topic: TopicFilter | None = None
    """The topic and language filter, applied before fingerprinting (None: keep all)."""


def processed_page(article: CleanedArticle, dedup: DedupSettings) -> ProcessedPage:
    """``article`` with what the single writer needs: its fingerprint and paragraph keys
    (computed here, in a worker, so the writer applies and learns the site's template by
    set lookups instead of re-normalising every paragraph)."""
    return ProcessedPage(article, fingerprint(article.text, article.language, dedup),
                         tuple(paragraph_key(p.text) for p in article.paragraphs))


def clean_page(body: bytes, url: str | None, charset: str | None = None,
               template: frozenset[str] = frozenset(),
               declared_language: str | None = None, *,
               stats: Stats | None = None) -> CleanedArticle:
    """Decode, extract and clean one page; raises ExtractError when no article is left,
    and its :class:`~ingest.errors.NotAnArticle` kind when the page is a wall.

    The page's ``access`` is read from its markup (:func:`~ingest.extract.access.access_of`).
    A wall is judged on what extraction and cleaning found (:mod:`ingest.extract.walls`),
    so it is looked for after cleaning, and also when extraction finds no text at all (a
    challenge page often has none): then the wall, not "no article", is the reason, and
    the page is fetched again later. A paywalled teaser is an article, however short: its
    "log in to read on" is not a login wall (a challenge or an error page still is).

    ``stats``, when given, gets the time of each stage (``decode``, ``extract`` with the
    access, ``clean`` with the wall check).

    >>> clean_page(b"<html><head><title>Just a moment...</title></head><body>"
    ...            b"<p>Checking your browser.</p></body></html>", "https://a.example/x")
    Traceback (most recent call last):
    ingest.errors.NotAnArticle: bot challenge: title 'just a moment' (https://a.example/x)
    """
    timer = (stats if stats is not None else Stats()).track_time
    with timer("decode"):
        html = decode_html(body, charset)
    with timer("extract"):
        try:
            extracted, pre_removed = extract_with_removals(html, url)
        except ExtractError as exc:
            _refuse_wall(html, url, None, (), cause=exc)
            raise
        access = access_of(html)
    with timer("clean"):
        cleaned = clean_article(extracted, template=template, pre_removed=pre_removed,
                                declared=declared_language)
        empty = not cleaned.text.strip()
        _refuse_wall(html, url, cleaned.title, [p.text for p in cleaned.paragraphs],
                     paywalled=access == "paywalled" and not empty)
    if empty:
        raise ExtractError("nothing left after cleaning", url=url)
    return replace(cleaned, access=access)


def _refuse_wall(html: str, url: str | None, title: str | None, paragraphs: Sequence[str],
                 cause: ExtractError | None = None, paywalled: bool = False) -> None:
    """Raise :class:`NotAnArticle` when the page is a wall (see :mod:`ingest.extract.walls`)."""
    wall = find_wall(html, url=url, title=title, paragraphs=paragraphs, paywalled=paywalled)
    if wall is not None:
        message = f"{wall.kind.replace('_', ' ')}: {wall.evidence}"
        raise NotAnArticle(message, url=url, kind=wall.kind) from cause


def clean_job(job: PageJob) -> CleanedArticle:
    """:func:`clean_page` for a worker process (``newsdedup extract``)."""
    return clean_page(job.body, job.url, job.charset, job.template, job.declared_language)


def warm_up() -> None:
    """Load what every page needs (the extractor's imports, the language model) in a
    worker before its first page: a :class:`~ingest.pipeline.workers.WorkerPool` ``warmup``."""
    identify("Warm up the language model once per worker process.")


def process_page(job: PageJob, stats: Stats | None = None) -> ProcessedPage:
    """Process one page; raises ExtractError when it has no article.

    ``stats``, when given, gets the time of each stage (see :func:`process_page_timed`).
    """
    stats = stats if stats is not None else Stats()  # timing costs about a microsecond
    cleaned = clean_page(job.body, job.url, job.charset, job.template, job.declared_language,
                         stats=stats)
    with stats.track_time("fingerprint"):
        return _finish(cleaned, job)


def _finish(cleaned: CleanedArticle, job: PageJob) -> ProcessedPage:
    """Filter first, then fingerprint: a page the topic keeps out costs no signature."""
    if job.topic is None:
        return processed_page(cleaned, job.dedup)
    off = job.topic.verdict(cleaned.title, cleaned.text, cleaned.language,
                            cleaned.language_confidence)
    if off is not None:
        return ProcessedPage(cleaned, NO_FINGERPRINT, (), skip=off, filtered=True)
    return replace(processed_page(cleaned, job.dedup), filtered=True)


def process_page_timed(job: PageJob) -> tuple[ProcessedPage | NewsdedupError, Stats]:
    """:func:`process_page` for the crawl's workers: the page (or the error it raised)
    and its :class:`~ingest.pipeline.stats.Stats`, so a failed page's time is counted too.

    Only our own errors come back as values; anything else still raises, as from
    :func:`process_page` (the worker turns it into an ``ExtractError``).
    """
    stats = Stats()
    try:
        return process_page(job, stats), stats
    except NewsdedupError as exc:
        return exc, stats
