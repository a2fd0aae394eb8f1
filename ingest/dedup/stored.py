"""The near-duplicate index of a shared store: band keys read from the store.

Several workers deciding on one PostgreSQL store cannot each keep the whole
index in memory (it would be stale the moment another worker stores a record,
and a million records cost each of them hundreds of megabytes). Here a query
asks the store for the records sharing a band key, with their signatures, in one
round trip, and confirms them exactly as :class:`~ingest.dedup.index.NearDuplicateIndex`
does (:func:`~ingest.dedup.index.choose`), so both give the same decision on the
same records. The store writes a record's band keys with the record, so
:meth:`StoredIndex.add` has nothing to do::

    index = StoredIndex(settings, store.band_matches)
    index.find(fp, exclude={7})     # DedupDecision('near', 3, 0.93) or ('new')
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable

from ingest.config import DedupSettings
from ingest.dedup.index import DedupIndex, NearDuplicateIndex, Row, choose
from ingest.dedup.minhash import check_settings
from ingest.types import DedupDecision, Fingerprint
from store.protocol import Storage

BandMatches = Callable[[bytes], list[tuple[int, Fingerprint]]]


class StoredIndex:
    """``find`` over the store's band table; ``add`` and ``load`` are no-ops."""

    def __init__(self, settings: DedupSettings, matches: BandMatches) -> None:
        check_settings(settings)
        self.settings = settings
        self._matches = matches

    def find(self, fp: Fingerprint, *, exclude: Container[int] = ()) -> DedupDecision:
        if fp.n_shingles <= 0:
            return DedupDecision("new")
        found = [(i, stored) for i, stored in self._matches(fp.bands) if i not in exclude]
        return choose(fp, found, self.settings)

    def add(self, article_id: int, fp: Fingerprint) -> None:
        """Nothing: the store indexed the record's bands when it stored it."""

    def load(self, rows: Iterable[Row]) -> int:
        """Nothing to load: the index is the store's table."""
        return 0


def index_for(settings: DedupSettings, store: Storage) -> DedupIndex:
    """The index a writer on ``store`` decides with: the store's band table when other
    processes share it, else an in-memory index loaded with the stored bands."""
    if store.shared:
        return StoredIndex(settings, store.band_matches)
    index = NearDuplicateIndex(settings, store.fingerprint)
    index.load(store.band_rows())
    return index
