"""The storage interface the pipeline talks to: one ``Protocol``, one class per backend.

As lemon24/reader's storage: the pipeline, discovery and the single writer are
typed against :class:`Storage`, never against a backend, so a second backend
(PostgreSQL, for many workers on one store) implements these methods and the
same body of tests checks both. :class:`store.db.Store` is the SQLite one.

Every write is one transaction (a savepoint inside :meth:`Storage.batch`), and
every value crossing this interface is one of :mod:`ingest.types`. Two
operations are still the SQLite backend's own and take a
:class:`store.db.Store`: ``reprocess`` (:mod:`store.rebuild`) and applying an
editor's split or merge (:mod:`store.reviews`); a second backend brings its
own versions of those. ``tests/test_storage.py`` is the body of tests every
backend passes::

    def run(storage: Storage) -> None:
        cycle = storage.begin_cycle(["lemonde"])
        ...
        storage.end_cycle(cycle, summary_json, fetch_log)

    assert isinstance(Store.open("news.db"), Storage)   # checked at run time too
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from ingest.types import (
    CleanedArticle,
    Fingerprint,
    KnownUrl,
    NewArticle,
    NewDuplicate,
    RawPage,
    Removal,
    SourceState,
)
from store.batch import Batch

FetchLogRow = tuple[str, str | None, str, str | None, str]


@runtime_checkable
class Storage(Protocol):
    """What a store must answer and accept. Method-level documentation is the SQLite
    backend's (:class:`store.db.Store`); the contracts are the same for any backend."""

    # -- what a page's decision reads -------------------------------------------------
    def known_url(self, url: str) -> KnownUrl | None: ...
    def article_for_url(self, url: str) -> int | None: ...
    def article_for_hash(self, content_hash: str) -> int | None: ...
    def review_constraints(self, *urls: str
                           ) -> tuple[tuple[int, float] | None, frozenset[int]]: ...
    def review_exclusions(self, *urls: str) -> frozenset[int]: ...
    def review_merge_target(self, *urls: str) -> tuple[int, float] | None: ...

    # -- the dedup index's signatures -------------------------------------------------
    def fingerprint(self, article_id: int) -> Fingerprint | None: ...
    def band_rows(self, after_id: int = 0) -> Iterator[tuple[int, int, bytes]]: ...
    def max_article_id(self) -> int: ...
    def index_generation(self) -> int: ...

    # -- per-site template learning ---------------------------------------------------
    def site_template(self, site: str, min_pages: int) -> frozenset[str]: ...
    def newly_template(self, site: str, keys: list[str], min_pages: int) -> frozenset[str]: ...
    def site_articles(self, site: str, keys: frozenset[str] = frozenset()
                      ) -> list[tuple[int, str, str | None]]: ...
    def rewrite_article(self, article_id: int, text: str, removed: list[Removal],
                        fp: Fingerprint) -> None: ...

    # -- records, each one transaction ------------------------------------------------
    def add_article(self, rec: NewArticle) -> int: ...
    def update_article(self, article_id: int, article: CleanedArticle, fp: Fingerprint,
                       page: RawPage) -> bool: ...
    def add_duplicate(self, rec: NewDuplicate) -> int: ...
    def add_skipped(self, url: str, source: str, reason: str,
                    feed_updated: str | None) -> None: ...

    # -- sources and cycles -----------------------------------------------------------
    def source_state(self, name: str) -> SourceState | None: ...
    def child_source_urls(self, name: str) -> list[str]: ...
    def record_source(self, name: str, kind: str, url: str, *, ok: bool, status: int | None,
                      error: str | None = None, etag: str | None = None,
                      last_modified: str | None = None,
                      next_attempt_at: str | None = None) -> None: ...
    def begin_cycle(self, sources: Iterable[str]) -> int: ...
    def end_cycle(self, cycle_id: int, summary_json: str,
                  fetch_log: Iterable[FetchLogRow]) -> None: ...
    def batch(self, size: int = 32, max_age: float = 1.0) -> AbstractContextManager[Batch]: ...
    def close(self) -> None: ...
