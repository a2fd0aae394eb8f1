"""Word lists and text measures shared by extraction and cleaning (FR + EN).

Kept apart from the rules so a new language is one edit here, and so the
rules read as decisions, not as vocabularies. Everything here is a pure
function of a string.

Example::

    >>> stopword_ratio("Le projet a été lancé par la société et les investisseurs.") > 0.3
    True
    >>> words("L’entrepreneur n’a pas 10 ans")
    ['l', 'entrepreneur', 'n', 'a', 'pas', '10', 'ans']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Cleaning asks the same questions of one line many times (every rule, the
# repeat pass, the edge scan), so per-line results are memoised. Lines longer
# than this are not: they are few, and keeping them would cost memory.
MEMO_MAX_CHARS = 1_000
MEMO_SIZE = 1_024
T = TypeVar("T")


def memo_lines(fn: Callable[[str], T]) -> Callable[[str], T]:
    """``fn`` memoised for texts up to ``MEMO_MAX_CHARS`` long; longer ones are computed.

    >>> @memo_lines
    ... def shout(text: str) -> str:
    ...     return text.upper()
    >>> shout("oui"), len(shout("a" * 2_000))
    ('OUI', 2000)
    """
    cached = lru_cache(maxsize=MEMO_SIZE)(fn)

    @wraps(fn)
    def call(text: str) -> T:
        return fn(text) if len(text) > MEMO_MAX_CHARS else cached(text)

    return call


def wordset(text: str) -> frozenset[str]:
    """A frozen set of the space-separated words of a literal list."""
    return frozenset(text.split())


STOPWORDS = {
    "en": wordset(
        "a the of and to in is that for it was on with as he she by at from his her they "
        "be this have has are an not but or which were had their its been would will "
        "who said we you there can more when also after than about into"
    ),
    "fr": wordset(
        "le la les de des du un une et en est que qui dans pour pas sur au aux par "
        "il elle ne se ce sont avec plus son sa ses été mais ou leur nous vous cette "
        "ont être fait comme tout aussi après entre"
    ),
}

# Word lists of the cleaning cues (:mod:`ingest.clean.cues`, :mod:`ingest.clean.rules`):
# tokens of share widgets, words around a byline's name, month and day names.
SOCIAL_TOKENS = wordset(
    "facebook twitter x linkedin whatsapp telegram pinterest reddit tumblr flipboard pocket "
    "messenger bluesky threads mastodon instagram youtube tiktok snapchat viber line vk "
    "email mail e print imprimer share shares sharing partager partagez partage partages "
    "tweet tweets copy copier link lien url sms comments commentaires comment commentaire "
    "likes like j aime vues views k m f in"
)
_META_WORDS = (
    "à a au in at de des du d for pour and et the le la les of on staff writer reporter "
    "journaliste correspondent correspondant correspondante editor rédacteur rédactrice "
    "envoyé envoyée spécial spéciale updated published publié publiée mis jour ago il y "
    "hours hour minutes min h heures read lecture posted with avec contributor contributing "
    "senior chief news desk service agency agence am pm et gmt utc cet cest est pst"
)
META_WORDS = frozenset(_META_WORDS.split())
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec janvier février mars avril mai juin "
    "juillet août septembre octobre novembre décembre monday tuesday wednesday thursday friday "
    "saturday sunday lundi mardi mercredi jeudi vendredi samedi dimanche"
)
MONTHS = frozenset(_MONTHS.split())


_COMMON = STOPWORDS["en"] | STOPWORDS["fr"]


def words(text: str) -> list[str]:
    """Casefolded word tokens: letters and digits, apostrophes split.

    >>> words("C'était 2 fois")
    ['c', 'était', '2', 'fois']
    """
    return list(word_tuple(text))


@memo_lines
def word_tuple(text: str) -> tuple[str, ...]:
    """:func:`words` as a tuple, memoised for lines up to ``MEMO_MAX_CHARS``."""
    return tuple(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


@memo_lines
def word_count(text: str) -> int:
    """``len(text.split())``, memoised: every line rule starts by asking it."""
    return len(text.split())


def stopword_ratio(text: str) -> float:
    """Share of tokens that are FR or EN function words: high for prose.

    Prose runs around 0.3-0.5; widgets, ads and name lists sit near 0.

    >>> stopword_ratio("Share Tweet Email")
    0.0
    """
    tokens = word_tuple(text)
    if not tokens:
        return 0.0
    return sum(map(_COMMON.__contains__, tokens)) / len(tokens)


def letter_ratio(text: str) -> float:
    """Share of non-space characters that are letters.

    >>> letter_ratio("[ ]")
    0.0
    """
    # Counted with C-level map() rather than a per-character generator: same counts.
    visible = len(text) - sum(map(str.isspace, text))
    if not visible:
        return 0.0
    return sum(map(str.isalpha, text)) / visible


def lowercase_ratio(text: str) -> float:
    """Share of words that start with a lower-case letter: high in prose, low in headlines.

    >>> lowercase_ratio("200% Deposit Bonus up to €3,000")
    0.5
    """
    tokens = [t for t in text.split() if t[:1].isalpha()]
    if not tokens:
        return 0.0
    return sum(t[0].islower() for t in tokens) / len(tokens)
