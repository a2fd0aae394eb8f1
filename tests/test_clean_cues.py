"""Tests for ingest.clean_cues: the wording cues the line rules combine."""

from __future__ import annotations

from ingest.clean_cues import (
    bio_cues,
    disclaimer_cues,
    is_dateline,
    promo_cues,
    tail_is_metadata,
)


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
