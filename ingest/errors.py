"""The one exception tree of newsdedup.

Every error raised by our code derives from :class:`NewsdedupError`. Errors
from third-party libraries (httpx, lxml, feedparser, sqlite3, trafilatura)
are translated at the boundary with ``raise ... from exc`` so that callers
catch our classes only, and every error about a page or source carries its
URL, so a log line always says *which* page failed and *why*::

    NewsdedupError
    ├── ConfigError                 bad configuration: key, value and the fix
    ├── FetchError                  anything that stops a URL from being fetched
    │   ├── RobotsDisallowed        robots.txt forbids the URL for our agent
    │   ├── AddressRefused          resolves to a loopback/private/metadata address
    │   ├── HTTPStatusError         4xx/5xx answer (carries status, Retry-After)
    │   ├── TooManyRedirects        redirect loop or more hops than allowed
    │   ├── BodyTooLarge            body (after decompression) above max_page_bytes
    │   ├── UnsupportedContent      not HTML/XML/JSON (PDF, images, ...)
    │   └── NetworkError            refused, reset, timeouts, total deadline
    ├── SourceError                 a feed or sitemap that cannot be parsed
    ├── ExtractError                a page with no extractable article
    │   ├── ExtractTimeout          extraction passed its deadline in the worker
    │   └── NotAnArticle            a consent/login wall, bot challenge, JS shell or
    │                               error page served with 200 (``reason`` names it)
    └── StoreError                  the SQLite store refused a write
        └── ReviewRefused           an editor's split/merge that cannot be applied as asked

Example::

    try:
        page = await fetcher.get(url)
    except FetchError as exc:
        counters.add("fetch", exc.reason)    # e.g. "robots", "status_404"
        log.warning("fetch failed", extra={"url": exc.url, "reason": exc.reason})
"""

from __future__ import annotations


class NewsdedupError(Exception):
    """Root of every error newsdedup raises on purpose."""

    reason = "error"

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} ({self.url})" if self.url else base

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross the worker-process pipe; keyword-only arguments defeat
        # Exception's default pickling, so rebuild from args and attributes.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[NewsdedupError], args: tuple[object, ...],
             state: dict[str, object]) -> NewsdedupError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class ConfigError(NewsdedupError):
    """A configuration value that cannot be used.

    The message names the key, the value and what to do, e.g.
    ``fetch.concurrency = 0: must be an integer >= 1; set it to 8``.
    """

    reason = "config"

    def __init__(self, key: str, value: object, fix: str) -> None:
        super().__init__(f"{key} = {value!r}: {fix}")
        self.key = key
        self.value = value
        self.fix = fix


class FetchError(NewsdedupError):
    """A URL could not be fetched; ``reason`` is a short counter label."""

    reason = "fetch"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message, url=url)


class RobotsDisallowed(FetchError):
    reason = "robots"


class AddressRefused(FetchError):
    reason = "address_refused"


class HTTPStatusError(FetchError):
    """A non-success answer; ``retry_after`` is in seconds when the server gave one."""

    def __init__(
        self, message: str, *, url: str, status: int, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.retry_after = retry_after

    @property
    def reason(self) -> str:  # type: ignore[override]
        return f"status_{self.status}"


class TooManyRedirects(FetchError):
    reason = "redirects"


class BodyTooLarge(FetchError):
    reason = "too_large"


class UnsupportedContent(FetchError):
    reason = "content_type"


class NetworkError(FetchError):
    reason = "network"


class SourceError(NewsdedupError):
    """A feed or sitemap whose body cannot be read as one."""

    reason = "source_parse"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message, url=url)


class ExtractError(NewsdedupError):
    reason = "no_article"

    def __init__(self, message: str, *, url: str | None) -> None:
        super().__init__(message, url=url)


class ExtractTimeout(ExtractError):
    reason = "extract_timeout"


class NotAnArticle(ExtractError):
    """A page that stands in front of the article (or instead of it): a consent wall,
    a bot challenge, an "enable JavaScript" shell, a login wall, an error page served
    with ``200``. Never stored; not remembered either, so the page is fetched again
    when its source lists it again (the wall may be gone then)::

        raise NotAnArticle("cookie consent wall", url=url, kind="consent_wall")
    """

    def __init__(self, message: str, *, url: str | None, kind: str) -> None:
        super().__init__(message, url=url)
        self.kind = kind

    @property
    def reason(self) -> str:  # type: ignore[override]
        return self.kind


class StoreError(NewsdedupError):
    reason = "store"


class ReviewRefused(StoreError):
    """A review that cannot be applied as asked (unknown id, into itself, changed
    meanwhile); nothing was written."""

    reason = "review_refused"
