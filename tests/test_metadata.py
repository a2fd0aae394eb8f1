"""Tests for ingest.extract.metadata: the fields we keep equal trafilatura's extract_metadata."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml.html import HtmlElement, fromstring
from trafilatura.metadata import extract_author, extract_metadata
from trafilatura.xpaths import AUTHOR_XPATHS

from ingest.extract.metadata import (
    AUTHOR_HINTS_APPLY,
    author_xpaths_digest,
    has_author_hint,
    page_metadata,
)
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


def test_author_shortcut_applies_to_the_installed_trafilatura() -> None:
    """If this fails, trafilatura's author XPaths changed: check that AUTHOR_HINTS
    still covers every string they test, then update the digest."""
    assert AUTHOR_HINTS_APPLY, author_xpaths_digest()


ATTRIBUTES = ["class", "id", "rel", "itemprop", "data-testid", "data-component", "title"]
VALUES = ["author", "Author", "post-author", "authorName", "AuthorCard", "byline", "Byline",
          "byl", "BBL", "username", "screenname", "writer", "submitted-by", "journalist-name",
          "zuozhe", "bianji", "xiaobian", "author name", "me", "lede", "post-meta", "credit",
          "name", "auth", "by-line", "Writers"]
TAGS = ["a", "address", "div", "link", "p", "span", "strong", "h3", "h4", "section", "author",
        "rel"]


@st.composite
def _element(draw: st.DrawFn) -> str:
    tag = draw(st.sampled_from(TAGS))
    attrs = draw(st.dictionaries(st.sampled_from(ATTRIBUTES), st.sampled_from(VALUES),
                                 max_size=2))
    text = draw(st.sampled_from(["Ann Lee", "me", "Par Marie Dupont", ""]))
    rendered = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    return f"<{tag} {rendered}>{text}</{tag}>"


@settings(max_examples=300, deadline=None)
@given(st.lists(_element(), min_size=1, max_size=6), st.lists(_element(), max_size=3))
def test_no_author_hint_means_trafilaturas_author_xpaths_match_nothing(
    elements: list[str], nested: list[str]
) -> None:
    inner = "".join(nested)
    html = _page("<title>t</title>", "<div>" + "".join(e.replace("</", inner + "</", 1)
                                                       for e in elements) + "</div>")
    tree = _tree(html)
    if not has_author_hint(tree):
        assert not any(xpath(tree) for xpath in AUTHOR_XPATHS)
        assert extract_author(tree) is None


@pytest.mark.parametrize(("body", "hinted"), [
    ("<p class='lede'>Ann Lee</p>", False),
    ("<span class='c-byline__name'>Ann Lee</span>", True),
    ("<div data-component='BylineBlock'>Ann Lee</div>", True),
    ("<author>Ann Lee</author>", True),
    ("<div><rel>me</rel>Ann Lee</div>", True),
])
def test_author_hints(body: str, hinted: bool) -> None:
    assert has_author_hint(_tree(_page("", body))) is hinted
