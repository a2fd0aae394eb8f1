"""Per-stage counts and timings that add up across pages, worker processes and cycles.

After datatrove's ``stat_update`` and ``track_time``: a :class:`Stats` is a
:class:`~ingest.types.StageCounters` (``"stage.outcome"`` -> count, so the cycle
hands it to the recorder and the source visits as their counters) plus, per
stage, how many times it ran and the wall and CPU seconds it took. A worker
process fills one per page and returns it beside the page's result (it pickles
in a few hundred bytes); the cycle merges them into its own, and the cycle
summary, its log line and ``/metrics`` read that one object::

    >>> stats = Stats()
    >>> with stats.track_time("decode"):
    ...     text = "Le procès".encode().decode()
    >>> stats.stat_update("page", "new")
    >>> worker = Stats({"page.new": 2}, {"decode": StageTime(1, 0.004, 0.003)})
    >>> total = stats + worker
    >>> total.counts, total.times["decode"].count
    ({'page.new': 3}, 2)
    >>> sorted(total.to_dict()["decode"])
    ['count', 'cpu_seconds', 'wall_seconds']
    >>> Stats.from_dict(total.to_dict()).times["decode"].count
    2

CPU seconds are those of the thread that ran the stage (``time.thread_time``),
so the pool's threads or other coroutines never count in a stage of the event
loop's thread. A stage that awaits (``fetch``, a page's round trip to the
pool, the writer's wait) shares its thread with every other coroutine while
it waits: it is timed with ``cpu=False`` and reports wall seconds only (its
``cpu_seconds`` stays 0). Timing a stage costs two ``perf_counter`` and two
``thread_time`` calls (about a microsecond): it is meant per page, never per
paragraph.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from ingest.types import StageCounters


@dataclass(frozen=True, slots=True)
class StageTime:
    """How many times a stage ran, and its total wall and CPU seconds."""

    count: int = 0
    wall: float = 0.0
    cpu: float = 0.0

    def __add__(self, other: StageTime) -> StageTime:
        return StageTime(self.count + other.count, self.wall + other.wall, self.cpu + other.cpu)


@dataclass(slots=True)
class Stats(StageCounters):
    """Counts by ``stage.outcome`` and time by stage; mergeable, picklable, one per page
    in a worker and one per cycle in the main process (mutable: not shared across threads)."""

    times: dict[str, StageTime] = field(default_factory=dict)

    def stat_update(self, *labels: str, value: int = 1) -> None:
        """Count ``value`` under ``labels`` joined by dots: ``stat_update("page", "new")``."""
        key = ".".join(labels)
        self.counts[key] = self.counts.get(key, 0) + value

    def add_time(self, stage: str, wall: float, cpu: float = 0.0, count: int = 1) -> None:
        """Add ``count`` runs of ``stage`` that took ``wall`` and ``cpu`` seconds."""
        old = self.times.get(stage)
        self.times[stage] = StageTime(count, wall, cpu) if old is None else \
            StageTime(old.count + count, old.wall + wall, old.cpu + cpu)

    @contextmanager
    def track_time(self, stage: str, *, cpu: bool = True) -> Iterator[None]:
        """Time the block as one run of ``stage``, whether it returns or raises.

        ``cpu=False`` for a block that awaits: its thread's CPU time would
        include other coroutines', so only wall seconds are kept.
        """
        start = time.perf_counter()  # the wall span encloses the CPU one: wall >= cpu
        cpu_start = time.thread_time() if cpu else 0.0
        try:
            yield
        finally:
            cpu_seconds = time.thread_time() - cpu_start if cpu else 0.0
            self.add_time(stage, time.perf_counter() - start, cpu_seconds)

    def merge(self, other: Stats) -> Stats:
        """Add ``other``'s counts and times into this one, in place; returns ``self``."""
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n
        for stage, t in other.times.items():
            self.add_time(stage, t.wall, t.cpu, t.count)
        return self

    def __add__(self, other: Stats) -> Stats:
        return Stats(dict(self.counts), dict(self.times)).merge(other)

    def to_dict(self, digits: int = 6) -> dict[str, dict[str, float]]:
        """Time by stage as JSON-ready values, stages sorted:
        ``{stage: {"count": n, "wall_seconds": s, "cpu_seconds": s}}``."""
        return {stage: {"count": t.count, "wall_seconds": round(t.wall, digits),
                        "cpu_seconds": round(t.cpu, digits)}
                for stage, t in sorted(self.times.items())}

    @classmethod
    def from_dict(cls, stages: Mapping[str, Mapping[str, float]],
                  counts: Mapping[str, int] | None = None) -> Stats:
        """The inverse of :meth:`to_dict` (a cycle summary's ``stages``; missing keys are 0)."""
        return cls(dict(counts or {}), {
            stage: StageTime(int(v.get("count", 0)), float(v.get("wall_seconds", 0.0)),
                             float(v.get("cpu_seconds", 0.0)))
            for stage, v in stages.items()})

    def wall_seconds(self, digits: int = 3) -> dict[str, float]:
        """Wall seconds by stage, rounded: the compact form for a log line."""
        return {stage: round(t.wall, digits) for stage, t in sorted(self.times.items())}
