"""Whether a page says its article is free or behind a paywall (``articles.access``).

A paywalled teaser is a real article page (kept, marked, updated when a later fetch
gets the full text), so the record needs to know. Publishers say it in markup, for
search engines and their own scripts; the words of a page ("abonnés", "premium",
"subscribe") say nothing about *this* page, so they are never read. In order:

1. schema.org ``isAccessibleForFree`` (what Google asks of paywalled pages), in
   JSON-LD on the article, in ``@graph``, under ``mainEntity``, or on a ``hasPart``
   (``{"isAccessibleForFree": false, "cssSelector": ".paywall"}``), as a boolean or
   a string (``"False"``); in microdata (``itemprop``); or, where a framework
   serialised it into a script, escaped;
2. the Open Graph news tier ``article:content_tier``: ``locked`` or ``metered``
   (a reader without a subscription is stopped after a few articles) is
   ``paywalled``, ``free`` is free;
3. paywall markup (``access.toml``): containers named ``paywall`` (not badges or
   links, not empty placeholders), and the messages membership plugins render only
   when the reader may not see the content (Leaky Paywall, Paid Memberships Pro,
   MemberPress, WooCommerce Memberships, Restrict Content Pro, Jetpack, Ghost).

A ``false``/locked signal wins over a ``true``/free one (the locked part is the story);
markup is read only when the page declares nothing (1 and 2 are the publisher's own
statement; markup is our reading of it). ``free`` needs an explicit statement;
``unknown`` is a page that says nothing, as most free sites do. Piano, Poool and
similar scripts decide in the browser, so their presence says nothing either.

Cost: one substring test per needle over the page (about 0.05 to 0.1 ms each on a
news page); tags and JSON are read only where a needle was found. Example::

    >>> access_of('<script type="application/ld+json">{"@type": "NewsArticle", '
    ...           '"isAccessibleForFree": "False"}</script><p>Teaser</p>')
    'paywalled'
    >>> access_of('<meta property="article:content_tier" content="free"><p>Text</p>')
    'free'
    >>> access_of('<p>Réservé aux abonnés ? Non, ce texte est libre.</p>')
    'unknown'
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from html import unescape
from importlib import resources

from ingest.extract.structure import hidden_by_markup
from ingest.types import Access

_FLAG = "isAccessibleForFree"
_LD_JSON = "application/ld+json"
# The flag as a framework serialises JSON into a script or an attribute:
# \"isAccessibleForFree\":\"False\", &quot;isAccessibleForFree&quot;:false ...
_ESCAPED = re.compile(r"isAccessibleForFree(?:\\*[\"']|&quot;)?\s*:\s*(?:\\*[\"']|&quot;)?"
                      r"\s*((?i:true|false))\b")
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
_TAG_NAME = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_NAME_SPLIT = re.compile(r"--|__")
_NEEDLE_HITS = 64
"""Occurrences of one needle read at most (a stylesheet may repeat a class name)."""


@dataclass(frozen=True, slots=True)
class Markers:
    """``access.toml`` read once."""

    tier_names: frozenset[str]
    tier_paywalled: frozenset[str]
    tier_free: frozenset[str]
    needles: tuple[str, ...]
    names: frozenset[str]
    plugin_names: frozenset[str]
    data_attributes: frozenset[str]
    truthy: frozenset[str]
    badge_tags: frozenset[str]


@cache
def markers() -> Markers:
    """The paywall markers of ``access.toml`` (read once per process)."""
    text = resources.files("ingest.extract").joinpath("access.toml").read_text("utf-8")
    data = tomllib.loads(text)
    tier, markup = data["content_tier"], data["markup"]
    return Markers(
        tier_names=frozenset(tier["meta_names"]), tier_paywalled=frozenset(tier["paywalled"]),
        tier_free=frozenset(tier["free"]), needles=tuple(markup["needles"]),
        names=frozenset(markup["names"]), plugin_names=frozenset(markup["plugin_names"]),
        data_attributes=frozenset(markup["data_attributes"]),
        truthy=frozenset(markup["truthy"]), badge_tags=frozenset(markup["badge_tags"]))


def access_of(html: str) -> Access:
    """``paywalled``, ``free`` or ``unknown``: what ``html`` says of its article's reach.

    >>> access_of('<div class="paywall"><p>Subscribe to read on.</p></div>')
    'paywalled'
    >>> access_of('<div class="paywall"></div><p>An open article.</p>')
    'unknown'
    """
    declared = {declared_access(html), tier_access(html)} - {"unknown"}
    if "paywalled" in declared:
        return "paywalled"
    if declared:
        return "free"
    return "paywalled" if paywall_markup(html) else "unknown"


def declared_access(html: str) -> Access:
    """What schema.org ``isAccessibleForFree`` says: JSON-LD, microdata, escaped JSON.

    >>> declared_access('<script type="application/ld+json">{"@graph": [{"@type": '
    ...     '"WebPage"}, {"@type": "NewsArticle", "isAccessibleForFree": true, "hasPart": '
    ...     '{"isAccessibleForFree": false, "cssSelector": ".paid"}}]}</script>')
    'paywalled'
    """
    if _FLAG not in html:
        return "unknown"
    blocks = [block for block in _ld_json_blocks(html) if _FLAG in block]
    found = [*_json_ld_flags(blocks), *_microdata_flags(html)]
    if not found and not blocks:  # only then is an escaped copy the page's own statement
        found = [m.group(1).lower() == "true" for m in _ESCAPED.finditer(html)]
    return _verdict(found)


def _verdict(found: list[bool]) -> Access:
    if False in found:
        return "paywalled"
    return "free" if found else "unknown"


def _json_ld_flags(blocks: list[str]) -> Iterator[bool]:
    """The flag of each JSON-LD item, ``@graph`` member, ``mainEntity`` and ``hasPart``
    (never of the works an item merely mentions: a related article, a publisher)."""
    for block in blocks:
        try:
            data = json.loads(block, strict=False)
        except ValueError:
            yield from (m.group(1).lower() == "true" for m in _ESCAPED.finditer(block))
            continue
        for item in _items(data):
            yield from _flags(item)


def _ld_json_blocks(html: str) -> Iterator[str]:
    """The text of each ``<script type="application/ld+json">``."""
    at = html.find(_LD_JSON)
    while at >= 0:
        start = html.find(">", at) + 1
        end = html.find("</script", start)
        if start <= 0 or end < 0:
            return
        yield html[start:end]
        at = html.find(_LD_JSON, end)


def _items(data: object) -> Iterator[dict[str, object]]:
    if isinstance(data, list):
        for entry in data:
            yield from _items(entry)
    elif isinstance(data, dict):
        yield data
        yield from _items(data.get("@graph"))
        yield from _items(data.get("mainEntity"))


def _flags(item: dict[str, object]) -> Iterator[bool]:
    for node in (item, *_parts(item.get("hasPart"))):
        flag = _flag(node.get(_FLAG))
        if flag is not None:
            yield flag


def _parts(value: object) -> list[dict[str, object]]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, dict)]


def _flag(value: object) -> bool | None:
    """A boolean, or the strings ``"true"``/``"false"`` in any case; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _microdata_flags(html: str) -> Iterator[bool]:
    for _name, attrs, _empty in _tags_with(html, _FLAG):
        flag = _flag(attrs.get("content")) if attrs.get("itemprop") == _FLAG else None
        if flag is not None:
            yield flag


def tier_access(html: str) -> Access:
    """What an ``article:content_tier`` meta tag says.

    >>> tier_access('<meta content="metered" property="article:content_tier">')
    'paywalled'
    """
    table = markers()
    found: list[bool] = []
    for needle in ("content_tier", "content-tier"):  # CNN writes article:content-tier
        if needle not in html:
            continue
        for name, attrs, _empty in _tags_with(html, needle):
            key = (attrs.get("property") or attrs.get("name") or "").lower()
            value = (attrs.get("content") or "").strip().lower()
            known = value in table.tier_paywalled or value in table.tier_free
            if name == "meta" and key in table.tier_names and known:
                found.append(value in table.tier_free)
    return _verdict(found)


def paywall_markup(html: str) -> bool:
    """Whether the page holds a paywall container or a plugin's restriction message.

    >>> paywall_markup('<aside class="gh-post-upgrade-cta"><h2>For members</h2></aside>')
    True
    >>> paywall_markup('<a class="paywall" href="/premium-story">Premium story</a>')
    False
    """
    table = markers()
    for needle in table.needles:
        if needle in html and any(_is_paywall(name, attrs, empty, table)
                                  for name, attrs, empty in _tags_with(html, needle)):
            return True
    return False


def _is_paywall(tag: str, attrs: dict[str, str], empty: bool, table: Markers) -> bool:
    """A non-empty, visible container named for a paywall or a plugin's message."""
    if empty or tag in table.badge_tags or hidden_by_markup(attrs):
        return False
    names = " ".join((attrs.get("class") or "", attrs.get("id") or "")).lower().split()
    if any(n in table.plugin_names for n in names):
        return True
    if any(_NAME_SPLIT.split(n, 1)[0] in table.names for n in names):
        return True
    return any(attrs.get(a, "x").strip().lower() in table.truthy
               for a in table.data_attributes)


def _tags_with(html: str, needle: str) -> Iterator[tuple[str, dict[str, str], bool]]:
    """Each start tag holding ``needle`` inside it: its name (lower case), attributes
    (names lower case, values unescaped) and whether the element closes at once."""
    start = 0
    for _ in range(_NEEDLE_HITS):
        at = html.find(needle, start)
        if at < 0:
            return
        start = at + len(needle)
        opened, closed = html.rfind("<", 0, at), html.find(">", at)
        if opened < 0 or closed < 0 or html.find(">", opened, at) >= 0:
            continue  # the needle is in text, not inside a tag
        name = _TAG_NAME.match(html, opened)
        if name is None:
            continue
        yield name.group(1).lower(), _attributes(html[name.end():closed]), \
            html[closed + 1:closed + 64].lstrip().startswith("</")


def _attributes(markup: str) -> dict[str, str]:
    """``class="a b" id=x hidden`` as ``{"class": "a b", "id": "x", "hidden": ""}``."""
    found: dict[str, str] = {}
    for m in _ATTRIBUTE.finditer(markup):
        value = m.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        found.setdefault(m.group(1).lower(), unescape(value))
    return found
