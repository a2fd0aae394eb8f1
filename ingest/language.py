"""The language a text is written in, identified from its words.

Why not the page's declaration: ``<html lang>``, ``og:locale``, the HTTP
``Content-Language`` header and a feed's ``<language>`` are set once per site
by templates and CMS defaults, and stay the same on syndicated and
translated copies: on real news they are right about as often as a coin.
They are kept as hints (``articles.declared_language``) and break ties only
on texts too short to judge.

The model is py3langid's (a naive Bayes over byte n-grams, 97 languages,
shipped inside the package; chosen over lingua for accuracy on news titles
and for cost, see README). A body is read as chunks of a few paragraphs,
each chunk votes with its word count, and the language with most words
wins, so a page that quotes another language keeps the language of most of
its words; at most ``SAMPLE_CHARS`` characters, spread evenly over the body,
are read, so a long page costs no more than a medium one::

    >>> identify("Le tribunal a fixé la date du procès entre les deux fondateurs.").language
    'fr'
    >>> guess = identify("The court set a date for the trial between the two founders.",
    ...                  declared="fr")
    >>> guess.language, guess.declared, guess.confidence > 0.9
    ('en', 'fr', True)
    >>> identify("OpenAI", declared="fr-FR").language     # too short to judge: the hint
    'fr'
    >>> identify("OpenAI").language is None                # and no hint: no answer
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Protocol

CHUNK_CHARS = 250
"""A chunk is at least this long (or the whole text): long enough to vote reliably."""
SAMPLE_CHARS = 2_000
"""At most this much of a body is read; beyond it, chunks are sampled evenly."""
MIN_LETTERS = 30
"""Fewer letters than this (a word or two) is too short to judge alone."""
UNSURE = 0.5
"""Below this confidence a declared language that the text does not contradict wins."""

NO_SIGNAL = 0.02
"""A vote this weak (about three times uniform over the model's classes) is no answer."""

_PARAGRAPHS = re.compile(r"\n\s*\n|\n")
_TAG = re.compile(r"[a-z]{2,3}")
_NO_LANGUAGE = frozenset({"zxx", "und"})


class _Classifier(Protocol):
    def classify(self, text: str) -> tuple[str, float]: ...
    def rank(self, text: str) -> list[tuple[str, float]]: ...


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """What a text is written in, how sure, and what its page claimed.

    ``language`` is an ISO 639 code (``en``, ``fr``, ...) or None when the
    text has no words and nothing was declared; ``confidence`` is in [0, 1]:
    the share of the text's words whose chunk voted for ``language``, times
    the model's probability for it (0 when only the declaration decided).
    """

    language: str | None
    confidence: float
    declared: str | None = None


def normalise_tag(tag: str | None) -> str | None:
    """Primary subtag of a declared language tag: ``"fr_FR"`` -> ``"fr"``; junk -> None.

    >>> normalise_tag(" EN-us "), normalise_tag("fr_FR"), normalise_tag("x"), normalise_tag(None)
    ('en', 'fr', None, None)
    """
    if not tag:
        return None
    primary = re.split(r"[-_]", tag.strip().lower())[0]
    return primary if _TAG.fullmatch(primary) else None


def first_declared(*tags: str | None) -> str | None:
    """The first usable tag, in the order given (page markup, header, feed).

    >>> first_declared(None, "", "fr-CA", "en")
    'fr'
    """
    for tag in tags:
        code = normalise_tag(tag)
        if code is not None:
            return code
    return None


def identify(text: str, *, title: str | None = None, declared: str | None = None) -> LanguageGuess:
    """The language of most of ``text``'s words (see the module docstring).

    ``title`` is read along with a body too short to judge alone;
    ``declared`` decides only when the text is too short or unclear *and*
    the model ranks the declared language close to its best.
    """
    hint = normalise_tag(declared)
    chunks = _chunks(text)
    letters = sum(map(_letters, chunks))
    if letters < MIN_LETTERS and title:
        chunks = _chunks(f"{title}\n{text}")
        letters = sum(map(_letters, chunks))
    if letters == 0:
        return LanguageGuess(hint, 0.0, hint)
    language, confidence = _vote(chunks)
    if hint is None or hint == language or (letters >= MIN_LETTERS and confidence >= UNSURE):
        return LanguageGuess(language, confidence, hint)
    ranked = dict(_classifier().rank(" ".join(chunks)))
    hinted = float(ranked.get(hint, 0.0))
    # Too short: the hint stands unless the text contradicts it (another script makes
    # its probability far below uniform). Unclear: it must be a close second.
    floor = 0.5 / len(ranked) if letters < MIN_LETTERS else max(ranked.values()) / 4
    if hinted >= floor:
        return LanguageGuess(hint, round(hinted, 4), hint)
    return LanguageGuess(language, confidence, hint)


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))


def _chunks(text: str) -> list[str]:
    """What is read of ``text``: paragraphs joined into chunks of at least
    ``CHUNK_CHARS``; a text longer than ``SAMPLE_CHARS`` is read as evenly spaced
    windows of ``CHUNK_CHARS`` (cut at spaces) instead, so its cost is bounded.

    >>> len(_chunks("word " * 10_000)) == SAMPLE_CHARS // CHUNK_CHARS
    True
    """
    if len(text) > SAMPLE_CHARS:
        return _windows(text)
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for paragraph in _PARAGRAPHS.split(text):
        if not paragraph.strip():
            continue
        current.append(paragraph)
        size += len(paragraph)
        if size >= CHUNK_CHARS:
            chunks.append(" ".join(current))
            current, size = [], 0
    if current:
        if chunks and size < CHUNK_CHARS // 2:
            chunks[-1] += " " + " ".join(current)
        else:
            chunks.append(" ".join(current))
    return chunks


def _windows(text: str) -> list[str]:
    count = SAMPLE_CHARS // CHUNK_CHARS
    step = len(text) / count
    windows = []
    for i in range(count):
        start = int(i * step)
        if start:
            space = text.find(" ", start, start + CHUNK_CHARS // 4)
            start = space + 1 if space >= 0 else start
        window = text[start:start + CHUNK_CHARS]
        cut = window.rfind(" ", 3 * CHUNK_CHARS // 4)
        windows.append(window[:cut] if cut > 0 else window)
    return windows


def _vote(chunks: list[str]) -> tuple[str | None, float]:
    """Word-weighted vote of the chunks' languages; confidence as in :class:`LanguageGuess`."""
    votes: dict[str, int] = {}
    support: dict[str, float] = {}
    total = 0
    for chunk in chunks:
        language, probability = _classifier().classify(chunk)
        words = len(chunk.split())
        total += words
        votes[language] = votes.get(language, 0) + words
        support[language] = support.get(language, 0.0) + words * probability
    best = max(votes, key=lambda lang: (votes[lang], support[lang]))
    confidence = round(support[best] / total, 4) if total else 0.0
    if best in _NO_LANGUAGE or confidence < NO_SIGNAL:
        return None, confidence
    return best, confidence


@cache
def _classifier() -> _Classifier:
    """One model per process, loaded on first use (about 0.1 s): worker processes
    load it once and keep it for every page they process."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    model: _Classifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE,
                                                           norm_probs=True)
    return model


def model_languages() -> frozenset[str]:
    """Every code :func:`identify` can answer from the text alone.

    >>> {"en", "fr", "de"} <= model_languages()
    True
    """
    return frozenset(label for label, _ in _classifier().rank("a")) - _NO_LANGUAGE
