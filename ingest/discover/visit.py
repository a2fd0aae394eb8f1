"""Discovery: visit one configured source and list the article links it offers.

Every source visit is a conditional GET: the ETag and Last-Modified the
server gave last time are sent back exactly, and a ``304`` means nothing new
(no links, no parsing). Sitemap indexes are followed one level down, each
child sitemap with its own validators (and visited even when the index is
unchanged). ``page`` sources are a single article URL: the page itself is
fetched here, conditionally, and handed on so it is not requested twice.
A failing source is recorded with its error and its next attempt (see
:mod:`ingest.discover.backoff`), never dropped::

    visit = SourceVisit(fetcher, store, counters, now=utc_now, interval_seconds=1800)
    found = await visit.discover(source)
    found.links        # DiscoveredLink, in source order
    found.prefetched   # {url: FetchedPage} for page sources
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from ingest.config import SourceSettings
from ingest.discover.backoff import next_attempt
from ingest.discover.parse import SourceListing, parse_source
from ingest.errors import HTTPStatusError, NewsdedupError, SourceError
from ingest.logs import event
from ingest.types import DiscoveredLink, FetchedPage, StageCounters
from store.protocol import Storage

log = logging.getLogger("newsdedup.discovery")
_MAX_CHILD_SITEMAPS = 50
Accept = Literal["page", "source"]


class PageFetcher(Protocol):
    async def get(self, url: str, *, etag: str | None = None,
                  last_modified: str | None = None, accept: Accept = "page") -> FetchedPage: ...


@dataclass(frozen=True, slots=True)
class Discovery:
    source: str
    links: tuple[DiscoveredLink, ...] = ()
    prefetched: dict[str, FetchedPage] = field(default_factory=dict)
    ok: bool = True


@dataclass(frozen=True, slots=True)
class _Target:
    """One URL to visit: a configured source or one of its child sitemaps."""

    name: str
    kind: str
    url: str
    source: str


@dataclass(slots=True)
class SourceVisit:
    """Visits sources for one cycle, recording each one's health in the store."""

    fetcher: PageFetcher
    store: Storage
    counters: StageCounters
    now: datetime
    interval_seconds: float

    async def discover(self, source: SourceSettings) -> Discovery:
        """List ``source``'s links; a failing source is recorded and yields no links."""
        target = _Target(source.name, source.kind, source.url, source.name)
        page = await self._visit(target, "page" if source.kind == "page" else "source")
        if page is None:
            return Discovery(source.name, ok=False)
        if source.kind == "page":
            if page.not_modified:
                return Discovery(source.name)
            link = DiscoveredLink(url=source.url, source=source.name)
            return Discovery(source.name, (link,), {source.url: page})
        listing = self._listing(target, page)
        if listing is None:
            return Discovery(source.name, ok=False)
        links = list(listing.links)
        for child in listing.children[:_MAX_CHILD_SITEMAPS]:
            links.extend(await self._child_links(source, child))
        self.counters.add("discover", "links", len(links))
        return Discovery(source.name, tuple(links))

    def _listing(self, target: _Target, page: FetchedPage) -> SourceListing | None:
        if not page.not_modified:
            return self._parse(target, page)
        # An unchanged sitemap index says nothing of its children: they change more often.
        children = self.store.child_source_urls(target.name) if target.kind == "sitemap" else []
        return SourceListing((), tuple(children))

    async def _child_links(self, source: SourceSettings, url: str
                           ) -> tuple[DiscoveredLink, ...]:
        target = _Target(f"{source.name} > {url}", "sitemap-child", url, source.name)
        page = await self._visit(target, "source")
        if page is None or page.not_modified:
            return ()
        listing = self._parse(target, page)
        return listing.links if listing else ()

    async def _visit(self, target: _Target, accept: Accept) -> FetchedPage | None:
        state = self.store.source_state(target.name)
        try:
            page = await self.fetcher.get(
                target.url, etag=state.etag if state else None,
                last_modified=state.last_modified if state else None, accept=accept)
        except NewsdedupError as exc:
            self._failed(target, exc)
            return None
        outcome = "not_modified" if page.not_modified else "fetched"
        self.counters.add("source", outcome)
        event(log, "source", source=target.name, url=target.url, outcome=outcome,
              status=page.status)
        if page.not_modified or target.kind == "page":
            self._succeeded(target, page)
        return page

    def _parse(self, target: _Target, page: FetchedPage) -> SourceListing | None:
        """Parse a fetched source; validators are saved only once the body proved readable."""
        try:
            listing = parse_source(page.body, url=page.final_url, source=target.source,
                                   content_type=page.content_type)
        except SourceError as exc:
            self._failed(target, exc, status=page.status)
            return None
        self._succeeded(target, page)
        return listing

    def _succeeded(self, target: _Target, page: FetchedPage) -> None:
        self.store.record_source(target.name, target.kind, target.url, ok=True,
                                 status=page.status, etag=page.etag,
                                 last_modified=page.last_modified)

    def _failed(self, target: _Target, exc: NewsdedupError, status: int | None = None) -> None:
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
