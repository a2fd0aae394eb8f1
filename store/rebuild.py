"""Rebuild the derived tables from the stored raw pages (``newsdedup reprocess``).

When extraction, cleaning or dedup rules improve, every record is redone
from the raw HTML in ``pages`` without refetching. The rebuild is one
transaction: readers see the old tables until it commits, then the new
ones. Record ids are stable for downstream tools: a page that was a record
and is still one keeps its id; a new record gets an id above every old one;
a record that became a duplicate disappears, and its version history moves
to the record it now duplicates::

    with Rebuild(store) as rebuild:
        for page in rebuild.pages():
            ...  # replay each page through the recorder, in original order
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from store.db import decompress_html

_DERIVED = ("duplicates", "signatures", "removals", "url_aliases", "url_keys",
            "site_paragraphs", "site_paragraph_sightings", "articles")


@dataclass(frozen=True, slots=True)
class StoredPage:
    url: str
    final_url: str
    source: str
    html: bytes
    charset: str | None
    fetched_at: str
    feed_updated: str | None
    language_hint: str | None = None


class Rebuild:
    """A write transaction (``BEGIN IMMEDIATE``) that re-creates the derived tables.

    Reads (:meth:`page_urls`, :meth:`load_page`, :meth:`old_text`) work before it
    is entered, so the slow extraction runs without holding the write lock. The
    PostgreSQL store's rebuild (:class:`store.pg.rebuild.PgRebuild`) changes only
    how the transaction starts and ends, and the pages' order column.
    """

    _ORDER = "rowid"
    _DERIVED: tuple[str, ...] = _DERIVED

    def __init__(self, store: Any) -> None:
        self.store = store
        self._old_ids: dict[str, int] = {}
        self._meta: dict[int, tuple[int, str | None]] = {}
        self._next_id = 1

    def page_urls(self) -> list[str]:
        """Stored pages' URLs in the order they were first decided, except that a page an
        editor merged into a record comes after that record's page (see :func:`replay_order`)."""
        urls = [u for (u,) in self.store.conn.execute(
            f"SELECT url FROM pages ORDER BY {self._ORDER}")]
        return replay_order(urls, self._merged_into())

    def _merged_into(self) -> dict[str, str]:
        """URL of each page whose latest review is a merge -> its target record's page URL."""
        rows = self.store.conn.execute(
            "SELECT r.url, p.url FROM reviews r JOIN pages p ON p.article_id = r.target_id "
            "WHERE r.action = 'merge' AND r.id = (SELECT max(id) FROM reviews WHERE url = r.url)")
        return dict(rows.fetchall())

    def cached(self, url: str, rules: str) -> bytes | None:
        """A page's processed value prepared ahead under the same ``rules``, if any."""
        row = self.store.conn.execute("SELECT value FROM reprocess_cache WHERE url = ? AND "
                                      "rules = ?", (url, rules)).fetchone()
        return None if row is None else bytes(row[0])

    def cache(self, url: str, rules: str, value: bytes) -> None:
        """Keep a page's processed value for the replay (``reprocess --prepare``)."""
        with self.store._atomic(url):
            self.store.conn.execute(
                "INSERT INTO reprocess_cache VALUES (?,?,?) ON CONFLICT (url) DO UPDATE SET "
                "rules = excluded.rules, value = excluded.value", (url, rules, value))

    def load_page(self, url: str) -> StoredPage:
        row = self.store.conn.execute(
            "SELECT url, final_url, source, html, charset, fetched_at, feed_updated, "
            "language_hint FROM pages WHERE url = ?", (url,)).fetchone()
        return StoredPage(row[0], row[1], row[2], decompress_html(bytes(row[3])), row[4],
                          row[5], row[6], row[7])

    def old_text(self, url: str) -> tuple[str, str | None, str | None] | None:
        """(text, title, declared language) a page had before the rebuild, as record or
        duplicate. A row stored before migration 0009 (no confidence) kept the page's
        declaration in ``language``: that is its declared language."""
        declared = ("coalesce(declared_language, CASE WHEN language_confidence IS NULL "
                    "THEN language END)")
        row = self.store.conn.execute(
            f"SELECT text, title, {declared} FROM articles WHERE url = ? UNION ALL "
            f"SELECT text, title, {declared} FROM duplicates WHERE url = ? "
            "AND text IS NOT NULL",
            (url, url)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def _begin(self) -> None:
        self.store.conn.execute("BEGIN IMMEDIATE")
        self.store.conn.execute("PRAGMA defer_foreign_keys = ON")

    def _commit(self) -> None:
        self.store.conn.commit()

    def _rollback(self) -> None:
        self.store.conn.rollback()

    def _bump_generation(self) -> None:
        generation = self.store.index_generation() + 1
        self.store.conn.execute(f"PRAGMA user_version = {generation:d}")

    def __enter__(self) -> Rebuild:
        conn = self.store.conn
        self._begin()
        rows = conn.execute("SELECT id, url, version, updated_at FROM articles").fetchall()
        self._old_ids = {url: i for i, url, _, _ in rows}
        self._meta = {i: (v, u) for i, _, v, u in rows}
        self._next_id = max(self._meta, default=0) + 1
        return self

    def clear(self) -> None:
        """Empty the derived tables (inside the transaction) and plan record ids."""
        for table in self._DERIVED:
            self.store.conn.execute(f"DELETE FROM {table}")
        self.store.id_plan = self._plan

    def _plan(self, url: str) -> int:
        if url in self._old_ids:
            return self._old_ids.pop(url)
        self._next_id += 1
        return self._next_id - 1

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.store.id_plan = None
        if e is not None:
            self._rollback()
            return
        try:
            self._finish()
            self._commit()
        except BaseException:
            self._rollback()
            raise

    def _finish(self) -> None:
        conn = self.store.conn
        conn.execute("DELETE FROM reprocess_cache")
        for article_id, (version, updated_at) in self._meta.items():
            conn.execute("UPDATE articles SET version = ?, updated_at = ? WHERE id = ?",
                         (version, updated_at, article_id))
        for url, gone in self._old_ids.items():
            target = conn.execute("SELECT article_id FROM url_aliases WHERE url = ?",
                                  (url,)).fetchone()
            if target is None:
                conn.execute("DELETE FROM article_versions WHERE article_id = ?", (gone,))
            else:
                conn.execute("UPDATE article_versions SET article_id = ? WHERE article_id = ?",
                             (target[0], gone))
        conn.execute("UPDATE pages SET article_id = NULL WHERE article_id NOT IN "
                     "(SELECT id FROM articles)")
        conn.execute("UPDATE pages SET duplicate_id = NULL WHERE duplicate_id NOT IN "
                     "(SELECT id FROM duplicates)")
        self._bump_generation()


def replay_order(urls: list[str], after: Mapping[str, str]) -> list[str]:
    """``urls`` in order, each ``u`` with ``after[u]`` among them moved just after it.

    An editor may merge a page into a record whose page was stored later; the
    replay must record that page first, or the merge would point at a record
    that does not exist yet. Chains are followed; a cycle (which reviews
    cannot make) falls back to the original order.

    >>> replay_order(["a", "b", "c"], {"a": "c"})
    ['b', 'c', 'a']
    """
    present, placed, out = set(urls), set[str](), list[str]()
    waiting: dict[str, list[str]] = {}

    def place(url: str) -> None:
        out.append(url)
        placed.add(url)
        for follower in waiting.pop(url, []):
            place(follower)

    for url in urls:
        target = after.get(url)
        if target in present and target not in placed and target != url:
            waiting.setdefault(target, []).append(url)
        else:
            place(url)
    out.extend(url for url in urls if url not in placed)  # cycles only
    return out
