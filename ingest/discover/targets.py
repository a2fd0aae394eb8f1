"""Visiting one source URL: conditional GET, parse, health recorded in the store.

Every source visit is a conditional GET: the ETag and Last-Modified the server
gave last time are sent back exactly, and a ``304`` means nothing new (no links,
no parsing). Sitemap indexes are followed one level down, each child sitemap
with its own validators (and visited even when the index is unchanged). A
failing URL is recorded with its error and its next attempt (see
:mod:`ingest.discover.backoff`), never dropped. A *target* is any URL visited
this way: a configured source, a sitemap index's child, a site's homepage, feed
or sitemap; each is a row of the ``sources`` table under its own name::

    visitor = Visitor(fetcher, store, counters, now, interval_seconds=1800)
    links, answered = await visitor.links(Target("lemonde", "feed", url, "lemonde"))
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ingest.discover.backoff import next_attempt
from ingest.discover.parse import SourceListing, parse_source
from ingest.discover.resolve import Accept, ResolvingFetcher
from ingest.errors import HTTPStatusError, NewsdedupError, SourceError
from ingest.logs import event
from ingest.types import DiscoveredLink, FetchedPage, StageCounters
from store.protocol import Storage

log = logging.getLogger("newsdedup.discovery")
MAX_CHILD_SITEMAPS = 50
INDEX_KINDS = frozenset({"sitemap", "site-sitemap"})
"""Kinds whose unchanged (304) body still has children to visit: sitemap indexes."""


class PageFetcher(ResolvingFetcher, Protocol):
    """What discovery needs of :class:`ingest.fetch.fetcher.Fetcher`: what resolution
    needs (GET, POST), and robots.txt's sitemaps."""

    async def sitemaps(self, url: str) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Target:
    """One URL to visit: its ``sources`` row name and kind, and the configured source
    its links are credited to."""

    name: str
    kind: str
    url: str
    source: str


@dataclass(slots=True)
class Visitor:
    """Visits targets for one source visit, recording each one's health in the store."""

    fetcher: PageFetcher
    store: Storage
    counters: StageCounters
    now: datetime
    interval_seconds: float

    async def links(self, target: Target) -> tuple[tuple[DiscoveredLink, ...], bool]:
        """A feed or sitemap's links (an index's children followed), and whether the
        target itself answered (fetched and readable, or unchanged)."""
        page = await self.fetch(target, "source")
        if page is None:
            return (), False
        listing = self.listing(target, page)
        if listing is None:
            return (), False
        links = list(listing.links)
        for child in listing.children[:MAX_CHILD_SITEMAPS]:
            links.extend(await self._child_links(target, child))
        return tuple(links), True

    def listing(self, target: Target, page: FetchedPage) -> SourceListing | None:
        if not page.not_modified:
            return self.parse(target, page)
        # An unchanged sitemap index says nothing of its children: they change more often.
        children = self.store.child_source_urls(target.name) if target.kind in INDEX_KINDS \
            else []
        return SourceListing((), tuple(children))

    async def _child_links(self, parent: Target, url: str) -> tuple[DiscoveredLink, ...]:
        target = Target(f"{parent.name} > {url}", "sitemap-child", url, parent.source)
        page = await self.fetch(target, "source")
        if page is None or page.not_modified:
            return ()
        listing = self.parse(target, page)
        return listing.links if listing else ()

    async def fetch(self, target: Target, accept: Accept, *,
                    next_check: str | None = None) -> FetchedPage | None:
        """The target's answer (None when it failed, recorded); an unchanged one is
        recorded as a success at once, with ``next_check`` as its next attempt."""
        state = self.store.source_state(target.name)
        try:
            page = await self.fetcher.get(
                target.url, etag=state.etag if state else None,
                last_modified=state.last_modified if state else None, accept=accept)
        except NewsdedupError as exc:
            self.failed(target, exc)
            return None
        outcome = "not_modified" if page.not_modified else "fetched"
        self.counters.add("source", outcome)
        event(log, "source", source=target.name, url=target.url, outcome=outcome,
              status=page.status)
        if page.not_modified or target.kind == "page":
            self.succeeded(target, page, next_check=next_check)
        return page

    def parse(self, target: Target, page: FetchedPage) -> SourceListing | None:
        """Parse a fetched source; validators are saved only once the body proved readable."""
        try:
            listing = parse_source(page.body, url=page.final_url, source=target.source,
                                   content_type=page.content_type)
        except SourceError as exc:
            self.failed(target, exc, status=page.status)
            return None
        self.succeeded(target, page)
        return listing

    def succeeded(self, target: Target, page: FetchedPage | None, *,
                  next_check: str | None = None) -> None:
        self.store.record_source(target.name, target.kind, target.url, ok=True,
                                 status=page.status if page else None,
                                 etag=page.etag if page else None,
                                 last_modified=page.last_modified if page else None,
                                 next_attempt_at=next_check)

    def failed(self, target: Target, exc: NewsdedupError, status: int | None = None) -> None:
        state = self.store.source_state(target.name)
        failures = (state.consecutive_failures if state else 0) + 1
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        status = exc.status if isinstance(exc, HTTPStatusError) else status
        when = next_attempt(self.now, failures=failures, interval_seconds=self.interval_seconds,
                            retry_after=retry_after)
        self.store.record_source(target.name, target.kind, target.url, ok=False, status=status,
                                 error=str(exc), next_attempt_at=when.isoformat())
        self.counters.add("source", exc.reason)
        event(log, "source", level=logging.WARNING, source=target.name, url=target.url,
              outcome="failed", reason=exc.reason, error=str(exc), retry_at=when.isoformat())
