"""Other stories' headlines listed below the article, found by their links.

Below an article, publishers list other stories (related, latest, more from
the author), often after their labelled box was pruned or with no label at
all. Each item is a headline that reads like a heading of the article, so no
wording rule can tell it apart; its markup can: the whole block is the text of
one link to another page. :func:`split_trailing_links` drops runs of such
blocks after the body's last prose paragraph, recorded as ``related``.

Pure: the link texts are read from the pruned page by :func:`link_texts` (trafilatura
extracts from a copy of it), and only for a page whose blocks after the body could be
such a list (about a quarter of news pages).

Example::

    >>> from lxml.html import fromstring
    >>> sorted(link_texts(fromstring("<p><a href='/b'>Other  story</a> <a href='#s'>Jump</a></p>")))
    ['Other story']
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree
from lxml.html import HtmlElement

from ingest.types import Paragraph, Removal

_LINKS = etree.XPath("//a[@href and not(starts-with(normalize-space(@href), '#'))]")
TEASER_RUN = 2  # consecutive whole-link blocks that make a list of other stories
TEASER_WORDS = 2  # words a teaser has at least: single linked words are tags or terms
_PROSE_WORDS = 20
_SENTENCE_END = (".", "!", "?", "…", '"', "”", "»", ")")
_TEASER_KINDS = frozenset({"p", "head", "list"})


def link_texts(tree: HtmlElement) -> frozenset[str]:
    """The visible text of every link to another page (in-page ``#`` anchors aside):
    a table of contents links within the page and is the article's own."""
    return frozenset(t for t in (_squash(a.text_content()) for a in _LINKS(tree)) if t)


def split_trailing_links(
    paragraphs: tuple[Paragraph, ...], links: Callable[[], frozenset[str]]
) -> tuple[tuple[Paragraph, ...], tuple[Removal, ...]]:
    """Drop runs of whole-link blocks after the body's last prose paragraph.

    Inside the body such blocks stay (a listicle's linked headings, a list of
    sources), as does a lone link after it ("Source: ...") or a run of single
    linked words (terms, tags: judged elsewhere). ``links`` gives the page's link
    texts (:func:`link_texts`); it is only called when the blocks after the body
    hold a run that could be teasers (on most pages they do not).

    >>> body = Paragraph("The court said on Tuesday that the appeal had been rejected "
    ...                  "because it was filed long after the legal deadline had passed.")
    >>> teasers = (Paragraph("Five ways to save", "head"), Paragraph("Best phones", "list"))
    >>> kept, gone = split_trailing_links((body, *teasers), lambda: frozenset({
    ...                                   "Five ways to save", "Best phones"}))
    >>> kept == (body,), [r.rule for r in gone]
    (True, ['related', 'related'])
    """
    start = _last_prose(paragraphs) + 1
    if not _runs(paragraphs, start, _may_be_teaser):
        return paragraphs, ()
    known = links()
    drop = _runs(paragraphs, start, lambda p: _may_be_teaser(p) and p.text in known)
    if not drop or len(drop) == len(paragraphs):
        return paragraphs, ()
    gone = frozenset(drop)
    kept = tuple(p for i, p in enumerate(paragraphs) if i not in gone)
    return kept, tuple(Removal(paragraphs[i].text, "related") for i in drop)


def _runs(paragraphs: tuple[Paragraph, ...], start: int,
          member: Callable[[Paragraph], bool]) -> list[int]:
    """Indices, from ``start`` on, of the blocks in runs of :data:`TEASER_RUN` or more
    consecutive members."""
    found: list[int] = []
    run: list[int] = []
    for i in range(start, len(paragraphs) + 1):
        if i < len(paragraphs) and member(paragraphs[i]):
            run.append(i)
            continue
        if len(run) >= TEASER_RUN:
            found.extend(run)
        run = []
    return found


def _last_prose(paragraphs: tuple[Paragraph, ...]) -> int:
    """Index of the last block that reads as a prose paragraph (long, ends a sentence)."""
    for i in range(len(paragraphs) - 1, -1, -1):
        text = paragraphs[i].text
        if len(text.split()) >= _PROSE_WORDS and text.rstrip().endswith(_SENTENCE_END):
            return i
    return -1


def _may_be_teaser(paragraph: Paragraph) -> bool:
    """A block that is a teaser if it is also the whole text of a link."""
    return paragraph.kind in _TEASER_KINDS and len(paragraph.text.split()) >= TEASER_WORDS


def _squash(text: str) -> str:
    return " ".join(text.split())
