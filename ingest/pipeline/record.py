"""The single writer: turns each processed page into exactly one stored row.

Called by the pipeline in discovery order. For each page it reads what the
store knows of it once (:meth:`Recorder.facts`: the editors' reviews that
concern it, by key; the URL and exact-text matches), asks the pure rules of
:mod:`ingest.pipeline.plan` what to write, and applies that plan in one
store transaction, then counts and logs the outcome. Its invariant, which
downstream tools rely on: every page fetched, extracted and kept by the
topic filter ends up in exactly one of ``articles.url`` or ``duplicates.url``::

    recorder = Recorder.from_config(config, store, index, counters, fetch_log)
    recorder.commit(result)        # -> "new", "duplicate", "off_topic", ...
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from ingest.clean.article import paragraph_key
from ingest.clean.language import first_declared
from ingest.config import Config, DedupSettings
from ingest.dedup.index import DedupIndex
from ingest.dedup.minhash import fingerprint
from ingest.errors import StoreError
from ingest.logs import event
from ingest.pipeline.plan import (
    AddArticle,
    AddDuplicate,
    AlreadyKnown,
    Facts,
    Failed,
    PageResult,
    Plan,
    Skip,
    Update,
    apply_template,
    keeps_stored,
    page_canonical,
    plan_failure,
    plan_filter,
    plan_known,
    plan_new,
    plan_update,
)
from ingest.pipeline.recheck import first_step
from ingest.pipeline.topic import TopicFilter
from ingest.types import (
    FetchedPage,
    Fingerprint,
    NewArticle,
    NewDuplicate,
    PageTask,
    ProcessedPage,
    RawPage,
    Removal,
    StageCounters,
)
from ingest.urls import host_key, identity_key
from store.protocol import Storage
from store.sqlvalues import utcnow

log = logging.getLogger("newsdedup.record")

FetchLogRow = tuple[str, str | None, str, str | None, str]


class Recorder:
    def __init__(self, store: Storage, index: DedupIndex, topic: TopicFilter,
                 counters: StageCounters, fetch_log: list[FetchLogRow], *,
                 dedup: DedupSettings, template_min_pages: int,
                 recheck_hours: tuple[float, ...] = (),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.recheck_hours = recheck_hours
        self.clock = clock
        self.index = index
        self.topic = topic
        self.counters = counters
        self.fetch_log = fetch_log
        self.dedup = dedup
        self.template_min_pages = template_min_pages
        self._templates: dict[str, frozenset[str]] = {}

    @classmethod
    def from_config(cls, config: Config, store: Storage, index: DedupIndex,
                    counters: StageCounters, fetch_log: list[FetchLogRow],
                    topic: TopicFilter | None = None,
                    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                    rechecks: bool = False) -> Recorder:
        """The recorder a crawl cycle or a ``reprocess`` uses under ``config`` (``topic``:
        the filter already built from it, if any). A crawl asks for ``rechecks``: its new
        records get a re-check schedule from ``clock``'s now; ``reprocess`` replays old
        pages, whose schedules are long past."""
        topic = topic or TopicFilter(config.topic.all_of, config.topic.languages)
        return cls(store, index, topic, counters, fetch_log,
                   dedup=config.dedup, template_min_pages=config.clean.template_min_pages,
                   recheck_hours=config.recheck.after_hours if rechecks else (), clock=clock)

    def template(self, site: str, *, fresh: bool = False) -> frozenset[str]:
        """The site's learned template keys; cached, as only this writer adds to them
        (``fresh``: read again, as other workers on a shared store add to them too)."""
        if fresh or site not in self._templates:
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
            return self._apply(plan_failure(task, result.error), result)
        assert result.processed is not None and result.page is not None
        keys = decision_keys(task.url, host_key(task.url), result.processed.fingerprint)
        with self.store.decision(keys, task.url):
            return self._decide(result)

    def _decide(self, result: PageResult) -> tuple[str, str | None]:
        """Read, decide and write one processed page (inside its decision's locks)."""
        task = result.task
        assert result.processed is not None and result.page is not None
        # A URL known at discovery was read then; one that was not may have been
        # stored since (as another page's canonical URL or alias): ask once.
        again = self.store.known_url(task.url) if task.known is None else None
        plan = plan_known(task, again) or plan_filter(task, result.processed, self.topic) \
            or plan_update(task)
        if plan is None:
            done = self.current(result.processed, host_key(task.url))
            canonical = page_canonical(task, result.page, done)
            plan = plan_new(task, done, canonical, self.facts(task.url, canonical, done),
                            lambda fp, excluded: self.index.find(fp, exclude=excluded))
            result = PageResult(task, result.page, done)
        return self._apply(plan, result)

    def current(self, done: ProcessedPage, site: str) -> ProcessedPage:
        """``done`` under the site's template now (learned while the page was in flight,
        here or, on a shared store, by another worker)."""
        return apply_template(done, self.template(site, fresh=self.store.shared), self.dedup)

    def facts(self, url: str, canonical: str, done: ProcessedPage) -> Facts:
        """What the store knows that the tiers need: reviews by key, the URL and exact
        text matches (the near tier asks the in-memory index)."""
        merge_target, excluded = self.store.review_constraints(url, canonical)
        if merge_target is not None:
            return Facts(merge_target, frozenset(), None, None)
        return Facts(None, excluded, self.store.article_for_url(canonical),
                     self.store.article_for_hash(done.fingerprint.content_hash))

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

    # -- the one place that writes ----------------------------------------------------

    def _apply(self, plan: Plan, result: PageResult) -> tuple[str, str | None]:
        task = plan.task
        if isinstance(plan, Failed):
            if plan.remember:
                self.store.add_skipped(task.url, task.link.source, plan.error.reason,
                                       task.link.updated)
            event(log, "page_error", level=logging.WARNING, url=plan.error.url or task.url,
                  reason=plan.error.reason, error=str(plan.error))
            return "failed", plan.error.reason
        if isinstance(plan, AlreadyKnown):
            return "known", plan.kind
        if isinstance(plan, Skip):
            self.store.add_skipped(task.url, task.link.source, plan.reason, task.link.updated)
            return "skipped", plan.reason
        assert result.processed is not None and result.page is not None
        if isinstance(plan, Update):
            return self._update(task, plan.article_id, result.page, result.processed)
        if isinstance(plan, AddDuplicate):
            self.store.add_duplicate(NewDuplicate(
                url=task.url, source=task.link.source, article_id=plan.duplicate_of,
                method=plan.method, similarity=plan.similarity,
                fetched_at=result.page.fetched_at, article=result.processed.article,
                page=_raw(task, result.page)))
            return "duplicate", plan.method
        return self._add(plan, result.page, result.processed)

    def _add(self, plan: AddArticle, page: FetchedPage, done: ProcessedPage
             ) -> tuple[str, str | None]:
        task, site, fp = plan.task, plan.site, done.fingerprint
        now = self.clock()
        first = first_step(now, self.recheck_hours)
        article_id = self.store.add_article(NewArticle(
            url=plan.canonical, source=task.link.source, article=done.article, fingerprint=fp,
            page=_raw(task, page), site=site, learn=plan.learn,
            recheck=(now.isoformat(timespec="seconds"), *first) if first else None))
        self.index.add(article_id, fp)
        crossed = self.store.newly_template(site, [k for k, _ in plan.learn],
                                            self.template_min_pages)
        if crossed:
            self._templates[site] = self.template(site) | crossed
            self._purge_template(site, crossed)
        return "new", None

    def _purge_template(self, site: str, keys: frozenset[str]) -> None:
        """A paragraph just became known template: clean the site's earlier records."""
        for article_id, text, language in self.store.site_articles(site, keys):
            stripped = strip_template(text, keys)
            if stripped is None:
                continue
            kept, removed = stripped
            fp = fingerprint(kept, language, self.dedup)
            self.store.rewrite_article(article_id, kept, removed, fp)
            self.index.add(article_id, fp)
            self.counters.add("learn", "records_cleaned")
        event(log, "template_learned", site=site, paragraphs=len(keys))

    def _update(self, task: PageTask, article_id: int, page: FetchedPage,
                done: ProcessedPage) -> tuple[str, str | None]:
        stored = self.store.article_access(article_id)
        if stored is not None and keeps_stored(*stored, done.article):
            return "unchanged", "paywalled_teaser"
        changed = self.store.update_article(article_id, done.article, done.fingerprint,
                                            _raw(task, page))
        if changed:
            self.index.add(article_id, done.fingerprint)
        return ("updated", None) if changed else ("unchanged", None)


def decision_keys(url: str, site: str, fp: Fingerprint) -> list[int]:
    """The lock keys of a page's decision on a shared store (signed 64-bit integers):
    its LSH band keys (any near copy shares one), its text hash (exact copies), its
    URL's identity key (the same page under two spellings) and its site (per-site
    learning counts its records one at a time).

    >>> from ingest.config import DedupSettings
    >>> fp = fingerprint("one two three four five six seven", None, DedupSettings())
    >>> keys = decision_keys("https://a.example/x", "a.example", fp)
    >>> len(keys) == len(fp.bands) // 8 + 3, keys == decision_keys("https://a.example/x",
    ...                                                            "a.example", fp)
    (True, True)
    """
    bands = [int.from_bytes(fp.bands[i:i + 8], "little", signed=True)
             for i in range(0, len(fp.bands), 8)]
    return [*bands, *(_key64(text) for text in (f"hash:{fp.content_hash}",
                                                f"url:{identity_key(url)}", f"site:{site}"))]


def _key64(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


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
                   language_hint=first_declared(page.content_language, task.link.language),
                   etag=page.etag, last_modified=page.last_modified)
