"""Tests for store.batch: commits every N pages or every T seconds, and on request.

That a cycle commits what it recorded before it waits on a slow page is a test of
the pipeline: ``test_pipeline.py``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from store.batch import Batch
from store.db import Store


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _batch(size: int = 3, max_age: float = 1.0) -> tuple[Batch, list[float], Clock]:
    clock, commits = Clock(), []
    return Batch(lambda: commits.append(clock.now), size=size, max_age=max_age,
                 clock=clock), commits, clock


def test_commits_when_full() -> None:
    batch, commits, _ = _batch(size=3)
    for _ in range(7):
        batch.page()
    assert len(commits) == 2 and batch.pending == 1


def test_commits_when_old_even_if_not_full() -> None:
    batch, commits, clock = _batch(size=100, max_age=1.0)
    batch.page()
    clock.now = 0.5
    batch.page()
    assert commits == []
    clock.now = 1.2
    batch.page()
    assert commits == [1.2] and batch.pending == 0


def test_commit_on_request_only_when_pages_wait() -> None:
    batch, commits, clock = _batch()
    batch.commit()
    assert commits == []
    batch.page()
    batch.commit()
    assert commits == [0.0]
    clock.now = 0.9
    batch.page()  # the age counts from the last commit, not from the start
    assert len(commits) == 1


@pytest.mark.parametrize(("size", "max_age"), [(0, 1.0), (5, 0.0)])
def test_bad_parameters_say_what_to_do(size: int, max_age: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        Batch(lambda: None, size=size, max_age=max_age)


def test_store_batch_makes_pages_visible_to_readers_at_each_commit(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "n.db")
    reader = sqlite3.connect(tmp_path / "n.db")

    def skipped() -> int:
        return int(reader.execute("SELECT count(*) FROM skipped").fetchone()[0])

    with store.batch(size=2, max_age=60) as batch:
        store.add_skipped("https://a.example/1", "s", "off_topic", None)
        batch.page()
        assert skipped() == 0  # still in the open transaction
        store.add_skipped("https://a.example/2", "s", "off_topic", None)
        batch.page()
        assert skipped() == 2
        store.add_skipped("https://a.example/3", "s", "off_topic", None)
        batch.page()
        batch.commit()
        assert skipped() == 3
        store.add_skipped("https://a.example/4", "s", "off_topic", None)
    assert skipped() == 4  # committed on exit


def test_a_commit_from_elsewhere_between_batch_reads_does_not_fail_the_next_write(
        tmp_path: Path) -> None:
    """The daemon reads (a site's template) inside its batch, an editor's review commits
    meanwhile, then the daemon writes: the write waits for nothing and succeeds (a batch
    that had begun with a read snapshot failed here with SQLITE_BUSY_SNAPSHOT)."""
    from store import editors

    with Store.open(tmp_path / "r.db") as daemon, Store.open(tmp_path / "r.db") as app:
        with daemon.batch() as batch:
            daemon.site_template("example.org", 3)
            editors.add_editor(app, "bob", "hash")
            daemon.add_skipped("http://example.org/a", "s", "off_topic", None)
            batch.page()
        assert daemon.known_url("http://example.org/a") is not None
