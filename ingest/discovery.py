"""Discovery: visit one configured source and list the article links it offers.

Every source visit is a conditional GET: the ETag and Last-Modified the
server gave last time are sent back exactly, and a ``304`` means nothing new
(no links, no parsing). Sitemap indexes are followed one level down, each
child sitemap with its own validators. ``page`` sources are a single article
URL: the page itself is fetched here, conditionally, and handed on so it is
not requested twice::

    found = await discover(source, fetcher=fetcher, store=store, counters=counters)
    found.links        # DiscoveredLink, in source order
    found.prefetched   # {url: FetchedPage} for page sources
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ingest.config import SourceSettings
from ingest.errors import FetchError, HTTPStatusError, SourceError
from ingest.logs import event
from ingest.models import DiscoveredLink, FetchedPage, StageCounters
from ingest.sources import SourceListing, parse_source
from store.db import Store

log = logging.getLogger("newsdedup.discovery")
_MAX_CHILD_SITEMAPS = 50


class PageFetcher(Protocol):
    async def get(self, url: str, *, etag: str | None = None,
                  last_modified: str | None = None,
                  accept: Literal["page", "source"] = "page") -> FetchedPage: ...


@dataclass(frozen=True, slots=True)
class Discovery:
    source: str
    links: tuple[DiscoveredLink, ...] = ()
    prefetched: dict[str, FetchedPage] = field(default_factory=dict)
    ok: bool = True


async def discover(source: SourceSettings, *, fetcher: PageFetcher, store: Store,
                   counters: StageCounters) -> Discovery:
    """List ``source``'s links; a failing source is recorded and yields no links."""
    accept: Literal["page", "source"] = "page" if source.kind == "page" else "source"
    page = await _visit(source.name, source.kind, source.url, accept, fetcher, store, counters)
    if page is None:
        return Discovery(source.name, ok=False)
    if page.not_modified:
        # An unchanged sitemap index says nothing of its children: they change more often.
        children = store.child_source_urls(source.name) if source.kind == "sitemap" else ()
        listing = SourceListing((), tuple(children))
    elif source.kind == "page":
        link = DiscoveredLink(url=source.url, source=source.name)
        return Discovery(source.name, (link,), {source.url: page})
    else:
        parsed = _parse(source.name, source.kind, page, store, counters)
        if parsed is None:
            return Discovery(source.name, ok=False)
        listing = parsed
    links = list(listing.links)
    for child in listing.children[:_MAX_CHILD_SITEMAPS]:
        links.extend(await _child_links(source, child, fetcher, store, counters))
    counters.add("discover", "links", len(links))
    return Discovery(source.name, tuple(links))


async def _child_links(source: SourceSettings, url: str, fetcher: PageFetcher, store: Store,
                       counters: StageCounters) -> tuple[DiscoveredLink, ...]:
    name = f"{source.name} > {url}"
    page = await _visit(name, "sitemap-child", url, "source", fetcher, store, counters)
    if page is None or page.not_modified:
        return ()
    listing = _parse(name, "sitemap-child", page, store, counters)
    return listing.links if listing else ()


async def _visit(name: str, kind: str, url: str, accept: Literal["page", "source"],
                 fetcher: PageFetcher, store: Store,
                 counters: StageCounters) -> FetchedPage | None:
    state = store.source_state(name)
    try:
        page = await fetcher.get(url, etag=state.etag if state else None,
                                 last_modified=state.last_modified if state else None,
                                 accept=accept)
    except FetchError as exc:
        status = exc.status if isinstance(exc, HTTPStatusError) else None
        store.record_source(name, kind, url, ok=False, status=status, error=str(exc))
        counters.add("source", exc.reason)
        event(log, "source", level=logging.WARNING, source=name, url=url, outcome="failed",
              reason=exc.reason, error=str(exc))
        return None
    outcome = "not_modified" if page.not_modified else "fetched"
    counters.add("source", outcome)
    event(log, "source", source=name, url=url, outcome=outcome, status=page.status)
    if page.not_modified or kind == "page":
        store.record_source(name, kind, url, ok=True, status=page.status, etag=page.etag,
                            last_modified=page.last_modified)
    return page


def _parse(name: str, kind: str, page: FetchedPage, store: Store,
           counters: StageCounters) -> SourceListing | None:
    """Parse a fetched source; validators are saved only once the body proved readable."""
    try:
        listing = parse_source(page.body, url=page.final_url, source=name.split(" > ")[0],
                               content_type=page.content_type)
    except SourceError as exc:
        store.record_source(name, kind, page.url, ok=False, status=page.status,
                            error=str(exc))
        counters.add("source", exc.reason)
        event(log, "source", level=logging.WARNING, source=name, url=page.url,
              outcome="failed", reason=exc.reason, error=str(exc))
        return None
    store.record_source(name, kind, page.url, ok=True, status=page.status,
                        etag=page.etag, last_modified=page.last_modified)
    return listing
