"""Discovery: turn a source's body (feed or sitemap) into article links.

Pure parsing, no HTTP: the pipeline fetches the source with the fetch stage
and hands the bytes here, so these functions are tested on fixture files
alone. RSS 0.9x/1.0/2.0 and Atom go through feedparser (it copes with the
broken feeds publishers actually serve); JSON Feed is read with ``json``
(feedparser 6.0 does not know it); sitemaps, sitemap indexes and Google News
sitemaps are read with lxml with entity expansion and network access off::

    >>> body = (b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    ...         b'<sitemap><loc>/sitemap-news.xml</loc></sitemap></sitemapindex>')
    >>> listing = parse_source(body, url="https://a.example/sitemap.xml",
    ...                        source="a", content_type="application/xml")
    >>> listing.children            # a sitemap index lists further sitemaps
    ('https://a.example/sitemap-news.xml',)
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from time import struct_time
from typing import Any, Literal
from urllib.parse import urljoin

import feedparser
from lxml import etree

from ingest.errors import SourceError
from ingest.types import DiscoveredLink
from ingest.urls import is_web_url

_MAX_SITEMAP_BYTES = 50_000_000  # the sitemap protocol's own limit, after decompression
_MAX_LINKS = 50_000


@dataclass(frozen=True, slots=True)
class SourceListing:
    """What one source body lists: article links, and child sitemaps to visit.

    ``form`` is what the body turned out to be; ``news`` is True for a sitemap whose
    entries carry Google News' ``<news:news>``, whatever the file is called or which
    namespaces it declares (the entries are the fact).
    """

    links: tuple[DiscoveredLink, ...]
    children: tuple[str, ...] = ()
    form: Literal["feed", "sitemap", "index"] = "feed"
    news: bool = False


def parse_source(body: bytes, *, url: str, source: str, content_type: str = "") -> SourceListing:
    """Parse a feed or sitemap body, whichever it is (sniffed, not trusted from headers)."""
    body = _gunzip(body, url)
    head = body[:2048].lstrip().lower()
    if head.startswith(b"{") or "json" in content_type:
        return SourceListing(_json_feed(body, url, source))
    if b"<urlset" in head or b"<sitemapindex" in head:
        return _sitemap(body, url, source)
    return SourceListing(_feed(body, url, source, content_type))


def _gunzip(body: bytes, url: str) -> bytes:
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
            data = f.read(_MAX_SITEMAP_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise SourceError(f"broken gzip body: {exc}", url=url) from exc
    if len(data) > _MAX_SITEMAP_BYTES:
        raise SourceError("sitemap larger than 50 MB once decompressed", url=url)
    return data


def _feed(body: bytes, url: str, source: str, content_type: str) -> tuple[DiscoveredLink, ...]:
    # Without a content type feedparser flags even a valid empty feed as broken.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(body, response_headers=headers)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        error = parsed.get("bozo_exception", "no feed entries")
        raise SourceError(f"not a readable feed: {error}", url=url)
    language = _text(parsed.feed.get("language"))
    links = (_feed_link(e, url, source, language) for e in parsed.entries[:_MAX_LINKS])
    return tuple(link for link in links if link is not None)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _feed_link(entry: Any, base: str, source: str, language: str | None) -> DiscoveredLink | None:
    href = entry.get("link") or _first_alternate(entry)
    absolute = _absolute(base, href)
    if absolute is None:
        return None
    # Asking feedparser for a missing updated_parsed warns and falls back by itself.
    keys = set(entry.keys())
    stamp = entry.get("updated_parsed") if "updated_parsed" in keys else None
    stamp = stamp or entry.get("published_parsed")
    return DiscoveredLink(url=absolute, source=source, updated=_iso(stamp),
                          title=entry.get("title"), language=language)


def _first_alternate(entry: Any) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    return None


def _iso(stamp: struct_time | None) -> str | None:
    if stamp is None:
        return None
    try:
        return datetime(*stamp[:6], tzinfo=UTC).isoformat()
    except (TypeError, ValueError):
        return None


def _absolute(base: str, href: Any) -> str | None:
    if not isinstance(href, str) or not href.strip():
        return None
    absolute = urljoin(base, href.strip())
    return absolute if is_web_url(absolute) else None


def _json_feed(body: bytes, url: str, source: str) -> tuple[DiscoveredLink, ...]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise SourceError(f"not valid JSON: {type(exc).__name__}", url=url) from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise SourceError("JSON Feed without an 'items' list", url=url)
    links = []
    language = _text(data.get("language"))
    for item in data["items"][:_MAX_LINKS]:
        if not isinstance(item, dict):
            continue
        absolute = _absolute(url, item.get("url") or item.get("external_url"))
        if absolute:
            stamp = item.get("date_modified") or item.get("date_published")
            links.append(DiscoveredLink(url=absolute, source=source,
                                        updated=stamp if isinstance(stamp, str) else None,
                                        title=item.get("title") if isinstance(
                                            item.get("title"), str) else None,
                                        language=_text(item.get("language")) or language))
    return tuple(links)


def _sitemap(body: bytes, url: str, source: str) -> SourceListing:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             recover=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"not a readable sitemap: {exc}", url=url) from exc
    if root is None:
        raise SourceError("empty sitemap", url=url)
    if etree.QName(root).localname == "sitemapindex":
        locs = (_absolute(url, _child_text(s, "loc")) for s in _children(root, "sitemap"))
        return SourceListing((), tuple(loc for loc in locs if loc)[:_MAX_LINKS], "index")
    links = (_sitemap_link(u, url, source) for u in _children(root, "url"))
    news = bool(root.xpath("boolean(*[local-name()='url']/*[local-name()='news'])"))
    return SourceListing(tuple(link for link in links if link is not None)[:_MAX_LINKS],
                         form="sitemap", news=news)


def _sitemap_link(node: Any, base: str, source: str) -> DiscoveredLink | None:
    absolute = _absolute(base, _child_text(node, "loc"))
    if absolute is None:
        return None
    news = next(_children(node, "news"), None)
    stamp = _child_text(node, "lastmod")
    title = language = None
    if news is not None:
        stamp = stamp or _child_text(news, "publication_date")
        title = _child_text(news, "title")
        publication = next(_children(news, "publication"), None)
        language = None if publication is None else _child_text(publication, "language")
    return DiscoveredLink(url=absolute, source=source, updated=stamp, title=title,
                          language=language)


def _children(node: Any, name: str) -> Any:
    return (c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name)


def _child_text(node: Any, name: str) -> str | None:
    child = next(_children(node, name), None)
    text = child.text if child is not None else None
    return text.strip() if text and text.strip() else None
