"""Discovery: visit one configured source and list the article links it offers.

Each kind of source is visited its own way, every URL conditionally and with
its health recorded (:mod:`ingest.discover.targets`): ``feed`` and ``sitemap``
(sitemap indexes followed one level down); ``site``, a homepage whose feeds and
news sitemaps are found, remembered and re-checked daily
(:mod:`ingest.discover.sitevisit`); ``page``, a single article URL fetched here,
conditionally, and handed on so it is not requested twice.

Then aggregator links (Google News, Bing News) are replaced by their publishers'
URLs, or dropped and counted when they cannot be (:mod:`ingest.discover.resolve`),
so what a visit lists is only ever links to articles, which the pipeline
canonicalises and deduplicates with every other source's::

    visit = SourceVisit(fetcher, store, counters, now=utc_now, interval_seconds=1800)
    found = await visit.discover(source)
    found.links        # DiscoveredLink, in source order, aggregator links resolved
    found.prefetched   # {url: FetchedPage} for page sources

``resolver`` is the process's :func:`~ingest.discover.resolve.shared_resolver`
(the real aggregator hosts, one cache for the process) unless one is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ingest.config import SourceSettings
from ingest.discover.resolve import LinkResolver, shared_resolver
from ingest.discover.sitevisit import SiteVisit
from ingest.discover.targets import PageFetcher, Target, Visitor
from ingest.types import DiscoveredLink, FetchedPage, StageCounters
from store.protocol import Storage

__all__ = ["Discovery", "PageFetcher", "SourceVisit"]


@dataclass(frozen=True, slots=True)
class Discovery:
    source: str
    links: tuple[DiscoveredLink, ...] = ()
    prefetched: dict[str, FetchedPage] = field(default_factory=dict)
    ok: bool = True


@dataclass(slots=True)
class SourceVisit:
    """Visits sources for one cycle, recording each one's health in the store."""

    fetcher: PageFetcher
    store: Storage
    counters: StageCounters
    now: datetime
    interval_seconds: float
    resolver: LinkResolver = field(default_factory=shared_resolver)

    async def discover(self, source: SourceSettings) -> Discovery:
        """List ``source``'s links; a failing source is recorded and yields no links."""
        visitor = Visitor(self.fetcher, self.store, self.counters, self.now,
                          self.interval_seconds)
        if source.kind == "page":
            return await self._page(visitor, source)
        if source.kind == "site":
            links, ok = await SiteVisit(visitor).discover(source)
        else:
            links, ok = await visitor.links(Target(source.name, source.kind, source.url,
                                                   source.name))
        if not ok:
            return Discovery(source.name, ok=False)
        resolved = await self.resolver.resolve(links, self.fetcher, self.counters,
                                               source=source.name, source_url=source.url)
        self.counters.add("discover", "links", len(resolved))
        return Discovery(source.name, resolved)

    async def _page(self, visitor: Visitor, source: SourceSettings) -> Discovery:
        page = await visitor.fetch(Target(source.name, "page", source.url, source.name), "page")
        if page is None:
            return Discovery(source.name, ok=False)
        if page.not_modified:
            return Discovery(source.name)
        link = DiscoveredLink(url=source.url, source=source.name)
        return Discovery(source.name, (link,), {source.url: page})
