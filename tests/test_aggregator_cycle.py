"""Issue 16's acceptance, end to end: a crawl cycle over aggregator feeds of both formats.

A real :class:`~ingest.pipeline.cycle.Pipeline` cycle, real fetcher, real store (SQLite
and PostgreSQL), real extraction and cleaning (in-process), over the loopback web of
``tests/aggregatorweb.py``: Google News and Bing News replicas *under their real host
names* (the fetcher's transport sends ``news.google.com`` and ``www.bing.com`` to the
replicas, as DNS would), so the shipped default aggregator hosts are the ones at work;
two publishers with their own feeds; a ``site`` source found from its homepage and
robots.txt; a site with only a homepage and robots.txt, reached through the
aggregators alone; and a publisher whose article URLs answer ``200`` with consent
walls, a bot challenge, an "enable JavaScript" shell and a soft 404, beside a
paywalled teaser and a free article, reached through old Google ids, Bing wrappers and
its own feed. Every article reached through an aggregator must be stored once, under
its publisher URL; no wrapper, consent or challenge page may become a record (a wall
is a failure with its reason, not remembered, so fetched again next cycle); the
links that cannot be resolved must be counted with their reasons; a paywalled
teaser is stored and marked ``paywalled``, a free article ``free``.

Pages are processed by the workers' own function (:func:`process_page`), in process
on both stores, and once through a real :class:`WorkerPool` (the walls' reasons and
the pages' access cross the process boundary).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aggregatorweb import ACCESS, GATED_FEED, UNRESOLVED, WALLS, AggregatorWeb
from ingest.config import Config, load_config_text
from ingest.dedup.stored import index_for
from ingest.fetch.fetcher import Fetcher
from ingest.pipeline.cycle import Pipeline, Processor, pool_processor
from ingest.pipeline.process import PageJob, process_page, warm_up
from ingest.pipeline.workers import WorkerPool
from ingest.types import CycleSummary, ProcessedPage
from ingest.urls import canonical_url
from store.backends import open_store
from store.db import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    target = tmp_path / "news.db" if request.param == "sqlite" else \
        request.getfixturevalue("pg_url")
    with open_store(target) as db:
        yield db  # type: ignore[misc]


@pytest.fixture
def web() -> Iterator[AggregatorWeb]:
    with AggregatorWeb(public=True, gated=True) as w:
        yield w


def config(web: AggregatorWeb, tmp_path: Path) -> Config:
    sources = "".join(f'[[sources]]\nname = "{n}"\nkind = "{k}"\nurl = "{u}"\n'
                      for n, k, u in web.sources())
    return load_config_text(
        f'[store]\npath = "{tmp_path / "news.db"}"\n'
        '[fetch]\nuser_agent = "newsdedup-test/1.0 (+https://example.org/t)"\n'
        "per_host_delay_seconds = 0\ntimeout_seconds = 10\nallow_private_addresses = true\n"
        f"[topic]\nall_of = []\n{sources}")


async def in_process(job: PageJob) -> ProcessedPage:
    return process_page(job)  # the workers' own function, without the processes


def cycle(web: AggregatorWeb, cfg: Config, store: Store,
          processor: Processor = in_process) -> CycleSummary:
    pipe = Pipeline(cfg, store, index_for(cfg.dedup, store),
                    fetcher_factory=lambda: Fetcher(cfg.fetch, transport=web.transport()),
                    processor=processor)
    return asyncio.run(pipe.run_cycle(cfg.sources))


def rows(store: Store, sql: str) -> list[Any]:
    conn = getattr(store, "conn", None)
    if conn is not None:
        return list(conn.execute(sql).fetchall())
    with store.pool.connection() as pg:  # type: ignore[attr-defined]
        return list(pg.execute(sql).fetchall())


def article_requests(web: AggregatorWeb) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in ("daily", "journal", "homeonly", "plain", "gated"):
        for request in web.sites[name].requests:
            if request.path.startswith("/articles/"):
                counts[request.path] = counts.get(request.path, 0) + 1
    return counts


def test_every_article_reached_through_an_aggregator_is_stored_once_under_its_url(
        web: AggregatorWeb, store: Store, tmp_path: Path) -> None:
    summary = cycle(web, config(web, tmp_path), store)

    stored = {url for (url,) in rows(store, "SELECT url FROM articles")}
    assert stored == {canonical_url(web.pages[story]) for story in web.expected}
    assert rows(store, "SELECT count(*) FROM duplicates") == [(0,)]
    # Google, Bing and the publisher's feed all listed en1 (with different tracking
    # parameters): it was fetched once, like every other article page.
    # So was every wall page (not an article, but fetched to find that out).
    assert set(article_requests(web).values()) == {1}
    assert len(article_requests(web)) == len(web.expected) + len(WALLS)

    # No wrapper page was fetched as a page, nor stored anywhere.
    assert [p for p in web.sites["bing"].paths() if "apiclick" in p] == []
    google_pages = [p for p in web.sites["google"].paths() if p.startswith("/rss/articles/")]
    assert len(google_pages) == len(set(google_pages)) == 6  # the lookups, each once
    for table in ("articles", "duplicates", "pages", "skipped", "fetch_log"):
        urls = [u for (u,) in rows(store, f"SELECT url FROM {table}")]
        assert not [u for u in urls if "google" in u or "bing" in u], table

    # The links that lead nowhere are counted, by source and reason.
    for name, reasons in UNRESOLVED.items():
        for reason, n in reasons.items():
            assert summary.counts[f"unresolved.{name}/{reason}"] == n
    assert summary.counts["resolved.google/lookup"] == 4
    assert summary.counts["resolved.google/offline"] == 4  # en1 and three gated pages
    assert summary.counts["resolved.bing/offline"] == 7


def test_sites_are_found_from_their_homepage_and_robots_txt_and_remembered(
        web: AggregatorWeb, store: Store, tmp_path: Path) -> None:
    cfg = config(web, tmp_path)
    summary = cycle(web, cfg, store)
    home = web.sites["homeonly"]
    sources = {name: (kind, url) for name, kind, url in rows(
        store, "SELECT name, kind, url FROM sources")}
    assert sources[f"homeonly > feed > {home.url('/actu/flux.xml')}"] == (
        "site-feed", home.url("/actu/flux.xml"))
    assert sources[f"homeonly > sitemap > {home.url('/sitemap-news.xml')}"][0] == "site-sitemap"
    assert not [n for n in sources if "post-sitemap" in n]  # the archive is not taken
    # The site with no feed and no sitemap is a failing source, with the reason; its
    # articles came through the aggregators.
    assert summary.failed_sources == ("plain",)
    assert canonical_url(web.pages["en4"]) in {u for (u,) in rows(
        store, "SELECT url FROM articles WHERE source = 'google'")}

    homepage_requests = home.count("/")
    google_lookups = len(web.sites["google"].requests)
    second = cycle(web, cfg, store)
    assert home.count("/") == homepage_requests  # re-checked daily, not every cycle
    assert home.count("/actu/flux.xml") == 2  # the remembered feed is read every cycle
    # Nothing new: no article page fetched again (the walls are, as nothing remembers
    # them), and the lookups answered from the cache.
    walls = {f"/articles/{key}.html" for key in WALLS}
    assert {p: n for p, n in article_requests(web).items() if p not in walls} == {
        p: 1 for p in article_requests(web) if p not in walls}
    assert {p: n for p, n in article_requests(web).items() if p in walls} == {
        p: 2 for p in walls}
    assert [p for p in web.sites["google"].paths()[google_lookups:]
            if p.startswith(("/rss/articles/", "/_/"))] == []
    assert second.counts["resolved.google/cached"] == 4


# -- walls served with 200, paywalled and free articles --------------------------------------

def listed_by(web: AggregatorWeb, key: str) -> set[str]:
    """The sources whose feeds list the ``gated`` page ``key``."""
    return ({"google"} if key in dict(web.google_items) else set()) | (
        {"bing"} if key in web.bing_items else set()) | (
        {"gated"} if key in GATED_FEED else set())


def assert_walls_refused(web: AggregatorWeb, store: Store, summary: CycleSummary) -> None:
    """Every wall page of ``web`` failed in the store's latest cycle with its reason, and
    no wall is a record anywhere; the gated articles are stored with their access."""
    walls = {canonical_url(web.pages[key]): key for key in WALLS}
    for table in ("articles", "duplicates", "pages", "skipped"):
        urls = {canonical_url(u) for (u,) in rows(store, f"SELECT url FROM {table}")}
        assert not urls & set(walls), table
    [(latest,)] = rows(store, "SELECT max(id) FROM cycles")
    logged = [(canonical_url(url), source, outcome, reason) for url, source, outcome, reason
              in rows(store, "SELECT url, source, outcome, reason FROM fetch_log "
                             f"WHERE cycle_id = {latest}")]
    failed = {url: (source, reason) for url, source, outcome, reason in logged
              if url in walls and outcome == "failed"}
    assert {url: reason for url, (_source, reason) in failed.items()} == {
        url: WALLS[key] for url, key in walls.items()}
    for url, (source, _reason) in failed.items():
        assert source in listed_by(web, walls[url]), (url, source)
    assert [row for row in logged if row[0] in walls and row[2] != "failed"] == []
    assert len([row for row in logged if row[0] in walls]) == len(WALLS)  # one fetch each
    reasons: dict[str, int] = {}
    for reason in WALLS.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    assert {k: n for k, n in summary.counts.items() if k.startswith("page.failed_")} == {
        f"page.failed_{reason}": n for reason, n in reasons.items()}

    access = {url: value for url, value in rows(store, "SELECT url, access FROM articles")}
    assert access == {canonical_url(web.pages[key]): ACCESS.get(key, "unknown")
                      for key in web.expected}
    # The paywalled page is kept as the teaser it is, without its subscription prompt.
    [(teaser,)] = rows(store, "SELECT text FROM articles WHERE access = 'paywalled'")
    assert "Lawyers who advise charities" in teaser and "Log in" not in teaser


def test_walls_served_with_200_are_failures_with_reasons_and_fetched_again(
        web: AggregatorWeb, store: Store, tmp_path: Path) -> None:
    cfg = config(web, tmp_path)
    first = cycle(web, cfg, store)
    assert_walls_refused(web, store, first)
    gated = web.sites["gated"]
    assert {key: gated.count(f"/articles/{key}.html") for key in (*WALLS, *ACCESS)} == {
        key: 1 for key in (*WALLS, *ACCESS)}

    second = cycle(web, cfg, store)
    # The walls are not remembered: each is fetched again, and fails again with its
    # reason; the articles are not fetched again.
    assert_walls_refused(web, store, second)
    assert {key: gated.count(f"/articles/{key}.html") for key in (*WALLS, *ACCESS)} == {
        **{key: 2 for key in WALLS}, **{key: 1 for key in ACCESS}}
    stored = {u for (u,) in rows(store, "SELECT url FROM articles")}
    assert stored == {canonical_url(web.pages[story]) for story in web.expected}
    assert rows(store, "SELECT count(*) FROM duplicates") == [(0,)]


def test_walls_and_access_cross_the_worker_pool(web: AggregatorWeb, tmp_path: Path) -> None:
    cfg = config(web, tmp_path)
    with Store.open(tmp_path / "pool.db") as store, \
            WorkerPool(size=1, deadline=60, warmup=warm_up) as pool:
        summary = cycle(web, cfg, store, pool_processor(pool))
        assert_walls_refused(web, store, summary)
        stored = {u for (u,) in rows(store, "SELECT url FROM articles")}
        assert stored == {canonical_url(web.pages[story]) for story in web.expected}
