"""Aggregator links resolved through the real fetcher against the loopback replica.

``tests/aggregatorweb.py`` serves Google News and Bing News as observed (feeds,
article pages with signatures, the batchexecute endpoint) and the publishers.
Each test runs a real :class:`~ingest.discover.visit.SourceVisit` (or the
resolver alone) with a real :class:`~ingest.fetch.fetcher.Fetcher` and a real
SQLite store, and checks what was listed, counted and requested.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aggregatorweb import GOOGLE_REAL_ROBOTS, UNRESOLVED, AggregatorWeb, new_id, old_id
from ingest.config import FetchSettings, SourceSettings
from ingest.discover.parse import parse_source
from ingest.discover.resolve import LinkResolver
from ingest.discover.visit import Discovery, SourceVisit
from ingest.fetch.fetcher import Fetcher
from ingest.types import DiscoveredLink, StageCounters
from loopback import LoopbackRequest, status
from store.db import Store

UA = "newsdedup-test/1.0 (+https://example.org/t)"
SETTINGS = FetchSettings(user_agent=UA, timeout_seconds=5.0, per_host_delay_seconds=0.0,
                         allow_private_addresses=True)
NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def web() -> Iterator[AggregatorWeb]:
    with AggregatorWeb() as w:
        yield w


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "news.db") as db:
        yield db


def source(web: AggregatorWeb, name: str) -> SourceSettings:
    return next(SourceSettings(n, k, u) for n, k, u in web.sources() if n == name)  # type: ignore[arg-type]


def discover(web: AggregatorWeb, store: Store, name: str, resolver: LinkResolver,
             counters: StageCounters, settings: FetchSettings = SETTINGS) -> Discovery:
    async def run() -> Discovery:
        async with Fetcher(settings) as fetcher:
            return await SourceVisit(fetcher, store, counters, NOW, 600.0,
                                     resolver).discover(source(web, name))
    return asyncio.run(run())


def unresolved(counters: StageCounters, name: str) -> dict[str, int]:
    prefix = f"unresolved.{name}/"
    return {k[len(prefix):]: n for k, n in counters.counts.items() if k.startswith(prefix)}


def lookup_paths(web: AggregatorWeb) -> list[str]:
    return [p for p in web.sites["google"].paths() if p.startswith(("/rss/articles/", "/_/"))]


# -- both formats, end to end of discovery -------------------------------------------------


def test_google_links_resolve_to_publishers_offline_or_by_lookup(
        web: AggregatorWeb, store: Store) -> None:
    counters = StageCounters()
    found = discover(web, store, "google", LinkResolver(web.aggregators()), counters)
    assert [link.url for link in found.links] == [web.pages[s] for s in
                                                  ("en1", "fr1", "en3", "en4", "fr5")]
    assert all(link.source == "google" and link.title for link in found.links)
    assert unresolved(counters, "google") == UNRESOLVED["google"]
    assert counters.get("resolved", "google/offline") == 1
    assert counters.get("resolved", "google/lookup") == 4
    google = web.sites["google"]
    # The old id was decoded offline: its wrapper (a redirect) was never asked for.
    old = f"/rss/articles/{old_id(web.pages['en1'])}"
    assert [p for p in google.paths() if p.split("?")[0] == old] == []
    # One article page per new id, in Google's edition, then one POST for all of them.
    pages = [p for p in lookup_paths(web) if p.startswith("/rss/articles/")]
    assert len(pages) == len(set(pages)) == 6 and all("ceid=US%3Aen" in p for p in pages)
    assert google.count("/_/DotsSplashUi/data/batchexecute") == 1
    assert len(web.posts[0]["envelopes"]) == 4 and web.posts[0]["user_agent"] == UA
    assert {r.headers["user-agent"] for r in google.requests} == {UA}


def test_bing_links_are_unwrapped_without_asking_bing(web: AggregatorWeb, store: Store) -> None:
    counters = StageCounters()
    found = discover(web, store, "bing", LinkResolver(web.aggregators()), counters)
    assert [link.url for link in found.links] == [
        web.pages["en1"] + "?utm_source=bing", web.pages["fr2"], web.pages["fr4"],
        web.pages["en5"]]
    assert unresolved(counters, "bing") == UNRESOLVED["bing"]
    assert [p for p in web.sites["bing"].paths() if "apiclick" in p] == []


def test_a_link_resolved_once_is_not_looked_up_again(web: AggregatorWeb, store: Store) -> None:
    resolver = LinkResolver(web.aggregators())
    discover(web, store, "google", resolver, StageCounters())
    before = len(lookup_paths(web))
    counters = StageCounters()
    found = discover(web, store, "google", resolver, counters)
    assert len(found.links) == 5
    assert len(lookup_paths(web)) == before  # the failures are remembered for a while too
    assert counters.get("resolved", "google/cached") == 4
    assert unresolved(counters, "google") == UNRESOLVED["google"]


def test_failures_are_asked_again_once_their_time_is_up(web: AggregatorWeb, store: Store) -> None:
    now = [0.0]
    resolver = LinkResolver(web.aggregators(), retry_seconds=60, clock=lambda: now[0])
    discover(web, store, "google", resolver, StageCounters())
    pages = len([p for p in lookup_paths(web) if p.startswith("/rss/articles/")])
    now[0] = 61.0
    discover(web, store, "google", resolver, StageCounters())
    again = len([p for p in lookup_paths(web) if p.startswith("/rss/articles/")])
    assert again - pages == 2  # the interstitial and the refused id; not the resolved four


def test_the_streamed_answer_form_is_read_too(store: Store) -> None:
    with AggregatorWeb(chunked=True) as web:
        found = discover(web, store, "google", LinkResolver(web.aggregators()), StageCounters())
        assert len(found.links) == 5


def test_lookups_are_capped_per_visit_and_the_rest_deferred(
        web: AggregatorWeb, store: Store) -> None:
    resolver = LinkResolver(web.aggregators(), max_lookups=2)
    counters = StageCounters()
    found = discover(web, store, "google", resolver, counters)
    assert len(found.links) == 1 + 2  # the offline one, and two of the lookups at most
    assert unresolved(counters, "google")["deferred"] == 4
    assert len([p for p in lookup_paths(web) if p.startswith("/rss/articles/")]) == 2
    counters = StageCounters()
    discover(web, store, "google", resolver, counters)
    assert unresolved(counters, "google").get("deferred", 0) == 2


# -- the lookup goes through the project's fetcher, with its guards ---------------------------


def google_links(web: AggregatorWeb) -> list[DiscoveredLink]:
    """The Google replica's feed items, read without asking its robots.txt."""
    async def run() -> bytes:
        lax = FetchSettings(user_agent=UA, per_host_delay_seconds=0.0,
                            allow_private_addresses=True, respect_robots_txt=False)
        async with Fetcher(lax) as fetcher:
            return (await fetcher.get(source(web, "google").url, accept="source")).body
    body = asyncio.run(run())
    return list(parse_source(body, url=source(web, "google").url, source="google").links)


def resolve(web: AggregatorWeb, links: list[DiscoveredLink], counters: StageCounters,
            resolver: LinkResolver | None = None) -> tuple[DiscoveredLink, ...]:
    async def run() -> tuple[DiscoveredLink, ...]:
        async with Fetcher(SETTINGS) as fetcher:
            return await (resolver or LinkResolver(web.aggregators())).resolve(
                links, fetcher, counters, source="google", source_url=source(web, "google").url)
    return asyncio.run(run())


def test_googles_own_robots_rules_refuse_every_lookup(store: Store) -> None:
    with AggregatorWeb(google_robots=GOOGLE_REAL_ROBOTS) as web:
        links = google_links(web)
        before = len(web.sites["google"].requests)
        counters = StageCounters()
        kept = resolve(web, links, counters)
        assert [link.url for link in kept] == [web.pages["en1"]]  # offline needs no request
        assert unresolved(counters, "google")["robots"] == 6
        assert [r.path for r in web.sites["google"].requests[before:]] == ["/robots.txt"]
        # ... and with those rules the feed itself is not read either.
        counters = StageCounters()
        assert not discover(web, store, "google", LinkResolver(web.aggregators()), counters).ok
        assert counters.get("source", "robots") == 1


def test_a_post_robots_txt_disallows_is_not_sent(web: AggregatorWeb) -> None:
    links = google_links(web)
    web.sites["google"].add("/robots.txt", "User-agent: *\nDisallow: /_/\n",
                            content_type="text/plain")
    counters = StageCounters()
    kept = resolve(web, links, counters)
    assert [link.url for link in kept] == [web.pages["en1"], web.pages["en3"]]  # data-n-au
    assert unresolved(counters, "google")["robots"] == 4
    assert web.sites["google"].count("/_/DotsSplashUi/data/batchexecute") == 0


@pytest.mark.parametrize(("where", "code", "reason", "kept"), [
    ("page", 429, "status_4xx", 1), ("post", 503, "status_5xx", 2)])
def test_an_aggregator_error_is_counted_by_status_class(
        web: AggregatorWeb, where: str, code: int, reason: str, kept: int) -> None:
    links = google_links(web)
    google = web.sites["google"]
    if where == "post":
        google.add_handler("/_/DotsSplashUi/data/batchexecute", status(code))
    else:
        for path in {p.split("?")[0] for p in _article_paths(links)}:
            google.add_handler(path, status(code, retry_after="60"))
    counters = StageCounters()
    assert len(resolve(web, links, counters)) == kept
    assert unresolved(counters, "google")[reason] == (6 if where == "page" else 4)


def _article_paths(links: list[DiscoveredLink]) -> list[str]:
    return ["/" + link.url.split("/", 3)[3] for link in links if "/rss/articles/" in link.url]


def test_an_http_redirect_off_the_aggregator_is_the_target(web: AggregatorWeb) -> None:
    """The protocol of the years before 2024: the article page redirects to the publisher."""
    article_id = new_id()
    target = web.pages["fr3"]

    def redirect(req: LoopbackRequest) -> Any:
        req.respond(302, b"", headers={"Location": target}, content_type=None)
    web.sites["google"].add_handler(f"/rss/articles/{article_id}", redirect)
    link = DiscoveredLink(f"{web.google_base}/rss/articles/{article_id}?oc=5", "google")
    counters = StageCounters()
    assert [x.url for x in resolve(web, [link], counters)] == [target]
    assert counters.get("resolved", "google/lookup") == 1
