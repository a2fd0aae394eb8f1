"""``/metrics`` and ``/healthz`` over real HTTP on loopback (issue 6, observability).

Every endpoint test starts a real :func:`serve_metrics` server on an
ephemeral port and talks to it with ``http.client``; the exposition text is
checked by a strict parser of the Prometheus 0.0.4 text format, so a
malformed line fails the test rather than a scraper in production.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.errors import ConfigError
from ingest.pipeline.cycle import CycleSummary
from ingest.pipeline.metrics import (
    CONTENT_TYPE,
    Metrics,
    MetricsServer,
    cycle_ok,
    serve_metrics,
)
from store.db import Store
from store.queries import sqlite_totals

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{({_LABEL}(?:,{_LABEL})*)?\}})? "
                     r"(-?[0-9.eE+-]+|NaN|[+-]Inf)$")
_META = re.compile(rf"^# (HELP|TYPE) ({_NAME}) (.*)$")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Clock:
    """Wall-clock stand-in: time moves only when a test says so."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def parse(text: str) -> Samples:
    """Strictly parse an exposition: every sample typed, one TYPE per family."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples: Samples = {}
    for line in text.splitlines():
        meta = _META.match(line)
        if meta:
            if meta.group(1) == "TYPE":
                assert meta.group(2) not in types, f"TYPE twice: {line}"
                assert meta.group(3) in ("counter", "gauge"), line
                types[meta.group(2)] = meta.group(3)
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a valid sample line: {line!r}"
        name, labels, value = match.groups()
        assert name in types, f"sample before its TYPE: {line}"
        assert types[name] != "counter" or name.endswith("_total"), name
        pairs = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or "")
        key = (name, frozenset(pairs))
        assert key not in samples, f"duplicate sample: {line}"
        samples[key] = float(value)
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def summary(counts: dict[str, int], failed: tuple[str, ...] = (),
            seconds: float = 2.5,
            stages: dict[str, dict[str, float]] | None = None) -> CycleSummary:
    return CycleSummary(cycle_id=1, started_at="2025-11-22T08:00:00+00:00", seconds=seconds,
                        counts=counts, failed_sources=failed, stages=stages or {})


def get(server: MetricsServer, path: str, method: str = "GET") -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read().decode()
    finally:
        conn.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics(clock: Clock) -> Metrics:
    return Metrics(clock=clock)


@pytest.fixture
def server(metrics: Metrics) -> Iterator[MetricsServer]:
    srv = serve_metrics(metrics, 0, health_max_age_seconds=600)
    yield srv
    srv.close()


def test_counters_sum_cycles_by_stage_and_outcome(metrics: Metrics, clock: Clock) -> None:
    metrics.observe_cycle(summary({"page.new": 3, "page.failed_status_404": 1,
                                   "source.fetched": 2}), ok=True, finished_at=clock.now)
    metrics.observe_cycle(summary({"page.new": 2, "source.status_503": 1}, failed=("wire",)),
                          ok=False, finished_at=clock.now)
    s = parse(metrics.render())
    assert value(s, "newsdedup_stage_events_total", stage="page", outcome="new") == 5
    assert value(s, "newsdedup_stage_events_total", stage="page",
                 outcome="failed_status_404") == 1
    assert value(s, "newsdedup_stage_events_total", stage="source", outcome="status_503") == 1
    assert value(s, "newsdedup_cycles_total", result="ok") == 1
    assert value(s, "newsdedup_cycles_total", result="failed") == 1
    assert value(s, "newsdedup_source_failures_total", source="wire") == 1
    assert value(s, "newsdedup_cycle_seconds_total") == 5.0
    assert value(s, "newsdedup_last_cycle_failed_sources") == 1


def test_unresolved_links_and_source_intervals_have_their_own_families(
        metrics: Metrics, clock: Clock) -> None:
    for _ in range(2):
        metrics.observe_cycle(summary({"unresolved.bing.fr/no_target": 2,
                                       "unresolved.google-en/robots": 1,
                                       "resolved.bing.fr/offline": 5}),
                              ok=True, finished_at=clock.now)
    metrics.observe_interval("wire", 900.0)
    metrics.observe_interval("wire", 600.0)  # the current value replaces the last
    s = parse(metrics.render())
    assert value(s, "newsdedup_unresolved_links_total", source="bing.fr",
                 reason="no_target") == 4
    assert value(s, "newsdedup_unresolved_links_total", source="google-en", reason="robots") == 2
    assert value(s, "newsdedup_source_interval_seconds", source="wire") == 600.0


def test_stage_seconds_and_runs_sum_cycles_by_stage(metrics: Metrics, clock: Clock) -> None:
    first = {"extract": {"count": 3, "wall_seconds": 0.75, "cpu_seconds": 0.5},
             "fetch": {"count": 3, "wall_seconds": 1.25, "cpu_seconds": 0.0}}
    second = {"extract": {"count": 2, "wall_seconds": 0.5, "cpu_seconds": 0.25},
              "record": {"count": 2, "wall_seconds": 0.125, "cpu_seconds": 0.0625}}
    metrics.observe_cycle(summary({"page.new": 3}, stages=first), ok=True,
                          finished_at=clock.now)
    metrics.observe_cycle(summary({"page.new": 2}, stages=second), ok=False,
                          finished_at=clock.now)
    metrics.observe_cycle(summary({}), ok=True, finished_at=clock.now)  # no stages: no change
    s = parse(metrics.render())
    seconds = "newsdedup_stage_seconds_total"
    assert value(s, seconds, stage="extract", kind="wall") == 1.25
    assert value(s, seconds, stage="extract", kind="cpu") == 0.75
    assert value(s, seconds, stage="fetch", kind="wall") == 1.25
    assert value(s, seconds, stage="fetch", kind="cpu") == 0
    assert value(s, seconds, stage="record", kind="cpu") == 0.0625
    assert value(s, "newsdedup_stage_runs_total", stage="extract") == 5
    assert value(s, "newsdedup_stage_runs_total", stage="fetch") == 3
    assert value(s, "newsdedup_stage_runs_total", stage="record") == 2
    assert {k[0] for k in s if k[0].startswith("newsdedup_stage_")} == {
        "newsdedup_stage_events_total", seconds, "newsdedup_stage_runs_total"}
    assert len([k for k in s if k[0] == seconds]) == 6  # 3 stages x wall, cpu


def test_stage_families_are_declared_before_any_cycle(metrics: Metrics) -> None:
    text = metrics.render()
    parse(text)
    assert "# TYPE newsdedup_stage_seconds_total counter" in text
    assert "# TYPE newsdedup_stage_runs_total counter" in text


def test_metrics_endpoint_serves_the_age_of_the_last_success(
        server: MetricsServer, metrics: Metrics, clock: Clock) -> None:
    metrics.observe_cycle(summary({"page.new": 1}), ok=True, finished_at=clock.now - 42.5)
    metrics.observe_cycle(summary({}), ok=False, finished_at=clock.now - 1)
    status, content_type, body = get(server, "/metrics")
    assert status == 200 and content_type == CONTENT_TYPE
    s = parse(body)
    assert value(s, "newsdedup_last_success_age_seconds") == 42.5
    assert value(s, "newsdedup_last_success_timestamp_seconds") == clock.now - 42.5
    assert value(s, "newsdedup_last_cycle_timestamp_seconds") == clock.now - 1
    assert value(s, "process_resident_memory_bytes") > 1_000_000


def test_before_any_cycle_the_age_counts_from_start(server: MetricsServer, clock: Clock) -> None:
    clock.now += 30
    s = parse(get(server, "/metrics")[2])
    assert value(s, "newsdedup_last_success_age_seconds") == 30
    assert ("newsdedup_last_success_timestamp_seconds", frozenset()) not in s


def test_healthz_is_ok_while_starting_then_503_with_one_line(
        server: MetricsServer, clock: Clock) -> None:
    assert get(server, "/healthz")[::2] == (200, "ok\n")
    clock.now += 601
    status, content_type, body = get(server, "/healthz")
    assert status == 503 and content_type.startswith("text/plain")
    assert body.count("\n") == 1 and "since start 601s ago" in body and "600" in body


def test_healthz_follows_the_last_successful_cycle(server: MetricsServer, metrics: Metrics,
                                                   clock: Clock) -> None:
    clock.now += 1000
    metrics.observe_cycle(summary({"page.new": 1}), ok=True, finished_at=clock.now)
    assert get(server, "/healthz")[::2] == (200, "ok\n")
    clock.now += 500
    metrics.observe_cycle(summary({}, failed=("tech", "wire")), ok=False,
                          finished_at=clock.now)
    assert get(server, "/healthz")[0] == 200  # a success 500 s ago is recent enough
    clock.now += 200
    status, _, body = get(server, "/healthz")
    assert status == 503
    assert body == ("no successful cycle for 700s (limit 600s); "
                    "last cycle failed (failed sources: tech, wire)\n")


def test_a_crashed_cycle_is_counted_and_named_in_health(server: MetricsServer,
                                                        metrics: Metrics, clock: Clock) -> None:
    clock.now += 700
    metrics.observe_crash(finished_at=clock.now, error="database is locked\nsecond line")
    status, _, body = get(server, "/healthz")
    assert status == 503 and body.endswith("crashed: database is locked second line)\n")
    s = parse(get(server, "/metrics")[2])
    assert value(s, "newsdedup_cycles_total", result="crashed") == 1


def test_unknown_paths_404_and_head_has_no_body(server: MetricsServer) -> None:
    assert get(server, "/")[0] == 404
    assert get(server, "/metrics/../etc")[0] == 404
    status, content_type, body = get(server, "/metrics", method="HEAD")
    assert (status, content_type, body) == (200, CONTENT_TYPE, "")


def test_binds_127_0_0_1_only(server: MetricsServer) -> None:
    assert get(server, "/healthz")[0] == 200
    with pytest.raises(ConnectionRefusedError):  # another loopback address: nobody there
        socket.create_connection(("127.0.0.2", server.port), timeout=2).close()


def test_port_in_use_is_a_config_error_naming_the_key(server: MetricsServer) -> None:
    with pytest.raises(ConfigError) as info:
        serve_metrics(Metrics(), server.port, health_max_age_seconds=60)
    assert str(info.value).startswith(f"metrics.port = {server.port}: cannot listen")


def test_close_stops_listening_and_is_idempotent(metrics: Metrics) -> None:
    srv = serve_metrics(metrics, 0, health_max_age_seconds=60)
    port = srv.port
    assert get(srv, "/healthz")[0] == 200
    srv.close()
    srv.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_concurrent_cycles_and_scrapes_lose_no_count(server: MetricsServer,
                                                     metrics: Metrics, clock: Clock) -> None:
    errors: list[str] = []

    def feed() -> None:
        for _ in range(200):
            metrics.observe_cycle(summary({"page.new": 1, "page.duplicate": 2}), ok=True,
                                  finished_at=clock.now)

    def scrape() -> None:
        for _ in range(20):
            status, _, body = get(server, "/metrics")
            if status != 200:
                errors.append(str(status))
            parse(body)

    threads = [threading.Thread(target=f) for f in (feed, feed, feed, feed, scrape, scrape)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    s = parse(get(server, "/metrics")[2])
    assert not errors
    assert value(s, "newsdedup_stage_events_total", stage="page", outcome="new") == 800
    assert value(s, "newsdedup_stage_events_total", stage="page", outcome="duplicate") == 1600
    assert value(s, "newsdedup_cycles_total", result="ok") == 800


def test_row_totals_come_from_the_database_file(tmp_path: Path, clock: Clock) -> None:
    db = tmp_path / "news.db"
    Store.open(db).close()
    srv = serve_metrics(Metrics(clock=clock, totals=sqlite_totals(db)), 0,
                        health_max_age_seconds=60)
    try:
        s = parse(get(srv, "/metrics")[2])
        assert value(s, "newsdedup_rows", table="articles") == 0
        assert value(s, "newsdedup_totals_error") == 0
        with Store.open(db) as store:
            store.add_skipped("http://a.example/x", "a", "off_topic", None)
        s = parse(get(srv, "/metrics")[2])
        assert value(s, "newsdedup_rows", table="skipped") == 1
    finally:
        srv.close()


def test_unreadable_totals_do_not_break_the_scrape(tmp_path: Path, clock: Clock) -> None:
    srv = serve_metrics(Metrics(clock=clock, totals=sqlite_totals(tmp_path / "missing.db")), 0,
                        health_max_age_seconds=60)
    try:
        status, _, body = get(srv, "/metrics")
        s = parse(body)
        assert status == 200 and value(s, "newsdedup_totals_error") == 1
        assert ("newsdedup_rows", frozenset({("table", "articles")})) not in s
    finally:
        srv.close()
    assert not (tmp_path / "missing.db").exists()


def test_label_values_are_escaped(metrics: Metrics, clock: Clock) -> None:
    metrics.observe_cycle(summary({}, failed=('we"ird\\name\nx',)), ok=False,
                          finished_at=clock.now)
    s = parse(metrics.render())
    assert value(s, "newsdedup_source_failures_total", source='we\\"ird\\\\name\\nx') == 1


def test_cycle_verdict_needs_one_visited_source_that_answered() -> None:
    assert cycle_ok(summary({"page.new": 1}), 2)
    assert cycle_ok(summary({}, failed=("tech",)), 2)
    assert not cycle_ok(summary({}, failed=("tech", "wire")), 2)
    assert not cycle_ok(summary({"source.backoff": 1}), 1)
    assert not cycle_ok(summary({"source.backoff": 1}, failed=("wire",)), 2)
    assert not cycle_ok(summary({"cycle.interrupted": 1}), 2)


def test_health_reason_names_backoff_and_interruptions(server: MetricsServer, metrics: Metrics,
                                                       clock: Clock) -> None:
    clock.now += 700
    metrics.observe_cycle(summary({"source.backoff": 2, "cycle.interrupted": 1}), ok=False,
                          finished_at=clock.now)
    status, _, body = get(server, "/healthz")
    assert status == 503
    assert body.endswith("(2 source(s) in backoff; interrupted)\n")
