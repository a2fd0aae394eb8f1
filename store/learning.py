"""Per-site template learning: the store's side (counts, template keys, purges).

A paragraph found on ``clean.template_min_pages`` records of one site is
template (see ``ingest.pipeline.record``). These are :class:`store.db.Store` methods,
kept here so each module stays small::

    store.site_template("example.com", 3)   # -> frozenset of paragraph keys
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ingest.types import Fingerprint, Removal
from store import sql
from store.sqlvalues import str_or_none, utcnow


class _Store(Protocol):
    conn: Any

    def _one(self, sql: str, params: Iterable[object] = ()) -> tuple[object, ...] | None: ...

    def _atomic(self, url: str | None = None) -> AbstractContextManager[None]: ...

    def _samples(self, site: str, keys: frozenset[str]) -> list[str]: ...

    def _write_bands(self, article_id: int, bands: bytes) -> None: ...


class SiteLearning:
    """Mixin of :class:`store.db.Store` (one connection, one writer)."""

    def _learn(self: _Store, site: str, paragraphs: tuple[tuple[str, str], ...]) -> None:
        """Count a new record's paragraphs: a first sighting is only a hash; from the
        second record on, the paragraph is a ``site_paragraphs`` row with its count."""
        if not paragraphs:
            return
        now = utcnow()
        hashes = [key_hash(key) for key, _ in paragraphs]
        listed = json.dumps(hashes)
        seen = dict(self.conn.execute(
            "SELECT hash, first_seen FROM site_paragraph_sightings WHERE site = ? AND hash IN "
            "(SELECT value FROM json_each(?))", (site, listed)).fetchall())
        if seen:
            self.conn.executemany(
                "INSERT INTO site_paragraphs VALUES (?,?,2,?,?,?) ON CONFLICT(site, key) DO "
                "UPDATE SET pages = pages + 1, last_seen = excluded.last_seen",
                [(site, key, text, seen[h], now)
                 for (key, text), h in zip(paragraphs, hashes, strict=True) if h in seen])
        self.conn.execute("INSERT OR IGNORE INTO site_paragraph_sightings "
                          "SELECT ?, value, ? FROM json_each(?)", (site, now, listed))

    def site_template(self: _Store, site: str, min_pages: int) -> frozenset[str]:
        """Paragraph keys found on at least ``min_pages`` (>= 2, as ``clean.template_min_pages``
        is) records of ``site``."""
        if min_pages < 2:
            raise ValueError(f"min_pages must be >= 2 (a paragraph on one record is not "
                             f"template), got {min_pages}")
        # "pages >= 2" spelled out lets SQLite use the partial index (migration 0007).
        rows = self.conn.execute("SELECT key FROM site_paragraphs WHERE site = ? AND pages >= ? "
                                 "AND pages >= 2", (site, min_pages))
        return frozenset(key for (key,) in rows)

    def newly_template(self: _Store, site: str, keys: list[str], min_pages: int) -> frozenset[str]:
        """Those of ``keys`` that the last record made template (count just reached)."""
        rows = self.conn.execute(
            "SELECT key FROM site_paragraphs WHERE site = ? AND pages = ? AND key IN "
            "(SELECT value FROM json_each(?))", (site, min_pages, json.dumps(keys)))
        return frozenset(key for (key,) in rows)

    def site_articles(self: _Store, site: str, keys: frozenset[str] = frozenset()
                      ) -> list[tuple[int, str, str | None]]:
        """(id, text, language) of the records of ``site``, oldest first; with ``keys``,
        only those that may hold one of these template paragraphs (a SQL pre-filter on
        each key's sample text, which is then confirmed by the caller)."""
        probes = [_probe(sample) for sample in self._samples(site, keys)]
        if keys and all(probes):
            where = " OR ".join("instr(text, ?) > 0" for _ in probes)
            rows = self.conn.execute(f"SELECT id, text, language FROM articles WHERE site = ? "
                                     f"AND ({where}) ORDER BY id", (site, *probes))
        else:
            rows = self.conn.execute("SELECT id, text, language FROM articles WHERE site = ? "
                                     "ORDER BY id", (site,))
        return [(int(i), str(t), str_or_none(lang)) for i, t, lang in rows]

    def _samples(self: _Store, site: str, keys: frozenset[str]) -> list[str]:
        rows = (self._one("SELECT sample FROM site_paragraphs WHERE site = ? AND key = ?",
                          (site, key)) for key in sorted(keys))
        return [str(row[0]) if row else "" for row in rows]

    def rewrite_article(self: _Store, article_id: int, text: str, removed: list[Removal],
                        fp: Fingerprint) -> None:
        """Replace a record's text after our own cleaning improved (not a new version).
        Portable SQL: both stores run this one."""
        with self._atomic():
            self.conn.execute(sql.REWRITE_ARTICLE, (text, fp.content_hash, len(text.split()),
                                                    article_id))
            self.conn.execute(sql.UPSERT_SIGNATURE, (article_id, fp.language, fp.n_shingles,
                                                     fp.minhash, fp.bands))
            self._write_bands(article_id, fp.bands)
            start = self._one(sql.NEXT_REMOVAL, (article_id,))
            offset = int(start[0]) if start and isinstance(start[0], int) else 0
            self.conn.executemany(sql.INSERT_REMOVAL, (
                (article_id, offset + i, r.rule, r.text) for i, r in enumerate(removed)))


_MIN_PROBE_CHARS = 8


def key_hash(key: str) -> int:
    """A paragraph key's first sighting as stored: 8 bytes of BLAKE2b, a signed int64.

    Stable across processes and versions (Python's ``hash`` is not), and at
    2**-64 per pair no site holds two keys that collide.

    >>> key_hash("read more about it") == key_hash("read more about it")
    True
    """
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _probe(sample: str) -> str:
    """The longest digit-free run of a template paragraph (keys fold digits): every
    record holding the paragraph, whatever its numbers, holds this run; "" if too short
    to narrow the scan."""
    run = max(re.split(r"\d+", sample), key=len).strip()
    return run if len(run) >= _MIN_PROBE_CHARS else ""
