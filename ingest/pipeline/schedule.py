"""When each source is visited: its configured interval, or its adaptive cadence.

The daemon runs one job per source every :meth:`SourceSchedule.tick_minutes`; the
job's cycle asks :meth:`SourceSchedule.due` whether the source's time has come
(its cadence's ``next_visit_at``, kept in the store so every worker on a shared
store agrees), and after a visit that listed its links, :meth:`SourceSchedule.visited`
decides the next interval (:func:`ingest.pipeline.cadence.next_cadence`) and keeps
it. With ``[schedule] adaptive = false`` the interval is the configured one, as
before, and the job runs at that interval::

    schedule = SourceSchedule(config.schedule, store, clock)
    if schedule.due(source):
        ...  # visit, count the links never seen before
        schedule.visited(source, new_links=3)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from ingest.config import ScheduleSettings, SourceSettings
from ingest.discover.backoff import is_due
from ingest.logs import event
from ingest.pipeline.cadence import Cadence, next_cadence
from ingest.types import SourceCadence
from store.protocol import Storage

log = logging.getLogger("newsdedup.schedule")


def start_seconds(settings: ScheduleSettings, source: SourceSettings) -> float:
    """The source's configured interval in seconds (its own, else the schedule's)."""
    return 60.0 * (source.interval_minutes or settings.interval_minutes)


def tick_minutes(settings: ScheduleSettings, source: SourceSettings) -> float:
    """How often the daemon's job for ``source`` looks whether it is due: its configured
    interval, or with an adaptive cadence the lower bound (never more than the
    configured interval), so a source whose interval shrinks is visited on time.

    >>> from ingest.config import ScheduleSettings, SourceSettings
    >>> src = SourceSettings(name="a", kind="feed", url="https://a.example/feed")
    >>> tick_minutes(ScheduleSettings(), src), tick_minutes(ScheduleSettings(adaptive=False), src)
    (5.0, 30.0)
    """
    configured = start_seconds(settings, source) / 60.0
    return min(configured, settings.min_interval_minutes) if settings.adaptive else configured


class SourceSchedule:
    """Reads and writes sources' cadences through the store; decisions are
    :mod:`ingest.pipeline.cadence`'s."""

    def __init__(self, settings: ScheduleSettings, store: Storage,
                 clock: Callable[[], datetime]) -> None:
        self.settings, self.store, self.clock = settings, store, clock

    def due(self, source: SourceSettings) -> bool:
        """Whether the source's adaptive cadence says it may be visited now (always true
        with a fixed interval: the job's own interval is the schedule then)."""
        if not self.settings.adaptive:
            return True
        cadence = self.store.source_cadence(source.name)
        return cadence is None or is_due(self.clock(), cadence.next_visit_at)

    def interval(self, source: SourceSettings) -> float:
        """Seconds between visits of ``source`` now: its adaptive cadence once decided,
        else its configured interval."""
        cadence = self.store.source_cadence(source.name) if self.settings.adaptive else None
        if cadence is not None and cadence.interval_seconds:
            return cadence.interval_seconds
        return start_seconds(self.settings, source)

    def needs_cycle(self, source: SourceSettings) -> bool:
        """Whether the daemon's job should run a cycle for ``source`` now: it is due, or
        some of its records are due for a re-check (which do not wait for the feed). A
        job that says no costs two indexed reads and writes nothing (no ``cycles`` row)."""
        if self.due(source):
            return True
        now = self.clock().isoformat(timespec="seconds")
        return bool(self.store.due_rechecks([source.name], now, 1))

    def visited(self, source: SourceSettings, new_links: int) -> SourceCadence:
        """Decide and keep the interval after a visit that listed ``new_links`` links
        never seen before."""
        now = self.clock()
        start = start_seconds(self.settings, source)
        prev = self.store.source_cadence(source.name)
        if self.settings.adaptive:
            cadence = next_cadence(_previous(prev), new_links=new_links,
                                   elapsed_seconds=_elapsed(prev, now), start=start,
                                   low=60.0 * self.settings.min_interval_minutes,
                                   high=60.0 * self.settings.max_interval_minutes)
        else:
            cadence = Cadence(start, None, "fixed: schedule.adaptive = false")
        kept = SourceCadence(cadence.interval, cadence.rate, cadence.reason,
                             now.isoformat(timespec="seconds"),
                             (now + timedelta(seconds=cadence.interval)).isoformat(
                                 timespec="seconds"))
        self.store.record_cadence(source.name, kept)
        if prev is None or prev.interval_seconds != kept.interval_seconds:
            event(log, "cadence", source=source.name, interval_seconds=kept.interval_seconds,
                  reason=kept.reason, new_links=new_links)
        return kept


def _previous(stored: SourceCadence | None) -> Cadence | None:
    if stored is None or stored.interval_seconds is None or stored.decided_at is None:
        return None
    return Cadence(stored.interval_seconds, stored.new_per_hour, stored.reason or "")


def _elapsed(stored: SourceCadence | None, now: datetime) -> float | None:
    if stored is None or not stored.decided_at:
        return None
    try:
        return (now - datetime.fromisoformat(stored.decided_at)).total_seconds()
    except ValueError:
        return None
