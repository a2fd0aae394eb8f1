"""Tests for ingest.clean.labels: whole-line interface labels, in several languages.

A line that is nothing but a widget's label is chrome; the same words inside a
sentence, a headline or a longer line are prose and stay.
"""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clean.labels import LABELS_FILE, MAX_WORDS, interface_label, label_key, label_table
from ingest.clean.rules import Line, first_rule


@pytest.mark.parametrize(("text", "rule"), [
    ("Related posts", "related"), ("» Read more", "related"), ("Lesen Sie auch:", "related"),
    ("Leia também", "related"), ("Potrebbe interessarti", "related"), ("Lees ook", "related"),
    ("Leave a Reply", "share_widget"), ("Deja un comentario", "share_widget"),
    ("Comments (12)", "share_widget"), ("Teilen", "share_widget"), ("Condividi", "share_widget"),
    ("SUBSCRIBE", "newsletter"), ("Newsletter abonnieren", "newsletter"),
    ("Suscríbete", "newsletter"), ("Book a demo", "newsletter"),
    ("Advertisement", "ad"), ("Anzeige", "ad"), ("Publicidad", "ad"),
    ("Back to top ↑", "navigation"), ("Startseite", "navigation"), ("Accueil", "navigation"),
    ("Privacy Policy", "disclaimer"), ("Impressum", "disclaimer"),
    ("Accept all cookies", "cookie"), ("Alle akzeptieren", "cookie"),
])
def test_a_bare_label_is_chrome_under_its_rule(text: str, rule: str) -> None:
    assert interface_label(text) == rule
    assert first_rule(Line(text)) == rule


@pytest.mark.parametrize("text", [
    "Read more about the ruling in the court's archive.",
    "Share prices fell by ten percent on Monday.",
    "Teilen Sie uns Ihre Meinung zu diesem Urteil mit, schrieb der Richter.",
    "Home prices", "Privacy", "Search", "Yes", "No", "Help", "Pricing", "Support",
    "Accessibility", "Download", "Latest", "Disclaimer",
])
def test_sentences_and_headings_that_are_also_words_stay(text: str) -> None:
    assert interface_label(text) is None


def test_label_key_drops_decoration_only() -> None:
    assert label_key("  ➜ SHARE THIS ARTICLE : ") == "share this article"
    assert label_key("12 Comments") == "comments"
    assert label_key("Don’t miss") == "don't miss"
    assert label_key("Top 10 things") == "top 10 things"


def test_every_phrase_of_the_data_file_is_found_under_its_own_rule() -> None:
    data = tomllib.loads(LABELS_FILE.read_text(encoding="utf-8"))
    for rule, languages in data.items():
        assert languages, rule
        for phrases in languages.values():
            for phrase in phrases:
                assert phrase == phrase.strip() and len(phrase.split()) <= MAX_WORDS
                assert label_table()[label_key(phrase)] == rule, (phrase, rule)
                assert interface_label(phrase.upper()) is not None


def test_the_data_file_covers_several_languages_for_each_rule() -> None:
    data = tomllib.loads(LABELS_FILE.read_text(encoding="utf-8"))
    assert all({"en", "fr", "de", "es"} <= set(langs) for langs in data.values())


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_long_lines_are_never_labels(extra: str) -> None:
    words = " ".join(["word"] * (MAX_WORDS + 1))
    assert interface_label(f"Related posts {words} {extra}") is None
