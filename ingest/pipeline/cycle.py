"""One crawl cycle: discover, fetch, process, decide, store.

Fetching is async and overlaps processing (extraction runs in worker
processes), but decisions are taken and written *in discovery order*, one
page at a time, by this one writer: the same pages in the same order always
give the same records and duplicates, and the in-flight window bounds memory
whatever a feed lists::

    pipeline = Pipeline(config, store, index, processor=pool_processor(pool))
    summary = await pipeline.run_cycle(config.sources)
    summary.counts["page.new"]
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.clean.language import first_declared
from ingest.config import Config, SourceSettings
from ingest.dedup.index import NearDuplicateIndex
from ingest.discover.backoff import is_due
from ingest.discover.visit import Discovery, PageFetcher, SourceVisit
from ingest.errors import ExtractError, FetchError, NewsdedupError, StoreError
from ingest.logs import event
from ingest.pipeline.process import PageJob, ProcessedPage, process_page
from ingest.pipeline.record import FetchLogRow, Recorder
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
from store.db import Store
from store.sqlvalues import utcnow

log = logging.getLogger("newsdedup.pipeline")

Processor = Callable[[PageJob], Awaitable[ProcessedPage]]


# Remembered failures that may heal by themselves, and when to look again.
RETRY_AFTER = {"no_article": timedelta(hours=6)}


@dataclass(frozen=True, slots=True)
class PageResult:
    task: PageTask
    page: FetchedPage | None = None
    processed: ProcessedPage | None = None
    error: NewsdedupError | None = None


class Pipeline:
    """Runs cycles over sources with injected store, index, fetcher and processor."""

    def __init__(self, config: Config, store: Store, index: NearDuplicateIndex, *,
                 fetcher_factory: Callable[[], Any], processor: Processor,
                 stop: threading.Event | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 honour_backoff: bool = False) -> None:
        self.config = config
        self.store = store
        self.index = index
        self._fetcher_factory = fetcher_factory
        self._processor = processor
        self._stop = stop or threading.Event()
        self.clock = clock
        self.honour_backoff = honour_backoff

    async def run_cycle(self, sources: Sequence[SourceSettings]) -> CycleSummary:
        """Visit ``sources`` once; failures are counted and logged, never raised."""
        started, clock = utcnow(), time.monotonic()
        cycle_id = self.store.begin_cycle(s.name for s in sources)
        counters = StageCounters()
        fetch_log: list[FetchLogRow] = []
        recorder = Recorder.from_config(self.config, self.store, self.index, counters,
                                        fetch_log)
        found: list[Discovery] = []
        async with self._fetcher_factory() as fetcher:
            if await self._until_stopped(self._crawl(fetcher, sources, found, recorder)):
                counters.add("cycle", "interrupted")
        summary = CycleSummary(cycle_id, started, time.monotonic() - clock,
                               dict(sorted(counters.counts.items())),
                               tuple(d.source for d in found if not d.ok))
        self.store.end_cycle(cycle_id, summary.to_json(), fetch_log)
        event(log, "cycle", cycle_id=cycle_id, seconds=round(summary.seconds, 2),
              failed_sources=list(summary.failed_sources), **summary.counts)
        return summary

    async def _crawl(self, fetcher: PageFetcher, sources: Sequence[SourceSettings],
                     found: list[Discovery], recorder: Recorder) -> None:
        now = self.clock()
        for source in sources:
            state = self.store.source_state(source.name)
            if self.honour_backoff and state and not is_due(now, state.next_attempt_at):
                recorder.counters.add("source", "backoff")
                continue
            minutes = source.interval_minutes or self.config.schedule.interval_minutes
            visit = SourceVisit(fetcher, self.store, recorder.counters, now, minutes * 60)
            found.append(await visit.discover(source))
        tasks = self._tasks(found, recorder.counters)
        for task in tasks:
            if task.variant_of is not None:
                recorder.record_variant(task, task.variant_of)
        fetch = [t for t in tasks if t.variant_of is None]
        await self._run_tasks(fetcher, fetch, recorder)

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

    def _tasks(self, found: Sequence[Discovery], counters: StageCounters) -> list[PageTask]:
        tasks: list[PageTask] = []
        seen: set[str] = set()
        for discovery in found:
            for link in discovery.links:
                task = self._task(link, discovery.prefetched.get(link.url), seen, counters)
                if task is not None:
                    tasks.append(task)
        return tasks

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
                         recorder: Recorder) -> None:
        window = max(4, self.config.fetch.concurrency * 4)
        pending: deque[asyncio.Task[PageResult]] = deque()
        with self.store.batch() as batch:
            try:
                for task in tasks:
                    pending.append(asyncio.create_task(
                        self._fetch_process(fetcher, task, recorder)))
                    if len(pending) >= window:
                        recorder.commit(await _next(pending, batch))
                        batch.page()
                while pending:
                    recorder.commit(await _next(pending, batch))
                    batch.page()
            finally:
                for leftover in pending:
                    leftover.cancel()

    async def _fetch_process(self, fetcher: PageFetcher, task: PageTask,
                             recorder: Recorder) -> PageResult:
        page = task.prefetched
        try:
            if page is None:
                page = await fetcher.get(task.link.url, accept="page")
            template = recorder.template(host_key(task.url))
            job = PageJob(url=page.final_url, body=page.body, charset=page.charset,
                          template=template, dedup=self.config.dedup,
                          declared_language=first_declared(page.content_language,
                                                           task.link.language))
            return PageResult(task, page, await self._processor(job))
        except (FetchError, ExtractError, StoreError) as exc:
            exc.url = exc.url or task.link.url
            return PageResult(task, page, error=exc)


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


def pool_processor(pool: WorkerPool) -> Processor:
    """A :data:`Processor` running ``process_page`` in a :class:`WorkerPool`."""

    async def run(job: PageJob) -> ProcessedPage:
        result: ProcessedPage = await pool.run(process_page, job, url=job.url)
        return result

    return run
