"""End to end: the command line over a loopback news web, real SQLite, real workers.

These are issue 2's acceptance points: a first cycle stores every article page
(as a record or a duplicate), never requests what robots.txt disallows, sends
the configured User-Agent everywhere; a second cycle sends conditional requests
for every source, refetches no article page and adds no rows; a restart keeps
earlier decisions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import service
from ingest.urls import canonical_url
from newsweb import EXPECTED, STORIES, NewsWeb, article_html, json_feed

UA = "newsdedup-test/1.0 (+https://example.org/t)"
TABLES = ("articles", "duplicates", "skipped", "pages", "url_aliases", "signatures")


@pytest.fixture(scope="module")
def web() -> Iterator[NewsWeb]:
    with NewsWeb() as news:
        yield news


@pytest.fixture(scope="module")
def crawled(web: NewsWeb, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The news web after one ``once`` cycle; returns the config path."""
    config = web.write_config(tmp_path_factory.mktemp("e2e"))
    assert service.main(["once", "--config", str(config)]) == 0
    return config


def _db(config: Path) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "news.db")


def _counts(config: Path) -> dict[str, int]:
    with _db(config) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_first_cycle_stores_every_article_page_once(web: NewsWeb, crawled: Path) -> None:
    with _db(crawled) as conn:
        articles = {u for (u,) in conn.execute("SELECT url FROM articles")}
        duplicates = dict(conn.execute("SELECT url, method FROM duplicates"))
    expected_articles = {canonical_url(web.page_urls[k]) for k in EXPECTED["articles"]}
    assert articles == expected_articles
    assert not articles & set(duplicates)
    got = {key: duplicates.get(canonical_url(web.page_urls[key]))
           for key in EXPECTED["duplicates"]}
    assert got == EXPECTED["duplicates"]


def test_duplicates_point_at_the_story_they_copy(web: NewsWeb, crawled: Path) -> None:
    with _db(crawled) as conn:
        rows = conn.execute("SELECT d.url, a.url FROM duplicates d "
                            "JOIN articles a ON a.id = d.article_id").fetchall()
    originals = {"tech-amp-en1": "en1", "wire-en1": "en1", "wire-en2": "en2", "maps-fr1": "fr1"}
    pairs = dict(rows)
    for copy, original in originals.items():
        assert pairs[canonical_url(web.page_urls[copy])] == canonical_url(web.page_urls[original])


def test_off_topic_pages_are_remembered_not_stored(web: NewsWeb, crawled: Path) -> None:
    with _db(crawled) as conn:
        skipped = dict(conn.execute("SELECT url, reason FROM skipped"))
        titles = {t for (t,) in conn.execute("SELECT title FROM articles")}
    assert {skipped.get(canonical_url(web.page_urls[k])) for k in EXPECTED["skipped"]} == {
        "off_topic"}
    assert STORIES["off_en"]["title"] not in titles


def test_robots_txt_is_obeyed_and_user_agent_sent_everywhere(web: NewsWeb, crawled: Path) -> None:
    requests = web.all_requests()
    assert requests
    assert all(r.headers.get("user-agent") == UA for _, r in requests)
    tech_paths = web.sites["tech"].paths()
    assert "/robots.txt" in tech_paths
    assert not [p for p in tech_paths if p.startswith("/private/")]


def test_clean_text_and_metadata_are_stored(web: NewsWeb, crawled: Path) -> None:
    url = canonical_url(web.page_urls["fr2"])
    with _db(crawled) as conn:
        title, language, text = conn.execute(
            "SELECT title, language, text FROM articles WHERE url = ?", (url,)).fetchone()
    assert title.startswith(STORIES["fr2"]["title"]) and language == "fr"
    for paragraph in STORIES["fr2"]["paragraphs"]:
        assert text.count(paragraph) == 1
    assert "Share" not in text and "Related" not in text and "All rights reserved" not in text


def test_second_cycle_is_conditional_and_adds_nothing(web: NewsWeb, crawled: Path) -> None:
    before = _counts(crawled)
    marks = {name: len(srv.requests) for name, srv in web.sites.items()}
    assert service.main(["once", "--config", str(crawled)]) == 0
    assert _counts(crawled) == before
    later = [(name, r) for name, srv in web.sites.items() for r in srv.requests[marks[name]:]]
    sources = {"/feed.xml", "/atom.xml", "/feed.json", "/sitemap_index.xml",
               "/sitemap-news.xml", "/sitemap-pages.xml", "/2025/fr4.html"}
    asked = {r.path for _, r in later}
    assert sources <= asked
    assert asked - sources <= {"/robots.txt"}, "an article page was fetched again"
    for _, r in later:
        if r.path in sources:
            assert r.headers.get("if-none-match") or r.headers.get("if-modified-since"), r.path
    etags = {r.path: r.headers.get("if-none-match") for _, r in later}
    assert etags["/feed.xml"] == '"tech-v1"' and etags["/atom.xml"] == 'W/"j-1"'


def test_restart_keeps_decisions_and_catches_a_new_copy(web: NewsWeb, crawled: Path) -> None:
    wire = web.sites["wire"]
    html = article_html("en2", site="Another Wire", title="Musk's own emails, revisited",
                        extra="Reporting by our correspondents.")
    wire.add("/wire/again-en2", html)
    items = [(STORIES["en5"]["title"], wire.url("/wire/en5")),
             ("Musk's own emails, revisited", wire.url("/wire/again-en2"))]
    wire.add("/feed.json", json_feed(items), content_type="application/feed+json",
             last_modified="Sun, 23 Nov 2025 08:00:00 GMT")
    before = _counts(crawled)
    assert service.main(["once", "--config", str(crawled)]) == 0  # a new process state
    with _db(crawled) as conn:
        row = conn.execute("SELECT d.method, a.url FROM duplicates d JOIN articles a "
                           "ON a.id = d.article_id WHERE d.url = ?",
                           (canonical_url(wire.url("/wire/again-en2")),)).fetchone()
    assert row == ("near", canonical_url(web.page_urls["en2"]))
    assert _counts(crawled)["articles"] == before["articles"]


def test_stats_reports_tables_sources_and_last_cycle(crawled: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert service.main(["stats", "--config", str(crawled)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tables"]["articles"] == len(EXPECTED["articles"])
    assert out["per_source"]["tech"]["articles"] >= 3
    assert out["last_cycle"]["counts"]
    assert out["failing_sources"] == []


def test_bad_config_exits_2_naming_the_key(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[fetch]\nconcurrency = 0\n")
    assert service.main(["once", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "fetch.concurrency" in err and "0" in err


def test_missing_config_exits_2(tmp_path: Path) -> None:
    assert service.main(["once", "--config", str(tmp_path / "none.toml")]) == 2


def test_failing_source_is_counted_and_cycle_still_exits_0(tmp_path: Path, web: NewsWeb) -> None:
    config = tmp_path / "c.toml"
    broken = web.sites["tech"].url("/no-such-feed.xml")
    config.write_text(
        f'[store]\npath = "{tmp_path / "n.db"}"\n[fetch]\nper_host_delay_seconds = 0\n'
        f'allow_private_addresses = true\n[[sources]]\nname = "broken"\nurl = "{broken}"\n'
        f'[[sources]]\nname = "wire"\nurl = "{web.sites["wire"].url("/feed.json")}"\n')
    assert service.main(["once", "--config", str(config)]) == 0
    with sqlite3.connect(tmp_path / "n.db") as conn:
        failing = conn.execute("SELECT name, last_status FROM sources "
                               "WHERE consecutive_failures > 0").fetchall()
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] >= 1
    assert failing == [("broken", 404)]


def test_extract_prints_one_json_line_per_file_in_order(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    import gzip

    first = tmp_path / "a.html"
    first.write_text(article_html("en3", site="Tech Daily"), encoding="utf-8")
    second = tmp_path / "b.html.gz"
    second.write_bytes(gzip.compress(article_html("fr3", site="Le Journal").encode()))
    assert service.main(["extract", str(first), str(second)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["file"] for x in lines] == [str(first), str(second)]
    assert set(lines[0]) == {"file", "title", "author", "published", "language",
                             "declared_language", "language_confidence", "access", "text"}
    assert lines[0]["language"] == "en" and lines[1]["language"] == "fr"
    assert {x["access"] for x in lines} == {"unknown"}  # the pages say nothing of it
    assert all(0.5 < x["language_confidence"] <= 1 for x in lines)
    assert STORIES["fr3"]["paragraphs"][0] in lines[1]["text"]


def test_extract_explain_lists_removed_lines_and_a_bad_file_fails_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "a.html"
    good.write_text(article_html("en2", site="Tech Daily"), encoding="utf-8")
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body></body></html>", encoding="utf-8")
    assert service.main(["extract", "--explain", str(empty), str(good)]) == 1
    first, second = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert first["file"] == str(empty) and first["error"] and first["text"] == ""
    assert second["text"] and isinstance(second["removed"], list)
    assert all(set(r) == {"rule", "text"} and r["rule"] for r in second["removed"])


def test_a_record_made_elsewhere_during_a_cycle_is_indexed_at_the_next(tmp_path: Path) -> None:
    """An editor's split commits a record while the daemon's cycle stores its own: the
    split's id is below the cycle's last one, and the next refresh must still index it
    (and not index the cycle's own records twice)."""
    from test_storage import _new

    from ingest.config import load_config_text
    from ingest.dedup.minhash import fingerprint
    from store.db import Store

    config = load_config_text(f'[store]\npath = "{tmp_path / "news.db"}"\n'
                              "[extract]\nworkers = 1\n")
    daemon = service.Service(config)
    try:
        before = daemon.store.max_article_id()
        elsewhere = _new("https://b.example/split", "Words of a page an editor split "
                         "off, long enough to have shingles of its own for the index.")
        with Store.open(tmp_path / "news.db") as editor:
            split_id = editor.add_article(elsewhere)           # during the cycle...
        own = _new("https://a.example/own")
        own_id = daemon.store.add_article(own)                 # ...and the cycle's own
        daemon.index.add(own_id, own.fingerprint)
        assert split_id < own_id
        daemon._indexed = (daemon._indexed[0], before)         # as cycle() leaves it
        daemon._refresh_index()
        found = daemon.index.find(fingerprint(elsewhere.article.text, "en", config.dedup))
        assert (found.method, found.duplicate_of) == ("near", split_id)
        assert len(daemon.index) == 2
    finally:
        daemon.close()
