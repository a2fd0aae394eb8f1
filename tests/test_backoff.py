from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ingest.discover.backoff import MAX_BACKOFF_SECONDS, is_due, next_attempt

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_delay_doubles_with_each_failure_then_caps() -> None:
    delays = [(next_attempt(T0, failures=n, interval_seconds=600, retry_after=None) - T0)
              .total_seconds() for n in range(1, 10)]
    assert delays[:4] == [600, 1200, 2400, 4800]
    assert max(delays) == MAX_BACKOFF_SECONDS


def test_retry_after_is_never_undercut() -> None:
    later = next_attempt(T0, failures=1, interval_seconds=60, retry_after=7200)
    assert later - T0 == timedelta(seconds=7200)


def test_success_means_due_now() -> None:
    assert next_attempt(T0, failures=0, interval_seconds=60, retry_after=None) == T0


@given(st.integers(1, 200), st.floats(1, 86400), st.none() | st.floats(0, 10**7))
def test_delay_is_bounded_and_at_least_the_interval(failures: int, interval: float,
                                                    retry_after: float | None) -> None:
    delay = (next_attempt(T0, failures=failures, interval_seconds=interval,
                          retry_after=retry_after) - T0).total_seconds()
    assert interval - 1e-6 <= delay <= max(MAX_BACKOFF_SECONDS, interval, 24 * 3600) + 1e-6


def test_is_due_reads_stored_stamps() -> None:
    assert is_due(T0, None) and is_due(T0, "garbage")
    assert not is_due(T0, (T0 + timedelta(minutes=1)).isoformat())
    assert is_due(T0, (T0 - timedelta(minutes=1)).isoformat())
