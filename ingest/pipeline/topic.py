"""Topic filter: keep an article when every term group has a match.

``all_of = [["musk"], ["altman", "openai"]]`` keeps a page that names Musk
*and* (Altman *or* OpenAI) in its title or body. Matching is on whole words,
case- and accent-insensitive, so "procès" matches "proces" and "OpenAI"
matches "openai", but "muskrat" does not match "musk". A multi-word term
("sam altman") matches that word sequence::

    >>> rule = TopicFilter((("musk",), ("altman", "openai")))
    >>> rule.matches("Le procès d'Elon Musk contre OpenAI")
    True
    >>> TopicFilter((("musk",),)).matches("Muskrats of Ontario")
    False

``languages`` keeps only articles whose *identified* language (from the clean
text, never the page's claim) is listed; an article whose language could not
be identified is kept, as nothing says it is off::

    >>> TopicFilter((), languages=("fr", "en")).verdict("Musk", "...", "de")
    'off_language'
"""

from __future__ import annotations

import re
import unicodedata

from ingest.clean.language import UNSURE


def fold(text: str) -> str:
    """Lower-case and strip accents: the form both terms and texts are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class TopicFilter:
    """A compiled ``all_of`` rule and language list; empty ones keep everything."""

    def __init__(self, all_of: tuple[tuple[str, ...], ...],
                 languages: tuple[str, ...] = ()) -> None:
        for group in all_of:
            if not group or not all(term.strip() for term in group):
                raise ValueError(f"topic group {group!r} needs at least one non-empty term")
        self._groups = tuple(_compile(group) for group in all_of)
        self._languages = frozenset(languages)

    def verdict(self, title: str | None, text: str, language: str | None,
                confidence: float | None = None) -> str | None:
        """None to keep the article, else why not: ``off_language`` or ``off_topic``.

        A language identified with a weak vote (``confidence`` under
        ``ingest.clean.language.UNSURE``: a headline-sized text) does not keep a
        page out: nothing sure says it is off.
        """
        sure = confidence is None or confidence >= UNSURE
        if self._languages and language is not None and sure and \
                language not in self._languages:
            return "off_language"
        return None if self.matches(title, text) else "off_topic"

    def matches(self, *texts: str | None) -> bool:
        if not self._groups:
            return True
        folded = fold(" ".join(t for t in texts if t))
        return all(group.search(folded) for group in self._groups)


def _compile(group: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = (r"\s+".join(map(re.escape, fold(term).split())) for term in group)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")
