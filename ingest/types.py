"""The values that cross stages and reach the store: typed, immutable, one leaf module.

It imports nothing of the project, so every stage and every store backend can
import it without importing each other (as lemon24/reader's ``_types``). Each
stage takes one of these and returns the next, never a loose dict, so a stage
can be tested alone and a record's history is plain to read::

    DiscoveredLink --fetch--> FetchedPage --extract--> ExtractedArticle
        --clean--> CleanedArticle --process--> ProcessedPage (+ Fingerprint)
        --topic, dedup--> DedupDecision --store--> NewArticle | NewDuplicate

The store answers with :class:`KnownUrl` and :class:`SourceState`; a cycle
ends with a :class:`CycleSummary`.

Example::

    page = FetchedPage(url="https://a.example/x", final_url="https://a.example/x",
                       status=200, content_type="text/html", body=b"<html>...",
                       fetched_at="2026-11-22T08:00:00+00:00")
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

SourceKind = Literal["feed", "sitemap", "page", "site"]
Access = Literal["free", "paywalled", "unknown"]
"""A record's reach: ``paywalled`` when the page says only subscribers read it whole."""
DedupMethod = Literal["new", "url", "exact", "near", "review"]


@dataclass(frozen=True, slots=True)
class DiscoveredLink:
    """An article URL listed by a source.

    ``updated`` is the entry's own modification stamp (feed ``updated`` or
    sitemap ``lastmod``) when the source gives one: a stored URL is fetched
    again only when this changes. ``language`` is what the source declares
    (feed ``<language>``, News sitemap ``<news:language>``): a hint, never a fact.
    """

    url: str
    source: str
    updated: str | None = None
    title: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One HTTP answer, body complete and within the size cap."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    fetched_at: str
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_language: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A block of the article body as the extractor saw it.

    ``kind`` is the block's role: ``p``, ``head`` (a heading), ``list``,
    ``quote``, ``table`` or ``code``.
    """

    text: str
    kind: str = "p"


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """What the extractor found in one page, before in-body cleaning.

    ``declared_language`` is what the page's markup claims (``<html lang>``,
    ``og:locale``): the language of the text is identified after cleaning.
    """

    url: str
    title: str | None
    author: str | None
    published: str | None
    declared_language: str | None
    paragraphs: tuple[Paragraph, ...]
    canonical_url: str | None = None
    sitename: str | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True, slots=True)
class Removal:
    """One block that cleaning dropped, with the rule that dropped it."""

    text: str
    rule: str


@dataclass(frozen=True, slots=True)
class CleanedArticle:
    """An article whose body holds the story and nothing else, exactly once.

    ``removed`` explains every dropped block, in page order, for editors.
    ``language`` is identified from the clean text (``ingest.clean.language``), with
    ``language_confidence`` in [0, 1]; ``declared_language`` is what the page,
    its HTTP header or its feed claimed, kept apart because it is often wrong.
    """

    url: str
    title: str | None
    author: str | None
    published: str | None
    language: str | None
    paragraphs: tuple[Paragraph, ...]
    removed: tuple[Removal, ...] = ()
    canonical_url: str | None = None
    sitename: str | None = None
    declared_language: str | None = None
    language_confidence: float | None = None
    access: Access = "unknown"

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True, slots=True)
class DedupDecision:
    """Whether a page is a new record or a duplicate of a stored one.

    ``method`` is ``new`` for a new record, otherwise the tier that matched:
    ``url`` (same canonical URL), ``exact`` (same normalised text) or
    ``near`` (MinHash LSH, confirmed), or ``review`` (an editor merged it).
    ``similarity`` is 1.0 for ``url`` and ``exact``, the estimated Jaccard (or
    containment) for ``near`` and ``review``.
    """

    method: DedupMethod
    duplicate_of: int | None = None
    similarity: float = 0.0

    @property
    def is_duplicate(self) -> bool:
        return self.method != "new"


@dataclass(slots=True)
class StageCounters:
    """Pages counted by stage, outcome and reason (mutable, one per cycle)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, stage: str, outcome: str, n: int = 1) -> None:
        key = f"{stage}.{outcome}"
        self.counts[key] = self.counts.get(key, 0) + n

    def get(self, stage: str, outcome: str) -> int:
        return self.counts.get(f"{stage}.{outcome}", 0)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What deduplication keeps of one cleaned article (about 1 KB pickled).

    ``minhash`` is ``num_perm`` little-endian uint32 values, identical to
    datasketch ``MinHash(num_perm, seed=1).update(shingle.encode())`` over
    the shingles; ``bands`` the :func:`band_keys` as little-endian uint64;
    ``n_shingles`` the number of distinct shingles, which the containment
    estimate needs.
    """

    content_hash: str
    language: str | None
    n_shingles: int
    minhash: bytes
    bands: bytes


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
    etag: str | None = None
    last_modified: str | None = None
    """The page's validators, sent back when the record is re-checked."""


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
    recheck: tuple[str, int, str] | None = None
    """When it was first seen and its first re-check (step, due): ``ingest.pipeline.recheck``."""


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
class SourceCadence:
    """A source's adaptive interval as last decided (``ingest.pipeline.cadence``): the
    interval, the smoothed rate of new links per hour, why, when it was decided (the
    visit's time) and when the source is due again."""

    interval_seconds: float | None
    new_per_hour: float | None
    reason: str | None
    decided_at: str | None
    next_visit_at: str | None


@dataclass(frozen=True, slots=True)
class DueRecheck:
    """A stored record due for a conditional GET (``ingest.pipeline.recheck``): its
    page's validators from the last fetch, and how many re-checks it had (``step``)."""

    article_id: int
    url: str
    source: str
    step: int
    first_seen: str
    etag: str | None = None
    last_modified: str | None = None
    due_at: str = ""


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    last_error: str | None
    next_attempt_at: str | None


@dataclass(frozen=True, slots=True)
class PageTask:
    """A link worth fetching, with what the store already knows of it."""

    link: DiscoveredLink
    url: str
    known: KnownUrl | None = None
    prefetched: FetchedPage | None = None

    @property
    def variant_of(self) -> int | None:
        """The record this URL is another spelling of, if that is all we know of it."""
        if self.known is not None and self.known.kind == "variant":
            return self.known.article_id
        return None


@dataclass(frozen=True, slots=True)
class CycleSummary:
    """What a cycle did (the ``cycles.summary`` JSON column, the ``once`` output line).

    ``stages`` is each timed stage's runs and total seconds,
    ``{"extract": {"count": 30, "wall_seconds": 2.1, "cpu_seconds": 2.0}, ...}``
    (see :mod:`ingest.pipeline.stats`; ``cpu_seconds`` is 0 for stages that wait).
    """

    cycle_id: int
    started_at: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    failed_sources: tuple[str, ...] = ()
    stages: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"cycle_id": self.cycle_id, "started_at": self.started_at,
                           "seconds": round(self.seconds, 3), "counts": self.counts,
                           "failed_sources": list(self.failed_sources),
                           "stages": self.stages}, sort_keys=True)


@dataclass(frozen=True, slots=True)
class ProcessedPage:
    """A cleaned article with what the single writer needs to decide on it.

    ``keys`` holds :func:`ingest.clean.article.paragraph_key` of each paragraph, in
    order: computed here, in a worker, so the writer can apply and learn the
    site's template by set lookups instead of re-normalising every paragraph.
    ``filtered`` says the worker applied the topic filter (the writer need not
    run it again); ``skip`` is then why it kept the page out (``off_topic``,
    ``off_language``), and such a page is not fingerprinted (``fingerprint`` is
    :data:`NO_FINGERPRINT`, ``keys`` empty) and never stored.
    """

    article: CleanedArticle
    fingerprint: Fingerprint
    keys: tuple[str, ...]
    skip: str | None = None
    filtered: bool = False


NO_FINGERPRINT = Fingerprint(content_hash="", language=None, n_shingles=0, minhash=b"",
                             bands=b"")
"""The fingerprint of a page kept out before fingerprinting (see ``ProcessedPage.skip``)."""

