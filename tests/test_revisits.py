"""Adaptive cadence and silent corrections, over simulated days (issue 16, parts 5 and 6).

Three loopback sites whose feeds follow an injected clock: ``busy`` publishes a story
every 10 minutes, ``quiet`` one a day, ``limited`` one an hour and answers its first
feed request after hour 6 with ``429`` and ``Retry-After: 7200``. Every feed entry
keeps the same date forever, so a corrected article is never announced: the first
``quiet`` story is corrected at hour 3. The daemon is simulated as it runs: one job
per source, every ``tick_minutes``, each a cycle that honours backoff and cadence,
the clock moved between cycles. Pages answer conditional GETs (ETag of their text).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.config import Config, load_config_text
from ingest.dedup.stored import index_for
from ingest.fetch.fetcher import Fetcher
from ingest.pipeline.cycle import Pipeline
from ingest.pipeline.process import PageJob, process_page, processed_page
from ingest.pipeline.schedule import tick_minutes
from ingest.types import CleanedArticle, Paragraph, ProcessedPage
from loopback import LoopbackRequest, LoopbackServer
from newsweb import STORIES, rss
from report.data import ReportFilters, load_report
from report.formats import report_dict
from store.backends import open_store
from store.protocol import Storage
from store.queries import stats

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
DAYS = 2
CORRECTED_AT = timedelta(hours=3)
LIMITED_AT = timedelta(hours=6)
RETRY_AFTER = timedelta(hours=2)
BUDGET = 3
AFTER_HOURS = (1, 6, 24)


class SimWeb:
    """The three sites; every request is logged with the simulated time it came at."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.sites = {name: LoopbackServer() for name in ("busy", "quiet", "limited")}
        self.every = {"busy": timedelta(minutes=10), "quiet": timedelta(days=1),
                      "limited": timedelta(hours=1)}
        self.log: list[tuple[datetime, str, str, int]] = []  # (when, site, path, status)
        self.limited_done = False

    def __enter__(self) -> SimWeb:
        for name, srv in self.sites.items():
            srv.__enter__()
            srv.add("/robots.txt", "User-agent: *\nDisallow: /private/\n",
                    content_type="text/plain")
            srv.add_handler("/feed.xml", self._feed(name))
            for k in range(DAYS * 24 * 6 + 1):  # every story that can exist in the run
                srv.add_handler(f"/a/{k}", self._article(name, k))
        return self

    def __exit__(self, *exc: object) -> None:
        for srv in self.sites.values():
            srv.__exit__(*exc)

    def published(self, name: str) -> int:
        """How many stories ``name`` has published by now."""
        return (self.clock() - T0) // self.every[name] + 1

    def _feed(self, name: str) -> Callable[[LoopbackRequest], None]:
        def answer(req: LoopbackRequest) -> None:
            now = self.clock()
            if name == "limited" and now >= T0 + LIMITED_AT and not self.limited_done:
                self.limited_done = True
                self.log.append((now, name, req.path, 429))
                req.respond(429, "slow down", headers={"Retry-After": "7200"},
                            content_type="text/plain")
                return
            self.log.append((now, name, req.path, 200))
            newest = self.published(name)
            items = [(f"{name} story {k}", self.sites[name].url(f"/a/{k}"))
                     for k in range(max(0, newest - 20), newest)]
            req.respond(200, rss(items[::-1]), content_type="application/rss+xml")
        return answer

    def _article(self, name: str, k: int = 0) -> Callable[[LoopbackRequest], None]:
        def answer(req: LoopbackRequest) -> None:
            now = self.clock()
            text = self.text(name, k, now)
            etag = '"' + hashlib.sha1(text.encode()).hexdigest()[:16] + '"'
            if req.headers.get("if-none-match") == etag:
                self.log.append((now, name, req.path, 304))
                req.respond(304, b"", headers={"ETag": etag}, content_type=None)
                return
            self.log.append((now, name, req.path, 200))
            body = "".join(f"<p>{p}</p>" for p in text.split("\n"))
            req.respond(200, f"<html><head><title>{name} {k}</title></head><body>{body}"
                             "</body></html>", headers={"ETag": etag})
        return answer

    @staticmethod
    def text(name: str, k: int, now: datetime) -> str:
        lines = [f"The {name} desk filed story number {k} about the Oakland courtroom.",
                 f"Witnesses for story {k} of {name} described the founding years at length.",
                 f"Lawyers for both founders argued about story {k} from {name} until noon."]
        if name == "quiet" and k == 0 and now >= T0 + CORRECTED_AT:
            lines[1] = "Correction: an earlier version misstated the witness's role entirely."
        return "\n".join(lines)


async def _paragraphs(job: PageJob) -> ProcessedPage:
    """The worker's part, reduced to what these tests need: each ``<p>`` a paragraph."""
    html = job.body.decode()
    title = re.search(r"<title>(.*?)</title>", html)
    article = CleanedArticle(job.url, title.group(1) if title else None, None, None, "en",
                             tuple(Paragraph(t) for t in re.findall(r"<p>(.*?)</p>", html)))
    return processed_page(article, job.dedup)


def _config(web: SimWeb, tmp_path: Path) -> Config:
    sources = "".join(f'[[sources]]\nname = "{n}"\nurl = "{s.url("/feed.xml")}"\n'
                      for n, s in web.sites.items())
    hours = ", ".join(str(h) for h in AFTER_HOURS)
    return load_config_text(
        f'[store]\npath = "{tmp_path / "news.db"}"\n'
        "[fetch]\nper_host_delay_seconds = 0\ntimeout_seconds = 5\n"
        "allow_private_addresses = true\n"
        "[schedule]\ninterval_minutes = 30\njitter_seconds = 0\n"
        "min_interval_minutes = 10\nmax_interval_minutes = 360\n"
        f"[recheck]\nafter_hours = [{hours}]\nper_cycle = {BUDGET}\n"
        f"[topic]\nall_of = []\n{sources}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    target = tmp_path / "news.db" if request.param == "sqlite" else \
        request.getfixturevalue("pg_url")
    with open_store(target) as db:
        yield db  # type: ignore[misc]


def test_days_of_visits_follow_each_source_and_catch_a_silent_correction(
        tmp_path: Path, store: Storage) -> None:
    now = [T0]
    with SimWeb(lambda: now[0]) as web:
        cfg = _config(web, tmp_path)
        pipe = Pipeline(cfg, store, index_for(cfg.dedup, store),
                        fetcher_factory=lambda: Fetcher(cfg.fetch), processor=_paragraphs,
                        clock=lambda: now[0], honour_backoff=True, worker="sim")
        tick = timedelta(minutes=tick_minutes(cfg.schedule, cfg.sources[0]))
        intervals: dict[str, list[float]] = {s.name: [] for s in cfg.sources}
        recheck_counts: list[int] = []
        looks = 0
        while now[0] < T0 + timedelta(days=DAYS):
            for source in cfg.sources:  # one daemon job per source, as service._job runs it
                looks += 1
                if not pipe.schedule.needs_cycle(source):
                    continue
                summary = asyncio.run(pipe.run_cycle([source]))
                recheck_counts.append(sum(n for key, n in summary.counts.items()
                                          if key.startswith("recheck.")))
                cadence = store.source_cadence(source.name)
                if cadence is not None and cadence.interval_seconds is not None:
                    intervals[source.name].append(cadence.interval_seconds)
            now[0] += tick

        # Cadence: the busy feed ends at the lower bound, the quiet one at the upper,
        # and no interval ever left the bounds.
        assert intervals["busy"][-1] == 600.0, intervals["busy"][-10:]
        assert intervals["quiet"][-1] == 21600.0, intervals["quiet"][-10:]
        assert 600.0 < intervals["limited"][-1] < 21600.0, intervals["limited"][-10:]
        assert all(600.0 <= i <= 21600.0 for seen in intervals.values() for i in seen)
        busy_visits = _feed_visits(web, "busy")
        quiet_visits = _feed_visits(web, "quiet")
        assert len(busy_visits) > 5 * len(quiet_visits), (len(busy_visits), len(quiet_visits))
        for visits in (busy_visits, quiet_visits, _feed_visits(web, "limited")):
            gaps = [b - a for a, b in itertools.pairwise(visits)]
            assert min(gaps) >= timedelta(minutes=10), "a visit came before its interval"

        # A look at a source with nothing due makes no cycle: far fewer cycles than looks.
        assert len(recheck_counts) < looks / 2, (len(recheck_counts), looks)

        # Retry-After: after the 429, the limited feed was not asked for two hours.
        refused = next(t for t, site, path, code in web.log if code == 429)
        after = [t for t in _feed_visits(web, "limited", statuses=(200, 429)) if t > refused]
        assert after and after[0] - refused >= RETRY_AFTER

        # Re-checks: never above the budget in a cycle, most answered 304, and the
        # correction made without a feed stamp became a version within the schedule.
        assert max(recheck_counts) <= BUDGET and sum(recheck_counts) > 0
        quiet0 = web.sites["quiet"].url("/a/0")
        article_id = store.article_for_url(quiet0)
        assert article_id is not None
        text = _one(store, "SELECT text FROM articles WHERE id = ?", article_id)
        assert "Correction:" in text
        versions = _one(store, "SELECT count(*) FROM article_versions WHERE article_id = ?",
                        article_id)
        assert versions == 1
        fetches = [t for t, site, path, code in web.log if site == "quiet" and path == "/a/0"]
        first_seen = fetches[0]
        corrected = next(t for t, site, path, code in web.log
                         if site == "quiet" and path == "/a/0" and code == 200
                         and t >= T0 + CORRECTED_AT)
        # The 6 h step was due at first sight + 6 h; the daemon looks every tick.
        assert corrected - first_seen <= timedelta(hours=6) + 2 * tick
        # Every page asked again was asked conditionally: only the corrected one came
        # back whole; the others cost a 304.
        seen: set[tuple[str, str]] = set()
        again: list[tuple[str, str, int]] = []
        for _, site, path, code in web.log:
            if path.startswith("/a/"):
                if (site, path) in seen:
                    again.append((site, path, code))
                seen.add((site, path))
        assert [a for a in again if a[2] != 304] == [("quiet", "/a/0", 200)]
        assert len(again) > 20

        # ... and `stats` says so: each source's interval and why, the re-checks made.
        report = stats(store.conn)  # type: ignore[attr-defined]
        by_name = {row["name"]: row for row in report["sources"]}
        assert by_name["quiet"]["interval_seconds"] == 21600.0
        assert "upper bound" in by_name["quiet"]["interval_reason"]
        assert by_name["busy"]["interval_seconds"] == 600.0
        assert report["rechecks"]["fetched_whole"] == 1
        assert report["rechecks"]["total"] == report["tables"]["articles"]


def _feed_visits(web: SimWeb, site: str, statuses: tuple[int, ...] = (200, 429)
                 ) -> list[datetime]:
    return [t for t, s, path, code in web.log if s == site and path == "/feed.xml"
            and code in statuses]


def _one(store: Storage, statement: str, *params: object) -> object:
    return store.conn.execute(statement, params).fetchone()[0]  # type: ignore[attr-defined]


# -- paywalls: a teaser is kept and marked, and replaced when the full text comes --------


def _news_page(key: str, *, paywalled: bool) -> str:
    """A page of ``key``'s story as a CMS serves it: JSON-LD says whether it is free;
    behind the paywall only the first paragraph is shown."""
    story = STORIES[key]
    shown = story["paragraphs"][:1] if paywalled else story["paragraphs"]
    body = "".join(f"<p>{p}</p>" for p in shown)
    free = "false" if paywalled else "true"
    ld = ('{"@context": "https://schema.org", "@type": "NewsArticle", '
          f'"headline": "{story["title"]}", "isAccessibleForFree": {free}}}')
    return (f"<html><head><title>{story['title']}</title>"
            f'<script type="application/ld+json">{ld}</script></head>'
            f"<body><article><h1>{story['title']}</h1>{body}</article></body></html>")


async def _real(job: PageJob) -> ProcessedPage:
    return process_page(job)


def test_a_paywalled_teaser_is_kept_marked_and_replaced_by_the_full_text(
        tmp_path: Path, store: Storage) -> None:
    now = [T0]
    flipped = T0 + timedelta(minutes=30)
    with LoopbackServer() as site:
        def page(key: str, paywalled_first: bool) -> Callable[[LoopbackRequest], None]:
            def answer(req: LoopbackRequest) -> None:
                paywalled = paywalled_first if now[0] < flipped else not paywalled_first
                html = _news_page(key, paywalled=paywalled)
                etag = '"' + hashlib.sha1(html.encode()).hexdigest()[:16] + '"'
                if req.headers.get("if-none-match") == etag:
                    req.respond(304, b"", headers={"ETag": etag}, content_type=None)
                else:
                    req.respond(200, html, headers={"ETag": etag})
            return answer

        site.add_handler("/teaser-first", page("en1", paywalled_first=True))
        site.add_handler("/free-first", page("en2", paywalled_first=False))
        site.add("/feed.xml", rss([("en1", site.url("/teaser-first")),
                                   ("en2", site.url("/free-first"))]),
                 content_type="application/rss+xml")
        cfg = load_config_text(
            f'[store]\npath = "{tmp_path / "news.db"}"\n'
            "[fetch]\nper_host_delay_seconds = 0\nallow_private_addresses = true\n"
            "[recheck]\nafter_hours = [1]\n"
            f'[[sources]]\nname = "site"\nurl = "{site.url("/feed.xml")}"\n')
        pipe = Pipeline(cfg, store, index_for(cfg.dedup, store),
                        fetcher_factory=lambda: Fetcher(cfg.fetch), processor=_real,
                        clock=lambda: now[0])
        asyncio.run(pipe.run_cycle(cfg.sources))
        teaser = store.article_for_url(site.url("/teaser-first"))
        full = store.article_for_url(site.url("/free-first"))
        assert teaser is not None and full is not None
        before = {i: store.article_access(i) for i in (teaser, full)}  # (access, words)
        assert before[teaser][0] == "paywalled" and before[full][0] == "free"

        now[0] = T0 + timedelta(hours=1, minutes=5)  # past the 1 h re-check; pages flipped
        summary = asyncio.run(pipe.run_cycle(cfg.sources))

        after = {i: store.article_access(i) for i in (teaser, full)}
        assert after[teaser][0] == "free" and after[teaser][1] > before[teaser][1]
        assert _one(store, "SELECT count(*) FROM article_versions WHERE article_id = ?",
                    teaser) == 1
        assert after[full] == before[full], "a later teaser never replaces the full text"
        assert _one(store, "SELECT count(*) FROM article_versions WHERE article_id = ?",
                    full) == 0
        assert summary.counts["page.updated"] == 1 and summary.counts["page.unchanged"] == 1
        report = report_dict(load_report(store.conn, ReportFilters()))  # type: ignore[attr-defined]
        access = {r["url"]: r["access"] for r in report["records_without_duplicates"]}
        assert access == {site.url("/teaser-first"): "free", site.url("/free-first"): "free"}
