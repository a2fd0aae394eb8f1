"""Read-only queries behind the editors' report, as typed rows.

``store/`` is the only code that touches SQLite, so the report reads through
these functions and assembles its own values from the rows they return (the
diffs, review commands and anchors are the report's business, not the
store's). Every function only reads, so it can run beside the daemon; run
them inside :func:`read_snapshot` so that they all see one state of the
database (WAL gives a read transaction a consistent view while the daemon
writes)::

    >>> import tempfile, pathlib
    >>> from store.db import Store
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "news.db"
    >>> with Store.open(path) as store, read_snapshot(store.conn) as conn:
    ...     conn.in_transaction, report_records(conn, since=None, source=None)
    (True, [])
    >>> with Store.open(path) as store:
    ...     with read_snapshot(store.conn) as conn:
    ...         known = source_known(conn, "wire")
    ...     known, store.conn.in_transaction      # the snapshot is released afterwards
    (False, False)

Times are the store's ISO 8601 UTC strings; ``since`` compares with the time
a record was fetched and a duplicate was decided, as plain strings (the store
writes them all in one format, see :mod:`store.sqlvalues`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias

Connection: TypeAlias = sqlite3.Connection
"""The connection these reads take (``Store.conn``), named here so that callers
can type it without importing :mod:`sqlite3` themselves."""


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A row of ``articles`` without its text: most records are listed, few are diffed."""

    id: int
    url: str
    source: str
    title: str | None
    published: str | None
    fetched_at: str
    language: str | None
    sitename: str | None
    word_count: int
    declared_language: str | None
    access: str = "unknown"


@dataclass(frozen=True, slots=True)
class DuplicateRow:
    """A row of ``duplicates``; ``text`` is None for a page with no text of its own
    (the URL the record itself was fetched at)."""

    id: int
    article_id: int
    url: str
    source: str
    method: str
    similarity: float
    title: str | None
    text: str | None
    language: str | None
    fetched_at: str
    decided_at: str
    declared_language: str | None


@dataclass(frozen=True, slots=True)
class RemovalRow:
    """A block that cleaning removed from a record, with the rule that removed it."""

    position: int
    rule: str
    text: str


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """An editor's correction, with where its page stands now.

    A ``reprocess`` renumbers duplicates and a later review can move the page
    again, so what undoes a review is looked up by the page's URL at read time:
    ``duplicate_at_url`` / ``record_at_url`` are the ids the URL has now (None
    if it is not one), ``target_exists`` whether the review's record still does.
    """

    id: int
    action: str
    article_id: int
    target_id: int
    duplicate_id: int | None
    url: str
    method: str | None
    similarity: float | None
    note: str | None
    at: str
    duplicate_at_url: int | None
    record_at_url: int | None
    target_exists: bool
    editor: str | None = None


@contextmanager
def read_snapshot(conn: Connection) -> Iterator[Connection]:
    """One read transaction around every read of a report, so its parts agree.

    Begins one unless the caller already holds a transaction (then the caller's
    is the snapshot, and is left as it was), and rolls it back afterwards: the
    reads write nothing, and a rollback releases the snapshot even after an error.
    """
    in_transaction = conn.in_transaction
    if not in_transaction:  # PostgreSQL: one snapshot for the whole transaction
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                     if hasattr(conn, "raw") else "BEGIN")
    try:
        yield conn
    finally:
        if not in_transaction:
            conn.execute("ROLLBACK")


# -- records and duplicates ---------------------------------------------------------------

_RECORD_SQL = ("SELECT id, url, source, title, published, fetched_at, language, sitename, "
               "word_count, declared_language, access FROM articles ")


def report_records(conn: Connection, since: str | None, source: str | None,
                   ) -> list[RecordRow]:
    """Records fetched at or after ``since`` (None: all) of ``source`` (None: any)."""
    rows = conn.execute(_RECORD_SQL + "WHERE (CAST(? AS TEXT) IS NULL OR fetched_at >= ?) AND "
                        "(CAST(? AS TEXT) IS NULL OR source = ?)", (since, since, source, source))
    return [_record(row) for row in rows]


def records_by_id(conn: Connection, ids: Iterable[int]) -> list[RecordRow]:
    """The records with these ids, in id order; an id that is not a record is left out.

    For the records a duplicate in scope points to but the filters left out
    (one query each: they are few, and ``id`` is the primary key).
    """
    found: list[RecordRow] = []
    for article_id in sorted(ids):
        row = conn.execute(_RECORD_SQL + "WHERE id = ?", (article_id,)).fetchone()
        if row is not None:
            found.append(_record(row))
    return found


def _record(row: tuple[Any, ...]) -> RecordRow:
    return RecordRow(*row)


def report_duplicates(conn: Connection, since: str | None, source: str | None,
                      ) -> list[DuplicateRow]:
    """Duplicates decided at or after ``since``, grouped by record (oldest decision first).

    ``source`` keeps a duplicate from that source or folded into a record of
    it: an editor of one source checks both what it copied and who copied it.
    """
    rows = conn.execute(
        "SELECT d.id, d.article_id, d.url, d.source, d.method, d.similarity, d.title, d.text, "
        "d.language, d.fetched_at, d.decided_at, d.declared_language FROM duplicates d "
        "JOIN articles a ON a.id = d.article_id "
        "WHERE (CAST(? AS TEXT) IS NULL OR d.decided_at >= ?) "
        "AND (CAST(? AS TEXT) IS NULL OR d.source = ? OR a.source = ?) "
        "ORDER BY d.article_id, d.decided_at, d.id",
        (since, since, source, source, source))
    return [DuplicateRow(*row) for row in rows]


def record_text(conn: Connection, article_id: int) -> str:
    """A record's clean text, read on its own: most records of a large store are never
    diffed, so the listing queries leave the text out. Raises KeyError if no such record."""
    row = conn.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
    if row is None:
        raise KeyError(article_id)
    text: str = row[0]
    return text


def removals(conn: Connection, article_id: int) -> list[RemovalRow]:
    """What cleaning removed from a record, in page order."""
    rows = conn.execute("SELECT position, rule, text FROM removals WHERE article_id = ? "
                        "ORDER BY position, id", (article_id,))
    return [RemovalRow(*row) for row in rows]


def source_known(conn: Connection, source: str) -> bool:
    """Whether any record or duplicate came from ``source`` (a source since removed
    from the configuration still has its history)."""
    row = conn.execute("SELECT 1 FROM articles WHERE source = ? UNION ALL "
                       "SELECT 1 FROM duplicates WHERE source = ? LIMIT 1",
                       (source, source)).fetchone()
    return row is not None


# -- reviews ------------------------------------------------------------------------------


_REVIEWS = (
    "SELECT r.id, r.action, r.article_id, r.target_id, r.duplicate_id, r.url, r.method, "
    "r.similarity, r.note, r.at, "
    "(SELECT d.id FROM duplicates d WHERE d.url = r.url), "
    "(SELECT a.id FROM articles a WHERE a.url = r.url), "
    "EXISTS (SELECT 1 FROM articles a WHERE a.id = r.target_id), r.editor "
    "FROM reviews r ")


def reviews(conn: Connection, limit: int | None = None) -> list[ReviewRow]:
    """Every review (or the ``limit`` newest), newest first, with where its page stands
    now (see :class:`ReviewRow`). Both ``url`` columns are UNIQUE, so each lookup is one
    row or none.
    """
    if limit is None:
        rows = conn.execute(_REVIEWS + "ORDER BY r.id DESC").fetchall()
    else:
        rows = conn.execute(_REVIEWS + "ORDER BY r.id DESC LIMIT ?", (limit,)).fetchall()
    return [_review(row) for row in rows]


def reviews_for(conn: Connection, article_id: int, urls: Iterable[str]) -> list[ReviewRow]:
    """The reviews that concern one record: made on it, into it, or on one of ``urls``
    (its own and its duplicates'), newest first, through the three indexes of ``reviews``
    (not the whole table: a record page reads this)."""
    listed = sorted(set(urls))
    marks = ", ".join("?" * len(listed)) or "NULL"
    rows = conn.execute(_REVIEWS + f"WHERE r.article_id = ? OR r.target_id = ? OR r.url IN "
                        f"({marks}) ORDER BY r.id DESC", (article_id, article_id, *listed))
    return [_review(row) for row in rows.fetchall()]


def _review(row: tuple[Any, ...]) -> ReviewRow:
    review_id, action, article_id, target_id, duplicate_id, url, method, similarity, note, \
        at, duplicate_at_url, record_at_url, target_exists, editor = row
    return ReviewRow(review_id, action, article_id, target_id, duplicate_id, url, method,
                     similarity, note, at, duplicate_at_url, record_at_url, bool(target_exists),
                     editor)
