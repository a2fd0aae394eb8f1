"""``reprocess``: records redone from stored pages equal a fresh crawl's, ids kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import service
from ingest.urls import canonical_url
from newsweb import EXPECTED, NewsWeb
from store.rebuild import replay_order

TOPIC = '[["musk"], ["altman", "openai"]]'


@pytest.fixture(scope="module")
def web() -> Iterator[NewsWeb]:
    with NewsWeb() as news:
        yield news


def _crawl(web: NewsWeb, directory: Path, topic: str) -> Path:
    directory.mkdir()
    config = web.write_config(directory, topic=topic)
    assert service.main(["once", "--config", str(config)]) == 0
    return config


def _state(config: Path) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]], set[str]]:
    with sqlite3.connect(config.parent / "news.db") as conn:
        articles = set(conn.execute("SELECT url, text FROM articles"))
        duplicates = set(conn.execute(
            "SELECT d.url, d.method, a.url FROM duplicates d JOIN articles a "
            "ON a.id = d.article_id"))
        skipped = {u for (u,) in conn.execute("SELECT url FROM skipped")}
    return articles, duplicates, skipped


def test_reprocess_with_new_rules_equals_a_fresh_crawl(web: NewsWeb, tmp_path: Path) -> None:
    old = _crawl(web, tmp_path / "old", "[]")  # the old rules kept off-topic pages
    off_topic = {canonical_url(web.page_urls[k]) for k in EXPECTED["skipped"]}
    assert off_topic <= {u for u, _ in _state(old)[0]}
    with sqlite3.connect(old.parent / "news.db") as conn:
        ids_before = dict(conn.execute("SELECT url, id FROM articles"))
    old.write_text(old.read_text().replace("all_of = []", f"all_of = {TOPIC}"))
    assert service.main(["reprocess", "--config", str(old)]) == 0

    fresh = _crawl(web, tmp_path / "fresh", TOPIC)
    articles, duplicates, skipped = _state(old)
    assert (articles, duplicates) == _state(fresh)[:2]
    assert off_topic <= skipped
    with sqlite3.connect(old.parent / "news.db") as conn:
        ids_after = dict(conn.execute("SELECT url, id FROM articles"))
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        fts = conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
    assert all(ids_after[u] == ids_before[u] for u in ids_after)
    assert fts == len(ids_after)


def test_reprocess_twice_changes_nothing(web: NewsWeb, tmp_path: Path) -> None:
    config = _crawl(web, tmp_path / "twice", TOPIC)
    before = _state(config)
    assert service.main(["reprocess", "--config", str(config)]) == 0
    assert _state(config) == before


@given(st.permutations(list(range(12))), st.lists(st.tuples(
    st.integers(0, 11), st.integers(0, 11)), max_size=12))
def test_replay_order_puts_each_merge_target_first(rank: list[int],
                                                    pairs: list[tuple[int, int]]) -> None:
    urls = [f"u{i}" for i in range(12)]
    # An acyclic "page -> page it must follow" map: targets rank lower than their pages.
    after = {f"u{a}": f"u{b}" for a, b in pairs if rank[b] < rank[a]}
    out = replay_order(urls, after)
    assert sorted(out) == sorted(urls)
    assert all(out.index(page) > out.index(target) for page, target in after.items())


def test_replay_order_keeps_order_without_merges_and_survives_a_cycle() -> None:
    urls = ["a", "b", "c", "d"]
    assert replay_order(urls, {}) == urls
    assert sorted(replay_order(urls, {"a": "b", "b": "a"})) == urls
