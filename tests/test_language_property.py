"""Issue 12, as properties: a copy's dedup decision does not depend on what it declares
(``<html lang>``, ``og:locale``, HTTP ``Content-Language``, feed ``<language>``), on
the site it is found on or on the source that found it; its stored language is the
language of its text.

Each example runs the real single writer (:class:`ingest.pipeline.record.Recorder`) on a real
SQLite store, with pages processed by the real extraction and cleaning.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.config import DedupSettings
from ingest.dedup.index import NearDuplicateIndex
from ingest.pipeline.cycle import PageResult, PageTask
from ingest.pipeline.process import PageJob, process_page
from ingest.pipeline.record import Recorder
from ingest.pipeline.topic import TopicFilter
from ingest.types import DiscoveredLink, FetchedPage, StageCounters
from store.db import Store

STORIES = {
    "en": ("A regional court in Lisbon ordered the port authority on Wednesday to reopen "
           "the tender for its new container terminal, after two bidders showed that the "
           "scoring grid had been changed a week before the deadline.",
           "The authority said it would appeal, arguing that the change only corrected a "
           "clerical error, but the judges wrote that the new grid gave one consortium an "
           "advantage worth several million euros over the life of the concession.",
           "Dock workers' unions welcomed the ruling and asked the government to publish "
           "every document of the tender, including the minutes of the evaluation board."),
    "fr": ("Le tribunal administratif de Nantes a suspendu mercredi l'arrêté qui autorisait "
           "l'extension d'une carrière de granit, en pointant l'absence d'étude sérieuse "
           "sur les nappes phréatiques qui alimentent trois communes voisines.",
           "L'exploitant conteste cette lecture et rappelle que le projet avait reçu un avis "
           "favorable du commissaire enquêteur au terme d'une consultation de deux mois.",
           "Les riverains, réunis en association depuis quatre ans, se disent soulagés mais "
           "prudents, le jugement sur le fond n'étant pas attendu avant l'automne."),
}
TAGS = st.sampled_from([None, "en", "fr", "de", "en-US", "fr_FR", "pt-BR", "zz"])
HOSTS = st.sampled_from(["wire.example", "quotidien.example", "m.herald.example",
                         "blog.example:8080"])
SOURCES = st.sampled_from(["wire", "quotidien-rss", "herald sitemap", "aggregator"])


def _html(paragraphs: tuple[str, ...], lang: str | None, intro: str | None) -> bytes:
    attr = f" lang='{lang}'" if lang else ""
    locale = f"<meta property='og:locale' content='{lang}'>" if lang else ""
    body = "".join(f"<p>{p}</p>" for p in ((intro,) if intro else ()) + paragraphs)
    return (f"<!DOCTYPE html><html{attr}><head><title>Story</title>{locale}</head><body>"
            f"<article><h1>Story</h1>{body}</article></body></html>").encode()


def _result(url: str, source: str, html: bytes, header: str | None,
            feed: str | None) -> PageResult:
    link = DiscoveredLink(url=url, source=source, language=feed)
    page = FetchedPage(url=url, final_url=url, status=200, content_type="text/html", body=html,
                       fetched_at="2026-12-01T10:00:00+00:00", content_language=header)
    job = PageJob(url=url, body=html, declared_language=feed if header is None else header)
    return PageResult(PageTask(link, url), page, process_page(job))


def _decide_copy(language: str, copy: PageResult) -> tuple[str, str | None, tuple]:
    """Store the original, then the copy; the copy's outcome and its stored row."""
    settings_ = DedupSettings()
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "news.db") as store:
        index = NearDuplicateIndex(settings_, store.fingerprint)
        recorder = Recorder(store, index, TopicFilter(()), StageCounters(), [],
                            dedup=settings_, template_min_pages=3)
        original = _result("https://origin.example/story", "origin",
                           _html(STORIES[language], language, None), None, None)
        assert recorder.commit(original) == "new"
        outcome = recorder.commit(copy)
        row = store.conn.execute(
            "SELECT d.method, d.similarity, a.url, d.language FROM duplicates d "
            "JOIN articles a ON a.id = d.article_id WHERE d.url = ?", (copy.task.url,)
        ).fetchone()
        return outcome, None if row is None else row[3], tuple(row[:3]) if row else ()


@settings(max_examples=20, deadline=None)
@given(language=st.sampled_from(sorted(STORIES)), lang=TAGS, header=TAGS, feed=TAGS,
       host=HOSTS, source=SOURCES, intro=st.booleans())
def test_a_copys_decision_ignores_declarations_site_and_source(
        language: str, lang: str | None, header: str | None, feed: str | None, host: str,
        source: str, intro: bool) -> None:
    line = "This story was first published by our partners." if intro else None
    paragraphs = STORIES[language]
    declared = _result(f"https://{host}/copy", source, _html(paragraphs, lang, line), header,
                       feed)
    plain = _result("https://plain.example/copy", "plain", _html(paragraphs, None, line),
                    None, None)
    outcome, stored_language, decision = _decide_copy(language, declared)
    assert outcome == "duplicate"
    assert decision == _decide_copy(language, plain)[2]
    assert decision[2] == "https://origin.example/story"
    assert stored_language == language  # the text's language, whatever was claimed
    assert declared.processed is not None
    assert declared.processed.article.language == language
