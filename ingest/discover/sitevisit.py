"""``kind = "site"`` sources, the network part: find, remember and visit a site's
feeds and news sitemaps (the rules are in :mod:`ingest.discover.site`).

Each visit reads what the store remembers of the site; once a day (the
``<site> (homepage)`` row's next attempt) the homepage is fetched again,
conditionally, and robots.txt's ``Sitemap:`` lines read (from the fetcher's
robots.txt cache: no extra request). What it declares then replaces what was
remembered; a child it no longer declares is marked :data:`~ingest.discover.site.STALE`
and not visited (the store keeps its row: the storage protocol has no delete).
Every remembered feed and sitemap is then visited like a configured one, with
its own validators and health. The site's own row is a success when at least
one of them answered, a failure (with backoff) otherwise::

    links, answered = await SiteVisit(visitor).discover(source)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ingest.config import SourceSettings
from ingest.discover.backoff import is_due
from ingest.discover.parse import SourceListing, parse_source
from ingest.discover.site import (
    MAX_SITEMAPS,
    RECHECK,
    SITEMAP_PEEKS,
    STALE,
    declared_feeds,
    feed_row,
    home_row,
    looks_like_news,
    probe_urls,
    sitemap_row,
    sitemap_urls,
)
from ingest.discover.targets import Target, Visitor
from ingest.errors import FetchError, SourceError
from ingest.logs import event
from ingest.types import DiscoveredLink

log = logging.getLogger("newsdedup.discovery")
Found = tuple[tuple[str, ...], tuple[str, ...]]
"""A site's feeds and sitemaps, each in order."""


@dataclass(slots=True)
class SiteVisit:
    """One visit of a site source through a :class:`Visitor` (fetcher, store, clock)."""

    visitor: Visitor

    async def discover(self, source: SourceSettings) -> tuple[tuple[DiscoveredLink, ...], bool]:
        """The links of the site's feeds and sitemaps, and whether any of them answered."""
        remembered = self._remembered(source.name)
        found = remembered
        state = self.visitor.store.source_state(home_row(source.name))
        if state is None or is_due(self.visitor.now, state.next_attempt_at):
            checked = await self._check_home(source)
            if checked is not None:
                self._forget(source.name, remembered, checked)
                found = checked
        feeds, sitemaps = found
        targets = [Target(feed_row(source.name, u), "site-feed", u, source.name) for u in feeds]
        targets += [Target(sitemap_row(source.name, u), "site-sitemap", u, source.name)
                    for u in sitemaps]
        links: list[DiscoveredLink] = []
        answered = False
        for target in targets:
            got, ok = await self.visitor.links(target)
            links.extend(got)
            answered = answered or ok
        self._record_site(source, answered, bool(targets))
        return tuple(links), answered

    def _remembered(self, site: str) -> Found:
        """The children the store remembers, minus the stale and a sitemap's own children."""
        store = self.visitor.store
        feeds = store.child_source_urls(feed_row(site))
        sitemaps = store.child_source_urls(sitemap_row(site))
        nested = {c for u in sitemaps for c in store.child_source_urls(sitemap_row(site, u))}
        return (tuple(u for u in feeds if not self._stale(feed_row(site, u))),
                tuple(u for u in sitemaps
                      if u not in nested and not self._stale(sitemap_row(site, u))))

    def _stale(self, name: str) -> bool:
        state = self.visitor.store.source_state(name)
        return state is not None and state.last_error == STALE

    async def _check_home(self, source: SourceSettings) -> Found | None:
        """Fetch the homepage (conditionally) and read what it and robots.txt declare;
        None when the homepage failed or is unchanged (the remembered list stands)."""
        home = Target(home_row(source.name), "site-home", source.url, source.name)
        next_check = (self.visitor.now + RECHECK).isoformat()
        page = await self.visitor.fetch(home, "page", next_check=next_check)
        if page is None or page.not_modified:
            return None
        feeds = declared_feeds(page.body, page.final_url) or await self._probe(page.final_url)
        sitemaps = await self._news_sitemaps(page.final_url)
        self.visitor.succeeded(home, page, next_check=next_check)
        self.visitor.counters.add("site", "checked")
        event(log, "site", source=source.name, url=page.final_url, feeds=list(feeds),
              sitemaps=list(sitemaps))
        return feeds, sitemaps

    async def _probe(self, home: str) -> tuple[str, ...]:
        """The first common feed path that answers with a feed listing links."""
        for url in probe_urls(home):
            read = await self._read(url)
            if read is None:
                continue
            final, listing = read
            if listing.form == "feed" and listing.links:
                return (final,)
        self.visitor.counters.add("site", "no_feed")
        return ()

    async def _news_sitemaps(self, home: str) -> tuple[str, ...]:
        """robots.txt's news sitemaps: by name, else by content (entries carrying
        ``<news:news>``, or an index's news-named children) among the first few listed."""
        try:
            listed = sitemap_urls(await self.visitor.fetcher.sitemaps(home), home)
        except FetchError:
            return ()
        named = [u for u in listed if looks_like_news(u)]
        if named:
            return tuple(named[:MAX_SITEMAPS])
        found: list[str] = []
        for url in listed[:SITEMAP_PEEKS]:
            read = await self._read(url)
            if read is None:
                continue
            _final, listing = read
            if listing.news:
                found.append(url)
            else:
                found.extend(c for c in listing.children if looks_like_news(c))
        return tuple(dict.fromkeys(found))[:MAX_SITEMAPS]

    async def _read(self, url: str) -> tuple[str, SourceListing] | None:
        """A discovery-time read (probe, peek): the final URL and what it lists, None when
        it failed, was unchanged or is unreadable (a miss is normal: a fetch miss is counted)."""
        try:
            page = await self.visitor.fetcher.get(url, accept="source")
        except FetchError:
            self.visitor.counters.add("site", "probe_miss")
            return None
        if page.not_modified:
            return None
        try:
            return page.final_url, parse_source(page.body, url=page.final_url, source="",
                                                content_type=page.content_type)
        except SourceError:
            return None

    def _forget(self, site: str, before: Found, now: Found) -> None:
        """Mark the children the site no longer declares, so they are not visited."""
        for urls, fresh, row, kind in ((before[0], now[0], feed_row, "site-feed"),
                                      (before[1], now[1], sitemap_row, "site-sitemap")):
            for url in set(urls) - set(fresh):
                self.visitor.store.record_source(row(site, url), kind, url, ok=False,
                                                 status=None, error=STALE)

    def _record_site(self, source: SourceSettings, answered: bool, had_targets: bool) -> None:
        """The site's own row: healthy when one of its feeds or sitemaps answered."""
        site = Target(source.name, "site", source.url, source.name)
        if answered:
            self.visitor.succeeded(site, None)
            return
        reason = ("none of its feeds or sitemaps answered" if had_targets else
                  "no feed or news sitemap found (homepage, common feed paths, robots.txt)")
        self.visitor.failed(site, SourceError(reason, url=source.url))
