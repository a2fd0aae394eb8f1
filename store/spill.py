"""A scratch file of values keyed by URL, so ``reprocess`` holds no more than a window.

``reprocess`` extracts every stored page before it takes the write lock
(extraction is slow; the running daemon must keep writing meanwhile), then
replays them all in one transaction. Kept in memory, the processed pages of
a store that ran for months would not fit; here they go to a temporary
SQLite file (in the system's temporary directory), deleted on close::

    with Spill() as spill:
        spill.put("https://a.example/x", processed)
        spill.get("https://a.example/x")      # -> processed (unpickled)
        "https://a.example/x" in spill        # -> True
"""

from __future__ import annotations

import pickle
import sqlite3
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any


class Spill:
    """Pickled values by URL in a temporary SQLite file (not the store's database)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="newsdedup-reprocess-", dir=directory)
        self._conn = sqlite3.connect(Path(self._dir.name) / "spill.db")
        self._conn.execute("PRAGMA journal_mode=OFF")
        self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.execute("CREATE TABLE spill (url TEXT PRIMARY KEY, value BLOB NOT NULL)")

    def put(self, url: str, value: Any) -> None:
        self._conn.execute("INSERT OR REPLACE INTO spill VALUES (?, ?)",
                           (url, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)))

    def get(self, url: str) -> Any:
        row = self._conn.execute("SELECT value FROM spill WHERE url = ?", (url,)).fetchone()
        if row is None:
            raise KeyError(url)
        return pickle.loads(row[0])

    def __contains__(self, url: object) -> bool:
        row = self._conn.execute("SELECT 1 FROM spill WHERE url = ?", (url,)).fetchone()
        return row is not None

    def close(self) -> None:
        self._conn.close()
        self._dir.cleanup()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
