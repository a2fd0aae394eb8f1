"""The SQLite store: the only code that writes the database.

One :class:`Store` per process wraps one connection in WAL mode (readers
never block the daemon, and the daemon never blocks readers) with a busy
timeout, so a downstream tool holding a read transaction cannot make a
cycle fail. Every public write is one transaction (``db.atomic()``): a page
is stored whole or not at all::

    with Store.open("news.db") as store:
        article_id = store.add_article(record)
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType

from sqlite_utils import Database
from zlib_ng import zlib_ng

from ingest.errors import StoreError
from ingest.types import (
    Fingerprint,
    RawPage,
)
from store import sql
from store.batch import Batch
from store.coordination import Coordination
from store.learning import SiteLearning
from store.reads import RecordReads
from store.reviewlookups import ReviewLookups
from store.revisits import RevisitStore
from store.schema import MIGRATIONS
from store.writes import RecordWrites

BUSY_TIMEOUT_SECONDS = 30.0

class Store(SiteLearning, ReviewLookups, Coordination, RecordReads, RecordWrites,
            RevisitStore):
    """Typed reads and transactional writes over the newsdedup schema."""

    shared = False
    """One writer per file: the near-duplicate index lives in the writer's memory
    (:class:`ingest.dedup.index.NearDuplicateIndex`) and decisions need no lock."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.db = Database(conn)
        # During `reprocess`, the id each re-created record must keep (see store.rebuild).
        self.id_plan: Callable[[str], int | None] | None = None
        # Inside `batch()`: the first write begins a transaction the batch commits.
        self.in_batch = False
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        MIGRATIONS.apply(self.db)

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open (creating and migrating if needed) the database at ``path``."""
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS,
                                   check_same_thread=False)
            return cls(conn)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _one(self, sql: str, params: Iterable[object] = ()) -> tuple[object, ...] | None:
        row: tuple[object, ...] | None = self.conn.execute(sql, tuple(params)).fetchone()
        return row

    # -- reads used by the pipeline ------------------------------------------------

    def band_rows(self, after_id: int = 0) -> Iterator[tuple[int, int, bytes]]:
        """Stored signatures' LSH bands (of records above ``after_id``), for the index."""
        yield from self.conn.execute(sql.BAND_ROWS, (after_id,))

    def index_generation(self) -> int:
        """Bumped by every rebuild (``reprocess``): in-memory indexes must then reload."""
        row = self._one("PRAGMA user_version")
        return int(row[0]) if row and isinstance(row[0], int) else 0

    def child_source_urls(self, name: str) -> list[str]:
        """URLs of the child sitemaps last listed by sitemap index ``name``."""
        prefix = f"{name} > "
        rows = self.conn.execute("SELECT url FROM sources WHERE substr(name, 1, ?) = ? "
                                 "ORDER BY rowid", (len(prefix), prefix))
        return [str(url) for (url,) in rows]

    # -- writes: store.writes.RecordWrites, with these SQLite parts -------------------

    def _write_page(self, page: RawPage, *, article_id: int | None = None,
                    duplicate_id: int | None = None) -> None:
        """The raw page; written again, it moves to the end of the replay order (a new
        ``rowid``: ``INSERT OR REPLACE``)."""
        self.conn.execute("DELETE FROM skipped WHERE url = ?", (page.url,))
        self.conn.execute(
            "INSERT OR REPLACE INTO pages (url, final_url, source, article_id, duplicate_id, "
            "charset, html, fetched_at, feed_updated, language_hint) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (page.url, page.final_url, page.source, article_id, duplicate_id, page.charset,
             compress_html(page.html), page.fetched_at, page.feed_updated, page.language_hint))

    def decision(self, keys: Iterable[int], url: str | None = None
                 ) -> contextlib.AbstractContextManager[None]:
        """One page's decide-and-insert step. With one writer per file there is nothing
        to lock: the step runs in the writer's open batch, as before."""
        return contextlib.nullcontext()

    def band_matches(self, bands: bytes) -> list[tuple[int, Fingerprint]]:
        """Not kept here: a SQLite store's band keys live in its writer's memory."""
        raise StoreError("the SQLite store keeps no band table: use NearDuplicateIndex "
                         "(Store.shared is False)")

    @contextlib.contextmanager
    def batch(self, size: int = 32, max_age: float = 1.0) -> Iterator[Batch]:
        """One write transaction per :class:`store.batch.Batch` of pages.

        Inside, every write is still atomic on its own (a savepoint), and the
        batch is committed on exit, whatever the exit.
        """
        self._commit_open()
        try:
            yield Batch(self._commit_open, size=size, max_age=max_age)
        finally:
            self._commit_open(reopen=False)

    def _commit_open(self, *, reopen: bool = True) -> None:
        """Commit what the batch holds; the next batch's transaction begins at its first
        write (``BEGIN IMMEDIATE``, see :class:`_Atomic`), so the reads before it see the
        latest commits and the batch never holds a snapshot another writer (an editor's
        review) could make stale: that write would fail at once with "database is locked"
        (SQLITE_BUSY_SNAPSHOT), busy timeout or not."""
        try:
            if self.conn.in_transaction:
                self.conn.commit()
            self.in_batch = reopen
        except sqlite3.Error as exc:
            raise StoreError(f"batch commit failed: {exc}") from exc

    # -- helpers --------------------------------------------------------------------

    def _pause_decisions(self) -> None:
        """Inside an editor's review: nothing to pause, the review holds the write lock."""

    def _write_bands(self, article_id: int, bands: bytes) -> None:
        """Nothing: a SQLite store's band keys live in its writer's memory."""

    def _drop_bands(self, article_id: int) -> None:
        """Nothing (see :meth:`_write_bands`)."""

    def _atomic(self, url: str | None = None) -> _Atomic:
        return _Atomic(self, url)


class _Atomic:
    """One write transaction that turns sqlite3 errors into StoreError carrying the URL.

    Outside a transaction it begins ``IMMEDIATE``: the write lock is taken before the
    first read, so a writer beside the daemon (an editor's review) waits for the lock
    with the busy timeout rather than failing at once with "database is locked" when
    its snapshot went stale. Inside one, a savepoint; inside a batch with no
    transaction yet, it begins the batch's (``IMMEDIATE`` too) and is its first
    savepoint.
    """

    def __init__(self, store: Store, url: str | None) -> None:
        self._store = store
        self._cm: contextlib.AbstractContextManager[object] | None = None
        self._url = url

    def __enter__(self) -> None:
        conn = self._store.conn
        try:
            if not conn.in_transaction and self._store.in_batch:
                conn.execute("BEGIN IMMEDIATE")  # the batch's; committed by the batch
            if conn.in_transaction:
                self._cm = self._store.db.atomic()
                self._cm.__enter__()
            else:
                conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot start a transaction: {exc}", url=self._url) from exc

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self._cm is not None:
                self._cm.__exit__(t, e, tb)
            elif e is None:
                self._store.conn.execute("COMMIT")
            elif self._store.conn.in_transaction:
                self._store.conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            if self._cm is None and self._store.conn.in_transaction:
                self._store.conn.execute("ROLLBACK")
            raise StoreError(f"write failed: {exc}", url=self._url) from exc
        if isinstance(e, sqlite3.Error):
            raise StoreError(f"write failed: {e}", url=self._url) from e


def compress_html(html: bytes) -> bytes:
    """A raw page as ``pages.html`` keeps it: the zlib format, which any zlib reads.

    zlib-ng at level 2 makes smaller blobs than zlib at level 1 in 35% less
    CPU (972 benchmark pages: 37.7 MB in 0.80 s against 39.4 MB in 1.23 s),
    and the writer compresses every page it stores.

    >>> import zlib; zlib.decompress(compress_html(b"<html></html>"))
    b'<html></html>'
    """
    return zlib_ng.compress(html, 2)


def decompress_html(blob: bytes) -> bytes:
    return zlib_ng.decompress(blob)

