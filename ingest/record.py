"""The single writer: turns each processed page into exactly one stored row.

Called by the pipeline in discovery order. For each page it applies the
topic filter, then the dedup tiers (:func:`ingest.decide.decide`), then one
store transaction, and counts and logs the outcome. Its invariant, which
downstream tools rely on: every page fetched, extracted and kept by the
topic filter ends up in exactly one of ``articles.url`` or ``duplicates.url``::

    recorder = Recorder(store, index, topic, counters, fetch_log)
    recorder.commit(result)        # -> "new", "duplicate", "off_topic", ...
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ingest.decide import decide
from ingest.dedup import NearDuplicateIndex
from ingest.errors import NewsdedupError, StoreError
from ingest.logs import event
from ingest.models import DedupDecision, FetchedPage, StageCounters
from ingest.process import ProcessedPage
from ingest.topic import TopicFilter
from ingest.urls import canonical_url, declared_canonical
from store.db import Store, utcnow
from store.records import NewArticle, NewDuplicate, RawPage

if TYPE_CHECKING:
    from ingest.pipeline import PageResult, PageTask

log = logging.getLogger("newsdedup.record")

# Failures that will not heal by themselves: remembered so the page is not refetched
# until its source says it changed.
REMEMBERED = frozenset({"status_404", "status_410", "content_type", "no_article"})

FetchLogRow = tuple[str, str | None, str, str | None, str]


class Recorder:
    def __init__(self, store: Store, index: NearDuplicateIndex, topic: TopicFilter,
                 counters: StageCounters, fetch_log: list[FetchLogRow]) -> None:
        self.store = store
        self.index = index
        self.topic = topic
        self.counters = counters
        self.fetch_log = fetch_log

    def commit(self, result: PageResult) -> str:
        """Store one page's result; returns the outcome label it was counted under."""
        try:
            outcome, reason = self._commit(result)
        except StoreError as exc:
            outcome, reason = "failed", exc.reason
            event(log, "store_failed", level=logging.ERROR, url=result.task.url, error=str(exc))
        self.counters.add("page", outcome if outcome != "failed" else f"failed_{reason}")
        self.fetch_log.append((result.task.url, result.task.link.source, outcome, reason,
                               utcnow()))
        level = logging.WARNING if outcome == "failed" else logging.INFO
        event(log, "page", level=level, url=result.task.url, source=result.task.link.source,
              outcome=outcome, reason=reason)
        return outcome

    def _commit(self, result: PageResult) -> tuple[str, str | None]:
        task = result.task
        if result.error is not None:
            return self._failed(task, result.error)
        assert result.processed is not None and result.page is not None
        again = self.store.known_url(task.url)
        if again is not None and task.known is None:
            return "known", again.kind
        if not self.topic.matches(result.processed.article.title, result.processed.article.text):
            self.store.add_skipped(task.url, task.link.source, "off_topic", task.link.updated)
            return "skipped", "off_topic"
        if task.known is not None and task.known.article_id is not None and \
                task.known.kind in ("article", "alias"):
            return self._update(task, task.known.article_id, result.page, result.processed)
        return self._store(task, result.page, result.processed)

    def _failed(self, task: PageTask, error: NewsdedupError) -> tuple[str, str]:
        if error.reason in REMEMBERED and task.known is None:
            self.store.add_skipped(task.url, task.link.source, error.reason, task.link.updated)
        event(log, "page_error", level=logging.WARNING, url=error.url or task.url,
              reason=error.reason, error=str(error))
        return "failed", error.reason

    def _store(self, task: PageTask, page: FetchedPage,
               done: ProcessedPage) -> tuple[str, str | None]:
        canonical = self._canonical(task, page, done)
        fp = done.fingerprint
        decision = decide(
            url_match=self.store.article_for_url(canonical),
            hash_match=self.store.article_for_hash(fp.content_hash, fp.language),
            near=lambda: self.index.find(fp))
        raw = _raw(task, page)
        if decision.is_duplicate:
            self._duplicate(task, page, done, decision, raw)
            return "duplicate", decision.method
        article_id = self.store.add_article(NewArticle(
            url=canonical, source=task.link.source, article=done.article, fingerprint=fp,
            page=raw))
        self.index.add(article_id, fp)
        return "new", None

    def _duplicate(self, task: PageTask, page: FetchedPage, done: ProcessedPage,
                   decision: DedupDecision, raw: RawPage) -> None:
        assert decision.duplicate_of is not None
        self.store.add_duplicate(NewDuplicate(
            url=task.url, source=task.link.source, article_id=decision.duplicate_of,
            method=decision.method, similarity=decision.similarity,
            fetched_at=page.fetched_at, article=done.article, page=raw))

    def _update(self, task: PageTask, article_id: int, page: FetchedPage,
                done: ProcessedPage) -> tuple[str, str | None]:
        changed = self.store.update_article(article_id, done.article, done.fingerprint,
                                            _raw(task, page))
        if changed:
            self.index.add(article_id, done.fingerprint)
        return ("updated", None) if changed else ("unchanged", None)

    @staticmethod
    def _canonical(task: PageTask, page: FetchedPage, done: ProcessedPage) -> str:
        try:
            return declared_canonical(page.final_url, done.article.canonical_url)
        except ValueError:
            return canonical_url(task.url)


def _raw(task: PageTask, page: FetchedPage) -> RawPage:
    return RawPage(url=task.url, final_url=page.final_url, source=task.link.source,
                   html=page.body, fetched_at=page.fetched_at, charset=page.charset,
                   feed_updated=task.link.updated)
