"""Tests for ingest.metadata: the fields we keep equal trafilatura's extract_metadata."""

from __future__ import annotations

import json

import pytest
from lxml.html import HtmlElement, fromstring
from trafilatura.metadata import extract_metadata

from ingest.metadata import page_metadata
from newsweb import article_html

FIELDS = ("title", "author", "date", "sitename", "url")
BODY = "<article>" + "<p>The judge said she would rule on the motion this month.</p>" * 6


def _page(head: str, body: str = BODY, lang: str = "en") -> str:
    return f"<html lang='{lang}'><head>{head}</head><body>{body}</body></html>"


JSON_LD = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                      "headline": "Altman answers Musk", "datePublished": "2024-03-02T10:00:00Z",
                      "author": {"@type": "Person", "name": "Jane Roe"},
                      "publisher": {"@type": "Organization", "name": "Le Journal"}})

PAGES = {
    "open graph": _page("<meta property='og:title' content='Musk v. OpenAI: day two'>"
                        "<meta property='og:site_name' content='the courier'>"
                        "<meta property='article:published_time' content='2024-02-29'>"
                        "<meta name='author' content='John Smith'>"),
    "json-ld": _page(f"<title>x</title><script type='application/ld+json'>{JSON_LD}</script>"),
    "broken json-ld": _page("<title>Procès</title><script type='application/ld+json'>{\"@type\":"
                            "</script>", lang="fr"),
    "one-word author, twitter handle": _page(
        "<title>OpenAI board | wire</title><meta name='author' content='newsdesk'>"
        "<meta name='twitter:site' content='@wiredesk'>"),
    "nothing but a body": _page("", "<div><p>Texte sans métadonnées, rien d'autre.</p></div>"),
    "byline in the body": _page("<title>Altman</title>",
                                "<article><p class='byline'>By Ann Lee</p>" + BODY + "</article>"),
    "date in the url only": _page("<title>Court filing</title>"),
    "newsweb article": article_html("fr1", site="journal.example",
                                    canonical="https://journal.example/a/fr1"),
}


def _tree(html: str) -> HtmlElement:
    return fromstring(html)


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("url", [None, "https://www.courier.example/2024/03/01/musk-openai"])
def test_kept_fields_equal_trafilaturas_extract_metadata(name: str, url: str | None) -> None:
    full = extract_metadata(_tree(PAGES[name]), url, None, False, None)
    ours = page_metadata(_tree(PAGES[name]), url)
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(full, f) for f in FIELDS}


def test_fields_are_read_not_left_empty() -> None:
    meta = page_metadata(_tree(PAGES["json-ld"]), "https://lejournal.example/a")
    assert (meta.title, meta.author, meta.date) == ("Altman answers Musk", "Jane Roe",
                                                    "2024-03-02")
    assert meta.sitename == "Le Journal"


def test_sitename_falls_back_to_the_host_and_drops_a_handle_at_sign() -> None:
    assert page_metadata(_tree(PAGES["nothing but a body"]),
                         "https://www.paper.example/x").sitename == "paper.example"
    handle = page_metadata(_tree(PAGES["one-word author, twitter handle"]), None)
    assert handle.sitename == "Wiredesk" and handle.author is None


def test_the_tree_is_only_read() -> None:
    tree = _tree(PAGES["byline in the body"])
    before = len(list(tree.iter()))
    page_metadata(tree, None)
    assert len(list(tree.iter())) == before
