"""The editors' report as typed values, assembled from one snapshot of the store.

Read-only, so it runs beside the daemon (WAL gives it a consistent view
inside one read transaction). The SQL lives in :mod:`store.reportreads`,
like everything that touches SQLite; this module only turns its rows into
the report's values, adding what is the report's own: word diffs, the review
commands that override a decision, anchors, the summary. Every format (HTML,
JSON, CSV) is rendered from the same :class:`Report`, which is how they carry
the same data::

    with Store.open("news.db") as store:
        report = load_report(store.conn, ReportFilters(since="2025-11-01"))
    report.summary.duplicates, report.clusters[0].record.title

Times are the store's ISO 8601 UTC strings; ``since`` is compared with the
time a duplicate was decided and a record was fetched.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime

from report.diff import WordDiff, word_diff
from store.reportreads import (
    Connection,
    DuplicateRow,
    RecordRow,
    RemovalRow,
    ReviewRow,
    read_snapshot,
    record_text,
    records_by_id,
    removals,
    report_duplicates,
    report_records,
    reviews,
)

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
    access: str = "unknown"
    """``paywalled`` when the page says only subscribers read it whole (a teaser)."""

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


RemovedBlock = RemovalRow
"""A block that cleaning removed from a record (the store's row, shown as it is)."""


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
    editor: str | None = None  # who made it in the review app (None: the command line)


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: str
    filters: ReportFilters
    summary: Summary
    clusters: tuple[Cluster, ...]
    singles: tuple[Record, ...]  # the newest SINGLES_LIMIT records without duplicates
    singles_total: int
    reviews: tuple[Review, ...]


def load_report(conn: Connection, filters: ReportFilters) -> Report:
    """Read everything the report shows, inside one read transaction."""
    with read_snapshot(conn) as snapshot:
        return _load(snapshot, filters)


def _load(conn: Connection, filters: ReportFilters) -> Report:
    records = _records(report_records(conn, filters.since, filters.source), filters,
                       in_scope=True)
    duplicates = report_duplicates(conn, filters.since, filters.source)
    extra = {d.article_id for d in duplicates} - set(records)
    records.update(_records(records_by_id(conn, extra), filters, in_scope=False))
    grouped: dict[int, list[DuplicateRow]] = {}
    for row in duplicates:
        grouped.setdefault(row.article_id, []).append(row)
    clusters = [_cluster(conn, records[i].record, rows, filters) for i, rows in grouped.items()]
    clusters.sort(key=lambda c: (c.record.date, c.record.id), reverse=True)
    singles = sorted((r.record for i, r in records.items() if i not in grouped and r.in_scope),
                     key=lambda r: (r.date, r.id), reverse=True)
    return Report(_now(), filters, _summary(records, duplicates, filters), tuple(clusters),
                  tuple(singles[:SINGLES_LIMIT]), len(singles),
                  tuple(_review(row, filters) for row in reviews(conn)))


# -- records and duplicates ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scoped:
    record: Record
    in_scope: bool  # counted in the summary (not only shown because a duplicate is)


def _records(rows: list[RecordRow], f: ReportFilters, *, in_scope: bool) -> dict[int, _Scoped]:
    return {row.id: _Scoped(_record(row, f), in_scope) for row in rows}


def _record(row: RecordRow, f: ReportFilters) -> Record:
    command = review_command(f.config, "merge", "OTHER_ID", "--into", str(row.id))
    return Record(row.id, row.url, row.source, row.title, row.published, row.fetched_at,
                  row.language, row.sitename, row.word_count, command, row.declared_language,
                  row.access)


def _cluster(conn: Connection, record: Record, rows: list[DuplicateRow],
             f: ReportFilters) -> Cluster:
    """Texts are read per entry: most records of a large store have no duplicate."""
    text = record_text(conn, record.id)
    removed = tuple(removals(conn, record.id))
    return Cluster(record, tuple(_with_diff(r, text, f) for r in rows), removed)


def _with_diff(row: DuplicateRow, text: str, f: ReportFilters) -> Duplicate:
    diff = word_diff(text, row.text) if row.text else None
    command = review_command(f.config, "split", str(row.id))
    return Duplicate(row.id, row.article_id, row.url, row.source, row.method, row.similarity,
                     row.title, row.language, row.fetched_at, row.decided_at, diff, command,
                     row.declared_language)


# -- summary and reviews ------------------------------------------------------------------


def _summary(records: dict[int, _Scoped], duplicates: list[DuplicateRow],
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


def _review(row: ReviewRow, f: ReportFilters) -> Review:
    return Review(row.id, row.action, row.article_id, row.target_id, row.duplicate_id, row.url,
                  row.method, row.similarity, row.note, row.at, _undo(row, f), row.editor)


def _undo(row: ReviewRow, f: ReportFilters) -> str | None:
    """Where the page stands now, found by its URL: a ``reprocess`` renumbers duplicates.
    A merge is undone by splitting the duplicate it made; a split by merging the record
    it made back into the one it left, while both still exist."""
    if row.action == "merge":
        if row.duplicate_at_url is None:
            return None
        return review_command(f.config, "split", str(row.duplicate_at_url))
    if row.record_at_url is None or not row.target_exists:
        return None
    return review_command(f.config, "merge", str(row.record_at_url), "--into", str(row.target_id))


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
