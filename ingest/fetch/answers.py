"""Pure helpers on one HTTP exchange: URLs, conditional headers, redirects, statuses.

Part of the fetch stage, split from :mod:`ingest.fetch.fetcher` so the fetcher keeps
only what waits on the network (politeness slots, robots.txt, the exchange itself).
Nothing here does I/O, so each rule is tested alone::

    >>> conditional_headers('"v1"', None)
    {'If-None-Match': '"v1"'}
    >>> port_of(parse_url("https://a.example/x"))
    443
    >>> parse_retry_after("120")
    120.0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ingest.errors import (
    FetchError,
    HTTPStatusError,
    NetworkError,
    TooManyRedirects,
    UnsupportedContent,
)
from ingest.fetch.body import charset_of, media_type
from ingest.types import FetchedPage

REDIRECTS = frozenset({301, 302, 303, 307, 308})
SUCCESS = frozenset({200, 203})


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer as the fetcher read it: the hop's URL, status, headers and body."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since, sent back exactly as the server gave them."""
    headers = {}
    if etag is not None:
        headers["If-None-Match"] = etag
    if last_modified is not None:
        headers["If-Modified-Since"] = last_modified
    return headers


def parse_url(url: str) -> httpx.URL:
    """An absolute http(s) URL with a host, else a FetchError naming it."""
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"invalid URL: {exc}", url=url) from exc
    if target.scheme not in ("http", "https"):
        raise UnsupportedContent(f"unsupported URL scheme {target.scheme!r}", url=url)
    if not target.host:
        raise FetchError("invalid URL: no host", url=url)
    return target


def port_of(target: httpx.URL) -> int:
    return target.port or (443 if target.scheme == "https" else 80)


def redirect_target(answer: Answer) -> str | None:
    """The absolute Location of a redirect answer, None for any other answer."""
    location = answer.headers.get("location")
    if answer.status not in REDIRECTS or not location:
        return None
    try:
        return str(httpx.URL(answer.url).join(location).copy_with(fragment=None))
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(f"invalid redirect Location {location!r}", url=answer.url) from exc


def next_hop(location: str, seen: set[str], url: str) -> str:
    if location in seen:
        raise TooManyRedirects(f"redirect loop back to {location}", url=url)
    seen.add(location)
    return location


def to_page(url: str, current: str, answer: Answer, conditional: dict[str, str]) -> FetchedPage:
    """Build the result from a 200/304, or raise HTTPStatusError for anything else.

    ``url`` is what the caller asked for, ``current`` the hop that answered.

    A 304 without validators keeps the ones we sent, so the caller never
    forgets its ETag just because a server omitted it from the 304.
    """
    status, headers = answer.status, answer.headers
    if status not in SUCCESS and status != 304:
        raise status_error(answer, current)
    etag, modified = headers.get("etag"), headers.get("last-modified")
    if status == 304:
        etag = etag or conditional.get("If-None-Match")
        modified = modified or conditional.get("If-Modified-Since")
    content_type = headers.get("content-type", "")
    return FetchedPage(
        url=url, final_url=answer.url, status=status,
        content_type=media_type(content_type), body=answer.body,
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        charset=charset_of(content_type), etag=etag, last_modified=modified,
        content_language=headers.get("content-language"))


def status_error(answer: Answer, url: str) -> HTTPStatusError:
    """The error for an answer that is no answer: its status and Retry-After."""
    return HTTPStatusError(f"HTTP status {answer.status}", url=url, status=answer.status,
                           retry_after=parse_retry_after(answer.headers.get("retry-after")))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After in seconds, from delta-seconds or an HTTP-date; None if absent/bad.

    >>> parse_retry_after("120")
    120.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
    ...                   now=datetime(2015, 10, 21, 7, 27, tzinfo=UTC))
    60.0
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def translate_error(exc: httpx.HTTPError, url: str) -> FetchError:
    """Map an httpx exception to our tree (the caller chains it with ``from``)."""
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"timeout ({type(exc).__name__})", url=url)
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(f"cannot connect: {exc or type(exc).__name__}", url=url)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return UnsupportedContent(f"unsupported protocol: {exc}", url=url)
    if isinstance(exc, httpx.TooManyRedirects):
        return TooManyRedirects(str(exc), url=url)
    if isinstance(exc, httpx.InvalidURL | httpx.DecodingError):
        return FetchError(f"{type(exc).__name__}: {exc}", url=url)
    return NetworkError(f"{type(exc).__name__}: {exc or 'connection failed'}", url=url)
