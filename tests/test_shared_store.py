"""The PostgreSQL store through the command line, as operators run it: ``once``,
``reprocess``, ``review``, ``report`` and ``stats`` against ``[store] url``, on the
loopback news web, giving what the SQLite store gives. (Many workers at once:
``tests/test_cluster.py``.)"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import service
from ingest.urls import canonical_url
from newsweb import EXPECTED, NewsWeb

ROOT = Path(__file__).resolve().parent.parent
TOPIC = '[["musk"], ["altman", "openai"]]'


@pytest.fixture(scope="module")
def web() -> Iterator[NewsWeb]:
    with NewsWeb() as news:
        yield news


def _config(web: NewsWeb, directory: Path, url: str, topic: str = TOPIC) -> Path:
    directory.mkdir(exist_ok=True)
    path = web.write_config(directory, topic=topic)
    text = path.read_text().replace(f'path = "{directory / "news.db"}"', f'url = "{url}"')
    assert f'url = "{url}"' in text
    path.write_text(text)
    return path


def _state(url: str) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]], set[str]]:
    with psycopg.connect(url) as conn:
        articles = set(conn.execute("SELECT url, text FROM articles").fetchall())
        duplicates = set(conn.execute(
            "SELECT d.url, d.method, a.url FROM duplicates d JOIN articles a "
            "ON a.id = d.article_id").fetchall())
        skipped = {u for (u,) in conn.execute("SELECT url FROM skipped").fetchall()}
    return articles, duplicates, skipped


def _sqlite_state(path: Path) -> tuple[set[Any], set[Any], set[str]]:
    with sqlite3.connect(path) as conn:
        return (set(conn.execute("SELECT url, text FROM articles")),
                set(conn.execute("SELECT d.url, d.method, a.url FROM duplicates d "
                                 "JOIN articles a ON a.id = d.article_id")),
                {u for (u,) in conn.execute("SELECT url FROM skipped")})


def test_a_cycle_on_postgresql_stores_what_sqlite_stores(web: NewsWeb, tmp_path: Path,
                                                         pg_url: str) -> None:
    config = _config(web, tmp_path / "pg", pg_url)
    assert service.main(["once", "--config", str(config)]) == 0
    lite = web.write_config(tmp_path)
    assert service.main(["once", "--config", str(lite)]) == 0
    assert _state(pg_url) == _sqlite_state(tmp_path / "news.db")
    articles, duplicates, skipped = _state(pg_url)
    assert {u for u, _ in articles} == {canonical_url(web.page_urls[k])
                                        for k in EXPECTED["articles"]}
    assert {(u, m) for u, m, _ in duplicates} >= {
        (canonical_url(web.page_urls[k]), m) for k, m in EXPECTED["duplicates"].items()
        if m != "url"}
    assert skipped == {canonical_url(web.page_urls[k]) for k in EXPECTED["skipped"]}


def test_full_text_search_stems_by_the_records_language(web: NewsWeb, tmp_path: Path,
                                                        pg_url: str) -> None:
    config = _config(web, tmp_path / "pg", pg_url)
    assert service.main(["once", "--config", str(config)]) == 0
    with psycopg.connect(pg_url) as conn:
        languages = dict(conn.execute("SELECT language, count(*) FROM articles "
                                      "GROUP BY language").fetchall())
        # Every record is found by a word of its own title, stemmed as its language is.
        rows = conn.execute("SELECT id, language, title FROM articles").fetchall()
        for article_id, language, title in rows:
            word = max(title.split(), key=len).strip(".,:;'\"«»")
            config_name = {"fr": "french", "en": "english"}.get(language, "simple")
            hits = {i for (i,) in conn.execute(
                "SELECT id FROM articles WHERE search @@ plainto_tsquery(%s::regconfig, %s)",
                (config_name, word)).fetchall()}
            assert article_id in hits, (title, word)
    assert set(languages) == {"en", "fr"}


def test_reprocess_on_postgresql_equals_a_fresh_crawl_and_keeps_ids(
        web: NewsWeb, tmp_path: Path, pg_server: str, pg_url: str) -> None:
    old = _config(web, tmp_path / "old", pg_url, topic="[]")
    assert service.main(["once", "--config", str(old)]) == 0
    with psycopg.connect(pg_url) as conn:
        ids_before = dict(conn.execute("SELECT url, id FROM articles").fetchall())
    old.write_text(old.read_text().replace("all_of = []", f"all_of = {TOPIC}"))
    assert service.main(["reprocess", "--config", str(old)]) == 0

    fresh_url = _new_database(pg_server, "fresh_reprocess")
    fresh = _config(web, tmp_path / "fresh", fresh_url)
    assert service.main(["once", "--config", str(fresh)]) == 0
    assert _state(pg_url)[:2] == _state(fresh_url)[:2]
    with psycopg.connect(pg_url) as conn:
        ids_after = dict(conn.execute("SELECT url, id FROM articles").fetchall())
        bands = conn.execute("SELECT count(DISTINCT article_id) FROM lsh_bands").fetchone()
    assert all(ids_after[u] == ids_before[u] for u in ids_after)
    assert bands == (len(ids_after),), "the shared index holds exactly the records"


def test_two_reprocess_started_together_give_one_reprocess_result(
        web: NewsWeb, tmp_path: Path, pg_url: str) -> None:
    config = _config(web, tmp_path / "twice", pg_url)
    assert service.main(["once", "--config", str(config)]) == 0
    before = _state(pg_url)
    procs = [subprocess.Popen([sys.executable, "service.py", "reprocess", "--config",
                               str(config)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert _state(pg_url) == before


def test_reviews_on_postgresql_hold_in_later_cycles_and_the_report(
        web: NewsWeb, tmp_path: Path, pg_url: str) -> None:
    config = _config(web, tmp_path / "reviews", pg_url)
    assert service.main(["once", "--config", str(config)]) == 0
    wire = canonical_url(web.page_urls["wire-en1"])
    with psycopg.connect(pg_url) as conn:
        (dup_id,) = conn.execute("SELECT id FROM duplicates WHERE url = %s",
                                 (wire,)).fetchone()
    assert service.main(["review", "split", str(dup_id), "--note", "own angle",
                         "--config", str(config)]) == 0
    assert service.main(["once", "--config", str(config)]) == 0
    assert service.main(["reprocess", "--config", str(config)]) == 0
    out = tmp_path / "report.json"
    assert service.main(["report", "--config", str(config), "--format", "json",
                         "-o", str(out)]) == 0
    report = json.loads(out.read_text())
    assert wire in {u for u, _ in _state(pg_url)[0]}, "the split stands after reprocess"
    assert "own angle" in json.dumps(report)


def test_stats_show_the_cluster(web: NewsWeb, tmp_path: Path, pg_url: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(web, tmp_path / "stats", pg_url)
    assert service.main(["once", "--config", str(config), "--worker-id", "crawler-a"]) == 0
    capsys.readouterr()
    assert service.main(["stats", "--config", str(config)]) == 0
    stats = json.loads(capsys.readouterr().out)
    workers = {w["worker_id"]: w for w in stats["cluster"]["workers"]}
    assert workers["crawler-a"]["cycles"] == 1 and workers["crawler-a"]["pages"] > 0
    assert stats["cluster"]["leases"] == [], "released at the end of the cycle"
    assert stats["tables"]["articles"] == len(EXPECTED["articles"])


def _new_database(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


def test_reprocess_split_across_processes_by_page_range(
        web: NewsWeb, tmp_path: Path, pg_url: str) -> None:
    """Two machines prepare halves of the pages at once; the replay extracts nothing more
    and gives what a plain reprocess gives."""
    config = _config(web, tmp_path / "split", pg_url)
    assert service.main(["once", "--config", str(config)]) == 0
    with psycopg.connect(pg_url) as conn:
        (pages,) = conn.execute("SELECT count(*) FROM pages").fetchone()
    half = pages // 2
    procs = [subprocess.Popen([sys.executable, "service.py", "reprocess", "--prepare",
                               "--pages", span, "--config", str(config)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for span in (f"1:{half}", f"{half + 1}:{pages}")]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    prepared = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(p["prepared"] for p in prepared) == pages
    before = _state(pg_url)
    done = subprocess.run([sys.executable, "service.py", "reprocess", "--config", str(config)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["reprocess.prepared"] == pages
    assert _state(pg_url) == before
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM reprocess_cache").fetchone() == (0,)


def test_pages_must_be_a_range_and_only_with_prepare(web: NewsWeb, tmp_path: Path,
                                                     pg_url: str) -> None:
    config = _config(web, tmp_path / "bad", pg_url)
    assert service.main(["reprocess", "--pages", "1:5", "--config", str(config)]) == 2
    with pytest.raises(SystemExit) as exc:
        service.main(["reprocess", "--prepare", "--pages", "9:3", "--config", str(config)])
    assert exc.value.code == 2


def test_a_dropped_connection_fails_one_call_then_the_store_reconnects(pg_url: str) -> None:
    """What a database restart does to a running worker: the statement in flight fails
    with a StoreError (the page is redone by the next cycle), later ones work."""
    from ingest.errors import StoreError
    from store.pg.db import PgStore

    with PgStore.open(pg_url) as store:
        store.record_source("feed", "feed", "https://a.example/rss", ok=True, status=200)
        (pid,) = store.conn.native("SELECT pg_backend_pid()").fetchone()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StoreError) as failed:
            store.source_state("feed")
        assert "PostgreSQL" in str(failed.value)
        state = store.source_state("feed")
        assert state is not None and state.consecutive_failures == 0
        assert store.lease_source("feed", "w1", ttl=60.0)
