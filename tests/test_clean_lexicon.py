"""Tests for ingest.clean_lexicon: tokens, language guess, text measures."""

from __future__ import annotations

from ingest.clean_lexicon import (
    guess_language,
    letter_ratio,
    lowercase_ratio,
    stopword_ratio,
    words,
)


def test_words_casefold_and_split_apostrophes() -> None:
    assert words("L’Entrepreneur n'a PAS 10 ans") == ["l", "entrepreneur", "n", "a", "pas",
                                                      "10", "ans"]


def test_guess_language() -> None:
    assert guess_language("Le juge a rejeté la demande de la société dans cette affaire.") == "fr"
    assert guess_language("The judge said that the company was not in the room.") == "en"
    assert guess_language("OpenAI Tesla SpaceX") is None


def test_ratios() -> None:
    assert stopword_ratio("Facebook Twitter") == 0.0
    assert stopword_ratio("the court and the judge") > 0.5
    assert letter_ratio("") == 0.0 and letter_ratio("abc") == 1.0
    assert lowercase_ratio("Deposit Bonus Up") == 0.0
