"""Scores for the quality benchmark: bag-of-words F1, leaked snippets, repeated text.

Example::

    >>> round(bow_f1("a b c d", "a b c e"), 2)
    0.75
    >>> repeat_share("one two three four five one two three four five")
    0.5
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[^\W_]+")
REPEAT_MARGIN = 0.05


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def bow_f1(predicted: str, truth: str) -> float:
    """F1 of the word multisets (the Scrapinghub benchmark's measure)."""
    pred, gold = Counter(tokens(predicted)), Counter(tokens(truth))
    if not pred or not gold:
        return float(not pred and not gold)
    overlap = sum((pred & gold).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / sum(pred.values()), overlap / sum(gold.values())
    return 2 * precision * recall / (precision + recall)


def repeat_share(text: str, n: int = 5) -> float:
    """Share of the text's word n-grams that repeat an earlier one."""
    toks = tokens(text)
    grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
    if not grams:
        return 0.0
    return 1 - len(set(grams)) / len(grams)


def repeats_text(predicted: str, truth: str) -> bool:
    """More repeated 5-grams than the ground truth has, by more than the margin."""
    return repeat_share(predicted) > repeat_share(truth) + REPEAT_MARGIN


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def leaked(predicted: str, snippets: list[str]) -> int:
    """How many "without" snippets (boilerplate) occur in the output text."""
    norm = _norm(predicted)
    return sum(1 for s in snippets if _norm(s) and _norm(s) in norm)
