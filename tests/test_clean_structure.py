"""Tests for ingest.clean_structure: pruning widgets by class/id before trafilatura."""

from __future__ import annotations

import pytest
from lxml.html import fromstring

from ingest.clean_structure import label_rule, prune_tree

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
