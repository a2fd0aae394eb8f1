"""One crawl cycle: discover, fetch, process, decide, store.

Fetching is async and overlaps processing (extraction runs in worker
processes), but decisions are taken and written *in discovery order*, one
page at a time, by this one writer: the same pages in the same order always
give the same records and duplicates, and the in-flight window bounds memory
whatever a feed lists::

    pipeline = Pipeline(config, store, index, processor=pool_processor(pool))
    summary = await pipeline.run_cycle(config.sources)
    summary.counts["page.new"], summary.stages["extract"]["cpu_seconds"]

Every stage is timed into one :class:`~ingest.pipeline.stats.Stats` per cycle (which
is also the cycle's counters): ``discover`` (per source), ``fetch`` (per page
requested), ``process`` (a page's round trip to the worker pool: waiting for a free
worker, the pipe, the worker's own stages), the workers' ``decode``, ``extract``,
``clean`` and ``fingerprint`` (returned with each page and merged here), ``wait``
(the writer waiting for the next page in order), ``record`` (the writer's decision
and writes, :meth:`Recorder.commit`) and ``commit`` (the batched SQLite commits).
They reach the summary's ``stages``, the ``cycle`` log event and ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from ingest.clean.language import first_declared
from ingest.config import Config, SourceSettings
from ingest.dedup.index import DedupIndex
from ingest.discover.backoff import is_due
from ingest.discover.visit import Discovery, PageFetcher, SourceVisit
from ingest.errors import ExtractError, FetchError, NewsdedupError, StoreError
from ingest.logs import event
from ingest.pipeline.plan import PageResult
from ingest.pipeline.process import PageJob, ProcessedPage, process_page_timed
from ingest.pipeline.recheck import Rechecks
from ingest.pipeline.record import FetchLogRow, Recorder
from ingest.pipeline.schedule import SourceSchedule
from ingest.pipeline.stats import Stats
from ingest.pipeline.topic import TopicFilter
from ingest.pipeline.workers import WorkerPool
from ingest.types import (
    CycleSummary,
    DiscoveredLink,
    FetchedPage,
    KnownUrl,
    PageTask,
    StageCounters,
)
from ingest.urls import canonical_url, host_key
from store.batch import Batch
from store.coordination import default_worker_id
from store.protocol import Storage
from store.sqlvalues import utcnow

log = logging.getLogger("newsdedup.pipeline")

Processor = Callable[[PageJob], Awaitable[ProcessedPage]]
TimedProcessor = Callable[[PageJob], Awaitable[tuple[ProcessedPage | NewsdedupError, Stats]]]
"""A processor that also returns each page's stage times, its error as a value."""


# Remembered failures that may heal by themselves, and when to look again.
RETRY_AFTER = {"no_article": timedelta(hours=6)}




class Pipeline:
    """Runs cycles over sources with injected store, index, fetcher and processor."""

    def __init__(self, config: Config, store: Storage, index: DedupIndex, *,
                 fetcher_factory: Callable[[], Any], processor: Processor,
                 stop: threading.Event | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 honour_backoff: bool = False, worker: str | None = None) -> None:
        self.config = config
        self.store = store
        self.index = index
        self._fetcher_factory = fetcher_factory
        self._processor = processor
        self._timed = _timed(processor)
        self._stop = stop or threading.Event()
        self.clock = clock
        self.honour_backoff = honour_backoff
        self.topic = TopicFilter(config.topic.all_of, config.topic.languages)  # one per run
        self.worker = worker or config.cluster.worker_id or default_worker_id()
        self.lease_seconds = config.cluster.lease_seconds
        # Seconds since a source's last visit (by any worker) before it may be leased
        # again: 0 for `once`; the daemon waits half the source's interval, so the
        # workers' schedules visit each source about once per interval between them.
        self.min_gap: Callable[[SourceSettings], float] = lambda source: 0.0
        self.schedule = SourceSchedule(config.schedule, store, clock)

    async def run_cycle(self, sources: Sequence[SourceSettings]) -> CycleSummary:
        """Visit ``sources`` once; failures are counted and logged, never raised."""
        started, clock = utcnow(), time.monotonic()
        cycle_id = self.store.begin_cycle((s.name for s in sources), self.worker)
        self.store.worker_seen(self.worker)  # on the roll before it leases anything
        for dead in self.store.reap():
            event(log, "worker_reaped", level=logging.WARNING, worker=dead, by=self.worker)
        stats = Stats()  # the cycle's counters too
        fetch_log: list[FetchLogRow] = []
        recorder = Recorder.from_config(self.config, self.store, self.index, stats,
                                        fetch_log, topic=self.topic, clock=self.clock,
                                        rechecks=True)
        found: list[Discovery] = []
        leased: list[str] = []
        heartbeat = asyncio.ensure_future(self._heartbeat())
        try:
            async with self._fetcher_factory() as fetcher:
                if await self._until_stopped(self._crawl(fetcher, sources, found, recorder,
                                                         stats, leased)):
                    stats.add("cycle", "interrupted")
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            self._release(leased)
        summary = CycleSummary(cycle_id, started, time.monotonic() - clock,
                               dict(sorted(stats.counts.items())),
                               tuple(d.source for d in found if not d.ok),
                               stats.to_dict())
        self.store.end_cycle(cycle_id, summary.to_json(), fetch_log)
        self.store.worker_seen(self.worker, cycles=1, seconds=summary.seconds,
                               pages=sum(n for k, n in summary.counts.items()
                                         if k.startswith("page.")))
        event(log, "cycle", cycle_id=cycle_id, worker=self.worker,
              seconds=round(summary.seconds, 2),
              failed_sources=list(summary.failed_sources), stage_seconds=stats.wall_seconds(),
              **summary.counts)
        return summary

    def _release(self, leased: list[str]) -> None:
        """End this cycle's leases and claims; if the store cannot be reached, they expire
        by themselves after ``lease_seconds`` (the cycle's own error is the one to report)."""
        try:
            self.store.release(self.worker, leased)
        except StoreError as exc:
            event(log, "lease_release_failed", level=logging.WARNING, worker=self.worker,
                  error=str(exc))

    async def _heartbeat(self) -> None:
        """Keep this worker's leases and claims alive while the cycle runs."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                self.store.renew(self.worker, ttl=self.lease_seconds)
            except StoreError as exc:
                event(log, "lease_renew_failed", level=logging.WARNING, worker=self.worker,
                      error=str(exc))

    async def _crawl(self, fetcher: PageFetcher, sources: Sequence[SourceSettings],
                     found: list[Discovery], recorder: Recorder, stats: Stats,
                     leased: list[str]) -> None:
        now = self.clock()
        # Sources whose records may be re-checked now: visited without failing, or
        # not due for a visit yet (a record's schedule does not wait for its feed's);
        # never one in backoff (its server asked us to wait).
        recheckable: list[str] = []
        visited: list[SourceSettings] = []  # listed their links: their cadence moves
        for source in sources:
            state = self.store.source_state(source.name)
            if self.honour_backoff and state and not is_due(now, state.next_attempt_at):
                stats.add("source", "backoff")
                continue
            if self.honour_backoff and not self.schedule.due(source):
                stats.add("source", "not_due")
                recheckable.append(source.name)
                continue
            if not self.store.lease_source(source.name, self.worker, ttl=self.lease_seconds,
                                           min_gap=self.min_gap(source)):
                stats.add("source", "leased_elsewhere")
                continue
            leased.append(source.name)
            minutes = source.interval_minutes or self.config.schedule.interval_minutes
            visit = SourceVisit(fetcher, self.store, stats, now, minutes * 60)
            with stats.track_time("discover"):  # sequential: the loop's CPU is its own
                found.append(await visit.discover(source))
            if found[-1].ok:
                recheckable.append(source.name)
                visited.append(source)
        new_links: Counter[str] = Counter()
        tasks = self._tasks(found, stats, new_links)
        for task in tasks:
            if task.variant_of is not None:
                recorder.record_variant(task, task.variant_of)
        fetch = [t for t in tasks if t.variant_of is None]
        fetch += await Rechecks(
            self.store, fetcher, stats, schedule=self.config.recheck.after_hours,
            per_cycle=self.config.recheck.per_cycle, now=self.clock(),
        ).run(recheckable, {t.url for t in tasks}, self._claim)
        await self._run_tasks(fetcher, fetch, recorder, stats)
        # Only a visit that finished sets the next one: a worker that dies mid-visit
        # leaves its source due, for another worker to finish.
        for source in visited:
            self.schedule.visited(source, new_links[source.name])

    def _claim(self, urls: list[str]) -> frozenset[str]:
        return self.store.claim_urls(urls, self.worker, ttl=self.lease_seconds)

    async def _until_stopped(self, work: Coroutine[Any, Any, None]) -> bool:
        """Run ``work`` unless the stop event fires first; True when it was interrupted.

        Pages already committed stay; in-flight ones are abandoned unrecorded, so
        the next cycle simply does them again.
        """
        task = asyncio.ensure_future(work)
        while not task.done():
            if self._stop.is_set():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return True
            await asyncio.wait({task}, timeout=0.1)
        task.result()
        return False

    def _tasks(self, found: Sequence[Discovery], counters: StageCounters,
               new_links: Counter[str]) -> list[PageTask]:
        """The pages to fetch; ``new_links`` counts, per source, its links never seen
        before (what its adaptive cadence follows)."""
        tasks: list[PageTask] = []
        seen: set[str] = set()
        for discovery in found:
            for link in discovery.links:
                task = self._task(link, discovery.prefetched.get(link.url), seen, counters)
                if task is not None:
                    tasks.append(task)
                    new_links[discovery.source] += task.known is None
        return self._claimed(tasks, counters)

    def _claimed(self, tasks: list[PageTask], counters: StageCounters) -> list[PageTask]:
        """The tasks this worker may do: their URLs claimed here, not by another live
        worker. On a shared store a URL unknown before its claim is looked up again, as
        another worker may have stored it in between (then it is not fetched twice)."""
        granted = self.store.claim_urls([t.url for t in tasks], self.worker,
                                        ttl=self.lease_seconds)
        kept: list[PageTask] = []
        for task in tasks:
            if task.url not in granted:
                counters.add("discover", "claimed_elsewhere")
                continue
            if self.store.shared and task.known is None:
                known = self.store.known_url(task.url)
                if known is not None:
                    if not _changed(known, task.link, task.prefetched, self.clock()):
                        counters.add("discover", "known")
                        continue
                    task = PageTask(task.link, task.url, known, task.prefetched)
            kept.append(task)
        return kept

    def _task(self, link: DiscoveredLink, prefetched: FetchedPage | None, seen: set[str],
              counters: StageCounters) -> PageTask | None:
        try:
            url = canonical_url(link.url)
        except ValueError:
            counters.add("discover", "bad_url")
            return None
        if url in seen:
            counters.add("discover", "repeated_in_cycle")
            return None
        seen.add(url)
        known = self.store.known_url(url)
        if known is not None and not _changed(known, link, prefetched, self.clock()):
            counters.add("discover", "known")
            return None
        return PageTask(link, url, known, prefetched)

    async def _run_tasks(self, fetcher: PageFetcher, tasks: list[PageTask],
                         recorder: Recorder, stats: Stats) -> None:
        window = max(4, self.config.fetch.concurrency * 4)
        pending: deque[asyncio.Task[PageResult]] = deque()
        with self.store.batch() as batch:
            try:
                for task in tasks:
                    pending.append(asyncio.create_task(
                        self._fetch_process(fetcher, task, recorder, stats)))
                    if len(pending) >= window:
                        await _record_next(pending, batch, recorder, stats)
                while pending:
                    await _record_next(pending, batch, recorder, stats)
            finally:
                for leftover in pending:
                    leftover.cancel()

    async def _fetch_process(self, fetcher: PageFetcher, task: PageTask,
                             recorder: Recorder, stats: Stats) -> PageResult:
        page = task.prefetched
        try:
            if page is None:
                with stats.track_time("fetch", cpu=False):
                    page = await fetcher.get(task.link.url, accept="page")
            template = recorder.template(host_key(task.url))
            job = PageJob(url=page.final_url, body=page.body, charset=page.charset,
                          template=template, dedup=self.config.dedup,
                          declared_language=first_declared(page.content_language,
                                                           task.link.language),
                          topic=recorder.topic)
            with stats.track_time("process", cpu=False):
                processed, worker_stats = await self._timed(job)
            stats.merge(worker_stats)
            if isinstance(processed, NewsdedupError):
                raise processed
            return PageResult(task, page, processed)
        except (FetchError, ExtractError, StoreError) as exc:
            exc.url = exc.url or task.link.url
            return PageResult(task, page, error=exc)


async def _record_next(pending: deque[asyncio.Task[PageResult]], batch: Batch,
                       recorder: Recorder, stats: Stats) -> None:
    """Wait for the oldest page, then record it and count it in the batch, each timed."""
    with stats.track_time("wait", cpu=False):
        result = await _next(pending, batch)
    with stats.track_time("record"):
        recorder.commit(result)
    with stats.track_time("commit"):
        batch.page()


async def _next(pending: deque[asyncio.Task[PageResult]], batch: Batch) -> PageResult:
    """The oldest page's result; if it is slow in coming, commit what is recorded first,
    so readers do not wait on a slow page for the pages before it."""
    head = pending[0]  # left in ``pending`` until done, so a cancelled cycle cancels it
    if not head.done():
        await asyncio.wait({head}, timeout=batch.max_age)
        if not head.done():
            batch.commit()
    return await pending.popleft()


def _changed(known: KnownUrl, link: DiscoveredLink, prefetched: FetchedPage | None,
             now: datetime) -> bool:
    """Whether a known URL should be fetched again: its source says it was updated,
    or it gave no article long enough ago to try again (a page may be empty while
    its publisher fills it)."""
    if known.kind == "skipped" and known.reason in RETRY_AFTER and known.at:
        with contextlib.suppress(ValueError):
            if now - datetime.fromisoformat(known.at) >= RETRY_AFTER[known.reason]:
                return True
    if prefetched is not None:
        return known.kind in ("article", "alias")
    if known.kind == "variant":
        return True
    if known.kind == "duplicate" or known.kind == "alias":
        return False
    if known.kind == "skipped" and known.feed_updated is None:
        return False
    return link.updated is not None and link.updated != known.feed_updated


class PoolProcessor:
    """A :data:`Processor` running pages in a :class:`WorkerPool`; :meth:`timed` is its
    :data:`TimedProcessor` (what a cycle uses, for the workers' stage times)."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool

    async def __call__(self, job: PageJob) -> ProcessedPage:
        done, _ = await self.timed(job)
        if isinstance(done, NewsdedupError):
            raise done
        return done

    async def timed(self, job: PageJob) -> tuple[ProcessedPage | NewsdedupError, Stats]:
        """The page (or its error, with the job's URL as a raised one would have) and
        the worker's :class:`Stats` for it; a timeout or a dead worker still raises."""
        done, stats = await self.pool.run(process_page_timed, job, url=job.url)
        if isinstance(done, NewsdedupError) and done.url is None:
            done.url = job.url
        return done, stats


def pool_processor(pool: WorkerPool) -> PoolProcessor:
    """A :data:`Processor` running ``process_page`` in a :class:`WorkerPool`."""
    return PoolProcessor(pool)


def _timed(processor: Processor) -> TimedProcessor:
    """``processor``'s timed form (its ``timed`` method), else one with no worker times."""
    timed = getattr(processor, "timed", None)
    if timed is not None:
        return cast(TimedProcessor, timed)

    async def run(job: PageJob) -> tuple[ProcessedPage | NewsdedupError, Stats]:
        return await processor(job), Stats()

    return run
