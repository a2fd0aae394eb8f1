"""Page bytes to text, the way browsers decide the encoding, without ever raising.

Feeds and servers mislabel pages all the time (``charset=iso-8859-1`` on a
UTF-8 CMS, no label at all, a ``<meta>`` that contradicts the header); a
page must still read as text, with at worst a few replacement characters::

    >>> decode_html("café".encode("cp1252"), "iso-8859-1")
    'café'
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE
)
# WHATWG: labels browsers read as a superset encoding.
_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
            "us-ascii": "cp1252", "ascii": "cp1252", "iso8859-1": "cp1252"}


def decode_html(body: bytes, charset: str | None = None) -> str:
    """Decode a page body to text without ever raising on bad bytes.

    Order, as browsers do it: a byte-order mark, then valid multi-byte
    UTF-8 (mislabelled UTF-8 is common), then the HTTP header
    ``charset`` if Python knows it and the bytes decode under it, then a
    ``<meta charset>``/``http-equiv`` in the first 4 KB, then UTF-8, then
    a declared charset that fails on a few stray bytes only (they become
    U+FFFD), then charset_normalizer's guess, and finally UTF-8 with
    replacement characters. ``iso-8859-1`` is read as cp1252, as browsers do.

    >>> decode_html("café".encode("cp1252"), "iso-8859-1")
    'café'
    >>> decode_html(b"\\xff\\xfeh\\x00i\\x00")
    'hi'
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace")
    if not body.isascii():
        # Valid multi-byte UTF-8 is UTF-8 whatever the label says: single-byte
        # text virtually never forms such sequences, and mislabelled UTF-8
        # ("charset=iso-8859-1" on a UTF-8 CMS) is common.
        text = _strict_decode(body, "utf-8")
        if text is not None:
            return text
    declared = (charset, _meta_charset(body), "utf-8")
    for candidate in declared:
        text = _strict_decode(body, candidate)
        if text is not None:
            return text
    return _lenient_decode(body, declared) or _sniffed_decode(body)


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _strict_decode(body: bytes, label: str | None) -> str | None:
    codec = _codec(label)
    if codec is None:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, ValueError):
        return None


def _lenient_decode(body: bytes, labels: tuple[str | None, ...]) -> str | None:
    """The first declared charset under which at most 1 byte in 200 is invalid."""
    for label in labels:
        codec = _codec(label)
        if codec is None:
            continue
        text = body.decode(codec, errors="replace")
        if text.count("\ufffd") <= len(body) / 200:
            return text
    return None


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii", errors="ignore") if match else None


def _sniffed_decode(body: bytes) -> str:
    best = from_bytes(body[:200_000]).best()
    codec = _codec(best.encoding) if best is not None else None
    return body.decode(codec or "utf-8", errors="replace")
