"""robots.txt, RFC 9309: the fetcher obeys it and never requests what it forbids."""

from __future__ import annotations

import asyncio

import pytest
from test_fetch import HTML, UA, fetch, fetch_error, settings

from ingest.errors import RobotsDisallowed
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.robots import MAX_CRAWL_DELAY, UNREACHABLE_TTL, RobotsCache, RobotsPolicy
from loopback import (
    FakeTime,
    LoopbackServer,
    delayed,
    gzipped,
    redirect,
    reset_connection,
    status,
)

ROBOTS = "text/plain"


def _site(srv: LoopbackServer, robots: str) -> None:
    srv.add("/robots.txt", robots, content_type=ROBOTS)
    for path in ("/public", "/private/a", "/private/b", "/doc.pdf"):
        srv.add(path, HTML)


def test_disallowed_path_is_never_requested(loopback: LoopbackServer) -> None:
    _site(loopback, "User-agent: *\nDisallow: /private\n")
    err = fetch_error(loopback.url("/private/a"))
    assert isinstance(err, RobotsDisallowed) and err.url == loopback.url("/private/a")
    assert fetch(loopback.url("/public")).status == 200
    assert not any(p.startswith("/private") for p in loopback.paths())


def test_robots_fetched_once_per_site_and_fetcher(loopback: LoopbackServer) -> None:
    _site(loopback, "User-agent: *\nDisallow: /private\n")

    async def run() -> None:
        async with Fetcher(settings()) as f:
            for _ in range(3):
                await f.get(loopback.url("/public"))
            results = await asyncio.gather(f.get(loopback.url("/private/a")),
                                           f.get(loopback.url("/private/b")),
                                           return_exceptions=True)
            assert all(isinstance(r, RobotsDisallowed) for r in results)
    asyncio.run(run())
    assert loopback.count("/robots.txt") == 1


def test_wildcards_and_our_own_group(loopback: LoopbackServer) -> None:
    _site(loopback, "User-agent: *\nDisallow: /public\n\n"
                    "User-agent: newsdedup-test\nDisallow: /*.pdf$\nAllow: /public\n")
    assert fetch(loopback.url("/public")).status == 200
    assert isinstance(fetch_error(loopback.url("/doc.pdf")), RobotsDisallowed)
    assert "/doc.pdf" not in loopback.paths()


@pytest.mark.parametrize("code", [401, 403, 404, 410])
def test_robots_4xx_allows_all(loopback: LoopbackServer, code: int) -> None:
    loopback.add_handler("/robots.txt", status(code))
    loopback.add("/private/a", HTML)
    assert fetch(loopback.url("/private/a")).status == 200


@pytest.mark.parametrize("code", [500, 503, 429])
def test_robots_5xx_disallows_all(loopback: LoopbackServer, code: int) -> None:
    loopback.add_handler("/robots.txt", status(code))
    loopback.add("/public", HTML)
    err = fetch_error(loopback.url("/public"))
    assert isinstance(err, RobotsDisallowed) and f"status {code}" in str(err)
    assert loopback.paths() == ["/robots.txt"]


def test_robots_timeout_disallows(loopback: LoopbackServer) -> None:
    loopback.add_handler("/robots.txt", delayed(3.0, status(200)))
    loopback.add("/public", HTML)
    err = fetch_error(loopback.url("/public"), settings(timeout_seconds=0.3))
    assert isinstance(err, RobotsDisallowed) and "unreachable" in str(err)
    assert "/public" not in loopback.paths()


def test_robots_reset_disallows(loopback: LoopbackServer) -> None:
    loopback.add_handler("/robots.txt", reset_connection)
    loopback.add("/public", HTML)
    assert isinstance(fetch_error(loopback.url("/public")), RobotsDisallowed)
    assert "/public" not in loopback.paths()


def test_unreachable_verdict_expires(loopback: LoopbackServer) -> None:
    loopback.add_handler("/robots.txt", status(503))
    loopback.add("/public", HTML)
    t = FakeTime()

    async def run() -> None:
        async with Fetcher(settings(), clock=t.clock, sleep=t.sleep) as f:
            with pytest.raises(RobotsDisallowed):
                await f.get(loopback.url("/public"))
            t.advance(UNREACHABLE_TTL / 2)
            with pytest.raises(RobotsDisallowed):
                await f.get(loopback.url("/public"))
            assert loopback.count("/robots.txt") == 1
            loopback.add_handler("/robots.txt", status(404))
            t.advance(UNREACHABLE_TTL)
            assert (await f.get(loopback.url("/public"))).status == 200
    asyncio.run(run())
    assert loopback.count("/robots.txt") == 2


def test_robots_redirects_followed(loopback: LoopbackServer) -> None:
    loopback.add_handler("/robots.txt", redirect("/r1"))
    loopback.add_handler("/r1", redirect("/real-robots.txt", 301))
    loopback.add("/real-robots.txt", "User-agent: *\nDisallow: /private\n", content_type=ROBOTS)
    loopback.add("/private/a", HTML)
    assert isinstance(fetch_error(loopback.url("/private/a")), RobotsDisallowed)
    assert all(r.headers["User-Agent"] == UA for r in loopback.requests)


def test_robots_redirect_to_other_site(loopback: LoopbackServer) -> None:
    with LoopbackServer() as other:
        other.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type=ROBOTS)
        loopback.add_handler("/robots.txt", redirect(other.url("/robots.txt")))
        loopback.add("/public", HTML)
        assert isinstance(fetch_error(loopback.url("/public")), RobotsDisallowed)


def test_robots_too_many_redirects_means_unavailable(loopback: LoopbackServer) -> None:
    for i in range(7):
        loopback.add_handler("/robots.txt" if i == 0 else f"/r{i}", redirect(f"/r{i + 1}"))
    loopback.add("/public", HTML)
    assert fetch(loopback.url("/public")).status == 200
    assert loopback.count("/r6") == 0  # five redirects followed, not more


def test_robots_not_fetched_when_disabled(loopback: LoopbackServer) -> None:
    _site(loopback, "User-agent: *\nDisallow: /\n")
    assert fetch(loopback.url("/private/a"), settings(respect_robots_txt=False)).status == 200
    assert loopback.paths() == ["/private/a"]


def test_huge_robots_is_truncated_not_fatal(loopback: LoopbackServer) -> None:
    body = "User-agent: *\nDisallow: /private\n" + "# padding\n" * 120_000
    _site(loopback, body)
    assert fetch(loopback.url("/public")).status == 200
    assert isinstance(fetch_error(loopback.url("/private/a")), RobotsDisallowed)


def test_gzipped_robots(loopback: LoopbackServer) -> None:
    loopback.add_handler("/robots.txt", gzipped("User-agent: *\nDisallow: /p\n", ROBOTS))
    loopback.add("/p", HTML)
    assert isinstance(fetch_error(loopback.url("/p")), RobotsDisallowed)


@pytest.mark.parametrize(("status_code", "verdict"), [
    (200, "parsed"), (204, "parsed"), (301, "disallow_all"), (400, "allow_all"),
    (404, "allow_all"), (429, "disallow_all"), (500, "disallow_all"), (599, "disallow_all")])
def test_policy_from_status(status_code: int, verdict: str) -> None:
    assert RobotsPolicy.from_answer(status_code, b"").verdict == verdict


def test_policy_rules_and_crawl_delay() -> None:
    policy = RobotsPolicy.from_answer(200, b"User-agent: *\nDisallow: /x\nCrawl-delay: 99999\n")
    assert not policy.can_fetch("https://a.example/x/1", UA)
    assert policy.can_fetch("https://a.example/y", UA)
    assert policy.crawl_delay(UA) == MAX_CRAWL_DELAY
    assert RobotsPolicy.from_answer(200, b"Disallow: /x\n").crawl_delay(UA) is None
    assert not RobotsPolicy.unreachable("x").can_fetch("https://a.example/", UA)


def test_cache_expiry() -> None:
    now = [0.0]
    cache = RobotsCache(clock=lambda: now[0])
    cache.put("http://a:80", RobotsPolicy.unreachable("down"))
    cache.put("http://b:80", RobotsPolicy.from_answer(404, b""))
    assert cache.get("http://a:80") is not None and cache.get("http://c:80") is None
    now[0] = UNREACHABLE_TTL + 1
    assert cache.get("http://a:80") is None
    assert cache.get("http://b:80") is not None
