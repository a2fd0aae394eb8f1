"""Per-site template learning on PostgreSQL: :class:`store.learning.SiteLearning` with
arrays where SQLite uses ``json_each``, and upserts where it uses ``INSERT OR REPLACE``.

Counting is concurrency-safe as written (an upsert adds one), and a page's
decision holds its site's advisory lock (see :meth:`store.pg.db.PgStore.decision`),
so two workers storing records of one site count them one after the other,
exactly as one writer would::

    store.site_template("example.com", 3)   # -> frozenset of paragraph keys
"""

from __future__ import annotations

from typing import Any

from store.learning import SiteLearning, _probe, key_hash
from store.sqlvalues import str_or_none, utcnow

BAND_MIX = 0x9E3779B97F4A7C15
_U64 = (1 << 64) - 1


def lsh_keys(bands: bytes) -> list[int]:
    """The ``lsh_bands.key`` values of a record: band ``i``'s 64-bit key mixed with
    ``i`` (equal bands at different positions must not meet), as signed int64.

    >>> lsh_keys((5).to_bytes(8, "little") * 2) == lsh_keys((5).to_bytes(8, "little") * 2)
    True
    >>> len(set(lsh_keys((5).to_bytes(8, "little") * 2)))
    2
    """
    out = []
    for i in range(len(bands) // 8):
        raw = int.from_bytes(bands[8 * i: 8 * i + 8], "little")
        mixed = (raw + (i + 1) * BAND_MIX) & _U64
        out.append(mixed - (1 << 64) if mixed >= 1 << 63 else mixed)
    return out


class PgSiteLearning(SiteLearning):
    """Mixin of :class:`store.pg.db.PgStore`."""

    conn: Any

    def _learn(self, site: str, paragraphs: tuple[tuple[str, str], ...]) -> None:
        if not paragraphs:
            return
        now = utcnow()
        hashes = [key_hash(key) for key, _ in paragraphs]
        seen = dict(self.conn.execute(
            "SELECT hash, first_seen FROM site_paragraph_sightings WHERE site = ? "
            "AND hash = ANY(?)", (site, hashes)).fetchall())
        if seen:
            self.conn.executemany(
                "INSERT INTO site_paragraphs VALUES (?,?,2,?,?,?) ON CONFLICT (site, key) DO "
                "UPDATE SET pages = site_paragraphs.pages + 1, last_seen = excluded.last_seen",
                [(site, key, text, seen[h], now)
                 for (key, text), h in zip(paragraphs, hashes, strict=True) if h in seen])
        self.conn.execute("INSERT INTO site_paragraph_sightings SELECT ?, unnest(?::int8[]), ? "
                          "ON CONFLICT DO NOTHING", (site, hashes, now))

    def newly_template(self, site: str, keys: list[str],
                       min_pages: int) -> frozenset[str]:
        rows = self.conn.execute(
            "SELECT key FROM site_paragraphs WHERE site = ? AND pages = ? AND key = ANY(?)",
            (site, min_pages, list(keys)))
        return frozenset(key for (key,) in rows)

    def site_articles(self, site: str,
                      keys: frozenset[str] = frozenset()) -> list[tuple[int, str, str | None]]:
        probes = [_probe(sample) for sample in self._samples(site, keys)]  # type: ignore[misc]
        if keys and all(probes):
            where = " OR ".join("strpos(text, ?) > 0" for _ in probes)
            rows = self.conn.execute(f"SELECT id, text, language FROM articles WHERE site = ? "
                                     f"AND ({where}) ORDER BY id", (site, *probes))
        else:
            rows = self.conn.execute("SELECT id, text, language FROM articles WHERE site = ? "
                                     "ORDER BY id", (site,))
        return [(int(i), str(t), str_or_none(lang)) for i, t, lang in rows]
