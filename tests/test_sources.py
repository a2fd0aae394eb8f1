"""Discovery parsing on feed and sitemap bodies (no HTTP)."""

from __future__ import annotations

import contextlib
import gzip
import json
from pathlib import Path

import pytest

from ingest.discover.parse import parse_source
from ingest.errors import SourceError
from newsweb import atom, json_feed, rss, urlset

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
ITEMS = [("One", "https://a.example/1"), ("Two", "/2")]


@pytest.mark.parametrize("body", [rss(ITEMS), atom(ITEMS), json_feed(ITEMS)])
def test_each_feed_format_lists_its_links_in_order(body: str) -> None:
    listing = parse_source(body.encode(), url="https://a.example/feed", source="a")
    assert [link.url for link in listing.links] == ["https://a.example/1", "https://a.example/2"]
    assert listing.links[0].title == "One" and listing.links[0].source == "a"


def test_feed_entry_dates_become_update_stamps() -> None:
    listing = parse_source(atom(ITEMS).encode(), url="https://a.example/f", source="a")
    assert listing.links[0].updated == "2025-11-22T07:00:00+00:00"


def test_sitemap_index_lists_child_sitemaps() -> None:
    body = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            'sitemap/0.9"><sitemap><loc>https://a.example/s1.xml</loc></sitemap></sitemapindex>')
    listing = parse_source(body.encode(), url="https://a.example/i.xml", source="a")
    assert listing.children == ("https://a.example/s1.xml",) and listing.links == ()


def test_google_news_sitemap_gives_dates() -> None:
    listing = parse_source(urlset(["https://a.example/n1"], news=True).encode(),
                           url="https://a.example/n.xml", source="a")
    assert listing.links[0].url == "https://a.example/n1"
    assert listing.links[0].updated == "2025-11-22"


def test_gzipped_sitemap_is_read() -> None:
    body = gzip.compress(urlset(["https://a.example/p"]).encode())
    listing = parse_source(body, url="https://a.example/s.xml.gz", source="a")
    assert [link.url for link in listing.links] == ["https://a.example/p"]


def test_non_http_links_are_dropped() -> None:
    body = rss([("x", "javascript:alert(1)"), ("y", "mailto:a@b.c"), ("z", "https://a.example/z")])
    listing = parse_source(body.encode(), url="https://a.example/f", source="a")
    assert [link.url for link in listing.links] == ["https://a.example/z"]


@pytest.mark.parametrize("body", [b"", b"<html><body>not a feed</body></html>",
                                  b"{not json", b'{"items": 3}', b"\x1f\x8b broken gzip"])
def test_unreadable_bodies_raise_source_error_with_url(body: bytes) -> None:
    with pytest.raises(SourceError) as info:
        parse_source(body, url="https://a.example/feed", source="a")
    assert info.value.url == "https://a.example/feed"


def test_entity_expansion_and_external_entities_do_not_expand() -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">'
            '<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>https://a.example/&c;&x;</loc></url></urlset>")
    listing = parse_source(bomb.encode(), url="https://a.example/s.xml", source="a")
    assert all("root:" not in link.url and "aaaaaaaaaa" not in link.url
               for link in listing.links)


def test_feedparser_sample_fixtures_never_crash() -> None:
    """A licence-compatible sample of feedparser's own fixtures (see fixtures/feeds)."""
    files = sorted(FEEDS.glob("*.xml"))
    assert len(files) >= 10
    for path in files:
        with contextlib.suppress(SourceError):
            parse_source(path.read_bytes(), url="https://a.example/feed", source="a")


def test_json_feed_reads_external_url_and_modified_date() -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "1", "external_url": "https://b.example/x",
         "date_modified": "2025-01-02T03:04:05Z"}]})
    link = parse_source(body.encode(), url="https://a.example/f.json", source="a").links[0]
    assert (link.url, link.updated) == ("https://b.example/x", "2025-01-02T03:04:05Z")


def test_a_valid_feed_with_no_items_is_not_an_error() -> None:
    body = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    assert parse_source(body.encode(), url="https://a.example/f", source="a").links == ()


def test_deeply_nested_json_feed_is_a_source_error_not_a_crash() -> None:
    body = b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(SourceError):
        parse_source(body, url="https://a.example/f.json", source="a")
