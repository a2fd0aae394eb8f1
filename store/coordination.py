"""Several processes on one store: source leases, URL claims, and the workers' roll.

Coordination goes through the database, not a service of our own: a source is
*leased* (one owner per visit, with an expiry a live worker keeps pushing back, so
a worker that dies loses it and another takes over), a URL is *claimed* before it
is fetched (a unique key: two workers that both discover a page fetch it once),
and each worker's cycles are counted in ``workers`` for ``stats``' cluster view.
One body of SQL serves both backends: only the clock and the list parameter are
each backend's own (:attr:`Coordination._NOW`, :meth:`Coordination._each`), and
PostgreSQL's clock is the server's, so machines with skewed clocks agree::

    if store.lease_source("lemonde", "w1", ttl=300.0, min_gap=0.0):
        granted = store.claim_urls(["https://a.example/x"], "w1", ttl=300.0)
        ...
        store.release("w1")

Times are Unix seconds; a lease or claim is live while ``expires_at`` is ahead.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from store.sqlvalues import utcnow

PURGE_AFTER_SECONDS = 86_400.0
"""Released or expired claims are deleted a day later (they are only a fetch guard)."""


class _Conn(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...


class Coordination:
    """Mixin of both stores: needs ``conn.execute`` (qmark SQL) and ``_atomic``."""

    conn: Any
    _NOW = "(julianday('now') - 2440587.5) * 86400.0"
    """The database's clock as Unix seconds, an SQL expression."""

    def _atomic(self, url: str | None = None) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _each(self, values: Sequence[str]) -> tuple[str, object]:
        """A FROM-able list of ``values`` with one column, ``value``, and its parameter."""
        import json

        return "SELECT value FROM json_each(?)", json.dumps(list(values))

    def lease_source(self, name: str, worker: str, *, ttl: float, min_gap: float = 0.0) -> bool:
        """Take source ``name`` for ``ttl`` seconds, unless another worker holds a live
        lease on it or its last completed visit started less than ``min_gap`` seconds ago
        (a daemon's visit interval: other workers' schedules then skip it; measured from
        the start, so a long visit does not push the next one back). A visit cut short
        (its worker died) does not count: its source is free again as soon as
        the lease expires. The same worker may take back its own lease (a restart
        under the same ``--worker-id``)."""
        now = self._NOW
        with self._atomic(name):
            rows = self.conn.execute(
                f"INSERT INTO source_leases AS l (name, worker_id, leased_at, expires_at) "
                f"VALUES (?, ?, {now}, {now} + ?) ON CONFLICT (name) DO UPDATE SET "
                "worker_id = excluded.worker_id, leased_at = excluded.leased_at, "
                "expires_at = excluded.expires_at "
                "WHERE (l.expires_at <= excluded.leased_at OR l.worker_id = excluded.worker_id) "
                "AND coalesce(l.visited_at, 0) <= excluded.leased_at - ? RETURNING name",
                (name, worker, float(ttl), float(min_gap))).fetchall()
        return bool(rows)

    def claim_urls(self, urls: Sequence[str], worker: str, *, ttl: float) -> frozenset[str]:
        """Those of ``urls`` this worker may fetch now: not claimed by another live worker.

        A claim is released at the end of the worker's cycle (:meth:`release`): a page
        that failed on the way may be fetched by anyone later.
        """
        wanted = sorted(set(urls))
        if not wanted:
            return frozenset()
        each, listed = self._each(wanted)
        now = self._NOW
        with self._atomic():
            rows = self.conn.execute(
                f"INSERT INTO url_claims AS c (url, worker_id, expires_at) "
                f"SELECT value, ?, {now} + ? FROM ({each}) AS e WHERE true "
                "ON CONFLICT (url) DO UPDATE SET worker_id = excluded.worker_id, "
                f"expires_at = excluded.expires_at WHERE c.expires_at <= {now} "
                "OR c.worker_id = excluded.worker_id RETURNING url",
                (worker, float(ttl), listed)).fetchall()
        return frozenset(str(url) for (url,) in rows)

    def renew(self, worker: str, *, ttl: float) -> int:
        """Push back the expiry of this worker's live leases and claims (its heartbeat);
        returns how many leases it still holds. A lease that expired meanwhile is not
        revived: another worker may hold it now."""
        now = self._NOW
        with self._atomic():
            held = self.conn.execute(
                f"UPDATE source_leases SET expires_at = {now} + ? "
                f"WHERE worker_id = ? AND expires_at > {now} RETURNING name",
                (float(ttl), worker)).fetchall()
            self.conn.execute(f"UPDATE url_claims SET expires_at = {now} + ? "
                              f"WHERE worker_id = ? AND expires_at > {now}",
                              (float(ttl), worker))
        return len(held)

    def release(self, worker: str, sources: Sequence[str] = ()) -> None:
        """End this worker's leases on ``sources`` and all its URL claims (a cycle's end);
        old released claims are purged on the way."""
        now = self._NOW
        with self._atomic():
            for name in sources:
                self.conn.execute(f"UPDATE source_leases SET expires_at = {now}, "
                                  "visited_at = leased_at WHERE name = ? AND worker_id = ?",
                                  (name, worker))
            self.conn.execute(f"UPDATE url_claims SET expires_at = {now} "
                              f"WHERE worker_id = ? AND expires_at > {now}", (worker,))
            self.conn.execute(f"DELETE FROM url_claims WHERE expires_at < {now} - ?",
                              (PURGE_AFTER_SECONDS,))

    def reap(self) -> list[str]:
        """Free at once the leases and claims of workers of this host whose process is
        gone (killed, crashed): without waiting for their expiry, as a worker restarted
        on the same machine would otherwise find its sources held for ``lease_seconds``.
        Workers of other hosts are left to expire. Returns the reaped worker ids."""
        host = socket.gethostname()
        now = self._NOW
        rows = self.conn.execute(
            "SELECT w.worker_id, w.pid FROM workers w WHERE w.host = ? AND (EXISTS "
            "(SELECT 1 FROM source_leases l WHERE l.worker_id = w.worker_id "
            f"AND l.expires_at > {now}) OR EXISTS (SELECT 1 FROM url_claims c "
            f"WHERE c.worker_id = w.worker_id AND c.expires_at > {now}))",
            (host,)).fetchall()
        dead = [str(w) for w, pid in rows if pid is not None and not _alive(int(pid))]
        with self._atomic():
            for worker in dead:
                for table in ("source_leases", "url_claims"):
                    self.conn.execute(f"UPDATE {table} SET expires_at = {now} "
                                      f"WHERE worker_id = ? AND expires_at > {now}", (worker,))
        return dead

    def worker_seen(self, worker: str, *, cycles: int = 0, pages: int = 0,
                    seconds: float = 0.0) -> None:
        """Count a worker's finished cycle (or only note it is alive, with zeros)."""
        now = utcnow()
        with self._atomic():
            self.conn.execute(
                "INSERT INTO workers (worker_id, host, pid, started_at, last_seen_at, cycles, "
                "pages, busy_seconds) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (worker_id) DO "
                "UPDATE SET host = excluded.host, pid = excluded.pid, started_at = CASE WHEN "
                "workers.pid = excluded.pid AND workers.host = excluded.host THEN "
                "workers.started_at ELSE excluded.started_at END, last_seen_at = "
                "excluded.last_seen_at, cycles = workers.cycles + excluded.cycles, "
                "pages = workers.pages + excluded.pages, "
                "busy_seconds = workers.busy_seconds + excluded.busy_seconds",
                (worker, socket.gethostname(), os.getpid(), now, now, cycles, pages,
                 float(seconds)))


def default_worker_id() -> str:
    """``host-pid``: unique among live processes, readable in ``stats``.

    >>> default_worker_id().endswith(f"-{os.getpid()}")
    True
    """
    return f"{socket.gethostname()}-{os.getpid()}"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (signal 0 checks, sends nothing)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True
