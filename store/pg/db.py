"""The PostgreSQL store: several workers, on several machines, on one database.

It answers the same :class:`store.protocol.Storage` as the SQLite store, mostly
with the same statements (:mod:`store.sql`). What several writers need besides:

- **one decision at a time per story**: :meth:`PgStore.decision` opens the
  transaction a page is decided and stored in, and takes transaction-scoped
  advisory locks on its keys (its LSH band keys, its text hash, its URL's
  identity key, its site) in ascending order, so two copies of one story decided
  at the same second queue on a shared band key: the second sees the first's
  record and becomes its duplicate. Pages of unrelated stories share no key and
  do not wait;
- **a shared index**: the band keys are rows of ``lsh_bands`` (indexed), read in
  one query with the candidates' signatures (:meth:`PgStore.band_matches`);
- **leases and claims** (:mod:`store.coordination`), on the server's clock.

Every write is its own transaction (a page's is committed before the next page
is decided, so its locks are held for milliseconds); :meth:`PgStore.batch`
only counts::

    with PgStore.open("postgresql://news@db.example/news") as store:
        with store.decision(keys, url):
            ...  # read the facts, decide, add_article(...)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from ingest.types import (
    Fingerprint,
    RawPage,
)
from store import sql
from store.batch import Batch
from store.coordination import Coordination
from store.db import compress_html
from store.pg import schema
from store.pg.conn import QmarkConnection, open_pool
from store.pg.learning import PgSiteLearning, lsh_keys
from store.reads import RecordReads
from store.reviewlookups import ReviewLookups
from store.revisits import RevisitStore
from store.writes import RecordWrites

REBUILD_LOCK = 0x6E65_7773_7265_6275  # "newsrebu": decisions share it, a rebuild owns it

_BAND_MATCHES = (
    "SELECT s.article_id, s.language, s.n_shingles, s.minhash, s.bands, a.content_hash "
    "FROM signatures s JOIN articles a ON a.id = s.article_id WHERE s.article_id IN "
    "(SELECT article_id FROM lsh_bands WHERE key = ANY(%s::int8[]))")

_LOCK_KEYS = ("SELECT count(pg_advisory_xact_lock(k)) FROM "
              "(SELECT DISTINCT k FROM unnest(%s::int8[]) AS k ORDER BY k OFFSET 0) AS s")


class PgStore(PgSiteLearning, ReviewLookups, Coordination, RecordReads, RecordWrites,
              RevisitStore):
    """Typed reads and transactional writes over the newsdedup schema in PostgreSQL."""

    shared = True
    _NOW = "extract(epoch FROM clock_timestamp())::float8"

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        self.pool = pool
        self.conn = QmarkConnection(pool.getconn(), self._replace)
        # During `reprocess`, the id each re-created record must keep (see store.rebuild).
        self.id_plan: Callable[[str], int | None] | None = None
        # Set while this connection holds the rebuild lock (store.pg.rebuild): no other
        # decision can run then, and per-page locks would pile up in its one transaction.
        self.rebuilding = False
        schema.apply(self.conn)

    @classmethod
    def open(cls, url: str, *, pool_size: int = 4) -> PgStore:
        """Connect (a small pool), and create or migrate the schema if needed."""
        pool = open_pool(url, max_size=pool_size)
        try:
            return cls(pool)
        except BaseException:
            pool.close()
            raise

    def _replace(self, broken: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        """A new writer connection for one the server dropped (the pool discards it)."""
        with contextlib.suppress(Exception):
            self.pool.putconn(broken)
        return self.pool.getconn(timeout=10.0)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.pool.putconn(self.conn.raw)
        self.pool.close()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _one(self, statement: str, params: Iterable[object] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.conn.execute(statement, tuple(params)).fetchone()
        return row

    def _atomic(self, url: str | None = None) -> contextlib.AbstractContextManager[None]:
        return self.conn.transaction(url)

    def _each(self, values: Sequence[str]) -> tuple[str, object]:
        return "SELECT unnest(?::text[]) AS value", list(values)

    # -- reads used by the pipeline ---------------------------------------------------

    def band_rows(self, after_id: int = 0) -> Iterator[tuple[int, int, bytes]]:
        with self.pool.connection() as conn, conn.cursor(name="band_rows") as cur:
            conn.autocommit = False  # a named (server-side) cursor needs a transaction
            try:
                cur.execute(sql.BAND_ROWS.replace("?", "%s"), (after_id,))
                for article_id, n, bands in cur:
                    yield int(article_id), int(n), bytes(bands)
            finally:
                conn.rollback()
                conn.autocommit = True

    def band_matches(self, bands: bytes) -> list[tuple[int, Fingerprint]]:
        """Stored records sharing a band key with ``bands``, with their signatures, in
        one query (the near tier's candidates, not yet confirmed)."""
        rows = self.conn.native(_BAND_MATCHES, (lsh_keys(bands),)).fetchall()
        return [(int(r[0]), Fingerprint(content_hash=r[5], language=r[1], n_shingles=r[2],
                                        minhash=bytes(r[3]), bands=bytes(r[4])))
                for r in rows]

    def index_generation(self) -> int:
        row = self._one("SELECT generation FROM index_state WHERE id = 1")
        return int(row[0]) if row else 0

    def child_source_urls(self, name: str) -> list[str]:
        rows = self.conn.execute("SELECT url FROM sources WHERE starts_with(name, ?) "
                                 "ORDER BY seq", (f"{name} > ",))
        return [str(url) for (url,) in rows]

    # -- one decision at a time per story ---------------------------------------------

    @contextlib.contextmanager
    def decision(self, keys: Iterable[int], url: str | None = None) -> Iterator[None]:
        """A transaction holding advisory locks on ``keys`` (signed 64-bit integers) until
        it ends; the page's reads, decision and writes run inside it. Taken in ascending
        order in one statement, so two decisions never deadlock; a ``reprocess`` holds
        the rebuild lock exclusively, and decisions wait for it."""
        with self.conn.transaction(url):
            if not self.rebuilding:
                self.conn.native("SELECT pg_advisory_xact_lock_shared(%s)", (REBUILD_LOCK,),
                                 url=url)
                self.conn.native(_LOCK_KEYS, (sorted(set(keys)),), url=url)
            yield

    # -- writes: store.writes.RecordWrites, with these PostgreSQL parts ----------------

    @contextlib.contextmanager
    def batch(self, size: int = 32, max_age: float = 1.0) -> Iterator[Batch]:
        """Counts pages only: each page is already committed by its own transaction (its
        decision's locks must not outlive it)."""
        yield Batch(lambda: None, size=size, max_age=max_age)

    # -- helpers ----------------------------------------------------------------------

    def _pause_decisions(self) -> None:
        """Inside an editor's review: take the rebuild lock exclusively until the review
        commits, so no worker decides against a record being split or merged away."""
        self.conn.native("SELECT pg_advisory_xact_lock(%s)", (REBUILD_LOCK,))

    def _drop_bands(self, article_id: int) -> None:
        self.conn.native("DELETE FROM lsh_bands WHERE article_id = %s", (article_id,))

    def _write_bands(self, article_id: int, bands: bytes) -> None:
        """Index a record's band keys; an updated record keeps its old ones too, as the
        in-memory index does (both band sets nominate it; confirmation reads the current
        signature)."""
        self.conn.native("INSERT INTO lsh_bands (key, article_id) SELECT unnest(%s::int8[]), "
                         "%s ON CONFLICT DO NOTHING", (lsh_keys(bands), article_id))

    def _write_page(self, page: RawPage, *, article_id: int | None = None,
                    duplicate_id: int | None = None) -> None:
        self.conn.execute("DELETE FROM skipped WHERE url = ?", (page.url,))
        self.conn.execute(
            "INSERT INTO pages (url, final_url, source, article_id, duplicate_id, charset, "
            "html, fetched_at, feed_updated, language_hint) VALUES (?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (url) DO UPDATE SET final_url = excluded.final_url, "
            "source = excluded.source, article_id = excluded.article_id, "
            "duplicate_id = excluded.duplicate_id, charset = excluded.charset, "
            "html = excluded.html, fetched_at = excluded.fetched_at, "
            "feed_updated = excluded.feed_updated, language_hint = excluded.language_hint, "
            "seq = nextval(pg_get_serial_sequence('pages', 'seq'))",
            (page.url, page.final_url, page.source, article_id, duplicate_id, page.charset,
             compress_html(page.html), page.fetched_at, page.feed_updated, page.language_hint),
            url=page.url)
