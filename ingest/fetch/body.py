"""Reading an HTTP body safely: bounded decoding and content-type checks.

Part of the fetch stage (split from :mod:`ingest.fetch.fetcher` to keep modules
small). Two dangers live here:

* size: a body is streamed and cut at ``max_page_bytes`` counting
  *decoded* bytes. We decode gzip/deflate ourselves with a bounded output
  per step (``zlib`` ``max_length``), because a 200 KB gzip bomb inflates
  to 200 MB in one unbounded ``decompress`` call, before any cap can act;
* type: a crawler that follows feed links meets PDFs, images and videos.
  Those are refused from the Content-Type header alone, before the body is
  downloaded; a missing or vague type is judged by sniffing the body.

Example::

    check_declared_type("application/pdf", "page", url)   # UnsupportedContent
    body = await read_body(response, url, limit=5_000_000)  # or BodyTooLarge
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Literal

import httpx

from ingest.errors import BodyTooLarge, NetworkError, UnsupportedContent

Accept = Literal["page", "source", "robots"]

_PIECE = 64 * 1024
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_BINARY_MAJOR = ("image/", "video/", "audio/", "font/", "model/")
_BINARY_TYPES = frozenset({
    "application/pdf", "application/zip", "application/gzip", "application/x-gzip",
    "application/x-tar", "application/x-7z-compressed", "application/x-rar-compressed",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/x-shockwave-flash", "application/wasm", "application/x-msdownload",
})
_SOURCE_HINTS = ("xml", "json", "rss", "atom")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<title",
                b"<meta", b"<div", b"<p", b"<h1", b"<table", b"<style", b"<a", b"<br",
                b"<iframe", b"<font", b"<b", b"<link")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def media_type(content_type: str | None) -> str:
    """``Text/HTML; charset=utf-8`` -> ``text/html``; ``""`` when missing."""
    return (content_type or "").split(";")[0].strip().lower()


def charset_of(content_type: str | None) -> str | None:
    """``text/html; charset="UTF-8"`` -> ``utf-8``; None when not declared."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'").strip().lower() or None
    return None


def check_declared_type(content_type: str | None, accept: Accept, url: str) -> None:
    """Refuse binary media (PDF, image, video...) before reading the body."""
    kind = media_type(content_type)
    if kind.startswith(_BINARY_MAJOR) or kind in _BINARY_TYPES:
        raise UnsupportedContent(f"unsupported content type {kind!r} for a {accept}",
                                 url=url)


def check_sniffed_type(content_type: str | None, body: bytes, accept: Accept,
                       url: str) -> None:
    """Accept a declared usable type, else a body that looks usable.

    For a page: ``text/html`` or ``application/xhtml+xml``, or any other
    non-binary type (missing, ``application/octet-stream``, ``text/plain``)
    whose body starts like HTML. For a source: anything XML/JSON/RSS/Atom or
    ``text/*``, or a body starting with ``<``, ``{`` or ``[``.
    """
    kind = media_type(content_type)
    head = _head(body)
    if head.startswith(b"%pdf-"):
        raise UnsupportedContent("body is a PDF despite its content type", url=url)
    if accept == "page" and (kind in _PAGE_TYPES or looks_like_html(head)):
        return
    if accept == "source" and (_source_type(kind) or head[:1] in (b"<", b"{", b"[")):
        return
    shown = kind or "none"
    raise UnsupportedContent(f"content type {shown!r} is not usable as a {accept}", url=url)


def _source_type(kind: str) -> bool:
    return kind.startswith("text/") or any(hint in kind for hint in _SOURCE_HINTS)


def _head(body: bytes) -> bytes:
    head = body[:1024]
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):]
    return head.lstrip().lower()


def looks_like_html(head: bytes) -> bool:
    """WHATWG-style sniffing on the lower-cased, stripped first bytes.

    >>> looks_like_html(b"<!doctype html><p>x")
    True
    >>> looks_like_html(b"<pdf>")
    False
    """
    if head.startswith(b"<!--") or b"<html" in head:
        return True
    for start in _HTML_STARTS:
        rest = head[len(start):len(start) + 1]
        if head.startswith(start) and (rest in (b" ", b">", b"\t", b"\n", b"\r", b"/")
                                       or start == b"<!doctype html"):
            return True
    return False


async def read_body(response: httpx.Response, url: str, limit: int, *,
                    truncate: bool = False) -> bytes:
    """Stream the decoded body; above ``limit`` raise BodyTooLarge (or cut it).

    ``truncate=True`` returns the first ``limit`` bytes instead (robots.txt:
    RFC 9309 lets a crawler ignore what follows 500 KiB).
    """
    decoder = _decoder_for(response.headers.get("content-encoding"), url)
    _check_declared_length(response, decoder, url, limit, truncate)
    buf = bytearray()
    try:
        async for raw in response.aiter_raw():
            for piece in decoder.decode(raw):
                if _append_capped(buf, piece, limit, url, truncate):
                    return bytes(buf)
        for piece in decoder.flush():
            if _append_capped(buf, piece, limit, url, truncate):
                return bytes(buf)
    except zlib.error as exc:
        raise NetworkError(f"corrupt compressed body: {exc}", url=url) from exc
    return bytes(buf)


def _check_declared_length(response: httpx.Response, decoder: _Decoder, url: str,
                           limit: int, truncate: bool) -> None:
    """Skip the download at once when an uncompressed body says it is too large."""
    declared = response.headers.get("content-length", "")
    if not truncate and decoder.identity and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body of {declared} bytes exceeds the cap of {limit}", url=url)


def _append_capped(buf: bytearray, piece: bytes, limit: int, url: str,
                   truncate: bool) -> bool:
    """Append; True when the cap is reached and reading must stop."""
    buf += piece
    if len(buf) <= limit:
        return False
    if truncate:
        del buf[limit:]
        return True
    raise BodyTooLarge(f"body exceeds the cap of {limit} bytes (after decoding)", url=url)


class _Decoder:
    """Identity or zlib decoding whose every output step is at most 64 KiB."""

    def __init__(self, wbits: int | None) -> None:
        self.identity = wbits is None
        self._wbits = wbits
        self._z = zlib.decompressobj(wbits) if wbits is not None else None
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._z is None:
            yield data
            return
        if not self._started and data:
            self._started = True
            self._z = self._pick_deflate(data)
        yield from self._drain(data)

    def flush(self) -> Iterator[bytes]:
        if self._z is not None:
            yield from self._drain(b"")
            yield self._z.flush()

    def _drain(self, data: bytes) -> Iterator[bytes]:
        assert self._z is not None
        while True:
            out = self._z.decompress(data, _PIECE)
            if out:
                yield out
            data = self._z.unconsumed_tail
            if not out:  # everything consumed and nothing left to emit
                return

    def _pick_deflate(self, first: bytes) -> zlib._Decompress:
        """HTTP "deflate" should be zlib-wrapped, but some servers send raw deflate."""
        assert self._z is not None
        if self._wbits != zlib.MAX_WBITS:
            return self._z
        try:
            zlib.decompressobj(zlib.MAX_WBITS).decompress(first[:2])
        except zlib.error:
            return zlib.decompressobj(-zlib.MAX_WBITS)
        return self._z


def _decoder_for(content_encoding: str | None, url: str) -> _Decoder:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _Decoder(None)
    if codings in (["gzip"], ["x-gzip"]):
        return _Decoder(zlib.MAX_WBITS | 16)
    if codings == ["deflate"]:
        return _Decoder(zlib.MAX_WBITS)
    raise UnsupportedContent(f"unsupported Content-Encoding {content_encoding!r}", url=url)
