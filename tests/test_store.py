"""The SQLite store on real files: schema, transactions, lookups, concurrent readers."""

from __future__ import annotations

import sqlite3
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from sqlite_utils import Database

from ingest.config import DedupSettings
from ingest.dedup.index import fingerprint
from ingest.errors import StoreError
from ingest.types import CleanedArticle, NewArticle, NewDuplicate, Paragraph, RawPage, Removal
from store.db import Store
from store.learning import key_hash
from store.schema import MIGRATIONS

TEXT = ("Elon Musk asked a federal judge to stop OpenAI from completing its change into a "
        "for-profit company, arguing that the lab was founded as a charity.")


def _article(url: str, text: str = TEXT, **kw: object) -> CleanedArticle:
    fields: dict[str, object] = dict(url=url, title="T", author="A", published="2025-11-22",
                                     language="en", paragraphs=(Paragraph(text),),
                                     removed=(Removal("Share this", "share_widget"),))
    fields.update(kw)
    return CleanedArticle(**fields)  # type: ignore[arg-type]


def _new(url: str, page_url: str | None = None, text: str = TEXT) -> NewArticle:
    article = _article(url, text)
    page = RawPage(url=page_url or url, final_url=page_url or url, source="s",
                   html=b"<html>" + text.encode() + b"</html>", fetched_at="2025-11-22T08:00:00")
    return NewArticle(url=url, source="s", article=article,
                      fingerprint=fingerprint(text, "en", DedupSettings()), page=page)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "news.db")


def test_open_is_wal_and_migrations_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    with Store.open(path) as first:
        applied = first.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        assert applied >= 2 and MIGRATIONS.pending(first.db) == []
    with Store.open(path) as again:
        assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert again.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == (
            applied)


def test_article_round_trip_with_signature_page_removals_and_fts(store: Store) -> None:
    article_id = store.add_article(_new("https://a.example/x"))
    assert store.article_for_url("https://a.example/x") == article_id
    fp = store.fingerprint(article_id)
    assert fp is not None and fp == _new("https://a.example/x").fingerprint
    assert store.article_for_hash(fp.content_hash) == article_id
    html = store.conn.execute("SELECT html FROM pages").fetchone()[0]
    assert zlib.decompress(html).startswith(b"<html>Elon Musk")
    assert store.conn.execute("SELECT rule, text FROM removals").fetchall() == [
        ("share_widget", "Share this")]
    hits = store.conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'charite OR charity'").fetchall()
    assert hits == [(article_id,)]


def test_article_fetched_under_another_url_records_that_url_as_duplicate(store: Store) -> None:
    article_id = store.add_article(_new("https://a.example/x", page_url="https://a.example/amp/x"))
    rows = store.conn.execute("SELECT url, article_id, method FROM duplicates").fetchall()
    assert rows == [("https://a.example/amp/x", article_id, "url")]
    assert store.known_url("https://a.example/amp/x") is not None
    assert store.known_url("https://a.example/x").kind == "article"  # type: ignore[union-attr]


def test_failed_write_rolls_back_whole_page(store: Store) -> None:
    store.add_article(_new("https://a.example/x"))
    with pytest.raises(StoreError) as info:
        store.add_article(_new("https://a.example/x", text="Another text entirely here."))
    assert info.value.url == "https://a.example/x"
    counts = [store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("articles", "signatures", "pages", "removals")]
    assert counts == [1, 1, 1, 1]


def test_duplicate_points_at_its_record(store: Store) -> None:
    article_id = store.add_article(_new("https://a.example/x"))
    store.add_duplicate(NewDuplicate(url="https://b.example/y", source="b", article_id=article_id,
                                     method="near", similarity=0.91,
                                     fetched_at="2025-11-22T09:00:00",
                                     article=_article("https://b.example/y")))
    known = store.known_url("https://b.example/y")
    assert known is not None and known.kind == "duplicate" and known.article_id == article_id
    row = store.conn.execute("SELECT method, similarity, title FROM duplicates").fetchone()
    assert row == ("near", 0.91, "T")


def test_update_keeps_the_previous_version(store: Store) -> None:
    article_id = store.add_article(_new("https://a.example/x"))
    new_text = TEXT + " The judge will rule next month."
    rec = _new("https://a.example/x", text=new_text)
    assert store.update_article(article_id, rec.article, rec.fingerprint, rec.page)
    assert not store.update_article(article_id, rec.article, rec.fingerprint, rec.page)
    text, version = store.conn.execute("SELECT text, version FROM articles").fetchone()
    assert text == new_text and version == 2
    old = store.conn.execute("SELECT version, text FROM article_versions").fetchall()
    assert old == [(1, TEXT)]


def test_source_state_keeps_validators_across_failures(store: Store) -> None:
    store.record_source("f", "feed", "https://a.example/f", ok=True, status=200,
                        etag='"v1"', last_modified="Sat, 22 Nov 2025 08:00:00 GMT")
    store.record_source("f", "feed", "https://a.example/f", ok=False, status=503, error="down")
    state = store.source_state("f")
    assert state is not None
    assert (state.etag, state.consecutive_failures, state.last_error) == ('"v1"', 1, "down")
    store.record_source("f", "feed", "https://a.example/f", ok=True, status=304)
    state = store.source_state("f")
    assert state is not None and state.consecutive_failures == 0 and state.etag == '"v1"'


def test_a_reader_holding_a_transaction_does_not_block_writes(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    store = Store.open(path)
    store.add_article(_new("https://a.example/1"))
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    store.add_article(_new("https://a.example/2", text="A different story about Altman."))
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 1  # snapshot
    reader.rollback()
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
    reader.close()
    store.close()


def test_www_mobile_and_scheme_variants_are_known(store: Store) -> None:
    article_id = store.add_article(_new("https://www.a.example/news/x"))
    for variant in ("http://a.example/news/x/", "https://m.a.example/amp/news/x"):
        known = store.known_url(variant)
        assert known is not None and known.article_id == article_id
        assert store.article_for_url(variant) == article_id
    assert store.known_url("https://www.a.example/news/y") is None


def _site_record(url: str, text: str, learn: tuple[tuple[str, str], ...] = ()) -> NewArticle:
    rec = _new(url, text=text)
    return NewArticle(url=rec.url, source=rec.source, article=rec.article,
                      fingerprint=rec.fingerprint, page=rec.page, site="gazette.example",
                      learn=learn)


def test_site_articles_narrows_to_records_holding_the_template_sample(store: Store) -> None:
    house = "The Gazette is printed by Coastal Media on Pier Street 12."
    key = "the gazette is printed by coastal media on pier street #"
    for i in range(6):
        text = f"Story number {i} about the OpenAI trial." + (f"\n\n{house}" if i % 2 else "")
        store.add_article(_site_record(f"https://gazette.example/{i}", text,
                                       ((key, house),) if i % 2 else ()))
    found = store.site_articles("gazette.example", frozenset({key}))
    assert [text.endswith(house) for _, text, _ in found] == [True, True, True]
    assert len(store.site_articles("gazette.example")) == 6


def test_site_template_needs_two_records_at_least(store: Store) -> None:
    key, text = "sign up for the gazette letter", "Sign up for the Gazette letter"
    for i in range(3):
        store.add_article(_site_record(f"https://gazette.example/t{i}", f"Story {i}.\n\n{text}",
                                       ((key, text),)))
    assert store.site_template("gazette.example", 3) == {key}
    assert store.site_template("gazette.example", 4) == frozenset()
    with pytest.raises(ValueError, match=">= 2"):
        store.site_template("gazette.example", 1)


def _counts(store: Store) -> tuple[dict[str, int], int]:
    rows = store.conn.execute("SELECT key, pages FROM site_paragraphs").fetchall()
    sightings = store.conn.execute("SELECT count(*) FROM site_paragraph_sightings").fetchone()
    return dict(rows), sightings[0]


def test_a_paragraph_seen_once_is_only_a_hash_then_counts_from_its_second_record(
    store: Store,
) -> None:
    house = "Printed by Coastal Media on Pier Street"
    key = house.lower()
    store.add_article(_site_record("https://gazette.example/a", "A.\n\n" + house,
                                   ((key, house), ("a story", "A story"))))
    assert _counts(store) == ({}, 2)
    store.add_article(_site_record("https://gazette.example/b", "B.\n\n" + house,
                                   ((key, house),)))
    store.add_article(_site_record("https://gazette.example/c", "C.\n\n" + house,
                                   ((key, house), ("c story", "C story"))))
    assert _counts(store) == ({key: 3}, 3)
    first = store.conn.execute("SELECT first_seen FROM site_paragraph_sightings WHERE hash = ?",
                               (key_hash(key),)).fetchone()
    row = store.conn.execute("SELECT sample, first_seen FROM site_paragraphs").fetchone()
    assert row == (house, first[0])
    # Another site's sighting of the same paragraph is its own.
    store.add_article(replace(_site_record("https://other.example/a", house, ((key, house),)),
                              site="other.example"))
    assert _counts(store) == ({key: 3}, 4)


def test_migration_0008_moves_single_sightings_to_hashes(tmp_path: Path) -> None:
    db = Database(tmp_path / "old.db")
    MIGRATIONS.apply(db, stop_before="0008_paragraph_sightings")
    db.conn.executemany("INSERT INTO site_paragraphs VALUES (?, ?, ?, ?, ?, ?)", [
        ("s.example", "once", 1, "Once", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
        ("s.example", "twice", 2, "Twice", "2025-01-02T00:00:00Z", "2025-01-03T00:00:00Z"),
    ])
    db.conn.commit()
    db.close()
    with Store.open(tmp_path / "old.db") as store:
        assert _counts(store) == ({"twice": 2}, 2)
        store.add_article(replace(_site_record("https://s.example/x", "Once"),
                                  site="s.example", learn=(("once", "Once"),)))
        assert _counts(store)[0] == {"twice": 2, "once": 2}
        first = store.conn.execute("SELECT first_seen FROM site_paragraphs WHERE key = 'once'")
        assert first.fetchone()[0] == "2025-01-01T00:00:00Z"
