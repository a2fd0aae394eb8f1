"""Tests for ingest.clean.lexicon: tokens, language guess, text measures."""

from __future__ import annotations

from ingest.clean.lexicon import (
    MEMO_MAX_CHARS,
    letter_ratio,
    lowercase_ratio,
    stopword_ratio,
    word_count,
    word_tuple,
    words,
)


def test_words_casefold_and_split_apostrophes() -> None:
    assert words("L’Entrepreneur n'a PAS 10 ans") == ["l", "entrepreneur", "n", "a", "pas",
                                                      "10", "ans"]


def test_ratios() -> None:
    assert stopword_ratio("Facebook Twitter") == 0.0
    assert stopword_ratio("the court and the judge") > 0.5
    assert letter_ratio("") == 0.0 and letter_ratio("abc") == 1.0
    assert lowercase_ratio("Deposit Bonus Up") == 0.0


def test_memoised_measures_match_their_definitions() -> None:
    long_text = "Le juge a rejeté la demande. " * 100  # longer than MEMO_MAX_CHARS
    assert len(long_text) > MEMO_MAX_CHARS
    for text in ("", "  ", "C'était 2 fois", "a\u00a0b\u3000c", long_text):
        assert word_count(text) == len(text.split())
        assert word_tuple(text) == tuple(words(text))
    tokens = words("Un deux")
    tokens.append("trois")  # callers may change their list: the memo is unaffected
    assert words("Un deux") == ["un", "deux"]


def test_letter_ratio_counts_like_its_definition() -> None:
    for text in ("[ ]", "abc", "a b\u00a0c\u3000d\t1", "٣ ½ ² ǅ", " \n "):
        chars = [c for c in text if not c.isspace()]
        expected = sum(c.isalpha() for c in chars) / len(chars) if chars else 0.0
        assert letter_ratio(text) == expected
