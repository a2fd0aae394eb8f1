"""Tests for ingest.extract.structure: pruning widgets by class/id before trafilatura."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml.html import fromstring

from ingest.extract.structure import LABEL_RULES, label_rule, prune_tree

PROSE = "<p>The board met on Tuesday and agreed to review the proposal in detail.</p>"


@pytest.mark.parametrize(("label", "rule"), [
    ("share-buttons", "share_widget"), ("sharedaddy sd-sharing-enabled", "share_widget"),
    ("jp-relatedposts", "related"), ("lire-aussi", "related"), ("RelatedPosts", "related"),
    ("newsletter-signup", "newsletter"), ("mc4wp-form", "newsletter"),
    ("ad-slot", "ad"), ("adsbygoogle", "ad"), ("sponsored", "ad"),
    ("author-bio", "author_bio"), ("about-the-author", "author_bio"),
    ("disclaimer", "disclaimer"), ("cookie-banner", "cookie"), ("photo-credit", "photo_credit"),
    ("breadcrumb", "navigation"), ("entry-meta", "byline"),
])
def test_label_rule(label: str, rule: str) -> None:
    assert label_rule(label) == rule


@pytest.mark.parametrize("label", [
    "article-body", "entry-content", "shadow", "header", "headline", "content-main",
    "post-content", "read", "badge", "download", "cmp-text", "paddings",
])
def test_label_rule_ignores_ordinary_names(label: str) -> None:
    assert label_rule(label) is None


def page(inner: str) -> str:
    return f"<html><body><article>{PROSE * 12}{inner}</article></body></html>"


def test_small_labelled_widget_is_removed_and_recorded() -> None:
    tree = fromstring(page("<aside class='related-posts'><a href='/a'>Other story</a></aside>"))
    assert [(r.rule, r.text) for r in prune_tree(tree)] == [("related", "Other story")]
    assert "Other story" not in tree.text_content()


def test_wrapper_holding_the_article_is_kept() -> None:
    tree = fromstring(f"<html><body><div class='post has-share-buttons'>{PROSE * 12}"
                      "</div></body></html>")
    assert prune_tree(tree) == ()
    assert tree.text_content().count("The board met") == 12


def test_labelled_prose_section_is_not_a_menu() -> None:
    section = f"<section class='toc-para'>{PROSE * 3}</section>"
    tree = fromstring(page(section))
    assert prune_tree(tree) == ()


def test_menu_of_links_is_navigation() -> None:
    links = "".join(f"<a href='/{i}'>Section number {i}</a> " for i in range(8))
    tree = fromstring(page(f"<div class='breadcrumb'>{links}</div>"))
    assert [r.rule for r in prune_tree(tree)] == ["navigation"]


def test_tail_text_of_a_removed_widget_is_kept() -> None:
    tree = fromstring("<html><body><article>" + PROSE * 12
                      + "<p>Before <span class='share'>Share</span> after.</p>"
                      + "</article></body></html>")
    prune_tree(tree)
    assert "Before  after." in tree.text_content()


def test_scripts_do_not_count_as_text() -> None:
    tree = fromstring(page("<div class='ad-slot'><script>var x = 1;</script>Publicité</div>"))
    assert [(r.rule, r.text) for r in prune_tree(tree)] == [("ad", "Publicité")]


@pytest.mark.parametrize(("label", "rule"), [
    ("Share_Buttons", "share_widget"), ("ad_slot main", "ad"), ("postNavigation", "navigation"),
    ("related\tposts", "related"), ("x\u00a0share", "share_widget"), ("  sponsored  ", "ad"),
    ("header__inner", None), ("read_time_x", "byline"), ("Shadow_Box", None),
])
def test_label_rule_normalises_case_underscores_and_spaces(label: str, rule: str | None) -> None:
    assert label_rule(label) == rule


def _reference_rule(label: str) -> str | None:
    """label_rule as first written: normalise, then each rule's pattern in turn."""
    label = re.sub(r"([a-z])([A-Z])", r"\1-\2", label)
    norm = re.sub(r"[_\s]+", lambda m: " " if m.group().isspace() else "-", label).lower()
    return next((rule for rule, pattern in LABEL_RULES if pattern.search(norm)), None)


LABEL_PARTS = ["share", "Share", "related", "Posts", "ad", "ads", "header", "read", "more",
               "author", "Bio", "cookie", "toc", "nav", "x", "a2a", "cta", "promo", "box"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LABEL_PARTS), min_size=1, max_size=5),
       st.lists(st.sampled_from(["-", "_", " ", "__", "\t", "", " _ "]), min_size=5, max_size=5))
def test_label_rule_answers_like_the_rule_by_rule_reference(
    parts: list[str], seps: list[str]
) -> None:
    label = "".join(p + s for p, s in zip(parts, seps, strict=False))
    assert label_rule.__wrapped__(label) == _reference_rule(label)


def test_comments_and_unlabelled_elements_are_left_alone() -> None:
    tree = fromstring(page("<div class=''>Keep me</div><!-- share -->"
                           "<div id='share-box'><a href='#'>Share</a></div>"))
    assert [(r.rule, r.text) for r in prune_tree(tree)] == [("share_widget", "Share")]
    assert "Keep me" in tree.text_content()


@pytest.mark.parametrize(("label", "rule"), [
    ("post-tags", "related"), ("tag-cloud", "related"), ("entry-categories", "related"),
    ("sidebar-widget", "navigation"), ("screen-reader-text", "navigation"),
    ("sr-only", "navigation"), ("comment-respond", "share_widget"), ("comments", "share_widget"),
])
def test_tags_sidebars_comments_and_screen_reader_labels(label: str, rule: str) -> None:
    assert label_rule(label) == rule


@pytest.mark.parametrize("hidden", [
    "hidden", "aria-hidden='true'", "style='display: none'", "style='visibility:hidden;'",
])
def test_small_hidden_element_is_removed(hidden: str) -> None:
    tree = fromstring(page(f"<ul {hidden}><li><a href='/a'>Mobile menu item</a></li></ul>"))
    assert [(r.rule, r.text) for r in prune_tree(tree)] == [("hidden", "Mobile menu item")]
    assert "Mobile menu item" not in tree.text_content()


def test_hidden_body_revealed_by_a_script_is_kept() -> None:
    tree = fromstring("<html><body><article><div style='display:none'>" + PROSE * 12
                      + "</div></article></body></html>")
    assert prune_tree(tree) == ()
    assert tree.text_content().count("The board met") == 12


def test_visible_element_with_a_style_is_kept() -> None:
    tree = fromstring(page("<p style='color: red' aria-hidden='false'>Keep me visible</p>"))
    assert prune_tree(tree) == ()
    assert "Keep me visible" in tree.text_content()
