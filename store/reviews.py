"""Editors' corrections to dedup decisions, as the store applies them; what they forbid.

MinHash is right most of the time; an editor who reads both texts is right
when it is not. A correction is applied to the records at once and kept in
``reviews`` forever, so the report shows its history and later cycles (and
``reprocess``) can ask the store which records a page must never be folded
into again (:mod:`store.reviewlookups`).

This module only reads and writes: what a split record's text, signature and
canonical URL are is decided above it (``ingest.pipeline.review``, which
re-extracts and fingerprints), and handed here to be written in one
transaction::

    source = split_source(store, 17)                   # the duplicate and its raw page
    apply_split(store, source, article, fp, canonical, note="not a copy")
    apply_merge(store, 42, into=7, similarity=0.41, note="same dispatch")
    store.review_exclusions("https://b.example/story")    # frozenset({7})

Impossible requests (unknown ids, a record merged into itself or into one
that no longer exists, a duplicate changed meanwhile) raise
:class:`~ingest.errors.ReviewRefused` and write nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.errors import ReviewRefused
from ingest.types import CleanedArticle, Fingerprint
from ingest.urls import host_key, identity_key
from store.backends import AnyStore
from store.db import decompress_html
from store.sqlvalues import utcnow

__all__ = ["ReviewResult", "SplitSource", "apply_merge", "apply_split", "split_source"]


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """What a review did. ``article_id`` is the record split off (split) or
    folded away (merge); ``target_id`` the record on the other side."""

    review_id: int
    action: str
    article_id: int
    target_id: int
    duplicate_id: int | None
    url: str
    similarity: float | None


@dataclass(frozen=True, slots=True)
class StoredDuplicate:
    """A ``duplicates`` row as a split needs it."""

    id: int
    url: str
    article_id: int
    similarity: float
    method: str
    title: str | None
    text: str | None
    source: str
    language: str | None
    fetched_at: str
    declared_language: str | None
    language_confidence: float | None


@dataclass(frozen=True, slots=True)
class StoredPage:
    """The raw page kept for a duplicate (``html`` decompressed)."""

    final_url: str
    charset: str | None
    html: bytes
    feed_updated: str | None


@dataclass(frozen=True, slots=True)
class SplitSource:
    """What a split starts from: the duplicate's row and, if kept, its raw page."""

    duplicate: StoredDuplicate
    page: StoredPage | None


# -- split ---------------------------------------------------------------------------------


def split_source(store: AnyStore, duplicate_id: int) -> SplitSource:
    """The duplicate ``duplicate_id`` and its raw page; refused when there is nothing to
    split (an unknown id, or the URL its record was itself fetched at)."""
    dup = _duplicate(store, duplicate_id)
    page = _page(store, duplicate_id)
    if not dup.text and page is None:
        raise ReviewRefused(
            f"duplicate {duplicate_id} is the URL record {dup.article_id} itself was fetched "
            "at (no text or page of its own): there is nothing to split", url=dup.url)
    return SplitSource(dup, page)


def apply_split(store: AnyStore, source: SplitSource, article: CleanedArticle,
                fp: Fingerprint, canonical: str, note: str | None = None,
                editor: str | None = None) -> ReviewResult:
    """Write a split decided above: the duplicate becomes record ``article`` (signature
    ``fp``, also known under ``canonical``), in one transaction; refused, with nothing
    written, if the duplicate changed since ``source`` was read."""
    dup, page = source.duplicate, source.page
    with store._atomic(dup.url):
        store._pause_decisions()
        if _duplicate(store, dup.id) != dup:
            raise ReviewRefused(f"duplicate {dup.id} changed meanwhile; try again", url=dup.url)
        new_id = _insert_article(store, dup, article, fp, page)
        _move_split_rows(store, dup, new_id, canonical)
        review_id = _record(store, "split", new_id, dup.article_id, dup.id, dup.url,
                            dup.method, dup.similarity, note, editor)
    return ReviewResult(review_id, "split", new_id, dup.article_id, dup.id, dup.url,
                        dup.similarity)


def _duplicate(store: AnyStore, duplicate_id: int) -> StoredDuplicate:
    row = store.conn.execute(
        "SELECT id, url, article_id, similarity, method, title, text, source, language, "
        "fetched_at, declared_language, language_confidence FROM duplicates WHERE id = ?",
        (duplicate_id,)).fetchone()
    if row is None:
        raise ReviewRefused(f"no duplicate {duplicate_id} (`newsdedup report` lists each "
                            "duplicate with its id)")
    return StoredDuplicate(*row)


def _page(store: AnyStore, duplicate_id: int) -> StoredPage | None:
    row = store.conn.execute("SELECT final_url, charset, html, feed_updated FROM pages "
                             "WHERE duplicate_id = ? ORDER BY fetched_at DESC LIMIT 1",
                             (duplicate_id,)).fetchone()
    return None if row is None else StoredPage(row[0], row[1], decompress_html(bytes(row[2])),
                                               row[3])


def _insert_article(store: AnyStore, dup: StoredDuplicate, a: CleanedArticle, fp: Fingerprint,
                    page: StoredPage | None) -> int:
    values: dict[str, object] = {
        "url": dup.url, "source": dup.source, "title": a.title, "author": a.author,
        "published": a.published, "language": a.language, "text": a.text,
        "content_hash": fp.content_hash, "fetched_at": dup.fetched_at,
        "feed_updated": page.feed_updated if page else None, "sitename": a.sitename,
        "word_count": len(a.text.split()), "site": host_key(dup.url),
        "declared_language": a.declared_language,
        "language_confidence": a.language_confidence,
    }
    (article_id,) = store.conn.execute(
        f"INSERT INTO articles ({', '.join(values)}) VALUES ({', '.join('?' * len(values))}) "
        "RETURNING id", tuple(values.values())).fetchone()
    article_id = int(article_id)
    store.conn.execute("INSERT INTO signatures VALUES (?,?,?,?,?)",
                       (article_id, fp.language, fp.n_shingles, fp.minhash, fp.bands))
    store._write_bands(article_id, fp.bands)
    store.conn.executemany(
        "INSERT INTO removals (article_id, position, rule, text) VALUES (?,?,?,?)",
        ((article_id, i, r.rule, r.text) for i, r in enumerate(a.removed)))
    return article_id


def _move_split_rows(store: AnyStore, dup: StoredDuplicate, new_id: int, canonical: str) -> None:
    """The page, its URL (and its declared canonical, if nobody owns it) go to the new record.

    An identity key the old record's own URL shares (an AMP or ``www.``
    spelling of it) stays with the old record: that is the record it names.
    """
    conn = store.conn
    urls = sorted({dup.url, canonical})
    conn.execute("UPDATE url_aliases SET article_id = ? WHERE url = ?", (new_id, dup.url))
    conn.executemany("INSERT INTO url_aliases VALUES (?,?,?) ON CONFLICT DO NOTHING",
                     ((u, new_id, dup.fetched_at) for u in urls))
    old_url = conn.execute("SELECT url FROM articles WHERE id = ?", (dup.article_id,)).fetchone()
    keep = _key(old_url[0]) if old_url else None
    for key in {_key(u) for u in urls} - {keep, None}:
        conn.execute("UPDATE url_keys SET article_id = ? WHERE key = ? AND article_id = ?",
                     (new_id, key, dup.article_id))
        conn.execute("INSERT INTO url_keys VALUES (?,?) ON CONFLICT DO NOTHING", (key, new_id))
    conn.execute("UPDATE pages SET article_id = ?, duplicate_id = NULL WHERE duplicate_id = ?",
                 (new_id, dup.id))
    conn.execute("DELETE FROM duplicates WHERE id = ?", (dup.id,))
    conn.execute("DELETE FROM decision_marks WHERE duplicate_id = ?", (dup.id,))


def _key(url: str) -> str | None:
    try:
        return identity_key(url)
    except ValueError:
        return None


# -- merge ---------------------------------------------------------------------------------


def apply_merge(store: AnyStore, article_id: int, *, into: int, similarity: float,
                note: str | None = None, editor: str | None = None) -> ReviewResult:
    """Fold record ``article_id`` into record ``into`` (a duplicate the tiers missed).

    The record becomes a duplicate (method ``review``, ``similarity`` as measured
    above); its own duplicates, URL aliases and older versions move to ``into``; its
    signature, removals and search row go away.
    """
    if article_id == into:
        raise ReviewRefused(f"cannot merge record {article_id} into itself")
    with store._atomic():
        store._pause_decisions()
        _require_record(store, into, "merge target")
        url, source, title, text, language, fetched_at, declared, confidence = \
            _require_record(store, article_id, "record")
        (duplicate_id,) = store.conn.execute(
            "INSERT INTO duplicates (url, article_id, similarity, method, title, text, source, "
            "language, fetched_at, decided_at, declared_language, language_confidence) "
            "VALUES (?,?,?,'review',?,?,?,?,?,?,?,?) RETURNING id",
            (url, into, similarity, title, text, source, language, fetched_at, utcnow(),
             declared, confidence)).fetchone()
        duplicate_id = int(duplicate_id)
        _move_merged_rows(store, article_id, into, duplicate_id)
        review_id = _record(store, "merge", article_id, into, duplicate_id, url, "review",
                            similarity, note, editor)
        if editor:  # the editor's own decision is reviewed by definition
            store.conn.execute("INSERT INTO decision_marks VALUES (?,?,?)",
                               (duplicate_id, editor, utcnow()))
    return ReviewResult(review_id, "merge", article_id, into, duplicate_id, url, similarity)


def _require_record(store: AnyStore, article_id: int, role: str) -> tuple[Any, ...]:
    row: tuple[Any, ...] | None = store.conn.execute(
        "SELECT url, source, title, text, language, fetched_at, declared_language, "
        "language_confidence FROM articles WHERE id = ?", (article_id,)).fetchone()
    if row is not None:
        return row
    merged = store.conn.execute(
        "SELECT target_id, id FROM reviews WHERE action = 'merge' AND article_id = ? "
        "ORDER BY id DESC LIMIT 1", (article_id,)).fetchone()
    if merged is not None:
        raise ReviewRefused(f"{role} {article_id} is no longer a record: review {merged[1]} "
                            f"merged it into record {merged[0]}")
    dup = store.conn.execute("SELECT article_id FROM duplicates WHERE id = ?",
                             (article_id,)).fetchone()
    hint = (f" ({article_id} is the id of a duplicate of record {dup[0]}: record and "
            "duplicate ids are separate)" if dup else "")
    raise ReviewRefused(f"{role} {article_id} does not exist{hint}")


def _move_merged_rows(store: AnyStore, article_id: int, into: int, duplicate_id: int) -> None:
    conn = store.conn
    conn.execute("UPDATE duplicates SET article_id = ? WHERE article_id = ?", (into, article_id))
    for table in ("url_aliases", "url_keys", "article_versions"):  # as reprocess does
        conn.execute(f"UPDATE {table} SET article_id = ? WHERE article_id = ?",
                     (into, article_id))
    conn.execute("UPDATE pages SET article_id = NULL, duplicate_id = ? WHERE article_id = ?",
                 (duplicate_id, article_id))
    for table in ("removals", "signatures", "rechecks"):
        conn.execute(f"DELETE FROM {table} WHERE article_id = ?", (article_id,))
    store._drop_bands(article_id)
    conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))


# -- shared --------------------------------------------------------------------------------


def _record(store: AnyStore, action: str, article_id: int, target_id: int,
            duplicate_id: int | None, url: str, method: str | None, similarity: float | None,
            note: str | None, editor: str | None = None) -> int:
    (review_id,) = store.conn.execute(
        "INSERT INTO reviews (action, article_id, target_id, duplicate_id, url, method, "
        "similarity, note, at, editor) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id",
        (action, article_id, target_id, duplicate_id, url, method, similarity,
         note or None, utcnow(), editor)).fetchone()
    return int(review_id)
