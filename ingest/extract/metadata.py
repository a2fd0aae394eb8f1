"""Page metadata (title, author, date, site name) from trafilatura's own readers.

``trafilatura.metadata.extract_metadata`` also reads categories, tags and a
licence, which a record does not store: on real news pages those three
readers are about a quarter of its cost (``extract_catstags`` walks every
link of the page twice). This is the same sequence of trafilatura's
readers, in the same order and with the same fix-ups, minus those three, so
the fields we keep are exactly the ones ``extract_metadata`` returns (a test
holds the two side by side on every fixture page).

The author reader is the costliest of the rest: it copies the whole tree,
prunes the copy, and runs three XPaths whose regexes call back into Python
for every element (about 10 ms a page). Every match of those XPaths has an
attribute holding one of a few strings (``author``, ``byline``, ``writer``
...), so a page where no attribute holds any of them has no author for the
reader to find: a substring test on the page's attribute values says so
first (:func:`has_author_hint`, under 1 ms). On the 972 benchmark pages this
takes metadata from 9.1 to 5.9 CPU-seconds, with the same authors. The
shortcut is tied to trafilatura's own XPaths: it is only taken while they
are the ones it was written against (:data:`AUTHOR_HINTS_APPLY`)::

    >>> from lxml.html import fromstring
    >>> meta = page_metadata(fromstring(
    ...     "<html><head><title>Musk sues OpenAI | The Paper</title></head>"
    ...     "<body><p>x</p></body></html>"), "https://paper.example/a")
    >>> meta.title                  # trafilatura's reader drops the site's suffix
    'Musk sues OpenAI'
"""

from __future__ import annotations

import hashlib
import logging

from htmldate import find_date
from lxml.etree import XPath
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
from trafilatura.xpaths import AUTHOR_XPATHS

log = logging.getLogger("newsdedup.metadata")

# What every match of trafilatura 2.3's AUTHOR_XPATHS holds: one of these strings
# in one of these attributes (each literal and each regex alternative they test,
# as a case-sensitive substring: "uthor" stands for author, Author, AuthorName,
# AuthorCard; "yline" for byline, Byline), or an <author> element, or a <rel>
# child reading "me".
_AUTHOR_ATTRIBUTES = XPath("//@class | //@id | //@rel | //@itemprop | //@data-testid"
                           " | //@data-component", smart_strings=False)
AUTHOR_HINTS = ("uthor", "byl", "yline", "BBL", "username", "screenname", "writer",
                "channel-name", "submitted-by", "posted-by", "journalist-name", "zuozhe",
                "bianji", "xiaobian")
# SHA-1 of the AUTHOR_XPATHS texts AUTHOR_HINTS was written against (trafilatura 2.3.1).
_AUTHOR_XPATHS_SHA1 = "b90315b42076712eab84fdddacebba4b9038270a"


def author_xpaths_digest() -> str:
    """SHA-1 of trafilatura's author XPaths, whitespace-normalised."""
    text = "\n".join(" ".join(x.path.split()) for x in AUTHOR_XPATHS)
    return hashlib.sha1(text.encode()).hexdigest()


#: False if the installed trafilatura reads authors with other XPaths: then
#: every page goes to its reader, as before the shortcut.
AUTHOR_HINTS_APPLY = author_xpaths_digest() == _AUTHOR_XPATHS_SHA1


def page_metadata(tree: HtmlElement, url: str | None) -> Document:
    """Title, author, date, URL and site name of a parsed page (the tree is only read).

    Raises whatever trafilatura's readers raise on odd pages; the caller
    translates it (see ``ingest.extract.page``).
    """
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # a lone word in <meta name=author> is a handle, not a name
    try:
        meta = extract_meta_json(tree, meta)
    except Exception as exc:  # trafilatura's JSON-LD reader has known crashes; it is optional
        log.debug("JSON-LD metadata skipped: %r", exc)
    meta.title = meta.title or extract_title(tree)
    meta.author = meta.author or _author(tree)
    meta.url = meta.url or extract_url(tree, url)
    meta.date = find_date(tree, **{**set_date_params(False), "url": meta.url})
    meta.sitename = _sitename(meta.sitename or extract_sitename(tree), meta.url)
    meta.clean_and_trim()
    return meta


def _author(tree: HtmlElement) -> str | None:
    """trafilatura's ``extract_author``, skipped where it cannot find anything."""
    if AUTHOR_HINTS_APPLY and not has_author_hint(tree):
        return None
    return extract_author(tree)


def has_author_hint(tree: HtmlElement) -> bool:
    """Whether trafilatura's author XPaths could match anything in ``tree``.

    >>> from lxml.html import fromstring
    >>> has_author_hint(fromstring("<p class='post-author'>Ann Lee</p>"))
    True
    >>> has_author_hint(fromstring("<p class='lede'>Ann Lee</p>"))
    False
    """
    values = "\n".join(_AUTHOR_ATTRIBUTES(tree))
    if any(hint in values for hint in AUTHOR_HINTS):
        return True
    return next(tree.iter("author"), None) is not None or any(
        "".join(rel.itertext()).strip() == "me" for rel in tree.iter("rel"))


def _sitename(name: str | None, url: str | None) -> str | None:
    """trafilatura's fix-ups: no leading ``@``, capitalised, else the URL's host."""
    if name:
        name = name.lstrip("@")
        if name and "." not in name and not name[0].isupper():
            name = name.title()
        return name
    match = META_URL.match(url) if url else None
    return match[1] if match else None

