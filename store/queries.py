"""Read-only queries for ``stats``, reports and the daemon's ``/metrics`` row counts.

They only read, so they can run from any process while the daemon writes
(WAL gives them a consistent snapshot)::

    >>> import tempfile, pathlib
    >>> from store.db import Store
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "news.db"
    >>> with Store.open(path) as store:
    ...     stats(store.conn)["tables"]["articles"]
    0
    >>> sqlite_totals(path)()["articles"]   # on its own read-only connection
    0.0
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ingest.errors import StoreError

_TABLES = ("articles", "duplicates", "article_versions", "url_aliases", "pages", "removals",
           "skipped", "sources", "cycles", "fetch_log", "reviews")


def stats(conn: Any) -> dict[str, Any]:
    """Counts per table and per source, failing sources, and the last cycle's summary."""
    return {
        "tables": {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _TABLES},
        "per_source": _per_source(conn),
        "duplicates_by_method": dict(conn.execute(
            "SELECT method, count(*) FROM duplicates GROUP BY method ORDER BY method")),
        "failing_sources": _failing(conn),
        "sources": _sources(conn),
        "unresolved_links": _unresolved(conn),
        "access": dict(conn.execute(
            "SELECT access, count(*) FROM articles GROUP BY access ORDER BY access")),
        "rechecks": _rechecks(conn),
        "last_cycle": _last_cycle(conn),
    }


_SOURCE_KEYS = ("name", "kind", "url", "last_status", "last_success_at", "next_attempt_at",
                "interval_seconds", "new_per_hour", "interval_reason", "next_visit_at")


def _sources(conn: Any) -> list[dict[str, Any]]:
    """Every source row: configured sources with their adaptive cadence, and what a
    ``site`` source found (``<site> > feed > <url>``, ``<site> > sitemap > <url>``) or a
    sitemap index listed, each with its health."""
    rows = conn.execute(f"SELECT {', '.join(_SOURCE_KEYS)} FROM sources ORDER BY name")
    return [{k: v for k, v in zip(_SOURCE_KEYS, row, strict=True) if v is not None}
            for row in rows]


def _unresolved(conn: Any, cycles: int = 500) -> dict[str, dict[str, int]]:
    """Aggregator links left unresolved in the last ``cycles`` cycles, per source and
    reason (the cycles' ``unresolved.<source>/<reason>`` counts)."""
    out: dict[str, dict[str, int]] = {}
    for (summary,) in conn.execute("SELECT summary FROM cycles WHERE summary IS NOT NULL "
                                   "ORDER BY id DESC LIMIT ?", (cycles,)):
        for key, n in json.loads(summary).get("counts", {}).items():
            if key.startswith("unresolved."):
                source, _, reason = key[len("unresolved."):].rpartition("/")
                per = out.setdefault(source, {})
                per[reason] = per.get(reason, 0) + int(n)
    return dict(sorted(out.items()))


def _rechecks(conn: Any) -> dict[str, int]:
    row = conn.execute("SELECT count(due_at), count(*), coalesce(sum(fetched), 0) "
                       "FROM rechecks").fetchone()
    return {"scheduled": int(row[0]), "total": int(row[1]), "fetched_whole": int(row[2])}


def _per_source(conn: Any) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for table in ("articles", "duplicates", "skipped"):
        for source, n in conn.execute(f"SELECT source, count(*) FROM {table} GROUP BY source"):
            out.setdefault(source, {"articles": 0, "duplicates": 0, "skipped": 0})[table] = n
    return dict(sorted(out.items()))


def _failing(conn: Any) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT name, url, consecutive_failures, last_status, last_error, last_attempt_at, "
        "next_attempt_at FROM sources WHERE consecutive_failures > 0 ORDER BY name")
    keys = ("name", "url", "consecutive_failures", "last_status", "last_error",
            "last_attempt_at", "next_attempt_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _last_cycle(conn: Any) -> dict[str, Any] | None:
    row = conn.execute("SELECT id, started_at, finished_at, summary FROM cycles "
                       "WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    summary = json.loads(row[3]) if row[3] else {}
    return {"id": row[0], "started_at": row[1], "finished_at": row[2], **summary}


def cluster_view(conn: Any, now: float, intervals: dict[str, float]) -> dict[str, Any]:
    """Who works on this store: each worker's roll (cycles, pages, pages per busy second,
    seconds since it was last seen), the live source leases and URL claims, and the
    sources overdue (``lag_seconds``: time past their last successful visit plus their
    interval; ``intervals`` in seconds, by source name). ``now`` is Unix time."""
    workers = []
    for row in conn.execute("SELECT worker_id, host, pid, started_at, last_seen_at, cycles, "
                            "pages, busy_seconds FROM workers ORDER BY worker_id").fetchall():
        worker, host, pid, started, seen, cycles, pages, busy = row
        workers.append({"worker_id": worker, "host": host, "pid": pid, "started_at": started,
                        "last_seen_seconds_ago": _ago(now, seen), "cycles": cycles,
                        "pages": pages, "pages_per_second": round(pages / busy, 2)
                        if busy else None})
    leases = [{"source": name, "worker_id": worker, "expires_in_seconds": round(exp - now, 1)}
              for name, worker, exp in conn.execute(
                  "SELECT name, worker_id, expires_at FROM source_leases WHERE expires_at > ? "
                  "ORDER BY name", (now,)).fetchall()]
    claims = dict(conn.execute("SELECT worker_id, count(*) FROM url_claims WHERE expires_at > ? "
                               "GROUP BY worker_id", (now,)).fetchall())
    lag = {}
    for name, last in conn.execute("SELECT name, last_success_at FROM sources").fetchall():
        if name in intervals:
            ago = _ago(now, last)
            late = None if ago is None else ago - intervals[name]
            lag[name] = round(late, 1) if late is not None and late > 0 else 0.0
    return {"workers": workers, "leases": leases, "claims_by_worker": claims,
            "lag_seconds": dict(sorted(lag.items()))}


def _ago(now: float, stamp: str | None) -> float | None:
    from datetime import datetime

    if not stamp:
        return None
    try:
        return round(now - datetime.fromisoformat(stamp).timestamp(), 1)
    except ValueError:
        return None


def store_totals(store: Any) -> Callable[[], dict[str, float]]:
    """The daemon's ``/metrics`` row counts for either backend: SQLite on its own
    read-only connection (:func:`sqlite_totals`), PostgreSQL on a pooled one."""
    pool = getattr(store, "pool", None)
    if pool is None:
        return sqlite_totals(Path(store.db.conn.execute("PRAGMA database_list")
                                  .fetchone()[2]))
    tables = ("articles", "duplicates", "skipped")

    def read() -> dict[str, float]:
        try:
            with pool.connection(timeout=5.0) as conn:
                return {t: float(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                        for t in tables}
        except Exception as exc:  # psycopg.Error, psycopg_pool.PoolTimeout
            raise StoreError(f"row totals: {exc}") from exc

    return read


def sqlite_totals(db_path: str | Path,
                  tables: tuple[str, ...] = ("articles", "duplicates", "skipped"),
                  ) -> Callable[[], dict[str, float]]:
    """A ``totals`` callable for :class:`ingest.pipeline.metrics.Metrics`, counting rows on its
    own short read-only connection.

    Each scrape opens, reads and closes, so it never shares the writer's
    connection across threads and never holds a snapshot open (WAL: it does
    not block the writer either)::

        sqlite_totals("news.db")()   # {"articles": 42.0, "duplicates": 7.0, ...}
    """
    uri = f"file:{quote(str(Path(db_path).resolve()))}?mode=ro"

    def read() -> dict[str, float]:
        conn = sqlite3.connect(uri, uri=True, timeout=2.0)
        try:
            return {t: float(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
                    for t in tables}
        finally:
            conn.close()

    return read
