"""Extraction: one HTML page in, one :class:`ExtractedArticle` out.

trafilatura finds the article container and drops navigation, footers and
sidebars; this module adds what it does not do for us:

* decoding bytes the way browsers do (:func:`ingest.extract.decode.decode_html`), so
  a mislabelled page still reads as text instead of raising;
* structural pruning *before* trafilatura (share bars, "related" boxes,
  newsletter forms, author boxes inside the article: see
  :mod:`ingest.extract.structure`), recorded as :class:`Removal` so the
  cleaning stage and editors can see what went;
* the body as typed blocks (``Paragraph(text, kind)``) read from
  trafilatura's XML tree, so later stages can judge lines, not one string;
* after the body's last prose paragraph, runs of blocks that are each the
  whole text of a link (other stories' headlines) are dropped as ``related``
  (:func:`split_trailing_links`): the markup says what the words cannot;
* page-level metadata trafilatura does not return: canonical URL and the
  language the page *declares* (``<html lang>``, ``og:locale``): a claim,
  kept as such; the text's own language is identified after cleaning
  (:mod:`ingest.clean.language`).

Pure and offline: no network, no timeouts (the extraction worker applies the
deadline). Example::

    >>> art = extract_article("<html lang='fr'><body><article><p>" + "Texte. " * 40
    ...                       + "</p></article></body></html>", "https://a.example/x")
    >>> art.declared_language, art.paragraphs[0].kind
    ('fr', 'p')
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    fromstring,
)
from trafilatura.settings import Document
from trafilatura.utils import is_dubious_html, repair_faulty_html

from ingest.errors import ExtractError
from ingest.extract.decode import decode_html
from ingest.extract.metadata import page_metadata
from ingest.extract.structure import prune_tree
from ingest.extract.teasers import link_texts, split_trailing_links
from ingest.langtags import primary_tag
from ingest.types import ExtractedArticle, Paragraph, Removal

# trafilatura's parser options. Its lxml.html parser calls a Python method for every
# element object lxml creates (to give <form>, <input>... their own classes, which
# neither trafilatura nor we use): about 4% of a page's extraction time. Here every
# element is a plain HtmlElement, chosen in C; the output is the same.
_PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                     remove_comments=True, remove_pis=True)
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
_KIND = {"p": "p", "head": "head", "quote": "quote", "blockquote": "quote", "code": "code",
         "pre": "code", "list": "list", "ul": "list", "ol": "list", "dl": "list",
         "table": "table", **{f"h{i}": "head" for i in range(1, 7)}}
_CONTAINERS = frozenset({"div", "section", "article", "main", "header", "footer",
                         "aside", "center", "form", "fieldset", "details", "li", "item"})
_ITEMS = frozenset({"item", "li", "dt", "dd"})
_SKIP = frozenset({"graphic", "img", "figure", "script", "style", "noscript", "svg", "button",
                   "input", "select", "iframe"})


def extract_article(html: str | bytes, url: str | None = None) -> ExtractedArticle:
    """Extract the article of one page; raise :class:`ExtractError` if there is none.

    See :func:`extract_with_removals`, which also returns what structural
    pruning removed.
    """
    return extract_with_removals(html, url)[0]


def extract_with_removals(
    html: str | bytes, url: str | None = None
) -> tuple[ExtractedArticle, tuple[Removal, ...]]:
    """Extract the article and the blocks pruned from it by their markup.

    Metadata is read from the untouched page (a removed author box may be the
    only place with the author's name); the body from the pruned page.

    >>> page = ("<html><body><article>" + "<p>Ceci est une phrase du texte.</p>" * 9
    ...         + "<div class='share-buttons'>Partager</div></article></body></html>")
    >>> art, removed = extract_with_removals(page, "https://a.example/a")
    >>> removed[0].rule, len(art.paragraphs)
    ('share_widget', 9)
    """
    text = decode_html(html) if isinstance(html, bytes) else html
    tree = _parse(text, url)
    # One tree, no copies of our own: what is read from the whole page is read
    # first, then the tree is pruned in place for trafilatura, which copies its
    # input anyway. trafilatura's metadata code only reads the tree (it copies
    # before its own pruning), so it needs no copy either.
    head = _PageHead(page_language(tree), _canonical_candidates(tree))
    meta = _metadata(tree, url)
    removals = prune_tree(tree)
    paragraphs = tuple(_paragraphs(_body(tree, url)))
    if not any(p.text.strip() for p in paragraphs):
        raise ExtractError("no article text found", url=url)
    # The pruned tree is still whole (trafilatura works on its own copy): its links are
    # read only when the blocks after the body could be a list of other stories.
    paragraphs, teasers = split_trailing_links(paragraphs, lambda: link_texts(tree))
    return _article(url, head, meta, paragraphs), removals + teasers


@dataclass(frozen=True, slots=True)
class _PageHead:
    """What is read from the unpruned page besides trafilatura's metadata."""

    language: str | None
    canonical_candidates: tuple[str, ...]


def _parse(text: str, url: str | None) -> HtmlElement:
    """Parse as ``trafilatura.utils.load_html`` does (same repairs, options, fallback
    to bytes and rejection of what is not HTML), with :data:`_PARSER`'s classes."""
    beginning = text[:50].lower()
    text = repair_faulty_html(text, beginning)
    tree = _fromstring(text)
    if tree is None or len(tree) < 1:
        tree = _fromstring(text.encode("utf-8", "surrogatepass"))
    if tree is None or (is_dubious_html(beginning) and len(tree) < 2):
        raise ExtractError("empty or unparsable HTML", url=url)
    return tree


def _fromstring(markup: str | bytes) -> HtmlElement | None:
    try:
        return fromstring(markup, parser=_PARSER)
    # ValueError: a str with an XML encoding declaration (the bytes will parse).
    except (ValueError, etree.LxmlError):
        return None


def _metadata(tree: HtmlElement, url: str | None) -> Document:
    try:
        return page_metadata(tree, url)
    # trafilatura's metadata code raises assorted built-in errors on odd pages.
    except Exception as exc:
        raise ExtractError(f"metadata extraction failed: {exc!r}", url=url) from exc


def _body(tree: HtmlElement, url: str | None) -> etree._Element:
    try:
        # "xml" only skips rendering the body as plain text, which we do not use:
        # extraction is the same for every output format.
        doc = trafilatura.bare_extraction(
            tree, url=url, include_comments=False, include_tables=True,
            with_metadata=False, deduplicate=False, output_format="xml",
        )
    # trafilatura's extraction code raises assorted built-in errors on odd pages.
    except Exception as exc:
        raise ExtractError(f"trafilatura failed: {exc!r}", url=url) from exc
    if not isinstance(doc, Document) or doc.body is None:
        raise ExtractError("no article text found", url=url)
    return doc.body


def _paragraphs(body: etree._Element) -> Iterator[Paragraph]:
    """Typed blocks from trafilatura's body, in page order.

    trafilatura's own output uses its XML tags (p, head, list/item, quote,
    table/row/cell, code, lb); its fallback extractors may return plain HTML
    (div, h2, ul/li, blockquote, pre, br), so both vocabularies are read.
    Unknown containers are walked into; loose text in them becomes a ``p``.
    """
    yield from _blocks(_squash(body.text or ""), "p")
    for child in body:
        yield from _block(child)
        yield from _blocks(_squash(child.tail or ""), "p")


def _block(element: etree._Element) -> Iterator[Paragraph]:
    tag = _tag(element)
    kind = _KIND.get(tag)
    if kind == "list":
        yield from _list_items(element)
    elif kind == "table":
        yield from _table_rows(element)
    elif kind == "code":
        yield from _blocks("".join(element.itertext()).strip("\n"), "code")
    elif kind == "quote" and _has_blocks(element):
        yield from (Paragraph(p.text, "quote") for p in _paragraphs(element))
    elif kind is not None:
        yield from _lines(element, kind)
    elif tag not in _SKIP and _has_blocks(element):
        yield from _paragraphs(element)
    elif tag not in _SKIP:
        yield from _lines(element, "p")


def _tag(element: etree._Element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _has_blocks(element: etree._Element) -> bool:
    return any(_tag(e) in _KIND or _tag(e) in _CONTAINERS for e in element.iterdescendants())


def _list_items(element: etree._Element) -> Iterator[Paragraph]:
    """One block per item; an item holding lists or paragraphs is walked into."""
    for item in element:
        if _tag(item) not in _ITEMS:
            yield from _block(item)
        elif _has_blocks(item):
            for p in _paragraphs(item):
                yield Paragraph(p.text, "list") if p.kind == "p" else p
        else:
            yield from _lines(item, "list")


def _table_rows(element: etree._Element) -> Iterator[Paragraph]:
    for row in element.iter("row", "tr"):
        cells = [_squash("".join(cell.itertext())) for cell in row.iter("cell", "td", "th")]
        yield from _blocks(" | ".join(c for c in cells if c), "table")


def _lines(element: etree._Element, kind: str) -> Iterator[Paragraph]:
    """Split a block at its ``<lb/>``: each visual line is judged on its own."""
    parts = [""]
    _collect(element, parts, top=True)
    for part in parts:
        yield from _blocks(_squash(part), kind)


def _collect(element: etree._Element, parts: list[str], *, top: bool = False) -> None:
    if _tag(element) in ("lb", "br"):
        parts.append("")
    else:
        parts[-1] += element.text or ""
        for child in element:
            _collect(child, parts)
    if not top:
        parts[-1] += element.tail or ""


def _blocks(text: str, kind: str) -> Iterator[Paragraph]:
    if text.strip():
        yield Paragraph(text, kind)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _article(
    url: str | None, head: _PageHead, meta: Document, paragraphs: tuple[Paragraph, ...]
) -> ExtractedArticle:
    page_url = url or meta.url or ""
    sitename = _clean(meta.sitename)
    return ExtractedArticle(
        url=page_url,
        title=_strip_site_suffix(_clean(meta.title), sitename),
        author=_clean(meta.author),
        published=_clean(meta.date),
        declared_language=head.language,
        paragraphs=paragraphs,
        canonical_url=_first_absolute(head.canonical_candidates, url),
        sitename=sitename,
    )


def _clean(value: str | None) -> str | None:
    value = _squash(value) if value else None
    return value or None


_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " » ")


def _strip_site_suffix(title: str | None, sitename: str | None) -> str | None:
    """Drop a trailing ``| Site`` from a title when it names the site.

    >>> _strip_site_suffix("Musk sues OpenAI | The Paper", "The Paper")
    'Musk sues OpenAI'
    """
    if not title or not sitename:
        return title
    for sep in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head and tail.casefold() == sitename.casefold():
            return head.strip()
    return title


def page_language(tree: HtmlElement) -> str | None:
    """Two-letter language from ``<html lang>`` or ``og:locale``, if declared.

    >>> from lxml.html import fromstring
    >>> page_language(fromstring("<html lang='fr-FR'><body><p>x</p></body></html>"))
    'fr'
    """
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += tree.xpath("//meta[@property='og:locale']/@content")
    candidates += tree.xpath("//meta[@http-equiv='content-language']/@content")
    return next(filter(None, map(primary_tag, map(str, candidates))), None)


def canonical_url(tree: HtmlElement, url: str | None) -> str | None:
    """Absolute ``<link rel=canonical>`` (else ``og:url``), resolved against ``url``.

    >>> from lxml.html import fromstring
    >>> canonical_url(fromstring('<html><head><link rel="canonical" href="/a?b=1">'
    ...               '</head><body><p>x</p></body></html>'), "https://n.example/z")
    'https://n.example/a?b=1'
    """
    return _first_absolute(_canonical_candidates(tree), url)


def _canonical_candidates(tree: HtmlElement) -> tuple[str, ...]:
    """``<link rel=canonical>`` hrefs, then ``og:url`` contents, as written."""
    found = tree.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]"
                       "/@href")
    found += tree.xpath("//meta[@property='og:url']/@content")
    return tuple(str(value) for value in found)


def _first_absolute(found: tuple[str, ...], url: str | None) -> str | None:
    """The first candidate that resolves to an absolute http(s) URL."""
    for value in found:
        absolute = urljoin(url or "", value.strip())
        if urlsplit(absolute).scheme in ("http", "https") and urlsplit(absolute).netloc:
            return absolute
    return None
