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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.clean.article import clean_article, paragraph_key
from ingest.clean.language import identify
from ingest.config import DedupSettings
from ingest.dedup.index import fingerprint
from ingest.errors import ExtractError
from ingest.extract.decode import decode_html
from ingest.extract.page import extract_with_removals
from ingest.types import CleanedArticle, ProcessedPage


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


def processed_page(article: CleanedArticle, dedup: DedupSettings) -> ProcessedPage:
    """``article`` with what the single writer needs: its fingerprint and paragraph keys
    (computed here, in a worker, so the writer applies and learns the site's template by
    set lookups instead of re-normalising every paragraph)."""
    return ProcessedPage(article, fingerprint(article.text, article.language, dedup),
                         tuple(paragraph_key(p.text) for p in article.paragraphs))


def clean_page(body: bytes, url: str | None, charset: str | None = None,
               template: frozenset[str] = frozenset(),
               declared_language: str | None = None) -> CleanedArticle:
    """Decode, extract and clean one page; raises ExtractError when no article is left."""
    html = decode_html(body, charset)
    extracted, pre_removed = extract_with_removals(html, url)
    cleaned = clean_article(extracted, template=template, pre_removed=pre_removed,
                            declared=declared_language)
    if not cleaned.text.strip():
        raise ExtractError("nothing left after cleaning", url=url)
    return cleaned


def clean_job(job: PageJob) -> CleanedArticle:
    """:func:`clean_page` for a worker process (``newsdedup extract``)."""
    return clean_page(job.body, job.url, job.charset, job.template, job.declared_language)


def warm_up() -> None:
    """Load what every page needs (the extractor's imports, the language model) in a
    worker before its first page: a :class:`~ingest.pipeline.workers.WorkerPool` ``warmup``."""
    identify("Warm up the language model once per worker process.")


def process_page(job: PageJob) -> ProcessedPage:
    return processed_page(clean_job(job), job.dedup)
