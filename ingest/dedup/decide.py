"""The dedup decision for one page: URL, then exact text, then near text.

Pure: the lookups are passed in (the store answers the first two, the LSH
index the third), and the cheaper tier wins, so the decision says *how* a
page matched, which editors need to judge it::

    >>> decide(url_match=None, hash_match=7, near=lambda: DedupDecision("new"))
    DedupDecision(method='exact', duplicate_of=7, similarity=1.0)
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.types import DedupDecision


def decide(*, url_match: int | None, hash_match: int | None,
           near: Callable[[], DedupDecision]) -> DedupDecision:
    """First matching tier wins; ``near`` is only computed when needed."""
    if url_match is not None:
        return DedupDecision("url", url_match, 1.0)
    if hash_match is not None:
        return DedupDecision("exact", hash_match, 1.0)
    return near()
