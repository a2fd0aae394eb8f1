"""Prefiltered regex search: skip a pattern when its required words are absent.

Every line of every article is searched for the wording cues of
:mod:`ingest.clean.cues`, and a long alternation costs every branch at every
position. Nearly every line matches nothing, so a :class:`Cue` first reads off
its own pattern the words any match must contain (:func:`required_factors`)
and searches only when one of them is in the line (:func:`fold`): the same
answers as ``re.compile(pattern, flags).search``, only faster on text that
cannot match. Kept apart from the cue lexicons so those read as wording, not
as regex-parser machinery.

Example::

    >>> cue = Cue(r"(?:free|bonus) spins?|deposits?", re.IGNORECASE)
    >>> sorted(cue.needles), cue.search("a line about the weather") is None
    ([' spin', 'deposit'], True)
    >>> cue.search("200% Deposit Bonus").group()
    'Deposit'
"""

from __future__ import annotations

import re
import re._constants as _op  # the parsed-pattern vocabulary, for required_factors
import re._parser as _parser
from collections.abc import Iterable
from typing import Any

import ahocorasick

from ingest.clean.lexicon import memo_lines

# The regex engine, ignoring case, also takes the dotted capital I and the
# dotless i for "i" and the long s for "s"; lower() does not, so fold() maps
# them first. Needle characters are restricted to ASCII and Latin letters (and
# a few uncased signs), for which test_clean_cues checks every code point.
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})
_FOLDABLE_EXTRA = frozenset("’«»–—…€£")
_MIN_NEEDLE = 3
_REPEATS = (_op.MAX_REPEAT, _op.MIN_REPEAT, _op.POSSESSIVE_REPEAT)


@memo_lines
def fold(text: str) -> str:
    """Lower-cased text in which any case-insensitive match of a literal word of a
    pattern appears as that word, folded (see :func:`required_factors`).

    >>> fold("DİSCLAİMER")
    'disclaimer'
    """
    return text.translate(_FOLD).lower()


def required_factors(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Folded strings one of which is in every text the pattern matches, or None.

    A long alternation searched through a whole paragraph tries every branch at
    every position; testing ``needle in fold(text)`` for a few dozen needles is
    far cheaper and, when no needle is there, proves the search would fail.
    Read off the parsed pattern: a run of literal characters is required, a
    group or a repeat (at least once) requires what its content requires, and
    an alternation requires one of its branches' requirements. None when some
    branch requires nothing useful (then the pattern is always searched).

    >>> sorted(required_factors(r"\b(?:free|bonus) spins?|deposits?", re.I))
    [' spin', 'deposit']
    """
    try:
        found = _factors(_parser.parse(pattern, flags))
    except (re.error, TypeError, ValueError, IndexError):  # unknown parser shape: no filter
        return None
    if not found or min(map(len, found)) < _MIN_NEEDLE:
        return None
    # A needle containing another adds nothing: where it is, the other is too.
    return frozenset(n for n in found if not any(m != n and m in n for m in found))


def _factors(items: Iterable[tuple[Any, Any]]) -> frozenset[str] | None:
    """The strongest requirement of a sequence: each item's, and each literal run's."""
    best: frozenset[str] | None = None
    run: list[str] = []
    for op, av in items:
        if op is _op.LITERAL and _foldable(chr(av)):
            run.append(chr(av))
            continue
        best = _stronger(best, _literal(run))
        run = []
        best = _stronger(best, _item_factors(op, av))
    return _stronger(best, _literal(run))


def _item_factors(op: Any, av: Any) -> frozenset[str] | None:
    if op is _op.SUBPATTERN:
        return _factors(av[3])
    if op is _op.ATOMIC_GROUP:
        return _factors(av)
    if op is _op.BRANCH:
        branches = [_factors(branch) for branch in av[1]]
        if any(not b for b in branches):
            return None
        return frozenset().union(*branches)  # type: ignore[arg-type]
    if op in _REPEATS and av[0] >= 1:
        return _factors(av[2])
    return None  # classes, anchors, lookarounds, optional parts: nothing required


def _foldable(char: str) -> bool:
    return (char.isascii() or ("\u00c0" <= char <= "\u024f" and char not in "\u0130\u0131\u017f")
            or char in _FOLDABLE_EXTRA)


def _literal(run: list[str]) -> frozenset[str] | None:
    return frozenset({fold("".join(run))}) if run else None


def _stronger(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The more selective requirement: longer shortest needle, then fewer needles."""
    if not a or not b:
        return a or b
    return max(a, b, key=lambda s: (min(map(len, s)), -len(s)))


class Cue:
    """A compiled pattern whose ``search`` first checks its required needles.

    Same answers as ``re.compile(pattern, flags).search``; only faster on
    text that cannot match, which is nearly every line of an article. The
    needles (up to 70 for one cue) are looked for in one pass of an
    Aho-Corasick automaton, three times faster than one ``in`` per needle.
    """

    __slots__ = ("_automaton", "needles", "regex")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.regex = re.compile(pattern, flags)
        self.needles = required_factors(pattern, flags)
        self._automaton = _automaton(self.needles) if self.needles else None

    def search(self, text: str) -> re.Match[str] | None:
        if self._automaton is not None and next(self._automaton.iter(fold(text)), None) is None:
            return None
        return self.regex.search(text)


def _automaton(needles: Iterable[str]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for needle in needles:
        automaton.add_word(needle, needle)
    automaton.make_automaton()
    return automaton

