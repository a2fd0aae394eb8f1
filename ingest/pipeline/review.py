"""Editors' corrections, decided here and written by the store (``store.reviews``).

A split needs what only the pipeline knows how to make: the page's text and
metadata re-extracted from its raw HTML, a signature, a canonical URL. The
store must not run extraction (it would import the stages it serves), so
those are computed here, outside the store's transaction (extraction is
slow), and written there in one transaction. A merge needs the two
signatures' estimated Jaccard, measured here::

    with Store.open("news.db") as store:
        split(store, 17, settings=config.dedup, note="a follow-up, not a copy")
        merge(store, 42, into=7, note="same agency dispatch, rewritten lede")
"""

from __future__ import annotations

from dataclasses import replace

from ingest.clean.language import identify
from ingest.config import DedupSettings
from ingest.dedup.minhash import estimate_jaccard, fingerprint
from ingest.errors import ExtractError, ReviewRefused
from ingest.pipeline.process import clean_page
from ingest.types import CleanedArticle, Fingerprint, Paragraph
from ingest.urls import declared_canonical
from store.backends import AnyStore
from store.reviews import ReviewResult, SplitSource, apply_merge, apply_split, split_source


def split(store: AnyStore, duplicate_id: int, *, settings: DedupSettings,
          note: str | None = None, editor: str | None = None) -> ReviewResult:
    """Make duplicate ``duplicate_id`` a record of its own (it was not a copy).

    Its text and title are the ones stored with the duplicate, or, when it has
    none, re-extracted from its raw page; it gets a signature (computed with
    ``settings``, the configured dedup settings), its URL aliases and page.
    """
    source = split_source(store, duplicate_id)
    article = split_content(source)
    fp = fingerprint(article.text, article.language, settings)
    return apply_split(store, source, article, fp, _canonical(source, article), note, editor)


def merge(store: AnyStore, article_id: int, *, into: int, note: str | None = None,
          editor: str | None = None) -> ReviewResult:
    """Fold record ``article_id`` into record ``into``; the duplicate row's similarity is
    the two signatures' estimated Jaccard (1.0 for the same text)."""
    if article_id == into:
        raise ReviewRefused(f"cannot merge record {article_id} into itself")
    similarity = pair_similarity(store.fingerprint(article_id), store.fingerprint(into))
    return apply_merge(store, article_id, into=into, similarity=similarity, note=note,
                       editor=editor)


def pair_similarity(a: Fingerprint | None, b: Fingerprint | None) -> float:
    """Estimated Jaccard of two stored signatures; 0.0 when one is missing or empty.

    >>> from ingest.config import DedupSettings
    >>> fp = fingerprint("one two three four five six seven", "en", DedupSettings())
    >>> pair_similarity(fp, fp), pair_similarity(fp, None)
    (1.0, 0.0)
    """
    if a is None or b is None:
        return 0.0
    if a.content_hash == b.content_hash:
        return 1.0
    if a.n_shingles <= 0 or b.n_shingles <= 0:
        return 0.0
    return estimate_jaccard(a.minhash, b.minhash)


def split_content(source: SplitSource) -> CleanedArticle:
    """The duplicate's stored text, with the metadata a fresh extraction finds."""
    dup = source.duplicate
    if dup.language_confidence is None and dup.text:  # stored before migration 0009:
        guess = identify(dup.text, title=dup.title,   # its language was the page's claim
                         declared=dup.declared_language or dup.language)
        dup = replace(dup, language=guess.language, declared_language=guess.declared,
                      language_confidence=guess.confidence)
    extracted = _reextract(dup.url, source)
    if not dup.text:
        if extracted is None:
            raise ReviewRefused(f"duplicate {dup.id} has no stored text and its raw page "
                                "yields no article", url=dup.url)
        return extracted
    paragraphs = tuple(Paragraph(p) for p in dup.text.split("\n\n"))
    if extracted is None:
        return CleanedArticle(url=dup.url, title=dup.title, author=None, published=None,
                              language=dup.language, paragraphs=paragraphs,
                              declared_language=dup.declared_language,
                              language_confidence=dup.language_confidence)
    removed = extracted.removed if extracted.text == dup.text else ()
    return replace(extracted, title=dup.title or extracted.title, paragraphs=paragraphs,
                   language=dup.language or extracted.language,
                   declared_language=dup.declared_language or extracted.declared_language,
                   language_confidence=(dup.language_confidence
                                        if dup.language is not None
                                        else extracted.language_confidence),
                   removed=removed)


def _reextract(url: str, source: SplitSource) -> CleanedArticle | None:
    page = source.page
    if page is None:
        return None
    try:
        return clean_page(page.html, page.final_url or url, page.charset)
    except ExtractError:
        return None


def _canonical(source: SplitSource, article: CleanedArticle) -> str:
    dup, page = source.duplicate, source.page
    try:
        return declared_canonical(page.final_url if page else dup.url, article.canonical_url)
    except ValueError:
        return dup.url
