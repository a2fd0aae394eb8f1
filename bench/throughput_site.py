"""The benchmark's web: the real article pages of two data sets on one loopback site.

``bench/throughput.py`` needs the service to crawl *real* news pages the way
it crawls the web: over HTTP, found through a feed. This module loads the
gzipped pages of ``scrapinghub-aeb`` and ``wcxb-dev-articles``, serves each
one, decompressed and byte for byte, as ``text/html`` at ``/aeb/<id>.html``
or ``/wcxb/<id>.html``, and lists them all in one JSON Feed at
``/feed.json``. There is no ``/robots.txt``: the server answers 404, which
RFC 9309 reads as "everything allowed", so the fetcher's robots.txt path
is exercised once and costs nothing afterwards::

    pages = load_pages(Path("../shared/data"))
    with ArticleSite(pages) as site:
        site.feed_url        # http://127.0.0.1:PORT/feed.json
        site.page_requests() # GETs of article pages answered so far
"""

from __future__ import annotations

import gzip
import json
import sys
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from loopback import LoopbackServer  # noqa: E402

# (URL prefix, folder under the data directory): the two data sets issue 7 names.
DATA_SETS: tuple[tuple[str, str], ...] = (
    ("aeb", "scrapinghub-aeb"),
    ("wcxb", "wcxb-dev-articles"),
)
FEED_PATH = "/feed.json"


@dataclass(frozen=True, slots=True)
class Page:
    """One served page: its path on the site and its raw (decompressed) bytes."""

    path: str
    body: bytes


def load_pages(data: Path, limit: int | None = None) -> list[Page]:
    """Every page of both data sets, interleaved, first ``limit`` only if given.

    The two sets are interleaved (aeb, wcxb, aeb, ...) rather than
    concatenated so that ``--limit`` still samples both kinds of page.
    """
    per_set = [_load_set(data / folder / "html", prefix) for prefix, folder in DATA_SETS]
    for (_prefix, folder), pages in zip(DATA_SETS, per_set, strict=True):
        if not pages:
            raise FileNotFoundError(f"no *.html.gz pages under {data / folder / 'html'}")
    mixed = [p for group in zip_longest(*per_set) for p in group if p is not None]
    return mixed[:limit] if limit else mixed


def _load_set(folder: Path, prefix: str) -> list[Page]:
    pages = []
    for file in sorted(folder.glob("*.html.gz")):
        page_id = file.name.removesuffix(".html.gz")
        pages.append(Page(f"/{prefix}/{page_id}.html", gzip.decompress(file.read_bytes())))
    return pages


def json_feed(base: str, pages: list[Page]) -> str:
    """A JSON Feed 1.1 listing every page, in order, without dates.

    No ``date_modified``: a feed entry without an update stamp is what
    most news feeds give for a fresh story, and it keeps the run free of
    the "changed since last time" path.
    """
    items = [{"id": base + p.path, "url": base + p.path, "title": p.path} for p in pages]
    return json.dumps({"version": "https://jsonfeed.org/version/1.1",
                       "title": "newsdedup throughput bench", "items": items})


class ArticleSite:
    """A loopback site serving ``pages`` and their feed; a context manager."""

    def __init__(self, pages: list[Page]) -> None:
        self.pages = pages
        self.server = LoopbackServer()
        for page in pages:
            # No charset parameter: the service must find the encoding as on the web.
            self.server.add(page.path, page.body, content_type="text/html")
        self.server.add(FEED_PATH, json_feed(self.server.base, pages),
                        content_type="application/feed+json")

    @property
    def feed_url(self) -> str:
        return self.server.url(FEED_PATH)

    def url(self, page: Page) -> str:
        return self.server.base + page.path

    def page_requests(self) -> list[str]:
        """Paths of the article pages requested so far (feed and robots.txt excluded)."""
        paths = {p.path for p in self.pages}
        return [path for path in self.server.paths() if path in paths]

    def __enter__(self) -> ArticleSite:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
