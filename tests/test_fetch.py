"""The fetch stage against a real loopback HTTP server: the everyday path.

Hostile servers are in test_fetch_hostile.py, robots.txt in test_robots.py,
address safety in test_netsafety.py.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from ingest.config import FetchSettings
from ingest.errors import (
    BodyTooLarge,
    HTTPStatusError,
    RobotsDisallowed,
    TooManyRedirects,
    UnsupportedContent,
)
from ingest.fetch.fetcher import Fetcher, parse_retry_after
from ingest.types import FetchedPage
from loopback import FakeTime, LoopbackRequest, LoopbackServer, delayed, redirect, status

UA = "newsdedup-test/1.0 (+https://example.org/test)"
HTML = "<!doctype html><html><head><title>t</title></head><body><p>hello</p></body></html>"


def settings(**overrides: Any) -> FetchSettings:
    """Test settings: short deadline, no delay, loopback allowed."""
    base: dict[str, Any] = dict(user_agent=UA, timeout_seconds=2.0, per_host_delay_seconds=0.0,
                                allow_private_addresses=True, max_page_bytes=64 * 1024)
    base.update(overrides)
    return FetchSettings(**base)


GUARD_SECONDS = 10.0
"""Outer bound on every test fetch: a broken deadline fails the test instead of hanging."""


def fetch(url: str, s: FetchSettings | None = None, **kwargs: Any) -> FetchedPage:
    async def run() -> FetchedPage:
        async with Fetcher(s or settings()) as f:
            return await asyncio.wait_for(f.get(url, **kwargs), GUARD_SECONDS)
    return asyncio.run(run())


def fetch_error(url: str, s: FetchSettings | None = None, **kwargs: Any) -> Exception:
    with pytest.raises(Exception) as info:
        fetch(url, s, **kwargs)
    return info.value


def test_page_fields(loopback: LoopbackServer) -> None:
    loopback.add("/a", HTML, content_type="text/html; charset=ISO-8859-1")
    page = fetch(loopback.url("/a"))
    assert page.status == 200 and not page.not_modified
    assert page.body == HTML.encode()
    assert page.content_type == "text/html"
    assert page.charset == "iso-8859-1"
    assert page.url == page.final_url == loopback.url("/a")
    fetched = datetime.fromisoformat(page.fetched_at)
    assert fetched.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - fetched).total_seconds()) < 5


def test_quoted_charset_and_no_charset(loopback: LoopbackServer) -> None:
    loopback.add("/q", HTML, content_type='text/html; charset="UTF-8"')
    loopback.add("/n", HTML, content_type="text/html")
    assert fetch(loopback.url("/q")).charset == "utf-8"
    assert fetch(loopback.url("/n")).charset is None


def test_user_agent_on_every_request_including_robots(loopback: LoopbackServer) -> None:
    loopback.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    loopback.add("/a", HTML)
    loopback.add_handler("/r", redirect("/a"))
    fetch(loopback.url("/r"))
    fetch(loopback.url("/a"))
    assert loopback.paths()[0] == "/robots.txt"
    assert loopback.count("/robots.txt") == 2  # one Fetcher per fetch() call here
    assert [r.headers["User-Agent"] for r in loopback.requests] == [UA] * 5


def test_no_conditional_headers_unless_given(loopback: LoopbackServer) -> None:
    loopback.add("/a", HTML, etag='"v1"')
    fetch(loopback.url("/a"))
    headers = loopback.requests[-1].headers
    assert "If-None-Match" not in headers and "If-Modified-Since" not in headers


def test_conditional_get_with_etag(loopback: LoopbackServer) -> None:
    etag = 'W/"abc-123"'
    loopback.add("/a", HTML, etag=etag)
    first = fetch(loopback.url("/a"))
    assert first.etag == etag and first.status == 200
    second = fetch(loopback.url("/a"), etag=first.etag)
    assert second.not_modified and second.status == 304 and second.body == b""
    assert second.etag == etag
    assert loopback.requests[-1].headers["If-None-Match"] == etag


def test_changed_etag_gets_full_answer(loopback: LoopbackServer) -> None:
    loopback.add("/a", HTML, etag='"v2"')
    page = fetch(loopback.url("/a"), etag='"v1"')
    assert page.status == 200 and page.etag == '"v2"' and page.body == HTML.encode()


def test_conditional_get_with_last_modified(loopback: LoopbackServer) -> None:
    stamp = "Sat, 21 Nov 2026 08:00:00 GMT"
    loopback.add("/a", HTML, last_modified=stamp)
    first = fetch(loopback.url("/a"))
    assert first.last_modified == stamp
    second = fetch(loopback.url("/a"), last_modified=stamp)
    assert second.not_modified and second.last_modified == stamp
    assert loopback.requests[-1].headers["If-Modified-Since"] == stamp


def test_304_without_validators_keeps_the_ones_sent(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", lambda req: req.respond(304, b"", content_type=None))
    page = fetch(loopback.url("/a"), etag='"x"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert page.not_modified
    assert page.etag == '"x"' and page.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"


@pytest.mark.parametrize("code", [404, 410, 500, 503])
def test_error_status(loopback: LoopbackServer, code: int) -> None:
    loopback.add_handler("/a", status(code))
    err = fetch_error(loopback.url("/a"))
    assert isinstance(err, HTTPStatusError)
    assert err.status == code and err.reason == f"status_{code}" and err.retry_after is None
    assert err.url == loopback.url("/a")


def test_429_retry_after_seconds(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", status(429, retry_after="120"))
    err = fetch_error(loopback.url("/a"))
    assert isinstance(err, HTTPStatusError)
    assert err.status == 429 and err.retry_after == 120.0


def test_503_retry_after_http_date(loopback: LoopbackServer) -> None:
    when = datetime.now(UTC) + timedelta(seconds=300)
    loopback.add_handler("/a", status(503, retry_after=format_datetime(when, usegmt=True)))
    err = fetch_error(loopback.url("/a"))
    assert isinstance(err, HTTPStatusError) and err.retry_after is not None
    assert 290 <= err.retry_after <= 300


def test_parse_retry_after() -> None:
    now = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0
    assert parse_retry_after(" 5 ") == 5.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after(None) is None and parse_retry_after("") is None


def test_redirects_followed(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", redirect("/b", 301))
    loopback.add_handler("/b", redirect(loopback.url("/c"), 308))
    loopback.add("/c", HTML)
    page = fetch(loopback.url("/a"))
    assert page.url == loopback.url("/a") and page.final_url == loopback.url("/c")
    assert page.body == HTML.encode()


def test_redirect_to_other_site(loopback: LoopbackServer) -> None:
    with LoopbackServer() as other:
        other.add("/x", HTML)
        loopback.add_handler("/a", redirect(other.url("/x")))
        page = fetch(loopback.url("/a"))
        assert page.final_url == other.url("/x")
        assert other.paths() == ["/robots.txt", "/x"]


def test_redirect_loop(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", redirect("/b"))
    loopback.add_handler("/b", redirect("/a"))
    err = fetch_error(loopback.url("/a"))
    assert isinstance(err, TooManyRedirects) and "loop" in str(err)
    assert loopback.count("/a") == 1 and loopback.count("/b") == 1


def test_too_many_redirects(loopback: LoopbackServer) -> None:
    for i in range(5):
        loopback.add_handler(f"/r{i}", redirect(f"/r{i + 1}"))
    loopback.add("/r5", HTML)
    assert fetch(loopback.url("/r2"), settings(max_redirects=3)).final_url == loopback.url("/r5")
    err = fetch_error(loopback.url("/r0"), settings(max_redirects=3))
    assert isinstance(err, TooManyRedirects)
    assert "/r4" not in loopback.paths()[-4:]


def test_zero_redirects_allowed(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", redirect("/b"))
    assert isinstance(fetch_error(loopback.url("/a"), settings(max_redirects=0)),
                      TooManyRedirects)


def test_redirect_to_other_scheme_refused(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", redirect("ftp://127.0.0.1/file"))
    assert isinstance(fetch_error(loopback.url("/a")), UnsupportedContent)


def test_body_over_cap(loopback: LoopbackServer) -> None:
    loopback.add("/big", "<html>" + "x" * 5000, content_type="text/html")
    err = fetch_error(loopback.url("/big"), settings(max_page_bytes=4096))
    assert isinstance(err, BodyTooLarge) and err.reason == "too_large"
    assert len(fetch(loopback.url("/big"), settings(max_page_bytes=5006)).body) == 5006


def test_source_accepts_feeds_page_does_not(loopback: LoopbackServer) -> None:
    rss = '<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>'
    loopback.add("/feed", rss, content_type="application/rss+xml")
    loopback.add("/json", '{"version": "https://jsonfeed.org/version/1.1"}',
                 content_type="application/feed+json")
    assert fetch(loopback.url("/feed"), accept="source").content_type == "application/rss+xml"
    assert fetch(loopback.url("/json"), accept="source").body.startswith(b"{")
    assert isinstance(fetch_error(loopback.url("/feed")), UnsupportedContent)


def test_counters(loopback: LoopbackServer) -> None:
    loopback.add("/a", HTML, etag='"1"')
    loopback.add("/robots.txt", "User-agent: *\nDisallow: /no\n", content_type="text/plain")

    async def run() -> Fetcher:
        async with Fetcher(settings()) as f:
            await f.get(loopback.url("/a"))
            await f.get(loopback.url("/a"), etag='"1"')
            for path in ("/no", "/missing"):
                with pytest.raises(Exception):  # noqa: B017 - counted below
                    await f.get(loopback.url(path))
            return f
    counts = asyncio.run(run()).counters
    assert counts.counts == {"fetch.ok": 1, "fetch.not_modified": 1, "fetch.robots": 1,
                             "fetch.status_404": 1}


class _Recorder(httpx.AsyncBaseTransport):
    """A real transport that notes the fake time at which each request starts."""

    def __init__(self, t: FakeTime) -> None:
        self.inner, self.t = httpx.AsyncHTTPTransport(), t
        self.starts: list[tuple[float, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.starts.append((self.t.now, request.url.path))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _fetch_all(urls: list[str], s: FetchSettings, t: FakeTime) -> _Recorder:
    recorder = _Recorder(t)

    async def run() -> None:
        async with Fetcher(s, transport=recorder, clock=t.clock, sleep=t.sleep) as f:
            await asyncio.gather(*(f.get(u) for u in urls))
    asyncio.run(run())
    return recorder


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_per_host_delay_with_fake_clock(loopback: LoopbackServer) -> None:
    for i in range(3):
        loopback.add(f"/{i}", HTML)
    t = FakeTime()
    s = settings(per_host_delay_seconds=5.0, respect_robots_txt=False, per_host_concurrency=2)
    rec = _fetch_all([loopback.url(f"/{i}") for i in range(3)], s, t)
    starts = sorted(when for when, _ in rec.starts)
    assert _gaps(starts) == [5.0, 5.0]
    assert t.sleeps == [5.0, 5.0]


def test_delay_is_per_host(loopback: LoopbackServer) -> None:
    with LoopbackServer() as other:
        loopback.add("/a", HTML)
        other.add("/a", HTML)
        t = FakeTime()
        s = settings(per_host_delay_seconds=5.0, respect_robots_txt=False)
        _fetch_all([loopback.url("/a"), other.url("/a")], s, t)
        assert t.sleeps == []


def test_robots_fetch_counts_toward_the_delay(loopback: LoopbackServer) -> None:
    loopback.add("/a", HTML)
    t = FakeTime()
    rec = _fetch_all([loopback.url("/a")], settings(per_host_delay_seconds=2.0), t)
    assert [path for _, path in rec.starts] == ["/robots.txt", "/a"]
    assert rec.starts[1][0] - rec.starts[0][0] == 2.0


def test_crawl_delay_raises_the_delay(loopback: LoopbackServer) -> None:
    loopback.add("/robots.txt", "User-agent: *\nCrawl-delay: 7\n", content_type="text/plain")
    loopback.add("/a", HTML)
    loopback.add("/b", HTML)
    t = FakeTime()
    rec = _fetch_all([loopback.url("/a"), loopback.url("/b")], settings(), t)
    starts = [when for when, _ in rec.starts]
    assert _gaps(starts) == [7.0, 7.0]


def test_per_host_delay_real_time(loopback: LoopbackServer) -> None:
    for i in range(3):
        loopback.add(f"/{i}", HTML)
    arrivals: list[float] = []
    for i in range(3):
        loopback.add_handler(f"/t{i}", _timed(arrivals))
    s = settings(per_host_delay_seconds=0.2, respect_robots_txt=False)

    async def run() -> None:
        async with Fetcher(s) as f:
            await asyncio.gather(*(f.get(loopback.url(f"/t{i}")) for i in range(3)))
    asyncio.run(run())
    arrivals.sort()
    assert all(gap >= 0.15 for gap in _gaps(arrivals))


def _timed(arrivals: list[float]) -> Any:
    def fn(req: LoopbackRequest) -> None:
        arrivals.append(time.monotonic())
        req.respond(200, HTML)
    return fn


class _InFlight:
    """A handler that answers slowly and records the peak number of requests in flight."""

    def __init__(self) -> None:
        self.lock, self.now, self.peak = threading.Lock(), 0, 0

    def __call__(self, req: LoopbackRequest) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        req.sleep(0.15)
        with self.lock:
            self.now -= 1
        req.respond(200, HTML)


@pytest.mark.parametrize(("global_limit", "per_host", "expected_peak"),
                         [(8, 1, 3), (2, 2, 2), (8, 2, 6)])
def test_concurrency_limits(global_limit: int, per_host: int, expected_peak: int) -> None:
    counter = _InFlight()
    s = settings(concurrency=global_limit, per_host_concurrency=per_host,
                 respect_robots_txt=False)
    with LoopbackServer() as a, LoopbackServer() as b, LoopbackServer() as c:
        urls = []
        for srv in (a, b, c):
            for i in range(3):
                srv.add_handler(f"/{i}", counter)
                urls.append(srv.url(f"/{i}"))

        async def run() -> None:
            async with Fetcher(s) as f:
                await asyncio.gather(*(f.get(u) for u in urls))
        asyncio.run(run())
    assert counter.peak == expected_peak


def test_redirect_to_disallowed_path_never_requested(loopback: LoopbackServer) -> None:
    loopback.add("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    loopback.add_handler("/a", redirect("/private/x"))
    loopback.add("/private/x", HTML)
    err = fetch_error(loopback.url("/a"))
    assert isinstance(err, RobotsDisallowed) and err.url == loopback.url("/private/x")
    assert "/private/x" not in loopback.paths()


def test_error_after_redirect_names_the_hop(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", redirect("/gone"))
    loopback.add_handler("/gone", status(410))
    err = fetch_error(loopback.url("/a"))
    assert isinstance(err, HTTPStatusError) and err.status == 410
    assert err.url == loopback.url("/gone")


def test_loopback_server_takes_many_concurrent_requests(loopback: LoopbackServer) -> None:
    loopback.add_handler("/slow", delayed(0.05, lambda req: req.respond(200, HTML)))
    loopback.add("/fast", HTML)

    async def run() -> list[int]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
            answers = await asyncio.gather(*(
                client.get(loopback.url("/slow" if i % 2 else "/fast")) for i in range(100)))
        return [a.status_code for a in answers]
    assert asyncio.run(run()) == [200] * 100
    assert len(loopback.requests) == 100
