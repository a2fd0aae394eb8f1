"""The review app's list reads: both search plans and keyset pages give the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.config import load_config
from newsweb import NewsWeb
from reviewapp import crawled
from store import webreads
from store.backends import open_store


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with NewsWeb() as web:
        yield crawled(web, tmp_path_factory.mktemp("reads"))


def test_a_common_word_walks_the_newest_decisions_and_finds_the_same_rows(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(load_config(config).store_target) as store:
        for word in ("Musk", "OpenAI", "procès", "nothingmatchesthis"):
            f = webreads.DecisionFilters(query=word)
            rare = webreads.decisions(store.conn, f)
            monkeypatch.setattr(webreads, "COMMON_MATCHES", 1)
            common = webreads.decisions(store.conn, f)
            monkeypatch.undo()
            assert common == rare, word
        assert webreads.decisions(store.conn, webreads.DecisionFilters(query="Musk")).rows


def test_keyset_pages_walk_every_decision_once_in_order(config: Path) -> None:
    with open_store(load_config(config).store_target) as store:
        whole = webreads.decisions(store.conn, webreads.DecisionFilters(), limit=1000).rows
        walked, before = [], None
        while True:
            page = webreads.decisions(store.conn, webreads.DecisionFilters(before=before),
                                      limit=1)
            walked += page.rows
            if page.next_before is None:
                break
            before = page.next_before
    assert [r.id for r in walked] == [r.id for r in whole] and len(whole) >= 3
    assert [(r.decided_at, r.id) for r in whole] == sorted(
        ((r.decided_at, r.id) for r in whole), reverse=True)
