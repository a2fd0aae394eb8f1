"""Many workers on one PostgreSQL store (issue 14's acceptance test), as operators run
them: real ``service.py`` processes over the loopback :mod:`clusterweb`.

- Three ``once`` workers started at the same moment make what one worker alone makes:
  the same records (each the record's URL plus its duplicates' URLs), the web's ground
  truth, every page fetched once in all, no source visited by two workers at once.
- Three ``run`` daemons, one SIGKILLed in the middle of a source's visit: the others
  free its lease and claims, finish its source, and nothing is lost or stored twice.

Each worker gets its own User-Agent, so the sites' request logs say who fetched what.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import psycopg
import pytest

from clusterweb import ClusterWeb

ROOT = Path(__file__).resolve().parent.parent
STORED_OUTCOMES = {"new", "duplicate"}


def _agent(worker: str) -> str:
    return f"newsdedup-cluster-test/1.0 ({worker})"


def _tag(worker: str) -> str:
    """What only ``worker``'s User-Agent contains."""
    return f"({worker})"


@dataclass
class Worker:
    """One ``service.py`` process, its output files, and its process group."""

    name: str
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def summary(self) -> dict[str, Any]:
        """The cycle summary ``once`` prints as its last JSON line."""
        for line in reversed(self.out.read_text(encoding="utf-8").splitlines()):
            if line.startswith("{"):
                value: dict[str, Any] = json.loads(line)
                return value
        raise AssertionError(f"{self.name} printed no summary")

    def counts(self) -> dict[str, int]:
        return dict(self.summary().get("counts", {}))

    def log(self) -> str:
        text = self.err.read_text(encoding="utf-8", errors="replace")
        return text[-6000:]


def _spawn(command: str, config: Path, worker: str, tmp_path: Path) -> Worker:
    out, err = tmp_path / f"{worker}.out", tmp_path / f"{worker}.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "service.py", command, "--config", str(config),
             "--worker-id", worker],
            cwd=ROOT, stdout=stdout, stderr=stderr, start_new_session=True)
    return Worker(worker, proc, out, err)


@contextmanager
def _workers() -> Iterator[list[Worker]]:
    """The workers a test starts: their logs are printed if it fails, and whatever is
    left of them (the process, its extraction workers) is killed at the end."""
    workers: list[Worker] = []
    try:
        yield workers
    except BaseException:
        for w in workers:
            print(f"===== {w.name} (exit {w.proc.poll()}) stderr tail =====\n{w.log()}")
        raise
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.proc.kill()
            w.proc.wait(timeout=30)
            # its extraction pool, orphaned if the worker was killed
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(w.proc.pid, signal.SIGKILL)


def _write_config(web: ClusterWeb, tmp_path: Path, store_url: str, worker: str,
                  extra: str = "") -> Path:
    path = tmp_path / f"{worker}.toml"
    path.write_text(web.config_text(store_url, user_agent=_agent(worker),
                                    extra="[extract]\nworkers = 1\n" + extra),
                    encoding="utf-8")
    return path


def _new_database(server: str) -> str:
    name = f"cluster_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


def _wait(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# --- what the store holds ---


def _records(url: str) -> dict[int, frozenset[str]]:
    """Record id -> the record's URL and its duplicates' URLs."""
    groups: dict[int, set[str]] = defaultdict(set)
    with psycopg.connect(url) as conn:
        for article_id, page in conn.execute("SELECT id, url FROM articles"):
            groups[article_id].add(page)
        for article_id, page in conn.execute("SELECT article_id, url FROM duplicates"):
            groups[article_id].add(page)
    return {k: frozenset(v) for k, v in groups.items()}


def _stored_urls(url: str) -> set[str]:
    try:
        with psycopg.connect(url) as conn:
            return {u for (u,) in conn.execute(
                "SELECT url FROM articles UNION SELECT url FROM duplicates")}
    except psycopg.errors.UndefinedTable:  # the workers have not migrated it yet
        return set()


def _assert_one_record_per_story(web: ClusterWeb, url: str) -> None:
    """Nothing lost, nothing doubled: the records are the stories, each URL stored once."""
    with psycopg.connect(url) as conn:
        rows = [u for (u,) in conn.execute(
            "SELECT url FROM articles UNION ALL SELECT url FROM duplicates")]
        unrecorded = conn.execute(
            "SELECT count(*) FROM articles a LEFT JOIN signatures s ON s.article_id = a.id "
            "WHERE s.article_id IS NULL").fetchone()
        indexed = conn.execute("SELECT count(DISTINCT article_id) FROM lsh_bands").fetchone()
        pages = conn.execute("SELECT count(*) FROM pages").fetchone()
        skipped = conn.execute("SELECT url, reason FROM skipped").fetchall()
    doubled = [u for u, n in Counter(rows).items() if n > 1]
    assert doubled == [], "URLs stored twice (as records and/or duplicates)"
    assert set(rows) == web.article_urls, "pages lost (or stored that the web has not)"
    records = _records(url)
    by_story: dict[str, set[int]] = defaultdict(set)
    for article_id, urls in records.items():
        for page in urls:
            by_story[web.story_of(page)].add(article_id)
    kept_twice = {story: ids for story, ids in by_story.items() if len(ids) > 1}
    assert kept_twice == {}, "stories kept as more than one record"
    assert set(records.values()) == web.partition()
    assert unrecorded == (0,), "a record without its signature"
    assert indexed == (len(records),), "the shared index holds exactly the records"
    assert pages == (len(web.article_urls),)
    assert skipped == []


def _worker_of_cycles(url: str) -> dict[int, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT id, worker_id FROM cycles").fetchall())


def _fetch_log(url: str) -> list[tuple[str, str, str, int]]:
    """(url, source, outcome, cycle_id) of every fetch_log row."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT url, source, outcome, cycle_id FROM fetch_log").fetchall()


# --- (a) three `once` workers at the same moment, then one alone ---


def test_three_once_workers_store_what_one_worker_stores(tmp_path: Path, pg_server: str,
                                                         pg_url: str) -> None:
    solo_url = _new_database(pg_server)
    names = ["w1", "w2", "w3"]
    # Feeds answer slowly (discovery is sequential), so the three workers, started
    # together, share out the sources; pages answer in 20-60 ms, and the runs overlap.
    with ClusterWeb(sites=8, stories=60, seed=14, latency=(0.02, 0.06),
                    feed_latency=(0.25, 0.45)) as web, _workers() as workers:
        configs = [_write_config(web, tmp_path, pg_url, name) for name in names]
        for name, config in zip(names, configs, strict=True):
            workers.append(_spawn("once", config, name, tmp_path))
        for w in workers:
            assert w.proc.wait(timeout=120) == 0, f"{w.name} failed"
        solo = _spawn("once", _write_config(web, tmp_path, solo_url, "solo"), "solo",
                      tmp_path)
        workers.append(solo)
        assert solo.proc.wait(timeout=120) == 0, "the lone worker failed"

        # Same partition, pairwise, and the web's ground truth; nothing doubled.
        _assert_one_record_per_story(web, pg_url)
        _assert_one_record_per_story(web, solo_url)
        assert set(_records(pg_url).values()) == set(_records(solo_url).values())

        # Every page fetched once in all, by the three together (and by the lone one).
        cluster_counts = sum((web.fetch_counts(_tag(n)) for n in names), Counter())
        assert {u: n for u, n in cluster_counts.items() if n != 1} == {}, \
            "article pages fetched more than once (or never) by the three workers"
        assert set(web.fetch_counts(_tag("solo")).values()) == {1}
        counts = [w.counts() for w in workers[:3]]
        handled = sum(c.get("page.new", 0) + c.get("page.duplicate", 0) for c in counts)
        assert handled == len(web.article_urls), counts

        # The leases were exercised: some worker found a source taken by another.
        assert sum(c.get("source.leased_elsewhere", 0) for c in counts) > 0, counts

        _assert_no_source_visited_twice_at_once(web, names)

        # fetch_log: each page handled once, under the cycle of one of the three.
        cycle_worker = _worker_of_cycles(pg_url)
        assert sorted(cycle_worker.values()) == names
        rows = _fetch_log(pg_url)
        assert Counter(u for u, *_ in rows) == Counter(web.article_urls)
        assert {outcome for _, _, outcome, _ in rows} <= STORED_OUTCOMES
        assert {web.source_of[u] for u, *_ in rows} == {name for name, *_ in web.sources}
        assert all(source == web.source_of[u] for u, source, _, _ in rows)


def _assert_no_source_visited_twice_at_once(web: ClusterWeb, names: list[str]) -> None:
    """A worker's lease on a source covers at least [its request for the source's feed,
    the end of its last request of the cycle]: the lease is taken before the feed is
    fetched and released at the end of the cycle, after the last page. Those intervals
    of two workers on one source must not overlap. (With ``once`` a source released by
    a worker that finished may be leased again by a slower one, sequentially.)"""
    busy_until = {n: max((h.end for h in web.hits(_tag(n))), default=0.0) for n in names}
    visited = 0
    for source in web.feed_urls:
        visits = sorted((h.start, n) for n in names for h in web.feed_hits(source, _tag(n)))
        assert visits, f"source {source} was never visited"
        visited += len(visits)
        assert len({n for _, n in visits}) == len(visits), \
            f"a `once` worker fetched {source}'s feed twice"
        for (start_a, a), (start_b, b) in combinations(visits, 2):
            assert start_b >= busy_until[a], (
                f"{b} fetched {source}'s feed at {start_b:.3f} while {a}, which fetched it "
                f"at {start_a:.3f}, was still crawling (until {busy_until[a]:.3f})")
    print(f"feed visits: {visited} for {len(web.feed_urls)} sources")


# --- (b) three daemons, one SIGKILLed in the middle of a visit ---


@dataclass(frozen=True)
class Victim:
    worker: Worker
    source: str
    stored_at_kill: frozenset[str]


def test_a_worker_killed_mid_visit_loses_nothing_and_its_source_is_finished(
        tmp_path: Path, pg_url: str) -> None:
    names = ["w1", "w2", "w3"]
    extra = ("[cluster]\nlease_seconds = 3\n"
             "[schedule]\ninterval_minutes = 0.1\njitter_seconds = 0\n")
    # 10 pages a site answering in 0.3-0.6 s, two at a time: a visit lasts seconds.
    with ClusterWeb(sites=6, stories=24, seed=7, latency=(0.3, 0.6),
                    feed_latency=(0.1, 0.2)) as web, _workers() as workers:
        for name in names:
            workers.append(_spawn("run", _write_config(web, tmp_path, pg_url, name, extra),
                                  name, tmp_path))
        victim = _kill_one_mid_visit(web, workers, pg_url)
        survivors = [w for w in workers if w is not victim.worker]
        assert all(w.proc.poll() is None for w in survivors), "a survivor died"

        complete = _wait(lambda: _stored_urls(pg_url) >= web.article_urls, timeout=90,
                         step=0.25)
        assert complete, (f"not stored within 90 s of the kill: "
                          f"{sorted(web.article_urls - _stored_urls(pg_url))}")
        for w in survivors:
            w.proc.send_signal(signal.SIGTERM)
        for w in survivors:
            assert w.proc.wait(timeout=60) == 0, f"{w.name} did not stop cleanly"

        _assert_one_record_per_story(web, pg_url)

        # The victim's source was finished by the others: each of its pages the victim
        # had not stored is in fetch_log under another worker's cycle.
        cycle_worker = _worker_of_cycles(pg_url)
        left = set(web.site_pages(victim.source)) - victim.stored_at_kill
        assert left, "the victim had stored its whole source before the kill"
        print(f"killed {victim.worker.name} visiting {victim.source}: "
              f"{len(web.site_pages(victim.source)) - len(left)} of its pages stored, "
              f"{len(left)} left")
        finished_by = {u: cycle_worker[cycle] for u, source, outcome, cycle
                       in _fetch_log(pg_url)
                       if source == victim.source and outcome in STORED_OUTCOMES}
        assert left <= set(finished_by), "pages of the victim's source never handled"
        assert {finished_by[u] for u in left} <= {w.name for w in survivors}
        print(f"finished by {Counter(finished_by[u] for u in left)}")
        with psycopg.connect(pg_url) as conn:
            holder = conn.execute("SELECT worker_id, visited_at FROM source_leases "
                                  "WHERE name = %s", (victim.source,)).fetchone()
        assert holder is not None and holder[0] != victim.worker.name and holder[1], holder


def _kill_one_mid_visit(web: ClusterWeb, workers: list[Worker], url: str) -> Victim:
    """SIGKILL the first worker seen holding a live lease on a source some of whose pages
    it has fetched and stored while others have not been requested by anyone yet."""
    by_name = {w.name: w for w in workers}
    pages = {source: set(web.site_pages(source)) for source in web.feed_urls}
    deadline = time.monotonic() + 60
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            try:
                leases = conn.execute(
                    "SELECT name, worker_id FROM source_leases WHERE expires_at > "
                    "extract(epoch FROM clock_timestamp())::float8").fetchall()
            except psycopg.errors.UndefinedTable:
                leases = []
            stored = _stored_urls(url) if leases else set()
            for source, holder in leases:
                done = {h.url for h in web.hits(_tag(holder))} & pages[source] & stored
                untouched = pages[source] - web.requested()
                if done and len(untouched) >= 3:
                    worker = by_name[holder]
                    worker.proc.send_signal(signal.SIGKILL)
                    worker.proc.wait(timeout=30)  # no zombie: the reaper sees it is gone
                    return Victim(worker, source, frozenset(_stored_urls(url)))
            time.sleep(0.05)
    pytest.fail("no worker was ever seen in the middle of a source's visit")
