"""A loopback replica of Google News and Bing News, with the publishers they point at.

Built from the aggregators' observed shapes (documented in
``ingest/discover/aggregators.py`` and ``ingest/discover/batchexecute.py``):

- ``google``: ``/rss/search`` is a Google News RSS feed (titles ``Headline -
  Publisher``, ``<link>`` ``/rss/articles/<id>?oc=5``, ``guid``, escaped
  ``<description>``, ``<source url>``). Ids are base64url protobuf: *old* ones
  carry the publisher URL (field 4); *new* ones an ``AU_yqL`` token, whose
  ``/rss/articles/<id>`` page holds ``data-n-a-sg`` / ``data-n-a-ts`` in a
  ``<c-wiz><div jscontroller>``, and ``POST /_/DotsSplashUi/data/batchexecute``
  answers ``)]}'`` + rows (``garturlres``) for ids whose signature checks out.
  One new id's page carries ``data-n-au`` (the target itself), one is an
  interstitial (no signature), one is refused by batchexecute (no row), one id
  is broken (truncated protobuf), one old id carries the aggregator's own URL.
- ``bing``: ``/news/search`` is a Bing News RSS feed whose links are
  ``/news/apiclick.aspx?ref=FexRss&...&url=<publisher URL, %-encoded lower-case>``
  (plus one without ``url``). The wrapper answers 302 to the target, as Bing's
  does; a correct crawler never asks it.
- ``daily`` (English, RSS ``/rss.xml``), ``journal`` (French, RSS ``/feed``):
  publishers whose own feeds list some of the stories the aggregators list;
- ``homeonly``: configured as ``kind = "site"``: its homepage declares a feed
  (``<link rel="alternate">``), its robots.txt a sitemap index whose news child
  lists one story;
- ``plain``: configured as ``kind = "site"`` too, but it has only a homepage,
  robots.txt and its article pages: its stories are reached through the
  aggregators alone.
- ``gated`` (with ``gated=True``; The Tidewater Post, RSS ``/rss.xml``): a publisher
  whose article URLs answer ``200`` with what stands in front of the article
  (``GATED``, original pages of ``fixtures/aggregatorweb/``): two consent walls (a
  consent platform's container, "Accept all" / "Tout accepter"), a "Just a
  moment..." bot challenge with its script, an "enable JavaScript" shell and a soft
  404; and a paywalled teaser (JSON-LD ``isAccessibleForFree: false``) and a free
  article (``true``). They are reached through old Google ids (decoded offline),
  Bing wrappers and the publisher's own feed (``GATED_GOOGLE``, ``GATED_BING``,
  ``GATED_FEED``); ``WALLS`` names the reason each wall must be refused with,
  ``ACCESS`` what each article's ``access`` must be. Without ``gated`` the
  aggregators list only the stories of the other publishers.

``EXPECTED`` is what a correct cycle stores: each story once, under its
publisher URL (with ``gated``: :attr:`AggregatorWeb.expected`, no wall among them).
With ``public=True`` the aggregators' links name the real hosts
(``news.google.com``, ``www.bing.com``) and :meth:`AggregatorWeb.transport` is an
httpx transport that sends those hosts' requests to the replicas (a fetcher
given it crawls the replica as if it were the real host: the project's default
aggregator hosts are then the ones exercised)::

    with AggregatorWeb() as web:
        resolver = LinkResolver(web.aggregators())
        ...
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from ingest.discover.aggregators import Aggregators
from loopback import LoopbackRequest, LoopbackServer
from newsweb import STORIES, article_html, rss, urlset

PUBLIC_GOOGLE = "https://news.google.com"
PUBLIC_BING = "http://www.bing.com"
ALLOW_ALL = "User-agent: *\nAllow: /\n"
GOOGLE_REAL_ROBOTS = ("User-agent: *\nDisallow: /\nAllow: /$\nAllow: /home\nAllow: /topics/\n"
                      "Allow: /publications/\nAllow: /stories/\nAllow: /swg/\nAllow: /about\n")
"""The shape of news.google.com's own robots.txt (as publicly quoted): ``/rss/``,
``/articles/`` and ``/_/`` are not allowed."""

# Where each story is published, and how the aggregators list it.
PUBLISHED = {"en1": "daily", "en2": "daily", "en3": "daily", "fr1": "journal",
             "fr2": "journal", "fr3": "journal", "en5": "homeonly", "en6": "homeonly",
             "fr5": "homeonly", "en4": "plain", "fr4": "plain"}
GATED_PAGES = Path(__file__).parent / "fixtures" / "aggregatorweb"
GATED: dict[str, tuple[str, str]] = {
    # page of the ``gated`` publisher: (fixture, the headline the feeds list it under)
    "consent_en": ("consent_wall.en.cmp.html",
                   "Founders' lawyers clash over the trial's witness list"),
    "consent_fr": ("consent_wall.fr.cmp.html",
                   "Procès OpenAI : la liste des témoins fait débat"),
    "challenge": ("bot_challenge.en.just-a-moment.html",
                  "How the OpenAI jury will be chosen, step by step"),
    "shell": ("js_required.en.shell.html",
              "Court sets the order of witnesses for the OpenAI trial"),
    "gone": ("error_page.en.soft-404.html", "Live: opening statements in the OpenAI trial"),
    "pay": ("article.en.paywalled-teaser.html",
            "What the OpenAI trial could change for nonprofit boards"),
    "free": ("article.fr.free.html",
             "Procès OpenAI : ce que le public pourra voir des audiences"),
}
WALLS = {"consent_en": "consent_wall", "consent_fr": "consent_wall",
         "challenge": "bot_challenge", "shell": "js_required", "gone": "error_page"}
"""The ``gated`` pages that are no article, and the reason each must be refused with."""
ACCESS = {"pay": "paywalled", "free": "free"}
"""The ``gated`` articles, and the ``articles.access`` each must be stored with."""
GATED_FEED = ("consent_fr", "shell", "pay", "free")
GATED_GOOGLE = (("challenge", "old"), ("gone", "old"), ("pay", "old"))
GATED_BING = ("consent_en", "shell", "free")

GOOGLE_ITEMS = (("en1", "old"), ("fr1", "new"), ("en3", "direct"), ("en4", "new"),
                ("fr5", "new"))
BING_ITEMS = ("en1", "fr2", "fr4", "en5")
EXPECTED = frozenset(PUBLISHED)
UNRESOLVED = {"google": {"decode_failed": 1, "no_signature": 1, "no_answer": 1,
                         "not_a_publisher_url": 1},
              "bing": {"no_target": 1}}


def old_id(url: str) -> str:
    """A pre-2024 Google News id carrying ``url`` (fields 1 and 4, then the AMP field)."""
    data = url.encode()
    amp = (url + ".amp").encode()
    raw = (b"\x08\x13\x22" + _varint(len(data)) + data + b"\xd2\x01" + _varint(len(amp)) + amp)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_id() -> str:
    """A 2024-format id: field 4 holds an opaque ``AU_yqL`` token, not a URL."""
    token = b"AU_yqL" + base64.urlsafe_b64encode(secrets.token_bytes(60)).rstrip(b"=")
    raw = b"\x08\x13\x22" + _varint(len(token)) + token
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BROKEN_ID = base64.urlsafe_b64encode(b"\x08\x13\x22\xff\x01ht").decode().rstrip("=")
"""Valid base64url, but its field 4 claims 255 bytes and holds two: no id at all."""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def bing_link(base: str, target: str | None, tid: str) -> str:
    """A Bing News click wrapper, ``url`` %-encoded with lower-case escapes as Bing does."""
    url = "" if target is None else "&url=" + re.sub(
        r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(target, safe=""))
    return f"{base}/news/apiclick.aspx?ref=FexRss&aid=&tid={tid}{url}&c=4391&mkt=en-us"


@dataclass
class AggregatorWeb:
    """The replicas and publishers; ``pages`` maps a story to its publisher URL."""

    public: bool = False
    google_robots: str = ALLOW_ALL
    chunked: bool = False
    gated: bool = False
    sites: dict[str, LoopbackServer] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    lookups: dict[str, str] = field(default_factory=dict)  # new id -> story, resolvable
    posts: list[dict[str, Any]] = field(default_factory=list)  # batchexecute requests read
    _secret: str = field(default_factory=lambda: secrets.token_hex(8))

    def __enter__(self) -> AggregatorWeb:
        names = ("google", "bing", "daily", "journal", "homeonly", "plain")
        for name in (*names, "gated") if self.gated else names:
            self.sites[name] = LoopbackServer().start()
        for story, site in PUBLISHED.items():
            srv = self.sites[site]
            srv.add(f"/articles/{story}.html", article_html(story, site=site.title()))
            self.pages[story] = srv.url(f"/articles/{story}.html")
        self._daily()
        self._journal()
        self._homeonly()
        self._plain()
        if self.gated:
            self._gated()
        self._google()
        self._bing()
        return self

    def __exit__(self, *exc: object) -> None:
        for srv in self.sites.values():
            srv.stop()

    # -- where things are ------------------------------------------------------------------

    @property
    def google_base(self) -> str:
        return PUBLIC_GOOGLE if self.public else self.sites["google"].base

    @property
    def bing_base(self) -> str:
        return PUBLIC_BING if self.public else self.sites["bing"].base

    @property
    def google_items(self) -> tuple[tuple[str, str], ...]:
        """``(story, id form)`` of the Google feed's resolvable items."""
        return GOOGLE_ITEMS + (GATED_GOOGLE if self.gated else ())

    @property
    def bing_items(self) -> tuple[str, ...]:
        """The stories of the Bing feed's wrappers that carry a target."""
        return BING_ITEMS + (GATED_BING if self.gated else ())

    @property
    def expected(self) -> frozenset[str]:
        """What a correct cycle over this web stores (each once, under its publisher URL)."""
        return EXPECTED | frozenset(ACCESS) if self.gated else EXPECTED

    def aggregators(self) -> Aggregators:
        """The aggregator hosts of this web (the real ones when ``public``)."""
        if self.public:
            return Aggregators()
        return Aggregators(google=frozenset({urlsplit(self.google_base).netloc}),
                           bing=frozenset({urlsplit(self.bing_base).netloc}))

    def sources(self) -> list[tuple[str, str, str]]:
        """``(name, kind, url)`` of every source a config for this web lists."""
        return [("google", "feed", f"{self.google_base}/rss/search?q=musk+altman&hl=en-US"
                 "&gl=US&ceid=US:en"),
                ("bing", "feed", f"{self.bing_base}/news/search?q=musk+altman&format=rss"),
                ("daily", "feed", self.sites["daily"].url("/rss.xml")),
                ("journal", "feed", self.sites["journal"].url("/feed")),
                ("homeonly", "site", self.sites["homeonly"].url("/")),
                ("plain", "site", self.sites["plain"].url("/"))] + (
                [("gated", "feed", self.sites["gated"].url("/rss.xml"))] if self.gated else [])

    def transport(self) -> httpx.AsyncBaseTransport:
        """Sends requests for the real aggregator hosts to the replicas."""
        return HostMap({"news.google.com": self.sites["google"].base,
                        "www.bing.com": self.sites["bing"].base})

    # -- publishers -------------------------------------------------------------------------

    def _items(self, *stories: str, utm: bool = False) -> list[tuple[str, str]]:
        tail = "?utm_source=rss&utm_medium=feed" if utm else ""
        return [(headline(s), self.pages[s] + tail) for s in stories]

    def _daily(self) -> None:
        srv = self.sites["daily"]
        srv.add("/rss.xml", rss(self._items("en1", "en2", utm=True)),
                content_type="application/rss+xml")

    def _journal(self) -> None:
        srv = self.sites["journal"]
        srv.add("/feed", rss(self._items("fr1", "fr3")), content_type="application/rss+xml")

    def _homeonly(self) -> None:
        srv = self.sites["homeonly"]
        srv.add("/", '<!doctype html><html><head><title>Home Only</title>'
                '<link rel="alternate" type="application/rss+xml" title="Actu" '
                'href="/actu/flux.xml"></head><body><h1>Home Only</h1></body></html>')
        srv.add("/actu/flux.xml", rss(self._items("en5", "en6")),
                content_type="application/rss+xml")
        srv.add("/robots.txt", "User-agent: *\nAllow: /\nSitemap: /sitemap_index.xml\n",
                content_type="text/plain")
        index = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
                 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                 f"<sitemap><loc>{srv.url('/sitemap-news.xml')}</loc></sitemap>"
                 f"<sitemap><loc>{srv.url('/post-sitemap.xml')}</loc></sitemap></sitemapindex>")
        srv.add("/sitemap_index.xml", index, content_type="application/xml")
        srv.add("/sitemap-news.xml", urlset([self.pages["fr5"]], news=True),
                content_type="application/xml")
        srv.add("/post-sitemap.xml", urlset([srv.url("/archive/old.html")]),
                content_type="application/xml")

    def _plain(self) -> None:
        srv = self.sites["plain"]
        links = "".join(f'<li><a href="{escape(self.pages[s])}">{escape(STORIES[s]["title"])}'
                        "</a></li>" for s in ("en4", "fr4"))
        srv.add("/", f"<!doctype html><html><head><title>Plain</title></head><body><ul>{links}"
                "</ul></body></html>")
        srv.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")

    def _gated(self) -> None:
        srv = self.sites["gated"]
        for key, (fixture, _headline) in GATED.items():
            srv.add(f"/articles/{key}.html", (GATED_PAGES / fixture).read_bytes(),
                    content_type="text/html; charset=utf-8")
            self.pages[key] = srv.url(f"/articles/{key}.html")
        srv.add("/rss.xml", rss(self._items(*GATED_FEED)), content_type="application/rss+xml")
        srv.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")

    # -- Google News --------------------------------------------------------------------------

    def signature(self, article_id: str) -> str:
        digest = hashlib.sha256(f"{self._secret}:{article_id}".encode()).digest()
        return "AZ5r3e" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _google(self) -> None:
        srv = self.sites["google"]
        srv.add("/robots.txt", self.google_robots, content_type="text/plain")
        items = []
        for story, form in self.google_items:
            items.append((story, self._google_id(story, form)))
        items.append(("off_en", BROKEN_ID))
        interstitial, refused = new_id(), new_id()
        srv.add(f"/rss/articles/{interstitial}", "<!doctype html><html><body><p>Please enable "
                "JavaScript to continue.</p></body></html>")
        srv.add(f"/rss/articles/{refused}", self._article_page(refused))
        items += [("off_en", interstitial), ("off_fr", refused),
                  ("off_fr", old_id(f"{self.google_base}/topics/CAAqBwgK"))]
        srv.add("/rss/search", self._google_feed(items), content_type="application/rss+xml")
        srv.add_handler("/_/DotsSplashUi/data/batchexecute", self._batchexecute)

    def _google_id(self, story: str, form: str) -> str:
        srv = self.sites["google"]
        if form == "old":
            article_id = old_id(self.pages[story])
            srv.add_handler(f"/rss/articles/{article_id}", _redirect(self.pages[story]))
            return article_id
        article_id = new_id()
        direct = self.pages[story] if form == "direct" else None
        srv.add(f"/rss/articles/{article_id}", self._article_page(article_id, direct))
        self.lookups[article_id] = story
        return article_id

    def _article_page(self, article_id: str, direct: str | None = None) -> str:
        au = f' data-n-au="{escape(direct)}"' if direct else ""
        return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Google News'
                '</title></head><body><c-wiz jsrenderer="ZdwDKe" jsmodel="hc6Ubd" '
                f'jscontroller="xdV1C" c-wiz><div jscontroller="aLI87" jsaction="rcuQ6b:npT2md" '
                f'data-n-a-id="{article_id}" data-n-a-sg="{self.signature(article_id)}" '
                f'data-n-a-ts="1764500000" data-n-vlb="0"{au}></div></c-wiz>'
                "<script>window.location.replace('...')</script></body></html>")

    def _google_feed(self, items: list[tuple[str, str]]) -> str:
        rows = []
        for story, article_id in items:
            link = f"{self.google_base}/rss/articles/{article_id}?oc=5"
            site = publisher(story).title()
            title = f"{headline(story)} - {site}"
            description = (f'<a href="{link}" target="_blank">{headline(story)}</a>'
                           f'&nbsp;&nbsp;<font color="#6f6f6f">{site}</font>')
            rows.append(
                f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
                f'<guid isPermaLink="false">{article_id}</guid>'
                "<pubDate>Sat, 22 Nov 2025 07:00:00 GMT</pubDate>"
                f"<description>{escape(description, quote=False)}</description>"
                f'<source url="http://{site.lower()}.example">{site}</source></item>')
        return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" '
                'xmlns:media="http://search.yahoo.com/mrss/"><channel><generator>NFE/5.0'
                "</generator><title>\"musk altman\" - Google News</title>"
                f"<link>{self.google_base}/search?q=musk+altman</link><language>en-US</language>"
                "<copyright>2025 Google Inc.</copyright><description>Google News</description>"
                + "".join(rows) + "</channel></rss>")

    def _batchexecute(self, req: LoopbackRequest) -> None:
        if req.method != "POST" or "form-urlencoded" not in (
                req.headers.get("content-type") or ""):
            req.respond(405, "POST a form", content_type="text/plain")
            return
        length = int(req.headers.get("content-length") or 0)
        form = parse_qs(req.handler.rfile.read(length).decode())
        envelopes = json.loads(form["f.req"][0])[0]
        self.posts.append({"form": form, "envelopes": envelopes,
                           "user_agent": req.headers.get("user-agent")})
        results: list[tuple[str, str | None]] = []
        for rpc, inner, _none, rid in envelopes:
            _verb, _ctx, article_id, ts, sig = json.loads(inner)
            story = self.lookups.get(article_id)
            ok = rpc == "Fbv4je" and story and sig == self.signature(article_id) and ts
            results.append((rid, self.pages[story] if ok and story else None))
        req.respond(200, answer_body(results, chunked=self.chunked),
                    content_type="application/json; charset=utf-8")

    # -- Bing News ----------------------------------------------------------------------------

    def _bing(self) -> None:
        srv = self.sites["bing"]
        srv.add("/robots.txt", ALLOW_ALL, content_type="text/plain")
        srv.add_handler("/news/apiclick.aspx", _bing_click)
        rows = []
        targets: list[tuple[str, str | None]] = [
            (s, self.pages[s] + ("?utm_source=bing" if s == "en1" else ""))
            for s in self.bing_items]
        targets.append(("off_en", None))
        for i, (story, target) in enumerate(targets):
            link = bing_link(self.bing_base, target, f"{self._secret}{i}")
            rows.append(f"<item><title>{escape(headline(story))}</title>"
                        f"<link>{escape(link)}</link><description>...</description>"
                        "<pubDate>Sat, 22 Nov 2025 07:30:00 GMT</pubDate>"
                        "<News:Source>Publisher</News:Source></item>")
        srv.add("/news/search", '<?xml version="1.0" encoding="utf-8" ?><rss version="2.0" '
                'xmlns:News="https://www.bing.com:443/news/search?q=musk+altman&amp;format=rss">'
                "<channel><title>musk altman - BingNews</title>"
                f"<link>{self.bing_base}/news/search?q=musk+altman</link>"
                "<description>Search results</description><copyright>Copyright © 2025 "
                "Microsoft. All rights reserved.</copyright>" + "".join(rows)
                + "</channel></rss>", content_type="application/rss+xml; charset=utf-8")


def headline(key: str) -> str:
    """The headline a feed lists ``key`` under (a story's title, or a ``gated`` page's)."""
    return GATED[key][1] if key in GATED else str(STORIES[key]["title"])


def publisher(key: str) -> str:
    """The site that publishes ``key`` (``plain`` for the aggregators' off-topic items)."""
    return "gated" if key in GATED else PUBLISHED.get(key, "plain")


def answer_body(results: list[tuple[str, str | None]], *, chunked: bool = False) -> str:
    """A batchexecute answer: a ``garturlres`` row per resolved ``(request id, URL)``, an
    error row for an id left unresolved, then the bookkeeping rows; one JSON array, or
    (``chunked``, the ``rt=c`` form) one length-prefixed chunk per row."""
    rows: list[list[Any]] = []
    for rid, url in results:
        if url is None:
            rows.append(["wrb.fr", "Fbv4je", None, None, None, [3], rid])
        else:
            rows.append(["wrb.fr", "Fbv4je", json.dumps(["garturlres", url, 1]), None, None,
                         None, rid])
    rows += [["di", 57], ["af.httprm", 56, "-1813012338291024291", 12]]
    if not chunked:
        return ")]}'\n\n" + json.dumps(rows)
    parts = [json.dumps([row]) for row in rows]
    return ")]}'\n\n" + "".join(f"{len(p)}\n{p}\n" for p in parts)


def _redirect(location: str) -> Any:
    def fn(req: LoopbackRequest) -> None:
        req.respond(302, b"", headers={"Location": location}, content_type=None)
    return fn


def _bing_click(req: LoopbackRequest) -> None:
    target = parse_qs(req.query).get("url", [""])[0]
    req.respond(302, b"", headers={"Location": target or "/"}, content_type=None)


class HostMap(httpx.AsyncBaseTransport):
    """Sends requests for some hosts to loopback servers, as a DNS entry would; the
    response still names the host asked for (the fetcher sees the real URL)."""

    def __init__(self, hosts: dict[str, str]) -> None:
        self.hosts = {h: httpx.URL(base) for h, base in hosts.items()}
        self._inner = httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        base = self.hosts.get(request.url.host)
        if base is None:
            return await self._inner.handle_async_request(request)
        url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
        forwarded = httpx.Request(request.method, url, headers=request.headers,
                                  stream=request.stream, extensions=request.extensions)
        return await self._inner.handle_async_request(forwarded)

    async def aclose(self) -> None:
        await self._inner.aclose()
