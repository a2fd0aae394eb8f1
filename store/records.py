"""What the pipeline hands the store to write: typed, immutable records.

The store writes each record in one transaction, so a kill between two
records leaves the database consistent and the next cycle redoes the rest.

Example::

    store.add_article(NewArticle(url=..., source="lemonde", article=cleaned,
                                 fingerprint=fp, page=raw))
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.dedup import Fingerprint
from ingest.models import CleanedArticle, DedupMethod


@dataclass(frozen=True, slots=True)
class RawPage:
    """The fetched HTML, kept (compressed) so ``reprocess`` needs no refetch."""

    url: str
    final_url: str
    source: str
    html: bytes
    fetched_at: str
    charset: str | None = None
    feed_updated: str | None = None
    language_hint: str | None = None
    """The language claimed outside the page (HTTP ``Content-Language``, else the feed's)."""


@dataclass(frozen=True, slots=True)
class NewArticle:
    """A new record. ``learn`` holds its paragraphs as (key, text) for per-site learning."""

    url: str
    source: str
    article: CleanedArticle
    fingerprint: Fingerprint
    page: RawPage
    site: str = ""
    learn: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class NewDuplicate:
    url: str
    source: str
    article_id: int
    method: DedupMethod
    similarity: float
    fetched_at: str
    article: CleanedArticle | None = None
    page: RawPage | None = None


@dataclass(frozen=True, slots=True)
class KnownUrl:
    """Where a URL already stands: ``article``, ``duplicate``, ``alias``, ``skipped`` or
    ``variant`` (only its identity key is known)."""

    kind: str
    article_id: int | None
    feed_updated: str | None
    reason: str | None = None  # for ``skipped``: why, and since when (``at``)
    at: str | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    last_error: str | None
    next_attempt_at: str | None
