"""What later decisions must respect of the editors' reviews: :class:`store.db.Store`
methods (a mixin, as :class:`store.learning.SiteLearning`), read by key.

A cycle asks them for every new page, so they read only the reviews that
concern the page (by its URLs, and by the ids that stand for its record
through merges), never the whole table::

    store.review_exclusions("https://b.example/story")    # frozenset({7})
    store.review_merge_target("https://c.example/story")  # (7, 0.42) or None
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    action: str
    article_id: int
    target_id: int
    url: str
    similarity: float | None


_SPLITS = """
WITH RECURSIVE absorbed(id) AS (
    SELECT CAST(? AS BIGINT) UNION SELECT r.article_id FROM reviews r
    JOIN absorbed a ON r.target_id = a.id WHERE r.action = 'merge'
)
SELECT s.id, s.action, s.article_id, s.target_id, s.url, s.similarity FROM reviews s
WHERE s.action = 'split'
  AND (s.url IN ({urls}) OR s.article_id IN (SELECT id FROM absorbed)
       OR s.target_id IN (SELECT id FROM absorbed))
  AND NOT EXISTS (SELECT 1 FROM reviews m WHERE m.action = 'merge' AND m.url = s.url
                  AND m.id > s.id)
ORDER BY s.id
"""


class ReviewLookups:
    """Mixin of both stores (needs ``self.conn.execute`` with ``?`` placeholders: the
    SQL is portable, and PostgreSQL's connection rewrites the placeholders)."""

    conn: Any

    def review_constraints(self, *urls: str) -> tuple[tuple[int, float] | None, frozenset[int]]:
        """Both answers a new page's decision needs, with one look at whether there is any
        review at all (nearly always none): ``(merge target, exclusions)``; exclusions are
        only read when no merge stands (a standing merge decides alone)."""
        if not self._any_review():
            return None, frozenset()
        target = self.review_merge_target(*urls)
        return (target, frozenset()) if target is not None else (
            None, self.review_exclusions(*urls))

    def review_exclusions(self, *urls: str) -> frozenset[int]:
        """Record ids the page at ``urls`` (its URL, and its canonical URL) must never be
        merged into, because an editor split them apart.

        Both ways: the page split off must not go back into its old record, and
        a page of the old record must not go into the split-off one. Ids are
        followed through later merges (a record merged away stands for the one
        that absorbed it); a split the editor undid by merging the page again is
        void.
        """
        if not self._any_review():
            return frozenset()
        own = self._own(urls)
        found: set[int | None] = set()
        for row in self._splits_concerning(urls, own):
            new, old = self._follow(row.article_id), self._follow(row.target_id)
            if row.url in urls or (own is not None and new == own):
                found.add(old)
            elif own is not None and old == own:
                found.add(new)
        return frozenset(i for i in found if i is not None and i != own)

    def review_merge_target(self, *urls: str) -> tuple[int, float] | None:
        """``(record id, similarity)`` an editor merged the page at ``urls`` into, if the
        merge still stands (no later split of that page, the record still exists).

        What a rebuild (``reprocess``) needs to fold the page in again by itself,
        as a duplicate with method ``review``, whatever the tiers would decide.
        """
        if not urls or not self._any_review():
            return None
        row = self.conn.execute(
            f"SELECT action, target_id, similarity FROM reviews WHERE url IN ({_marks(urls)}) "
            "ORDER BY id DESC LIMIT 1", urls).fetchone()
        if row is None or row[0] != "merge":
            return None
        target = self._follow(int(row[1]))
        return None if target is None else (target, row[2] or 0.0)

    def _any_review(self) -> bool:
        return self.conn.execute("SELECT 1 FROM reviews LIMIT 1").fetchone() is not None

    def _splits_concerning(self, urls: tuple[str, ...], own: int | None) -> list[_Row]:
        """Standing splits of the page itself, or of a record that stands (through merges)
        for the record the page belongs to: the only ones that can exclude anything."""
        sql = _SPLITS.format(urls=_marks(urls) if urls else "NULL")
        return [_Row(*row) for row in self.conn.execute(sql, (own, *urls))]

    def _own(self, urls: tuple[str, ...]) -> int | None:
        """The record the page already is or belongs to, by exact URL (not identity key:
        an AMP copy split from its canonical page shares that page's key)."""
        for url in urls:
            row = self.conn.execute("SELECT id FROM articles WHERE url = ? UNION ALL "
                                    "SELECT article_id FROM url_aliases WHERE url = ? LIMIT 1",
                                    (url, url)).fetchone()
            if row is not None:
                return int(row[0])
        return None

    def _follow(self, article_id: int) -> int | None:
        """The record standing for ``article_id`` now: itself if it exists, else the record
        its latest merge went into, followed; None if the chain ends in nothing."""
        current, seen = article_id, set()
        while current not in seen:
            seen.add(current)
            if self.conn.execute("SELECT 1 FROM articles WHERE id = ?",
                                 (current,)).fetchone() is not None:
                return current
            row = self.conn.execute("SELECT target_id FROM reviews WHERE action = 'merge' "
                                    "AND article_id = ? ORDER BY id DESC LIMIT 1",
                                    (current,)).fetchone()
            if row is None:
                return None
            current = int(row[0])
        return None


def _marks(values: tuple[object, ...]) -> str:
    return ", ".join("?" * len(values))
