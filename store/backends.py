"""Open the store a configuration names: PostgreSQL for a ``postgresql://`` URL, else
the SQLite file. The one place that knows both backends, so the composition root
(``service.py``) and the tools open stores the same way::

    >>> import tempfile, pathlib
    >>> with open_store(pathlib.Path(tempfile.mkdtemp()) / "news.db") as store:
    ...     store.shared
    False
"""

from __future__ import annotations

from pathlib import Path

from store.db import Store
from store.pg.db import PgStore
from store.pg.rebuild import PgRebuild
from store.rebuild import Rebuild

AnyStore = Store | PgStore
"""Either backend, where an operation needs more than the :class:`store.protocol.Storage`
interface (an editor's review, a rebuild, a report's reads)."""


def open_store(target: str | Path, *, pool_size: int = 4) -> AnyStore:
    """The store at ``target`` (created and migrated if needed)."""
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        return PgStore.open(target, pool_size=pool_size)
    return Store.open(target)


def rebuild_for(store: AnyStore) -> Rebuild:
    """The ``reprocess`` transaction of ``store``'s backend."""
    return PgRebuild(store) if isinstance(store, PgStore) else Rebuild(store)
