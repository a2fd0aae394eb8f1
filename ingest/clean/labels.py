"""Whole-line interface labels ("Read more", "Leave a reply", "Lesen Sie auch"), by language.

Why a table and not more wording rules: a block that is *nothing but* a
widget's label ("Related posts", "Teilen", "Deja un comentario") is chrome on
every site and in every language, whereas the same words inside a sentence are
prose. An exact lookup of the whole, normalised line is therefore safe where a
pattern search is not, costs one hash per short line, and a new language is
new lines in ``labels.toml`` (data), not new code.

Normalisation (:func:`label_key`) folds case and apostrophes and drops what
decorates a label: edge punctuation, arrows, bullets, emoji, a counter
("Comments (12)", "12 Shares") and a trailing colon.

Example::

    >>> interface_label("» Read more")
    'related'
    >>> interface_label("Lesen Sie auch:"), interface_label("Comentarios (12)")
    ('related', 'share_widget')
    >>> interface_label("Read more about the ruling in our archive") is None
    True
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path

from ingest.clean.lexicon import memo_lines

LABELS_FILE = Path(__file__).with_name("labels.toml")
MAX_WORDS = 8  # longer lines are sentences or headlines, never a bare label
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
# Counters around a label: "(12)", "[3]", "12", "1.2k".
_COUNTER = re.compile(r"^\s*[\d.,]+\s*[km]?\s+|\s+[(\[]?\s*[\d.,]+\s*[km]?\s*[)\]]?\s*$", re.I)


def label_key(text: str) -> str:
    """The form of a line that is looked up: folded, undecorated, one space between words.

    >>> label_key("  ➜ SHARE THIS ARTICLE : ")
    'share this article'
    >>> label_key("Comments (12)"), label_key("Don’t miss")
    ('comments', "don't miss")
    """
    folded = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()
    stripped = _strip_edges(folded)
    return _strip_edges(_COUNTER.sub("", stripped))


def _strip_edges(text: str) -> str:
    """Drop leading and trailing characters that are neither letters nor digits."""
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return " ".join(text[start:end].split())


@lru_cache(maxsize=1)
def label_table() -> dict[str, str]:
    """Every phrase of ``labels.toml`` (all languages), keyed by :func:`label_key`, to its rule.

    A phrase belongs to one rule only (the data test checks it); were one listed
    under two, the first table's rule would win.

    >>> label_table()["lire aussi"]
    'related'
    """
    data = tomllib.loads(LABELS_FILE.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for rule, languages in data.items():
        for phrases in languages.values():
            for phrase in phrases:
                table.setdefault(label_key(phrase), rule)
    return table


@memo_lines
def interface_label(text: str) -> str | None:
    """The rule of a line that is only an interface label, or None.

    >>> interface_label("Partager"), interface_label("Partager un repas")
    ('share_widget', None)
    """
    if len(text.split()) > MAX_WORDS:
        return None
    key = label_key(text)
    return label_table().get(key) if key else None
