"""The editors' report as typed values, read from the store in one snapshot.

Read-only, so it runs beside the daemon (WAL gives it a consistent view
inside one read transaction). Every format (HTML, JSON, CSV) is rendered
from the same :class:`Report`, which is how they carry the same data::

    with Store.open("news.db") as store:
        report = load_report(store.conn, ReportFilters(since="2025-11-01"))
    report.summary.duplicates, report.clusters[0].record.title

Times are the store's ISO 8601 UTC strings; ``since`` is compared with the
time a duplicate was decided and a record was fetched.
"""

from __future__ import annotations

import shlex
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from report.diff import WordDiff, word_diff

DEFAULT_CONFIG = "config.toml"
SINGLES_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class ReportFilters:
    """``since``: ISO 8601 UTC lower bound; ``source``: a configured source name;
    ``config``: the config path to put in the review commands shown."""

    since: str | None = None
    source: str | None = None
    config: str = DEFAULT_CONFIG


@dataclass(frozen=True, slots=True)
class Record:
    id: int
    url: str
    source: str
    title: str | None
    published: str | None
    fetched_at: str
    language: str | None
    sitename: str | None
    word_count: int
    merge_command: str
    declared_language: str | None = None
    """What the page, its header or its feed claimed; ``language`` is the text's."""

    @property
    def anchor(self) -> str:
        return f"record-{self.id}"

    @property
    def date(self) -> str:
        return self.published or self.fetched_at


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A page folded into a record; ``diff`` is None when it has no text of its
    own (the URL the record itself was fetched at)."""

    id: int
    article_id: int
    url: str
    source: str
    method: str
    similarity: float
    title: str | None
    language: str | None
    fetched_at: str
    decided_at: str
    diff: WordDiff | None
    split_command: str
    declared_language: str | None = None

    @property
    def anchor(self) -> str:
        return f"duplicate-{self.id}"


@dataclass(frozen=True, slots=True)
class RemovedBlock:
    position: int
    rule: str
    text: str


@dataclass(frozen=True, slots=True)
class Cluster:
    """One entry of the report: a record, the pages folded into it, and what
    cleaning removed from it."""

    record: Record
    duplicates: tuple[Duplicate, ...]
    removed: tuple[RemovedBlock, ...]


@dataclass(frozen=True, slots=True)
class SourceCount:
    source: str
    records: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts in the period; ``share`` is duplicates / (records + duplicates)."""

    start: str | None
    end: str | None
    records: int
    duplicates: int
    by_source: tuple[SourceCount, ...]
    by_method: tuple[tuple[str, int], ...]

    @property
    def share(self) -> float:
        pages = self.records + self.duplicates
        return self.duplicates / pages if pages else 0.0


@dataclass(frozen=True, slots=True)
class Review:
    """An editor's correction; ``undo_command`` reverses it while it still can be."""

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
    undo_command: str | None


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: str
    filters: ReportFilters
    summary: Summary
    clusters: tuple[Cluster, ...]
    singles: tuple[Record, ...]  # the newest SINGLES_LIMIT records without duplicates
    singles_total: int
    reviews: tuple[Review, ...]


def load_report(conn: sqlite3.Connection, filters: ReportFilters) -> Report:
    """Read everything the report shows, inside one read transaction."""
    in_transaction = conn.in_transaction
    if not in_transaction:
        conn.execute("BEGIN")
    try:
        return _load(conn, filters)
    finally:
        if not in_transaction:
            conn.execute("ROLLBACK")


def _load(conn: sqlite3.Connection, filters: ReportFilters) -> Report:
    records = _records(conn, filters)
    duplicates = _duplicates(conn, filters)
    extra = {d.article_id for d in duplicates} - set(records)
    records.update(_records_by_id(conn, extra, filters))
    grouped: dict[int, list[_DuplicateRow]] = {}
    for row in duplicates:
        grouped.setdefault(row.article_id, []).append(row)
    clusters = [_cluster(conn, records[i].record, rows, filters) for i, rows in grouped.items()]
    clusters.sort(key=lambda c: (c.record.date, c.record.id), reverse=True)
    singles = sorted((r.record for i, r in records.items() if i not in grouped and r.in_scope),
                     key=lambda r: (r.date, r.id), reverse=True)
    return Report(_now(), filters, _summary(records, duplicates, filters), tuple(clusters),
                  tuple(singles[:SINGLES_LIMIT]), len(singles), _reviews(conn, filters))


# -- records and duplicates ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RecordRow:
    record: Record
    in_scope: bool  # counted in the summary (not only shown because a duplicate is)


@dataclass(frozen=True, slots=True)
class _DuplicateRow:
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


_RECORD_SQL = ("SELECT id, url, source, title, published, fetched_at, language, sitename, "
               "word_count, declared_language FROM articles ")


def _records(conn: sqlite3.Connection, f: ReportFilters) -> dict[int, _RecordRow]:
    rows = conn.execute(_RECORD_SQL + "WHERE (? IS NULL OR fetched_at >= ?) AND "
                        "(? IS NULL OR source = ?)", (f.since, f.since, f.source, f.source))
    return {row[0]: _record(row, f, in_scope=True) for row in rows}


def _records_by_id(conn: sqlite3.Connection, ids: set[int],
                   f: ReportFilters) -> dict[int, _RecordRow]:
    found: dict[int, _RecordRow] = {}
    for article_id in sorted(ids):
        row = conn.execute(_RECORD_SQL + "WHERE id = ?", (article_id,)).fetchone()
        found[article_id] = _record(row, f, in_scope=False)
    return found


def _record(row: tuple[Any, ...], f: ReportFilters, *, in_scope: bool) -> _RecordRow:
    article_id, url, source, title, published, fetched_at, language, sitename, words, \
        declared = row
    command = review_command(f.config, "merge", "OTHER_ID", "--into", str(article_id))
    record = Record(article_id, url, source, title, published, fetched_at, language, sitename,
                    words, command, declared)
    return _RecordRow(record, in_scope)


def _duplicates(conn: sqlite3.Connection, f: ReportFilters) -> list[_DuplicateRow]:
    rows = conn.execute(
        "SELECT d.id, d.article_id, d.url, d.source, d.method, d.similarity, d.title, d.text, "
        "d.language, d.fetched_at, d.decided_at, d.declared_language FROM duplicates d "
        "JOIN articles a ON a.id = d.article_id "
        "WHERE (? IS NULL OR d.decided_at >= ?) AND (? IS NULL OR d.source = ? OR a.source = ?) "
        "ORDER BY d.article_id, d.decided_at, d.id",
        (f.since, f.since, f.source, f.source, f.source))
    return [_DuplicateRow(*row) for row in rows]


def _cluster(conn: sqlite3.Connection, record: Record, rows: list[_DuplicateRow],
             f: ReportFilters) -> Cluster:
    """Texts are read per entry: most records of a large store have no duplicate."""
    (text,) = conn.execute("SELECT text FROM articles WHERE id = ?", (record.id,)).fetchone()
    return Cluster(record, tuple(_with_diff(r, text, f) for r in rows), _removed(conn, record.id))


def _with_diff(row: _DuplicateRow, text: str, f: ReportFilters) -> Duplicate:
    diff = word_diff(text, row.text) if row.text else None
    command = review_command(f.config, "split", str(row.id))
    return Duplicate(row.id, row.article_id, row.url, row.source, row.method, row.similarity,
                     row.title, row.language, row.fetched_at, row.decided_at, diff, command,
                     row.declared_language)


def _removed(conn: sqlite3.Connection, article_id: int) -> tuple[RemovedBlock, ...]:
    rows = conn.execute("SELECT position, rule, text FROM removals WHERE article_id = ? "
                        "ORDER BY position, id", (article_id,))
    return tuple(RemovedBlock(*row) for row in rows)


# -- summary and reviews ------------------------------------------------------------------


def _summary(records: dict[int, _RecordRow], duplicates: list[_DuplicateRow],
             f: ReportFilters) -> Summary:
    counted = [r.record for r in records.values() if r.in_scope]
    per_source: dict[str, list[int]] = {}
    for record in counted:
        per_source.setdefault(record.source, [0, 0])[0] += 1
    methods: dict[str, int] = {}
    for dup in duplicates:
        per_source.setdefault(dup.source, [0, 0])[1] += 1
        methods[dup.method] = methods.get(dup.method, 0) + 1
    times = [r.fetched_at for r in counted] + [d.decided_at for d in duplicates]
    return Summary(
        start=f.since or (min(times) if times else None), end=max(times) if times else None,
        records=len(counted), duplicates=len(duplicates),
        by_source=tuple(SourceCount(s, n[0], n[1]) for s, n in sorted(per_source.items())),
        by_method=tuple(sorted(methods.items())))


def _reviews(conn: sqlite3.Connection, f: ReportFilters) -> tuple[Review, ...]:
    rows = conn.execute("SELECT id, action, article_id, target_id, duplicate_id, url, method, "
                        "similarity, note, at FROM reviews ORDER BY id DESC").fetchall()
    return tuple(_review(row, _undo(conn, f, row)) for row in rows)


def _review(row: tuple[Any, ...], undo: str | None) -> Review:
    review_id, action, article_id, target_id, duplicate_id, url, method, sim, note, at = row
    return Review(review_id, action, article_id, target_id, duplicate_id, url, method, sim,
                  note, at, undo)


def _undo(conn: sqlite3.Connection, f: ReportFilters, row: tuple[Any, ...]) -> str | None:
    """Looked up by the page's URL: a ``reprocess`` renumbers duplicates."""
    action, target_id, url = row[1], row[3], row[5]
    if action == "merge":
        dup = conn.execute("SELECT id FROM duplicates WHERE url = ?", (url,)).fetchone()
        return review_command(f.config, "split", str(dup[0])) if dup else None
    new = conn.execute("SELECT id FROM articles WHERE url = ?", (url,)).fetchone()
    old = conn.execute("SELECT id FROM articles WHERE id = ?", (target_id,)).fetchone()
    if new is None or old is None:
        return None
    return review_command(f.config, "merge", str(new[0]), "--into", str(old[0]))


# -- helpers ------------------------------------------------------------------------------


def review_command(config: str, action: str, *args: str) -> str:
    """The shell command an editor runs to override a decision.

    >>> review_command("config.toml", "split", "17")
    'newsdedup review split 17'
    >>> review_command("/srv/news dedup/config.toml", "split", "17")
    "newsdedup review split 17 --config '/srv/news dedup/config.toml'"
    """
    words = ["newsdedup", "review", action, *args]
    if config != DEFAULT_CONFIG:
        words += ["--config", config]
    return " ".join(shlex.quote(w) for w in words)


def parse_since(value: str) -> str:
    """A ``--since`` value (date or datetime, naive means UTC) as the store's ISO UTC.

    >>> parse_since("2025-11-22"), parse_since("2025-11-22T10:00+01:00")
    ('2025-11-22T00:00:00+00:00', '2025-11-22T09:00:00+00:00')
    """
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
