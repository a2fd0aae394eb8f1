"""Sources of the soak web (RSS, Atom, JSON Feed, Google News sitemap) and their faults.

Each site's source lists its latest articles; on some cycles it misbehaves
instead: 503 or 429 with ``Retry-After``, a reset, an answer after the
client's deadline, a body cut mid-XML, an HTML maintenance page, a gzip
bomb, a billion-laughs entity bomb, 100,000 nested elements (or JSON
arrays), or an external entity pointing at ``/etc/passwd``. The next cycle
the source is healthy again and lists the same articles plus the new ones,
so nothing is lost by a bad cycle::

    render_source(req, "alpha", [(url, title, published_cycle)], "ok", 3, bomb, late)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import escape

from loopback import LoopbackRequest

# Per site, in the order its failing cycles use them (round robin): the hostile
# parser inputs come first so that even a short soak serves each of them.
SOURCE_FAULTS: dict[str, tuple[str, ...]] = {
    "alpha": ("entity_bomb", "truncated", "status_429", "reset", "external_entity", "garbage",
              "timeout", "gzip_bomb", "status_503", "deep_nesting"),
    "beta": ("external_entity", "deep_nesting", "timeout", "status_503", "entity_bomb",
             "truncated", "status_429", "gzip_bomb", "reset", "garbage"),
    "gamma": ("deep_nesting", "garbage", "status_429", "truncated", "gzip_bomb", "reset",
              "timeout", "status_503"),
    "delta": ("entity_bomb", "gzip_bomb", "truncated", "reset", "external_entity",
              "deep_nesting", "status_503", "garbage", "status_429", "timeout"),
}
ROBOTS_FAULTS = ("status_503", "timeout")
Item = tuple[str, str, int]  # url, title, published cycle
EPOCH = datetime(2025, 11, 22, tzinfo=UTC)
_CONTENT_TYPES = {"alpha": "application/rss+xml", "beta": "application/atom+xml",
                  "gamma": "application/feed+json", "delta": "application/xml"}
_BOMB_DTD = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
             + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">'
                       for p, n in zip("abcdefgh", "bcdefghi", strict=True)) + "]>")
_XXE_DTD = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def stamp(cycle: int) -> datetime:
    """When an article of ``cycle`` was published (one hour per cycle)."""
    return EPOCH + timedelta(hours=cycle)


def render(site: str, items: list[Item], *, doctype: str = "", inject: str = "") -> str:
    """The source document of ``site``; ``inject`` goes into the first title (XML only)."""
    if site == "gamma":
        return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Gamma",
                           "items": [{"id": u, "url": u, "title": t,
                                      "date_published": stamp(c).isoformat()}
                                     for u, t, c in items]})
    titled = [(u, escape(t) + (inject if i == 0 else ""), c) for i, (u, t, c) in enumerate(items)]
    head = f'<?xml version="1.0" encoding="utf-8"?>{doctype}'
    if site == "alpha":
        return head + _rss(titled)
    if site == "beta":
        return head + _atom(titled)
    return head + _sitemap(titled)


def _rss(items: list[Item]) -> str:
    rows = "".join(f"<item><title>{t}</title><link>{escape(u)}</link><pubDate>"
                   f"{stamp(c).strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate></item>"
                   for u, t, c in items)
    return (f'<rss version="2.0"><channel><title>Alpha</title><link>http://alpha/</link>'
            f"{rows}</channel></rss>")


def _atom(items: list[Item]) -> str:
    rows = "".join(f'<entry><title>{t}</title><link href="{escape(u)}"/><id>{escape(u)}</id>'
                   f"<updated>{stamp(c).isoformat()}</updated></entry>" for u, t, c in items)
    return ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Beta</title><id>urn:beta</id>'
            f"<updated>{EPOCH.isoformat()}</updated>{rows}</feed>")


def _sitemap(items: list[Item]) -> str:
    rows = "".join(
        f"<url><loc>{escape(u)}</loc><news:news><news:publication><news:name>Delta"
        f"</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{stamp(c).isoformat()}</news:publication_date>"
        f"<news:title>{t}</news:title></news:news></url>" for u, t, c in items)
    return ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{rows}</urlset>')


def render_source(req: LoopbackRequest, site: str, items: list[Item], fault: str, cycle: int,
                  bomb: bytes, too_late: Callable[[], None]) -> None:
    """Answer a request for ``site``'s source, healthy or with ``fault``."""
    content_type = _CONTENT_TYPES[site]
    if fault in ("status_503", "status_429"):
        req.respond(int(fault[-3:]), "slow down", headers={"Retry-After": "1"},
                    content_type="text/plain")
    elif fault == "reset":
        req.reset()
    elif fault == "timeout":
        too_late()
    elif fault == "garbage":
        req.respond(200, "<html><body><h1>Down for maintenance</h1></body></html>")
    elif fault == "gzip_bomb":
        req.respond(200, bomb, headers={"Content-Encoding": "gzip"}, content_type=content_type)
    else:
        body = _document(site, items, fault).encode("utf-8")
        if fault == "truncated":
            body = body[: len(body) * 3 // 5]
        _conditional(req, body, content_type, f'"{site}-{cycle}-{fault}"')


def _document(site: str, items: list[Item], fault: str) -> str:
    if fault == "deep_nesting":  # 100,000 levels: recursion limits, not memory
        if site == "gamma":
            return "[" * 100_000 + "]" * 100_000
        doc = render(site, items)
        cut = doc.index("?>") + 2
        return doc[:cut] + "<x>" * 100_000 + doc[cut:] + "</x>" * 100_000
    if fault == "entity_bomb":
        return render(site, items, doctype=_BOMB_DTD, inject="&i;")
    if fault == "external_entity" and site != "gamma":
        return render(site, items, doctype=_XXE_DTD, inject="&xxe;")
    return render(site, items)


def _conditional(req: LoopbackRequest, body: bytes, content_type: str, etag: str) -> None:
    if req.headers.get("If-None-Match") == etag:
        req.respond(304, b"", headers={"ETag": etag}, content_type=None)
    else:
        req.respond(200, body, headers={"ETag": etag}, content_type=content_type)
