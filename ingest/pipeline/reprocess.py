"""``reprocess``: redo extraction, cleaning and dedup over the stored raw pages.

Pages are replayed in the order they were first decided, through the same
worker processes and the same :class:`~ingest.pipeline.record.Recorder` as a crawl,
so the result is what a fresh crawl of the same pages would store today,
with no refetch. A page whose extraction now fails keeps the text it had,
so a reprocess never loses a record. Processed pages wait for the replay in
a scratch file (:class:`store.spill.Spill`), so memory stays bounded
whatever the size of the store::

    summary = await reprocess(config, store, pool)

The extraction, which is nearly all of the cost, can be split across processes and
machines beforehand: ``reprocess --prepare --pages 1:50000`` on one machine,
``--pages 50001:100000`` on another, each keeps what it extracted in the store's
``reprocess_cache`` under a digest of the rules that made it (:func:`rules_digest`:
the code and the settings); the replay then takes those and extracts only the rest.
Several ``reprocess`` started at once are safe: the replay runs under the store's
write lock (SQLite) or rebuild lock (PostgreSQL), one after the other.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import pickle
from collections import deque
from pathlib import Path

from ingest.clean.language import identify
from ingest.config import Config
from ingest.dedup.index import NearDuplicateIndex
from ingest.dedup.stored import index_for
from ingest.errors import ExtractError
from ingest.logs import event
from ingest.pipeline.cycle import Processor
from ingest.pipeline.plan import PageResult
from ingest.pipeline.process import PageJob, ProcessedPage, processed_page
from ingest.pipeline.record import Recorder
from ingest.pipeline.topic import TopicFilter
from ingest.types import (
    CleanedArticle,
    DiscoveredLink,
    FetchedPage,
    PageTask,
    Paragraph,
    StageCounters,
)
from store.backends import AnyStore, rebuild_for
from store.rebuild import Rebuild, StoredPage
from store.spill import Spill

log = logging.getLogger("newsdedup.reprocess")
_WINDOW = 32


async def prepare(config: Config, store: AnyStore, processor: Processor,
                  first: int = 1, last: int | None = None) -> dict[str, int]:
    """Extract pages ``first`` to ``last`` (1-based, inclusive, in replay order) into the
    store's ``reprocess_cache`` for a later ``reprocess``; pages already prepared under
    the same rules are left alone. Returns the counts."""
    rebuild, rules = rebuild_for(store), rules_digest(config)
    topic = TopicFilter(config.topic.all_of, config.topic.languages)
    urls = rebuild.page_urls()
    chosen = urls[max(first, 1) - 1: last]
    todo = [u for u in chosen if rebuild.cached(u, rules) is None]
    with Spill() as done:
        await _process_all(config, rebuild, todo, processor, done, topic)
        for url in todo:
            rebuild.cache(url, rules, pickle.dumps(done.get(url), pickle.HIGHEST_PROTOCOL))
    counts = {"pages_total": len(urls), "pages_chosen": len(chosen), "prepared": len(todo),
              "already_prepared": len(chosen) - len(todo)}
    event(log, "reprocess_prepared", **counts)
    return counts


def rules_digest(config: Config) -> str:
    """What a prepared page's extraction depended on: the settings that shape a page's
    processing and the source of every module of ``ingest`` (a new rule is a new digest,
    so nothing extracted under the old ones is replayed)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((config.clean, config.dedup, config.topic)).encode())
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


async def reprocess(config: Config, store: AnyStore,
                    processor: Processor) -> dict[str, int]:
    """Rebuild every record from its raw page; returns the counts by outcome."""
    counters = StageCounters()
    index = index_for(config.dedup, store) if store.shared else \
        NearDuplicateIndex(config.dedup, store.fingerprint)  # empty: the replay fills it
    recorder = Recorder.from_config(config, store, index, counters, [])
    rebuild, rules = rebuild_for(store), rules_digest(config)
    with Spill() as done:
        fresh = _take_prepared(rebuild, rebuild.page_urls(), rules, done, counters)
        await _process_all(config, rebuild, fresh, processor, done, recorder.topic)
        with rebuild:
            urls = rebuild.page_urls()  # pages stored by a cycle meanwhile are done now
            late = _take_prepared(rebuild, [u for u in urls if u not in done], rules, done,
                                  counters)
            await _process_all(config, rebuild, late, processor, done, recorder.topic)
            rebuild.clear()
            for url in urls:
                recorder.commit(_result(rebuild.load_page(url), done.get(url)))
    event(log, "reprocess", pages=len(urls), **counters.counts)
    return dict(sorted(counters.counts.items()))


def _take_prepared(rebuild: Rebuild, urls: list[str], rules: str, done: Spill,
                   counters: StageCounters) -> list[str]:
    """Move the pages prepared under ``rules`` into ``done``; returns the others."""
    rest = []
    for url in urls:
        value = rebuild.cached(url, rules)
        if value is None:
            rest.append(url)
        else:
            done.put(url, pickle.loads(value))
            counters.add("reprocess", "prepared")
    return rest


async def _process_all(config: Config, rebuild: Rebuild, urls: list[str], processor: Processor,
                       done: Spill, topic: TopicFilter) -> None:
    """Process pages with a bounded number in flight into ``done``, keyed by URL."""
    pending: deque[tuple[str, asyncio.Task[ProcessedPage | ExtractError]]] = deque()
    for url in urls:
        page = rebuild.load_page(url)
        pending.append((url, asyncio.ensure_future(_process(config, rebuild, page, processor,
                                                            topic))))
        if len(pending) >= _WINDOW:
            key, task = pending.popleft()
            done.put(key, await task)
    for key, task in pending:
        done.put(key, await task)


async def _process(config: Config, rebuild: Rebuild, page: StoredPage,
                   processor: Processor, topic: TopicFilter) -> ProcessedPage | ExtractError:
    """Process one stored page as a fresh crawl would: the template is learned anew
    during the replay and applied by the recorder at commit."""
    job = PageJob(url=page.final_url, body=page.html, charset=page.charset,
                  dedup=config.dedup, declared_language=page.language_hint,
                  topic=topic)
    try:
        return await processor(job)
    except ExtractError as exc:
        old = rebuild.old_text(page.url)
        if old is None:
            return exc
        event(log, "reprocess_kept_old_text", level=logging.WARNING, url=page.url,
              reason=exc.reason)
        return _from_text(page.url, *old, config=config)


def _from_text(url: str, text: str, title: str | None, declared: str | None, *,
               config: Config) -> ProcessedPage:
    """The old clean text of a page that no longer extracts, its language identified anew."""
    guess = identify(text, title=title, declared=declared)
    article = CleanedArticle(url=url, title=title, author=None, published=None,
                             language=guess.language,
                             paragraphs=tuple(Paragraph(p) for p in text.split("\n\n")),
                             declared_language=declared, language_confidence=guess.confidence)
    return processed_page(article, config.dedup)


def _result(page: StoredPage, done: ProcessedPage | ExtractError) -> PageResult:
    link = DiscoveredLink(url=page.url, source=page.source, updated=page.feed_updated,
                          language=page.language_hint)
    fetched = FetchedPage(url=page.url, final_url=page.final_url, status=200,
                          content_type="text/html", body=page.html,
                          fetched_at=page.fetched_at, charset=page.charset)
    if isinstance(done, ExtractError):
        return PageResult(PageTask(link, page.url), fetched, error=done)
    return PageResult(PageTask(link, page.url), fetched, done)
