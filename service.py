"""newsdedup's command line: the composition root.

It parses arguments, loads the configuration, and wires the real parts
(store, dedup index, fetcher, worker pool, scheduler) together; all logic
lives in ``ingest/`` and ``store/``. ``python service.py once`` and the
``newsdedup once`` console script are the same entry point::

    newsdedup once --config config.toml      # one cycle, exit 0 (2: bad config; 130/143:
                                             # SIGINT/SIGTERM ended the cycle early)
    newsdedup run                            # the daemon; SIGTERM/SIGINT stop it (exit 0)
    newsdedup extract page.html.gz           # JSON line per file, no database
    newsdedup stats                          # counts, failing sources, last cycle
    newsdedup reprocess                      # redo records from stored raw pages
    newsdedup reprocess --prepare --pages 1:50000   # extract a share ahead (one machine)
    newsdedup report -o report.html          # editors' dedup report (--format json|csv)
    newsdedup review split 17 --note "..."   # not a duplicate: make it a record
    newsdedup review merge 42 --into 7       # a missed duplicate
    newsdedup serve                          # the editors' review app (web, signed in)
    newsdedup editors add NAME               # an editor account (password from stdin)
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import gzip
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest import logs
from ingest.config import Config, ExtractSettings, SourceSettings, load_config
from ingest.dedup.index import NearDuplicateIndex
from ingest.dedup.stored import index_for
from ingest.errors import ConfigError, NewsdedupError
from ingest.fetch.fetcher import Fetcher
from ingest.pipeline.cycle import Pipeline, pool_processor
from ingest.pipeline.metrics import Metrics, MetricsServer, cycle_ok, serve_metrics
from ingest.pipeline.process import PageJob, clean_job, warm_up
from ingest.pipeline.reprocess import prepare, reprocess
from ingest.pipeline.schedule import SourceSchedule, tick_minutes
from ingest.pipeline.workers import WorkerPool
from report.cli import add_report_parsers
from report.web.cli import add_web_parsers
from store.backends import open_store
from store.queries import cluster_view, stats, store_totals

log = logging.getLogger("newsdedup")
EXIT_CONFIG = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(args.log_format, args.log_level)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"newsdedup: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except NewsdedupError as exc:
        print(f"newsdedup: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsdedup", description=__doc__.split("\n\n")[0])
    _log_options(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, func, text in (("run", cmd_run, "run the daemon"),
                             ("once", cmd_once, "run one crawl cycle and exit"),
                             ("stats", cmd_stats, "print counts and the last cycle"),
                             ("reprocess", cmd_reprocess,
                              "redo extraction, cleaning and dedup from stored pages")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--config", default="config.toml", help="default: ./config.toml")
        if name in ("run", "once"):
            sub.add_argument("--worker-id", default=None,
                             help="this worker's name on a shared store (default: "
                                  "[cluster] worker_id, else host-pid)")
        if name == "reprocess":
            sub.add_argument("--prepare", action="store_true",
                             help="only extract pages ahead of a reprocess (split the work "
                                  "across machines with --pages)")
            sub.add_argument("--pages", type=_page_range, default=None, metavar="FIRST:LAST",
                             help="with --prepare: these pages, 1-based, inclusive, in "
                                  "replay order (e.g. 1:50000)")
        sub.set_defaults(func=func)
    sub = commands.add_parser("extract", help="extract and clean local HTML files")
    sub.add_argument("files", nargs="+", metavar="FILE", help=".html or .html.gz")
    sub.add_argument("--url", help="the pages' URL (resolves relative links)")
    sub.add_argument("--explain", action="store_true", help="add the removed lines and rules")
    sub.set_defaults(func=cmd_extract)
    add_report_parsers(commands)
    add_web_parsers(commands)
    for sub in commands.choices.values():  # `run --log-format json` works too
        _log_options(sub, default=argparse.SUPPRESS)
    return parser


def _log_options(parser: argparse.ArgumentParser, default: Any = None) -> None:
    parser.add_argument("--log-format", choices=("text", "json"),
                        default="text" if default is None else default)
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        default="INFO" if default is None else default)


class Service:
    """The wired parts for ``once`` and ``run``: one store, index and worker pool."""

    def __init__(self, config: Config, metrics: Metrics | None = None,
                 worker: str | None = None) -> None:
        self.config = config
        self.metrics = metrics
        self.stop = threading.Event()
        self.store = open_store(config.store_target, pool_size=config.store.pool_size)
        self._indexed = (self.store.index_generation(), self.store.max_article_id())
        self.index = index_for(config.dedup, self.store)
        self.pool = WorkerPool(config.extract.workers, config.extract.timeout_seconds,
                               warmup=warm_up).start()
        self.pipeline = Pipeline(config, self.store, self.index,
                                 fetcher_factory=lambda: Fetcher(config.fetch),
                                 processor=pool_processor(self.pool), stop=self.stop,
                                 worker=worker)
        self._busy = threading.Lock()

    def cycle(self, sources: Sequence[SourceSettings]) -> dict[str, Any]:
        with self._busy:
            if self.stop.is_set():
                return {}
            self._refresh_index()
            before = self.store.max_article_id()
            try:
                summary = asyncio.run(self.pipeline.run_cycle(sources))
            except Exception as exc:
                if self.metrics is not None:
                    self.metrics.observe_crash(finished_at=time.time(),
                                               error=f"{type(exc).__name__}: {exc}")
                raise
            # Records other processes made during the cycle (an editor's split) have ids
            # among ours: the next refresh reads every id above where it began.
            self._indexed = (self._indexed[0], before)
        if self.metrics is not None:
            self.metrics.observe_cycle(summary, ok=cycle_ok(summary, len(sources)),
                                       finished_at=time.time())
            for source in sources:
                self.metrics.observe_interval(source.name,
                                              self.pipeline.schedule.interval(source))
        return dict(json.loads(summary.to_json()))

    def _refresh_index(self) -> None:
        """Index records other processes made since (a split); reload after a reprocess.
        A shared store's index is its own table: nothing to do."""
        if self.store.shared:
            return
        generation, seen = self._indexed
        if self.store.index_generation() != generation:
            self.index = index_for(self.config.dedup, self.store)
            self.pipeline.index = self.index
        elif isinstance(self.index, NearDuplicateIndex):
            known = self.index.ids_above(seen)
            self.index.load(row for row in self.store.band_rows(after_id=seen)
                            if row[0] not in known)
        self._indexed = (self.store.index_generation(), self.store.max_article_id())

    def shutdown(self, grace_seconds: float = 8.0) -> None:
        """Stop the running cycle (in-flight pages abandoned), then release everything."""
        self.stop.set()
        if self._busy.acquire(timeout=grace_seconds):
            self._busy.release()
        self.close()

    def close(self) -> None:
        self.pool.close()
        self.store.close()


class _StopSignals:
    """SIGINT/SIGTERM for ``once`` and ``run``: the first asks to stop, later ones are logged.

    A handler runs in the main thread between two bytecodes, possibly in the middle of
    a store write or of the shutdown itself, so it never raises and only logs, notes
    the signal and sets ``stop``; the main thread does the stopping. The main thread
    must never hold ``stop``'s lock (only ``is_set()`` it), or setting it here could
    deadlock. The previous handlers come back on exit unless a signal came: then the
    process is ending, so a late signal is still only logged, and ignored once the
    interpreter finalizes (which would reset the handlers and let it kill the process).
    """

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self.stop: threading.Event | None = None
        self._first = threading.Lock()
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> _StopSignals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.received is None:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
        else:
            atexit.register(_ignore_stop_signals)

    def _handle(self, signum: int, _frame: object) -> None:
        sig = signal.Signals(signum)
        if not self._first.acquire(blocking=False):  # atomic, even if handlers nest
            logs.event(log, "shutdown_again", signal=sig.name)
            return
        self.received = sig
        logs.event(log, "shutdown", signal=sig.name)
        if self.stop is not None:
            self.stop.set()


def _ignore_stop_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def cmd_once(args: argparse.Namespace) -> int:
    """One cycle; SIGINT/SIGTERM end it early and exit 128 + the signal's number.

    Pages already committed stay, in-flight ones are abandoned (the next cycle does
    them again) and the store is closed. 130 (Ctrl-C) or 143 (SIGTERM) is what a
    shell reports for a process the signal killed, so ``once && next`` stops there
    and a caller can tell a partial cycle from a complete one (exit 0).
    """
    config = load_config(args.config)
    with _StopSignals() as signals:
        service = Service(config, worker=args.worker_id)
        signals.stop = service.stop  # a signal before this line: no cycle at all
        try:
            summary = service.cycle(config.sources) if signals.received is None else {}
            print(json.dumps(summary, sort_keys=True))
        finally:
            service.close()
        if signals.received is None:
            return 0
        code = 128 + signals.received
        logs.event(log, "once_stop", signal=signals.received.name, exit_code=code)
        return code


def cmd_run(args: argparse.Namespace) -> int:
    """The daemon until SIGINT/SIGTERM; exit 0 on that clean stop, however many came.

    The scheduler runs in its own thread and the main thread only waits for the first
    signal, so stopping the scheduler and the service happens here, never in a handler.
    """
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    with _StopSignals() as signals:
        config = load_config(args.config)
        service = Service(config, worker=args.worker_id)
        metrics = Metrics(totals=store_totals(service.store), worker=service.pipeline.worker)
        service.metrics = metrics
        server = _metrics_server(config, metrics)
        service.pipeline.honour_backoff = True  # `once` tries every source; the daemon waits
        service.pipeline.min_gap = lambda source: 30.0 * _interval(config, source)
        # One executor thread: cycles share one store connection and one index. Every
        # worker on a shared store schedules every source; the lease decides who visits.
        scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)},
                                        job_defaults={"coalesce": True, "max_instances": 1})
        for source in config.sources:
            scheduler.add_job(_job, "interval", args=(service, source), id=source.name,
                              minutes=_interval(config, source),
                              jitter=config.schedule.jitter_seconds,
                              next_run_time=_now(), misfire_grace_time=None)
        logs.event(log, "daemon_start", sources=len(config.sources), worker=service.pipeline.worker,
                   store=_store_name(config))
        try:
            if signals.received is None:
                scheduler.start()
            while signals.received is None:
                time.sleep(0.2)  # the handler runs in here, and only takes note
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            if server is not None:
                server.close()
            service.shutdown()
            logs.event(log, "daemon_stop")
    return 0


def _interval(config: Config, source: SourceSettings) -> float:
    """Minutes between two looks of the daemon at ``source`` (``schedule.tick_minutes``:
    with an adaptive cadence the cycle then visits it only when it is due)."""
    return tick_minutes(config.schedule, source)


def _store_name(config: Config) -> str:
    from store.pg.conn import redact

    return redact(config.store.url) if config.store.url else str(config.db_path)


def _metrics_server(config: Config, metrics: Metrics) -> MetricsServer | None:
    """``/metrics`` and ``/healthz`` on 127.0.0.1 when ``[metrics] port`` is set.

    Healthy while some cycle succeeded within two of the longest source
    intervals plus 10 minutes (a cycle's own time and jitter).
    """
    if not config.metrics.port:
        return None
    longest = max((s.interval_minutes or config.schedule.interval_minutes
                   for s in config.sources), default=config.schedule.interval_minutes)
    server = serve_metrics(metrics, config.metrics.port,
                           health_max_age_seconds=2 * 60 * longest + 600)
    logs.event(log, "metrics_listening", url=server.url)
    return server


def _job(service: Service, source: SourceSettings) -> None:
    try:
        # The job looks every tick; a source with nothing due costs reads, not a cycle.
        if not service.pipeline.schedule.needs_cycle(source):
            return
        service.cycle([source])
    except Exception:
        log.exception("cycle crashed", extra={"fields": {"source": source.name}})


def _now() -> datetime:
    return datetime.now(UTC)


def cmd_extract(args: argparse.Namespace) -> int:
    failures = 0
    settings = ExtractSettings()
    with WorkerPool(min(settings.workers or 2, len(args.files)), settings.timeout_seconds,
                    warmup=warm_up) as pool:
        for name in args.files:
            failures += _extract_one(pool, name, args)
    return 1 if failures else 0


def _extract_one(pool: WorkerPool, name: str, args: argparse.Namespace) -> int:
    """Print one file's JSON line; returns 1 when it failed."""
    record: dict[str, Any] = {"file": name}
    failed = 0
    try:
        job = PageJob(url=args.url or Path(name).resolve().as_uri(), body=_read_html(Path(name)))
        cleaned = pool.call(clean_job, job, url=name)
    except (NewsdedupError, OSError) as exc:
        failed = 1
        record.update(title=None, author=None, published=None, language=None,
                      declared_language=None, language_confidence=None, access=None,
                      text="", error=str(exc))
    else:
        record.update(title=cleaned.title, author=cleaned.author,
                      published=cleaned.published, language=cleaned.language,
                      declared_language=cleaned.declared_language,
                      language_confidence=cleaned.language_confidence,
                      access=cleaned.access, text=cleaned.text)
        if args.explain:
            record["removed"] = [{"rule": r.rule, "text": r.text} for r in cleaned.removed]
    print(json.dumps(record, ensure_ascii=False), flush=True)
    return failed


def _read_html(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _page_range(text: str) -> tuple[int, int | None]:
    first, sep, last = text.partition(":")
    try:
        start, stop = int(first or 1), (int(last) if last else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected FIRST:LAST, e.g. 1:50000") from None
    if not sep or start < 1 or (stop is not None and stop < start):
        raise argparse.ArgumentTypeError(f"{text!r}: expected FIRST:LAST with "
                                         "1 <= FIRST <= LAST, e.g. 1:50000")
    return start, stop


def cmd_reprocess(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.pages is not None and not args.prepare:
        raise ConfigError("--pages", args.pages, "only splits the work of --prepare; "
                          "a reprocess replays every page")
    with open_store(config.store_target) as store, \
            WorkerPool(config.extract.workers, config.extract.timeout_seconds,
                       warmup=warm_up) as pool:
        if args.prepare:
            first, last = args.pages or (1, None)
            counts = asyncio.run(prepare(config, store, pool_processor(pool), first, last))
        else:
            counts = asyncio.run(reprocess(config, store, pool_processor(pool)))
    print(json.dumps(counts, sort_keys=True))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with open_store(config.store_target) as store:
        report = stats(store.conn)
        schedule = SourceSchedule(config.schedule, store, _now)
        report["cluster"] = cluster_view(store.conn, time.time(), {
            s.name: schedule.interval(s) for s in config.sources})
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
