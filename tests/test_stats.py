"""Stage stats (``ingest/pipeline/stats.py``): merging, pickling, timing, and a real cycle.

The end-to-end test runs ``once`` over the loopback news web (as test_service
does) and checks that the summary it prints times every stage of every page.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import service
from ingest.config import load_config
from ingest.errors import ExtractError
from ingest.pipeline.cycle import PageJob, PoolProcessor
from ingest.pipeline.process import process_page
from ingest.pipeline.stats import StageTime, Stats
from ingest.types import CycleSummary, StageCounters
from newsweb import EXPECTED, NewsWeb

WORKER_STAGES = ("decode", "extract", "clean", "fingerprint")


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_merge_adds_counts_and_times_and_plus_leaves_both_alone() -> None:
    a = Stats({"page.new": 1}, {"extract": StageTime(1, 0.5, 0.25)})
    b = Stats({"page.new": 2, "page.duplicate": 1},
              {"extract": StageTime(2, 1.0, 0.5), "fetch": StageTime(3, 0.3, 0.0)})
    total = a + b
    assert total.counts == {"page.new": 3, "page.duplicate": 1}
    assert total.times == {"extract": StageTime(3, 1.5, 0.75), "fetch": StageTime(3, 0.3, 0.0)}
    assert a.counts == {"page.new": 1} and a.times == {"extract": StageTime(1, 0.5, 0.25)}
    assert b.times["extract"] == StageTime(2, 1.0, 0.5)
    assert a.merge(b) is a and a == total


def test_stats_are_the_cycles_counters() -> None:
    stats = Stats()
    assert isinstance(stats, StageCounters)
    stats.add("page", "new")
    stats.stat_update("page", "new", value=2)
    stats.stat_update("discover", "links", value=5)
    assert stats.get("page", "new") == 3 and stats.counts["discover.links"] == 5


def test_stats_pickle_round_trip() -> None:
    stats = Stats({"page.new": 2}, {"clean": StageTime(2, 0.125, 0.0625)})
    again = pickle.loads(pickle.dumps(stats, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == stats and again is not stats
    again.stat_update("page", "new")
    assert stats.counts["page.new"] == 2  # nothing shared


def test_track_time_counts_runs_and_wall_covers_cpu() -> None:
    stats = Stats()
    with stats.track_time("busy"):
        _busy(0.02)
    with stats.track_time("busy"):
        _busy(0.02)
    t = stats.times["busy"]
    assert t.count == 2
    assert t.wall >= 0.04
    assert 0 < t.cpu <= t.wall * 1.05 + 0.002  # CPU clocks tick coarser on some kernels


def test_track_time_of_a_wait_keeps_wall_only() -> None:
    stats = Stats()
    with stats.track_time("sleep"):
        time.sleep(0.03)
    with stats.track_time("waited", cpu=False):
        _busy(0.01)
    assert stats.times["sleep"].wall >= 0.03 and stats.times["sleep"].cpu < 0.02
    assert stats.times["waited"].cpu == 0.0 and stats.times["waited"].wall >= 0.01


def test_track_time_records_a_failing_stage_and_lets_the_error_through() -> None:
    stats = Stats()
    with pytest.raises(ExtractError), stats.track_time("extract"):
        raise ExtractError("nothing there", url=None)
    assert stats.times["extract"].count == 1


def test_to_dict_is_json_and_from_dict_reads_it_back() -> None:
    stats = Stats({"page.new": 1}, {"fetch": StageTime(2, 0.5, 0.0),
                                    "decode": StageTime(2, 0.001, 0.001)})
    data = json.loads(json.dumps(stats.to_dict()))
    assert list(data) == ["decode", "fetch"]
    assert data["fetch"] == {"count": 2, "wall_seconds": 0.5, "cpu_seconds": 0.0}
    assert Stats.from_dict(data, stats.counts) == stats
    assert stats.wall_seconds() == {"decode": 0.001, "fetch": 0.5}


def test_summary_json_adds_stages_and_keeps_every_earlier_key() -> None:
    stages = Stats(times={"record": StageTime(1, 0.25, 0.125)}).to_dict()
    data = json.loads(CycleSummary(3, "2025-11-22T08:00:00+00:00", 1.5, {"page.new": 1},
                                   ("wire",), stages).to_json())
    assert data == {"cycle_id": 3, "started_at": "2025-11-22T08:00:00+00:00", "seconds": 1.5,
                    "counts": {"page.new": 1}, "failed_sources": ["wire"],
                    "stages": {"record": {"count": 1, "wall_seconds": 0.25,
                                          "cpu_seconds": 0.125}}}
    assert json.loads(CycleSummary(1, "", 0.0).to_json())["stages"] == {}


# -- a property: merging is associative and commutative ------------------------------

_stage = st.sampled_from(["decode", "extract", "clean", "fetch", "record"])
_key = st.sampled_from(["page.new", "page.duplicate", "page.failed_no_article",
                        "source.fetched", "discover.links"])
_times = st.builds(StageTime, st.integers(0, 1000),
                   st.floats(0, 1e4, allow_nan=False), st.floats(0, 1e4, allow_nan=False))
_stats = st.builds(Stats, st.dictionaries(_key, st.integers(0, 10**6), max_size=5),
                   st.dictionaries(_stage, _times, max_size=5))


def _exact(stats: Stats) -> tuple[dict[str, int], dict[str, int]]:
    """What must be equal exactly: counts, and runs per stage (seconds are floats)."""
    return stats.counts, {s: t.count for s, t in stats.times.items()}


def _close(a: Stats, b: Stats) -> bool:
    return a.times.keys() == b.times.keys() and all(
        a.times[s].wall == pytest.approx(b.times[s].wall)
        and a.times[s].cpu == pytest.approx(b.times[s].cpu) for s in a.times)


@given(_stats, _stats, _stats)
def test_merging_is_associative_and_commutative(a: Stats, b: Stats, c: Stats) -> None:
    assert _exact(a + b) == _exact(b + a)
    assert _exact((a + b) + c) == _exact(a + (b + c))
    assert _close(a + b, b + a) and _close((a + b) + c, a + (b + c))
    assert _exact(a + Stats()) == _exact(a)


# -- processors: the pool's and a plain one ------------------------------------------

_HTML = ("<html><head><title>Le procès</title></head><body><article><p>"
         + "Le tribunal a entendu les deux fondateurs lundi à Oakland. " * 12
         + "</p></article></body></html>").encode()


class _FakePool:
    """Runs the worker function in this process, as WorkerPool.run would in a worker."""

    async def run(self, fn: object, arg: object, *, url: str | None = None) -> object:
        return fn(arg)  # type: ignore[operator]


def test_pool_processor_returns_the_page_and_its_stage_times() -> None:
    processor = PoolProcessor(_FakePool())  # type: ignore[arg-type]
    job = PageJob(url="https://a.example/x", body=_HTML)
    done, stats = asyncio.run(processor.timed(job))
    assert not isinstance(done, Exception) and done.article.title == "Le procès"
    assert sorted(stats.times) == sorted(WORKER_STAGES)
    assert all(t.count == 1 and t.wall >= t.cpu >= 0 for t in stats.times.values())
    assert asyncio.run(processor(job)) == process_page(job) == done


def test_pool_processor_still_raises_for_a_failed_page_with_its_url() -> None:
    processor = PoolProcessor(_FakePool())  # type: ignore[arg-type]
    with pytest.raises(ExtractError) as caught:
        asyncio.run(processor(PageJob(url="https://a.example/empty", body=b"<html></html>")))
    assert caught.value.url == "https://a.example/empty"
    error, stats = asyncio.run(processor.timed(PageJob(url="https://a.example/e",
                                                       body=b"<html>")))
    assert isinstance(error, ExtractError) and error.url == "https://a.example/e"
    assert stats.times["decode"].count == 1 and "fingerprint" not in stats.times


# -- end to end: a real ``once`` cycle ------------------------------------------------


@pytest.fixture(scope="module")
def web() -> Iterator[NewsWeb]:
    with NewsWeb() as news:
        yield news


def test_once_summary_times_every_stage_of_every_page(
        web: NewsWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = web.write_config(tmp_path)
    assert service.main(["--log-format", "json", "once", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1])
    counts, stages = summary["counts"], summary["stages"]
    recorded = sum(n for key, n in counts.items() if key.startswith("page."))
    assert recorded >= len(EXPECTED["articles"]) + len(EXPECTED["duplicates"])
    assert set(stages) >= {"discover", "fetch", "process", "wait", "record", "commit",
                           *WORKER_STAGES}
    for stage in ("record", "commit", "wait"):
        assert stages[stage]["count"] == recorded, stage
    processed = stages["process"]["count"]
    no_article = counts.get("page.failed_no_article", 0)
    fetch_failed = sum(n for key, n in counts.items() if key.startswith("page.failed_")) \
        - no_article
    assert processed == recorded - fetch_failed
    for stage in ("decode", "extract", "clean"):
        assert stages[stage]["count"] == processed, stage
    assert stages["fingerprint"]["count"] == processed - no_article
    # every page was fetched here but the ``page`` source's, fetched by its discovery
    assert stages["fetch"]["count"] == recorded - 1
    assert stages["discover"]["count"] == len(load_config(config).sources)
    for stage, value in stages.items():
        assert set(value) == {"count", "wall_seconds", "cpu_seconds"}, stage
        assert value["wall_seconds"] >= 0 and value["cpu_seconds"] >= 0
    assert sum(stages[s]["cpu_seconds"] for s in WORKER_STAGES) > 0
    for stage in ("fetch", "process", "wait"):
        assert stages[stage]["cpu_seconds"] == 0, stage
    with sqlite3.connect(tmp_path / "news.db") as conn:
        stored = json.loads(conn.execute("SELECT summary FROM cycles").fetchone()[0])
    assert stored["stages"] == stages and stored["counts"] == counts
    cycle = [json.loads(line) for line in err.splitlines() if '"event": "cycle"' in line]
    assert len(cycle) == 1 and set(cycle[0]["stage_seconds"]) == set(stages)
