"""Editors' reviews on real SQLite files: split, merge, what later decisions must respect.

The store-level tests build records through the real store with real pages
(the loopback news web's HTML), so a split re-extracts for real. The
command-line tests crawl the loopback news web with ``service.main(["once"])``,
review through the ``review`` subcommand, and crawl (or ``reprocess``) again.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

import service
from ingest.config import DedupSettings
from ingest.dedup.index import NearDuplicateIndex, fingerprint
from ingest.dedup.minhash import estimate_jaccard
from ingest.errors import ReviewRefused
from ingest.pipeline.review import merge, split
from ingest.types import CleanedArticle, NewArticle, NewDuplicate, Paragraph, RawPage, Removal
from ingest.urls import canonical_url, identity_key
from newsweb import STORIES, NewsWeb, article_html
from report.cli import add_report_parsers
from store.db import Store
from store.schema import MIGRATIONS

SETTINGS = DedupSettings()
EXTRA = "This story was first published by Tech Daily."


def _text(key: str, extra: str | None = None) -> str:
    return "\n\n".join(STORIES[key]["paragraphs"] + ([extra] if extra else []))


def _cleaned(url: str, key: str, extra: str | None = None, title: str | None = None,
             removed: tuple[Removal, ...] = ()) -> CleanedArticle:
    text = _text(key, extra)
    return CleanedArticle(url=url, title=title or STORIES[key]["title"], author=None,
                          published=None, language=STORIES[key]["lang"],
                          paragraphs=tuple(Paragraph(p) for p in text.split("\n\n")),
                          removed=removed)


def _raw(url: str, html: str, source: str = "s") -> RawPage:
    return RawPage(url=url, final_url=url, source=source, html=html.encode(),
                   fetched_at="2025-11-22T08:00:00+00:00")


def _add(store: Store, url: str, key: str, source: str = "s",
         removed: tuple[Removal, ...] = ()) -> int:
    article = _cleaned(url, key, removed=removed)
    return store.add_article(NewArticle(
        url=url, source=source, article=article, page=_raw(url, article_html(key, site="S")),
        fingerprint=fingerprint(article.text, article.language, SETTINGS)))


def _copy(store: Store, record: int, url: str, key: str, *, with_text: bool = True) -> int:
    html = article_html(key, site="Wire Service", title="A wire headline", extra=EXTRA)
    return store.add_duplicate(NewDuplicate(
        url=url, source="wire", article_id=record, method="near", similarity=0.9,
        fetched_at="2025-11-22T08:05:00+00:00", page=_raw(url, html, "wire"),
        article=_cleaned(url, key, EXTRA, "A wire headline") if with_text else None))


def _count(store: Store, sql: str, *params: object) -> int:
    return int(store.conn.execute(f"SELECT count(*) FROM {sql}", params).fetchone()[0])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "news.db") as opened:
        yield opened


# -- split ----------------------------------------------------------------------------------


def test_split_makes_the_duplicate_a_record_of_its_own(store: Store) -> None:
    original = _add(store, "https://tech.example/en1", "en1")
    dup = _copy(store, original, "https://wire.example/en1", "en1")
    done = split(store, dup, settings=SETTINGS, note="a rewrite, not a copy")
    new = done.article_id
    row = store.conn.execute("SELECT url, source, title, text, site, sitename FROM articles "
                             "WHERE id = ?", (new,)).fetchone()
    assert row[:5] == ("https://wire.example/en1", "wire", "A wire headline",
                       _text("en1", EXTRA), "wire.example")
    assert row[5] == "wire.example"  # metadata from the re-extracted raw page
    assert store.fingerprint(new) == fingerprint(_text("en1", EXTRA), "en", SETTINGS)
    assert _count(store, "duplicates WHERE id = ?", dup) == 0
    assert store.known_url("https://wire.example/en1").kind == "article"  # type: ignore[union-attr]
    assert store.article_for_url("https://wire.example/en1") == new
    assert store.conn.execute("SELECT article_id FROM url_keys WHERE key = ?", (
        identity_key("https://wire.example/en1"),)).fetchone() == (new,)
    assert store.conn.execute("SELECT article_id, duplicate_id FROM pages WHERE url = ?",
                              ("https://wire.example/en1",)).fetchone() == (new, None)
    hits = store.conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH "
                              "'headline'").fetchall()
    assert hits == [(new,)]
    assert store.conn.execute("SELECT action, article_id, target_id, duplicate_id, method, "
                              "similarity, note FROM reviews").fetchall() == [
        ("split", new, original, dup, "near", 0.9, "a rewrite, not a copy")]
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_split_reextracts_a_duplicate_stored_without_text(store: Store) -> None:
    original = _add(store, "https://tech.example/en2", "en2")
    dup = _copy(store, original, "https://wire.example/en2", "en2", with_text=False)
    new = split(store, dup, settings=SETTINGS).article_id
    text, title = store.conn.execute("SELECT text, title FROM articles WHERE id = ?",
                                     (new,)).fetchone()
    assert all(text.count(p) == 1 for p in STORIES["en2"]["paragraphs"])
    assert title == "A wire headline" and "Share" not in text
    assert _count(store, "removals WHERE article_id = ?", new) > 0


def test_split_and_merge_keep_the_languages_of_the_page(store: Store) -> None:
    """A split record and a merged duplicate carry the identified language, the page's
    declaration and the confidence, as the crawl stored them (issue 12's columns)."""
    record = _add(store, "https://a.example/one", "en1")
    dup = _copy(store, record, "https://wire.example/one", "en1")
    store.conn.execute("UPDATE duplicates SET declared_language = 'fr', "
                       "language_confidence = 0.93 WHERE id = ?", (dup,))
    store.conn.commit()
    new_id = split(store, dup, settings=SETTINGS).article_id
    row = store.conn.execute("SELECT language, declared_language, language_confidence "
                             "FROM articles WHERE id = ?", (new_id,)).fetchone()
    assert row == ("en", "fr", 0.93)
    merged = merge(store, new_id, into=record).duplicate_id
    row = store.conn.execute("SELECT language, declared_language, language_confidence "
                             "FROM duplicates WHERE id = ?", (merged,)).fetchone()
    assert row == ("en", "fr", 0.93)


def test_a_row_stored_before_migration_0009_is_split_with_its_text_language(
        store: Store) -> None:
    """Before 0009, ``language`` held the page's claim and there was no confidence: a
    split identifies the text's language and keeps the old value as the declaration."""
    record = _add(store, "https://a.example/one", "en1")
    dup = _copy(store, record, "https://wire.example/one", "en1")
    store.conn.execute("UPDATE duplicates SET language = 'fr', declared_language = NULL, "
                       "language_confidence = NULL WHERE id = ?", (dup,))
    store.conn.commit()
    new_id = split(store, dup, settings=SETTINGS).article_id
    row = store.conn.execute("SELECT language, declared_language, language_confidence > 0.5 "
                             "FROM articles WHERE id = ?", (new_id,)).fetchone()
    assert row == ("en", "fr", 1)


def test_split_refuses_what_cannot_be_split_and_writes_nothing(store: Store) -> None:
    # Fetched at an AMP URL, stored under its canonical: that URL is a `url` row, no page.
    store.add_article(NewArticle(
        url="https://tech.example/en3", source="s", article=_cleaned("x", "en3"),
        fingerprint=fingerprint(_text("en3"), "en", SETTINGS),
        page=_raw("https://tech.example/amp/en3", article_html("en3", site="S"))))
    url_row = store.conn.execute("SELECT id FROM duplicates").fetchone()[0]
    with pytest.raises(ReviewRefused, match="nothing to split"):
        split(store, url_row, settings=SETTINGS)
    with pytest.raises(ReviewRefused, match="no duplicate 999"):
        split(store, 999, settings=SETTINGS)
    assert (_count(store, "reviews"), _count(store, "articles")) == (0, 1)


# -- merge ----------------------------------------------------------------------------------


def test_merge_folds_a_record_and_everything_it_owns_into_another(store: Store) -> None:
    keep = _add(store, "https://tech.example/en1", "en1")
    folded = _add(store, "https://other.example/en1", "en2",
                  removed=(Removal("Share", "share_widget"),))
    _copy(store, folded, "https://wire.example/en2", "en2")
    rec = _cleaned("https://other.example/en1", "en2", "An update.")
    store.update_article(folded, rec, fingerprint(rec.text, "en", SETTINGS),
                         _raw("https://other.example/en1", "<html>v2</html>"))
    fp_keep, fp_folded = store.fingerprint(keep), store.fingerprint(folded)
    done = merge(store, folded, into=keep, note="same story")
    assert fp_keep is not None and fp_folded is not None
    assert done.similarity == estimate_jaccard(fp_folded.minhash, fp_keep.minhash)
    rows = dict(store.conn.execute("SELECT url, article_id FROM duplicates"))
    assert rows == {"https://other.example/en1": keep, "https://wire.example/en2": keep}
    method = store.conn.execute("SELECT method, text FROM duplicates WHERE id = ?",
                                (done.duplicate_id,)).fetchone()
    assert method == ("review", rec.text)
    assert store.article_for_url("https://other.example/en1") == keep
    assert store.known_url("https://other.example/en1").kind == "duplicate"  # type: ignore
    for table in ("articles WHERE id = ?", "signatures WHERE article_id = ?",
                  "removals WHERE article_id = ?", "article_versions WHERE article_id = ?",
                  "url_keys WHERE article_id = ?", "articles_fts WHERE rowid = ?"):
        assert _count(store, table, folded) == 0, table
    assert _count(store, "article_versions WHERE article_id = ?", keep) == 1  # moved along
    assert store.conn.execute("SELECT article_id, duplicate_id FROM pages WHERE url = ?", (
        "https://other.example/en1",)).fetchone() == (None, done.duplicate_id)
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_merge_refuses_impossible_requests(store: Store) -> None:
    a = _add(store, "https://tech.example/en1", "en1")
    b = _add(store, "https://tech.example/en2", "en2")
    c = _add(store, "https://tech.example/en3", "en3")
    dup = _copy(store, a, "https://wire.example/en1", "en1")
    with pytest.raises(ReviewRefused, match="into itself"):
        merge(store, a, into=a)
    with pytest.raises(ReviewRefused, match="record 77 does not exist"):
        merge(store, 77, into=a)
    merge(store, b, into=a)
    with pytest.raises(ReviewRefused, match=f"merged it into record {a}"):
        merge(store, c, into=b)
    ghost = max(a, b, c, dup) + 10  # record and duplicate ids are separate sequences
    store.conn.execute("INSERT INTO duplicates (id, url, article_id, similarity, method, "
                       "source, fetched_at, decided_at) VALUES (?, 'https://x.example/g', ?, "
                       "1.0, 'exact', 's', 't', 't')", (ghost, a))
    store.conn.commit()
    with pytest.raises(ReviewRefused, match=f"id of a duplicate of record {a}"):
        merge(store, c, into=ghost)
    assert _count(store, "reviews") == 1


# -- what later decisions respect -----------------------------------------------------------


def test_split_pairs_are_excluded_both_ways_and_through_merges(store: Store) -> None:
    a = _add(store, "https://tech.example/en1", "en1")
    z = _add(store, "https://tech.example/en3", "en3")
    dup = _copy(store, a, "https://wire.example/en1", "en1")
    b = split(store, dup, settings=SETTINGS).article_id
    assert store.review_exclusions("https://wire.example/en1") == {a}
    assert store.review_exclusions("https://tech.example/en1") == {b}
    assert store.review_exclusions("https://tech.example/en3") == frozenset()
    merge(store, a, into=z)  # the old record now lives on as record z
    assert store.review_exclusions("https://wire.example/en1") == {z}
    assert store.review_exclusions("https://tech.example/en1") == {b}
    assert store.review_merge_target("https://tech.example/en1")[0] == z  # type: ignore[index]


def test_merging_the_split_page_back_lifts_the_exclusion(store: Store) -> None:
    a = _add(store, "https://tech.example/en1", "en1")
    b = split(store, _copy(store, a, "https://wire.example/en1", "en1"),
              settings=SETTINGS).article_id
    assert store.review_merge_target("https://wire.example/en1") is None
    done = merge(store, b, into=a, note="it was a copy after all")
    assert store.review_exclusions("https://wire.example/en1") == frozenset()
    assert store.review_merge_target("https://wire.example/en1") == (a, done.similarity)


def test_the_index_skips_the_record_a_page_was_split_from(store: Store) -> None:
    """The contract the recorder relies on: ``find(fp, exclude=review_exclusions(...))``."""
    a = _add(store, "https://tech.example/en1", "en1")
    b = split(store, _copy(store, a, "https://wire.example/en1", "en1"),
              settings=SETTINGS).article_id
    index = NearDuplicateIndex(SETTINGS, store.fingerprint)
    index.load(store.band_rows())
    page = fingerprint(_text("en1", EXTRA + " Updated."), "en", SETTINGS)
    # Re-deciding the page (as reprocess does) while its own record is set aside:
    assert index.find(page, exclude={b}).duplicate_of == a
    excluded = store.review_exclusions("https://wire.example/en1") | {b}
    assert index.find(page, exclude=excluded).method == "new"


# -- schema ---------------------------------------------------------------------------------


def test_upgrade_widens_duplicates_method_and_keeps_rows_keys_and_triggers(
        tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    MIGRATIONS.apply(db, stop_before="0003_reviews")
    db.execute("INSERT INTO articles (id, url, source, text, content_hash, fetched_at) "
               "VALUES (1, 'https://a.example/x', 's', 'Musk and Altman', 'h', 't')")
    db.execute("INSERT INTO duplicates VALUES (5, 'https://b.example/x', 1, 0.9, 'near', "
               "NULL, NULL, 's', 'en', 't', 't')")
    db.execute("INSERT INTO pages (url, final_url, source, duplicate_id, html, fetched_at) "
               "VALUES ('https://b.example/x', 'https://b.example/x', 's', 5, x'00', 't')")
    db.conn.commit()
    db.conn.close()
    with Store.open(path) as store:
        assert store.conn.execute("SELECT id, method FROM duplicates").fetchall() == [
            (5, "near")]
        assert store.conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        store.conn.execute("INSERT INTO duplicates (id, url, article_id, similarity, method, "
                           "source, fetched_at, decided_at) VALUES (6, 'https://c.example/x', "
                           "1, 0.5, 'review', 's', 't', 't')")
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute("UPDATE duplicates SET method = 'bogus' WHERE id = 6")
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute("INSERT INTO pages (url, final_url, source, duplicate_id, html, "
                               "fetched_at) VALUES ('u', 'u', 's', 999, x'00', 't')")
        indexes = {n for (n,) in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'duplicates'")}
        assert "duplicates_article_id" in indexes
        store.conn.rollback()
        new = _add(store, "https://d.example/y", "en2")
        hits = store.conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH "
                                  "'emails'").fetchall()
        assert hits == [(new,)]
    Store.open(path).close()  # idempotent


# -- the command line over a loopback web ---------------------------------------------------


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_report_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def _crawl(web: NewsWeb, directory: Path) -> tuple[Path, sqlite3.Connection]:
    config = web.write_config(directory)
    assert service.main(["once", "--config", str(config)]) == 0
    return config, sqlite3.connect(directory / "news.db")


def _where(conn: sqlite3.Connection, url: str) -> tuple[str, str | None, str | None]:
    """('article', None, None) or ('duplicate', method, record url) for a page URL."""
    if conn.execute("SELECT 1 FROM articles WHERE url = ?", (url,)).fetchone():
        return ("article", None, None)
    method, record = conn.execute("SELECT d.method, a.url FROM duplicates d JOIN articles a "
                                  "ON a.id = d.article_id WHERE d.url = ?", (url,)).fetchone()
    return ("duplicate", method, record)


@pytest.fixture
def web() -> Iterator[NewsWeb]:
    with NewsWeb() as news:
        yield news


def test_split_by_command_then_an_updated_page_stays_its_own_record(
        web: NewsWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, conn = _crawl(web, tmp_path)
    copy, en1 = (canonical_url(web.page_urls[k]) for k in ("wire-en1", "en1"))
    dup_id = conn.execute("SELECT id FROM duplicates WHERE url = ?", (copy,)).fetchone()[0]
    capsys.readouterr()
    assert _cli(["review", "split", str(dup_id), "--note", "different angle",
                 "--config", str(config)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["action"], out["duplicate_id"], out["url"]) == ("split", dup_id, copy)
    wire = web.sites["wire"]  # the wire copy changes and says so in its feed
    wire.add("/wire/wire-en1", article_html("en1", site="Wire Service", title="Musk v OpenAI",
                                            extra=EXTRA + " Updated with a correction."))
    wire.add("/feed.json", json.dumps({"version": "https://jsonfeed.org/version/1.1",
                                       "title": "Wire", "items": [{
                                           "id": "1", "url": web.page_urls["wire-en1"],
                                           "date_modified": "2025-11-23T08:00:00Z"}]}),
             content_type="application/feed+json")
    assert service.main(["once", "--config", str(config)]) == 0
    outcome = conn.execute("SELECT outcome FROM fetch_log WHERE url = ? AND cycle_id = 2",
                           (copy,)).fetchone()
    assert outcome == ("updated",)
    assert _where(conn, copy) == ("article", None, None)
    assert "correction" in conn.execute("SELECT text FROM articles WHERE url = ?",
                                        (copy,)).fetchone()[0]
    assert _where(conn, canonical_url(web.page_urls["tech-amp-en1"]))[2] == en1


def test_merge_by_command_survives_a_later_cycle(web: NewsWeb, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config, conn = _crawl(web, tmp_path)
    en2, en3 = (canonical_url(web.page_urls[k]) for k in ("en2", "en3"))
    ids = dict(conn.execute("SELECT url, id FROM articles"))
    assert _cli(["review", "merge", str(ids[en3]), "--into", str(ids[en2]),
                 "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["target_id"] == ids[en2]
    with pytest.raises(ReviewRefused):  # service.main turns it into exit 1
        _cli(["review", "merge", str(ids[en3]), "--into", str(ids[en2]),
              "--config", str(config)])
    assert service.main(["once", "--config", str(config)]) == 0
    assert _where(conn, en3) == ("duplicate", "review", en2)
    assert conn.execute("SELECT count(*) FROM articles WHERE url = ?", (en3,)).fetchone() == (0,)


def test_reviews_survive_reprocess(web: NewsWeb, tmp_path: Path) -> None:
    """Depends on the recorder's wiring (ingest/record.py): ``review_merge_target`` forces
    an editor's merge, ``review_exclusions`` keeps split pairs apart, in every tier."""
    config, conn = _crawl(web, tmp_path)
    copy, en1, en2, en3 = (canonical_url(web.page_urls[k])
                           for k in ("wire-en1", "en1", "en2", "en3"))
    dup_id = conn.execute("SELECT id FROM duplicates WHERE url = ?", (copy,)).fetchone()[0]
    ids = dict(conn.execute("SELECT url, id FROM articles"))
    assert _cli(["review", "split", str(dup_id), "--config", str(config)]) == 0
    assert _cli(["review", "merge", str(ids[en3]), "--into", str(ids[en2]),
                 "--config", str(config)]) == 0
    split_id = conn.execute("SELECT id FROM articles WHERE url = ?", (copy,)).fetchone()[0]
    assert service.main(["reprocess", "--config", str(config)]) == 0
    assert _where(conn, copy) == ("article", None, None)
    assert conn.execute("SELECT id FROM articles WHERE url = ?", (copy,)).fetchone() == (
        split_id,)
    assert _where(conn, en3) == ("duplicate", "review", en2)
    assert _where(conn, en1) == ("article", None, None)


def test_a_merge_into_a_later_page_survives_reprocess(web: NewsWeb, tmp_path: Path) -> None:
    """The target record's page was stored after the merged page: the replay must record
    the target first, or the merge would point at a record that does not exist yet."""
    config, conn = _crawl(web, tmp_path)
    en2, en3 = (canonical_url(web.page_urls[k]) for k in ("en2", "en3"))
    order = [u for (u,) in conn.execute("SELECT url FROM pages ORDER BY rowid")]
    assert order.index(en2) < order.index(en3)
    ids = dict(conn.execute("SELECT url, id FROM articles"))
    assert _cli(["review", "merge", str(ids[en2]), "--into", str(ids[en3]),
                 "--config", str(config)]) == 0
    assert service.main(["reprocess", "--config", str(config)]) == 0
    assert _where(conn, en2) == ("duplicate", "review", en3)
    assert conn.execute("SELECT id FROM articles WHERE url = ?", (en3,)).fetchone() == (
        ids[en3],)
