"""Word-level differences between a kept record and a page folded into it.

A similarity of 0.91 tells an editor nothing; "the copy adds a byline and
rewrites the lede" does. The diff runs on words (not characters, which
shred prose; not lines, which a reflowed paragraph defeats), keeps
paragraph breaks as tokens so the text reads as text, and counts words per
kind of change::

    >>> d = word_diff("Musk sued OpenAI on Friday.", "Musk sued OpenAI on Monday, AFP said.")
    >>> [(s.op, s.old, s.new) for s in d.segments]
    [('equal', 'Musk sued OpenAI on', 'Musk sued OpenAI on'), \
('replace', 'Friday.', 'Monday, AFP said.')]
    >>> d.inserted, d.deleted, d.replaced, d.same
    (0, 0, 1, 4)
    >>> d.wdiff()
    'Musk sued OpenAI on [-Friday.-]{+Monday, AFP said.+}'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Op = Literal["equal", "insert", "delete", "replace"]

PARAGRAPH = "\n\n"
# Beyond this many tokens per side difflib's junk heuristic is switched on,
# trading some precision for time on pathological pages.
EXACT_LIMIT = 20_000
_TOKEN = re.compile(r"\n\s*\n|\S+")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of the texts: ``old`` is the record's words, ``new`` the duplicate's.

    ``equal`` has both (identical), ``delete`` only ``old``, ``insert`` only
    ``new``, ``replace`` both (different).
    """

    op: Op
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Gap:
    """Identical words left out of a condensed view (``words`` of them)."""

    words: int


@dataclass(frozen=True, slots=True)
class WordDiff:
    """The segments, and word counts: ``same + deleted + replaced`` is the
    record's length; ``inserted`` words exist only in the duplicate."""

    segments: tuple[Segment, ...]
    inserted: int
    deleted: int
    replaced: int
    same: int

    @property
    def identical(self) -> bool:
        return all(s.op == "equal" for s in self.segments)

    @property
    def changed_words(self) -> int:
        return self.inserted + self.deleted + self.replaced

    def wdiff(self) -> str:
        """One string in ``wdiff``/``git diff --word-diff`` notation: ``[-old-]{+new+}``."""
        return "".join(_wdiff(s, i > 0) for i, s in enumerate(self.segments))


def tokens(text: str) -> list[str]:
    """Words, with each paragraph break as one ``PARAGRAPH`` token."""
    found = _TOKEN.findall(text.strip())
    return [PARAGRAPH if t.isspace() else t for t in found]


def join(words: Sequence[str]) -> str:
    """Inverse of :func:`tokens` (whitespace inside paragraphs becomes one space)."""
    out: list[str] = []
    for word in words:
        if word == PARAGRAPH:
            out.append(PARAGRAPH)
        else:
            out.append(word if not out or out[-1] == PARAGRAPH else " " + word)
    return "".join(out)


def count_words(words: Sequence[str]) -> int:
    return sum(1 for w in words if w != PARAGRAPH)


def word_diff(old: str, new: str) -> WordDiff:
    """Diff the record's text ``old`` against the duplicate's text ``new``."""
    a, b = tokens(old), tokens(new)
    exact = max(len(a), len(b)) <= EXACT_LIMIT
    matcher = SequenceMatcher(None, a, b, autojunk=not exact)
    segments: list[Segment] = []
    counts = {"insert": 0, "delete": 0, "replace": 0, "equal": 0}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        segments.append(Segment(tag, join(a[i1:i2]), join(b[j1:j2])))
        counts[tag] += count_words(b[j1:j2] if tag == "insert" else a[i1:i2])
    return WordDiff(tuple(segments), counts["insert"], counts["delete"], counts["replace"],
                    counts["equal"])


def condense(diff: WordDiff, context: int = 12) -> list[Segment | Gap]:
    """The segments with long identical runs cut to ``context`` words each side.

    What an editor reads: the changes with enough around them to place them.

    >>> d = word_diff(" ".join(map(str, range(100))) + " end", " ".join(map(str, range(100))))
    >>> [type(s).__name__ for s in condense(d, context=3)]
    ['Gap', 'Segment', 'Segment']
    """
    out: list[Segment | Gap] = []
    last = len(diff.segments) - 1
    for i, seg in enumerate(diff.segments):
        if seg.op != "equal":
            out.append(seg)
            continue
        out.extend(_trim(tokens(seg.old), context, keep_head=i > 0, keep_tail=i < last))
    return out


def _trim(words: list[str], context: int, *, keep_head: bool,
          keep_tail: bool) -> list[Segment | Gap]:
    head = words[:context] if keep_head else []
    tail = words[-context:] if keep_tail and context else []
    hidden = count_words(words) - count_words(head) - count_words(tail)
    if hidden <= context // 2:
        text = join(words)
        return [Segment("equal", text, text)]
    parts: list[Segment | Gap] = []
    if head:
        parts.append(Segment("equal", join(head), join(head)))
    parts.append(Gap(hidden))
    if tail:
        parts.append(Segment("equal", join(tail), join(tail)))
    return parts


def _wdiff(seg: Segment, spaced: bool) -> str:
    sep = " " if spaced else ""
    if seg.op == "equal":
        return sep + seg.old
    if seg.op == "delete":
        return f"{sep}[-{seg.old}-]"
    if seg.op == "insert":
        return f"{sep}{{+{seg.new}+}}"
    return f"{sep}[-{seg.old}-]{{+{seg.new}+}}"
