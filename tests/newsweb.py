"""A small news web on 127.0.0.1 for end-to-end tests: four sites, every source kind.

Built from ``fixtures/web/stories.json`` (original text, CC0). What it holds,
and what a correct cycle must make of it (see ``EXPECTED``):

- ``tech`` (English, RSS 2.0 with ETag and Last-Modified, robots.txt that
  disallows ``/private/``): en1 linked with utm_* parameters, en2, en3, an AMP
  copy of en1 (``rel=canonical`` to en1), an off-topic story, and en4 under
  ``/private/`` that must never be requested.
- ``journal`` (French, Atom with ETag only): fr1, fr2, fr3, an off-topic story;
  and fr4, configured as a ``page`` source (Last-Modified).
- ``wire`` (English, JSON Feed with Last-Modified): syndicated copies of en1 and
  en2 (new headline, different template, an added line) and an original, en5.
- ``maps`` (sitemap index -> Google News sitemap + plain sitemap): en6, fr5,
  and a verbatim republication of fr1.

Example::

    with NewsWeb() as web:
        config_path = web.write_config(tmp_path)
        ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from loopback import LoopbackServer

STORIES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "web" / "stories.json").read_text(encoding="utf-8"))
LAST_MODIFIED = "Sat, 22 Nov 2025 08:00:00 GMT"

# Pages a correct first cycle stores, by where they must end up.
EXPECTED = {
    "articles": {"en1", "en2", "en3", "en5", "en6", "fr1", "fr2", "fr3", "fr4", "fr5"},
    "duplicates": {"tech-amp-en1": "url", "wire-en1": "near", "wire-en2": "near",
                   "maps-fr1": "exact"},
    "skipped": {"off_en", "off_fr"},
}


def article_html(key: str, *, site: str, canonical: str | None = None,
                 title: str | None = None, extra: str | None = None) -> str:
    """A full article page in one of two site templates, boilerplate included."""
    story = STORIES[key]
    paragraphs = list(story["paragraphs"]) + ([extra] if extra else [])
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    heading = escape(title or story["title"])
    return f"""<!doctype html>
<html lang="{story['lang']}"><head><meta charset="utf-8"><title>{heading} | {site}</title>
{link}<meta name="author" content="Staff of {site}"></head>
<body><header><nav><a href="/">Home</a> <a href="/tech">Tech</a> <a href="/world">World</a>
<a href="/about">About {site}</a></nav></header>
<main><article><h1>{heading}</h1>
<div class="share-buttons"><a href="#">Share</a> <a href="#">Tweet</a> <span>0</span></div>
{body}
</article>
<aside class="related"><h3>Related</h3><ul><li><a href="/x">Other news of the day</a></li>
<li><a href="/y">Markets close higher</a></li></ul></aside></main>
<footer><p>© 2025 {site}. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""


def rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link>"
        f"<pubDate>Sat, 22 Nov 2025 07:00:00 GMT</pubDate></item>" for t, u in items)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Tech</title><link>http://tech/</link>{entries}</channel></rss>")


def atom(items: list[tuple[str, str]]) -> str:
    entries = "".join(
        f'<entry><title>{escape(t)}</title><link href="{escape(u)}"/><id>{escape(u)}</id>'
        f"<updated>2025-11-22T07:00:00Z</updated></entry>" for t, u in items)
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Journal</title><id>urn:journal</id><updated>2025-11-22T07:00:00Z</updated>"
            f"{entries}</feed>")


def json_feed(items: list[tuple[str, str]]) -> str:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Wire",
                       "items": [{"id": u, "url": u, "title": t} for t, u in items]})


def urlset(urls: list[str], *, news: bool = False) -> str:
    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    extra = ("<news:news><news:publication><news:name>Maps</news:name></news:publication>"
             "<news:publication_date>2025-11-22</news:publication_date></news:news>"
             if news else "<lastmod>2025-11-22</lastmod>")
    body = "".join(f"<url><loc>{escape(u)}</loc>{extra}</url>" for u in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>{body}</urlset>')


@dataclass
class NewsWeb:
    """Four loopback sites; ``page_urls`` maps a page key to its URL."""

    sites: dict[str, LoopbackServer] = field(default_factory=dict)
    page_urls: dict[str, str] = field(default_factory=dict)
    sources: list[tuple[str, str, str]] = field(default_factory=list)

    def __enter__(self) -> NewsWeb:
        for name in ("tech", "journal", "wire", "maps"):
            self.sites[name] = LoopbackServer().start()
        self._tech(self.sites["tech"])
        self._journal(self.sites["journal"])
        self._wire(self.sites["wire"])
        self._maps(self.sites["maps"])
        return self

    def __exit__(self, *exc: object) -> None:
        for site in self.sites.values():
            site.stop()

    def _page(self, srv: LoopbackServer, key: str, path: str, html: str) -> str:
        srv.add(path, html)
        self.page_urls[key] = srv.url(path)
        return srv.url(path)

    def _tech(self, srv: LoopbackServer) -> None:
        srv.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        items = []
        for key in ("en1", "en2", "en3", "off_en"):
            url = self._page(srv, key, f"/news/{key}.html", article_html(key, site="Tech Daily"))
            items.append((STORIES[key]["title"], url))
        items[0] = (items[0][0], items[0][1] + "?utm_source=rss&utm_medium=feed#top")
        amp = self._page(srv, "tech-amp-en1", "/amp/news/en1.html",
                         article_html("en1", site="Tech Daily AMP", canonical="/news/en1.html"))
        private = srv.url("/private/en4.html")
        srv.add("/private/en4.html", article_html("en4", site="Tech Daily"))
        items += [("AMP", amp), (STORIES["en4"]["title"], private)]
        srv.add("/feed.xml", rss(items), content_type="application/rss+xml",
                etag='"tech-v1"', last_modified=LAST_MODIFIED)
        self.sources.append(("tech", "feed", srv.url("/feed.xml")))

    def _journal(self, srv: LoopbackServer) -> None:
        items = [(STORIES[k]["title"], self._page(srv, k, f"/2025/{k}.html",
                                                  article_html(k, site="Le Journal")))
                 for k in ("fr1", "fr2", "fr3", "off_fr")]
        srv.add("/atom.xml", atom(items), content_type="application/atom+xml", etag='W/"j-1"')
        srv.add("/2025/fr4.html", article_html("fr4", site="Le Journal"),
                last_modified=LAST_MODIFIED)
        self.page_urls["fr4"] = srv.url("/2025/fr4.html")
        self.sources += [("journal", "feed", srv.url("/atom.xml")),
                         ("journal-page", "page", srv.url("/2025/fr4.html"))]

    def _wire(self, srv: LoopbackServer) -> None:
        copies = {"wire-en1": ("en1", "Musk seeks to block OpenAI restructuring"),
                  "wire-en2": ("en2", "Emails show Musk wanted control, OpenAI says")}
        items = []
        for key, (story, title) in copies.items():
            html = article_html(story, site="Wire Service", title=title,
                                extra="This story was first published by Tech Daily.")
            items.append((title, self._page(srv, key, f"/wire/{key}", html)))
        items.append((STORIES["en5"]["title"],
                      self._page(srv, "en5", "/wire/en5", article_html("en5", site="Wire"))))
        srv.add("/feed.json", json_feed(items), content_type="application/feed+json",
                last_modified=LAST_MODIFIED)
        self.sources.append(("wire", "feed", srv.url("/feed.json")))

    def _maps(self, srv: LoopbackServer) -> None:
        news = [self._page(srv, k, f"/n/{k}", article_html(k, site="Maps News"))
                for k in ("en6", "fr5")]
        copy = self._page(srv, "maps-fr1", "/n/copy-fr1", article_html("fr1", site="Maps News"))
        srv.add("/sitemap-news.xml", urlset(news, news=True), content_type="application/xml",
                etag='"news-1"')
        srv.add("/sitemap-pages.xml", urlset([copy]), content_type="application/xml",
                etag='"pages-1"')
        index = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
                 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                 f"<sitemap><loc>{srv.url('/sitemap-news.xml')}</loc></sitemap>"
                 f"<sitemap><loc>{srv.url('/sitemap-pages.xml')}</loc></sitemap></sitemapindex>")
        srv.add("/sitemap_index.xml", index, content_type="application/xml", etag='"idx-1"')
        self.sources.append(("maps", "sitemap", srv.url("/sitemap_index.xml")))

    def config_text(self, db_path: Path, *, topic: str = '[["musk"], ["altman", "openai"]]',
                    extra: str = "") -> str:
        sources = "".join(f'\n[[sources]]\nname = "{n}"\nkind = "{k}"\nurl = "{u}"\n'
                          for n, k, u in self.sources)
        return (f'[store]\npath = "{db_path}"\n'
                '[fetch]\nuser_agent = "newsdedup-test/1.0 (+https://example.org/t)"\n'
                "per_host_delay_seconds = 0\ntimeout_seconds = 10\n"
                "allow_private_addresses = true\n"
                f"[topic]\nall_of = {topic}\n[extract]\nworkers = 2\n{extra}{sources}")

    def write_config(self, directory: Path, **kwargs: Any) -> Path:
        path = directory / "config.toml"
        path.write_text(self.config_text(directory / "news.db", **kwargs), encoding="utf-8")
        return path

    def all_requests(self) -> list[tuple[str, Any]]:
        return [(name, r) for name, srv in self.sites.items() for r in srv.requests]
