"""The demo's bundled news web: four small sites served on 127.0.0.1, nothing else.

Every site is one threaded HTTP server on its own port (a port is a site).
What they hold is what a real week of this topic looks like, small:

- ``ledger`` (English, RSS 2.0): three stories, one linked with ``utm_*``
  tracking parameters, an AMP copy of the explainer (``rel=canonical``), and
  an off-topic story the topic filter skips.
- ``courrier`` (French, Atom): two stories.
- ``wire`` (English, JSON Feed): syndicated copies of two Ledger stories
  with a new headline and small edits (near duplicates worth a diff), and
  one original.
- ``digest`` (English, sitemap index -> Google News sitemap): a story whose
  page prints its body twice (a flattened "print version"), a verbatim
  republication of a Courrier story (an exact duplicate), and a copy of the
  Wire original under a different template.

Every page carries boilerplate (navigation, share buttons, a newsletter box,
a photo credit, an author bio, related links, a cookie notice) for the
cleaning stage to remove::

    with SampleWeb() as web:
        config_path.write_text(web.config_text(db_path))
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

STORIES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "sample" / "stories.json").read_text(encoding="utf-8"))
HTML = "text/html; charset=utf-8"
TOPIC = '[["musk"], ["altman", "openai"]]'


class Site:
    """One web site: fixed answers by path (the query string is ignored)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: dict[str, tuple[str, bytes]] = {"/robots.txt": (
            "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n")}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def add(self, path: str, body: str, content_type: str = HTML) -> str:
        self.routes[path] = (content_type, body.encode("utf-8"))
        return self.url(path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            content_type, body = site.routes.get(urlsplit(self.path).path,
                                                 ("text/plain", b"not found"))
            self.send_response(200 if urlsplit(self.path).path in site.routes else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the demo prints its own summary."""

    return Handler


# -- pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """A site's template: its name and the boilerplate around every story."""

    name: str
    section: str
    newsletter: str
    bio: str


LOOKS = {
    "ledger": Look("The Harbor Ledger", "Technology",
                   "Get the Ledger's morning briefing in your inbox. Subscribe now.",
                   "Our technology desk covers the companies shaping artificial intelligence."),
    "courrier": Look("Le Courrier du Matin", "Économie",
                     "Recevez notre lettre d'information chaque matin. Inscrivez-vous.",
                     "Notre rédaction économie suit les géants de la technologie."),
    "wire": Look("Continental Wire", "World",
                 "Newsrooms: license this story through the Continental Wire portal.",
                 "Continental Wire is an independent news agency."),
    "digest": Look("Metro Digest", "Business",
                   "Sign up for the Digest's evening newsletter, free.",
                   "Metro Digest brings you the day's business news in five minutes."),
}


def page(look: Look, title: str, paragraphs: list[str], lang: str, *,
         canonical: str | None = None, doubled: bool = False) -> str:
    """A full article page: the story inside a site's navigation and widgets."""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if doubled:  # a flattened print copy of the same body, as some CMSs emit
        body += f'\n<div class="print-version"><p>{escape(" ".join(paragraphs))}</p></div>'
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    name = escape(look.name)
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)} | {name}</title>{link}
<meta name="author" content="{name} staff"><meta property="og:site_name" content="{name}">
</head><body>
<div class="cookie-banner">We use cookies to improve your experience.
<a href="/privacy">OK</a></div>
<header><nav><a href="/">{name}</a> <a href="/s/news">News</a> <a href="/s/tech">
{escape(look.section)}</a> <a href="/s/opinion">Opinion</a> <a href="/login">Log in</a>
</nav></header>
<main><article><h1>{escape(title)}</h1>
<div class="share-buttons"><a href="#">Share</a> <a href="#">Post</a> <a href="#">Email</a></div>
<figure><figcaption>Photo: {name} archive</figcaption></figure>
{body}
<aside class="newsletter"><p>{escape(look.newsletter)}</p></aside>
<div class="author-bio"><p>{escape(look.bio)}</p></div>
</article>
<aside class="related"><h3>Read next</h3><ul><li><a href="/x">Markets end the week higher</a>
</li><li><a href="/y">Five gadgets worth waiting for</a></li></ul></aside></main>
<footer><p>© 2025 {name}. All rights reserved.</p><a href="/privacy">Privacy</a>
<a href="/terms">Terms</a></footer></body></html>"""


def story(key: str) -> tuple[str, list[str], str]:
    s = STORIES[key]
    return str(s["title"]), list(s["paragraphs"]), str(s["lang"])


def edited(key: str, *, replace: dict[str, str], add: list[str] | None = None,
           drop_last: bool = False) -> list[str]:
    """A syndicated rewrite: words swapped, a paragraph dropped or added."""
    paragraphs = story(key)[1][:-1] if drop_last else story(key)[1]
    out = []
    for p in paragraphs:
        for old, new in replace.items():
            p = p.replace(old, new)
        out.append(p)
    return out + list(add or [])


# -- feeds --------------------------------------------------------------------------------


def rss(title: str, items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<item><title>{escape(t)}</title><link>{escape(u)}</link>"
                      "<pubDate>Mon, 17 Nov 2025 07:00:00 GMT</pubDate></item>"
                      for t, u in items)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><link>http://ledger.invalid/</link>"
            f"{entries}</channel></rss>")


def atom(title: str, items: list[tuple[str, str]]) -> str:
    entries = "".join(f'<entry><title>{escape(t)}</title><link href="{escape(u)}"/>'
                      f"<id>{escape(u)}</id><updated>2025-11-18T06:00:00Z</updated></entry>"
                      for t, u in items)
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>urn:demo:courrier</id>"
            f"<updated>2025-11-18T06:00:00Z</updated>{entries}</feed>")


def json_feed(title: str, items: list[tuple[str, str]]) -> str:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": title,
                       "items": [{"id": u, "url": u, "title": t} for t, u in items]})


def news_sitemap(urls: list[str]) -> str:
    body = "".join(
        f"<url><loc>{escape(u)}</loc><news:news><news:publication><news:name>Metro Digest"
        "</news:name><news:language>en</news:language></news:publication>"
        "<news:publication_date>2025-11-19</news:publication_date></news:news></url>"
        for u in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset '
            'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{body}</urlset>')


def sitemap_index(urls: list[str]) -> str:
    body = "".join(f"<sitemap><loc>{escape(u)}</loc></sitemap>" for u in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>')


# -- the web ------------------------------------------------------------------------------


@dataclass
class SampleWeb:
    """The four sites, started; ``sources`` are (name, kind, url) for the config."""

    sites: dict[str, Site] = field(default_factory=dict)
    sources: list[tuple[str, str, str]] = field(default_factory=list)

    def __enter__(self) -> SampleWeb:
        for name in LOOKS:
            self.sites[name] = Site(name)
        self._ledger(self.sites["ledger"])
        self._courrier(self.sites["courrier"])
        self._wire(self.sites["wire"])
        self._digest(self.sites["digest"])
        for site in self.sites.values():
            site.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for site in self.sites.values():
            site.stop()

    def _article(self, site: Site, path: str, key: str, **kw: Any) -> tuple[str, str]:
        title, paragraphs, lang = story(key)
        return title, site.add(path, page(LOOKS[site.name], title, paragraphs, lang, **kw))

    def _ledger(self, site: Site) -> None:
        items = [self._article(site, f"/news/{key}", f"ledger-{key}")
                 for key in ("trial", "board", "explainer", "off")]
        items[0] = (items[0][0], items[0][1] + "?utm_source=rss&utm_medium=feed")
        amp = self._article(site, "/amp/news/explainer", "ledger-explainer",
                            canonical="/news/explainer")
        site.add("/feed.xml", rss(LOOKS["ledger"].name, [*items, amp]), "application/rss+xml")
        self.sources.append(("ledger", "feed", site.url("/feed.xml")))

    def _courrier(self, site: Site) -> None:
        items = [self._article(site, f"/2025/11/{key}", f"courrier-{key}")
                 for key in ("trial", "board")]
        site.add("/atom.xml", atom(LOOKS["courrier"].name, items), "application/atom+xml")
        self.sources.append(("courrier", "feed", site.url("/atom.xml")))

    def _wire(self, site: Site) -> None:
        look = LOOKS["wire"]
        trial = edited("ledger-trial", replace={"spent the week": "spent the past week"},
                       add=["Reporting by the Continental Wire legal desk."])
        board = edited("ledger-board", replace={"on Tuesday": "late on Tuesday"},
                       drop_last=True)
        items = [("Musk, OpenAI clash over documents before trial",
                  site.add("/w/musk-openai-documents", page(
                      look, "Musk, OpenAI clash over documents before trial", trial, "en"))),
                 ("OpenAI nonprofit to stay in charge, board says",
                  site.add("/w/openai-board-control", page(
                      look, "OpenAI nonprofit to stay in charge, board says", board, "en"))),
                 self._article(site, "/w/feud-costs", "wire-costs")]
        site.add("/feed.json", json_feed(look.name, items), "application/feed+json")
        self.sources.append(("wire", "feed", site.url("/feed.json")))

    def _digest(self, site: Site) -> None:
        urls = [self._article(site, "/d/hearing", "digest-hearing", doubled=True)[1],
                self._article(site, "/d/musk-openai-proces", "courrier-trial")[1],
                self._article(site, "/d/feud-costs", "wire-costs")[1]]
        site.add("/sitemap-news.xml", news_sitemap(urls), "application/xml")
        site.add("/sitemap.xml", sitemap_index([site.url("/sitemap-news.xml")]),
                 "application/xml")
        self.sources.append(("digest", "sitemap", site.url("/sitemap.xml")))

    def config_text(self, db_path: Path) -> str:
        """A configuration for one polite-but-instant cycle over these loopback sites."""
        sources = "".join(f'\n[[sources]]\nname = "{n}"\nkind = "{k}"\nurl = "{u}"\n'
                          for n, k, u in self.sources)
        return (f"# Written by demo/run.py for the bundled sample web; its ports change\n"
                f"# at every run, so this file is only good for `review` and `report`.\n"
                f"[store]\npath = {json.dumps(str(db_path))}\n"
                '[fetch]\nuser_agent = "newsdedup-demo/0.1 (+https://example.org/newsdedup)"\n'
                "per_host_delay_seconds = 0\ntimeout_seconds = 10\n"
                "allow_private_addresses = true\n"
                f"[topic]\nall_of = {TOPIC}\n[extract]\nworkers = 2\n{sources}")
