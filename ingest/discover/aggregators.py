"""Aggregator links: recognise them, unwrap them offline, or name the lookup they need.

News search feeds do not link to articles. Their items link to the aggregator,
which sends the reader on; fetching those wrapper pages as articles stores
Google's or Bing's shell instead of the story. This module is the pure half of
undoing that (no I/O: :mod:`ingest.discover.resolve` does the network step,
through the project's own fetcher). The shapes below are the observed ones,
and ``tests/aggregatorweb.py`` replicates them on 127.0.0.1.

**Bing News RSS** (``https://www.bing.com/news/search?q=...&format=rss``): an
item's ``<link>`` is a click wrapper whose ``url`` parameter is the publisher's
URL, percent-encoded (lower-case escapes are common)::

    http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=...&url=https%3a%2f%2fpub.example%2fstory&c=...&mkt=en-us

It is unwrapped offline: Bing is never asked. (Bing's web-search click
wrapper, ``/ck/a?...&u=a1<base64url of the URL>``, is unwrapped too.)

**Google News RSS** (``https://news.google.com/rss/search?q=...&hl=..&gl=..&ceid=..``):
an item's ``<link>`` is ``https://news.google.com/rss/articles/<id>?oc=5``
(``/articles/<id>``, ``/read/<id>`` and ``/__i/rss/rd/articles/<id>`` on other
surfaces). ``<id>`` is the unpadded base64url of a protobuf message: field 1
(varint), field 4 (bytes), optionally field 26 (bytes, the AMP URL).

* Ids issued before July 2024 (they start ``CBMi``) carry the article URL in
  field 4: decoded offline.
* Newer ids carry an opaque token there (``AU_yqL...``): only Google can say
  where they lead, through the protocol its own page runs in JavaScript (an
  article page holding a signature, then a ``batchexecute`` POST), described in
  :mod:`ingest.discover.batchexecute`. :func:`unwrap` says where to ask
  (:class:`Lookup`); if that page answers with an HTTP redirect off the
  aggregator instead (the protocol of the years before), where it lands is the
  target.

A target is only a publisher URL if it is absolute http(s) and not on an
aggregator host. Which hosts are aggregators is configuration
(:class:`Aggregators`, the real hosts by default), never guessed from paths::

    >>> real = Aggregators()
    >>> bing = "http://www.bing.com/news/apiclick.aspx?ref=FexRss&url="
    >>> unwrap(bing + "https%3a%2f%2fpub.example%2fa&c=1", real)
    Unwrapped(url='https://pub.example/a')
    >>> unwrap("https://news.google.com/rss/articles/" + BBC_ID + "?oc=5", real)
    Unwrapped(url='https://www.bbc.com/news/articles/cjjjnxdv188o')
    >>> unwrap("https://pub.example/a", real) is None     # not an aggregator link
    True
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from ingest.urls import is_web_url

AggregatorKind = Literal["google", "bing"]
BATCHEXECUTE_PATH = "/_/DotsSplashUi/data/batchexecute"
_ID_PARENTS = frozenset({"articles", "read"})
_MAX_ID_CHARS = 4096

BBC_ID = ("CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cy9hcnRpY2xlcy9jampqbnhkdjE4OG_SATJodHRwczovL3d3dy5i"
          "YmMuY29tL25ld3MvYXJ0aWNsZXMvY2pqam54ZHYxODhvLmFtcA")
"""A real pre-2024 id (quoted in the public decoders' READMEs): it carries its URL."""
NEWER_ID = ("CBMiVkFVX3lxTE4zaGU2bTY2ZGkzdTRkSkJ0cFpsTGlDUjkxU2FBRURaTWU0c3QzVWZ1MHZZNkZ5"
            "Vzk1ZVBnTDFHY2R6ZmdCUkpUTUJsS1pqQTlCRzlzbHV3")
"""A real id of the 2024 format: its field 4 is an ``AU_yqL`` token, not a URL."""


@dataclass(frozen=True, slots=True)
class Aggregators:
    """The hosts (``host`` or ``host:port``, lower case) whose links are wrappers.

    Injectable so a loopback replica (``127.0.0.1:PORT``) is recognised in tests,
    and so an operator can add a regional host::

        >>> Aggregators(google=frozenset({"127.0.0.1:8001"})).kind("http://127.0.0.1:8001/rss/articles/x")
        'google'
    """

    google: frozenset[str] = frozenset({"news.google.com"})
    bing: frozenset[str] = frozenset({"www.bing.com", "bing.com"})

    def kind(self, url: str) -> AggregatorKind | None:
        """Which aggregator ``url`` is on, matched on ``host:port`` then ``host``."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return None
        names = (parts.netloc.lower().rpartition("@")[2], host)
        if any(n in self.google for n in names):
            return "google"
        if any(n in self.bing for n in names):
            return "bing"
        return None


@dataclass(frozen=True, slots=True)
class Locale:
    """Google News' edition parameters (``hl``, ``gl``, ``ceid``), carried into the lookup."""

    hl: str = "en-US"
    gl: str = "US"
    ceid: str = "US:en"

    @classmethod
    def of(cls, *urls: str) -> Locale:
        """The edition named by the first of ``urls`` that names one, else en-US.

        >>> Locale.of("https://news.google.com/rss/articles/x?oc=5",
        ...           "https://news.google.com/rss/search?q=a&hl=fr&gl=FR&ceid=FR:fr")
        Locale(hl='fr', gl='FR', ceid='FR:fr')
        """
        default = cls()
        for url in urls:
            query = dict(parse_qsl(urlsplit(url).query))
            if query.get("ceid") or query.get("hl"):
                return cls(query.get("hl") or default.hl, query.get("gl") or default.gl,
                           query.get("ceid") or default.ceid)
        return default


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """The publisher's URL, found without asking the aggregator."""

    url: str


@dataclass(frozen=True, slots=True)
class Lookup:
    """A Google News id whose target only Google can give: where to ask, and how."""

    article_id: str
    page_url: str
    batch_url: str
    locale: Locale = field(default_factory=Locale)


@dataclass(frozen=True, slots=True)
class Unresolvable:
    """An aggregator link that leads nowhere usable; ``reason`` is a counter label."""

    reason: str


Verdict = Unwrapped | Lookup | Unresolvable


def unwrap(url: str, aggregators: Aggregators, source_url: str = "") -> Verdict | None:
    """What to do with a listed link: None when it is no aggregator's, else a verdict.

    ``source_url`` (the feed's own URL) lends its Google News edition to a lookup
    when the link names none.

    >>> unwrap("https://www.bing.com/news/search?q=x", Aggregators())
    Unresolvable(reason='unknown_link')
    >>> unwrap("https://news.google.com/rss/articles/@@@", Aggregators())
    Unresolvable(reason='decode_failed')
    """
    kind = aggregators.kind(url)
    if kind is None:
        return None
    verdict = _bing(url) if kind == "bing" else _google(url, source_url)
    if isinstance(verdict, Unwrapped) and not is_publisher_url(verdict.url, aggregators):
        return Unresolvable("not_a_publisher_url")
    return verdict


def is_publisher_url(url: str, aggregators: Aggregators) -> bool:
    """Absolute http(s), with a host, and not on an aggregator.

    >>> is_publisher_url("https://pub.example/a", Aggregators())
    True
    >>> is_publisher_url("https://news.google.com/topics/x", Aggregators())
    False
    >>> is_publisher_url("javascript:alert(1)", Aggregators())
    False
    """
    return is_web_url(url) and aggregators.kind(url) is None


def _bing(url: str) -> Verdict:
    parts = urlsplit(url)
    query = {k.lower(): v for k, v in parse_qsl(parts.query)}
    path = parts.path.lower()
    if path.endswith("/apiclick.aspx"):
        target = query.get("url", "").strip()
        return Unwrapped(target) if target else Unresolvable("no_target")
    if path == "/ck/a":
        return _bing_click(query.get("u", ""))
    return Unresolvable("unknown_link")


def _bing_click(value: str) -> Verdict:
    """Bing web search's ``u=a1<base64url>`` click parameter."""
    if not value.startswith("a1"):
        return Unresolvable("no_target")
    try:
        target = _b64(value[2:]).decode("utf-8")
    except (binascii.Error, ValueError):
        return Unresolvable("decode_failed")
    return Unwrapped(target)


def google_article_id(url: str) -> str | None:
    """The article id of a Google News link (``.../articles/<id>``, ``.../read/<id>``).

    >>> google_article_id("https://news.google.com/rss/articles/CBMiabc?oc=5")
    'CBMiabc'
    >>> google_article_id("https://news.google.com/topics/CAAq") is None
    True
    """
    segments = urlsplit(url).path.split("/")
    if len(segments) >= 3 and segments[-2] in _ID_PARENTS and segments[-1]:
        return segments[-1]
    return None


def _google(url: str, source_url: str) -> Verdict:
    article_id = google_article_id(url)
    if article_id is None:
        return Unresolvable("unknown_link")
    carried = decode_google_id(article_id)
    if carried is None:
        return Unresolvable("decode_failed")
    if carried:
        return Unwrapped(carried)
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    locale = Locale.of(url, source_url)
    query = urlencode({"hl": locale.hl, "gl": locale.gl, "ceid": locale.ceid})
    return Lookup(article_id, f"{origin}/rss/articles/{article_id}?{query}",
                  f"{origin}{BATCHEXECUTE_PATH}", locale)


def decode_google_id(article_id: str) -> str | None:
    """The URL a Google News id carries; ``""`` when it is a valid id carrying none
    (a newer id: only a lookup can tell); None when it is no id at all.

    >>> decode_google_id(BBC_ID)
    'https://www.bbc.com/news/articles/cjjjnxdv188o'
    >>> decode_google_id(NEWER_ID)
    ''
    >>> decode_google_id("not an id!") is None
    True
    """
    if not article_id or len(article_id) > _MAX_ID_CHARS:
        return None
    try:
        fields = protobuf_fields(_b64(article_id))
    except ValueError:
        return None
    carried = [v for v in fields.get(4, []) if isinstance(v, bytes)]
    if 1 not in fields or not carried:
        return None
    text = carried[0].decode("utf-8", errors="replace")
    return text if is_web_url(text) else ""


def _b64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except binascii.Error as exc:
        raise ValueError(str(exc)) from exc


def protobuf_fields(data: bytes) -> dict[int, list[int | bytes]]:
    """The fields of a protobuf message, by number (varints and length-delimited
    only, plus fixed 32/64-bit skipped); ValueError on anything malformed.

    >>> protobuf_fields(bytes([0x08, 0x13, 0x22, 0x02]) + b"ab")
    {1: [19], 4: [b'ab']}
    """
    fields: dict[int, list[int | bytes]] = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            if i + size > len(data):
                raise ValueError("truncated field")
            value, i = data[i:i + size], i + size
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
            if i > len(data):
                raise ValueError("truncated field")
            continue
        else:
            raise ValueError(f"unsupported wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while i < len(data) and shift < 64:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if not byte & 0x80:
            return value, i
        shift += 7
    raise ValueError("truncated varint")
