"""The soak web: four loopback news sites that grow every cycle and misbehave on purpose.

``bench/soak.py`` runs the service for many cycles against this web. Each
cycle every site publishes new articles (text from :mod:`soak_text`) and
lists its latest ones in its source: ``alpha`` an RSS 2.0 feed (English),
``beta`` an Atom feed (French), ``gamma`` a JSON Feed carrying syndicated
copies of the other sites' stories plus its own, ``delta`` a Google News
sitemap (both languages). A share of article pages fail in issue 6's ways:
connection resets, answers slower than the client's deadline, endless slow
drips, 500/503/429 (with Retry-After), redirect loops and chains, endless
and gzip-bomb bodies, truncated bodies, empty bodies, 404/410 and PDF or
image content. Transient failures stop after one to three attempts (some
never do); 404/410/PDF/image are permanent. Healthy pages come with quirks
the service must survive and still store: wrong or missing charsets,
malformed HTML, gzip, chunked bodies. Sources and robots.txt fail on some
cycles too (503, 429, resets, timeouts, truncated XML, garbage, entity
expansion, external entities).

The web runs in a child process (``WebProcess``) so the soak measures the
service's memory alone; the child keeps a ledger of what each page served,
in particular the cycle in which it first served valid HTML::

    with WebProcess(Plan(fail_share=0.2)) as web:
        web.sources                  # [(name, kind, url), ...]
        web.start_cycle(1)           # publish cycle 1's articles
        ...
        ledger = web.ledger()        # {url: PageRecord}
"""

from __future__ import annotations

import functools
import gzip
import multiprocessing
import random
import sys
import threading
import zlib
from dataclasses import asdict, dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from soak_feeds import ROBOTS_FAULTS, SOURCE_FAULTS, render_source
from soak_text import Story, article_html, make_story

from loopback import LoopbackRequest, LoopbackServer

TRANSIENT = ("reset", "timeout", "slow_drip", "status_500", "status_503", "status_429",
             "redirect_loop", "redirect_chain", "huge", "gzip_bomb", "truncated", "empty")
PERMANENT = ("status_404", "status_410", "pdf", "image")
QUIRKS = ("plain", "plain", "plain", "wrong_charset", "undeclared_cp1252", "malformed",
          "gzip", "chunked")
SITES: tuple[tuple[str, str, str], ...] = (  # name, source kind, languages
    ("alpha", "feed", "en"), ("beta", "feed", "fr"), ("gamma", "feed", "en fr"),
    ("delta", "sitemap", "en fr"))


@dataclass(frozen=True, slots=True)
class Plan:
    """The web's shape; same plan and seed, same web, request for request."""

    per_cycle: int = 10  # new articles per site and cycle
    window: int = 60  # items a source lists: the latest six cycles' worth
    fail_share: float = 0.2
    off_topic_share: float = 0.08
    copy_share: float = 0.35  # of gamma's articles: copies of alpha/beta stories
    never_recovers: float = 0.2  # of transient failures
    client_timeout: float = 2.0
    max_page_bytes: int = 2_000_000
    seed: int = 1


@dataclass(frozen=True, slots=True)
class PageRecord:
    """One article page: what it is, how it fails, and what it served."""

    site: str
    path: str
    story: str
    lang: str
    on_topic: bool
    copy_of: str | None
    published: int
    fault: str  # "ok" or a TRANSIENT/PERMANENT kind
    fail_times: int  # failing attempts before it recovers; -1: never
    quirk: str
    attempts: int = 0
    first_valid: int | None = None


def plan_page(plan: Plan, site: str, langs: str, cycle: int, k: int) -> PageRecord:
    """Article ``k`` of ``site`` published in ``cycle``: language, copy, fault, quirk.

    Pure and seeded, so the bench can recompute any page's plan afterwards::

        plan_page(Plan(), "gamma", "en fr", 3, 0).copy_of   # e.g. "alpha-2-4"
    """
    rng = random.Random(f"{plan.seed}:{site}:{cycle}:{k}")
    lang = rng.choice(langs.split())
    copy_of = None
    if site == "gamma" and rng.random() < plan.copy_share and cycle > 1:
        src_site = rng.choice(("alpha", "beta"))
        src_cycle, src_k = rng.randint(max(1, cycle - 2), cycle - 1), rng.randrange(plan.per_cycle)
        copy_of, lang = f"{src_site}-{src_cycle}-{src_k}", "en" if src_site == "alpha" else "fr"
    fault, fail_times = "ok", 0
    if rng.random() < plan.fail_share:
        fault = rng.choice(TRANSIENT * 3 + PERMANENT)
        fail_times = -1 if fault in PERMANENT or rng.random() < plan.never_recovers \
            else rng.randint(1, 3)
    on_topic = copy_of is not None or rng.random() >= plan.off_topic_share
    key = f"{site}-{cycle}-{k}"
    return PageRecord(site, f"/news/{key}.html", copy_of or key, lang,
                      on_topic and _topic_of(copy_of, plan), copy_of, cycle, fault, fail_times,
                      rng.choice(QUIRKS))


def _topic_of(copy_of: str | None, plan: Plan) -> bool:
    """A copy is on topic exactly when the story it copies is."""
    if copy_of is None:
        return True
    site, cycle, k = copy_of.split("-")
    langs = dict((s, lg) for s, _, lg in SITES)[site]
    return plan_page(plan, site, langs, int(cycle), int(k)).on_topic


def cycle_fault(plan: Plan, what: str, site: str, cycle: int) -> str:
    """The fault of a site's ``source`` or ``robots`` answers during ``cycle`` ("ok": none).

    Which cycles fail is random (seeded); each site's kinds go round robin
    over its failing cycles (``SOURCE_FAULTS``), hostile parser inputs first.
    """
    return _fault_schedule(plan, what).get((cycle, site), "ok")


@functools.cache
def _fault_schedule(plan: Plan, what: str, horizon: int = 1000) -> dict[tuple[int, str], str]:
    share = plan.fail_share if what == "source" else plan.fail_share / 4
    rng = random.Random(f"{plan.seed}:{what}")
    schedule: dict[tuple[int, str], str] = {}
    for site, _, _ in SITES:
        faults = SOURCE_FAULTS[site] if what == "source" else ROBOTS_FAULTS
        slots = [c for c in range(1, horizon + 1) if rng.random() < share]
        schedule.update({(c, site): faults[i % len(faults)] for i, c in enumerate(slots)})
    return schedule


def planted_source_faults(plan: Plan, cycles: int) -> list[str]:
    """Every source and robots.txt fault the web serves in ``cycles`` cycles."""
    return [f"c{c} {site} {what} {fault}" for c in range(1, cycles + 1)
            for site, _, _ in SITES for what in ("robots", "source")
            if (fault := cycle_fault(plan, what, site, c)) != "ok"]


def story_of(page: PageRecord, seed: int) -> Story:
    story = make_story(page.story, lang=page.lang, on_topic=page.on_topic, seed=seed)
    if page.copy_of is None:
        return story
    extra = ("Cet article a d'abord été publié par nos partenaires." if page.lang == "fr"
             else "This story was first published by our partners.")
    return replace(story, title=f"{story.title} (wire)", paragraphs=(*story.paragraphs, extra))


class SoakWeb:
    """The four sites and the ledger; lives in the web process."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.cycle = 0
        self.lock = threading.Lock()
        self.pages: dict[str, PageRecord] = {}  # url -> record
        self.listed: dict[str, list[str]] = {name: [] for name, _, _ in SITES}
        self.sites = {name: LoopbackServer().start() for name, _, _ in SITES}
        self.bomb = _gzip_zeros(plan.max_page_bytes * 25)
        for name, srv in self.sites.items():
            srv.add_handler("/robots.txt", functools.partial(self._robots, site=name))
            srv.add_handler(self.source_path(name), functools.partial(self._source, site=name))

    @staticmethod
    def source_path(site: str) -> str:
        return {"alpha": "/feed.xml", "beta": "/atom.xml", "gamma": "/feed.json",
                "delta": "/sitemap-news.xml"}[site]

    @property
    def sources(self) -> list[tuple[str, str, str]]:
        return [(n, kind, self.sites[n].url(self.source_path(n))) for n, kind, _ in SITES]

    def start_cycle(self, cycle: int) -> None:
        with self.lock:
            self.cycle = cycle
        for name, _, langs in SITES:
            for k in range(self.plan.per_cycle):
                page = plan_page(self.plan, name, langs, cycle, k)
                url = self.sites[name].url(page.path)
                with self.lock:
                    self.pages[url] = page
                    self.listed[name].append(url)
                self.sites[name].add_handler(page.path, functools.partial(self._page, url=url))

    def stop(self) -> None:
        for srv in self.sites.values():
            srv.stop()

    def _robots(self, req: LoopbackRequest, site: str) -> None:
        fault = cycle_fault(self.plan, "robots", site, self.cycle)
        if fault == "status_503":
            req.respond(503, "busy", content_type="text/plain")
        elif fault == "timeout":
            _too_late(req, self.plan)
        elif self.cycle % 2:
            req.respond(200, "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        else:
            req.respond(404, "no robots", content_type="text/plain")

    def _source(self, req: LoopbackRequest, site: str) -> None:
        with self.lock:
            urls = self.listed[site][-self.plan.window:]
            items = [(u, self.pages[u]) for u in reversed(urls)]
        fault = cycle_fault(self.plan, "source", site, self.cycle)
        titles = [(u, story_of(p, self.plan.seed).title, p.published) for u, p in items]
        render_source(req, site, titles, fault, self.cycle, self.bomb,
                      lambda: _too_late(req, self.plan))

    def _page(self, req: LoopbackRequest, url: str) -> None:
        if req.query:
            _redirect_hop(req)
            return
        with self.lock:
            page = self.pages[url]
            page = self.pages[url] = replace(page, attempts=page.attempts + 1)
        failing = page.fault != "ok" and (page.fail_times < 0 or
                                          page.attempts <= page.fail_times)
        if failing:
            _fail(req, page.fault, self.plan, self.bomb)
            return
        _serve_valid(req, page, story_of(page, self.plan.seed))
        with self.lock:
            if self.pages[url].first_valid is None:
                self.pages[url] = replace(self.pages[url], first_valid=self.cycle)

    def ledger(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {url: asdict(p) for url, p in self.pages.items()}


def _serve_valid(req: LoopbackRequest, page: PageRecord, story: Story) -> None:
    quirk, site = page.quirk, page.site
    if quirk == "wrong_charset":  # UTF-8 bytes, header and meta claim Latin-1
        html = article_html(story, site, charset_meta="iso-8859-1")
        req.respond(200, html.encode(), content_type="text/html; charset=iso-8859-1")
    elif quirk == "undeclared_cp1252":  # no charset anywhere, not UTF-8
        html = article_html(story, site, charset_meta=None)
        req.respond(200, html.encode("cp1252", "replace"), content_type="text/html")
    elif quirk == "gzip":
        data = gzip.compress(article_html(story, site).encode())
        req.respond(200, data, headers={"Content-Encoding": "gzip"})
    elif quirk == "chunked":  # no length: the body ends when the connection closes
        req.send_head(200, {"Content-Type": "text/html; charset=utf-8"})
        data = article_html(story, site).encode()
        for i in range(0, len(data), 700):
            req.write(data[i:i + 700])
    else:
        req.respond(200, article_html(story, site, malformed=quirk == "malformed"))


def _fail(req: LoopbackRequest, fault: str, plan: Plan, bomb: bytes) -> None:
    if fault == "reset":
        req.reset()
    elif fault == "timeout":
        _too_late(req, plan)
    elif fault == "slow_drip":
        req.send_head(200, {"Content-Type": "text/html"})
        for _ in range(int(plan.client_timeout * 6)):
            if not req.sleep(0.5):
                return
            req.write(b"<p>.")
    elif fault.startswith("status_"):
        code = int(fault.removeprefix("status_"))
        retry = {"Retry-After": "1"} if code in (429, 503) else {}
        req.respond(code, "error", headers=retry, content_type="text/plain")
    elif fault in ("redirect_loop", "redirect_chain"):
        first = "loop=a" if fault == "redirect_loop" else "hop=1"
        req.respond(302, b"", headers={"Location": f"{req.path}?{first}"}, content_type=None)
    else:
        _fail_body(req, fault, plan, bomb)


def _fail_body(req: LoopbackRequest, fault: str, plan: Plan, bomb: bytes) -> None:
    if fault == "huge":
        req.send_head(200, {"Content-Type": "text/html"})
        block = b"<p>" + b"x" * 65533
        for _ in range(plan.max_page_bytes * 3 // len(block)):
            req.write(block)
    elif fault == "gzip_bomb":
        req.respond(200, bomb, headers={"Content-Encoding": "gzip"})
    elif fault == "truncated":  # promises more bytes than it sends, then hangs up
        req.send_head(200, {"Content-Type": "text/html", "Content-Length": "90000"})
        req.write(b"<!doctype html><html><body><article><p>Musk and OpenAI " * 20)
        req.handler.close_connection = True
    elif fault == "empty":
        req.respond(200, b"")
    elif fault == "pdf":
        req.respond(200, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                    content_type="application/pdf")
    elif fault == "image":
        req.respond(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")
    else:
        raise ValueError(f"unknown fault {fault}")


def _redirect_hop(req: LoopbackRequest) -> None:
    """``?loop=a`` <-> ``?loop=b`` forever; ``?hop=N`` -> ``?hop=N+1`` up to 20."""
    if req.query.startswith("loop="):
        target = "loop=b" if req.query == "loop=a" else "loop=a"
    else:
        target = f"hop={min(20, int(req.query.removeprefix('hop=') or 0) + 1)}"
    req.respond(302, b"", headers={"Location": f"{req.path}?{target}"}, content_type=None)


def _too_late(req: LoopbackRequest, plan: Plan) -> None:
    """Answer only after the client's total deadline has passed."""
    if req.sleep(plan.client_timeout + 1.0):
        req.respond(200, "too late", content_type="text/plain")


def _gzip_zeros(size: int) -> bytes:
    """A gzip body of ``size`` zero bytes (about size/1000 on the wire)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * 1_000_000
    parts = [comp.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, comp.flush()])


# --- the web process and its control pipe ---


def _serve(plan: Plan, conn: Connection) -> None:
    web = SoakWeb(plan)
    conn.send(web.sources)
    while True:
        command, arg = conn.recv()
        if command == "cycle":
            web.start_cycle(arg)
            conn.send(None)
        elif command == "ledger":
            conn.send(web.ledger())
        else:
            web.stop()
            conn.send(None)
            return


class WebProcess:
    """:class:`SoakWeb` in a forked child process, driven over a pipe."""

    def __init__(self, plan: Plan) -> None:
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(plan, child), name="soak-web",
                                daemon=True)
        self.proc.start()
        child.close()
        self.sources: list[tuple[str, str, str]] = self._conn.recv()

    @property
    def pid(self) -> int:
        return int(self.proc.pid or 0)

    def start_cycle(self, cycle: int) -> None:
        self._conn.send(("cycle", cycle))
        self._conn.recv()

    def ledger(self) -> dict[str, dict[str, Any]]:
        self._conn.send(("ledger", None))
        result: dict[str, dict[str, Any]] = self._conn.recv()
        return result

    def close(self) -> None:
        if self.proc.is_alive():
            self._conn.send(("stop", None))
            self._conn.recv()
            self.proc.join(timeout=10)

    def __enter__(self) -> WebProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
