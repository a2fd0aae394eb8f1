"""The reviews that concern a page, read by key, decide as reading the whole table did.

``Store.review_exclusions`` and ``review_merge_target`` (``store/reviewlookups.py``)
run for every new page of a cycle; they used to read every row of ``reviews``. The by-key version
must answer exactly as that first version did, kept here as the reference, on any
history of splits and merges (random tables: the functions read only
``reviews``, ``articles`` and ``url_aliases``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from store.db import Store

URLS = [f"https://s{i}.example/p" for i in range(5)]
IDS = st.integers(1, 8)


@dataclass(frozen=True)
class _Row:
    id: int
    action: str
    article_id: int
    target_id: int
    url: str
    similarity: float | None


def _rows(store: Store) -> list[_Row]:
    return [_Row(*row) for row in store.conn.execute(
        "SELECT id, action, article_id, target_id, url, similarity FROM reviews ORDER BY id")]


def _own(store: Store, urls: tuple[str, ...]) -> int | None:
    for url in urls:
        row = store.conn.execute("SELECT id FROM articles WHERE url = ? UNION ALL "
                                 "SELECT article_id FROM url_aliases WHERE url = ? LIMIT 1",
                                 (url, url)).fetchone()
        if row is not None:
            return int(row[0])
    return None


def _resolver(store: Store, rows: list[_Row]) -> Callable[[int], int | None]:
    merged = {r.article_id: r.target_id for r in rows if r.action == "merge"}

    def resolve(article_id: int) -> int | None:
        current = article_id
        for _ in range(len(merged) + 1):
            if store.conn.execute("SELECT 1 FROM articles WHERE id = ?",
                                  (current,)).fetchone() is not None:
                return current
            if current not in merged:
                return None
            current = merged[current]
        return None

    return resolve


def reference_exclusions(store: Store, *urls: str) -> frozenset[int]:
    rows = _rows(store)
    if not rows:
        return frozenset()
    resolve = _resolver(store, rows)
    own = _own(store, urls)
    found: set[int | None] = set()
    for row in rows:
        undone = any(r.action == "merge" and r.id > row.id and r.url == row.url for r in rows)
        if row.action != "split" or undone:
            continue
        new, old = resolve(row.article_id), resolve(row.target_id)
        if row.url in urls or (own is not None and new == own):
            found.add(old)
        elif own is not None and old == own:
            found.add(new)
    return frozenset(i for i in found if i is not None and i != own)


def reference_merge_target(store: Store, *urls: str) -> tuple[int, float] | None:
    rows = _rows(store)
    mine = [row for row in rows if row.url in urls]
    if not mine or mine[-1].action != "merge":
        return None
    target = _resolver(store, rows)(mine[-1].target_id)
    return None if target is None else (target, mine[-1].similarity or 0.0)


HISTORY = st.lists(st.tuples(st.sampled_from(["split", "merge"]), IDS, IDS,
                             st.sampled_from(URLS), st.one_of(st.none(), st.floats(0, 1))),
                   max_size=12)


@settings(max_examples=150, deadline=None)
@given(existing=st.sets(IDS), aliases=st.dictionaries(st.sampled_from(URLS), IDS, max_size=3),
       history=HISTORY, own_urls=st.dictionaries(IDS, st.sampled_from(URLS), max_size=3))
def test_by_key_lookups_answer_as_the_whole_table_did(
        existing: set[int], aliases: dict[str, int], history: list[tuple],
        own_urls: dict[int, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "news.db") as store:
        conn = store.conn
        conn.execute("PRAGMA foreign_keys = OFF")  # a random history references gone ids
        used: set[str] = set()
        for article_id in sorted(existing):
            url = own_urls.get(article_id)
            url = url if url and url not in used else f"https://r{article_id}.example/"
            used.add(url)
            conn.execute("INSERT INTO articles (id, url, source, text, content_hash, "
                         "fetched_at) VALUES (?, ?, 's', 't', 'h', 't')", (article_id, url))
        for url, article_id in aliases.items():
            conn.execute("INSERT OR IGNORE INTO url_aliases VALUES (?, ?, 't')", (url, article_id))
        for action, article_id, target_id, url, similarity in history:
            conn.execute("INSERT INTO reviews (action, article_id, target_id, url, similarity, "
                         "at) VALUES (?, ?, ?, ?, ?, 't')",
                         (action, article_id, target_id, url, similarity))
        for i in range(len(URLS)):
            for urls in ((URLS[i],), (URLS[i], URLS[(i + 1) % len(URLS)]), ()):
                assert store.review_exclusions(*urls) == reference_exclusions(store, *urls)
                assert store.review_merge_target(*urls) == reference_merge_target(store, *urls)


@settings(max_examples=60, deadline=None)
@given(existing=st.sets(IDS), history=HISTORY)
def test_constraints_are_the_merge_target_else_the_exclusions(existing: set[int],
                                                               history: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "news.db") as store:
        store.conn.execute("PRAGMA foreign_keys = OFF")
        for article_id in sorted(existing):
            store.conn.execute("INSERT INTO articles (id, url, source, text, content_hash, "
                               "fetched_at) VALUES (?, ?, 's', 't', 'h', 't')",
                               (article_id, f"https://r{article_id}.example/"))
        for action, article_id, target_id, url, similarity in history:
            store.conn.execute("INSERT INTO reviews (action, article_id, target_id, url, "
                               "similarity, at) VALUES (?, ?, ?, ?, ?, 't')",
                               (action, article_id, target_id, url, similarity))
        for url in URLS:
            target = reference_merge_target(store, url)
            expected = (target, frozenset() if target else reference_exclusions(store, url))
            assert store.review_constraints(url) == expected
