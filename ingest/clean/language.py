"""The language a text is written in, identified from its words.

Why not the page's declaration: ``<html lang>``, ``og:locale``, the HTTP
``Content-Language`` header and a feed's ``<language>`` are set once per site
by templates and CMS defaults, and stay the same on syndicated and
translated copies: on real news they are right about as often as a coin.
They are kept as hints (``articles.declared_language``) and break ties only
on texts too short to judge.

The model is py3langid's (a naive Bayes over byte n-grams, about 140
language codes in version 0.4, shipped inside the package; chosen over
lingua for accuracy on news titles and for cost, see README). A body is read
paragraph by paragraph, each paragraph votes with its number of letters (not
of space-separated words, which Chinese, Japanese or Thai do not have), and
the language with most letters wins, so a page that quotes another language
keeps the language of most of its text; at most ``SAMPLE_CHARS`` characters,
spread evenly over the body, are read, so a long page costs no more than a
medium one::

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

from ingest.langtags import primary_tag

CHUNK_CHARS = 300
"""A long paragraph is read as windows of this size, each voting alone."""
MIN_CHUNK = 150
"""A shorter paragraph joins the next one: too short to vote reliably alone."""
SAMPLE_CHARS = 1_200
"""At most this much of a body is read; beyond it, chunks are sampled evenly."""
MIN_LETTERS = 30
"""Fewer letters than this (a word or two) is too short to judge alone."""
UNSURE = 0.5
"""Below this confidence a declared language that the text does not contradict wins."""

NO_SIGNAL = 0.02
"""A vote this weak (about three times uniform over the model's classes) is no answer."""


_PARAGRAPHS = re.compile(r"\n\s*\n|\n")
_NO_LANGUAGE = frozenset({"zxx", "und"})


class _Classifier(Protocol):
    def classify(self, text: str) -> tuple[str, float]: ...
    def rank(self, text: str) -> list[tuple[str, float]]: ...


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """What a text is written in, how sure, and what its page claimed.

    ``language`` is an ISO 639 code (``en``, ``fr``, ...) or None when the
    text has no letters, or too weak a vote (``NO_SIGNAL``), and nothing was
    declared; ``confidence`` is in [0, 1]: the share of the letters read whose
    chunk voted for ``language``, times the model's probability for it; when the
    declaration decided (a text too short or unclear), the model's probability
    for the declared language (0 for a text without letters).
    """

    language: str | None
    confidence: float
    declared: str | None = None


def first_declared(*tags: str | None) -> str | None:
    """The first usable tag, in the order given (page markup, header, feed).

    >>> first_declared(None, "", "fr-CA", "en")
    'fr'
    """
    for tag in tags:
        code = primary_tag(tag)
        if code is not None:
            return code
    return None


def identify(text: str, *, title: str | None = None, declared: str | None = None) -> LanguageGuess:
    """The language of most of ``text`` (see the module docstring).

    ``title`` is read along with a body too short to judge alone;
    ``declared`` decides only when the text is too short or unclear *and*
    the model ranks the declared language close to its best.
    """
    hint = primary_tag(declared)
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
    """What is read of ``text``: its paragraphs, each voting alone (a short one joins the
    next until ``MIN_CHUNK`` characters, a long one is cut into ``CHUNK_CHARS`` windows
    at spaces), then sampled evenly down to about ``SAMPLE_CHARS`` characters.

    >>> sum(map(len, _chunks("word " * 10_000))) <= SAMPLE_CHARS
    True
    """
    pieces: list[str] = []
    pending = ""
    for paragraph in _PARAGRAPHS.split(text):
        paragraph = f"{pending} {paragraph.strip()}" if pending else paragraph.strip()
        if len(paragraph) < MIN_CHUNK:
            pending = paragraph
            continue
        pending = ""
        pieces.extend(_windows(paragraph))
    if pending.strip():
        if pieces:
            pieces[-1] += " " + pending
        else:
            pieces.append(pending)
    return _sample(pieces)


def _windows(paragraph: str) -> list[str]:
    """``paragraph`` itself up to twice ``CHUNK_CHARS``; longer, cut at spaces into
    windows of at most ``CHUNK_CHARS`` (a tail under ``MIN_CHUNK`` joins the last one)."""
    if len(paragraph) <= 2 * CHUNK_CHARS:
        return [paragraph]
    windows, start, size = [], 0, len(paragraph)
    while start < size:
        end = min(start + CHUNK_CHARS, size)
        if end < size:
            cut = paragraph.rfind(" ", start + CHUNK_CHARS // 2, end)
            end = cut if cut > start else end
        windows.append(paragraph[start:end])
        start = end + 1
    if len(windows) > 1 and len(windows[-1]) < MIN_CHUNK:
        windows[-2] += " " + windows.pop()
    return windows


def _sample(pieces: list[str]) -> list[str]:
    """Evenly spaced pieces whose total is about ``SAMPLE_CHARS`` (all of them if less)."""
    total = sum(map(len, pieces))
    if total <= SAMPLE_CHARS:
        return pieces
    keep = max(1, len(pieces) * SAMPLE_CHARS // total)
    step = len(pieces) / keep
    return [pieces[int((i + 0.5) * step)] for i in range(keep)]


def _vote(chunks: list[str]) -> tuple[str | None, float]:
    """Letter-weighted vote of the chunks' languages; confidence as in :class:`LanguageGuess`."""
    votes: dict[str, int] = {}
    support: dict[str, float] = {}
    total = 0
    for chunk in chunks:
        language, probability = _classifier().classify(chunk)
        weight = _letters(chunk)  # not words: Chinese, Japanese or Thai have no spaces
        total += weight
        votes[language] = votes.get(language, 0) + weight
        support[language] = support.get(language, 0.0) + weight * probability
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
