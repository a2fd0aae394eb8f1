"""Text normalisation, word shingles and datasketch-compatible MinHash signatures.

Why this module exists: deduplication needs one signature per article,
computed in the extraction workers, sent back to the main process and stored
in SQLite. datasketch's ``MinHash.update`` costs about 14 ms per 1,200-word
article because it runs numpy on one shingle at a time; here every shingle
is hashed with SHA-1 (the same ``sha1_hash32`` datasketch uses) and the 128
permutations are applied to all shingles at once, which gives the very same
values roughly 10-15 times faster. Keeping datasketch's values means a stored
signature can still be checked or re-indexed with datasketch itself::

    >>> from ingest.config import DedupSettings
    >>> fp = fingerprint("Elon Musk sues OpenAI again.", "en", DedupSettings())
    >>> fp.n_shingles, len(fp.minhash), len(fp.bands)
    (1, 512, 336)

Normalisation (what counts as "the same text"): compatibility forms folded
(the K of NFKC: ligatures, full-width letters, non-breaking spaces),
casefolded, accents and other combining marks dropped, and every run of
other characters that are not letters or digits becomes one word break.
Accents are dropped because French typography routinely omits them on
capitals ("Etats-Unis" / "États-Unis") and some syndication feeds are
ASCII-only; a French and an English version of one story still differ in
nearly every word, so they stay different records.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ingest.config import DedupSettings
from ingest.errors import ConfigError
from ingest.langtags import primary_tag
from ingest.types import Fingerprint

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]

# A contained record is meant to be found when its host is at most this many
# times longer; the band layout is chosen for the Jaccard this implies.
CONTAINMENT_MAX_RATIO = 3.0
# Each band costs 8 bytes per stored record in the in-memory index.
MAX_BANDS = 48

_MAX_HASH = 0xFFFFFFFF
_ASCII_BREAK = bytes(
    c if c >= 0x80 or chr(c).isalnum() else 0x20 for c in range(256)
)
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
_BAND_MULT = np.uint64(0x9E3779B97F4A7C15)
# The first 32-bit outputs of numpy's RandomState(1): a constant table (as a
# CRC table is), drawn once because seeding costs 0.15 ms, 10% of a fingerprint.
_MT_SEED1_OUTPUTS = np.random.RandomState(1).randint(0, 1 << 32, 2 * 1024, dtype=np.uint32)
_MT_SEED1_OUTPUTS.setflags(write=False)


def tokens(text: str) -> list[bytes]:
    """Split ``text`` into normalised words, UTF-8 encoded (see the module doc).

    Bytes, because shingles are hashed as UTF-8 bytes: encoding once here
    saves one ``encode`` per shingle.

    >>> tokens("L’État, c’est MOI !")
    [b'l', b'etat', b'c', b'est', b'moi']
    """
    folded = text.lower() if text.isascii() else _fold_non_ascii(text)
    return folded.encode("utf-8").translate(_ASCII_BREAK).split()


def _fold_non_ascii(text: str) -> str:
    """Compatibility-decompose and casefold; drop combining marks (accents);
    turn the other non-ASCII non-alphanumerics into spaces.

    NFKD then dropping marks then NFC gives the marks-free form of NFKC
    without its slow composition pass (0.5 ms on 8 KB of Cyrillic). Only the
    distinct non-ASCII characters are classified (a regex or ``str.translate``
    over the whole text costs 3-6 times more).
    """
    for step in (_nfkd, str.casefold, _nfkd):
        text = step(text)
    for ch in _distinct_non_ascii(text):
        if unicodedata.category(ch)[0] == "M":
            text = text.replace(ch, "")
        elif not ch.isalnum():
            text = text.replace(ch, " ")
    # Recomposes what has no marks left to drop (Hangul syllables).
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _nfkd(text: str) -> str:
    return text if unicodedata.is_normalized("NFKD", text) else unicodedata.normalize("NFKD", text)


def _distinct_non_ascii(text: str) -> list[str]:
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return [chr(c) for c in np.unique(codes[codes >= 0x80]).tolist()]


def normalise_text(text: str) -> str:
    """The text as deduplication sees it: the words of :func:`tokens`, one space apart.

    >>> normalise_text("  Musk   v. OpenAI:\\n\\nthe  trial ")
    'musk v openai the trial'
    """
    return b" ".join(tokens(text)).decode("utf-8")


def content_hash(text: str) -> str:
    """Hex SHA-256 of the normalised text: the ``exact`` dedup tier.

    Two pages that differ only in case, accents, punctuation or spacing get
    the same hash.

    >>> content_hash("Hello, World!") == content_hash("hello world")
    True
    """
    return _hash_words(tokens(text))


def _hash_words(words: list[bytes]) -> str:
    return hashlib.sha256(b" ".join(words)).hexdigest()


def shingle_set(words: list[bytes], size: int) -> set[bytes]:
    """Distinct word ``size``-grams, each joined with single spaces.

    A text shorter than ``size`` words is one shingle of all its words, so
    it still matches itself (and only texts that are the same words); a text
    with no words has no shingles.

    >>> sorted(shingle_set([b"a", b"b", b"c"], 2))
    [b'a b', b'b c']
    >>> shingle_set([b"a", b"b"], 5)
    {b'a b'}
    """
    if len(words) <= size:
        return {b" ".join(words)} if words else set()
    return set(map(b" ".join, zip(*(words[i:] for i in range(size)), strict=False)))


@dataclass(frozen=True, slots=True)
class LshLayout:
    """How the MinHash values are cut into LSH bands: ``bands`` of ``rows`` values.

    A pair of Jaccard ``j`` shares at least one band with probability
    ``1 - (1 - j**rows) ** bands``; with 128 permutations and the default
    settings this is 42 bands of 3 rows: j=0.8 is a candidate with
    probability 1 - 1e-13; a record contained whole in one twice its length
    (j=0.5) 0.996, three times (j=0.33) 0.8, four times 0.5, ten times 0.04.

    >>> lsh_layout(DedupSettings())
    LshLayout(bands=42, rows=3)
    >>> round(LshLayout(42, 3).probability(0.8), 6)
    1.0
    """

    bands: int
    rows: int

    def probability(self, jaccard: float) -> float:
        """Chance that a pair with this Jaccard becomes a candidate."""
        return float(1.0 - (1.0 - jaccard**self.rows) ** self.bands)


def check_settings(settings: DedupSettings) -> None:
    """Raise :class:`ConfigError` naming the key and the fix for an unusable value."""
    _check_fraction("dedup.threshold", settings.threshold, "0.8")
    _check_fraction("dedup.containment", settings.containment, "0.9")
    _check_int("dedup.num_perm", settings.num_perm, 16, 1024, "128")
    _check_int("dedup.shingle_size", settings.shingle_size, 1, 12, "5")


def _check_fraction(key: str, value: object, default: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ConfigError(key, value, f"must be a number > 0 and <= 1; the default is {default}")


def _check_int(key: str, value: object, low: int, high: int, default: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            key, value, f"must be an integer >= {low} and <= {high}; the default is {default}"
        )


def lsh_layout(settings: DedupSettings) -> LshLayout:
    """The band layout for ``settings``: the most rows per band whose S-curve
    midpoint ``(1/bands) ** (1/rows)`` is at or below the lowest Jaccard we
    must catch, i.e. ``min(threshold, Jaccard of a record contained at
    `containment` in a host CONTAINMENT_MAX_RATIO times longer)``.

    Fewer rows per band would catch lower Jaccards but also pull in every
    article quoting the same statement, each costing a signature lookup.
    """
    check_settings(settings)
    c = settings.containment
    floor = min(settings.threshold, c / (CONTAINMENT_MAX_RATIO + 1 - c))
    best = LshLayout(min(MAX_BANDS, settings.num_perm), 1)
    for rows in range(2, settings.num_perm + 1):
        bands = min(MAX_BANDS, settings.num_perm // rows)
        if (1 / bands) ** (1 / rows) > floor:
            break
        best = LshLayout(bands, rows)
    return best


def permutations(num_perm: int) -> tuple[U32, U32]:
    """datasketch's ``affine32`` permutation parameters for ``MinHash(num_perm, seed=1)``.

    datasketch draws ``a`` (``num_perm`` values, made odd) then ``b`` from
    ``RandomState(1)``, one 32-bit output per value, so both are slices of
    the same first 2 * 1024 outputs: ``h -> a*h + b mod 2**32``.
    """
    raw = _MT_SEED1_OUTPUTS
    a = (raw[:num_perm] & np.uint32(0x7FFFFFFF)) * np.uint32(2) + np.uint32(1)
    return a, raw[num_perm : 2 * num_perm].copy()


def _fmix32(h: U32) -> U32:
    s1, m1, s2, m2 = _FMIX32
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s1)


def _fmix64(h: U64) -> U64:
    s, m1, m2 = _FMIX64
    h = (h ^ (h >> s)) * m1
    h = (h ^ (h >> s)) * m2
    return h ^ (h >> s)


def sha1_hash32_many(shingles: Iterable[bytes]) -> U32:
    """datasketch's ``sha1_hash32`` of each item (first 4 digest bytes, little-endian)."""
    sha1 = hashlib.sha1
    digests = b"".join([h.digest() for h in map(sha1, shingles)])  # ~10% over sha1(s)
    return np.frombuffer(digests, dtype="<u4").reshape(-1, 5)[:, 0].astype(np.uint32)


def minhash_values(hashes: U32, perms: tuple[U32, U32]) -> U32:
    """MinHash values of a set given its 32-bit hashes, all permutations at once.

    Equal to datasketch ``MinHash.update`` over the same items; an empty set
    gives datasketch's empty value ``2**32 - 1`` everywhere.
    """
    a, b = perms
    if hashes.size == 0:
        return np.full(a.shape, _MAX_HASH, dtype=np.uint32)
    # (num_perm, n): the min runs along contiguous rows, 20% faster than (n, num_perm).
    permuted = np.multiply.outer(a, _fmix32(hashes))
    permuted += b[:, None]
    return permuted.min(axis=1)


def band_keys(values: npt.NDArray[np.uint32], layout: LshLayout) -> U64:
    """64-bit LSH band keys of MinHash values, vectorised over leading axes.

    ``values`` has shape ``(..., num_perm)``; the result ``(..., bands)``.
    Band ``i`` mixes values ``i*rows .. i*rows+rows-1`` with the MurmurHash3
    finaliser, so equal bands give equal keys and unequal ones collide with
    probability about 2**-64.
    """
    used = layout.bands * layout.rows
    v = values[..., :used].reshape(*values.shape[:-1], layout.bands, layout.rows)
    h = np.zeros(v.shape[:-1], dtype=np.uint64)
    for col in range(layout.rows):
        h = _fmix64(h * _BAND_MULT + v[..., col].astype(np.uint64))
    return h


def bands_from_minhash(minhash: bytes, settings: DedupSettings) -> bytes:
    """Recompute a stored record's ``bands`` from its ``minhash`` bytes.

    For the store, when the band layout changed with the settings: the
    MinHash values do not depend on ``threshold``/``containment``, the bands
    do, so re-banding needs no text.
    """
    values = np.frombuffer(minhash, dtype="<u4")
    if values.size != settings.num_perm:
        raise ConfigError(
            "dedup.num_perm", settings.num_perm,
            f"the stored minhash has {values.size} values; recompute the fingerprints "
            "from the text, or set num_perm back",
        )
    return band_keys(values, lsh_layout(settings)).astype("<u8").tobytes()


class Fingerprinter:
    """Computes fingerprints for one set of settings.

    Holds what :func:`fingerprint` would otherwise derive from the settings
    on every call (band layout, permutation parameters, about 20 µs).

    >>> fp = Fingerprinter(DedupSettings())("Some text here", None)
    >>> fp.n_shingles
    1
    """

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings
        self.layout = lsh_layout(settings)
        self.perms = permutations(settings.num_perm)

    def __call__(self, text: str, language: str | None) -> Fingerprint:
        words = tokens(text)
        shingles = shingle_set(words, self.settings.shingle_size)
        values = minhash_values(sha1_hash32_many(shingles), self.perms)
        return Fingerprint(
            content_hash=_hash_words(words),
            language=primary_tag(language),
            n_shingles=len(shingles),
            minhash=values.astype("<u4").tobytes(),
            bands=band_keys(values, self.layout).astype("<u8").tobytes(),
        )


def fingerprint(text: str, language: str | None, settings: DedupSettings) -> Fingerprint:
    """The :class:`Fingerprint` of a cleaned article's text.

    >>> a = fingerprint("Musk sues OpenAI over its for-profit turn", "en", DedupSettings())
    >>> b = fingerprint("MUSK sues OpenAI, over its for profit turn!", "en", DedupSettings())
    >>> a == b
    True
    """
    return _fingerprinter(settings)(text, language)


@functools.lru_cache(maxsize=8)
def _fingerprinter(settings: DedupSettings) -> Fingerprinter:
    """The derived permutations and band layout for ``settings`` (frozen, so a safe key):
    deriving them costs about a tenth of a fingerprint. Holds no decision state."""
    return Fingerprinter(settings)


def estimate_jaccard(a: bytes, b: bytes) -> float:
    """Fraction of equal MinHash values: datasketch's ``MinHash.jaccard``."""
    x = np.frombuffer(a, dtype="<u4")
    y = np.frombuffer(b, dtype="<u4")
    if x.size != y.size or x.size == 0:
        raise ConfigError(
            "dedup.num_perm", (x.size, y.size),
            "the two signatures have different lengths; recompute the older one "
            "with the current settings",
        )
    return float(np.count_nonzero(x == y)) / float(x.size)


def estimate_containment(jaccard: float, n_inner: int, n_outer: int) -> float:
    """Estimated share of ``inner``'s shingles found in ``outer``.

    From ``|A∩B| = J(|A|+|B|)/(1+J)``, so ``C = J(|A|+|B|) / (|A|(1+J))``,
    capped at 1.

    >>> estimate_containment(0.5, 100, 200)
    1.0
    >>> round(estimate_containment(0.25, 100, 100), 3)
    0.4
    """
    if n_inner <= 0 or jaccard <= 0:
        return 0.0
    return min(1.0, jaccard * (n_inner + n_outer) / (n_inner * (1.0 + jaccard)))

