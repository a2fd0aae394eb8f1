"""The single writer: turns each processed page into exactly one stored row.

Called by the pipeline in discovery order. For each page it applies the
topic filter, then the dedup tiers (:func:`ingest.dedup.decide.decide`), then one
store transaction, and counts and logs the outcome. Its invariant, which
downstream tools rely on: every page fetched, extracted and kept by the
topic filter ends up in exactly one of ``articles.url`` or ``duplicates.url``::

    recorder = Recorder.from_config(config, store, index, counters, fetch_log)
    recorder.commit(result)        # -> "new", "duplicate", "off_topic", ...
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from ingest.clean.article import is_learnable_key, paragraph_key
from ingest.clean.language import first_declared
from ingest.config import Config, DedupSettings
from ingest.dedup.decide import decide
from ingest.dedup.index import Fingerprint, NearDuplicateIndex, fingerprint
from ingest.errors import NewsdedupError, StoreError
from ingest.logs import event
from ingest.pipeline.process import ProcessedPage
from ingest.pipeline.topic import TopicFilter
from ingest.types import (
    DedupDecision,
    FetchedPage,
    NewArticle,
    NewDuplicate,
    RawPage,
    Removal,
    StageCounters,
)
from ingest.urls import canonical_url, declared_canonical, host_key
from store.db import Store
from store.reviews import review_exclusions, review_merge_target
from store.sqlvalues import utcnow

if TYPE_CHECKING:
    from ingest.pipeline.cycle import PageResult, PageTask

log = logging.getLogger("newsdedup.record")

# Failures that will not heal by themselves: remembered so the page is not refetched
# until its source says it changed.
REMEMBERED = frozenset({"status_404", "status_410", "content_type", "no_article"})

FetchLogRow = tuple[str, str | None, str, str | None, str]


class Recorder:
    def __init__(self, store: Store, index: NearDuplicateIndex, topic: TopicFilter,
                 counters: StageCounters, fetch_log: list[FetchLogRow], *,
                 dedup: DedupSettings, template_min_pages: int) -> None:
        self.store = store
        self.index = index
        self.topic = topic
        self.counters = counters
        self.fetch_log = fetch_log
        self.dedup = dedup
        self.template_min_pages = template_min_pages
        self._templates: dict[str, frozenset[str]] = {}

    @classmethod
    def from_config(cls, config: Config, store: Store, index: NearDuplicateIndex,
                    counters: StageCounters, fetch_log: list[FetchLogRow]) -> Recorder:
        """The recorder a crawl cycle or a ``reprocess`` uses under ``config``."""
        return cls(store, index, TopicFilter(config.topic.all_of, config.topic.languages),
                   counters, fetch_log,
                   dedup=config.dedup, template_min_pages=config.clean.template_min_pages)

    def template(self, site: str) -> frozenset[str]:
        """The site's learned template keys; cached, as only this writer adds to them."""
        if site not in self._templates:
            self._templates[site] = self.store.site_template(site, self.template_min_pages)
        return self._templates[site]

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
            if again.kind == "variant" and again.article_id is not None:
                decision = DedupDecision("url", again.article_id, 1.0)
                self._duplicate(task, result.page, result.processed, decision,
                                _raw(task, result.page))
                return "duplicate", "url"
            return "known", again.kind
        article = result.processed.article
        off = self.topic.verdict(article.title, article.text, article.language)
        if off is not None:
            self.store.add_skipped(task.url, task.link.source, off, task.link.updated)
            return "skipped", off
        if task.known is not None and task.known.article_id is not None and \
                task.known.kind in ("article", "alias"):
            return self._update(task, task.known.article_id, result.page, result.processed)
        return self._store(task, result.page, result.processed)

    def record_variant(self, task: PageTask, article_id: int) -> None:
        """Another spelling of a stored page: a ``url`` duplicate, without fetching it."""
        self.store.add_duplicate(NewDuplicate(
            url=task.url, source=task.link.source, article_id=article_id, method="url",
            similarity=1.0, fetched_at=utcnow()))
        self.counters.add("page", "duplicate")
        self.fetch_log.append((task.url, task.link.source, "duplicate", "url_variant",
                               utcnow()))
        event(log, "page", url=task.url, source=task.link.source, outcome="duplicate",
              reason="url_variant")

    def _failed(self, task: PageTask, error: NewsdedupError) -> tuple[str, str]:
        if error.reason in REMEMBERED and (task.known is None or task.known.kind == "skipped"):
            self.store.add_skipped(task.url, task.link.source, error.reason, task.link.updated)
        event(log, "page_error", level=logging.WARNING, url=error.url or task.url,
              reason=error.reason, error=str(error))
        return "failed", error.reason

    def _store(self, task: PageTask, page: FetchedPage,
               done: ProcessedPage) -> tuple[str, str | None]:
        done = self._current_template(host_key(task.url), done)
        canonical = self._canonical(task, page, done)
        fp = done.fingerprint
        decision = self._decide(task.url, canonical, fp)
        raw = _raw(task, page)
        if decision.is_duplicate:
            self._duplicate(task, page, done, decision, raw)
            return "duplicate", decision.method
        site = host_key(task.url)
        learn = _learnable(done)
        article_id = self.store.add_article(NewArticle(
            url=canonical, source=task.link.source, article=done.article, fingerprint=fp,
            page=raw, site=site, learn=learn))
        self.index.add(article_id, fp)
        crossed = self.store.newly_template(site, [k for k, _ in learn], self.template_min_pages)
        if crossed:
            self._templates[site] = self.template(site) | crossed
            self._purge_template(site, crossed)
        return "new", None

    def _current_template(self, site: str, done: ProcessedPage) -> ProcessedPage:
        """Apply template learned while this page was in flight (decided at commit)."""
        return apply_template(done, self.template(site), self.dedup)

    def _purge_template(self, site: str, keys: frozenset[str]) -> None:
        """A paragraph just became known template: clean the site's earlier records."""
        for article_id, text, language in self.store.site_articles(site, keys):
            plan = strip_template(text, keys)
            if plan is None:
                continue
            kept, removed = plan
            fp = fingerprint(kept, language, self.dedup)
            self.store.rewrite_article(article_id, kept, removed, fp)
            self.index.add(article_id, fp)
            self.counters.add("learn", "records_cleaned")
        event(log, "template_learned", site=site, paragraphs=len(keys))

    def _decide(self, url: str, canonical: str, fp: Fingerprint) -> DedupDecision:
        """The tiers, after the editors: a merge they made stands, a split pair stays apart."""
        forced = review_merge_target(self.store, url, canonical)
        if forced is not None:
            return DedupDecision("review", forced[0], forced[1])
        excluded = review_exclusions(self.store, url, canonical)
        url_match = self.store.article_for_url(canonical)
        hash_match = self.store.article_for_hash(fp.content_hash)
        return decide(url_match=None if url_match in excluded else url_match,
                      hash_match=None if hash_match in excluded else hash_match,
                      near=lambda: self.index.find(fp, exclude=excluded))

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


def _learnable(done: ProcessedPage) -> tuple[tuple[str, str], ...]:
    """The record's paragraphs that count for per-site learning, one per key."""
    seen: dict[str, str] = {}
    for paragraph, key in zip(done.article.paragraphs, done.keys, strict=True):
        if is_learnable_key(key):
            seen.setdefault(key, paragraph.text)
    return tuple(seen.items())


def apply_template(done: ProcessedPage, template: frozenset[str],
                   dedup: DedupSettings) -> ProcessedPage:
    """``done`` without its paragraphs whose key is ``template``, each one recorded as
    a ``template`` removal; ``done`` itself when none or all of them are (a page that
    is all template is the template's own page, as in :func:`strip_template`).

    >>> from ingest.types import CleanedArticle, Paragraph
    >>> from ingest.pipeline.process import processed_page
    >>> page = processed_page(CleanedArticle("u", None, None, None, "en", (
    ...     Paragraph("A story."), Paragraph("Subscribe to our daily letter now"))),
    ...     DedupSettings())
    >>> out = apply_template(page, frozenset({page.keys[1]}), DedupSettings())
    >>> out.article.text, out.keys == page.keys[:1], out.article.removed[0].rule
    ('A story.', True, 'template')
    """
    if template.isdisjoint(done.keys) or template.issuperset(done.keys):
        return done
    article = done.article
    pairs = tuple(zip(article.paragraphs, done.keys, strict=True))
    kept = tuple((p, key) for p, key in pairs if key not in template)
    removed = tuple(Removal(p.text, "template") for p, key in pairs if key in template)
    cleaned = replace(article, paragraphs=tuple(p for p, _ in kept),
                      removed=article.removed + removed)
    return ProcessedPage(cleaned, fingerprint(cleaned.text, cleaned.language, dedup),
                         tuple(key for _, key in kept))


def strip_template(text: str, keys: frozenset[str]) -> tuple[str, list[Removal]] | None:
    """``text`` without its template paragraphs, or None when nothing (or all) would go.

    A record is never emptied: if every paragraph were template, the page is
    the template's own page and is left alone.

    >>> strip_template("Story.\\n\\nSubscribe to our daily letter now", frozenset(
    ...     {paragraph_key("Subscribe to our daily letter now")}))
    ('Story.', [Removal(text='Subscribe to our daily letter now', rule='template')])
    """
    paragraphs = text.split("\n\n")
    dropped = [paragraph_key(p) in keys for p in paragraphs]
    if not any(dropped) or all(dropped):
        return None
    kept = [p for p, drop in zip(paragraphs, dropped, strict=True) if not drop]
    removed = [Removal(p, "template") for p, drop in zip(paragraphs, dropped, strict=True) if drop]
    return "\n\n".join(kept), removed


def _raw(task: PageTask, page: FetchedPage) -> RawPage:
    return RawPage(url=task.url, final_url=page.final_url, source=task.link.source,
                   html=page.body, fetched_at=page.fetched_at, charset=page.charset,
                   feed_updated=task.link.updated,
                   language_hint=first_declared(page.content_language, task.link.language))
