"""Language identification from text (``ingest/language.py``): declarations are hints."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import LanguageIdentifier

from ingest.clean import language
from ingest.clean.language import first_declared, identify
from ingest.langtags import primary_tag

EN = ("The committee published its report on the collapse of the bridge on Thursday, "
      "blaming years of deferred maintenance and a contractor that skipped inspections.")
FR = ("La commission a publié jeudi son rapport sur l'effondrement du pont, qui met en "
      "cause des années d'entretien reporté et un prestataire qui a sauté des inspections.")
DE = ("Der Ausschuss hat am Donnerstag seinen Bericht über den Einsturz der Brücke "
      "veröffentlicht und macht jahrelang aufgeschobene Wartungsarbeiten verantwortlich.")


@pytest.mark.parametrize(("text", "expected"), [(EN, "en"), (FR, "fr"), (DE, "de")])
def test_the_text_decides_not_the_declaration(text: str, expected: str) -> None:
    for declared in (None, "en", "fr", "de", "ja"):
        guess = identify(text, declared=declared)
        assert guess.language == expected
        assert guess.declared == primary_tag(declared)
        assert 0.5 < guess.confidence <= 1.0


@pytest.mark.parametrize(("majority", "minority", "expected"), [(EN, FR, "en"), (FR, EN, "fr")])
def test_a_mixed_page_gets_the_language_of_most_of_its_words(majority: str, minority: str,
                                                              expected: str) -> None:
    """Three paragraphs in one language, two quoted in another, in either order."""
    for paragraphs in ([majority] * 3 + [minority] * 2, [minority] * 2 + [majority] * 3,
                       [majority, minority, majority, minority, majority]):
        guess = identify("\n\n".join(paragraphs))
        assert guess.language == expected
        assert guess.confidence < 0.9  # part of the text voted for the other language


def test_a_text_too_short_to_judge_takes_the_declaration_it_does_not_contradict() -> None:
    assert identify("OpenAI", declared="fr-FR").language == "fr"
    assert identify("Musk v. Altman", declared="en").language == "en"
    assert identify("2026", declared="fr").language == "fr"  # no letters: only the claim
    assert identify("2026", declared="fr").confidence == 0.0
    # A script the declaration cannot be written in contradicts it.
    assert identify("Илон Маск", declared="en").language != "en"


def test_no_words_and_no_claim_is_no_language() -> None:
    assert identify("").language is None
    assert identify("12 — 34", declared=None).language is None
    assert identify("OpenAI").language is None  # a name alone carries no language


def test_a_short_body_is_read_with_its_title() -> None:
    guess = identify("Musk.", title="Le tribunal fixe la date du procès entre les fondateurs")
    assert guess.language == "fr"


def test_a_long_text_costs_no_more_than_its_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading is bounded: a 200 kB body is sampled, not read whole (the model is asked
    about ``SAMPLE_CHARS`` characters at most)."""
    long = "\n\n".join([EN] * 1500)
    read: list[int] = []
    classify = LanguageIdentifier.classify

    def counting(self: LanguageIdentifier, text: str) -> tuple[str, float]:
        read.append(len(text))
        return classify(self, text)

    with monkeypatch.context() as patched:
        patched.setattr(LanguageIdentifier, "classify", counting)
        assert identify(long).language == "en"
    assert 0 < sum(read) <= language.SAMPLE_CHARS
    identify(EN)  # model loaded
    start = time.perf_counter()
    assert identify(long).language == "en"
    assert time.perf_counter() - start < 0.5  # generous: about 1 ms on this machine


def test_declared_tags_are_normalised_and_junk_dropped() -> None:
    assert first_declared(None, "junk!", "pt_BR", "en") == "pt"


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([EN, FR, DE]), st.integers(1, 6), st.one_of(
    st.none(), st.sampled_from(["en", "fr", "de", "es", "ja", "zz"])))
def test_a_clear_text_is_never_overruled_by_its_claim(text: str, repeat: int,
                                                      declared: str | None) -> None:
    body = "\n\n".join([text] * repeat)
    assert identify(body, declared=declared).language == identify(body).language


def test_a_chinese_page_with_an_english_caption_is_chinese() -> None:
    """Votes weigh letters, not space-separated words: a text without spaces is not
    outvoted by a shorter English caption."""
    zh = "中国国家统计局周三公布的数据显示，今年前三季度国内生产总值同比增长百分之五。" * 8
    caption = ("A photograph shows the minister speaking to reporters outside the building "
               "on Tuesday afternoon, before the vote.")
    assert identify(f"{caption}\n\n{zh}").language == "zh"
    assert identify(f"{caption}\n\n{zh}", declared="en").language == "zh"
