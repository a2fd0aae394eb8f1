"""When to try a failing source again: exponential, capped, Retry-After honoured.

A source that fails is not dropped: it is retried after its interval times
2^(failures-1), capped at ``MAX_BACKOFF`` (or at the interval, if that is
longer), and never sooner than the server's ``Retry-After`` for that source.
Other sources keep their own schedule::

    >>> from datetime import datetime, UTC
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> next_attempt(t0, failures=3, interval_seconds=600, retry_after=None).isoformat()
    '2026-01-01T00:40:00+00:00'
    >>> next_attempt(t0, failures=1, interval_seconds=600, retry_after=3600).isoformat()
    '2026-01-01T01:00:00+00:00'
"""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_BACKOFF_SECONDS = 6 * 3600.0
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0


def next_attempt(now: datetime, *, failures: int, interval_seconds: float,
                 retry_after: float | None) -> datetime:
    """The earliest time a source that failed ``failures`` times in a row may run again."""
    if failures < 1:
        return now
    cap = max(MAX_BACKOFF_SECONDS, interval_seconds)
    delay = min(interval_seconds * 2 ** min(failures - 1, 30), cap)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return now + timedelta(seconds=delay)


def is_due(now: datetime, next_attempt_at: str | None) -> bool:
    """Whether a source whose stored ``next_attempt_at`` is this may run now."""
    if not next_attempt_at:
        return True
    try:
        return now >= datetime.fromisoformat(next_attempt_at)
    except ValueError:
        return True
