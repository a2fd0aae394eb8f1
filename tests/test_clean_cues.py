"""Tests for ingest.clean.cues (the wording cues the line rules combine) and for
ingest.clean.patterns (the prefiltered search those cues run on)."""

from __future__ import annotations

import re
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clean import cues as clean_cues
from ingest.clean.cues import (
    bio_cues,
    disclaimer_cues,
    is_dateline,
    promo_cues,
    tail_is_metadata,
)
from ingest.clean.patterns import Cue, fold, required_factors


def test_promo_cues_need_a_commercial_cue() -> None:
    assert promo_cues("Bitcoin up 20% to $60,000") == set()
    assert {"bonus", "deposit"} <= promo_cues("200% Deposit Bonus up to €3,000")
    assert "promo_code" in promo_cues("Code promo : -20 %")


def test_disclaimer_cues_fr_en() -> None:
    assert disclaimer_cues("Ceci ne constitue pas un conseil en investissement.") == {
        "not_advice"}
    assert "info_only" in disclaimer_cues("À titre informatif uniquement.")
    assert "rights" in disclaimer_cues("© 2025 Média. Tous droits réservés.")
    assert disclaimer_cues("The court ruled on Monday.") == set()


def test_bio_cues() -> None:
    assert bio_cues("She has been a reporter since 2013. Contact: a@b.example") == {
        "role", "career", "contact"}
    assert bio_cues("Il est journaliste depuis 2010.") == {"role", "career"}


def test_is_dateline() -> None:
    assert is_dateline("Publié le 12 mars 2025 à 10h30")
    assert is_dateline("12/03/2025")
    assert is_dateline("Updated: March 3, 2025 4:56 pm ET")
    assert not is_dateline("Le 12 mars 2025, le tribunal a rendu sa décision dans l'affaire.")


def test_tail_is_metadata() -> None:
    assert tail_is_metadata("")
    assert tail_is_metadata(" | Reuters")
    assert tail_is_metadata(", envoyée spéciale à Washington")
    assert not tail_is_metadata(", the deal was off.")


# Prefiltered searches ------------------------------------------------------

CUES = {name: value for name, value in vars(clean_cues).items() if isinstance(value, Cue)}
TRICKY = ["İ", "ı", "ſ", "K", "Å", "ß", "ẞ", "Σ", "ς", "\u00a0", "’", "'", "É", "é", "-", " "]


def test_required_factors_reads_runs_groups_repeats_and_branches() -> None:
    assert required_factors(r"\bfree ?spins?\b", re.IGNORECASE) == {"free"}
    assert required_factors(r"\d+\s+(?:comments?|réactions?)\b") == {"comment", "réaction"}
    assert required_factors(r"x+(?:Hello|World)+") == {"hello", "world"}
    assert required_factors(r"(?:optional)?word") == {"word"}
    # A needle that contains another is redundant.
    assert required_factors(r"free|free bets?|bonus") == {"free", "bonus"}


def test_required_factors_gives_up_when_a_branch_needs_nothing() -> None:
    assert required_factors(r"hello|\d+") is None
    assert required_factors(r"(?:ab|c)d") is None  # needles too short to help
    assert required_factors(r"(?=looking)|ahead") is None  # a lookahead consumes nothing


def test_fold_keeps_length_and_maps_special_cases() -> None:
    everything = _all_characters()
    assert len(fold(everything)) == len(everything)
    assert fold("İSTANBUL ıs ſeen") == "istanbul is seen"


def test_fold_finds_every_case_insensitive_match_of_needle_characters() -> None:
    """The prefilter is exact only if a character the regex engine takes for a needle
    character (ignoring case) folds to that character: checked for every code point."""
    everything = _all_characters()
    chars = {c for cue in CUES.values() for needle in cue.needles or () for c in needle}
    assert chars
    for char in chars:
        for found in re.findall(re.escape(char), everything, re.IGNORECASE):
            assert fold(found) == fold(char), (char, found)


def test_every_expensive_cue_has_needles() -> None:
    assert set(CUES) >= {"_DISCLAIMER_ANY", "_COMMERCIAL_ANY", "NEWSLETTER_CALL",
                         "ENGAGEMENT", "COOKIE_WORD", "CALL_TO_ACTION"}
    assert all(cue.needles for cue in CUES.values())


def _fragments() -> list[str]:
    """Pieces of cue wording, in odd cases and with look-alike letters, and noise."""
    pieces = [needle for cue in CUES.values() for needle in cue.needles or ()]
    variants = [v for p in pieces for v in (p, p.upper(), p.title(), p.replace("i", "ı"),
                                             p.upper().replace("I", "İ"), p.replace("s", "ſ"))]
    return variants + TRICKY + ["Not financial advice.", "Sign up for our newsletter",
                                "We use cookies", "200% Deposit Bonus", "the", "12", "ok"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_fragments()), max_size=12),
       st.lists(st.sampled_from(["", " ", "-", ". ", "’", "x"]), min_size=12, max_size=12))
def test_cue_search_answers_like_the_plain_regex(parts: list[str], glue: list[str]) -> None:
    text = "".join(p + g for p, g in zip(parts, glue, strict=False))
    for cue in CUES.values():
        ours, plain = cue.search(text), cue.regex.search(text)
        assert (ours and ours.span()) == (plain and plain.span())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_cue_search_on_arbitrary_text(text: str) -> None:
    for cue in CUES.values():
        ours, plain = cue.search(text), cue.regex.search(text)
        assert (ours and ours.span()) == (plain and plain.span())


def _all_characters() -> str:
    return "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
