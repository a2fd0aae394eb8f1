"""Revisits, in the SQL both backends run: sources' adaptive cadence, records' re-checks.

A mixin of :class:`store.db.Store` and :class:`store.pg.db.PgStore` (as
:mod:`store.writes`): each store brings ``_atomic`` and ``_one``. The cadence of a
source is decided by :mod:`ingest.pipeline.cadence` and only written here; a
record's re-check schedule is decided by :mod:`ingest.pipeline.recheck` and kept in
``rechecks`` (one row per record, ``due_at`` NULL once its schedule is done)::

    store.record_cadence("wire", SourceCadence(900.0, 4.2, "…", now, later))
    for due in store.due_rechecks(["wire"], now_iso, limit=50):
        ...   # conditional GET with due.etag / due.last_modified
        store.recheck_done(due.article_id, step=due.step + 1, due_at=None, ...)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ingest.types import DueRecheck, SourceCadence
from store.sqlvalues import str_or_none

_CADENCE = ("SELECT interval_seconds, new_per_hour, interval_reason, cadence_at, "
            "next_visit_at FROM sources WHERE name = ?")

_SET_CADENCE = ("UPDATE sources SET interval_seconds = ?, new_per_hour = ?, "
                "interval_reason = ?, cadence_at = ?, next_visit_at = ? WHERE name = ?")

_DUE = ("SELECT r.article_id, r.url, r.source, r.step, r.first_seen, r.etag, "
        "r.last_modified, r.due_at FROM rechecks r JOIN articles a ON a.id = r.article_id "
        "WHERE r.source = ? AND r.due_at IS NOT NULL AND r.due_at <= ? "
        "ORDER BY r.due_at, r.article_id LIMIT ?")

INSERT_RECHECK = ("INSERT INTO rechecks (article_id, url, source, first_seen, step, due_at, "
                  "etag, last_modified) VALUES (?,?,?,?,?,?,?,?) "
                  "ON CONFLICT (article_id) DO NOTHING")
"""A new record's schedule (``store.writes`` runs it inside ``add_article``)."""

_DONE = ("UPDATE rechecks SET step = ?, due_at = ?, checked_at = ?, "
         "etag = coalesce(?, etag), last_modified = coalesce(?, last_modified), "
         "fetched = fetched + ? WHERE article_id = ?")


class RevisitStore:
    """Cadence and re-check reads and writes of :class:`store.protocol.Storage`."""

    conn: Any

    def _atomic(self, url: str | None = None) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _one(self, statement: str, params: Iterable[object] = ()) -> tuple[Any, ...] | None:
        raise NotImplementedError

    def source_cadence(self, name: str) -> SourceCadence | None:
        """The source's last decided cadence; None for a source never visited."""
        row = self._one(_CADENCE, (name,))
        if row is None:
            return None
        return SourceCadence(_float(row[0]), _float(row[1]), str_or_none(row[2]),
                             str_or_none(row[3]), str_or_none(row[4]))

    def record_cadence(self, name: str, cadence: SourceCadence) -> None:
        """Keep a source's new cadence (the source's row exists: its visit made it)."""
        with self._atomic():
            self.conn.execute(_SET_CADENCE, (cadence.interval_seconds, cadence.new_per_hour,
                                             cadence.reason, cadence.decided_at,
                                             cadence.next_visit_at, name))

    def due_rechecks(self, sources: Sequence[str], now: str, limit: int) -> list[DueRecheck]:
        """Up to ``limit`` records of ``sources`` whose re-check is due at ``now`` (ISO
        8601 UTC), the most overdue first, shared fairly between the sources."""
        if limit <= 0 or not sources:
            return []
        share = max(1, -(-limit // len(sources)))
        due: list[DueRecheck] = []
        for source in sources:
            rows = self.conn.execute(_DUE, (source, now, share)).fetchall()
            due.extend(DueRecheck(int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]),
                                  str_or_none(r[5]), str_or_none(r[6]), str(r[7]))
                       for r in rows)
        return sorted(due, key=lambda d: (d.due_at, d.article_id))[:limit]

    def recheck_done(self, article_id: int, *, step: int, due_at: str | None, at: str,
                     etag: str | None = None, last_modified: str | None = None,
                     fetched: bool = False) -> None:
        """A re-check made: the next step and when it is due (None: schedule done);
        ``fetched`` when the page came back whole (not ``304``, not an error)."""
        with self._atomic():
            self.conn.execute(_DONE, (step, due_at, at, etag, last_modified, int(fetched),
                                      article_id))

    def article_access(self, article_id: int) -> tuple[str, int] | None:
        """A record's ``access`` and word count: what an update may not downgrade."""
        row = self._one("SELECT access, word_count FROM articles WHERE id = ?", (article_id,))
        return None if row is None else (str(row[0]), int(row[1] or 0))


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
