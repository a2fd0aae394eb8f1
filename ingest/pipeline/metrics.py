"""Prometheus ``/metrics`` and a ``/healthz`` check for the daemon, on 127.0.0.1 only.

An operator running newsdedup for months needs two answers without reading
logs: *is it still working?* (``/healthz``: 200 while a cycle succeeded
recently, 503 with a one-line reason otherwise, for systemd watchdogs, load
balancers or a cron ``curl -f``) and *what is it doing?* (``/metrics``:
counters by stage and outcome, time and runs by stage, cycles, the age of the
last successful cycle, in the Prometheus text format, version 0.0.4). The format is a few lines of
text (written by :mod:`ingest.pipeline.metricstext`), so no client library is needed.
The endpoint is off unless ``[metrics] port`` is set, and binds loopback only:
expose it with a reverse proxy if you must, never by accident::

    metrics = Metrics(totals=sqlite_totals(config.db_path))  # from store.queries
    server = serve_metrics(metrics, 9464, health_max_age_seconds=5400)
    metrics.observe_cycle(summary, ok=True, finished_at=time.time())
    # curl 127.0.0.1:9464/metrics  ->  newsdedup_last_success_age_seconds 3.2 ...
    server.close()

``Metrics`` is fed by the scheduler thread and read by the HTTP threads, so
all its state sits behind one lock and ``render`` works on a copy.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ingest.errors import ConfigError, StoreError
from ingest.pipeline.metricstext import Sample, family
from ingest.pipeline.stats import StageTime, Stats

if TYPE_CHECKING:
    from ingest.pipeline.cycle import CycleSummary

log = logging.getLogger("newsdedup.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HOST = "127.0.0.1"
Totals = Callable[[], Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class Health:
    """The ``/healthz`` verdict: ``reason`` is ``"ok"`` or one line saying why not."""

    ok: bool
    reason: str


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A consistent copy of the metrics, taken under the lock, rendered outside it."""

    stages: dict[tuple[str, str], int]
    times: dict[str, StageTime]
    cycles: dict[str, int]
    source_failures: dict[str, int]
    seconds_total: float
    last_seconds: float | None
    last_failed_sources: int
    last_success: float | None
    last_finish: float | None
    unresolved: dict[tuple[str, str], int]
    intervals: dict[str, float]


class Metrics:
    """Thread-safe counters and gauges of the daemon's cycles.

    ``totals`` is called at each scrape for gauges read elsewhere, e.g. row
    counts from the database (:func:`store.queries.sqlite_totals`); if it
    raises, the scrape still answers, with ``newsdedup_totals_error 1``.
    ``clock`` is wall-clock time (unix seconds), injectable for tests::

        m = Metrics(clock=lambda: 1000.0)
        m.observe_cycle(summary, ok=True, finished_at=990.0)
        m.health(60).ok     # True: a cycle succeeded 10 s ago
    """

    def __init__(self, *, totals: Totals | None = None,
                 clock: Callable[[], float] = time.time,
                 started_at: float | None = None, worker: str = "") -> None:
        self._lock = threading.Lock()
        self.worker = worker
        self._clock = clock
        self._totals = totals
        self.started_at = clock() if started_at is None else started_at
        self._stages: dict[tuple[str, str], int] = {}
        self._times = Stats()
        self._cycles = {"ok": 0, "failed": 0, "crashed": 0}
        self._source_failures: dict[str, int] = {}
        self._unresolved: dict[tuple[str, str], int] = {}
        self._intervals: dict[str, float] = {}
        self._seconds_total = 0.0
        self._last_seconds: float | None = None
        self._last_failed_sources = 0
        self._last_success: float | None = None
        self._last_finish: float | None = None
        self._last_problem = ""

    def observe_cycle(self, summary: CycleSummary, *, ok: bool, finished_at: float) -> None:
        """Add one finished cycle: its counts, stage times, duration and failed sources.

        ``ok`` is the caller's verdict (e.g. not interrupted and not every
        source failed); only ok cycles move the last-success time.
        """
        with self._lock:
            for key, n in summary.counts.items():
                stage, _, outcome = key.partition(".")
                label = (stage, outcome or "total")
                self._stages[label] = self._stages.get(label, 0) + int(n)
                if stage == "unresolved":  # unresolved.<source>/<reason>
                    source, _, reason = outcome.rpartition("/")
                    self._unresolved[(source, reason)] = \
                        self._unresolved.get((source, reason), 0) + int(n)
            self._times.merge(Stats.from_dict(summary.stages))
            for source in summary.failed_sources:
                self._source_failures[source] = self._source_failures.get(source, 0) + 1
            self._seconds_total += summary.seconds
            self._last_seconds = summary.seconds
            self._last_failed_sources = len(summary.failed_sources)
            self._finish("ok" if ok else "failed", finished_at, _failure_text(summary))

    def observe_interval(self, source: str, seconds: float) -> None:
        """A source's current interval between visits (its adaptive cadence; why it
        changed is in ``stats`` and the ``cadence`` log event, not a label)."""
        with self._lock:
            self._intervals[source] = seconds

    def observe_crash(self, *, finished_at: float, error: str) -> None:
        """Count a cycle that raised instead of returning a summary."""
        with self._lock:
            self._finish("crashed", finished_at, f"crashed: {error}")

    def _finish(self, result: str, finished_at: float, problem: str) -> None:
        self._cycles[result] += 1
        self._last_finish = finished_at
        if result == "ok":
            self._last_success = finished_at
        else:
            self._last_problem = f"last cycle {result}" + (f" ({problem})" if problem else "")

    @property
    def last_success(self) -> float | None:
        """Unix time of the last successful cycle, None before the first one."""
        with self._lock:
            return self._last_success

    def health(self, max_age_seconds: float, *, now: float | None = None) -> Health:
        """Healthy when a cycle succeeded, or the daemon started, within ``max_age_seconds``.

        >>> Metrics(clock=lambda: 0.0).health(60, now=30.0)
        Health(ok=True, reason='ok')
        """
        now = self._clock() if now is None else now
        with self._lock:
            last, problem = self._last_success, self._last_problem
        if last is not None and now - last <= max_age_seconds:
            return Health(True, "ok")
        if last is None and now - self.started_at < max_age_seconds:
            return Health(True, "ok")
        since = f"for {now - last:.0f}s" if last is not None else (
            f"since start {now - self.started_at:.0f}s ago")
        reason = f"no successful cycle {since} (limit {max_age_seconds:g}s)"
        return Health(False, _one_line(f"{reason}; {problem}" if problem else reason))

    def _snapshot(self) -> _Snapshot:
        with self._lock:
            return _Snapshot(dict(self._stages), dict(self._times.times), dict(self._cycles),
                             dict(self._source_failures), self._seconds_total,
                             self._last_seconds, self._last_failed_sources,
                             self._last_success, self._last_finish,
                             dict(self._unresolved), dict(self._intervals))

    def render(self, *, now: float | None = None) -> str:
        """Everything in the Prometheus text exposition format (version 0.0.4)."""
        now = self._clock() if now is None else now
        snap = self._snapshot()
        lines: list[str] = []
        for name, kind, help_text, samples in self._families(snap, now):
            lines += family(name, kind, help_text, samples)
        return "\n".join(lines) + "\n"

    def _families(self, snap: _Snapshot,
                  now: float) -> Iterable[tuple[str, str, str, list[Sample]]]:
        yield ("newsdedup_stage_events_total", "counter",
               "Links, sources and pages counted by stage and outcome, over all cycles.",
               [({"stage": s, "outcome": o}, n) for (s, o), n in sorted(snap.stages.items())])
        yield from _stage_time_families(snap.times)
        yield ("newsdedup_cycles_total", "counter", "Cycles finished, by result.",
               [({"result": r}, n) for r, n in sorted(snap.cycles.items())])
        yield ("newsdedup_source_failures_total", "counter",
               "Cycles in which a source could not be fetched or parsed.",
               [({"source": s}, n) for s, n in sorted(snap.source_failures.items())])
        yield ("newsdedup_cycle_seconds_total", "counter", "Time spent in cycles.",
               [({}, snap.seconds_total)])
        yield ("newsdedup_unresolved_links_total", "counter",
               "Aggregator links that could not be resolved to a publisher URL, by reason.",
               [({"source": src, "reason": r}, n)
                for (src, r), n in sorted(snap.unresolved.items())])
        yield ("newsdedup_source_interval_seconds", "gauge",
               "Each source's current interval between visits (adaptive cadence).",
               [({"source": src}, sec) for src, sec in sorted(snap.intervals.items())])
        yield from _last_cycle(snap)
        yield ("newsdedup_start_time_seconds", "gauge", "When the daemon started (unix time).",
               [({}, self.started_at)])
        if self.worker:
            yield ("newsdedup_worker_info", "gauge",
                   "This process's worker id on its store (a label; the value is always 1).",
                   [({"worker_id": self.worker}, 1)])
        age = now - (snap.last_success if snap.last_success is not None else self.started_at)
        yield ("newsdedup_last_success_age_seconds", "gauge",
               "Seconds since the last successful cycle (since start if none yet).",
               [({}, max(0.0, age))])
        yield from self._total_families()
        yield from _memory_family()

    def _total_families(self) -> Iterable[tuple[str, str, str, list[Sample]]]:
        if self._totals is None:
            return
        try:
            totals = dict(self._totals())
        except (sqlite3.Error, OSError, ValueError, StoreError) as exc:
            log.warning("metrics totals failed: %s", exc)
            yield ("newsdedup_totals_error", "gauge", "1 when the row totals could not be read.",
                   [({}, 1)])
            return
        yield ("newsdedup_rows", "gauge", "Rows per table in the database.",
               [({"table": t}, v) for t, v in sorted(totals.items())])
        yield ("newsdedup_totals_error", "gauge", "1 when the row totals could not be read.",
               [({}, 0)])


def _stage_time_families(times: Mapping[str, StageTime]
                         ) -> Iterable[tuple[str, str, str, list[Sample]]]:
    stages = sorted(times.items())
    yield ("newsdedup_stage_seconds_total", "counter",
           "Seconds spent in each stage over all cycles: wall clock, and CPU of the thread "
           "that ran it (CPU 0 for the stages that wait: fetch, process, wait).",
           [({"stage": s, "kind": kind}, value) for s, t in stages
            for kind, value in (("wall", t.wall), ("cpu", t.cpu))])
    yield ("newsdedup_stage_runs_total", "counter",
           "Times each stage ran (per source, page or recorded page), over all cycles.",
           [({"stage": s}, t.count) for s, t in stages])


def _last_cycle(snap: _Snapshot) -> Iterable[tuple[str, str, str, list[Sample]]]:
    if snap.last_seconds is not None:
        yield ("newsdedup_last_cycle_duration_seconds", "gauge",
               "Duration of the last finished cycle.", [({}, snap.last_seconds)])
        yield ("newsdedup_last_cycle_failed_sources", "gauge",
               "Sources that failed in the last finished cycle.",
               [({}, snap.last_failed_sources)])
    if snap.last_finish is not None:
        yield ("newsdedup_last_cycle_timestamp_seconds", "gauge",
               "When the last cycle finished, whatever its result (unix time).",
               [({}, snap.last_finish)])
    if snap.last_success is not None:
        yield ("newsdedup_last_success_timestamp_seconds", "gauge",
               "When the last successful cycle finished (unix time).",
               [({}, snap.last_success)])


def _memory_family() -> Iterable[tuple[str, str, str, list[Sample]]]:
    rss = resident_bytes()
    if rss is not None:
        yield ("process_resident_memory_bytes", "gauge",
               "Resident memory of the daemon's main process.", [({}, rss)])


def resident_bytes(pid: int | str = "self") -> int | None:
    """VmRSS of a process from /proc (Linux), None where unavailable.

    >>> resident_bytes() > 0
    True
    """
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


def cycle_ok(summary: CycleSummary, n_sources: int) -> bool:
    """The usual verdict for :meth:`Metrics.observe_cycle`: a cycle did its job when it
    was not interrupted and at least one source it visited (not skipped for backoff)
    answered. A daemon whose every source fails, or backs off, ages towards 503::

        cycle_ok(CycleSummary(1, "", 1.0, {"source.backoff": 1}), 1)   # False
    """
    counts = summary.counts
    visited = n_sources - counts.get("source.backoff", 0)
    return not counts.get("cycle.interrupted") and visited > len(summary.failed_sources)


def _failure_text(summary: CycleSummary) -> str:
    parts = []
    if summary.failed_sources:
        parts.append(f"failed sources: {', '.join(sorted(summary.failed_sources))}")
    if summary.counts.get("source.backoff"):
        parts.append(f"{summary.counts['source.backoff']} source(s) in backoff")
    if summary.counts.get("cycle.interrupted"):
        parts.append("interrupted")
    return "; ".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


# --- the HTTP endpoint ---


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # a restarted daemon rebinds despite TIME_WAIT
    metrics: Metrics
    max_age: float


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5.0  # an idle or slow client cannot hold a thread for long
    server: _Server

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            self._send(200, self.server.metrics.render(), CONTENT_TYPE, with_body)
        elif path == "/healthz":
            health = self.server.metrics.health(self.server.max_age)
            self._send(200 if health.ok else 503, health.reason + "\n",
                       "text/plain; charset=utf-8", with_body)
        else:
            self._send(404, "not found: try /metrics or /healthz\n",
                       "text/plain; charset=utf-8", with_body)

    def _send(self, status: int, text: str, content_type: str, with_body: bool) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("metrics request: " + format, *args)


class MetricsServer:
    """A running endpoint: ``port``, ``url`` and ``close()`` (idempotent)."""

    def __init__(self, httpd: _Server) -> None:
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="metrics-http",
                                        kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        self._thread.join(timeout=5)
        self._httpd.server_close()


def serve_metrics(metrics: Metrics, port: int, *,
                  health_max_age_seconds: float) -> MetricsServer:
    """Serve ``/metrics`` and ``/healthz`` on 127.0.0.1:``port`` from a daemon thread.

    ``port=0`` picks a free port (tests; the configuration uses 0 for "off",
    so the caller does not call this then). A port already in use is a
    :class:`ConfigError` naming ``metrics.port``, so the daemon exits 2 with
    one clear line instead of running blind::

        server = serve_metrics(metrics, 9464, health_max_age_seconds=5400)
        server.url    # http://127.0.0.1:9464
    """
    try:
        httpd = _Server((HOST, port), _Handler)
    except OSError as exc:
        raise ConfigError("metrics.port", port,
                          f"cannot listen on {HOST}:{port} ({exc.strerror}); choose a free "
                          "port, or 0 to turn the endpoint off") from exc
    httpd.metrics = metrics
    httpd.max_age = health_max_age_seconds
    return MetricsServer(httpd)
