"""Discovery (``ingest.discover.visit``): one source visit through its injection points.

A real :class:`~ingest.fetch.fetcher.Fetcher` talks to a loopback site that
answers conditional GETs, and a real SQLite store keeps each source's
validators and health; the visit's clock is a fixed ``now``. A small fake
fetcher covers what a real server makes slow or awkward (a network error, an
index of many children).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.config import FetchSettings, SourceSettings
from ingest.discover.visit import Discovery, PageFetcher, SourceVisit
from ingest.errors import NetworkError
from ingest.fetch.fetcher import Fetcher
from ingest.types import DiscoveredLink, FetchedPage, StageCounters
from loopback import LoopbackRequest, LoopbackServer, status
from newsweb import LAST_MODIFIED, article_html, rss, urlset
from store.db import Store

NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
INTERVAL = 600.0
SETTINGS = FetchSettings(user_agent="newsdedup-test/1.0 (+https://example.org/t)",
                         timeout_seconds=5.0, per_host_delay_seconds=0.0,
                         allow_private_addresses=True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "news.db") as db:
        yield db


@dataclass
class Visit:
    found: Discovery
    counters: StageCounters


def visit(store: Store, source: SourceSettings, *, now: datetime = NOW,
          fetcher: PageFetcher | None = None) -> Visit:
    """One ``SourceVisit.discover`` with a real Fetcher unless ``fetcher`` is given."""
    async def run() -> Visit:
        counters = StageCounters()
        async with Fetcher(SETTINGS) as real:
            found = await SourceVisit(fetcher or real, store, counters, now,
                                      INTERVAL).discover(source)
        return Visit(found, counters)
    return asyncio.run(run())


def requests_to(srv: LoopbackServer, path: str) -> list[Any]:
    return [r for r in srv.requests if r.path == path]


def sitemap_index(*urls: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
            'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls) + "</sitemapindex>")


def last_status(store: Store, name: str) -> int | None:
    row = store.conn.execute("SELECT last_status FROM sources WHERE name = ?",
                             (name,)).fetchone()
    return None if row is None else row[0]


# -- feeds: conditional GETs ---------------------------------------------------------------


def test_a_feed_lists_its_links_in_order_and_keeps_its_validators(
        store: Store, loopback: LoopbackServer) -> None:
    items = [("One", loopback.url("/1")), ("Two", loopback.url("/2"))]
    loopback.add("/feed.xml", rss(items), content_type="application/rss+xml", etag='"v1"',
                 last_modified=LAST_MODIFIED)
    source = SourceSettings("tech", "feed", loopback.url("/feed.xml"))
    first = visit(store, source)
    assert first.found.ok and first.found.source == "tech"
    assert [(link.url, link.source, link.title) for link in first.found.links] == [
        (loopback.url("/1"), "tech", "One"), (loopback.url("/2"), "tech", "Two")]
    assert first.counters.get("source", "fetched") == 1
    assert first.counters.get("discover", "links") == 2
    state = store.source_state("tech")
    assert state is not None and (state.etag, state.last_modified) == ('"v1"', LAST_MODIFIED)
    assert "application/rss+xml" in requests_to(loopback, "/feed.xml")[0].headers["accept"]


def test_an_unchanged_feed_is_asked_with_its_validators_and_lists_nothing(
        store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/feed.xml", rss([("One", loopback.url("/1"))]),
                 content_type="application/rss+xml", etag='"v1"', last_modified=LAST_MODIFIED)
    source = SourceSettings("tech", "feed", loopback.url("/feed.xml"))
    visit(store, source)
    again = visit(store, source)
    sent = requests_to(loopback, "/feed.xml")[1].headers
    assert (sent.get("If-None-Match"), sent.get("If-Modified-Since")) == ('"v1"', LAST_MODIFIED)
    assert again.found == Discovery("tech")
    assert again.counters.get("source", "not_modified") == 1
    assert again.counters.get("source", "fetched") == 0


def test_a_changed_feed_is_read_again_and_its_new_validators_kept(
        store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/feed.xml", rss([("One", loopback.url("/1"))]),
                 content_type="application/rss+xml", etag='"v1"')
    source = SourceSettings("tech", "feed", loopback.url("/feed.xml"))
    visit(store, source)
    loopback.add("/feed.xml", rss([("Three", loopback.url("/3")), ("One", loopback.url("/1"))]),
                 content_type="application/rss+xml", etag='"v2"')
    changed = visit(store, source)
    assert [link.url for link in changed.found.links] == [loopback.url("/3"), loopback.url("/1")]
    state = store.source_state("tech")
    assert state is not None and state.etag == '"v2"'
    visit(store, source)
    assert requests_to(loopback, "/feed.xml")[2].headers.get("If-None-Match") == '"v2"'


# -- sitemap indexes --------------------------------------------------------------------------


def maps_site(srv: LoopbackServer) -> SourceSettings:
    srv.add("/news.xml", urlset([srv.url("/n/1"), srv.url("/n/2")], news=True),
            content_type="application/xml", etag='"news-1"')
    srv.add("/pages.xml", urlset([srv.url("/p/1")]), content_type="application/xml",
            etag='"pages-1"')
    srv.add("/index.xml", sitemap_index(srv.url("/news.xml"), srv.url("/pages.xml")),
            content_type="application/xml", etag='"idx-1"')
    return SourceSettings("maps", "sitemap", srv.url("/index.xml"))


def test_a_sitemap_index_lists_its_childrens_links_each_child_a_source(
        store: Store, loopback: LoopbackServer) -> None:
    found = visit(store, maps_site(loopback)).found
    assert found.ok
    assert [link.url for link in found.links] == [
        loopback.url("/n/1"), loopback.url("/n/2"), loopback.url("/p/1")]
    assert {link.source for link in found.links} == {"maps"}
    assert store.child_source_urls("maps") == [loopback.url("/news.xml"),
                                               loopback.url("/pages.xml")]
    child = store.source_state(f"maps > {loopback.url('/news.xml')}")
    assert child is not None and child.etag == '"news-1"'


def test_an_unchanged_index_still_visits_its_children_with_their_own_validators(
        store: Store, loopback: LoopbackServer) -> None:
    source = maps_site(loopback)
    visit(store, source)
    loopback.add("/pages.xml", urlset([loopback.url("/p/2")]), content_type="application/xml",
                 etag='"pages-2"')
    again = visit(store, source)
    assert requests_to(loopback, "/index.xml")[1].headers.get("If-None-Match") == '"idx-1"'
    assert requests_to(loopback, "/news.xml")[1].headers.get("If-None-Match") == '"news-1"'
    assert requests_to(loopback, "/pages.xml")[1].headers.get("If-None-Match") == '"pages-1"'
    assert [link.url for link in again.found.links] == [loopback.url("/p/2")]
    assert again.counters.get("source", "not_modified") == 2  # the index and news.xml


def test_a_failing_child_sitemap_is_recorded_without_failing_its_index(
        store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/ok.xml", urlset([loopback.url("/p/1")]), content_type="application/xml")
    loopback.add("/index.xml", sitemap_index(loopback.url("/gone.xml"), loopback.url("/ok.xml")),
                 content_type="application/xml")
    found = visit(store, SourceSettings("maps", "sitemap", loopback.url("/index.xml"))).found
    assert found.ok and [link.url for link in found.links] == [loopback.url("/p/1")]
    child = store.source_state(f"maps > {loopback.url('/gone.xml')}")
    assert child is not None and child.consecutive_failures == 1
    assert child.next_attempt_at == (NOW + timedelta(seconds=INTERVAL)).isoformat()
    index = store.source_state("maps")
    assert index is not None and index.consecutive_failures == 0


# -- page sources -----------------------------------------------------------------------------


def test_a_page_source_is_fetched_once_as_a_page_and_handed_on(
        store: Store, loopback: LoopbackServer) -> None:
    html = article_html("fr4", site="Le Journal")
    loopback.add("/fr4.html", html, last_modified=LAST_MODIFIED)
    source = SourceSettings("journal-page", "page", loopback.url("/fr4.html"))
    found = visit(store, source).found
    url = loopback.url("/fr4.html")
    assert found.links == (DiscoveredLink(url=url, source="journal-page"),)
    assert found.prefetched[url].body == html.encode()
    assert requests_to(loopback, "/fr4.html")[0].headers["accept"].startswith("text/html")
    again = visit(store, source).found
    assert requests_to(loopback, "/fr4.html")[1].headers.get("If-Modified-Since") == \
        LAST_MODIFIED
    assert again == Discovery("journal-page")


# -- failures and backoff ---------------------------------------------------------------------


def answers(*handlers: Callable[[LoopbackRequest], None]) -> Callable[[LoopbackRequest], None]:
    """A route answering each request with the next handler (the last one repeats)."""
    queue = list(handlers)

    def fn(req: LoopbackRequest) -> None:
        (queue.pop(0) if len(queue) > 1 else queue[0])(req)
    return fn


def feed_ok(srv: LoopbackServer) -> Callable[[LoopbackRequest], None]:
    def fn(req: LoopbackRequest) -> None:
        req.respond(200, rss([("One", srv.url("/1"))]), content_type="application/rss+xml")
    return fn


def test_a_failing_source_is_recorded_with_its_next_attempt_then_recovers(
        store: Store, loopback: LoopbackServer) -> None:
    loopback.add_handler("/feed.xml", answers(status(503, retry_after="7200"), status(500),
                                              feed_ok(loopback)))
    source = SourceSettings("busy", "feed", loopback.url("/feed.xml"))

    first = visit(store, source)
    assert first.found == Discovery("busy", ok=False)
    assert first.counters.get("source", "status_503") == 1
    state = store.source_state("busy")
    assert state is not None and state.consecutive_failures == 1 and "503" in str(
        state.last_error)
    assert state.next_attempt_at == (NOW + timedelta(hours=2)).isoformat()  # Retry-After
    assert last_status(store, "busy") == 503

    later = NOW + timedelta(hours=3)
    visit(store, source, now=later)
    state = store.source_state("busy")
    assert state is not None and state.consecutive_failures == 2
    assert state.next_attempt_at == (later + timedelta(seconds=2 * INTERVAL)).isoformat()

    recovered = visit(store, source, now=later + timedelta(hours=1))
    assert recovered.found.ok and [link.url for link in recovered.found.links] == [
        loopback.url("/1")]
    state = store.source_state("busy")
    assert state is not None
    assert (state.consecutive_failures, state.last_error, state.next_attempt_at) == (0, None,
                                                                                     None)


def test_an_unreadable_feed_fails_and_its_validators_are_not_kept(
        store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/feed.xml", "<html><body>not a feed</body></html>",
                 content_type="application/xml", etag='"broken"')
    source = SourceSettings("odd", "feed", loopback.url("/feed.xml"))
    first = visit(store, source)
    assert first.found == Discovery("odd", ok=False)
    assert first.counters.get("source", "source_parse") == 1
    state = store.source_state("odd")
    assert state is not None and state.etag is None and state.consecutive_failures == 1
    assert last_status(store, "odd") == 200
    visit(store, source)
    assert "If-None-Match" not in requests_to(loopback, "/feed.xml")[1].headers, \
        "a 304 would hide the broken body for ever"


# -- a fake fetcher: what the visit asks, and failures without a server ---------------


@dataclass
class FakeFetcher:
    """Answers from ``bodies`` by URL (a missing URL raises ``error``); records each call."""

    bodies: dict[str, str] = field(default_factory=dict)
    error: Exception | None = None
    calls: list[tuple[str, str | None, str | None, str]] = field(default_factory=list)

    async def get(self, url: str, *, etag: str | None = None,
                  last_modified: str | None = None, accept: str = "page") -> FetchedPage:
        self.calls.append((url, etag, last_modified, accept))
        if url not in self.bodies:
            raise self.error or NetworkError("connection reset", url=url)
        return FetchedPage(url=url, final_url=url, status=200, content_type="application/xml",
                           body=self.bodies[url].encode(), fetched_at=NOW.isoformat())

    async def post(self, url: str, data: bytes, *, content_type: str,
                   accept: str = "source") -> FetchedPage:
        raise NetworkError("no POST in these tests", url=url)

    async def sitemaps(self, url: str) -> tuple[str, ...]:
        return ()


def test_the_stored_validators_are_what_the_fetcher_is_asked_with(store: Store) -> None:
    url = "https://a.example/feed.xml"
    store.record_source("a", "feed", url, ok=True, status=200, etag='W/"7"',
                        last_modified=LAST_MODIFIED)
    fake = FakeFetcher()
    visit(store, SourceSettings("a", "feed", url), fetcher=fake)
    assert fake.calls == [(url, 'W/"7"', LAST_MODIFIED, "source")]


def test_a_network_error_is_counted_and_backs_the_source_off_by_its_interval(
        store: Store) -> None:
    fake = FakeFetcher()
    seen = visit(store, SourceSettings("a", "feed", "https://a.example/f"), fetcher=fake)
    assert seen.found == Discovery("a", ok=False)
    assert seen.counters.get("source", "network") == 1
    state = store.source_state("a")
    assert state is not None and "connection reset" in str(state.last_error)
    assert state.next_attempt_at == (NOW + timedelta(seconds=INTERVAL)).isoformat()
    assert last_status(store, "a") is None


def test_a_sitemap_index_is_followed_fifty_children_deep_at_most(store: Store) -> None:
    children = [f"https://a.example/s{i}.xml" for i in range(60)]
    bodies = {"https://a.example/index.xml": sitemap_index(*children)}
    bodies |= {u: urlset([u.replace(".xml", "/page")]) for u in children}
    fake = FakeFetcher(bodies)
    found = visit(store, SourceSettings("a", "sitemap", "https://a.example/index.xml"),
                  fetcher=fake).found
    assert [call[0] for call in fake.calls] == ["https://a.example/index.xml", *children[:50]]
    assert len(found.links) == 50 and all(call[3] == "source" for call in fake.calls)


def test_aggregator_links_in_any_source_are_replaced_by_their_targets(store: Store) -> None:
    """A sitemap (not only a search feed) that lists Bing wrappers lists articles."""
    wrapped = ("http://www.bing.com/news/apiclick.aspx?ref=FexRss&url="
               "https%3a%2f%2fpub.example%2fa%3fid%3d1&c=1")
    fake = FakeFetcher({"https://a.example/s.xml": urlset([wrapped, "https://a.example/b"])})
    seen = visit(store, SourceSettings("a", "sitemap", "https://a.example/s.xml"), fetcher=fake)
    assert [link.url for link in seen.found.links] == ["https://pub.example/a?id=1",
                                                       "https://a.example/b"]
    assert seen.counters.get("resolved", "a/offline") == 1
    assert seen.counters.get("discover", "links") == 2
    assert [call[0] for call in fake.calls] == ["https://a.example/s.xml"]  # Bing not asked
