"""The vocabulary of walls (``walls.toml``) and the text folding it is matched on.

Kept apart from :mod:`ingest.extract.walls` so the decision reads as a decision: this
module only answers "which wall phrases, titles and markers does this text carry?".
Phrases are data (``walls.toml``, seven languages); a new language or vendor is an
edit there, never here.

Text is *folded* before matching, so one entry covers the spellings a page may use
(capitals, accents, typographic apostrophes, an ellipsis character)::

    >>> fold("Vérification…  l’accès")
    "verification... l'acces"
    >>> sorted(phrase_hits(fold("Bitte aktivieren Sie JavaScript, um fortzufahren.")))
    [('js_required', 'aktivieren sie javascript')]
    >>> title_hits("Page introuvable | Le Quotidien")["error_page"]
    'page introuvable'
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import ahocorasick

WALL_KINDS = ("bot_challenge", "consent_wall", "login_wall", "error_page", "js_required")
"""Every kind of wall, in the order a page showing several is named by."""

TITLE_EXTRA_WORDS = 3
"""A wall title of three words or more names a wall in a title segment that holds it
with at most this many other words ("Before you continue to Example", "Oops! That page
can't be found"). Shorter ones ("Connexion", "Un instant", "404") must fill their
segment, alone or together ("404 | Le Quotidien", "Erreur 404 : page introuvable").
Walls have short titles, and a headline that merely holds "un moment", "Zustimmung"
or "Accès refusé" ("Accès refusé : les migrants...") says more than that."""

# Combining marks (accents once NFKD split them off) go; typographic quotes and
# apostrophes, no-break and thin spaces become their plain forms.
_FOLD = {c: None for c in range(0x300, 0x370)} | {
    0x2018: "'", 0x2019: "'", 0x201B: "'", 0x02BC: "'", 0x00B4: "'", 0x0060: "'",
    0x201C: '"', 0x201D: '"', 0x201E: '"', 0x00AB: '"', 0x00BB: '"', 0x201A: "'",
    0x2039: "'", 0x203A: "'", 0x00A0: " ", 0x202F: " ", 0x2009: " "}
_SPACES = re.compile(r"\s+")
_NOT_WORDISH = re.compile(r"[^\w'/&-]+")
_TITLE_SPLIT = re.compile(r"\s+[|\-–—·»/]\s+|\s*\|\s*")


def fold(text: str) -> str:
    """``text`` in the form the vocabulary is written in: lower case, no accents,
    straight quotes, single spaces.

    >>> fold("  Seite NICHT gefunden\\u00a0! ")
    'seite nicht gefunden !'
    """
    decomposed = unicodedata.normalize("NFKD", text).translate(_FOLD)
    return _SPACES.sub(" ", decomposed.casefold()).strip()


def plain(text: str) -> str:
    """Folded words only, punctuation dropped (titles are compared in this form).

    >>> plain("Just a moment...")
    'just a moment'
    """
    return " ".join(_NOT_WORDISH.sub(" ", fold(text)).split())


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """``walls.toml`` read once: per kind, its titles (in :func:`plain` form), the
    markup markers (lower case), and the automaton finding every phrase in one pass."""

    titles: Mapping[str, tuple[str, ...]]
    markers: Mapping[str, tuple[str, ...]]
    decisive_markers: tuple[str, ...]
    host_labels: frozenset[str]
    body_classes: frozenset[str]
    consent_boxes: tuple[str, ...]
    phrases: ahocorasick.Automaton

    @property
    def entries(self) -> Iterable[tuple[str, str, str]]:
        """Every written entry as (kind, group, text): what the data test checks."""
        for kind, section in _data().items():
            for group, items in section.items():
                yield from ((kind, group, item) for item in items)


@cache
def _data() -> dict[str, dict[str, list[str]]]:
    text = resources.files("ingest.extract").joinpath("walls.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def vocabulary() -> Vocabulary:
    """The wall vocabulary (read and compiled once per process)."""
    data = _data()
    automaton = ahocorasick.Automaton()
    kinds_of: dict[str, set[str]] = {}
    for kind in WALL_KINDS:
        for phrase in data[kind].get("phrases", ()):
            kinds_of.setdefault(phrase, set()).add(kind)
    for phrase, kinds in kinds_of.items():
        automaton.add_word(phrase, (phrase, tuple(sorted(kinds))))
    automaton.make_automaton()
    return Vocabulary(
        titles={k: tuple(plain(t) for t in data[k].get("titles", ())) for k in WALL_KINDS},
        markers={k: tuple(data[k].get("markers", ())) for k in WALL_KINDS},
        decisive_markers=tuple(data["bot_challenge"]["decisive_markers"]),
        host_labels=frozenset(data["consent_wall"]["host_labels"]),
        body_classes=frozenset(data["error_page"]["body_classes"]),
        consent_boxes=tuple(data["consent_wall"]["boxes"]),
        phrases=automaton)


def phrase_hits(folded: str) -> set[tuple[str, str]]:
    """(kind, phrase) for every wall phrase said in ``folded`` text: found as whole words,
    and not between quotation marks, as an article quotes a wall ("a « Tout accepter »
    button") and a wall says it.

    >>> sorted(phrase_hits("nous et nos partenaires... tout accepter"))
    [('consent_wall', 'nos partenaires'), ('consent_wall', 'nous et nos partenaires'), \
('consent_wall', 'tout accepter')]
    >>> phrase_hits("we accept allocations"), phrase_hits('un bouton " tout accepter "')
    (set(), set())
    """
    found: set[tuple[str, str]] = set()
    quotes = [m.span() for m in _QUOTATION.finditer(folded)] if '"' in folded else []
    for end, (phrase, kinds) in vocabulary().phrases.iter(folded):
        start = end - len(phrase) + 1
        if _bounded(folded, start, end) and not _quoted(folded, start, end, quotes):
            found.update((kind, phrase) for kind in kinds)
    return found


_QUOTATION = re.compile(r'"[^"]{1,200}"')
_OPENING = re.compile(r"'[ ]?$")
_CLOSING = re.compile(r"[ ]?[.,;:!?]*'")


def _quoted(text: str, start: int, end: int, quotes: list[tuple[int, int]]) -> bool:
    """Whether the match lies in a quotation: between double quotes (« », “ ”, „ “ once
    folded), or right between single ones ('Accept all', not l'acces)."""
    if any(left < start and end < right for left, right in quotes):
        return True
    return bool(_OPENING.search(text, max(start - 2, 0), start)
                and _CLOSING.match(text, end + 1))


def _bounded(text: str, start: int, end: int) -> bool:
    """No letter or digit touches the match on either side."""
    before = text[start - 1] if start > 0 else " "
    after = text[end + 1] if end + 1 < len(text) else " "
    return not (before.isalnum() or after.isalnum())


def has_phrase(text: str) -> bool:
    """Whether ``text`` carries any wall phrase (it is the wall talking, not an article).

    >>> has_phrase("Checking your browser before accessing the site."), has_phrase("Bonjour.")
    (True, False)
    """
    return bool(phrase_hits(fold(text)))


def title_hits(*titles: str | None) -> dict[str, str]:
    """Per kind, the first wall title that one of ``titles`` (a ``<title>``, an
    ``<h1>``) amounts to, segment by segment (``"Page not found | Site"``)."""
    found: dict[str, str] = {}
    vocab = vocabulary()
    for title in titles:
        for segment in _TITLE_SPLIT.split(title or ""):
            words = plain(segment)
            for kind in WALL_KINDS:
                if kind not in found:
                    hit = _title_hit(words, vocab.titles[kind])
                    if hit is not None:
                        found[kind] = hit
    return found


def _title_hit(words: str, candidates: tuple[str, ...]) -> str | None:
    """The candidate that ``words`` amounts to (see :data:`TITLE_EXTRA_WORDS`).

    >>> _title_hit("before you continue to example", ("before you continue",))
    'before you continue'
    >>> _title_hit("erreur 404 page introuvable", ("erreur 404", "page introuvable"))
    'erreur 404'
    >>> _title_hit("un moment historique", ("un moment",)) is None
    True
    """
    if not words:
        return None
    padded, count = f" {words} ", words.count(" ") + 1
    covered = bytearray(len(padded))
    first = None
    for candidate in candidates:
        at = padded.find(f" {candidate} ")
        if at < 0:
            continue
        size = candidate.count(" ") + 1
        if size >= 3 and count - size <= TITLE_EXTRA_WORDS:
            return candidate
        first = first or candidate
        while at >= 0:
            covered[at + 1:at + 1 + len(candidate)] = b"\x01" * len(candidate)
            at = padded.find(f" {candidate} ", at + 1)
    if first is not None and all(c or ch == " " for c, ch in zip(covered, padded, strict=True)):
        return first
    return None
