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

_TABLES = ("articles", "duplicates", "article_versions", "url_aliases", "pages", "removals",
           "skipped", "sources", "cycles", "fetch_log", "reviews")


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    """Counts per table and per source, failing sources, and the last cycle's summary."""
    return {
        "tables": {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _TABLES},
        "per_source": _per_source(conn),
        "duplicates_by_method": dict(conn.execute(
            "SELECT method, count(*) FROM duplicates GROUP BY method ORDER BY method")),
        "failing_sources": _failing(conn),
        "last_cycle": _last_cycle(conn),
    }


def _per_source(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for table in ("articles", "duplicates", "skipped"):
        for source, n in conn.execute(f"SELECT source, count(*) FROM {table} GROUP BY source"):
            out.setdefault(source, {"articles": 0, "duplicates": 0, "skipped": 0})[table] = n
    return dict(sorted(out.items()))


def _failing(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT name, url, consecutive_failures, last_status, last_error, last_attempt_at, "
        "next_attempt_at FROM sources WHERE consecutive_failures > 0 ORDER BY name")
    keys = ("name", "url", "consecutive_failures", "last_status", "last_error",
            "last_attempt_at", "next_attempt_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _last_cycle(conn: sqlite3.Connection) -> dict[str, Any] | None:
    row = conn.execute("SELECT id, started_at, finished_at, summary FROM cycles "
                       "WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    summary = json.loads(row[3]) if row[3] else {}
    return {"id": row[0], "started_at": row[1], "finished_at": row[2], **summary}


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
