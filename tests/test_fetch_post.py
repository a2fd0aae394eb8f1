"""The fetcher's POST and robots.txt sitemap list, against a real loopback server.

A POST (what Google News' lookup protocol needs) gets every guard a GET gets:
address check, robots.txt, the host's politeness slot and delay, the total
deadline; it never follows a redirect.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ingest.config import FetchSettings
from ingest.errors import AddressRefused, HTTPStatusError, NetworkError, RobotsDisallowed
from ingest.fetch.fetcher import Fetcher
from ingest.types import FetchedPage
from loopback import FakeTime, LoopbackRequest, LoopbackServer, delayed, redirect, status

UA = "newsdedup-test/1.0 (+https://example.org/test)"
FORM = "application/x-www-form-urlencoded;charset=UTF-8"


def settings(**overrides: Any) -> FetchSettings:
    base: dict[str, Any] = dict(user_agent=UA, timeout_seconds=2.0, per_host_delay_seconds=0.0,
                                allow_private_addresses=True)
    base.update(overrides)
    return FetchSettings(**base)


def post(url: str, s: FetchSettings | None = None, data: bytes = b"f.req=x") -> FetchedPage:
    async def run() -> FetchedPage:
        async with Fetcher(s or settings()) as f:
            return await asyncio.wait_for(f.post(url, data, content_type=FORM), 10)
    return asyncio.run(run())


def echo(seen: list[bytes]) -> Any:
    def fn(req: LoopbackRequest) -> None:
        seen.append(req.handler.rfile.read(int(req.headers.get("content-length") or 0)))
        req.respond(200, ")]}'\n\n[]", content_type="application/json; charset=utf-8")
    return fn


def test_a_post_sends_its_body_and_type_with_our_agent(loopback: LoopbackServer) -> None:
    seen: list[bytes] = []
    loopback.add_handler("/rpc", echo(seen))
    page = post(loopback.url("/rpc"), data=b"f.req=%5B%5D")
    assert page.status == 200 and page.body == b")]}'\n\n[]"
    assert page.content_type == "application/json"
    assert seen == [b"f.req=%5B%5D"]
    request = next(r for r in loopback.requests if r.path == "/rpc")
    assert request.method == "POST" and request.headers["user-agent"] == UA
    assert request.headers["content-type"] == FORM


def test_robots_txt_is_obeyed_before_any_post(loopback: LoopbackServer) -> None:
    loopback.add("/robots.txt", "User-agent: *\nDisallow: /_/\n", content_type="text/plain")
    loopback.add_handler("/_/rpc", echo([]))
    with pytest.raises(RobotsDisallowed):
        post(loopback.url("/_/rpc"))
    assert loopback.paths() == ["/robots.txt"]


def test_a_post_to_a_private_address_is_refused_unsent(loopback: LoopbackServer) -> None:
    loopback.add_handler("/rpc", echo([]))
    with pytest.raises(AddressRefused):
        post(loopback.url("/rpc"), settings(allow_private_addresses=False))
    assert loopback.requests == []


def test_a_post_never_follows_a_redirect(loopback: LoopbackServer) -> None:
    loopback.add_handler("/rpc", redirect("/elsewhere", status=307))
    loopback.add_handler("/elsewhere", echo([]))
    with pytest.raises(HTTPStatusError) as info:
        post(loopback.url("/rpc"))
    assert info.value.status == 307
    assert "/elsewhere" not in loopback.paths()


def test_a_failed_post_carries_its_status_and_retry_after(loopback: LoopbackServer) -> None:
    loopback.add_handler("/rpc", status(503, retry_after="120"))

    async def run() -> tuple[HTTPStatusError, dict[str, int]]:
        async with Fetcher(settings()) as f:
            with pytest.raises(HTTPStatusError) as info:
                await f.post(loopback.url("/rpc"), b"x", content_type=FORM)
            return info.value, f.counters.counts
    error, counts = asyncio.run(run())
    assert error.status == 503 and error.retry_after == 120.0
    assert counts == {"post.status_503": 1}


def test_a_post_is_bounded_by_the_total_deadline(loopback: LoopbackServer) -> None:
    loopback.add_handler("/rpc", delayed(3.0, echo([])))
    with pytest.raises(NetworkError):
        post(loopback.url("/rpc"), settings(timeout_seconds=0.5))


def test_a_post_waits_its_turn_behind_the_hosts_delay(loopback: LoopbackServer) -> None:
    loopback.add("/page", "<html><body><p>x</p></body></html>")
    loopback.add_handler("/rpc", echo([]))
    t = FakeTime()

    async def run() -> None:
        s = settings(per_host_delay_seconds=2.0, respect_robots_txt=False)
        async with Fetcher(s, clock=t.clock, sleep=t.sleep) as f:
            await f.get(loopback.url("/page"))
            await f.post(loopback.url("/rpc"), b"x", content_type=FORM)
    asyncio.run(run())
    assert t.sleeps == [2.0]


# -- robots.txt's Sitemap: lines -------------------------------------------------------------


def test_sitemaps_are_read_from_the_same_robots_txt_as_the_rules(
        loopback: LoopbackServer) -> None:
    loopback.add("/robots.txt", "User-agent: *\nDisallow: /private/\n"
                 "Sitemap: https://a.example/news.xml\nSitemap: /rel.xml\n",
                 content_type="text/plain")
    loopback.add("/", "<html><body><p>home</p></body></html>")

    async def run() -> tuple[str, ...]:
        async with Fetcher(settings()) as f:
            await f.get(loopback.url("/"))
            return await f.sitemaps(loopback.url("/fr/"))
    assert asyncio.run(run()) == ("https://a.example/news.xml", "/rel.xml")
    assert loopback.count("/robots.txt") == 1


@pytest.mark.parametrize("robots", [None, "User-agent: *\nDisallow:\n"])
def test_no_robots_txt_or_no_sitemap_line_lists_none(loopback: LoopbackServer,
                                                     robots: str | None) -> None:
    if robots is not None:
        loopback.add("/robots.txt", robots, content_type="text/plain")

    async def run() -> tuple[str, ...]:
        async with Fetcher(settings(respect_robots_txt=False)) as f:
            return await f.sitemaps(loopback.url("/"))
    assert asyncio.run(run()) == ()
    assert loopback.paths() == ["/robots.txt"]
