"""robots.txt rules per site, following RFC 9309, cached with an expiry.

This module decides; it never talks HTTP (only :mod:`ingest.fetch.fetcher` does).
The fetcher downloads ``/robots.txt`` and hands the outcome here:

* 2xx: the body is parsed with protego (wildcards, ``$``, longest match);
* 4xx, including 404 and 410: "unavailable", every URL is allowed;
* 429, 5xx, a network error or a timeout: "unreachable", every URL is
  *disallowed for now*; that verdict expires after a few minutes so the
  site is asked again later instead of being blocked for the whole run.

We treat 429 like 5xx (unlike the letter of RFC 9309, like Google): a site
that says "too many requests" for its robots.txt should not be crawled.

Example::

    cache = RobotsCache(clock=time.monotonic)
    cache.put("https://a.example", RobotsPolicy.from_answer(200, b"Disallow: /x"))
    cache.get("https://a.example").can_fetch("https://a.example/x", "newsdedup")  # False
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from protego import Protego

Verdict = Literal["parsed", "allow_all", "disallow_all"]

MAX_ROBOTS_BYTES = 512 * 1024
"""RFC 9309 asks crawlers to parse at least 500 KiB; anything beyond is ignored."""

MAX_ROBOTS_REDIRECTS = 5
"""RFC 9309: follow at least five redirects for robots.txt."""

MAX_CRAWL_DELAY = 60.0
"""A hostile ``Crawl-delay: 86400`` must not stall a cycle: honoured up to this."""

PARSED_TTL = 24 * 3600.0
"""RFC 9309: a cached robots.txt should not be used for more than 24 hours."""

UNREACHABLE_TTL = 300.0
"""How long "disallow for now" lasts before robots.txt is asked for again."""


@dataclass(frozen=True, slots=True)
class RobotsPolicy:
    """The rules of one site: parsed rules, or a blanket allow/disallow."""

    verdict: Verdict
    parser: Protego | None = None
    detail: str = ""

    @classmethod
    def from_answer(cls, status: int, body: bytes) -> RobotsPolicy:
        """Map a robots.txt answer to rules (RFC 9309, section 2.3.1).

        >>> RobotsPolicy.from_answer(404, b"").verdict
        'allow_all'
        >>> RobotsPolicy.from_answer(503, b"").verdict
        'disallow_all'
        """
        if 200 <= status < 300:
            text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
            return cls("parsed", Protego.parse(text), f"status {status}")
        if 400 <= status < 500 and status != 429:
            return cls("allow_all", None, f"status {status}")
        return cls("disallow_all", None, f"status {status}")

    @classmethod
    def unreachable(cls, detail: str) -> RobotsPolicy:
        """Network error, timeout, refused address: disallow for now."""
        return cls("disallow_all", None, detail)

    @classmethod
    def unavailable(cls, detail: str) -> RobotsPolicy:
        """Too many redirects: RFC 9309 lets us treat it as unavailable (allow)."""
        return cls("allow_all", None, detail)

    def can_fetch(self, url: str, user_agent: str) -> bool:
        if self.parser is not None:
            return bool(self.parser.can_fetch(url, user_agent))
        return self.verdict == "allow_all"

    def crawl_delay(self, user_agent: str) -> float | None:
        """Crawl-delay for our agent, capped at MAX_CRAWL_DELAY; None when absent."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return None if delay is None else min(float(delay), MAX_CRAWL_DELAY)

    @property
    def sitemaps(self) -> tuple[str, ...]:
        """The ``Sitemap:`` lines, as written (relative ones too), in file order.

        >>> RobotsPolicy.from_answer(200, b"Sitemap: https://a.example/news.xml").sitemaps
        ('https://a.example/news.xml',)
        """
        return tuple(self.parser.sitemaps) if self.parser is not None else ()

    @property
    def ttl(self) -> float:
        return UNREACHABLE_TTL if self.verdict == "disallow_all" else PARSED_TTL


@dataclass(slots=True)
class _Entry:
    policy: RobotsPolicy
    expires: float


class RobotsCache:
    """Policies by origin (``scheme://host:port``), each valid until its expiry.

    The clock is injected so tests can step time instead of sleeping.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def get(self, origin: str) -> RobotsPolicy | None:
        entry = self._entries.get(origin)
        if entry is None or self._clock() >= entry.expires:
            return None
        return entry.policy

    def put(self, origin: str, policy: RobotsPolicy) -> None:
        self._entries[origin] = _Entry(policy, self._clock() + policy.ttl)
