"""One body of tests for every storage backend, through the ``Storage`` protocol only.

Each backend is a factory in ``BACKENDS``: SQLite on a real file, PostgreSQL on a
fresh database of a real throwaway cluster (``tests/pgcluster.py``); every test
below runs on both.
The tests use nothing but the protocol's methods, so they hold the contract,
not one backend's SQL.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ingest.config import DedupSettings
from ingest.dedup.minhash import fingerprint
from ingest.types import (
    CleanedArticle,
    NewArticle,
    NewDuplicate,
    Paragraph,
    RawPage,
    Removal,
)
from store.db import Store
from store.pg.db import PgStore
from store.protocol import Storage

BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Storage]] = {
    "sqlite": lambda request, directory: Store.open(directory / "news.db"),
    "postgresql": lambda request, directory: PgStore.open(request.getfixturevalue("pg_url")),
}
TEXT = ("The court heard the first witness on Monday in the case between the two founders "
        "of the laboratory, who disagree about what its charter promised.")
SETTINGS = DedupSettings()


@pytest.fixture(params=sorted(BACKENDS))
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    backend = BACKENDS[request.param](request, tmp_path)
    yield backend
    backend.close()


def _article(url: str, text: str = TEXT) -> CleanedArticle:
    return CleanedArticle(url=url, title="Witness", author=None, published=None,
                          language="en", paragraphs=tuple(Paragraph(p) for p in
                                                          text.split("\n\n")),
                          removed=(Removal("Share this", "share_widget"),),
                          declared_language="fr", language_confidence=0.98)


def _page(url: str) -> RawPage:
    return RawPage(url=url, final_url=url, source="feed", html=b"<html><p>x</p></html>",
                   fetched_at="2026-12-01T10:00:00+00:00", language_hint="fr")


def _new(url: str, text: str = TEXT, *, site: str = "", learn: tuple = ()) -> NewArticle:
    article = _article(url, text)
    return NewArticle(url=url, source="feed", article=article, page=_page(url),
                      fingerprint=fingerprint(article.text, article.language, SETTINGS),
                      site=site, learn=learn)


def test_every_backend_implements_the_protocol_with_its_signatures(storage: Storage) -> None:
    assert isinstance(storage, Storage)
    for name, member in vars(Storage).items():
        if name.startswith("_") or not callable(member):
            continue
        wanted = inspect.signature(member)
        got = inspect.signature(getattr(type(storage), name))
        assert list(got.parameters) == list(wanted.parameters), name
        for param in wanted.parameters.values():
            assert got.parameters[param.name].kind == param.kind, (name, param.name)
            assert got.parameters[param.name].default == param.default, (name, param.name)


def test_a_new_record_is_found_by_url_hash_and_signature(storage: Storage) -> None:
    rec = _new("https://a.example/one")
    article_id = storage.add_article(rec)
    assert storage.known_url("https://a.example/one").kind == "article"  # type: ignore[union-attr]
    assert storage.article_for_url("https://a.example/one") == article_id
    assert storage.article_for_hash(rec.fingerprint.content_hash) == article_id
    assert storage.fingerprint(article_id) == rec.fingerprint
    assert [row[0] for row in storage.band_rows()] == [article_id]
    assert list(storage.band_rows(after_id=article_id)) == []
    assert storage.max_article_id() == article_id
    assert storage.known_url("https://a.example/other") is None


def test_duplicates_skipped_pages_and_variants_are_known(storage: Storage) -> None:
    article_id = storage.add_article(_new("https://a.example/one"))
    storage.add_duplicate(NewDuplicate(
        url="https://b.example/copy", source="wire", article_id=article_id, method="near",
        similarity=0.91, fetched_at="2026-12-01T10:05:00+00:00",
        article=_article("https://b.example/copy"), page=_page("https://b.example/copy")))
    storage.add_skipped("https://c.example/off", "feed", "off_language", None)
    kinds = {u: storage.known_url(u) for u in ("https://b.example/copy",
                                               "https://c.example/off",
                                               "https://www.a.example/one")}
    assert kinds["https://b.example/copy"].article_id == article_id  # type: ignore[union-attr]
    assert kinds["https://c.example/off"].reason == "off_language"  # type: ignore[union-attr]
    assert kinds["https://www.a.example/one"].kind == "variant"  # type: ignore[union-attr]


def test_an_update_keeps_the_record_and_reports_whether_it_changed(storage: Storage) -> None:
    rec = _new("https://a.example/one")
    article_id = storage.add_article(rec)
    same = storage.update_article(article_id, rec.article, rec.fingerprint, rec.page)
    changed_text = TEXT + " A correction was added on Tuesday."
    changed = _new("https://a.example/one", changed_text)
    assert (same, storage.update_article(article_id, changed.article, changed.fingerprint,
                                         changed.page)) == (False, True)
    assert storage.article_for_hash(changed.fingerprint.content_hash) == article_id


def test_site_learning_makes_a_paragraph_template_on_the_third_record(storage: Storage) -> None:
    learn = (("subscribe to our letter", "Subscribe to our letter"),)
    crossed = []
    for i in range(3):
        storage.add_article(_new(f"https://s.example/{i}", f"{TEXT} Story {i}.", site="s.example",
                                 learn=learn))
        crossed.append(storage.newly_template("s.example", ["subscribe to our letter"], 3))
    assert crossed == [frozenset(), frozenset(), frozenset({"subscribe to our letter"})]
    assert storage.site_template("s.example", 3) == frozenset({"subscribe to our letter"})
    assert [row[0] for row in storage.site_articles("s.example")] == sorted(
        row[0] for row in storage.site_articles("s.example"))


def test_sources_cycles_and_batches(storage: Storage) -> None:
    storage.record_source("feed", "feed", "https://a.example/rss", ok=False, status=503,
                          error="HTTP status 503", next_attempt_at="2026-12-01T11:00:00+00:00")
    state = storage.source_state("feed")
    assert state is not None and state.consecutive_failures == 1
    assert state.next_attempt_at == "2026-12-01T11:00:00+00:00"
    assert storage.child_source_urls("feed") == []
    cycle = storage.begin_cycle(["feed"])
    with storage.batch() as batch:
        storage.add_article(_new("https://a.example/one"))
        batch.page()
    storage.end_cycle(cycle, '{"counts": {}}', [("https://a.example/one", "feed", "new", None,
                                                "2026-12-01T10:00:00+00:00")])
    assert storage.begin_cycle(["feed"]) == cycle + 1


def test_due_rechecks_are_the_most_overdue_shared_between_sources(storage: Storage) -> None:
    texts = [f"Story {i} about the Oakland courtroom and its long list of witnesses."
             for i in range(5)]
    due = ["2026-12-01T12:00:00+00:00", "2026-12-01T11:00:00+00:00",
           "2026-12-01T13:00:00+00:00", "2026-12-01T10:30:00+00:00",
           "2026-12-02T10:00:00+00:00"]  # the last is not due at `now`
    ids = []
    for i, (text, when) in enumerate(zip(texts, due, strict=True)):
        url = f"https://{'ab'[i % 2]}.example/{i}"
        rec = replace(_new(url, text), source="ab"[i % 2],
                      recheck=("2026-12-01T10:00:00+00:00", 0, when))
        ids.append(storage.add_article(rec))
    now = "2026-12-01T14:00:00+00:00"
    both = storage.due_rechecks(["a", "b"], now, limit=10)
    assert [d.article_id for d in both] == [ids[3], ids[1], ids[0], ids[2]]
    assert {d.source for d in storage.due_rechecks(["a", "b"], now, limit=2)} == {"a", "b"}
    storage.recheck_done(ids[3], step=1, due_at=None, at=now, etag='"v2"')
    assert ids[3] not in [d.article_id for d in storage.due_rechecks(["a", "b"], now, 10)]
    assert storage.due_rechecks(["c"], now, 10) == [] and storage.due_rechecks([], now, 10) == []


def test_no_review_excludes_or_forces_anything(storage: Storage) -> None:
    storage.add_article(_new("https://a.example/one"))
    assert storage.review_exclusions("https://a.example/one") == frozenset()
    assert storage.review_merge_target("https://a.example/one") is None


# -- several processes on one store ---------------------------------------------------


def test_a_source_lease_has_one_owner_until_released_or_expired(storage: Storage) -> None:
    assert storage.lease_source("feed", "w1", ttl=60.0)
    assert not storage.lease_source("feed", "w2", ttl=60.0)
    assert storage.lease_source("other", "w2", ttl=60.0)
    storage.release("w1", ["feed"])
    assert not storage.lease_source("feed", "w2", ttl=60.0, min_gap=60.0), \
        "visited a moment ago: a daemon's schedule waits"
    assert storage.lease_source("feed", "w2", ttl=60.0), "`once` does not wait"
    assert storage.lease_source("fresh", "w2", ttl=0.2)
    time.sleep(0.4)  # w2 died without releasing: its lease expires, the visit was not done
    assert storage.lease_source("fresh", "w3", ttl=60.0, min_gap=60.0)


def test_a_live_worker_keeps_its_lease_by_renewing_it(storage: Storage) -> None:
    assert storage.lease_source("feed", "w1", ttl=0.5)
    for _ in range(3):
        time.sleep(0.25)
        assert storage.renew("w1", ttl=0.5) == 1
    assert not storage.lease_source("feed", "w2", ttl=60.0)


def test_a_url_is_claimed_by_one_worker_and_free_after_release(storage: Storage) -> None:
    urls = ["https://a.example/1", "https://a.example/2"]
    assert storage.claim_urls(urls, "w1", ttl=60.0) == frozenset(urls)
    assert storage.claim_urls([*urls, "https://a.example/3"], "w2", ttl=60.0) == {
        "https://a.example/3"}
    assert storage.claim_urls(urls, "w1", ttl=60.0) == frozenset(urls), "its own claims"
    storage.release("w1")
    assert storage.claim_urls(urls, "w2", ttl=60.0) == frozenset(urls)


def test_a_dead_local_worker_is_reaped_at_once(storage: Storage) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    storage.worker_seen("gone")
    storage.conn.execute("UPDATE workers SET pid = ? WHERE worker_id = ?",  # type: ignore[attr-defined]
                         (proc.pid, "gone"))
    assert storage.lease_source("feed", "gone", ttl=600.0)
    assert storage.claim_urls(["https://a.example/1"], "gone", ttl=600.0)
    storage.worker_seen("alive")
    assert storage.reap() == ["gone"]
    assert storage.reap() == [], "reaped once: its leases and claims are no longer live"
    assert storage.lease_source("feed", "alive", ttl=60.0)
    assert storage.claim_urls(["https://a.example/1"], "alive", ttl=60.0)


def test_concurrent_decisions_on_shared_keys_queue(storage: Storage, tmp_path: Path) -> None:
    """Two decisions holding a common key run one after the other; disjoint ones do not
    wait (on SQLite, whose one writer needs no lock, a decision is a no-op)."""
    if not storage.shared:
        with storage.decision([1, 2]):
            pass
        return
    other = PgStore.open(storage.pool.conninfo)  # type: ignore[attr-defined]
    order: list[str] = []
    with storage.decision([1, 2], "https://a.example/x"):
        t = threading.Thread(target=lambda: _decide(other, [2, 3], order))
        t.start()
        time.sleep(0.3)
        order.append("first done")
    t.join(5)
    with storage.decision([7]):
        _decide(other, [8], order)  # disjoint keys: no wait, no deadlock
    other.close()
    assert order == ["first done", "second", "second"]


def _decide(store: Storage, keys: list[int], order: list[str]) -> None:
    with store.decision(keys):
        order.append("second")


def test_the_shared_index_finds_stored_bands(storage: Storage) -> None:
    if not storage.shared:
        return
    rec = _new("https://a.example/one")
    article_id = storage.add_article(rec)
    assert storage.band_matches(rec.fingerprint.bands) == [(article_id, rec.fingerprint)]
    other = _new("https://b.example/two", "Entirely different words about another "
                 "subject that shares nothing with the first text at all, none.")
    assert storage.band_matches(other.fingerprint.bands) == []
