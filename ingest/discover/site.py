"""``kind = "site"`` sources, the pure part: what a homepage and robots.txt declare.

A site source is only a homepage URL. Its feeds and news sitemaps are found
(:mod:`ingest.discover.sitevisit` does the requests), remembered as rows of the
``sources`` table, and the homepage is checked again at most once a day
(``RECHECK``). The rules, in order:

1. feeds the homepage declares: ``<link rel="alternate">`` of a feed type, else
   links that look like feeds (trafilatura's ``determine_feed``, comment feeds
   left out), at most ``MAX_FEEDS``;
2. only when it declares none, a short list of common feed paths is tried
   (``FEED_PATHS``: WordPress and most CMSs ``/feed``, ``/rss``; static site
   generators ``/feed.xml``, ``/rss.xml``, ``/atom.xml``, ``/index.xml``;
   Blogger ``/feeds/posts/default``), the first that parses as a feed is kept;
3. robots.txt ``Sitemap:`` lines: those named as news sitemaps are kept; if
   none is, up to ``SITEMAP_PEEKS`` of them are read, and a sitemap whose entries
   carry Google News' ``<news:news>`` is kept (a declared namespace is only a
   declaration: an archive may declare it too), as are the news-named children
   of a sitemap index. A general sitemap (the whole archive) is never taken from
   robots.txt: configure it as ``kind = "sitemap"`` to crawl an archive.

Rows are named ``<site> (homepage)`` (the homepage's validators and next
check), ``<site> > feed > <url>`` and ``<site> > sitemap > <url>`` (each child
with its own validators and health; a sitemap index's own children under it),
so ``stats`` and the store show what each site gave::

    >>> feed_row("lemonde", "https://www.lemonde.fr/rss/une.xml")
    'lemonde > feed > https://www.lemonde.fr/rss/une.xml'
    >>> looks_like_news("https://www.lemonde.fr/sitemap_news.xml")
    True
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

from trafilatura.feeds import FeedParameters, determine_feed

from ingest.urls import is_web_url

FEED_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml",
              "/feeds/posts/default")
MAX_FEEDS = 5
MAX_SITEMAPS = 5
SITEMAP_PEEKS = 3
RECHECK = timedelta(days=1)
STALE = "no longer listed by the site's homepage or robots.txt"
"""The ``last_error`` of a remembered child the site stopped declaring: not visited."""

_NEWS = re.compile(r"news(?!letter)", re.IGNORECASE)


def home_row(site: str) -> str:
    """The ``sources`` row holding the homepage's validators and its next check."""
    return f"{site} (homepage)"


def feed_row(site: str, url: str = "") -> str:
    """The row of a site's feed (with ``url``), or the prefix of them all (without)."""
    return f"{site} > feed" + (f" > {url}" if url else "")


def sitemap_row(site: str, url: str = "") -> str:
    """The row of a site's sitemap (with ``url``), or the prefix of them all (without)."""
    return f"{site} > sitemap" + (f" > {url}" if url else "")


def declared_feeds(body: bytes, url: str) -> tuple[str, ...]:
    """The feeds a homepage declares, absolute, in page order, at most ``MAX_FEEDS``.

    >>> html = (b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed/">'
    ...         b'<link rel="alternate" hreflang="fr" href="/fr/"></head><body></body></html>')
    >>> declared_feeds(html, "https://a.example/")
    ('https://a.example/feed/',)
    """
    params = FeedParameters(url, urlsplit(url).hostname or "", url)
    found = determine_feed(body, params)  # type: ignore[arg-type]  # load_html takes bytes
    return tuple(u for u in dict.fromkeys(found) if is_web_url(u))[:MAX_FEEDS]


def probe_urls(home: str) -> tuple[str, ...]:
    """The common feed paths on the homepage's origin, in trial order.

    >>> probe_urls("https://a.example/fr/")[:2]
    ('https://a.example/feed', 'https://a.example/rss')
    """
    return tuple(urljoin(home, path) for path in FEED_PATHS)


def sitemap_urls(lines: tuple[str, ...], home: str) -> tuple[str, ...]:
    """robots.txt ``Sitemap:`` values made absolute (relative ones happen: against
    robots.txt's own URL, at the root of ``home``'s origin), deduplicated.

    >>> sitemap_urls(("/news.xml", "https://a.example/news.xml", "ftp://x/s"), "https://a.example/")
    ('https://a.example/news.xml',)
    >>> sitemap_urls(("news.xml",), "https://a.example/fr/")
    ('https://a.example/news.xml',)
    """
    robots = urljoin(home, "/robots.txt")
    absolute = (urljoin(robots, line.strip()) for line in lines if line.strip())
    return tuple(u for u in dict.fromkeys(absolute) if is_web_url(u))


def looks_like_news(url: str) -> bool:
    """Whether a sitemap's URL names it a news sitemap (``news-sitemap.xml``,
    ``sitemap_news.xml``, ``/sitemaps/news/``; a newsletter is not news).

    >>> looks_like_news("https://a.example/post-sitemap1.xml")
    False
    >>> looks_like_news("https://a.example/newsletter-sitemap.xml")
    False
    """
    parts = urlsplit(url)
    return bool(_NEWS.search(parts.path + "?" + parts.query))


