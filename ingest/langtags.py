"""Language tags: one normaliser for every tag a page, a header or a feed declares, and
the codes the language identifier answers.

A leaf module (it imports nothing of the project), so the extractor, the cleaner,
the dedup signatures and the configuration read tags the same way without importing
each other::

    >>> primary_tag("fr_FR"), primary_tag(" EN-us "), primary_tag("x"), primary_tag(None)
    ('fr', 'en', None, None)
    >>> "fr" in IDENTIFIED_CODES, "fra" in IDENTIFIED_CODES
    (True, False)
"""

from __future__ import annotations

import re

_PRIMARY = re.compile(r"[a-z]{2,3}")

IDENTIFIED_CODES = frozenset((
    "ace", "af", "am", "an", "ar", "ary", "arz", "as", "az", "ba", "bcl", "be", "bg", "bn",
    "br", "bs", "ca", "crh", "cs", "cy", "da", "de", "dz", "el", "en", "eo", "es", "et",
    "eu", "ext", "fa", "fi", "fo", "fr", "fuv", "fy", "ga", "gcf", "gcr", "gd", "gl", "gom",
    "grc", "gu", "gug", "guw", "ha", "hbo", "he", "hi", "hr", "ht", "hu", "hy", "id", "ig",
    "is", "it", "ja", "jv", "ka", "kab", "kik", "kk", "km", "kn", "ko", "ku", "ky", "la",
    "lb", "lg", "lij", "ln", "lo", "lt", "ltg", "lv", "mg", "mk", "ml", "mn", "mr", "ms",
    "mt", "my", "ne", "nl", "nn", "no", "nso", "oc", "om", "or", "pa", "pcm", "pl", "ps",
    "pt", "qu", "ro", "ru", "rw", "sa", "sdh", "se", "si", "sk", "sl", "sn", "so", "sq",
    "sr", "st", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "ug", "uk",
    "ur", "uz", "uzs", "vec", "vi", "vo", "wa", "wuu", "xh", "yo", "yue", "zh", "zu",
))
"""Every code the language identifier answers (py3langid 0.4's model): what
``topic.languages`` may name, known without loading the model (a test holds it equal
to ``ingest.clean.language.model_languages()``)."""


def primary_tag(tag: str | None) -> str | None:
    """The primary subtag of a language tag, lower case (``fr_FR`` -> ``fr``); None for
    a missing or malformed one (declarations are often junk)."""
    if not tag:
        return None
    primary = re.split(r"[-_]", str(tag).strip().lower())[0]
    return primary if _PRIMARY.fullmatch(primary) else None
