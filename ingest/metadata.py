"""Page metadata (title, author, date, site name) from trafilatura's own readers.

``trafilatura.metadata.extract_metadata`` also reads categories, tags and a
licence, which a record does not store: on real news pages those three
readers are about a quarter of its cost (``extract_catstags`` walks every
link of the page twice). This is the same sequence of trafilatura's
readers, in the same order and with the same fix-ups, minus those three, so
the fields we keep are exactly the ones ``extract_metadata`` returns (a test
holds the two side by side on every fixture page)::

    >>> from lxml.html import fromstring
    >>> meta = page_metadata(fromstring(
    ...     "<html><head><title>Musk sues OpenAI | The Paper</title></head>"
    ...     "<body><p>x</p></body></html>"), "https://paper.example/a")
    >>> meta.title
    'Musk sues OpenAI | The Paper'
"""

from __future__ import annotations

import logging

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, set_date_params

log = logging.getLogger("newsdedup.metadata")


def page_metadata(tree: HtmlElement, url: str | None) -> Document:
    """Title, author, date, URL and site name of a parsed page (the tree is only read).

    Raises whatever trafilatura's readers raise on odd pages; the caller
    translates it (see ``ingest.extract``).
    """
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # a lone word in <meta name=author> is a handle, not a name
    try:
        meta = extract_meta_json(tree, meta)
    except Exception as exc:  # trafilatura's JSON-LD reader has known crashes; it is optional
        log.debug("JSON-LD metadata skipped: %r", exc)
    meta.title = meta.title or extract_title(tree)
    meta.author = meta.author or extract_author(tree)
    meta.url = meta.url or extract_url(tree, url)
    meta.date = find_date(tree, **{**set_date_params(False), "url": meta.url})
    meta.sitename = _sitename(meta.sitename or extract_sitename(tree), meta.url)
    meta.clean_and_trim()
    return meta


def _sitename(name: str | None, url: str | None) -> str | None:
    """trafilatura's fix-ups: no leading ``@``, capitalised, else the URL's host."""
    if name:
        name = name.lstrip("@")
        if name and "." not in name and not name[0].isupper():
            name = name.title()
        return name
    match = META_URL.match(url) if url else None
    return match[1] if match else None

