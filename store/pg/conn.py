"""One psycopg connection that speaks the SQLite backend's SQL dialect of parameters.

Most of the store's statements are plain SQL both databases run (``ON CONFLICT``,
``RETURNING``, recursive CTEs, ``UNION ALL``); only their placeholders differ
(``?`` for sqlite3, ``%s`` for psycopg). :class:`QmarkConnection` rewrites the
placeholders once per statement (cached), so a statement shared by both backends
is written once, in :mod:`store.sql` or a mixin, and psycopg errors become
:class:`~ingest.errors.StoreError` at this boundary::

    >>> to_pyformat("SELECT id FROM articles WHERE url = ? AND text LIKE '5%'")
    "SELECT id FROM articles WHERE url = %s AND text LIKE '5%%'"

Statements never put a ``?`` inside a string literal (values are parameters), so
the rewrite is a plain substitution.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from ingest.errors import StoreError


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``sql`` with ``?`` placeholders as psycopg's ``%s`` (literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class QmarkConnection:
    """The sqlite3-like surface the shared mixins use (``execute``, ``executemany``),
    over a psycopg connection in autocommit mode; transactions are explicit
    (:meth:`transaction`), nested ones are savepoints.

    A connection the server dropped (a restart, a failover, an idle timeout) fails
    the statement that met it, as a :class:`StoreError`; the next statement outside
    a transaction runs on a new connection from ``reconnect`` (the pool), so a
    daemon outlives its database's restarts.
    """

    def __init__(self, conn: psycopg.Connection[Any],
                 reconnect: Callable[[psycopg.Connection[Any]], psycopg.Connection[Any]]
                 | None = None) -> None:
        self.raw = conn
        self._reconnect = reconnect

    def _ready(self, url: str | None) -> None:
        if not (self.raw.broken or self.raw.closed) or self._reconnect is None:
            return
        try:
            self.raw = self._reconnect(self.raw)
        except Exception as exc:  # psycopg.OperationalError, psycopg_pool.PoolTimeout
            raise StoreError(f"PostgreSQL: cannot reconnect: {exc}", url=url) from exc

    def execute(self, sql: str, params: Sequence[object] | None = None,
                *, url: str | None = None) -> psycopg.Cursor[Any]:
        self._ready(url)
        try:
            return self.raw.execute(to_pyformat(sql), tuple(params or ()))
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL: {_message(exc)}", url=url) from exc

    def native(self, sql: str, params: Sequence[object] | dict[str, object] | None = None,
               *, url: str | None = None) -> psycopg.Cursor[Any]:
        """A statement written for psycopg (``%s``/``%(name)s``, arrays): no rewrite."""
        self._ready(url)
        try:
            return self.raw.execute(sql, params)
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL: {_message(exc)}", url=url) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[object]],
                    *, url: str | None = None) -> None:
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        self._ready(url)
        try:
            with self.raw.cursor() as cur:
                cur.executemany(to_pyformat(sql), batch)
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL: {_message(exc)}", url=url) from exc

    @contextmanager
    def transaction(self, url: str | None = None) -> Iterator[None]:
        """One transaction (a savepoint when nested); psycopg errors become StoreError."""
        if not self.in_transaction:
            self._ready(url)
        try:
            with self.raw.transaction():
                yield
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL: {_message(exc)}", url=url) from exc

    @property
    def in_transaction(self) -> bool:
        status = psycopg.pq.TransactionStatus
        return self.raw.info.transaction_status in (status.INTRANS, status.INERROR,
                                                    status.ACTIVE)


def _message(exc: psycopg.Error) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def open_pool(url: str, *, max_size: int = 4) -> ConnectionPool[psycopg.Connection[Any]]:
    """A small pool: the writer's connection, plus short ones for metrics and heartbeats.

    Connections are in autocommit mode, so a read never holds a snapshot open and
    every write names its transaction. A server that does not answer within 10 s
    is a :class:`StoreError` naming the address (without its password).
    """
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        url, min_size=1, max_size=max_size, open=False, name="newsdedup",
        kwargs={"autocommit": True, "application_name": "newsdedup"})
    try:
        pool.open(wait=True, timeout=10.0)
    except Exception as exc:  # psycopg_pool.PoolTimeout, OperationalError
        pool.close()
        raise StoreError(f"cannot connect to PostgreSQL at {redact(url)}: {exc}") from exc
    return pool


def redact(url: str) -> str:
    """A connection URL fit for a log line: its password replaced.

    >>> redact("postgresql://news:s3cret@db.example:5432/news")
    'postgresql://news:***@db.example:5432/news'
    """
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    creds, at, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}{':***' if ':' in creds else ''}{at}{host}"
