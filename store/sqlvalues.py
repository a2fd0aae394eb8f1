"""Values as the store writes and reads them: timestamps, and typed column reads.

Shared by :mod:`store.db` and the mixins it is built from (:mod:`store.learning`),
so every table's timestamps have one format::

    >>> len(utcnow()), str_or_none(None), int_or_none(3)
    (25, None, 3)
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> str:
    """Now, in UTC, as ISO 8601 to the second (``2026-11-22T13:56:02+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int) else None
