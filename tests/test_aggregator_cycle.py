"""Issue 16's acceptance, end to end: a crawl cycle over aggregator feeds of both formats.

A real :class:`~ingest.pipeline.cycle.Pipeline` cycle, real fetcher, real store (SQLite
and PostgreSQL), real extraction and cleaning (in-process), over the loopback web of
``tests/aggregatorweb.py``: Google News and Bing News replicas *under their real host
names* (the fetcher's transport sends ``news.google.com`` and ``www.bing.com`` to the
replicas, as DNS would), so the shipped default aggregator hosts are the ones at work;
two publishers with their own feeds; a ``site`` source found from its homepage and
robots.txt; and a site with only a homepage and robots.txt, reached through the
aggregators alone. Every article reached through an aggregator must be stored once,
under its publisher URL; no wrapper page may be fetched as a page or become a record;
the links that cannot be resolved must be counted with their reasons.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aggregatorweb import EXPECTED, UNRESOLVED, AggregatorWeb

from ingest.config import Config, load_config_text
from ingest.dedup.stored import index_for
from ingest.fetch.fetcher import Fetcher
from ingest.pipeline.cycle import Pipeline
from ingest.pipeline.process import PageJob, process_page
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
    with AggregatorWeb(public=True) as w:
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


def cycle(web: AggregatorWeb, cfg: Config, store: Store) -> CycleSummary:
    pipe = Pipeline(cfg, store, index_for(cfg.dedup, store),
                    fetcher_factory=lambda: Fetcher(cfg.fetch, transport=web.transport()),
                    processor=in_process)
    return asyncio.run(pipe.run_cycle(cfg.sources))


def rows(store: Store, sql: str) -> list[Any]:
    conn = getattr(store, "conn", None)
    if conn is not None:
        return list(conn.execute(sql).fetchall())
    with store.pool.connection() as pg:  # type: ignore[attr-defined]
        return list(pg.execute(sql).fetchall())


def article_requests(web: AggregatorWeb) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in ("daily", "journal", "homeonly", "plain"):
        for request in web.sites[name].requests:
            if request.path.startswith("/articles/"):
                counts[request.path] = counts.get(request.path, 0) + 1
    return counts


def test_every_article_reached_through_an_aggregator_is_stored_once_under_its_url(
        web: AggregatorWeb, store: Store, tmp_path: Path) -> None:
    summary = cycle(web, config(web, tmp_path), store)

    stored = {url for (url,) in rows(store, "SELECT url FROM articles")}
    assert stored == {canonical_url(web.pages[story]) for story in EXPECTED}
    assert rows(store, "SELECT count(*) FROM duplicates") == [(0,)]
    # Google, Bing and the publisher's feed all listed en1 (with different tracking
    # parameters): it was fetched once, like every other article page.
    assert set(article_requests(web).values()) == {1}
    assert len(article_requests(web)) == len(EXPECTED)

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
    assert summary.counts["resolved.bing/offline"] == 4


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
    # Nothing new: no page fetched again, and the lookups answered from the cache.
    assert set(article_requests(web).values()) == {1}
    assert [p for p in web.sites["google"].paths()[google_lookups:]
            if p.startswith(("/rss/articles/", "/_/"))] == []
    assert second.counts["resolved.google/cached"] == 4
