"""Aggregator links resolved to publisher URLs, before anything is fetched.

A source visit lists links; those on an aggregator (Google News, Bing News:
:mod:`ingest.discover.aggregators`) are replaced here by the publisher's URL,
so the pipeline canonicalises, deduplicates and fetches the article itself,
once, whichever source listed it first. A link that cannot be resolved is
dropped, never passed on (a wrapper page is never a record), and counted with
its reason, ``unresolved.<source>/<reason>``, and logged (event
``unresolved``). Resolved links are counted ``resolved.<source>/<how>``
(``offline``, ``lookup``, ``cached``).

Offline first: Bing's ``url=`` parameter and old Google ids need no request.
Only newer Google ids need Google's protocol (:mod:`ingest.discover.batchexecute`),
and that goes through the injected fetcher, the project's one HTTP stack, so its
user agent, robots.txt, address guard, deadline and per-host politeness apply to
Google as to anyone. The cost is bounded:

* at most ``max_lookups`` ids per source visit (30: with the default per-host
  delay of one second that is about half a minute per Google source); the rest
  are ``deferred`` (they are listed again next cycle, when the ones resolved now
  cost nothing);
* one article-page GET per id, ``concurrency`` (4) in flight at most, then one
  POST per ``batch_size`` (10) ids;
* every outcome is cached for the process (a bounded LRU of ``cache_size``
  ids): a target for good, a failure for ``retry_seconds`` (an hour), so a
  refused or broken id is not asked again every cycle.

Reasons: ``decode_failed`` (an id that is no id), ``unknown_link`` (an
aggregator page that is not an article link), ``no_target`` (a Bing wrapper
without its ``url``), ``no_signature`` (Google's page held nothing to go on),
``no_answer`` (batchexecute did not resolve the id), ``not_a_publisher_url``
(the target is not http(s), or is the aggregator again), ``robots``,
``status_4xx`` / ``status_5xx``, ``network`` and the fetcher's other reasons,
``deferred``.

Example::

    resolver = LinkResolver(Aggregators())           # the real hosts
    links = await resolver.resolve(links, fetcher, counters, source="gn",
                                   source_url=feed_url)
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from ingest.discover.aggregators import (
    Aggregators,
    Lookup,
    Unresolvable,
    Unwrapped,
    is_publisher_url,
    unwrap,
)
from ingest.discover.batchexecute import (
    FORM_TYPE,
    Signature,
    batch_answer,
    batch_request,
    page_target,
)
from ingest.errors import FetchError, HTTPStatusError
from ingest.logs import event
from ingest.types import DiscoveredLink, FetchedPage, StageCounters

log = logging.getLogger("newsdedup.discovery")


Accept = Literal["page", "source"]


class ResolvingFetcher(Protocol):
    """What resolution needs of :class:`ingest.fetch.fetcher.Fetcher`."""

    async def get(self, url: str, *, etag: str | None = None,
                  last_modified: str | None = None, accept: Accept = "page") -> FetchedPage: ...

    async def post(self, url: str, data: bytes, *, content_type: str,
                   accept: Accept = "source") -> FetchedPage: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where one aggregator link leads: ``url``, or why not (``reason``)."""

    url: str | None
    reason: str = ""
    how: str = "lookup"


class OutcomeCache:
    """Outcomes by Google id, least recently used evicted first; failures expire.

    >>> cache = OutcomeCache(2, retry_seconds=10, clock=lambda: 0.0)
    >>> cache.put("a", Outcome("https://pub.example/a")); cache.get("a").url
    'https://pub.example/a'
    """

    def __init__(self, size: int, *, retry_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._size, self._retry, self._clock = size, retry_seconds, clock
        self._items: OrderedDict[str, tuple[Outcome, float]] = OrderedDict()

    def get(self, key: str) -> Outcome | None:
        found = self._items.get(key)
        if found is None or found[1] <= self._clock():
            self._items.pop(key, None)
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: str, outcome: Outcome) -> None:
        expires = float("inf") if outcome.url else self._clock() + self._retry
        self._items[key] = (outcome, expires)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class LinkResolver:
    """Replaces aggregator links by publisher URLs; one per process, for its cache."""

    def __init__(self, aggregators: Aggregators | None = None, *, max_lookups: int = 30,
                 batch_size: int = 10, concurrency: int = 4, cache_size: int = 20_000,
                 retry_seconds: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.aggregators = aggregators or Aggregators()
        self.max_lookups, self.batch_size = max_lookups, batch_size
        self.concurrency = concurrency
        self.cache = OutcomeCache(cache_size, retry_seconds=retry_seconds, clock=clock)

    async def resolve(self, links: Sequence[DiscoveredLink], fetcher: ResolvingFetcher,
                      counters: StageCounters, *, source: str, source_url: str = ""
                      ) -> tuple[DiscoveredLink, ...]:
        """``links`` in order, aggregator links replaced by their targets or dropped."""
        verdicts = [unwrap(link.url, self.aggregators, source_url) for link in links]
        outcomes = await self._lookups([v for v in verdicts if isinstance(v, Lookup)], fetcher)
        kept: list[DiscoveredLink] = []
        for link, verdict in zip(links, verdicts, strict=True):
            if verdict is None:
                kept.append(link)
                continue
            outcome = _outcome(verdict, outcomes)
            if outcome.url is None:
                counters.add("unresolved", f"{source}/{outcome.reason}")
                event(log, "unresolved", source=source, url=link.url, reason=outcome.reason)
                continue
            counters.add("resolved", f"{source}/{outcome.how}")
            kept.append(replace(link, url=outcome.url))
        return tuple(kept)

    async def _lookups(self, lookups: list[Lookup], fetcher: ResolvingFetcher
                       ) -> dict[str, Outcome]:
        """Each id's outcome: from the cache, else asked (up to ``max_lookups``)."""
        outcomes: dict[str, Outcome] = {}
        todo: dict[str, Lookup] = {}
        for lookup in lookups:
            cached = self.cache.get(lookup.article_id)
            if cached is not None:
                outcomes[lookup.article_id] = replace(cached, how="cached")
            elif len(todo) < self.max_lookups:
                todo.setdefault(lookup.article_id, lookup)
            elif lookup.article_id not in todo:
                outcomes[lookup.article_id] = Outcome(None, "deferred")
        asked = await self._ask(list(todo.values()), fetcher)
        for key, outcome in asked.items():
            self.cache.put(key, outcome)
        return outcomes | asked

    async def _ask(self, lookups: list[Lookup], fetcher: ResolvingFetcher
                   ) -> dict[str, Outcome]:
        gate = asyncio.Semaphore(self.concurrency)
        pages = await asyncio.gather(*(self._page(lk, fetcher, gate) for lk in lookups))
        asked = {lk.article_id: r for lk, r in zip(lookups, pages, strict=True)
                 if isinstance(r, Outcome)}
        signed = [(lk, r) for lk, r in zip(lookups, pages, strict=True)
                  if isinstance(r, Signature)]
        for start in range(0, len(signed), self.batch_size):
            asked.update(await self._batch(signed[start:start + self.batch_size], fetcher))
        return asked

    async def _page(self, lookup: Lookup, fetcher: ResolvingFetcher,
                    gate: asyncio.Semaphore) -> Outcome | Signature:
        """Step 1: the article page; it may hold the target, or what step 2 needs."""
        async with gate:
            try:
                page = await fetcher.get(lookup.page_url, accept="page")
            except FetchError as exc:
                return Outcome(None, failure_reason(exc))
        if self.aggregators.kind(page.final_url) is None:  # an HTTP redirect off Google
            return self._checked(page.final_url)
        found = page_target(page.body)
        if isinstance(found, str):
            return self._checked(found)
        return found if found is not None else Outcome(None, "no_signature")

    async def _batch(self, signed: list[tuple[Lookup, Signature]], fetcher: ResolvingFetcher
                     ) -> dict[str, Outcome]:
        """Step 2: one batchexecute POST for up to ``batch_size`` ids."""
        rids = [str(i) for i in range(len(signed))]
        body = batch_request([(rid, lk, sig) for rid, (lk, sig) in zip(rids, signed,
                                                                        strict=True)])
        try:
            answer = await fetcher.post(signed[0][0].batch_url, body, content_type=FORM_TYPE)
        except FetchError as exc:
            return {lk.article_id: Outcome(None, failure_reason(exc)) for lk, _ in signed}
        targets = batch_answer(answer.body, rids)
        return {lk.article_id: self._checked(targets[rid]) if rid in targets
                else Outcome(None, "no_answer") for rid, (lk, _) in zip(rids, signed,
                                                                         strict=True)}

    def _checked(self, url: str) -> Outcome:
        if is_publisher_url(url, self.aggregators):
            return Outcome(url)
        return Outcome(None, "not_a_publisher_url")


def _outcome(verdict: Unwrapped | Lookup | Unresolvable, asked: dict[str, Outcome]) -> Outcome:
    if isinstance(verdict, Unwrapped):
        return Outcome(verdict.url, how="offline")
    if isinstance(verdict, Unresolvable):
        return Outcome(None, verdict.reason)
    return asked[verdict.article_id]


def failure_reason(exc: FetchError) -> str:
    """A lookup's failure as a counter label: statuses by class, so labels stay few.

    >>> failure_reason(HTTPStatusError("HTTP status 429", url="u", status=429))
    'status_4xx'
    """
    if isinstance(exc, HTTPStatusError):
        return f"status_{exc.status // 100}xx"
    return exc.reason


@functools.cache
def shared_resolver() -> LinkResolver:
    """The process's resolver for the real aggregator hosts (its cache outlives cycles)."""
    return LinkResolver()
