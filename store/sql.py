"""Statements both backends run as written (``?`` placeholders; PostgreSQL's connection
rewrites them, see :mod:`store.pg.conn`): one copy of each, so the two stores cannot
drift apart on what a page's decision reads or what a record's row holds.

Each backend keeps only what its database spells differently (SQLite's
``INSERT OR REPLACE``, ``json_each``; PostgreSQL's arrays and advisory locks)::

    row = store.conn.execute(KNOWN_URL, (url, url, url, url, identity_key(url))).fetchone()
"""

from __future__ import annotations

KNOWN_URL = """
SELECT 'article', id, feed_updated, NULL, NULL, 1 FROM articles WHERE url = ?
UNION ALL SELECT 'duplicate', d.article_id, p.feed_updated, NULL, NULL, 2
    FROM duplicates d LEFT JOIN pages p ON p.url = d.url WHERE d.url = ?
UNION ALL SELECT 'alias', article_id, NULL, NULL, NULL, 3 FROM url_aliases WHERE url = ?
UNION ALL SELECT 'skipped', NULL, feed_updated, reason, at, 4 FROM skipped WHERE url = ?
UNION ALL SELECT 'variant', article_id, NULL, NULL, NULL, 5 FROM url_keys WHERE key = ?
ORDER BY 6 LIMIT 1
"""
"""Where a URL stands, in one round trip: the first that holds it, in this order."""

ARTICLE_FOR_URL = ("SELECT id FROM articles WHERE url = ? UNION ALL "
                   "SELECT article_id FROM url_aliases WHERE url = ? UNION ALL "
                   "SELECT article_id FROM url_keys WHERE key = ? LIMIT 1")

ARTICLE_FOR_HASH = "SELECT id FROM articles WHERE content_hash = ? ORDER BY id LIMIT 1"

FINGERPRINT = ("SELECT s.language, s.n_shingles, s.minhash, s.bands, a.content_hash "
               "FROM signatures s JOIN articles a ON a.id = s.article_id "
               "WHERE s.article_id = ?")

BAND_ROWS = ("SELECT article_id, n_shingles, bands FROM signatures "
             "WHERE article_id > ? ORDER BY article_id")

MAX_ARTICLE_ID = "SELECT coalesce(max(id), 0) FROM articles"

SOURCE_STATE = ("SELECT name, etag, last_modified, consecutive_failures, last_error, "
                "next_attempt_at FROM sources WHERE name = ?")

ARTICLE_COLUMNS = ("url, source, title, author, published, language, text, content_hash, "
                   "fetched_at, feed_updated, sitename, word_count, site, declared_language, "
                   "language_confidence, access")
"""``articles`` columns a new record writes (``id`` aside), in :func:`article_row` order."""

UPDATE_ARTICLE = (
    "UPDATE articles SET title = ?, author = ?, published = ?, language = ?, "
    "text = ?, content_hash = ?, fetched_at = ?, updated_at = ?, word_count = ?, "
    "declared_language = ?, language_confidence = ?, version = version + 1 WHERE id = ?")

ARCHIVE_VERSION = (
    "INSERT INTO article_versions (article_id, version, title, text, content_hash, "
    "fetched_at, replaced_at) SELECT id, version, title, text, content_hash, "
    "fetched_at, ? FROM articles WHERE id = ?")

INSERT_DUPLICATE = (
    "INSERT INTO duplicates (url, article_id, similarity, method, title, text, "
    "source, language, fetched_at, decided_at, declared_language, "
    "language_confidence) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id")

INSERT_REMOVAL = "INSERT INTO removals (article_id, position, rule, text) VALUES (?,?,?,?)"

UPSERT_SOURCE = ("INSERT INTO sources (name, kind, url) VALUES (?,?,?) ON CONFLICT(name) "
                 "DO UPDATE SET kind = excluded.kind, url = excluded.url")

SOURCE_OK = (
    "UPDATE sources SET etag = coalesce(?, etag), last_modified = "
    "coalesce(?, last_modified), last_status = ?, last_error = NULL, "
    "consecutive_failures = 0, last_attempt_at = ?, last_success_at = ?, "
    "next_attempt_at = ? WHERE name = ?")

SOURCE_FAILED = (
    "UPDATE sources SET last_status = ?, last_error = ?, consecutive_failures = "
    "consecutive_failures + 1, last_attempt_at = ?, next_attempt_at = ? WHERE name = ?")

BEGIN_CYCLE = "INSERT INTO cycles (started_at, sources, worker_id) VALUES (?, ?, ?) RETURNING id"

END_CYCLE = "UPDATE cycles SET finished_at = ?, summary = ? WHERE id = ?"

FETCH_LOG = ("INSERT INTO fetch_log (cycle_id, url, source, outcome, reason, at) "
             "VALUES (?,?,?,?,?,?)")

REWRITE_ARTICLE = "UPDATE articles SET text = ?, content_hash = ?, word_count = ? WHERE id = ?"

NEXT_REMOVAL = ("SELECT coalesce(max(position) + 1, 0) FROM removals WHERE article_id = ?")

UPSERT_SIGNATURE = (
    "INSERT INTO signatures VALUES (?,?,?,?,?) ON CONFLICT (article_id) DO UPDATE SET "
    "language = excluded.language, n_shingles = excluded.n_shingles, "
    "minhash = excluded.minhash, bands = excluded.bands")
