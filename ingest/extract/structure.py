"""Structural pruning: drop in-article widgets by their class/id names.

Publishers label their widgets (``class="share-buttons"``,
``id="related-posts"``, ``class="author-box"``) and those labels are a far
surer cue than the widget's text, which varies by language and site. This
runs on the parsed page *before* trafilatura, and returns what it removed as
:class:`Removal` records so cleaning and editors can explain the gap.

Safety first: a label is only trusted on an element that is *small* next to
the page's text and holds no run of long paragraphs, so a wrapper such as
``class="article-body has-share-buttons"`` is never taken for a widget.

Elements the page hides (``hidden``, ``aria-hidden``, ``display: none``) are
pruned the same way, under the rule ``hidden``.

Example::

    >>> from lxml.html import fromstring
    >>> tree = fromstring("<html><body><article>" + "<p>Un paragraphe du texte.</p>" * 20
    ...                   + "<div class='newsletter-signup'>Inscrivez-vous</div>"
    ...                   + "</article></body></html>")
    >>> [(r.rule, r.text) for r in prune_tree(tree)]
    [('newsletter', 'Inscrivez-vous')]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from lxml import etree
from lxml.html import HtmlElement

from ingest.types import Removal

# Each rule: a regex over the element's "class id" string, tokens separated by
# space, "-", "_" or a camelCase boundary (normalised to "-").
_SEP = r"(?:^|[\s-])"
_END = r"(?:$|[\s-])"
_LABEL_BODIES: tuple[tuple[str, str], ...] = (
    ("cookie", r"cookies?|cookie-?(?:banner|notice|consent)|consent|gdpr"),
    ("share_widget", r"share|shares|sharing|social-?(?:share|links|icons|buttons|bar|media)|"
                     r"sharedaddy|addtoany|a2a-?\w*|sharethis|shareaholic|partage|"
                     r"share-?(?:bar|buttons|links|tools|icons|box)|social"),
    ("related", r"related(?:-?\w+)?|read-?more|more-?(?:stories|articles|news)|"
                r"recommended|recommendations|also-?read|see-?also|taboola|outbrain|"
                r"yarpp|jp-?relatedposts|you-?may-?like|lire-?aussi|a-?lire"),
    ("newsletter", r"newsletter|newsletters|subscribe|subscription|signup|sign-?up|"
                   r"optin|opt-?in|mailchimp|mc4wp|paywall|inscription"),
    ("ad", r"ad|ads|adv|advert|adverts|advertisement|advertising|ad-?(?:slot|unit|"
           r"container|wrapper|box|banner|block)|adsbygoogle|dfp|gpt-?ad|sponsored|"
           r"sponsor|promo|promoted|publicite|affiliate|native-?ad"),
    ("author_bio", r"author-?(?:bio|box|info|card|profile|details|about)|about-?(?:the-?)?"
                   r"author|authorbox|bio-?box|author-?description"),
    ("disclaimer", r"disclaimer|disclosure|risk-?warning|legal-?notice"),
    ("photo_credit", r"(?:photo|image|img|media)-?credits?|credits?"),
    ("navigation", r"toc|table-?of-?contents|breadcrumbs?|post-?navigation|nav-?links|"
                   r"pagination|skip-?link|back-?to-?top|jump-?to|sommaire"),
    ("byline", r"byline|bylines|post-?meta|entry-?meta|article-?meta|reading-?time|"
               r"read-?time|posted-?on|dateline"),
    ("ad", r"cta|call-?to-?action|promo-?box"),
    ("related", r"tag-?cloud|tags|tag-?list|(?:post|entry|article)-?tags|"
                r"(?:post-?)?categories"),
    ("navigation", r"sidebar|side-?bar|widget-?area|sr-?only|screen-?reader-?text|"
                   r"visually-?hidden"),
    ("share_widget", r"comments?|comment-?(?:form|respond|list)|respond"),
)
LABEL_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (rule, re.compile(_SEP + f"(?:{body})" + _END)) for rule, body in _LABEL_BODIES
)
# All rules in one pattern: it matches exactly when one of them does, so the nine
# labels in ten that name no widget cost one search instead of eleven.
_ANY_LABEL = re.compile(_SEP + "(?:" + "|".join(f"(?:{b})" for _, b in _LABEL_BODIES) + ")"
                        + _END)
_CAMEL = re.compile(r"([a-z])([A-Z])")
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[_\s]+")
_LABELLED = etree.XPath("descendant-or-self::*[@class or @id or @hidden or @aria-hidden or @style]")
_NEVER = frozenset({"html", "body", "article", "main", "header", "h1", "h2", "h3", "h4"})
_INVISIBLE = ("script", "style", "noscript", "template", etree.Comment)
_MAX_SHARE = 0.25
_LINK_RULES = frozenset({"navigation", "related", "share_widget"})
_SHORT_TEXT = 80
_LINK_SHARE = 0.3
_LONG_PARAGRAPH = 150


@lru_cache(maxsize=8192)
def label_rule(label: str) -> str | None:
    """The rule a class/id string names, or None.

    >>> label_rule("entry-share-buttons"), label_rule("shadow header"), label_rule("RelatedPosts")
    ('share_widget', None, 'related')
    """
    norm = _normalise_label(label)
    if not _ANY_LABEL.search(norm):
        return None
    for rule, pattern in LABEL_RULES:
        if pattern.search(norm):
            return rule
    return None


def _normalise_label(label: str) -> str:
    """camelCase split, ``_`` to ``-``, whitespace to one space, lower-cased.

    The substitutions only run when their characters are there: most labels
    are already lower-case and free of underscores.
    """
    if label.lower() != label:  # an ASCII capital, if any, changes under lower()
        label = _CAMEL.sub(r"\1-\2", label)
    if "_" not in label:  # then every separator run is whitespace: one space
        return _SPACES.sub(" ", label).lower()
    return _SEPARATORS.sub(lambda m: " " if m.group().isspace() else "-", label).lower()


def prune_tree(tree: HtmlElement) -> tuple[Removal, ...]:
    """Remove labelled widgets from ``tree`` in place; return what went, in page order.

    Scripts, styles and templates go first (unrecorded: they are not text, and
    trafilatura drops them anyway), so sizes and removal texts are visible text.
    """
    etree.strip_elements(tree, *_INVISIBLE, with_tail=False)
    total = _text_length(tree)
    removals: list[Removal] = []
    # Only elements with a class or id can have a rule: select them in C, in
    # document order, instead of wrapping every node of the page in Python.
    for element in _LABELLED(tree):
        rule = _element_rule(element, total) or _hidden_rule(element, total)
        if rule is None or _detached(element, tree):
            continue
        text = " ".join(element.text_content().split())
        _drop(element)
        if text:
            removals.append(Removal(text, rule))
    return tuple(removals)


def _element_rule(element: HtmlElement, total: int) -> str | None:
    if not isinstance(element.tag, str) or element.tag in _NEVER:
        return None
    label = f"{element.get('class', '')} {element.get('id', '')}".strip()
    if not label:
        return None
    rule = label_rule(label)
    if rule is None or not _small(element, total):
        return None
    if rule in _LINK_RULES and not _link_like(element):
        return None
    return rule


def _hidden_rule(element: HtmlElement, total: int) -> str | None:
    """``hidden`` for a small element the reader never sees: ``hidden``,
    ``aria-hidden="true"``, ``display: none`` or ``visibility: hidden``.

    Menus, pop-ups and mobile copies of widgets sit in the page hidden until a
    click; trafilatura reads text whatever its style. The size limit of
    :func:`_small` keeps a body that a script reveals (a "read more" toggle).

    >>> from lxml.html import fromstring
    >>> page = fromstring("<div><p>" + "Body text. " * 40 + "</p>"
    ...                   "<ul style='display: none'><li>Menu</li></ul></div>")
    >>> _hidden_rule(page.find(".//ul"), _text_length(page))
    'hidden'
    """
    if not isinstance(element.tag, str) or element.tag in _NEVER:
        return None
    if hidden_by_markup(element.attrib) and _small(element, total):
        return "hidden"
    return None


def hidden_by_markup(attrs: Mapping[str, str]) -> bool:
    """Whether an element's attributes hide it from the reader: ``hidden``,
    ``aria-hidden="true"``, ``display: none`` or ``visibility: hidden`` (also read by
    :mod:`ingest.extract.access`, on attributes it parsed itself).

    >>> hidden_by_markup({"style": "Visibility: hidden"}), hidden_by_markup({"aria-hidden": "0"})
    (True, False)
    """
    style = (attrs.get("style") or "").replace(" ", "").lower()
    return ("hidden" in attrs or attrs.get("aria-hidden") == "true"
            or "display:none" in style or "visibility:hidden" in style)


def _small(element: HtmlElement, total: int) -> bool:
    """A widget is a small part of the page and holds no run of long paragraphs."""
    length = _text_length(element)
    if length > max(_MAX_SHARE * total, 300):
        return False
    long_paragraphs = sum(
        len(p.text_content()) >= _LONG_PARAGRAPH for p in element.iter("p")
    )
    return long_paragraphs < 2


def _link_like(element: HtmlElement) -> bool:
    """Short, or mostly link text: what menus, "related" boxes and share bars are made of.

    A tagged section of prose (``class="toc-para"`` on a body section) is not.
    """
    length = _text_length(element)
    if length < _SHORT_TEXT:
        return True
    linked = sum(_text_length(a) for a in element.iter("a"))
    return linked >= _LINK_SHARE * length


def _text_length(element: HtmlElement) -> int:
    return len(" ".join(element.text_content().split()))


def _detached(element: HtmlElement, tree: HtmlElement) -> bool:
    """True when an ancestor was already removed (iteration used a snapshot)."""
    node = element
    while node is not None and node is not tree:
        node = node.getparent()
    return node is None


def _drop(element: HtmlElement) -> None:
    """Remove the element but keep its tail text, which belongs to the parent."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
