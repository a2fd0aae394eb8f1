"""Group page writes into fewer commits, without letting readers wait for them.

A commit costs far more than a page's inserts (its pages are written to the
WAL, and every ~4 MB the WAL is copied back into the database), so the
writer commits every ``size`` pages or every ``max_age`` seconds, whichever
comes first, and the pipeline commits early before a wait of its own
(:meth:`Batch.commit`). Readers see a recorded page within about
``max_age`` seconds; a crash loses at most the uncommitted pages, which the
next cycle redoes::

    with store.batch() as batch:
        for result in results:
            recorder.commit(result)
            batch.page()
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Batch:
    """Counts recorded pages and commits through ``commit`` when the batch is full or old."""

    def __init__(self, commit: Callable[[], None], *, size: int = 32, max_age: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1:
            raise ValueError(f"batch size must be >= 1 page, got {size}")
        if max_age <= 0:
            raise ValueError(f"batch max_age must be > 0 seconds, got {max_age}")
        self._commit, self._clock = commit, clock
        self.size, self.max_age = size, max_age
        self.pending = 0
        self._opened = clock()

    def page(self) -> None:
        """One more page recorded in the open transaction."""
        self.pending += 1
        if self.pending >= self.size or self._clock() - self._opened >= self.max_age:
            self.commit()

    def commit(self) -> None:
        """Commit now if any page is waiting (before a wait of unknown length)."""
        if self.pending:
            self._commit()
        self.pending = 0
        self._opened = self._clock()
