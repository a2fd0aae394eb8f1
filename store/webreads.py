"""The review app's reads: the decisions list (filtered, newest first, a page at a time)
and the full-text search, on either backend.

Pages are found by *keyset*, not by offset: "the 50 decisions decided before this
one", an index range (``duplicates_decided_at``) however deep the editor pages, so
the list answers as fast at a million records as at ten. Full-text search goes
through each backend's own index (SQLite's ``articles_fts``, PostgreSQL's
``articles.search``); what an editor types is quoted word by word, never passed as
query syntax::

    page = decisions(store.conn, DecisionFilters(method="near", reviewed=False), limit=50)
    page.rows[0].similarity, page.next_before      # -> 0.86, ("2026-12-01T...", 4411)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class DecisionFilters:
    source: str | None = None
    method: str | None = None
    min_similarity: float | None = None
    max_similarity: float | None = None
    since: str | None = None  # decided at or after (ISO 8601 UTC prefix)
    until: str | None = None  # decided before
    reviewed: bool | None = None
    query: str | None = None  # full-text, over the records' titles and texts
    before: tuple[str, int] | None = None  # keyset: decisions strictly older than this


@dataclass(frozen=True, slots=True)
class DecisionRow:
    id: int
    url: str
    title: str | None
    source: str
    method: str
    similarity: float
    decided_at: str
    article_id: int
    record_title: str | None
    record_url: str
    reviewed_by: str | None
    reviewed_at: str | None


@dataclass(frozen=True, slots=True)
class DecisionPage:
    rows: list[DecisionRow] = field(default_factory=list)
    next_before: tuple[str, int] | None = None  # the cursor of the next (older) page


_SELECT = (
    "SELECT d.id, d.url, d.title, d.source, d.method, d.similarity, d.decided_at, "
    "d.article_id, a.title, a.url, m.editor, m.at FROM duplicates d "
    "JOIN articles a ON a.id = d.article_id "
    "LEFT JOIN decision_marks m ON m.duplicate_id = d.id ")


def decisions(conn: Any, f: DecisionFilters, *, limit: int = 50) -> DecisionPage:
    """One page of decisions (duplicates) matching ``f``, newest first."""
    where, params = _where(conn, f)
    sql = (_SELECT + (f"WHERE {' AND '.join(where)} " if where else "")
           + "ORDER BY d.decided_at DESC, d.id DESC LIMIT ?")
    rows = [DecisionRow(*row) for row in conn.execute(sql, (*params, limit + 1)).fetchall()]
    more = len(rows) > limit
    rows = rows[:limit]
    return DecisionPage(rows, (rows[-1].decided_at, rows[-1].id) if more and rows else None)


def _where(conn: Any, f: DecisionFilters) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    for clause, value in (("d.source = ?", f.source), ("d.method = ?", f.method),
                          ("d.similarity >= ?", f.min_similarity),
                          ("d.similarity <= ?", f.max_similarity),
                          ("d.decided_at >= ?", f.since), ("d.decided_at < ?", f.until)):
        if value is not None:
            where.append(clause)
            params.append(value)
    if f.reviewed is not None:
        where.append("m.duplicate_id IS " + ("NOT NULL" if f.reviewed else "NULL"))
    if f.before is not None:  # a row value: one index range, however deep the page
        where.append("(d.decided_at, d.id) < (?, ?)")
        params += [f.before[0], f.before[1]]
    if f.query:
        ids, args = matching_records_sql(conn, f.query)
        where.append(_walk_newest(conn, ids, args) + f"d.article_id IN ({ids})")
        params += args
    return where, params


COMMON_MATCHES = 3000
"""From this many matching records, SQLite walks the decisions newest first and keeps
those of matching records (a common word: 50 are found at once); below it, it reads
the matching records' decisions and sorts them (a rare word: few rows)."""


def _walk_newest(conn: Any, ids: str, args: list[object]) -> str:
    """``+`` (which makes SQLite ignore the ``article_id`` index and walk
    ``duplicates_decided_at``) when ``query`` matches many records; PostgreSQL's
    planner weighs this itself. At a million records a word in a quarter of them took
    0.9 s the other way, 40 ms this way (``bench/review_ttfb.py``)."""
    if _postgres(conn):
        return ""
    (n,) = conn.execute(f"SELECT count(*) FROM ({ids} LIMIT {COMMON_MATCHES})",
                        args).fetchone()
    return "+" if n >= COMMON_MATCHES else ""


def matching_records_sql(conn: Any, query: str) -> tuple[str, list[object]]:
    """A sub-select of the ids of records whose title or text match ``query`` (every word,
    as typed, accents folded on SQLite, stemmed in French and English on PostgreSQL)."""
    words = [w for w in re.findall(r"\w+", query) if w]
    if not words:
        return "SELECT id FROM articles WHERE 0 = 1", []
    if _postgres(conn):
        text = " ".join(words)
        return ("SELECT id FROM articles WHERE search @@ plainto_tsquery('english', ?) "
                "OR search @@ plainto_tsquery('french', ?) "
                "OR search @@ plainto_tsquery('simple', ?)", [text, text, text])
    phrase = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    return "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", [phrase]


def search_records(conn: Any, query: str, *, limit: int = 20,
                   exclude: int | None = None) -> list[tuple[int, str | None, str]]:
    """``(id, title, url)`` of records matching ``query`` (or whose id it is), newest
    first: the merge dialog's target picker."""
    found: list[tuple[int, str | None, str]] = []
    if query.strip().isdigit():
        row = conn.execute("SELECT id, title, url FROM articles WHERE id = ?",
                           (int(query.strip()),)).fetchone()
        if row is not None:
            found.append((int(row[0]), row[1], row[2]))
    ids, args = matching_records_sql(conn, query)
    rows = conn.execute(f"SELECT id, title, url FROM articles WHERE id IN ({ids}) "
                        "ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
    found += [(int(i), t, u) for i, t, u in rows]
    unique: dict[int, tuple[int, str | None, str]] = {}
    for row in found:
        if row[0] != exclude:
            unique.setdefault(row[0], row)
    return list(unique.values())


def record_duplicates(conn: Any, article_id: int) -> list[DecisionRow]:
    """A record's duplicates, oldest decision first, with their reviewed marks."""
    rows = conn.execute(_SELECT + "WHERE d.article_id = ? ORDER BY d.decided_at, d.id",
                        (article_id,)).fetchall()
    return [DecisionRow(*row) for row in rows]


def duplicate_text(conn: Any, duplicate_id: int) -> str | None:
    row = conn.execute("SELECT text FROM duplicates WHERE id = ?", (duplicate_id,)).fetchone()
    return None if row is None else row[0]


def record_version(conn: Any, article_id: int) -> tuple[int, str] | None:
    """What a page showed of a record, to refuse a change made on a stale view:
    ``(version, content_hash)``, None if the record is gone."""
    row = conn.execute("SELECT version, content_hash FROM articles WHERE id = ?",
                       (article_id,)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def duplicate_state(conn: Any, duplicate_id: int) -> tuple[int, str, float] | None:
    """``(record id, method, similarity)`` of a duplicate now, None if it is gone."""
    row = conn.execute("SELECT article_id, method, similarity FROM duplicates WHERE id = ?",
                       (duplicate_id,)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), float(row[2]))


def sources(conn: Any) -> list[str]:
    return [s for (s,) in conn.execute("SELECT DISTINCT source FROM duplicates ORDER BY source")]


def _postgres(conn: Any) -> bool:
    return hasattr(conn, "raw")
