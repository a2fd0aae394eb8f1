"""What the wall judgement reads of a short page (:mod:`ingest.extract.walls`).

Only pages with almost no article text are read this way (a second parse, a few
milliseconds), so the judgement can look past what extraction kept: the ``<title>`` and
the page's own ``<h1>`` (not a login dialog's), the visible text and the ``<noscript>``
text apart, whether a password field is there, and how much of the visible text sits
in consent containers (``class``/``id`` naming a consent platform or a cookie notice):
a page whose text is mostly a consent dialog is a consent wall in any language.

Example::

    >>> view = read_page("<html><head><title>Zgoda</title></head><body><div id='cmp-box'>"
    ...                  "<p>Twoja prywatność jest dla nas ważna, prosimy o zgodę.</p></div>"
    ...                  "<p>Menu</p></body></html>")
    >>> round(view.consent_share, 2), view.password
    (0.91, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring

from ingest.extract.wallwords import fold, vocabulary

VISIBLE_CAP = 50_000
"""Characters of visible text read at most (a wall is short; a long page is no wall)."""

_PARSER = HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)
_HIDDEN = "ancestor::script or ancestor::style or ancestor::noscript or ancestor::template"
_TEXT = etree.XPath(f"//body//text()[not({_HIDDEN})]")
_TEXT_IN = etree.XPath(f".//text()[not({_HIDDEN})]")
_NOSCRIPT = etree.XPath("//noscript//text()")
_PASSWORD = etree.XPath("//input[translate(@type, 'PASWORD', 'pasword') = 'password']")
_LABELLED = etree.XPath("//body//*[@id or @class]")
_WRAPS_CONTENT = etree.XPath("boolean(descendant-or-self::*[self::article or self::main])")
# The page's own headings: not those of a login dialog, a hidden modal or a form.
_HEADINGS = etree.XPath("//h1[not(ancestor-or-self::*[self::dialog or self::form or @hidden "
                        "or @aria-hidden = 'true' or @role = 'dialog' or @aria-modal = 'true' "
                        "or contains(@class, 'modal')])]")


@dataclass(frozen=True, slots=True)
class PageView:
    """Folded title and ``<h1>``s, folded visible text (scripts, styles and
    ``<noscript>`` apart), ``<noscript>`` text, a password field, and the share of the
    visible text inside consent containers (0 to 1)."""

    titles: tuple[str | None, ...]
    text: str
    noscript: str
    password: bool
    consent_share: float = 0.0
    consent_text: str = ""
    """The folded text of the consent containers (what extraction may take for a body)."""


def read_page(html: str, title: str | None = None) -> PageView:
    """Parse ``html`` (``title``: the extracted one, read too).

    >>> view = read_page("<html><head><title>Connexion</title></head><body><form>"
    ...                  "<input type='PASSWORD'></form><noscript>Activez JavaScript"
    ...                  "</noscript></body></html>")
    >>> view.titles, view.password, view.noscript
    (('Connexion', None), True, 'activez javascript')
    """
    tree = _parse(html)
    if tree is None:
        return PageView((title,), "", "", False)
    head_title = tree.findtext(".//title")
    headings = tuple(" ".join(h.text_content().split()) for h in _elements(_HEADINGS(tree)))
    visible = " ".join(_strings(_TEXT(tree)))[:VISIBLE_CAP]
    boxed = " ".join(_consent_texts(tree))[:VISIBLE_CAP]
    return PageView(
        titles=(head_title, title, *headings[:3]),
        text=fold(visible),
        noscript=fold(" ".join(_strings(_NOSCRIPT(tree)))[:VISIBLE_CAP]),
        password=bool(_PASSWORD(tree)),
        consent_share=_length(boxed) / max(_length(visible), 1),
        consent_text=fold(boxed))


def _consent_texts(tree: HtmlElement) -> list[str]:
    """The visible text of each outermost consent container: an element whose class or
    id names one, and that holds no ``<article>`` or ``<main>`` (a page wrapper labelled
    ``has-cookie-banner`` is not a dialog)."""
    stems = vocabulary().consent_boxes
    counted: set[HtmlElement] = set()
    texts = []
    for element in _elements(_LABELLED(tree)):
        label = f"{element.get('class', '')} {element.get('id', '')}".lower()
        if not any(stem in label for stem in stems) or _WRAPS_CONTENT(element):
            continue
        if any(parent in counted for parent in element.iterancestors()):
            continue
        counted.add(element)
        texts.append(" ".join(_strings(_TEXT_IN(element))))
    return texts


def _length(text: str) -> int:
    """Characters of ``text`` once its whitespace is collapsed."""
    return len(" ".join(text.split()))


def _strings(found: object) -> list[str]:
    return [str(s) for s in found] if isinstance(found, list) else []


def _elements(found: object) -> list[HtmlElement]:
    return [e for e in found if isinstance(e, HtmlElement)] if isinstance(found, list) else []


def _parse(html: str) -> HtmlElement | None:
    """The page's tree, or None when it is not HTML at all."""
    for markup in (html, html.encode("utf-8", "surrogatepass")):
        try:
            return document_fromstring(markup, parser=_PARSER)
        # ValueError: a str with an XML encoding declaration (the bytes will parse).
        except (ValueError, etree.LxmlError):
            continue
    return None
