"""What a page's decision reads, in the SQL both backends run (as :mod:`store.writes`).

:class:`RecordReads` is a mixin of both stores; each brings ``_one`` (one row or
None). PostgreSQL returns ``bytea`` as bytes and SQLite ``BLOB`` too, so a stored
:class:`~ingest.types.Fingerprint` reads back equal on either::

    store.known_url("https://a.example/x")     # KnownUrl('article', 7, None, None, None)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ingest.types import Fingerprint, KnownUrl, SourceState
from ingest.urls import identity_key
from store import sql
from store.sqlvalues import int_or_none, str_or_none


class RecordReads:
    def _one(self, statement: str, params: Iterable[object] = ()) -> tuple[Any, ...] | None:
        raise NotImplementedError

    def known_url(self, url: str) -> KnownUrl | None:
        """Where ``url`` already stands: ``article``, ``duplicate``, ``alias``, ``skipped``,
        or ``variant`` (another spelling of a stored page: see ``identity_key``)."""
        row = self._one(sql.KNOWN_URL, (url, url, url, url, identity_key(url)))
        if row is None:
            return None
        kind, article_id, feed_updated, reason, at, _ = row
        return KnownUrl(str(kind), int_or_none(article_id), str_or_none(feed_updated),
                        str_or_none(reason), str_or_none(at))

    def article_for_url(self, url: str) -> int | None:
        row = self._one(sql.ARTICLE_FOR_URL, (url, url, identity_key(url)))
        return int_or_none(row[0]) if row else None

    def article_for_hash(self, content_hash: str) -> int | None:
        """The oldest record with this exact normalised text, whatever its language."""
        row = self._one(sql.ARTICLE_FOR_HASH, (content_hash,))
        return int_or_none(row[0]) if row else None

    def fingerprint(self, article_id: int) -> Fingerprint | None:
        row = self._one(sql.FINGERPRINT, (article_id,))
        if row is None:
            return None
        return Fingerprint(content_hash=row[4], language=row[0], n_shingles=row[1],
                           minhash=bytes(row[2]), bands=bytes(row[3]))

    def max_article_id(self) -> int:
        row = self._one(sql.MAX_ARTICLE_ID)
        return int(row[0]) if row and row[0] is not None else 0

    def source_state(self, name: str) -> SourceState | None:
        row = self._one(sql.SOURCE_STATE, (name,))
        if row is None:
            return None
        return SourceState(str(row[0]), str_or_none(row[1]), str_or_none(row[2]),
                           int(row[3] or 0), str_or_none(row[4]), str_or_none(row[5]))
