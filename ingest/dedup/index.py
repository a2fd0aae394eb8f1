"""Near-duplicate decisions: MinHash LSH candidates, confirmed on the signatures.

Why two steps: band hits only *nominate* candidates (the bands are built for
a Jaccard well below the threshold: a pair at the threshold shares no band
with probability 1e-13); the decision is taken on the estimated Jaccard of the
whole shingle sets, which is what keeps two short briefs under one long site
template apart: they share bands, not 80% of their shingles. A page that
contains a stored record almost whole, or is contained in one, is confirmed
by the containment estimate instead, ``C = J(|A|+|B|) / (|A|(1+J))``.

The tiers before this one (same canonical URL, same :func:`content_hash`)
belong to the store; this module answers only "near or new"::

    >>> from ingest.config import DedupSettings
    >>> settings = DedupSettings()
    >>> body = ("Elon Musk and Sam Altman faced each other in a federal court in Oakland "
    ...         "on Monday, as the trial over the founding promises of OpenAI opened "
    ...         "before a jury of nine. Lawyers for both sides gave opening statements "
    ...         "that lasted most of the day.")
    >>> stored = {7: fingerprint(body, "en", settings)}
    >>> index = NearDuplicateIndex(settings, stored.get)
    >>> index.add(7, stored[7])
    >>> index.find(fingerprint("Musk v. Altman, day one. " + body, "en", settings))
    DedupDecision(method='near', duplicate_of=7, similarity=0.9296875)
    >>> index.find(fingerprint(body.split(" Lawyers")[0], "en", settings)).similarity > 0.9
    True
    >>> index.find(fingerprint(body, "fr", settings)).method   # a wrong language: same text
    'near'

Decisions never look at a page's language, site or source: what a page
*declares* is often wrong (a French site's template on an English wire
story), and even the identified language says nothing the shingles do not.
A translation shares almost no five-word shingles with its original, so it
stays a separate record by content alone.

Limits: a record contained whole in a longer page is a candidate with
probability 0.996 when the page is twice its length, 0.8 at three times,
0.5 at four and 0.04 at ten (its Jaccard is the length ratio; see
``lsh_layout``): a 100-word brief quoted inside a 1,000-word article stays a
separate record. Containment is measured on the clean text, so a brief that
is mostly a site template left in by cleaning "is contained" in the next
brief under that template.

Records are never removed: an updated record is added again under the same
id (both band sets then nominate it; the decision uses whatever
``signature_lookup`` returns now), a deleted one makes the lookup return None.
Not thread-safe: one dedup stage owns the index.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

import numpy as np

from ingest.config import DedupSettings
from ingest.dedup.lsh import BandIndex, Column
from ingest.dedup.minhash import (
    Fingerprint,
    Fingerprinter,
    LshLayout,
    bands_from_minhash,
    check_settings,
    content_hash,
    estimate_containment,
    estimate_jaccard,
    fingerprint,
    lsh_layout,
    normalise_text,
)
from ingest.errors import ConfigError
from ingest.types import DedupDecision

__all__ = [
    "DedupIndex",
    "Fingerprint",
    "Fingerprinter",
    "LshLayout",
    "Match",
    "NearDuplicateIndex",
    "bands_from_minhash",
    "choose",
    "confirm",
    "content_hash",
    "fingerprint",
    "lsh_layout",
    "normalise_text",
]

SignatureLookup = Callable[[int], Fingerprint | None]
Row = tuple[int, int, bytes]
"""``(article_id, n_shingles, bands)``, as ``store.band_rows`` yields them."""

_LOAD_CHUNK = 65_536


class DedupIndex(Protocol):
    """What the writer asks of a near-duplicate index: this in-memory one, or a shared
    store's band table (:class:`ingest.dedup.stored.StoredIndex`)."""

    def find(self, fp: Fingerprint, *, exclude: Container[int] = ()) -> DedupDecision: ...
    def add(self, article_id: int, fp: Fingerprint) -> None: ...
    def load(self, rows: Iterable[Row]) -> int: ...


@dataclass(frozen=True, slots=True)
class Match:
    """A confirmed pair: ``similarity`` is the measure that confirmed it (the
    Jaccard, or the containment when only that reached its setting);
    ``jaccard`` is always the estimated Jaccard, used to rank candidates."""

    jaccard: float
    similarity: float


def confirm(query: Fingerprint, stored: Fingerprint, settings: DedupSettings) -> Match | None:
    """Whether two fingerprints are near-duplicates, and how similar.

    Estimated Jaccard when it reaches ``settings.threshold``; otherwise the
    larger estimated containment (either way round) when it reaches
    ``settings.containment``. A text without shingles matches nothing here
    (the exact-hash tier handles empty texts).

    >>> s = DedupSettings()
    >>> fp = fingerprint("one two three four five six seven", None, s)
    >>> confirm(fp, fp, s)
    Match(jaccard=1.0, similarity=1.0)
    """
    if query.n_shingles <= 0 or stored.n_shingles <= 0:
        return None
    jaccard = estimate_jaccard(query.minhash, stored.minhash)
    if jaccard >= settings.threshold:
        return Match(jaccard, jaccard)
    contained = max(
        estimate_containment(jaccard, query.n_shingles, stored.n_shingles),
        estimate_containment(jaccard, stored.n_shingles, query.n_shingles),
    )
    return Match(jaccard, contained) if contained >= settings.containment else None


def choose(
    query: Fingerprint,
    candidates: Iterable[tuple[int, Fingerprint | None]],
    settings: DedupSettings,
) -> DedupDecision:
    """The confirmed candidate with the highest estimated Jaccard, then the lowest id.

    Ranked on Jaccard, not on the reported similarity: containment saturates
    at 1, so a page holding two stored records whole would otherwise go to
    the lower id rather than to the one it shares most with. A Jaccard match
    always outranks a containment-only one (its Jaccard is above the
    threshold, theirs below). The order of ``candidates`` does not matter; a
    ``None`` fingerprint (a record deleted since it was indexed) is skipped.

    >>> fp = fingerprint("one two three four five six", None, DedupSettings())
    >>> choose(fp, [(9, fp), (4, fp), (5, None)], DedupSettings())
    DedupDecision(method='near', duplicate_of=4, similarity=1.0)
    """
    best: tuple[float, int, Match] | None = None
    for article_id, stored in candidates:
        match = None if stored is None else confirm(query, stored, settings)
        if match is not None and (best is None or (match.jaccard, -article_id) > best[:2]):
            best = (match.jaccard, -article_id, match)
    if best is None:
        return DedupDecision("new")
    return DedupDecision("near", -best[1], best[2].similarity)


class NearDuplicateIndex:
    """The in-memory LSH index of stored records; signatures stay in the store.

    ``signature_lookup(article_id)`` returns the stored :class:`Fingerprint`
    (or None if the record is gone); it is called only for the few
    candidates of a query, so it can be a SQLite point query.
    ``load`` takes ``(article_id, n_shingles, bands)`` rows at
    warm start, in any order; ``add`` indexes a record stored since. Loading
    rows or adding the same records one by one gives the same decisions.
    """

    def __init__(self, settings: DedupSettings, signature_lookup: SignatureLookup) -> None:
        check_settings(settings)
        if not callable(signature_lookup):
            raise ConfigError(
                "signature_lookup", signature_lookup,
                "must be a callable article_id -> Fingerprint | None, e.g. store.fingerprint",
            )
        self.settings = settings
        self.layout = lsh_layout(settings)
        self._lookup = signature_lookup
        self._bands = BandIndex(self.layout.bands)
        self._ids = Column(np.int64)

    def __len__(self) -> int:
        """Indexed rows (an updated record counts once per version added)."""
        return len(self._bands)

    def nbytes(self) -> int:
        """Approximate bytes held by the index arrays."""
        return self._bands.nbytes() + self._ids.view().nbytes

    def load(self, rows: Iterable[Row]) -> int:
        """Bulk-index stored records; returns how many were indexed.

        Rows with ``n_shingles == 0`` (texts without words) are skipped. If a
        row is malformed, nothing from this call is indexed.
        """
        before = len(self._ids)
        try:
            return self._bands.load(self._key_chunks(rows))
        except BaseException:
            self._ids.truncate(before)
            raise

    def ids_above(self, after_id: int) -> set[int]:
        """The indexed record ids above ``after_id`` (a refresh skips those).

        >>> from ingest.config import DedupSettings
        >>> index = NearDuplicateIndex(DedupSettings(), lambda i: None)
        >>> index.ids_above(0)
        set()
        """
        ids = np.asarray(self._ids.view(), dtype=np.int64)
        return {int(i) for i in ids[ids > after_id]}

    def add(self, article_id: int, fp: Fingerprint) -> None:
        """Index a record just stored (a no-op for a text without shingles)."""
        keys = self._keys(fp)
        if fp.n_shingles <= 0:
            return
        self._bands.add(keys)
        self._ids.append(article_id)

    def find(self, fp: Fingerprint, *, exclude: Container[int] = ()) -> DedupDecision:
        """``near`` with the best confirmed stored record, else ``new``.

        ``exclude`` holds article ids that must not be chosen (records an
        editor split from this one, or the record itself when re-checking it).
        """
        ids = [i for i in self.candidates(fp) if i not in exclude]
        return choose(fp, ((i, self._lookup(i)) for i in ids), self.settings)

    def candidates(self, fp: Fingerprint) -> list[int]:
        """Ascending article ids sharing a band with ``fp`` (not confirmed)."""
        keys = self._keys(fp)
        if fp.n_shingles <= 0:
            return []
        rows = self._bands.query(keys)
        return [int(i) for i in np.unique(self._ids.view()[rows])]

    def _keys(self, fp: Fingerprint) -> np.ndarray:
        if len(fp.minhash) != 4 * self.settings.num_perm or len(fp.bands) != 8 * self.layout.bands:
            raise ConfigError(
                "dedup", self.settings,
                f"fingerprint has {len(fp.minhash) // 4} MinHash values and "
                f"{len(fp.bands) // 8} bands, the index expects {self.settings.num_perm} and "
                f"{self.layout.bands}: compute fingerprints with the index's settings",
            )
        return np.frombuffer(fp.bands, dtype="<u8").astype(np.uint64)

    def _key_chunks(self, rows: Iterable[Row]) -> Iterator[np.ndarray]:
        iterator = iter(rows)
        while chunk := list(islice(iterator, _LOAD_CHUNK)):
            ids, sizes, bands = zip(*chunk, strict=True)
            keys = self._parse_bands(ids, bands)
            self._check_layout(ids[0], bands[0])
            ids_array = np.asarray(ids, dtype=np.int64)
            keep = np.asarray(sizes, dtype=np.int64) > 0
            if not keep.all():
                keys, ids_array = keys[keep], ids_array[keep]
            self._ids.extend(ids_array)
            yield keys

    def _check_layout(self, article_id: int, bands: bytes) -> None:
        """Stored bands must come from this layout: after a settings change they
        can keep their length (48 bands of 1 or of 2 rows) yet never match, so one
        row per chunk is re-banded from its stored MinHash and compared."""
        stored = self._lookup(article_id)
        if stored is None or stored.n_shingles <= 0:
            return
        if bands_from_minhash(stored.minhash, self.settings) != bands:
            raise ConfigError(
                "dedup", self.settings,
                f"the stored bands of article {article_id} were computed with other dedup "
                "settings; recompute every row's bands with bands_from_minhash(minhash, "
                "settings), or restore the previous settings",
            )

    def _parse_bands(self, ids: tuple[int, ...], bands: tuple[bytes, ...]) -> np.ndarray:
        width = 8 * self.layout.bands
        joined = b"".join(bands)
        if len(joined) != width * len(bands):
            bad = next(i for i, b in enumerate(bands) if len(b) != width)
            raise ConfigError(
                "dedup", self.settings,
                f"article {ids[bad]} has {len(bands[bad])} bytes of bands, expected {width}: "
                "the settings changed since the bands were stored; recompute them with "
                "bands_from_minhash(minhash, settings)",
            )
        keys = np.frombuffer(joined, dtype="<u8").astype(np.uint64, copy=False)
        return keys.reshape(len(bands), -1)
