"""A deterministic loopback news web for many workers on one store, with its ground truth.

Why it exists: several worker processes share one PostgreSQL store (issue 14), and
the acceptance test must show that they, together, make what one worker alone makes:
every story kept once, every page fetched once, no source visited by two workers at
once. This web is built for that: ``sites`` sites (each a :class:`LoopbackServer`,
each with its own RSS feed, one source per site), and ``stories`` stories of generated
English text (a seeded generator over a word list, so two stories share almost no
five-word shingles). A story is published on one *origin* site; a share of them is
syndicated on 1-3 other sites at the same moment (every feed lists its items from the
start), either as an exact copy (same text, another site's template) or as a near copy
(another headline, a short intro sentence before the text and a short line after it:
well over 90% of the text kept, so every two versions of a story, copies of copies
included, stay far above the near-duplicate threshold). The rest are unique stories.

Each request may wait a random latency (uniform in ``latency`` seconds for article
pages, ``feed_latency`` for feeds; robots.txt answers at once) in the handler; the
servers are threaded, so concurrent requests wait concurrently. Every request is
logged with its site, path, User-Agent and start/end times (:class:`Hit`, once
answered; :meth:`ClusterWeb.requested` counts requests on arrival): give each
worker its own ``user_agent`` in :meth:`ClusterWeb.config_text` and the log says who
fetched what, and when::

    with ClusterWeb(sites=6, stories=40, latency=(0.02, 0.06)) as web:
        path.write_text(web.config_text("postgresql://...", user_agent="test (w1)"))
        ...  # run the workers
        assert web.partition() == partition_read_from_the_store
        assert max(web.fetch_counts().values()) == 1
        web.hits(agent="(w1)")       # what worker w1 requested

Nothing here is shared with the other test webs: text, templates and names are all
generated from ``seed``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from itertools import pairwise
from typing import Literal

from loopback import Handler, LoopbackRequest, LoopbackServer
from newsweb import rss

# Neutral content words: no month or day names, no share/byline/boilerplate cue words
# (see ingest/clean/lexicon.py), so the cleaner keeps every generated sentence.
_CONTENT = """
harbour council bridge engineer river budget tunnel station village farmer orchard
library museum garden factory market ferry railway airport island valley forest canal
mountain coast island lighthouse quarry vineyard meadow pasture reservoir pipeline
turbine battery copper timber granite cement fabric cotton leather pottery glass
grain wheat barley rice coffee cocoa sugar salt pepper honey cheese butter bread
fisherman teacher nurse surgeon pilot sailor miner mason baker tailor clerk judge
mayor minister senator governor auditor inspector architect planner surveyor
chemist biologist geologist astronomer historian linguist painter sculptor violinist
choir orchestra theatre stadium arena festival parade carnival exhibition auction
contract treaty statute charter ledger invoice tariff subsidy pension mortgage loan
profit deficit surplus revenue dividend shareholder creditor supplier retailer
warehouse depot terminal runway platform corridor avenue boulevard plaza square
district province county parish borough suburb hamlet township capital frontier
storm flood drought frost heatwave glacier volcano earthquake landslide tide
cargo freight container tanker barge trawler yacht schooner locomotive carriage
tram bicycle scooter lorry tractor excavator crane drill pump valve boiler furnace
kiln mill loom press forge anvil chisel hammer ladder scaffold beam girder rivet
census survey ballot petition inquiry hearing verdict appeal tribunal commission
committee assembly delegation embassy consulate ministry agency bureau department
vaccine clinic hospital pharmacy ambulance laboratory microscope telescope satellite
rocket engine propeller sensor antenna cable signal beacon compass lantern
orchard greenhouse nursery hedge fence gate barn stable silo windmill dam weir
"""
_VERBS = """
approved rejected delayed announced reopened inspected repaired expanded reduced
doubled measured recorded surveyed funded financed audited restored rebuilt
painted mapped drained flooded harvested shipped loaded unloaded delivered priced
negotiated signed ratified debated postponed cancelled launched tested upgraded
replaced installed dismantled relocated renamed merged split leased purchased
exported imported stored weighed counted sorted graded packed sealed welded
carved polished insulated ventilated irrigated fertilised pruned planted sheltered
"""
_ADJECTIVES = """
northern southern eastern western coastal inland rural urban municipal regional
national provincial annual quarterly seasonal weekly temporary permanent modest
ambitious costly cheap narrow wide shallow deep heavy light ancient modern rusty
sturdy fragile quiet crowded empty busy remote nearby famous obscure wooden
concrete stone brick steel iron silver golden green yellow grey pale bright dim
"""
_FUNCTION = ("the", "the", "the", "of", "of", "and", "and", "to", "in", "a", "with", "for", "on",
             "by", "near", "from", "under", "over")
CONTENT_WORDS = tuple(sorted(set(_CONTENT.split())))
VERBS = tuple(sorted(set(_VERBS.split())))
ADJECTIVES = tuple(sorted(set(_ADJECTIVES.split())))
_SYLLABLES = ("ka", "lo", "mer", "vin", "dar", "sel", "tor", "ban", "rin", "quo", "zel",
              "fa", "nor", "bel", "cas", "del", "mon", "ter", "vol", "gra")

Kind = Literal["origin", "exact", "near", "unique"]


@dataclass(frozen=True)
class Page:
    """One article page: where it is, which story it carries and how."""

    site: str
    path: str
    url: str
    story: str
    kind: Kind
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """One request as a site saw it (times are ``time.time()`` seconds)."""

    site: str
    path: str
    url: str
    agent: str
    start: float
    end: float


@dataclass
class _Site:
    name: str
    server: LoopbackServer
    label: str  # the site's display name in its template
    pages: list[Page] = field(default_factory=list)


class ClusterWeb:
    """``sites`` loopback sites with one RSS feed each, ``stories`` stories on them.

    ``syndicated``: the share of stories copied on other sites (1 to ``max_copies``
    copies each); ``near``: the share of those copies that are near copies rather
    than exact ones. ``latency`` / ``feed_latency``: (low, high) seconds each article
    page / feed request waits before answering (``feed_latency`` defaults to
    ``latency``).
    """

    def __init__(self, sites: int = 6, stories: int = 40, *, seed: int = 14,
                 syndicated: float = 0.6, near: float = 0.5, max_copies: int = 3,
                 words: tuple[int, int] = (200, 260),
                 latency: tuple[float, float] = (0.0, 0.0),
                 feed_latency: tuple[float, float] | None = None) -> None:
        if sites < 2 or stories < 1:
            raise ValueError("a cluster web needs at least 2 sites and 1 story")
        self.seed = seed
        self.latency = latency
        self.feed_latency = latency if feed_latency is None else feed_latency
        self._rng = random.Random(seed)
        self._delay_rng = random.Random(seed + 1)
        self._lock = threading.Lock()
        self._hits: list[Hit] = []  # completed requests
        self._arrivals: list[tuple[str, str]] = []  # (url, agent) of every request, on arrival
        self._sites: list[_Site] = []
        names = _site_names(self._rng, sites)
        for name in names:
            server = LoopbackServer()
            self._sites.append(_Site(name, server, _title_case(name) + " " + self._rng.choice(
                ("Courier", "Ledger", "Post", "Gazette", "Tribune", "Observer", "Herald"))))
        self.pages: dict[str, Page] = {}  # url -> page
        self.stories: dict[str, list[str]] = {}  # story id -> its pages' URLs, origin first
        self.sources: list[tuple[str, str, str]] = []  # (name, kind, url) per site
        self.feed_urls: dict[str, str] = {}  # source name -> feed URL
        self.source_of: dict[str, str] = {}  # page URL -> the source listing it
        self._build(stories, syndicated, near, max_copies, words)

    # --- lifecycle ---

    def start(self) -> ClusterWeb:
        for site in self._sites:
            site.server.start()
        return self

    def stop(self) -> None:
        for site in self._sites:
            site.server.stop()

    def __enter__(self) -> ClusterWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- configuration ---

    def config_text(self, store_url: str, *, extra: str = "",
                    user_agent: str = "newsdedup-cluster-test/1.0 (+https://example.org/t)",
                    fetch: str = "", interval_minutes: float | None = None) -> str:
        """A configuration for one worker: PostgreSQL store ``store_url``, topic filter
        off, private addresses allowed, no per-host delay, every site as a feed source.
        ``fetch`` is more lines of the ``[fetch]`` table (``"concurrency = 4"``);
        ``extra`` is TOML placed before the sources (whole tables, e.g. ``[cluster]``
        or ``[schedule]``); it may not repeat ``[store]``, ``[fetch]``, ``[topic]``."""
        interval = "" if interval_minutes is None else f"interval_minutes = {interval_minutes}\n"
        sources = "".join(f'\n[[sources]]\nname = "{n}"\nkind = "{k}"\nurl = "{u}"\n{interval}'
                          for n, k, u in self.sources)
        return (f'[store]\nurl = "{store_url}"\n'
                f'[fetch]\nuser_agent = "{user_agent}"\n'
                "per_host_delay_seconds = 0\ntimeout_seconds = 20\n"
                f"allow_private_addresses = true\n{fetch.strip()}\n"
                f"[topic]\nall_of = []\n{extra}\n{sources}")

    # --- ground truth ---

    @property
    def article_urls(self) -> set[str]:
        return set(self.pages)

    def partition(self) -> set[frozenset[str]]:
        """What a correct crawl makes of this web: one record per story, its URLs."""
        return {frozenset(urls) for urls in self.stories.values()}

    def story_of(self, url: str) -> str:
        return self.pages[url].story

    def site_pages(self, source: str) -> list[str]:
        """The article URLs a source's feed lists."""
        return [url for url, name in self.source_of.items() if name == source]

    # --- request log ---

    def hits(self, agent: str | None = None, *, since: float = 0.0) -> list[Hit]:
        """Requests so far (whose User-Agent contains ``agent``, started at ``since`` or
        later), in order of arrival."""
        with self._lock:
            hits = list(self._hits)
        return [h for h in hits
                if (agent is None or agent in h.agent) and h.start >= since]

    def requested(self, agent: str | None = None) -> set[str]:
        """URLs requested so far, answered or not yet (a request counts on arrival)."""
        with self._lock:
            arrivals = list(self._arrivals)
        return {url for url, who in arrivals if agent is None or agent in who}

    def fetch_counts(self, agent: str | None = None, *, since: float = 0.0) -> Counter[str]:
        """How many times each article page was requested (pages never requested: 0)."""
        counts: Counter[str] = Counter({url: 0 for url in self.pages})
        counts.update(h.url for h in self.hits(agent, since=since) if h.url in self.pages)
        return counts

    def feed_hits(self, source: str, agent: str | None = None) -> list[Hit]:
        feed = self.feed_urls[source]
        return [h for h in self.hits(agent) if h.url == feed]

    # --- building ---

    def _build(self, n_stories: int, syndicated: float, near: float, max_copies: int,
               words: tuple[int, int]) -> None:
        rng = self._rng
        for number in range(1, n_stories + 1):
            story = f"s{number:03d}"
            paragraphs = _story(rng, rng.randint(*words))
            origin = rng.choice(self._sites)
            title = _headline(rng)
            shared = rng.random() < syndicated
            kind: Kind = "origin" if shared else "unique"
            urls = [self._add_page(origin, story, kind, title, paragraphs)]
            if shared:
                others = [s for s in self._sites if s is not origin]
                for site in rng.sample(others, rng.randint(1, min(max_copies, len(others)))):
                    if rng.random() < near:
                        copy = (_sentence(rng, 4, 5), *paragraphs, _sentence(rng, 4, 5))
                        urls.append(self._add_page(site, story, "near", _headline(rng), copy))
                    else:
                        urls.append(self._add_page(site, story, "exact", title, paragraphs))
            self.stories[story] = urls
        for site in self._sites:
            rng.shuffle(site.pages)  # each feed in its own order
            self._serve(site)

    def _add_page(self, site: _Site, story: str, kind: Kind, title: str,
                  paragraphs: tuple[str, ...]) -> str:
        path = f"/{site.name}/{story}-{_slug(title)}.html"
        page = Page(site.name, path, site.server.url(path), story, kind, title, paragraphs)
        site.pages.append(page)
        self.pages[page.url] = page
        return page.url

    def _serve(self, site: _Site) -> None:
        srv = site.server
        srv.add_handler("/robots.txt", self._handler(
            site, "User-agent: *\nAllow: /\n", "text/plain", (0.0, 0.0)))
        for page in site.pages:
            srv.add_handler(page.path, self._handler(
                site, _article_html(site, page), "text/html; charset=utf-8", self.latency))
            self.source_of[page.url] = site.name
        feed = rss([(p.title, p.url) for p in site.pages])
        srv.add_handler("/feed.xml", self._handler(site, feed, "application/rss+xml",
                                                   self.feed_latency))
        self.sources.append((site.name, "feed", srv.url("/feed.xml")))
        self.feed_urls[site.name] = srv.url("/feed.xml")

    def _handler(self, site: _Site, body: str, content_type: str,
                 latency: tuple[float, float]) -> Handler:
        data = body.encode("utf-8")

        def answer(req: LoopbackRequest) -> None:
            start = time.time()
            url, agent = site.server.url(req.path), req.headers.get("User-Agent") or ""
            with self._lock:
                self._arrivals.append((url, agent))
            try:
                low, high = latency
                if high > 0:
                    with self._lock:
                        wait = self._delay_rng.uniform(low, high)
                    if not req.sleep(wait):
                        return
                req.respond(200, data, content_type=content_type)
            finally:  # logged even when the client went away meanwhile
                hit = Hit(site.name, req.path, url, agent, start, time.time())
                with self._lock:
                    self._hits.append(hit)
        return answer


def _site_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        if name not in names:
            names.append(name)
    return names


def _title_case(word: str) -> str:
    return word[:1].upper() + word[1:]


def _sentence(rng: random.Random, low: int, high: int) -> str:
    """``low``..``high`` words: mostly content words, some function words."""
    words: list[str] = []
    for _ in range(rng.randint(low, high)):
        roll = rng.random()
        if roll < 0.25:
            words.append(rng.choice(_FUNCTION))
        elif roll < 0.40:
            words.append(rng.choice(VERBS))
        elif roll < 0.55:
            words.append(rng.choice(ADJECTIVES))
        else:
            words.append(rng.choice(CONTENT_WORDS))
    return _title_case(" ".join(words)) + "."


def _story(rng: random.Random, n_words: int) -> tuple[str, ...]:
    """About ``n_words`` words in sentences of 9-18 words, cut into 3-5 paragraphs."""
    sentences: list[str] = []
    total = 0
    while total < n_words:
        sentence = _sentence(rng, 9, 18)
        sentences.append(sentence)
        total += len(sentence.split())
    n_paragraphs = min(len(sentences), rng.randint(3, 5))
    cuts = sorted(rng.sample(range(1, len(sentences)), n_paragraphs - 1))
    bounds = [0, *cuts, len(sentences)]
    return tuple(" ".join(sentences[a:b]) for a, b in pairwise(bounds))


def _headline(rng: random.Random) -> str:
    return _title_case(" ".join([rng.choice(ADJECTIVES), rng.choice(CONTENT_WORDS),
                                 rng.choice(VERBS), rng.choice(("in", "near", "by", "for")),
                                 rng.choice(ADJECTIVES), rng.choice(CONTENT_WORDS)]))


def _slug(title: str) -> str:
    return "-".join(title.lower().split()[:4])


def _article_html(site: _Site, page: Page) -> str:
    """A whole page in the site's template: navigation, byline, the text, a footer."""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in page.paragraphs)
    label = escape(site.label)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(page.title)} | {label}</title>
</head><body>
<header><div class="brand"><a href="/">{label}</a></div>
<nav><a href="/{site.name}/local">Local</a> <a href="/{site.name}/business">Business</a>
<a href="/{site.name}/weather">Weather</a></nav></header>
<main><article><h1>{escape(page.title)}</h1>
{body}
</article></main>
<footer><p>{label}, {len(site.name)} {escape(site.name)} street.</p></footer>
</body></html>"""
