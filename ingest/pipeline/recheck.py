"""Silent corrections: stored records fetched again on a decaying schedule.

Many feeds never change an item's update stamp when its article is corrected, so a
record whose feed entry does not change would never be fetched again. Each new
record therefore gets a schedule after its first sight (``[recheck] after_hours``,
by default 1 h, 6 h, 24 h and 72 h): at each step the page is fetched with a
conditional GET (the ETag and Last-Modified it was served with), and a ``304``
costs one small answer. A changed page goes through the pipeline as any updated
page does (``plan_update``): a changed clean text becomes a new version, an
unchanged one costs nothing more. Each cycle re-checks at most ``per_cycle``
records of the sources it visits, the most overdue first; a step missed while the
daemon was down is not made up (the check made now covers it)::

    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    >>> first_step(t0, (1, 6, 24, 72))
    (0, '2026-12-01T09:00:00+00:00')
    >>> later = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)     # 36 h after first sight
    >>> next_step(t0, 0, (1, 6, 24, 72), later)              # 6 h and 24 h are past
    (3, '2026-12-04T08:00:00+00:00')
    >>> next_step(t0, 3, (1, 6, 24, 72), later) is None       # the schedule is done
    True
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from ingest.discover.visit import PageFetcher
from ingest.errors import NewsdedupError
from ingest.logs import event
from ingest.types import DiscoveredLink, DueRecheck, FetchedPage, KnownUrl, PageTask, StageCounters
from store.protocol import Storage

log = logging.getLogger("newsdedup.recheck")


def first_step(first_seen: datetime, schedule: Sequence[float]) -> tuple[int, str] | None:
    """A new record's first re-check: step 0 and when it is due; None with no schedule."""
    return _step_from(first_seen, 0, schedule, first_seen)


def next_step(first_seen: datetime, done_step: int, schedule: Sequence[float],
              now: datetime) -> tuple[int, str] | None:
    """The step after ``done_step`` that is still ahead of ``now``; None when none is."""
    return _step_from(first_seen, done_step + 1, schedule, now)


def _step_from(first_seen: datetime, start: int, schedule: Sequence[float],
               now: datetime) -> tuple[int, str] | None:
    for step in range(start, len(schedule)):
        due = first_seen + timedelta(hours=schedule[step])
        if due > now:
            return step, due.isoformat(timespec="seconds")
    return None


class Rechecks:
    """One cycle's re-checks: the due records of its sources, fetched conditionally.

    :meth:`run` returns the pages that came back changed, as tasks for the cycle's
    usual fetch-process-record path (``prefetched``, ``known`` as the record);
    ``304`` answers and failures are settled here, each one advancing the record's
    schedule so a page that keeps failing is not retried every cycle.
    """

    def __init__(self, store: Storage, fetcher: PageFetcher, counters: StageCounters, *,
                 schedule: Sequence[float], per_cycle: int, now: datetime) -> None:
        self.store, self.fetcher, self.counters = store, fetcher, counters
        self.schedule, self.per_cycle, self.now = tuple(schedule), per_cycle, now

    async def run(self, sources: Sequence[str], skip: set[str],
                  claim: Callable[[list[str]], frozenset[str]] | None = None
                  ) -> list[PageTask]:
        """Re-check the due records of ``sources`` (not those whose URL is in ``skip``:
        the cycle fetches them anyway); ``claim`` grants the URLs this worker may fetch."""
        due = [d for d in self.store.due_rechecks(sources, self._iso(self.now), self.per_cycle)
               if d.url not in skip]
        if claim is not None and due:
            granted = claim([d.url for d in due])
            due = [d for d in due if d.url in granted]
        pages = await asyncio.gather(*(self._check(d) for d in due))
        return [self._task(d, page) for d, page in zip(due, pages, strict=True)
                if page is not None]

    async def _check(self, due: DueRecheck) -> FetchedPage | None:
        try:
            page = await self.fetcher.get(due.url, etag=due.etag,
                                          last_modified=due.last_modified, accept="page")
        except NewsdedupError as exc:
            self.counters.add("recheck", "failed")
            event(log, "recheck", level=logging.WARNING, url=due.url, source=due.source,
                  outcome="failed", reason=exc.reason)
            self._done(due, None)
            return None
        outcome = "not_modified" if page.not_modified else "fetched"
        self.counters.add("recheck", outcome)
        event(log, "recheck", url=due.url, source=due.source, outcome=outcome, step=due.step)
        self._done(due, page)
        return None if page.not_modified else page

    def _done(self, due: DueRecheck, page: FetchedPage | None) -> None:
        nxt = next_step(datetime.fromisoformat(due.first_seen), due.step, self.schedule,
                        self.now)
        self.store.recheck_done(
            due.article_id, step=nxt[0] if nxt else len(self.schedule),
            due_at=nxt[1] if nxt else None, at=self._iso(self.now),
            etag=page.etag if page else None,
            last_modified=page.last_modified if page else None,
            fetched=page is not None and not page.not_modified)

    @staticmethod
    def _task(due: DueRecheck, page: FetchedPage) -> PageTask:
        link = DiscoveredLink(url=due.url, source=due.source)
        return PageTask(link, due.url, KnownUrl("article", due.article_id, None), page)

    @staticmethod
    def _iso(when: datetime) -> str:
        return when.isoformat(timespec="seconds")
