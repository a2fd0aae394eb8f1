"""Acceptance: a record's language comes from its text, and dedup ignores declarations.

The bug: the language was read from ``<html lang>``/``og:locale``, and dedup
kept languages apart, so a French-declared site republishing English wire
stories never had its copies merged with the English sites' copies. Here one
``once`` cycle crawls :mod:`langweb` (five loopback sites with wrong
declarations, syndicated copies, AMP and tracking variants, hard negatives;
texts from :mod:`langweb_text`) and the stored partition of pages into
records is scored pairwise against the generator's ground truth. Run with
``-s`` to see the figures.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

import service
from ingest.dedup.minhash import shingle_set, tokens
from ingest.urls import canonical_url
from langweb import LangWeb
from langweb_text import BRIEF, HARD_NEGATIVES, SENTENCES, choice_groups, generate_stories

MIN_RECALL = 0.97
MIN_PRECISION = 0.99

Row = dict[str, Any]


# --- scoring helpers ------------------------------------------------------------------


def partition(pages: Iterable[str], articles: Mapping[str, int],
              duplicates: Mapping[str, int]) -> dict[str, int | None]:
    """Each page URL -> the id of the record it ended up in, or None if not stored.

    A page is its own record when its canonical URL is in ``articles``
    (url -> id), or belongs to ``duplicates[url]`` (url -> article_id).
    Stored URLs are canonical, so pages are looked up by ``canonical_url``.
    """
    out: dict[str, int | None] = {}
    for page in pages:
        url = canonical_url(page)
        out[page] = articles.get(url, duplicates.get(url))
    return out


def same_pairs(labels: Mapping[str, Hashable | None]) -> set[frozenset[str]]:
    """Unordered pairs of keys sharing a label: "in one record" as a set of pairs.

    A None label (a page that was not stored) pairs with nothing.
    """
    groups: dict[Hashable, list[str]] = {}
    for key, label in labels.items():
        if label is not None:
            groups.setdefault(label, []).append(key)
    return {frozenset(p) for keys in groups.values() for p in itertools.combinations(keys, 2)}


def pairwise_scores(truth: Mapping[str, Hashable | None],
                    predicted: Mapping[str, Hashable | None]) -> tuple[float, float]:
    """(precision, recall) of the predicted same-record pairs against the true ones.

    Pairwise, so a story with four copies weighs six pairs: merging all but
    one copy costs three. No predicted (true) pair at all gives precision
    (recall) 1.0.
    """
    want, got = same_pairs(truth), same_pairs(predicted)
    hits = len(want & got)
    return (hits / len(got) if got else 1.0, hits / len(want) if want else 1.0)


def primary(tag: object) -> str | None:
    """Primary subtag of a stored language value: ``"fr-FR"`` -> ``"fr"``."""
    if not isinstance(tag, str) or not tag.strip():
        return None
    return re.split(r"[-_]", tag.strip().lower())[0]


# --- the crawl --------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """The two tables a page can end up in, keyed by canonical URL."""

    articles: dict[str, Row]
    duplicates: dict[str, Row]

    def columns(self, table: str) -> frozenset[str]:
        rows = self.articles if table == "articles" else self.duplicates
        return frozenset(next(iter(rows.values()), {}))


@pytest.fixture(scope="module")
def web() -> Iterator[LangWeb]:
    with LangWeb() as news:
        yield news


@pytest.fixture(scope="module")
def stored(web: LangWeb, tmp_path_factory: pytest.TempPathFactory) -> Stored:
    """The web after one ``once`` cycle, as read back from SQLite."""
    config = web.write_config(tmp_path_factory.mktemp("langweb"))
    assert service.main(["once", "--config", str(config)]) == 0
    with sqlite3.connect(config.parent / "news.db") as conn:
        conn.row_factory = sqlite3.Row
        articles = {r["url"]: dict(r) for r in conn.execute("SELECT * FROM articles")}
        duplicates = {r["url"]: dict(r) for r in conn.execute("SELECT * FROM duplicates")}
    return Stored(articles, duplicates)


@pytest.fixture(scope="module")
def records(web: LangWeb, stored: Stored) -> dict[str, int | None]:
    return partition(web.pages,
                     {url: row["id"] for url, row in stored.articles.items()},
                     {url: row["article_id"] for url, row in stored.duplicates.items()})


def _truth_at(web: LangWeb, stored_url: str) -> Any:
    """The page whose canonical URL is ``stored_url`` (AMP pages store their main URL)."""
    matches = [t for url, t in web.pages.items() if canonical_url(url) == stored_url]
    assert matches, f"{stored_url} is stored but is not an article page of the web"
    return matches[0]


# --- the generator itself (no crawl) ---------------------------------------------------


def test_generator_is_seeded_and_writes_distinct_stories() -> None:
    """Same seed, same web; stories long enough; different stories share few 5-word runs,
    so whatever merges in the crawl merges because it was copied."""
    assert all(choice_groups(en) == choice_groups(fr) for en, fr in SENTENCES)
    first, again = generate_stories(), generate_stories()
    assert {k: s.paragraphs for k, s in first.items()} == {
        k: s.paragraphs for k, s in again.items()}
    assert 30 <= len(first) <= 40
    for key, story in first.items():
        low = BRIEF[0] - 10 if key.startswith("b") else 150
        high = 100 if key.startswith("b") else 400
        assert low <= story.words <= high, (key, story.words)
    shingles = {k: shingle_set(tokens(" ".join(s.paragraphs)), 5) for k, s in first.items()}
    for a, b in itertools.combinations(shingles, 2):
        shared = len(shingles[a] & shingles[b])
        assert shared / min(len(shingles[a]), len(shingles[b])) < 0.5, (a, b)


# --- the crawl, scored ------------------------------------------------------------------


def test_every_page_is_served_and_stored_exactly_once(web: LangWeb, stored: Stored) -> None:
    requested = {srv.url(p.split("?")[0]) for srv in web.sites.values() for p in srv.paths()}
    assert set(web.pages) <= requested, "a page of the web was never fetched"
    for page in web.pages:
        url = canonical_url(page)
        assert (url in stored.articles) != (url in stored.duplicates), page


def test_pairwise_precision_and_recall(web: LangWeb, records: dict[str, int | None]) -> None:
    truth = {url: t.cluster for url, t in web.pages.items()}
    precision, recall = pairwise_scores(truth, records)
    print(f"\nlangweb: {len(web.pages)} pages, {len(web.clusters())} stories, "
          f"{len(web.sites)} sites; pairwise precision={precision:.3f} recall={recall:.3f}")
    want, got = same_pairs(truth), same_pairs(records)
    missed = sorted(f"{web.pages[a].cluster}: {web.pages[a].site}/{web.pages[a].variant} "
                    f"~ {web.pages[b].site}/{web.pages[b].variant}" for a, b in want - got)
    wrong = sorted(f"{web.pages[a].cluster} ({web.pages[a].site}) + {web.pages[b].cluster} "
                   f"({web.pages[b].site})" for a, b in got - want)
    assert recall >= MIN_RECALL, f"recall {recall:.3f}; pairs kept apart: {missed}"
    assert precision >= MIN_PRECISION, f"precision {precision:.3f}; pairs merged: {wrong}"


@pytest.mark.parametrize(("kind", "left", "right"), HARD_NEGATIVES)
def test_hard_negatives_stay_apart(web: LangWeb, records: dict[str, int | None],
                                   kind: str, left: str, right: str) -> None:
    """Translations, two briefs under one template, two stories of one event."""
    a = {records[u] for u in web.urls_of(left)} - {None}
    b = {records[u] for u in web.urls_of(right)} - {None}
    assert a and b
    assert not a & b, f"{kind}: {left} and {right} share a record"


def test_record_language_is_the_language_of_its_text(web: LangWeb, stored: Stored) -> None:
    """Never the declared language where the page lies; duplicates too (their own text)."""
    wrong = []
    for url, row in stored.articles.items():
        truth = _truth_at(web, url)
        if primary(row["language"]) != truth.language:
            wrong.append(f"record {truth.site}/{truth.cluster}/{truth.variant}: stored "
                         f"{row['language']!r}, text is {truth.language}, "
                         f"declared {truth.declared_code}")
    for url, row in stored.duplicates.items():
        truth = _truth_at(web, url)
        if row["language"] is not None and primary(row["language"]) != truth.language:
            wrong.append(f"duplicate {truth.site}/{truth.cluster}/{truth.variant}: stored "
                         f"{row['language']!r}, text is {truth.language}")
    lying = [t for t in web.pages.values() if t.lies]
    assert {t.site for t in lying} >= {"quotidien", "herald", "metro", "gazette"}
    assert not wrong, "\n".join(wrong)


def test_declared_language_is_kept_beside_it(web: LangWeb, stored: Stored) -> None:
    """``declared_language`` holds what the page, header or feed said, right or wrong."""
    wrong, checked = [], set()
    rows = [("articles", url, row) for url, row in stored.articles.items()]
    rows += [("duplicates", url, row) for url, row in stored.duplicates.items()
             if row["method"] != "url" or row["declared_language"] is not None]
    for table, url, row in rows:
        truth = _truth_at(web, url)
        if primary(row["declared_language"]) != truth.declared_code:
            wrong.append(f"{table} {truth.site}/{truth.cluster}/{truth.variant}: "
                         f"{row['declared_language']!r}, declared {truth.declared}")
        checked.add(truth.site)
    assert checked >= {"quotidien", "herald", "metro", "gazette"}
    assert not wrong, "\n".join(wrong)


def test_language_confidence_is_a_probability(stored: Stored) -> None:
    bad = {url: row["language_confidence"] for url, row in stored.articles.items()
           if not (isinstance(row["language_confidence"], float)
                   and 0.0 < row["language_confidence"] <= 1.0)}
    assert not bad
