"""The fetch stage: the only code in newsdedup that talks HTTP.

Every URL we fetch comes from a feed or sitemap written by someone else, so
the fetcher treats each answer as hostile: it checks where a URL points
before connecting (:mod:`ingest.fetch.netsafety`), obeys robots.txt
(:mod:`ingest.fetch.robots`), follows redirects by hand so each hop is checked
again, bounds every exchange by a total deadline, streams and caps the
decoded body (a gzip bomb stops at the cap too) and refuses content that is
not what the caller can use (the httpx client's settings, and why:
:mod:`ingest.fetch.client`). Politeness is built in: bounded concurrency,
a per-host limit and a minimum delay between request starts to one host::

    async with Fetcher(config.fetch) as fetcher:
        page = await fetcher.get(url, etag=stored_etag)
        if page.not_modified:
            ...  # nothing new since last time
        answer = await fetcher.post(url, body, content_type=FORM)  # same guards, no redirects
        sitemaps = await fetcher.sitemaps(home)  # robots.txt's Sitemap: lines

The pure rules on one answer (redirect hops, statuses, Retry-After, error
translation) live in :mod:`ingest.fetch.answers`.

Every failure is one of the :class:`~ingest.errors.FetchError` classes and
carries the URL; ``fetcher.counters`` counts outcomes by reason.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

import httpx

from ingest.config import FetchSettings
from ingest.errors import (
    AddressRefused,
    FetchError,
    NetworkError,
    RobotsDisallowed,
    TooManyRedirects,
)
from ingest.fetch.answers import (
    SUCCESS,
    Answer,
    conditional_headers,
    next_hop,
    parse_retry_after,
    parse_url,
    port_of,
    redirect_target,
    status_error,
    to_page,
    translate_error,
)
from ingest.fetch.body import Accept, check_declared_type, check_sniffed_type, read_body
from ingest.fetch.client import make_client
from ingest.fetch.netsafety import Resolver, check_host, system_resolver
from ingest.fetch.robots import MAX_ROBOTS_BYTES, MAX_ROBOTS_REDIRECTS, RobotsCache, RobotsPolicy
from ingest.types import FetchedPage, StageCounters

__all__ = ["Fetcher", "parse_retry_after"]

_ACCEPT_HEADER = {
    "page": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "source": ("application/rss+xml,application/atom+xml,application/feed+json,"
               "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1"),
    "robots": "text/plain,*/*;q=0.1",
}


@dataclass(slots=True)
class _Host:
    """Politeness state of one ``host:port``."""

    sem: asyncio.Semaphore
    delay: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_start: float = -math.inf


class Fetcher:
    """Polite, hostile-input-proof HTTP GETs returning :class:`FetchedPage`.

    ``transport`` replaces the network (tests); ``clock``/``sleep`` drive
    the per-host delay (tests pass fakes to step time); ``resolver`` maps a
    host and port to IP strings for the address check (default: the OS).
    One Fetcher per cycle: robots.txt is cached per Fetcher.
    """

    def __init__(self, settings: FetchSettings, *,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 resolver: Resolver | None = None) -> None:
        self.settings = settings
        self.counters = StageCounters()
        self._clock, self._sleep = clock, sleep
        self._resolver = resolver or system_resolver
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, _Host] = {}
        self._robots = RobotsCache(clock)
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._client = make_client(settings, transport)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, url: str, *, etag: str | None = None,
                  last_modified: str | None = None,
                  accept: Literal["page", "source"] = "page") -> FetchedPage:
        """GET ``url`` following redirects; 200 or 304, else a FetchError.

        ``etag``/``last_modified`` are sent back exactly as the server gave
        them (If-None-Match / If-Modified-Since). ``accept="page"`` takes
        HTML only; ``"source"`` also XML, RSS, Atom, JSON and text.

        ``page.content_type`` is the declared media type without parameters
        (``""`` when the server sent none and the body was sniffed). The
        deadline (``timeout_seconds``) bounds each HTTP exchange from connect
        to last body byte; waiting for a politeness slot is not counted.
        An error carries the URL that failed: after a redirect, the hop's.

        Example: ``await f.get(u, etag='"abc"')`` -> ``page.not_modified``
        is True when the server answered 304.
        """
        try:
            page = await self._follow(url, conditional_headers(etag, last_modified), accept)
        except FetchError as exc:
            self.counters.add("fetch", exc.reason)
            raise
        self.counters.add("fetch", "not_modified" if page.not_modified else "ok")
        return page

    async def post(self, url: str, data: bytes, *, content_type: str,
                   accept: Literal["page", "source"] = "source") -> FetchedPage:
        """POST ``data`` to ``url`` under every guard :meth:`get` applies.

        The address check, robots.txt, the host's politeness slot and delay, the
        total deadline, the size cap and the content checks are the same; only a
        200/203 is an answer. A redirect is *not* followed (a POST must not be
        replayed to wherever a Location points): it is an :class:`HTTPStatusError`
        like any other status. Outcomes are counted under ``post``.

        Example: ``await f.post(u, b"f.req=...", content_type=FORM)`` -> the page.
        """
        try:
            target = parse_url(url)
            await self._check_allowed(target, url)
            answer = await self._exchange(target, url, {"Content-Type": content_type}, accept,
                                          content=data)
            if answer.status not in SUCCESS:  # a 304 too: nothing was asked conditionally
                raise status_error(answer, url)
            page = to_page(url, url, answer, {})
        except FetchError as exc:
            self.counters.add("post", exc.reason)
            raise
        self.counters.add("post", "ok")
        return page

    async def sitemaps(self, url: str) -> tuple[str, ...]:
        """The ``Sitemap:`` lines of the robots.txt of ``url``'s site, as written.

        robots.txt is read once per Fetcher and shared with the crawl rules (so
        asking costs no request when the site was already visited); a robots.txt
        that is missing or unreachable lists none. Read even when
        ``respect_robots_txt`` is off: a sitemap list is discovery, not a rule.
        """
        policy = await self._robots_policy(parse_url(url))
        return policy.sitemaps

    async def _follow(self, url: str, conditional: dict[str, str],
                      accept: Accept) -> FetchedPage:
        current, seen = url, {url}
        for _hop in range(self.settings.max_redirects + 1):
            target = parse_url(current)
            await self._check_allowed(target, current)
            answer = await self._exchange(target, current, conditional, accept)
            location = redirect_target(answer)
            if location is None:
                return to_page(url, current, answer, conditional)
            current = next_hop(location, seen, url)
        raise TooManyRedirects(f"more than {self.settings.max_redirects} redirects", url=url)

    async def _check_allowed(self, target: httpx.URL, url: str) -> None:
        """Address safety then robots.txt, before any byte goes to ``target``."""
        if not self.settings.allow_private_addresses:
            await check_host(target.host, port_of(target), url=url, resolver=self._resolver)
        if not self.settings.respect_robots_txt:
            return
        policy = await self._robots_policy(target)
        if not policy.can_fetch(url, self.settings.user_agent):
            raise RobotsDisallowed(f"robots.txt disallows this URL ({policy.detail})", url=url)

    async def _exchange(self, target: httpx.URL, url: str, headers: dict[str, str],
                        accept: Accept, content: bytes | None = None) -> Answer:
        """One request/answer under the host slot and the total deadline (a POST when
        there is ``content``)."""
        request = self._client.build_request(
            "GET" if content is None else "POST", target, content=content,
            headers={"Accept": _ACCEPT_HEADER[accept], **headers})
        async with self._slot(target):
            return await self._send(request, url, accept)

    async def _send(self, request: httpx.Request, url: str, accept: Accept) -> Answer:
        deadline = self.settings.timeout_seconds
        try:
            async with asyncio.timeout(deadline):
                response = await self._client.send(request, stream=True)
                try:
                    return await self._answer(response, url, accept)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise NetworkError(f"total deadline of {deadline:g}s exceeded", url=url) from exc
        except httpx.HTTPError as exc:
            raise translate_error(exc, url) from exc
        except AddressRefused as exc:  # refused at connect time, below httpx
            exc.url = url
            raise

    async def _answer(self, response: httpx.Response, url: str, accept: Accept) -> Answer:
        status, final = response.status_code, str(response.url)
        body = b""
        if accept == "robots" and 200 <= status < 300:
            body = await read_body(response, url, MAX_ROBOTS_BYTES, truncate=True)
        elif status in SUCCESS and accept != "robots":
            check_declared_type(response.headers.get("content-type"), accept, url)
            body = await read_body(response, url, self.settings.max_page_bytes)
            check_sniffed_type(response.headers.get("content-type"), body, accept, url)
        return Answer(final, status, response.headers, body)

    @asynccontextmanager
    async def _slot(self, target: httpx.URL) -> AsyncIterator[None]:
        """Per-host slot, then the per-host delay, then a global slot.

        The delay is waited for before taking a global slot, so a slow site
        never holds global capacity while it sleeps; ``last_start`` is set
        once the request can really start, so starts to one host are always
        at least ``delay`` apart.
        """
        host = self._host(target)
        async with host.sem:
            async with host.lock:
                wait = host.last_start + host.delay - self._clock()
                if wait > 0:
                    await self._sleep(wait)
                await self._global.acquire()
                host.last_start = self._clock()
            try:
                yield
            finally:
                self._global.release()

    def _host(self, target: httpx.URL) -> _Host:
        key = f"{target.host}:{port_of(target)}"
        host = self._hosts.get(key)
        if host is None:
            host = _Host(asyncio.Semaphore(self.settings.per_host_concurrency),
                         self.settings.per_host_delay_seconds)
            self._hosts[key] = host
        return host

    async def _robots_policy(self, target: httpx.URL) -> RobotsPolicy:
        """The cached policy of the target's origin, fetching robots.txt once."""
        origin = f"{target.scheme}://{target.host}:{port_of(target)}"
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            policy = self._robots.get(origin)
            if policy is None:
                policy = await self._fetch_robots(target.copy_with(
                    path="/robots.txt", query=None, fragment=None))
                self._robots.put(origin, policy)
                self._apply_crawl_delay(target, policy)
        return policy

    def _apply_crawl_delay(self, target: httpx.URL, policy: RobotsPolicy) -> None:
        delay = policy.crawl_delay(self.settings.user_agent)
        host = self._host(target)
        if delay is not None and delay > host.delay:
            host.delay = delay

    async def _fetch_robots(self, robots_url: httpx.URL) -> RobotsPolicy:
        """GET robots.txt (redirects up to 5, each hop address-checked); RFC 9309."""
        current, seen = str(robots_url), {str(robots_url)}
        try:
            for _hop in range(MAX_ROBOTS_REDIRECTS + 1):
                answer = await self._robots_hop(current)
                location = redirect_target(answer)
                if location is None:
                    return RobotsPolicy.from_answer(answer.status, answer.body)
                current = next_hop(location, seen, str(robots_url))
        except TooManyRedirects as exc:
            return RobotsPolicy.unavailable(str(exc))
        except FetchError as exc:
            return RobotsPolicy.unreachable(f"robots.txt unreachable: {exc}")
        return RobotsPolicy.unavailable("robots.txt: too many redirects")

    async def _robots_hop(self, url: str) -> Answer:
        target = parse_url(url)
        if not self.settings.allow_private_addresses:
            await check_host(target.host, port_of(target), url=url, resolver=self._resolver)
        return await self._exchange(target, url, {}, "robots")
