"""A page's access (``ingest.extract.access.access_of``): ``free``, ``paywalled``, ``unknown``.

Read from markup only: schema.org ``isAccessibleForFree`` (JSON-LD, microdata, escaped
JSON), the ``article:content_tier`` meta tag, paywall containers and membership
plugins' messages. The fixture pages (``fixtures/walls/cases.toml``) are checked whole;
each signal, its spellings and its false friends on small pages.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.extract.access import access_of, declared_access, paywall_markup, tier_access

FIXTURES = Path(__file__).parent / "fixtures" / "walls"
CASES: dict[str, dict[str, str]] = tomllib.loads((FIXTURES / "cases.toml").read_text())
ARTICLE = "<p>The council met on Monday and voted on next year's budget.</p>"


def ld(json: str) -> str:
    return f'<html><head><script type="application/ld+json">{json}</script></head>' \
           f"<body>{ARTICLE}</body></html>"


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_fixture_page_has_the_access_its_case_says(name: str) -> None:
    assert access_of((FIXTURES / name).read_text(encoding="utf-8")) == CASES[name]["access"]


def test_the_fixture_pages_hold_every_access_from_several_sources() -> None:
    by_access: dict[str, set[str]] = {}
    for name, case in CASES.items():
        by_access.setdefault(case["access"], set()).add(name.split(".")[1])
    assert set(by_access) == {"free", "paywalled", "unknown"}
    assert len(by_access["paywalled"]) >= 5, "paywalled pages in five languages at least"


# -- schema.org isAccessibleForFree ------------------------------------------------------


@pytest.mark.parametrize(("json", "access"), [
    ('{"@type": "NewsArticle", "isAccessibleForFree": false}', "paywalled"),
    ('{"@type": "NewsArticle", "isAccessibleForFree": "False"}', "paywalled"),
    ('{"@type": "NewsArticle", "isAccessibleForFree": "false"}', "paywalled"),
    ('{"@type": "NewsArticle", "isAccessibleForFree": true}', "free"),
    ('{"@type": "NewsArticle", "isAccessibleForFree": "True"}', "free"),
    ('{"@type": "NewsArticle", "isAccessibleForFree": ""}', "unknown"),
    ('[{"@type": "Organization"}, {"@type": "Article", "isAccessibleForFree": false}]',
     "paywalled"),
    ('{"@graph": [{"@type": "WebPage"}, {"@type": "NewsArticle", '
     '"isAccessibleForFree": "False"}]}', "paywalled"),
    ('{"@type": "WebPage", "mainEntity": {"@type": "NewsArticle", '
     '"isAccessibleForFree": false}}', "paywalled"),
    ('{"@type": "NewsArticle", "isAccessibleForFree": true, "hasPart": {"@type": '
     '"WebPageElement", "isAccessibleForFree": false, "cssSelector": ".paid"}}', "paywalled"),
    ('{"@type": "NewsArticle", "hasPart": [{"@type": "WebPageElement", '
     '"isAccessibleForFree": "False", "cssSelector": ".paywall"}]}', "paywalled"),
    ('{"@type": "NewsArticle", "hasPart": [{"isAccessibleForFree": true, '
     '"cssSelector": ".article-body"}]}', "free"),
    # A work the page only mentions says nothing of the page.
    ('{"@type": "ItemList", "itemListElement": [{"@type": "NewsArticle", '
     '"isAccessibleForFree": false}]}', "unknown"),
    ('{"@type": "NewsArticle", "isAccessibleForFree": true, "citation": {"@type": '
     '"NewsArticle", "isAccessibleForFree": false}}', "free"),
])
def test_json_ld_is_read_on_the_article_its_graph_and_its_parts(json: str, access: str) -> None:
    assert access_of(ld(json)) == access


@pytest.mark.parametrize(("html", "access"), [
    ('<div itemscope itemtype="https://schema.org/NewsArticle"><meta itemprop='
     '"isAccessibleForFree" content="False"></div>', "paywalled"),
    ("<meta content='true' itemprop='isAccessibleForFree'>", "free"),
    ('<script>self.__next_f.push([1,"{\\"@type\\":\\"NewsArticle\\",\\"isAccessibleForFree\\"'
     ':\\"False\\"}"])</script>', "paywalled"),
    ('<div data-schema="{&quot;isAccessibleForFree&quot;:false}"></div>', "paywalled"),
    ('<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": '
     'false,}</script>', "paywalled"),  # broken JSON: the flag is still read
])
def test_microdata_and_escaped_or_broken_json_are_read_too(html: str, access: str) -> None:
    assert declared_access(html + ARTICLE) == access


# -- article:content_tier ---------------------------------------------------------------


@pytest.mark.parametrize(("meta", "access"), [
    ('<meta property="article:content_tier" content="locked">', "paywalled"),
    ('<meta property="article:content_tier" content="metered">', "paywalled"),
    ('<meta content="free" property="article:content_tier">', "free"),
    ('<meta property="og:article:content_tier" content="Locked" />', "paywalled"),
    ('<meta name="article:content_tier" content="free">', "free"),
    ('<meta property="article:content-tier" content="free">', "free"),
    ('<meta property="article:content_tier" content="standard">', "unknown"),
    ('<meta property="article:section" content="content_tier locked">', "unknown"),
])
def test_the_content_tier_meta_tag(meta: str, access: str) -> None:
    assert tier_access(f"<html><head>{meta}</head><body>{ARTICLE}</body></html>") == access


# -- paywall markup ----------------------------------------------------------------------


@pytest.mark.parametrize("markup", [
    '<div class="paywall"><p>Subscribe to read on.</p></div>',
    '<section id="paywall" class="c-box"><h2>Réservé aux abonnés</h2></section>',
    '<div class="paywall--visible"><p>Abonnez-vous</p></div>',
    '<div class="article-body paywalled"><p>...</p></div>',
    '<article data-paywall="true"><p>Teaser</p></article>',
    '<div class="leaky_paywall_message_wrap"><div id="leaky_paywall_message">Subscribe'
    '</div></div>',
    '<div class="pmpro_card pmpro_content_message"><h2>Membership Required</h2></div>',
    '<div class="mepr-unauthorized-message"><p>Members only.</p></div>',
    '<div class="woocommerce-info wc-memberships-restriction-message">Members only.</div>',
    '<div class="rcp_restricted rcp_paid_only"><p>Paid members only.</p></div>',
    '<div class="wp-block-premium-content-logged-out-view"><p>Subscribe</p></div>',
    '<aside class="gh-post-upgrade-cta"><h2>For paying subscribers</h2></aside>',
])
def test_paywall_containers_and_plugin_messages_mark_a_page_paywalled(markup: str) -> None:
    assert access_of(f"<html><body><article>{ARTICLE}{markup}</article></body></html>") \
        == "paywalled"


@pytest.mark.parametrize("markup", [
    '<div id="paywall"></div>',  # an empty placeholder
    '<div class="paywall" hidden><p>Subscribe</p></div>',
    '<div class="paywall" style="display: none"><p>Subscribe</p></div>',
    '<div class="paywall" style="visibility: hidden"><p>Subscribe</p></div>',
    '<div class="paywall" aria-hidden="true"><p>Subscribe</p></div>',
    '<a class="paywall" href="/premium-story">A premium story</a>',  # a link, a badge
    '<span class="paywall">Abonnés</span>',
    '<div class="paywall-bar"><p>2 of 5 free articles read</p></div>',  # metered site UI
    '<li class="nav-item stat-paywall-login"><a href="/login">Log in</a></li>',
    '<article data-paywall="false"><p>Free</p></article>',
    '<p>Ce paywall est réservé aux abonnés premium.</p>',  # words, not markup
    '<script src="https://cdn.tinypass.com/api/tinypass.min.js"></script>',
    '<style>.paywall{display:block}</style><script>if(x){el.className="paywall"}</script>',
])
def test_paywall_words_ui_badges_and_placeholders_say_nothing(markup: str) -> None:
    assert access_of(f"<html><body><article>{ARTICLE}{markup}</article></body></html>") \
        == "unknown"


def test_a_declaration_decides_before_markup_and_locked_wins_over_free() -> None:
    free = ld('{"@type": "NewsArticle", "isAccessibleForFree": true}')
    with_bar = free.replace("<body>", '<body><div class="paywall"><p>Subscribe</p></div>')
    assert paywall_markup(with_bar) and access_of(with_bar) == "free"
    locked = free.replace("<head>",
                          '<head><meta property="article:content_tier" content="locked">')
    assert access_of(locked) == "paywalled"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["paywall", "premium", "abonnés", "subscribe", "locked",
                                 "isAccessibleForFree", "false", "content_tier", "Abo",
                                 "gh-post-upgrade-cta", "pmpro_content_message", "réservé"]),
                max_size=12),
       st.sampled_from(sorted(CASES)))
def test_words_in_the_text_never_change_the_access(words: list[str], name: str) -> None:
    html = (FIXTURES / name).read_text(encoding="utf-8")
    extra = html.replace("</body>", f"<p>{' '.join(words)}</p></body>")
    assert access_of(extra) == access_of(html)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_markup_gets_an_answer(html: str) -> None:
    assert access_of(html) in ("free", "paywalled", "unknown")
