"""A page's writes, in the SQL both backends run: one body for SQLite and PostgreSQL.

:class:`RecordWrites` is a mixin of :class:`store.db.Store` and
:class:`store.pg.db.PgStore`. Each store brings only what its database does its own
way: ``_atomic`` (a transaction or savepoint), ``_learn`` (per-site counts: SQLite's
``json_each``, PostgreSQL's arrays), ``_write_bands`` (PostgreSQL's shared band
table; nothing on SQLite) and ``_write_page`` (the raw page, which moves to the end
of the replay order when written again: SQLite's ``rowid``, PostgreSQL's ``seq``)::

    article_id = store.add_article(record)        # one transaction, either backend
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from ingest.errors import StoreError
from ingest.types import CleanedArticle, Fingerprint, NewArticle, NewDuplicate, RawPage
from ingest.urls import identity_key
from store import sql
from store.revisits import INSERT_RECHECK
from store.sqlvalues import utcnow


class RecordWrites:
    """The writes of :class:`store.protocol.Storage`, each one transaction."""

    conn: Any
    id_plan: Callable[[str], int | None] | None

    def _atomic(self, url: str | None = None) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _learn(self, site: str, paragraphs: tuple[tuple[str, str], ...]) -> None:
        raise NotImplementedError

    def _write_bands(self, article_id: int, bands: bytes) -> None:
        raise NotImplementedError

    def _write_page(self, page: RawPage, *, article_id: int | None = None,
                    duplicate_id: int | None = None) -> None:
        raise NotImplementedError

    def add_article(self, rec: NewArticle) -> int:
        """Store a new record with its signature, raw page, removals and URL aliases."""
        fp = rec.fingerprint
        with self._atomic(rec.url):
            planned = self.id_plan(rec.url) if self.id_plan else None
            values = article_row(rec)
            if planned is None:
                row = self.conn.execute(
                    f"INSERT INTO articles ({sql.ARTICLE_COLUMNS}) VALUES "
                    f"({','.join('?' * len(values))}) RETURNING id", values).fetchone()
            else:  # `reprocess` keeps each record's id
                row = self.conn.execute(
                    f"INSERT INTO articles (id, {sql.ARTICLE_COLUMNS}) VALUES "
                    f"({','.join('?' * (len(values) + 1))}) RETURNING id", (planned, *values)
                ).fetchone()
            article_id = int(row[0])
            self._learn(rec.site, rec.learn)
            self.conn.execute("INSERT INTO signatures VALUES (?,?,?,?,?)",
                              (article_id, fp.language, fp.n_shingles, fp.minhash, fp.bands))
            self._write_bands(article_id, fp.bands)
            self._write_removals(article_id, rec.article)
            self._write_aliases(article_id, {rec.url, rec.page.url}, rec.page.fetched_at)
            self._write_page(rec.page, article_id=article_id)
            if rec.recheck is not None:
                first_seen, step, due = rec.recheck
                self.conn.execute(INSERT_RECHECK, (article_id, rec.page.url, rec.source,
                                                   first_seen, step, due, rec.page.etag,
                                                   rec.page.last_modified))
            if rec.page.url != rec.url:
                # Fetched under another URL (AMP copy, redirect): that URL is a duplicate.
                self._insert_duplicate(NewDuplicate(
                    url=rec.page.url, source=rec.source, article_id=article_id, method="url",
                    similarity=1.0, fetched_at=rec.page.fetched_at))
        return article_id

    def update_article(self, article_id: int, article: CleanedArticle, fp: Fingerprint,
                       page: RawPage) -> bool:
        """Replace a record's content, keeping the previous version; False if unchanged."""
        row = self.conn.execute("SELECT content_hash FROM articles WHERE id = ?",
                                (article_id,)).fetchone()
        if row is None:
            raise StoreError(f"no article {article_id} to update", url=page.url)
        with self._atomic(page.url):
            self.conn.execute("UPDATE articles SET feed_updated = coalesce(?, feed_updated), "
                              "access = ? WHERE id = ?",
                              (page.feed_updated, article.access, article_id))
            if row[0] == fp.content_hash:
                return False
            self.conn.execute(sql.ARCHIVE_VERSION, (utcnow(), article_id))
            self.conn.execute(sql.UPDATE_ARTICLE, update_row(article_id, article, fp, page))
            self.conn.execute(sql.UPSERT_SIGNATURE, (article_id, fp.language, fp.n_shingles,
                                                     fp.minhash, fp.bands))
            self._write_bands(article_id, fp.bands)
            self.conn.execute("DELETE FROM removals WHERE article_id = ?", (article_id,))
            self._write_removals(article_id, article)
            self._write_page(page, article_id=article_id)
        return True

    def add_duplicate(self, rec: NewDuplicate) -> int:
        """Store a page that duplicates stored record ``rec.article_id``."""
        with self._atomic(rec.url):
            duplicate_id = self._insert_duplicate(rec)
            if rec.page is not None:
                self._write_page(rec.page, duplicate_id=duplicate_id)
        return duplicate_id

    def _insert_duplicate(self, rec: NewDuplicate) -> int:
        (duplicate_id,) = self.conn.execute(sql.INSERT_DUPLICATE, duplicate_row(rec)).fetchone()
        self._write_aliases(rec.article_id, {rec.url}, rec.fetched_at)
        return int(duplicate_id)

    def add_skipped(self, url: str, source: str, reason: str, feed_updated: str | None) -> None:
        """Remember a page we will not store (off topic), so it is not fetched again."""
        with self._atomic(url):
            self.conn.execute(
                "INSERT INTO skipped VALUES (?,?,?,?,?) ON CONFLICT (url) DO UPDATE SET "
                "source = excluded.source, reason = excluded.reason, "
                "feed_updated = excluded.feed_updated, at = excluded.at",
                (url, source, reason, feed_updated, utcnow()))

    def record_source(self, name: str, kind: str, url: str, *, ok: bool, status: int | None,
                      error: str | None = None, etag: str | None = None,
                      last_modified: str | None = None, next_attempt_at: str | None = None,
                      ) -> None:
        """Record a source visit; validators are kept from the last success when absent."""
        now = utcnow()
        with self._atomic(url):
            self.conn.execute(sql.UPSERT_SOURCE, (name, kind, url))
            if ok:
                self.conn.execute(sql.SOURCE_OK, (etag, last_modified, status, now, now,
                                                  next_attempt_at, name))
            else:
                self.conn.execute(sql.SOURCE_FAILED, (status, error, now, next_attempt_at, name))

    def begin_cycle(self, sources: Iterable[str], worker: str | None = None) -> int:
        with self._atomic():
            (cycle_id,) = self.conn.execute(sql.BEGIN_CYCLE, (utcnow(), ",".join(sources),
                                                              worker)).fetchone()
        return int(cycle_id)

    def end_cycle(self, cycle_id: int, summary_json: str,
                  fetch_log: Iterable[tuple[str, str | None, str, str | None, str]]) -> None:
        """Close a cycle with its summary and its fetch log rows (url, source, outcome,
        reason, at), in one transaction."""
        with self._atomic():
            self.conn.execute(sql.END_CYCLE, (utcnow(), summary_json, cycle_id))
            self.conn.executemany(sql.FETCH_LOG, ((cycle_id, *row) for row in fetch_log))

    def _write_removals(self, article_id: int, article: object) -> None:
        removed = getattr(article, "removed", ())
        self.conn.executemany(sql.INSERT_REMOVAL,
                              ((article_id, i, r.rule, r.text) for i, r in enumerate(removed)))

    def _write_aliases(self, article_id: int, urls: set[str], at: str) -> None:
        self.conn.executemany("INSERT INTO url_aliases VALUES (?,?,?) ON CONFLICT DO NOTHING",
                              ((u, article_id, at) for u in sorted(urls)))
        self.conn.executemany("INSERT INTO url_keys VALUES (?,?) ON CONFLICT DO NOTHING",
                              ((identity_key(u), article_id) for u in sorted(urls)))


def article_row(rec: NewArticle) -> tuple[object, ...]:
    """A new record's values in :data:`store.sql.ARTICLE_COLUMNS` order."""
    a, fp = rec.article, rec.fingerprint
    return (rec.url, rec.source, a.title, a.author, a.published, a.language, a.text,
            fp.content_hash, rec.page.fetched_at, rec.page.feed_updated, a.sitename,
            len(a.text.split()), rec.site or None, a.declared_language, a.language_confidence,
            a.access)


def update_row(article_id: int, article: CleanedArticle, fp: Fingerprint,
               page: RawPage) -> tuple[object, ...]:
    """:data:`store.sql.UPDATE_ARTICLE`'s parameters."""
    return (article.title, article.author, article.published, article.language,
            article.text, fp.content_hash, page.fetched_at, utcnow(), len(article.text.split()),
            article.declared_language, article.language_confidence, article_id)


def duplicate_row(rec: NewDuplicate) -> tuple[object, ...]:
    """:data:`store.sql.INSERT_DUPLICATE`'s parameters."""
    a = rec.article
    return (rec.url, rec.article_id, rec.similarity, rec.method, a.title if a else None,
            a.text if a else None, rec.source, a.language if a else None, rec.fetched_at,
            utcnow(), a.declared_language if a else None,
            a.language_confidence if a else None)
