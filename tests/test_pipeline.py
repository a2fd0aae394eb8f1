"""One crawl cycle (``ingest.pipeline.cycle.Pipeline``) through its injection points.

The fetcher is a real :class:`~ingest.fetch.fetcher.Fetcher` on a loopback site
and the store a real SQLite file or a real PostgreSQL database (each test runs on
both); the processor is an async function standing
in for the worker pool (it builds a :class:`ProcessedPage` from the job's
``<p>`` blocks, can be slow, or raise), and the clock is injected so backoff
and the retry of empty pages are decided without waiting hours.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingest.config import Config, load_config_text
from ingest.dedup.stored import index_for
from ingest.errors import ExtractError, ExtractTimeout
from ingest.fetch.fetcher import Fetcher
from ingest.pipeline.cycle import Pipeline
from ingest.pipeline.plan import REMEMBERED
from ingest.pipeline.process import PageJob, processed_page
from ingest.pipeline.stats import Stats
from ingest.types import NO_FINGERPRINT, CleanedArticle, CycleSummary, Paragraph, ProcessedPage
from loopback import LoopbackServer, status
from newsweb import STORIES, json_feed, rss
from store.backends import open_store
from store.db import Store

Processor = Callable[[PageJob], Awaitable[ProcessedPage]]
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def page_html(key: str) -> str:
    story = STORIES[key]
    body = "".join(f"<p>{p}</p>" for p in story["paragraphs"])
    return f"<html><head><title>{story['title']}</title></head><body>{body}</body></html>"


def processed(job: PageJob) -> ProcessedPage:
    """What a worker would make of the job: its ``<p>`` blocks, as the page says, kept out
    (not fingerprinted) when the job's topic filter says so."""
    html = job.body.decode()
    texts = re.findall(r"<p>(.*?)</p>", html)
    if not texts:
        raise ExtractError("no paragraphs", url=job.url)
    title = re.search(r"<title>(.*?)</title>", html)
    article = CleanedArticle(job.url, title.group(1) if title else None, None, None, "en",
                             tuple(Paragraph(t) for t in texts),
                             declared_language=job.declared_language)
    off = job.topic.verdict(article.title, article.text, "en") if job.topic else None
    if off is not None:
        return ProcessedPage(article, NO_FINGERPRINT, (), skip=off, filtered=True)
    return processed_page(article, job.dedup)


async def plain(job: PageJob) -> ProcessedPage:
    return processed(job)


def config(tmp_path: Path, *sources: tuple[str, str, str],
           topic: str = '[["musk", "openai", "altman"]]', schedule: str = "") -> Config:
    listed = "".join(f'[[sources]]\nname = "{n}"\nkind = "{k}"\nurl = "{u}"\n'
                     for n, k, u in sources)
    return load_config_text(
        f'[store]\npath = "{tmp_path / "news.db"}"\n'
        '[fetch]\nuser_agent = "newsdedup-test/1.0 (+https://example.org/t)"\n'
        "per_host_delay_seconds = 0\ntimeout_seconds = 5\nallow_private_addresses = true\n"
        f'[schedule]\ninterval_minutes = 10\n{schedule}[topic]\nall_of = {topic}\n{listed}')


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each cycle test runs on both backends: a SQLite file, a fresh PostgreSQL database."""
    target = tmp_path / "news.db" if request.param == "sqlite" else \
        request.getfixturevalue("pg_url")
    with open_store(target) as db:
        yield db  # type: ignore[misc]


def pipeline(cfg: Config, store: Store, processor: Processor = plain, **kwargs: object
             ) -> Pipeline:
    return Pipeline(cfg, store, index_for(cfg.dedup, store),
                    fetcher_factory=lambda: Fetcher(cfg.fetch), processor=processor,
                    **kwargs)  # type: ignore[arg-type]


def other_connection(store: Store) -> Any:
    """A second connection to ``store``'s database, as another process would open."""
    pool = getattr(store, "pool", None)
    if pool is not None:
        return psycopg.connect(pool.conninfo, autocommit=True)
    return sqlite3.connect(store.db.conn.execute("PRAGMA database_list").fetchone()[2])


def cycle(pipe: Pipeline) -> CycleSummary:
    return asyncio.run(pipe.run_cycle(pipe.config.sources))


def feed(srv: LoopbackServer, *paths: str, dated: bool = True) -> tuple[str, str, str]:
    """Serve ``/feed.xml`` listing ``paths`` (no validators: it is read every cycle): RSS
    whose entries carry a date, or (``dated=False``) a JSON Feed whose entries carry none."""
    items = [(p, srv.url(p)) for p in paths]
    if dated:
        srv.add("/feed.xml", rss(items), content_type="application/rss+xml")
    else:
        srv.add("/feed.xml", json_feed(items), content_type="application/feed+json")
    return ("site", "feed", srv.url("/feed.xml"))


def fetch_log(store: Store) -> list[tuple[str, str, str | None]]:
    return store.conn.execute("SELECT url, outcome, reason FROM fetch_log ORDER BY id").fetchall()


# -- order ------------------------------------------------------------------------------


def test_pages_are_committed_in_discovery_order_whatever_order_they_finish(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    """``/b`` is ``/a`` again: whichever is listed first is the record, even when the
    other one is processed first."""
    for path, key in (("/a", "en1"), ("/b", "en1"), ("/c", "en2")):
        loopback.add(path, page_html(key))
    delays = {"/a": 0.4, "/b": 0.2, "/c": 0.0}
    finished: list[str] = []

    async def slow_first(job: PageJob) -> ProcessedPage:
        path = job.url.removeprefix(loopback.base)
        await asyncio.sleep(delays[path])
        finished.append(path)
        return processed(job)

    summary = cycle(pipeline(config(tmp_path, feed(loopback, "/a", "/b", "/c")), store,
                             slow_first))
    assert finished == ["/c", "/b", "/a"], "the pages were not processed concurrently"
    assert [(url.removeprefix(loopback.base), outcome, reason)
            for url, outcome, reason in fetch_log(store)] == [
        ("/a", "new", None), ("/b", "duplicate", "exact"), ("/c", "new", None)]
    a, c = (store.known_url(loopback.url(p)) for p in ("/a", "/c"))
    assert a is not None and c is not None and a.kind == "article"
    assert a.article_id is not None and c.article_id is not None
    assert a.article_id < c.article_id
    assert (summary.counts["page.new"], summary.counts["page.duplicate"]) == (2, 1)


def test_a_recorded_page_is_committed_before_the_writer_waits_on_a_slow_one(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/a", page_html("en1"))
    loopback.add("/b", page_html("en2"))
    reader = other_connection(store)
    seen: list[bool] = []

    async def slow_b(job: PageJob) -> ProcessedPage:
        if job.url.endswith("/b"):  # waits until another process can read /a's record
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not reader.execute(
                    "SELECT count(*) FROM articles").fetchone()[0]:
                await asyncio.sleep(0.02)
            seen.append(time.monotonic() < deadline)
        return processed(job)

    cycle(pipeline(config(tmp_path, feed(loopback, "/a", "/b")), store, slow_b))
    reader.close()
    assert seen == [True]


# -- failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("dated", [True, False])
def test_failed_pages_are_counted_and_remembered_only_when_they_will_not_heal(
        tmp_path: Path, store: Store, loopback: LoopbackServer, dated: bool) -> None:
    for path in ("/ok", "/empty", "/slow"):
        loopback.add(path, page_html("en3") if path == "/ok" else f"<html>{path}</html>")
    loopback.add_handler("/busy", status(503))  # /gone: not served, a 404

    async def worker(job: PageJob) -> ProcessedPage:
        if job.url.endswith("/slow"):
            raise ExtractTimeout("extraction passed its deadline", url=None)
        return processed(job)

    paths = ("/ok", "/empty", "/slow", "/gone", "/busy")
    pipe = pipeline(config(tmp_path, feed(loopback, *paths, dated=dated)), store, worker)
    first = cycle(pipe)
    assert {k: v for k, v in first.counts.items() if k.startswith("page.")} == {
        "page.new": 1, "page.failed_no_article": 1, "page.failed_extract_timeout": 1,
        "page.failed_status_404": 1, "page.failed_status_503": 1}
    remembered = dict(store.conn.execute("SELECT url, reason FROM skipped").fetchall())
    assert remembered == {loopback.url("/empty"): "no_article",
                          loopback.url("/gone"): "status_404"}
    assert set(remembered.values()) <= REMEMBERED
    assert "extract_timeout" not in REMEMBERED and "status_503" not in REMEMBERED
    errors = [r for r in fetch_log(store) if r[0] == loopback.url("/slow")]
    assert errors == [(loopback.url("/slow"), "failed", "extract_timeout")]

    before = {p: loopback.count(p) for p in paths}
    second = cycle(pipe)
    asked = {p for p in paths if loopback.count(p) > before[p]}
    assert asked == {"/slow", "/busy"}, "only the failures that may heal are fetched again"
    assert second.counts["discover.known"] == 3


def test_an_empty_page_is_tried_again_once_its_retry_delay_has_passed(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/empty", "<html>soon</html>")
    offset = [timedelta(0)]
    pipe = pipeline(config(tmp_path, feed(loopback, "/empty")), store,
                    clock=lambda: datetime.now(UTC) + offset[0])
    cycle(pipe)
    cycle(pipe)
    assert loopback.count("/empty") == 1
    offset[0] = timedelta(hours=7)
    loopback.add("/empty", page_html("en5"))  # the publisher filled it meanwhile
    summary = cycle(pipe)
    assert loopback.count("/empty") == 2 and summary.counts["page.new"] == 1


# -- backoff, with an injected clock -------------------------------------------------------


def test_a_failed_source_waits_for_its_next_attempt_when_backoff_is_honoured(
        tmp_path: Path, store: Store) -> None:
    with LoopbackServer() as busy, LoopbackServer() as good:
        busy.add_handler("/feed.xml", status(503))
        good.add("/a", page_html("en1"))
        cfg = config(tmp_path, ("busy", "feed", busy.url("/feed.xml")),
                     ("good", "feed", good.url("/feed.xml")),
                     schedule="adaptive = false\n")  # the fixed interval is the job's
        good.add("/feed.xml", rss([("A", good.url("/a"))]), content_type="application/rss+xml")
        now = [T0]
        pipe = pipeline(cfg, store, clock=lambda: now[0], honour_backoff=True)

        first = cycle(pipe)
        assert first.failed_sources == ("busy",) and first.counts["source.status_503"] == 1
        state = store.source_state("busy")
        assert state is not None
        assert state.next_attempt_at == (T0 + timedelta(minutes=10)).isoformat()

        now[0] = T0 + timedelta(minutes=9)
        early = cycle(pipe)
        assert busy.count("/feed.xml") == 1 and early.counts["source.backoff"] == 1
        assert good.count("/feed.xml") == 2, "a healthy source keeps its own schedule"

        now[0] = T0 + timedelta(minutes=10)
        due = cycle(pipe)
        assert busy.count("/feed.xml") == 2 and "source.backoff" not in due.counts
        state = store.source_state("busy")
        assert state is not None and state.consecutive_failures == 2
        assert state.next_attempt_at == (now[0] + timedelta(minutes=20)).isoformat()


def test_without_honour_backoff_a_failed_source_is_visited_every_cycle(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    loopback.add_handler("/feed.xml", status(503))
    pipe = pipeline(config(tmp_path, ("busy", "feed", loopback.url("/feed.xml"))), store,
                    clock=lambda: T0)
    cycle(pipe)
    second = cycle(pipe)
    assert loopback.count("/feed.xml") == 2 and "source.backoff" not in second.counts


# -- the stop event ------------------------------------------------------------------------


def test_the_stop_event_interrupts_a_cycle_and_the_next_one_does_the_rest(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/a", page_html("en1"))
    loopback.add("/b", page_html("en2"))
    stop = threading.Event()
    cfg = config(tmp_path, feed(loopback, "/a", "/b"))

    async def stuck_on_b(job: PageJob) -> ProcessedPage:
        if job.url.endswith("/b"):
            while store.article_for_url(loopback.url("/a")) is None:  # /a recorded first
                await asyncio.sleep(0.01)
            stop.set()
            await asyncio.sleep(60)
        return processed(job)

    started = time.monotonic()
    interrupted = cycle(pipeline(cfg, store, stuck_on_b, stop=stop))
    assert time.monotonic() - started < 10
    assert interrupted.counts["cycle.interrupted"] == 1
    assert interrupted.counts["page.new"] == 1
    assert store.known_url(loopback.url("/b")) is None, "an abandoned page is not recorded"
    row = store.conn.execute("SELECT finished_at, summary FROM cycles").fetchone()
    assert row[0] is not None and '"cycle.interrupted": 1' in row[1]

    stop.clear()
    resumed = cycle(pipeline(cfg, store, stop=stop))
    assert "cycle.interrupted" not in resumed.counts
    assert resumed.counts["page.new"] == 1 and resumed.counts["discover.known"] == 1
    known = store.known_url(loopback.url("/b"))
    assert known is not None and known.kind == "article"


# -- what the processor is given, and what it returns ------------------------------------------


def test_the_job_carries_the_body_and_the_declared_language_hint(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/a", page_html("fr1"), headers={"Content-Language": "fr-FR"})
    loopback.add("/b", page_html("en1"))
    jobs: list[PageJob] = []

    async def keep(job: PageJob) -> ProcessedPage:
        jobs.append(job)
        return processed(job)

    cycle(pipeline(config(tmp_path, feed(loopback, "/a", "/b")), store, keep))
    by_url = {job.url: job for job in jobs}
    assert by_url[loopback.url("/a")].declared_language == "fr"
    assert by_url[loopback.url("/b")].declared_language is None
    assert by_url[loopback.url("/a")].body == page_html("fr1").encode()
    assert by_url[loopback.url("/a")].template == frozenset()
    topic = by_url[loopback.url("/a")].topic  # the configured filter, for the worker
    assert topic is not None and topic.verdict(None, "Musk and OpenAI", "en") is None
    assert topic.verdict(None, "Rain on Tuesday", "en") == "off_topic"


def test_a_page_the_worker_keeps_out_is_remembered_as_skipped(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/off", page_html("off_en"))
    loopback.add("/on", page_html("en1"))
    pipe = pipeline(config(tmp_path, feed(loopback, "/off", "/on")), store)
    first = cycle(pipe)
    assert (first.counts["page.skipped"], first.counts["page.new"]) == (1, 1)
    known = store.known_url(loopback.url("/off"))
    assert known is not None and (known.kind, known.reason) == ("skipped", "off_topic")
    cycle(pipe)
    assert loopback.count("/off") == 1


def test_a_page_source_is_requested_once_and_processed(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/fr4.html", page_html("fr4"))
    summary = cycle(pipeline(config(tmp_path, ("fr4", "page", loopback.url("/fr4.html"))),
                             store))
    assert loopback.count("/fr4.html") == 1 and summary.counts["page.new"] == 1


class TimedProcessor:
    """A processor with a ``timed`` form, as the worker pool's: the cycle must use it."""

    async def __call__(self, job: PageJob) -> ProcessedPage:
        raise AssertionError("the cycle should call timed()")

    async def timed(self, job: PageJob) -> tuple[ProcessedPage, Stats]:
        stats = Stats()
        stats.add_time("extract", 0.25, 0.2)
        return processed(job), stats


def test_a_timed_processors_stage_times_reach_the_summary(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    loopback.add("/a", page_html("en1"))
    loopback.add("/b", page_html("en2"))
    summary = cycle(pipeline(config(tmp_path, feed(loopback, "/a", "/b")), store,
                             TimedProcessor()))  # type: ignore[arg-type]
    assert summary.counts["page.new"] == 2
    assert summary.stages["extract"] == {"count": 2, "wall_seconds": 0.5, "cpu_seconds": 0.4}
    assert summary.stages["process"]["count"] == 2


def test_a_plain_processor_works_without_worker_times(
        tmp_path: Path, store: Store, loopback: LoopbackServer) -> None:
    """A processor with no ``timed`` form (a plain async function): the cycle still times
    each page's round trip to it, and reports no worker stage it cannot know."""
    loopback.add("/a", page_html("en1"))
    summary = cycle(pipeline(config(tmp_path, feed(loopback, "/a")), store, plain))
    assert summary.counts["page.new"] == 1
    assert summary.stages["process"]["count"] == 1
    assert not {"decode", "extract", "clean", "fingerprint"} & set(summary.stages)
