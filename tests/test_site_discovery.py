"""``kind = "site"`` sources: feeds and news sitemaps found from a homepage and robots.txt,
remembered in the store, re-checked daily (``ingest.discover.site``, ``.sitevisit``).

Real :class:`~ingest.fetch.fetcher.Fetcher` against loopback sites, a real SQLite
store, an injected visit clock (so "a day later" needs no waiting).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.config import FetchSettings, SourceSettings
from ingest.discover.resolve import LinkResolver
from ingest.discover.site import STALE, declared_feeds, looks_like_news, sitemap_urls
from ingest.discover.visit import Discovery, SourceVisit
from ingest.fetch.fetcher import Fetcher
from ingest.types import StageCounters
from loopback import LoopbackServer, status
from newsweb import atom, rss, urlset
from store.db import Store

NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
SETTINGS = FetchSettings(user_agent="newsdedup-test/1.0 (+https://example.org/t)",
                         timeout_seconds=5.0, per_host_delay_seconds=0.0,
                         allow_private_addresses=True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "news.db") as db:
        yield db


def visit(store: Store, srv: LoopbackServer, *, now: datetime = NOW,
          counters: StageCounters | None = None) -> Discovery:
    async def run() -> Discovery:
        async with Fetcher(SETTINGS) as fetcher:
            return await SourceVisit(fetcher, store, counters or StageCounters(), now, 600.0,
                                     LinkResolver()).discover(
                SourceSettings("site", "site", srv.url("/")))
    return asyncio.run(run())


def home(srv: LoopbackServer, head: str = "", etag: str | None = None) -> None:
    srv.add("/", f"<!doctype html><html lang='fr'><head><title>Accueil</title>{head}</head>"
            "<body><h1>Le Site</h1><a href='/a'>Un article</a></body></html>", etag=etag)


def alternate(href: str, kind: str = "application/rss+xml") -> str:
    return f'<link rel="alternate" type="{kind}" title="Flux" href="{href}">'


def rows(store: Store) -> dict[str, tuple[str, str | None]]:
    return {name: (kind, error) for name, kind, error in store.conn.execute(
        "SELECT name, kind, last_error FROM sources").fetchall()}


def urls(found: Discovery) -> list[str]:
    return [link.url for link in found.links]


# -- what a homepage declares ----------------------------------------------------------------


def test_declared_feeds_are_read_in_any_language_and_comment_feeds_left_out() -> None:
    html = ('<html lang="de"><head><link rel="alternate" hreflang="en" href="/en/">'
            + alternate("/nachrichten/feed/") + alternate("https://feeds.other.example/a",
                                                          "application/atom+xml")
            + alternate("/comments/feed/") + "</head><body></body></html>").encode()
    assert declared_feeds(html, "https://zeitung.example/") == (
        "https://zeitung.example/nachrichten/feed/", "https://feeds.other.example/a")
    assert declared_feeds(b"<html><body><p>rien</p></body></html>", "https://a.example/") == ()


def test_news_sitemaps_are_told_by_name_and_robots_lines_made_absolute() -> None:
    assert [looks_like_news(u) for u in ("https://a.example/sitemap_news.xml",
                                         "https://a.example/sitemaps/news/index.xml",
                                         "https://a.example/news-sitemap.xml.gz",
                                         "https://a.example/sitemap.xml",
                                         "https://a.example/newsletter.xml")] == [
        True, True, True, False, False]
    assert sitemap_urls(("/s.xml", " https://a.example/s.xml", "nonsense:x", "s.xml"),
                        "https://a.example/fr/") == ("https://a.example/s.xml",)


def test_a_site_lists_the_links_of_the_feeds_its_homepage_declares(
        loopback: LoopbackServer, store: Store) -> None:
    home(loopback, alternate("/rss.xml") + alternate("/atom", "application/atom+xml"))
    loopback.add("/rss.xml", rss([("Un", loopback.url("/un"))]),
                 content_type="application/rss+xml")
    loopback.add("/atom", atom([("Deux", loopback.url("/deux"))]),
                 content_type="application/atom+xml")
    found = visit(store, loopback)
    assert found.ok and urls(found) == [loopback.url("/un"), loopback.url("/deux")]
    assert rows(store)[f"site > feed > {loopback.url('/rss.xml')}"] == ("site-feed", None)
    assert rows(store)["site"] == ("site", None)
    assert not [p for p in loopback.paths() if p in ("/feed", "/rss")]  # nothing probed


def test_without_a_declared_feed_common_paths_are_tried_until_one_is_a_feed(
        loopback: LoopbackServer, store: Store) -> None:
    home(loopback)
    loopback.add("/feed", "<html><body>Not found, but 200</body></html>")  # a soft 404
    loopback.add("/rss", b"", status=301, headers={"Location": "/rss/"}, content_type=None)
    loopback.add("/rss/", rss([("Un", loopback.url("/un"))]), content_type="text/xml")
    found = visit(store, loopback)
    assert urls(found) == [loopback.url("/un")]
    assert f"site > feed > {loopback.url('/rss/')}" in rows(store)
    assert "/feed.xml" not in loopback.paths()  # the first feed found ends the search


# -- robots.txt sitemaps -------------------------------------------------------------------------


def test_robots_news_sitemaps_are_preferred_to_the_archive(
        loopback: LoopbackServer, store: Store) -> None:
    home(loopback, alternate("/rss.xml"))
    loopback.add("/rss.xml", rss([("Un", loopback.url("/un"))]),
                 content_type="application/rss+xml")
    loopback.add("/robots.txt", "User-agent: *\nAllow: /\nSitemap: /sitemap.xml\n"
                  f"Sitemap: {loopback.url('/sitemap-news.xml')}\n", content_type="text/plain")
    loopback.add("/sitemap-news.xml", urlset([loopback.url("/deux")], news=True),
                 content_type="application/xml")
    loopback.add("/sitemap.xml", urlset([loopback.url("/archive")]),
                 content_type="application/xml")
    found = visit(store, loopback)
    assert urls(found) == [loopback.url("/un"), loopback.url("/deux")]
    assert "/sitemap.xml" not in loopback.paths()
    assert loopback.count("/robots.txt") == 1  # read once, for the rules and the sitemaps


@pytest.mark.parametrize("kind", ["namespace", "index"])
def test_a_news_sitemap_not_named_so_is_found_by_its_content(
        loopback: LoopbackServer, store: Store, kind: str) -> None:
    home(loopback)
    loopback.add("/robots.txt", "User-agent: *\nSitemap: /sitemap.xml\n",
                 content_type="text/plain")
    news = urlset([loopback.url("/deux")], news=True)
    if kind == "namespace":
        loopback.add("/sitemap.xml", news, content_type="application/xml")
    else:
        loopback.add("/sitemap.xml", '<?xml version="1.0"?><sitemapindex xmlns="http://www.'
                     'sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>/posts-1.xml</loc>'
                     "</sitemap><sitemap><loc>/actualites-news.xml</loc></sitemap>"
                     "</sitemapindex>", content_type="application/xml")
        loopback.add("/actualites-news.xml", news, content_type="application/xml")
        loopback.add("/posts-1.xml", urlset([loopback.url("/old")]),
                     content_type="application/xml")
    found = visit(store, loopback)
    assert urls(found) == [loopback.url("/deux")]
    assert "/posts-1.xml" not in loopback.paths()


def test_a_sitemap_declaring_the_news_namespace_without_news_entries_is_not_taken(
        loopback: LoopbackServer, store: Store) -> None:
    home(loopback)
    loopback.add("/robots.txt", "User-agent: *\nSitemap: /sitemap.xml\n",
                 content_type="text/plain")
    archive = urlset([loopback.url("/old")]).replace(
        "<urlset ", '<urlset xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" ')
    loopback.add("/sitemap.xml", archive, content_type="application/xml")
    found = visit(store, loopback)
    assert not found.ok and found.links == ()
    assert not [name for name in rows(store) if "sitemap" in name]


def test_a_site_that_declares_nothing_fails_with_the_reason(
        loopback: LoopbackServer, store: Store) -> None:
    home(loopback)
    loopback.add("/robots.txt", "User-agent: *\nSitemap: /sitemap.xml\n",
                 content_type="text/plain")
    loopback.add("/sitemap.xml", urlset([loopback.url("/archive")]),
                 content_type="application/xml")
    counters = StageCounters()
    found = visit(store, loopback, counters=counters)
    assert not found.ok and found.links == ()
    kind, error = rows(store)["site"]
    assert kind == "site" and error is not None and "no feed or news sitemap" in error
    assert counters.get("site", "no_feed") == 1


# -- remembered, re-checked daily ------------------------------------------------------------


def test_the_homepage_is_checked_again_a_day_later_conditionally(
        loopback: LoopbackServer, store: Store) -> None:
    home(loopback, alternate("/rss.xml"), etag='"home-1"')
    loopback.add("/rss.xml", rss([("Un", loopback.url("/un"))]),
                 content_type="application/rss+xml")
    visit(store, loopback)
    found = visit(store, loopback, now=NOW + timedelta(hours=12))
    assert loopback.count("/") == 1 and urls(found) == [loopback.url("/un")]
    found = visit(store, loopback, now=NOW + timedelta(hours=25))
    checks = [r for r in loopback.requests if r.path == "/"]
    assert len(checks) == 2 and checks[1].headers.get("if-none-match") == '"home-1"'
    assert urls(found) == [loopback.url("/un")]  # unchanged (304): the feed stays
    assert loopback.count("/rss.xml") == 3


def test_a_feed_the_homepage_stops_declaring_is_no_longer_read(
        loopback: LoopbackServer, store: Store) -> None:
    home(loopback, alternate("/old.xml"))
    loopback.add("/old.xml", rss([("Un", loopback.url("/un"))]),
                 content_type="application/rss+xml")
    loopback.add("/new.xml", rss([("Deux", loopback.url("/deux"))]),
                 content_type="application/rss+xml")
    visit(store, loopback)
    home(loopback, alternate("/new.xml"))
    found = visit(store, loopback, now=NOW + timedelta(days=2))
    assert urls(found) == [loopback.url("/deux")]
    assert rows(store)[f"site > feed > {loopback.url('/old.xml')}"] == ("site-feed", STALE)
    visit(store, loopback, now=NOW + timedelta(days=2, hours=1))
    assert loopback.count("/old.xml") == 1


def test_a_failing_homepage_backs_off_but_the_remembered_feeds_are_still_read(
        loopback: LoopbackServer, store: Store) -> None:
    home(loopback, alternate("/rss.xml"))
    loopback.add("/rss.xml", rss([("Un", loopback.url("/un"))]),
                 content_type="application/rss+xml")
    visit(store, loopback)
    loopback.add_handler("/", status(503))
    found = visit(store, loopback, now=NOW + timedelta(days=1, minutes=1))
    assert found.ok and urls(found) == [loopback.url("/un")]
    state = store.source_state("site (homepage)")
    assert state is not None and state.consecutive_failures == 1
    assert state.next_attempt_at is not None and state.next_attempt_at < (
        NOW + timedelta(days=2)).isoformat()


def test_a_first_visit_whose_homepage_fails_fails_the_site(
        loopback: LoopbackServer, store: Store) -> None:
    loopback.add_handler("/", status(500))
    found = visit(store, loopback)
    assert not found.ok
    state = store.source_state("site")
    assert state is not None and state.consecutive_failures == 1
