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


def open_store(target: str | Path, *, pool_size: int = 4) -> Store | PgStore:
    """The store at ``target`` (created and migrated if needed)."""
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        return PgStore.open(target, pool_size=pool_size)
    return Store.open(target)


def rebuild_for(store: Store | PgStore) -> Rebuild:
    """The ``reprocess`` transaction of ``store``'s backend."""
    return PgRebuild(store) if isinstance(store, PgStore) else Rebuild(store)
