"""``reprocess`` on PostgreSQL: :class:`store.rebuild.Rebuild` in one PostgreSQL transaction.

The rebuild holds the rebuild advisory lock exclusively from start to commit;
every worker's page decision takes it shared (:meth:`store.pg.db.PgStore.decision`),
so running workers pause their writes while the derived tables are re-created
and resume on the new ones, and two ``reprocess`` started at once run one after
the other (the second redoes the first's result, which changes nothing)::

    with PgRebuild(store) as rebuild:
        rebuild.clear()
        ...  # replay every page through the recorder
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from store.pg.db import REBUILD_LOCK, PgStore
from store.rebuild import _DERIVED, Rebuild


class PgRebuild(Rebuild):
    _ORDER = "seq"
    _DERIVED = ("lsh_bands", *_DERIVED)

    def __init__(self, store: PgStore) -> None:
        super().__init__(store)
        self._tx: Any = None

    def _begin(self) -> None:
        self._tx = self.store.conn.raw.transaction()
        self._tx.__enter__()
        self.store.conn.native("SELECT pg_advisory_xact_lock(%s)", (REBUILD_LOCK,))
        self.store.conn.native("SET CONSTRAINTS ALL DEFERRED")
        self.store.rebuilding = True

    def _end(self, exc: BaseException | None) -> None:
        tx, self._tx = self._tx, None
        self.store.rebuilding = False
        if tx is not None:
            tb: TracebackType | None = exc.__traceback__ if exc else None
            tx.__exit__(type(exc) if exc else None, exc, tb)

    def _commit(self) -> None:
        self._end(None)

    def _rollback(self) -> None:
        self._end(_RolledBack())

    def _bump_generation(self) -> None:
        self.store.conn.native("UPDATE index_state SET generation = generation + 1")
        self.store.conn.native("SELECT setval(pg_get_serial_sequence('articles', 'id'), "
                               "(SELECT coalesce(max(id), 0) + 1 FROM articles), false)")


class _RolledBack(Exception):
    """Handed to psycopg's transaction block to make it roll back."""
