"""Cleaning: the article body, its boilerplate removed, every line exactly once.

trafilatura leaves what publishers put *inside* the article container: share
bars, photo credits, ads, newsletter calls, "read more" lines, bylines and
author boxes, disclaimers, cookie text, and sometimes the whole body twice.
:func:`clean_article` drops those blocks and records each one as a
:class:`Removal` with the rule that dropped it, so an editor can audit it.

Order of the passes, each pure:

1. ``template``: paragraphs that per-site learning found on many pages.
2. ``empty``: blocks with no letter or digit.
3. ``repeat``/``title``: text already present on the page (n-gram containment,
   see :mod:`ingest.clean.repeats`) and lines that repeat the title.
4. ``related``: runs of link lines built from one template ("Best X in Boston",
   "Best X in Denver", ...).
5. line rules (:mod:`ingest.clean.rules`), with position and known authors:
   ``share_widget``, ``photo_credit``, ``ad``, ``newsletter``, ``related``,
   ``navigation``, ``byline``, ``author_bio``, ``disclaimer``, ``cookie``;
   a line that is only an interface label (:mod:`ingest.clean.labels`, in
   several languages) goes under that label's rule.
6. ``widget_list``: after the last prose paragraph, the short lines listed
   under a widget's label ("Related posts", "Newsletters", "Follow us"):
   the headlines, links and menu items the label introduces.

Tables and code are judged by the repeat pass only: their lines are data.

The clean text's language is identified last (:mod:`ingest.clean.language`): the
page's claim, or else the HTTP header's or the feed's (``declared``), is
kept beside it and breaks ties only on texts too short to judge.

A byline's name moves into ``author`` when the article has none. If the rules
would leave nothing, the line-rule verdicts are undone: losing the article is
worse than keeping a widget.

Example::

    >>> from ingest.types import ExtractedArticle, Paragraph
    >>> body = "Le tribunal a examiné la plainte déposée par Elon Musk contre OpenAI."
    >>> art = ExtractedArticle(url="https://a.example/x", title="T", author=None,
    ...     published=None, declared_language="en",
    ...     paragraphs=(Paragraph(body), Paragraph("Partager sur Facebook"),
    ...                 Paragraph("Par Marie Dupont")))
    >>> out = clean_article(art)
    >>> out.text == body, out.author, [r.rule for r in out.removed]
    (True, 'Marie Dupont', ['share_widget', 'byline'])
    >>> out.language, out.declared_language          # the text's, and the page's claim
    ('fr', 'en')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ingest.clean.language import first_declared, identify
from ingest.clean.lexicon import word_count, words
from ingest.clean.repeats import find_repeats
from ingest.clean.rules import Line, byline_name, first_rule, looks_like_prose, templated_runs
from ingest.types import CleanedArticle, ExtractedArticle, Paragraph, Removal

EDGE_HEAD = 3  # blocks from the start that count as the edge of the body
EDGE_TAIL = 4  # blocks from the end
_TEXT_RULES_KINDS = frozenset({"p", "head", "list", "quote"})
_LEARNABLE_WORDS = 4
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bet\b|\|)\s*")


def paragraph_key(text: str) -> str:
    """Normalised form of a paragraph for per-site template counts.

    Unicode NFKC, casefolded, punctuation dropped, runs of digits replaced by
    ``#`` (so "12 comments" and "3 comments" count as one template line),
    words joined by single spaces.

    >>> paragraph_key("  Partagez  l’article : 12 COMMENTAIRES ")
    'partagez l article # commentaires'
    """
    return re.sub(r"\d+", "#", " ".join(words(unicodedata.normalize("NFKC", text))))


def is_learnable(text: str) -> bool:
    """Whether a paragraph may count towards per-site template learning.

    Short lines ("Conclusion", "Read more") recur across a site's articles as
    headings as well as widgets; they are left to the line rules. So do data
    rows ("36 | Alabama | 45.8", "$2.50 – $7.00"), whose keys fold every
    number to ``#``: only words with a letter count.

    >>> is_learnable("Read more"), is_learnable("Sign up for our daily newsletter")
    (False, True)
    >>> is_learnable("36 | Alabama | 45.8 | 12")
    False
    """
    return is_learnable_key(paragraph_key(text))


def is_learnable_key(key: str) -> bool:
    """:func:`is_learnable` of a paragraph, given its :func:`paragraph_key`."""
    found = 0
    for word in key.split():
        if any(c.isalpha() for c in word):
            found += 1
            if found == _LEARNABLE_WORDS:
                return True
    return False


def clean_article(
    article: ExtractedArticle,
    *,
    template: frozenset[str] = frozenset(),
    pre_removed: tuple[Removal, ...] = (),
    declared: str | None = None,
) -> CleanedArticle:
    """Drop in-body boilerplate and repeated text; explain every removal.

    ``declared`` is a language claimed outside the page (HTTP
    ``Content-Language``, the feed's ``<language>``), used when the page's
    markup claims none.
    """
    paragraphs = article.paragraphs
    verdicts = _base_verdicts(paragraphs, template, article.title)
    authors = _known_authors(article.author, paragraphs, verdicts, pre_removed)
    line_verdicts = _line_verdicts(paragraphs, verdicts, authors)
    if not _keeps_something(paragraphs, verdicts | line_verdicts):
        line_verdicts = {}
    verdicts |= line_verdicts
    verdicts |= widget_lists(paragraphs, verdicts)
    if not _keeps_something(paragraphs, verdicts):
        verdicts = {i: r for i, r in verdicts.items() if r == "empty"}
    return _result(article, verdicts, pre_removed, authors, declared)


def _base_verdicts(
    paragraphs: Sequence[Paragraph], template: frozenset[str], title: str | None
) -> dict[int, str]:
    """Template, empty and repeated blocks: the rules that need no position."""
    verdicts: dict[int, str] = {}
    for i, p in enumerate(paragraphs):
        if not any(c.isalnum() for c in p.text):
            verdicts[i] = "empty"
        elif template and paragraph_key(p.text) in template:
            verdicts[i] = "template"
    rest = [i for i in range(len(paragraphs)) if i not in verdicts]
    found = find_repeats([paragraphs[i].text for i in rest],
                         [paragraphs[i].kind for i in rest], title)
    verdicts.update({rest[k]: rule for k, rule in found.items()})
    return verdicts


def _known_authors(
    author: str | None,
    paragraphs: Sequence[Paragraph],
    verdicts: dict[int, str],
    pre_removed: tuple[Removal, ...],
) -> tuple[str, ...]:
    """Author names from metadata, then from bylines in the body or in blocks pruned
    by their markup (an author box), in order."""
    names = [n for n in _AUTHOR_SPLIT.split(author or "") if n.strip()]
    candidates = [p.text for i, p in enumerate(paragraphs) if i not in verdicts]
    candidates += [r.text for r in pre_removed]
    for text in candidates:
        name = byline_name(Line(text))
        if name:
            names.extend(n for n in _AUTHOR_SPLIT.split(name) if n.strip())
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(name.strip().casefold(), name.strip())
    return tuple(unique.values())


def _line_verdicts(
    paragraphs: Sequence[Paragraph], verdicts: dict[int, str], authors: tuple[str, ...]
) -> dict[int, str]:
    rest = [i for i in range(len(paragraphs)) if i not in verdicts]
    texts = [paragraphs[i].text for i in rest]
    edges = edge_flags(texts)
    folded = frozenset(a.casefold() for a in authors)
    found: dict[int, str] = {rest[k]: "related" for k in templated_runs(texts)
                             if paragraphs[rest[k]].kind in _TEXT_RULES_KINDS}
    for i, edge in zip(rest, edges, strict=True):
        p = paragraphs[i]
        if p.kind not in _TEXT_RULES_KINDS or i in found:
            continue
        rule = first_rule(Line(p.text, p.kind, edge=edge, authors=folded))
        if rule is not None:
            found[i] = rule
    return found


#: Rules whose short line is the label of a list of links: what follows it belongs to it.
LIST_LABEL_RULES = frozenset({"related", "newsletter", "share_widget", "navigation"})
LIST_LABEL_WORDS = 6
LIST_ITEM_WORDS = 20


def widget_lists(paragraphs: Sequence[Paragraph], verdicts: dict[int, str]) -> dict[int, str]:
    """The short lines listed under a widget's label after the body's last prose paragraph.

    Why: a "Related posts" or "Follow us" label is caught by its wording, but the
    headlines and menu items under it are ordinary titles no rule can judge on
    their own. After the article's last prose paragraph, a label opens such a
    list, and the list runs while lines stay short and do not read as prose.
    A prose paragraph ends it; inside the body, labels ("Read more: ...") stand
    alone and nothing after them goes.

    >>> prose = Paragraph("The court said on Tuesday that the appeal had been "
    ...                   "rejected because it was filed after the deadline had passed.")
    >>> paras = [prose, Paragraph("Related posts"), Paragraph("Five ways to save"),
    ...          Paragraph("The best budget phones")]
    >>> widget_lists(paras, {1: "related"})
    {2: 'widget_list', 3: 'widget_list'}
    """
    found: dict[int, str] = {}
    listing = False
    for i in range(_last_prose(paragraphs, verdicts) + 1, len(paragraphs)):
        text = paragraphs[i].text
        if verdicts.get(i) in LIST_LABEL_RULES and word_count(text) <= LIST_LABEL_WORDS:
            listing = True
        elif i in verdicts:
            continue
        elif listing and word_count(text) <= LIST_ITEM_WORDS and not looks_like_prose(text):
            found[i] = "widget_list"
        else:
            listing = False
    return found


def _last_prose(paragraphs: Sequence[Paragraph], verdicts: dict[int, str]) -> int:
    """Index of the last kept long prose paragraph, -1 if none."""
    for i in range(len(paragraphs) - 1, -1, -1):
        text = paragraphs[i].text
        if i not in verdicts and word_count(text) >= 20 and looks_like_prose(text):
            return i
    return -1


def edge_flags(texts: Sequence[str]) -> list[bool]:
    """Which blocks sit at the edge of the body: widgets, bylines and bios live there.

    The first three and last four blocks, and anything before the first or
    after the last long prose paragraph.

    >>> prose = "Le juge a rejeté la demande de la société, qui conteste le jugement " * 3
    >>> edge_flags(["Partager"] + [prose] * 9 + ["Par Marie Dupont"])
    [True, True, True, False, False, False, False, True, True, True, True]
    """
    n = len(texts)
    prose = [i for i, t in enumerate(texts) if word_count(t) >= 20 and looks_like_prose(t)]
    first, last = (prose[0], prose[-1]) if prose else (n, -1)
    return [i < EDGE_HEAD or i >= n - EDGE_TAIL or i < first or i > last for i in range(n)]


def _keeps_something(paragraphs: Sequence[Paragraph], verdicts: dict[int, str]) -> bool:
    return any(i not in verdicts for i in range(len(paragraphs)))


def _result(
    article: ExtractedArticle,
    verdicts: dict[int, str],
    pre_removed: tuple[Removal, ...],
    authors: tuple[str, ...],
    declared: str | None,
) -> CleanedArticle:
    paragraphs = article.paragraphs
    removed = tuple(Removal(paragraphs[i].text, verdicts[i]) for i in sorted(verdicts))
    kept = tuple(p for i, p in enumerate(paragraphs) if i not in verdicts)
    claimed = first_declared(article.declared_language, declared)
    guess = identify("\n\n".join(p.text for p in kept), title=article.title, declared=claimed)
    return CleanedArticle(
        url=article.url,
        title=article.title,
        author=article.author or (authors[0] if authors else None),
        published=article.published,
        language=guess.language,
        paragraphs=kept,
        removed=pre_removed + removed,
        canonical_url=article.canonical_url,
        sitename=article.sitename,
        declared_language=claimed,
        language_confidence=guess.confidence,
    )
