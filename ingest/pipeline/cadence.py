"""Adaptive cadence: how long to wait before visiting a source again.

A wire service's feed brings new stories every few minutes; a columnist's, one a
week. Polling both every 30 minutes wastes requests on the quiet one and misses
the busy one's stories for half an hour. As feed readers and news archives do
(Miniflux's entry-frequency scheduler, Heritrix's adaptive revisit policy), each
source's interval follows how many *new* links its visits bring: the rate of new
links per hour is smoothed over visits (an exponentially weighted mean, so one
busy morning does not make a quiet feed busy), and the interval is the time in
which that rate brings about one new link, kept between the configured bounds and
moved at most ×2 or ÷2 per visit (a burst or a pause changes it gradually).

A visit that brings nothing multiplies the smoothed rate by ``1 - WEIGHT``; an
empty source therefore drifts to the upper bound in a few visits. The interval
never goes below :data:`FLOOR_SECONDS` (one minute, which is also the longest
robots.txt ``Crawl-delay`` the fetcher honours, so a visit every interval never
asks faster than the site allows); a server's ``Retry-After`` is honoured apart,
by the failure backoff (:mod:`ingest.discover.backoff`), which the daemon checks
together with this interval. Pure: values in, value out::

    >>> busy = next_cadence(None, new_links=40, elapsed_seconds=None,
    ...                     start=1800, low=300, high=21600)
    >>> busy.interval, busy.reason          # the first visit lists the whole feed
    (1800.0, 'first visit: 40 links, interval kept at 30 min')
    >>> busy = next_cadence(busy, new_links=12, elapsed_seconds=1800,
    ...                     start=1800, low=300, high=21600)
    >>> busy.interval, busy.reason
    (900.0, '12 new in 30 min (24.0/h smoothed): shorter, 15 min')
    >>> quiet = next_cadence(None, new_links=3, elapsed_seconds=None,
    ...                      start=1800, low=300, high=21600)
    >>> for _ in range(8):
    ...     quiet = next_cadence(quiet, new_links=0, elapsed_seconds=quiet.interval,
    ...                          start=1800, low=300, high=21600)
    >>> quiet.interval, quiet.reason
    (21600.0, 'nothing new in 6 h: kept, 6 h (the upper bound)')
"""

from __future__ import annotations

from dataclasses import dataclass

WEIGHT = 0.5
"""The weight of the last visit in the smoothed rate (the rest is history)."""

TARGET_NEW = 1.0
"""New links one visit should bring on average: the interval aims at this many."""

MAX_STEP = 2.0
"""The interval moves at most ×2 or ÷2 from one visit to the next."""

FLOOR_SECONDS = 60.0
"""No interval below a minute, whatever the configuration (see the module's text)."""


@dataclass(frozen=True, slots=True)
class Cadence:
    """A source's interval in seconds, its smoothed rate of new links per hour (None
    until a second visit measured one) and why the interval is what it is."""

    interval: float
    rate: float | None
    reason: str


def next_cadence(prev: Cadence | None, *, new_links: int, elapsed_seconds: float | None,
                 start: float, low: float, high: float) -> Cadence:
    """The cadence after a visit that brought ``new_links`` links never seen before,
    ``elapsed_seconds`` after the previous visit (None on the first, whose links are
    the source's backlog, not its rate). ``start`` is the configured interval, and the
    bounds widen to include it (a source configured outside them keeps working)."""
    low, high = _bounds(start, low, high)
    if prev is None or elapsed_seconds is None or elapsed_seconds <= 0:
        interval = _clamp(prev.interval if prev else start, low, high)
        return Cadence(interval, prev.rate if prev else None,
                       f"first visit: {new_links} links, interval kept at {_human(interval)}")
    observed = new_links * 3600.0 / elapsed_seconds
    rate = observed if prev.rate is None else WEIGHT * observed + (1 - WEIGHT) * prev.rate
    wanted = TARGET_NEW * 3600.0 / rate if rate > 0 else high
    step = _clamp(wanted, prev.interval / MAX_STEP, prev.interval * MAX_STEP)
    interval = _clamp(step, low, high)
    return Cadence(interval, rate, _why(prev.interval, interval, new_links, elapsed_seconds,
                                        rate, low, high))


def _bounds(start: float, low: float, high: float) -> tuple[float, float]:
    low = max(FLOOR_SECONDS, min(low, start))
    return low, max(low, high, start)


def _clamp(value: float, low: float, high: float) -> float:
    return float(min(max(value, low), high))


def _why(before: float, after: float, new_links: int, elapsed: float, rate: float,
         low: float, high: float) -> str:
    seen = (f"{new_links} new in {_human(elapsed)} ({rate:.1f}/h smoothed)" if new_links
            else f"nothing new in {_human(elapsed)}")
    change = "shorter" if after < before else "longer" if after > before else "kept"
    bound = " (the upper bound)" if after == high else " (the lower bound)" if after == low \
        else ""
    return f"{seen}: {change}, {_human(after)}{bound}"


def _human(seconds: float) -> str:
    """A duration as people read it: ``45 s``, ``15 min``, ``6 h``, ``2.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    hours = seconds / 3600
    return f"{hours:.0f} h" if hours == round(hours) else f"{hours:.1f} h"
