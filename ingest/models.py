"""Typed, immutable values passed between the pipeline stages.

Each stage takes one of these and returns the next, never a loose dict, so
a stage can be tested alone and a record's history is plain to read::

    DiscoveredLink --fetch--> FetchedPage --extract--> ExtractedArticle
        --clean--> CleanedArticle --topic--> (kept?) --dedup--> DedupDecision

Example::

    page = FetchedPage(url="https://a.example/x", final_url="https://a.example/x",
                       status=200, content_type="text/html", body=b"<html>...",
                       fetched_at="2026-11-22T08:00:00+00:00")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SourceKind = Literal["feed", "sitemap", "page"]
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
    ``language`` is identified from the clean text (``ingest.language``), with
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
