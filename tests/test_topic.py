from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline.topic import TopicFilter

RULE = (("musk",), ("altman", "openai"))


@pytest.mark.parametrize(("text", "kept"), [
    ("Le procès d'Elon Musk contre OpenAI s'ouvre", True),
    ("MUSK and Sam ALTMAN trade barbs", True),
    ("Musk’s lawyers filed against OpenAI’s board", True),
    ("Elon Musk launches a rocket", False),
    ("OpenAI ships a model", False),
    ("Muskrats and openair concerts", False),
    ("", False),
])
def test_every_group_needs_a_whole_word_match(text: str, kept: bool) -> None:
    assert TopicFilter(RULE).matches(text) is kept


def test_accents_are_ignored_both_ways() -> None:
    assert TopicFilter((("procès",),)).matches("le proces commence")
    assert TopicFilter((("proces",),)).matches("le PROCÈS commence")


def test_title_and_text_are_searched_together() -> None:
    assert TopicFilter(RULE).matches("Musk revient à la charge", "contre OpenAI")


def test_multi_word_terms_match_the_sequence() -> None:
    rule = TopicFilter((("sam altman",),))
    assert rule.matches("Sam  Altman a répondu")
    assert not rule.matches("Sam a répondu à Altman")


def test_empty_rule_keeps_everything() -> None:
    assert TopicFilter(()).matches("anything at all")


def test_empty_group_is_rejected_at_construction() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TopicFilter(((),))


def test_languages_keep_only_listed_identified_languages() -> None:
    rule = TopicFilter((("musk",),), languages=("fr", "en"))
    assert rule.verdict("Musk", "Musk et OpenAI", "fr") is None
    assert rule.verdict("Musk", "Musk und OpenAI", "de") == "off_language"
    assert rule.verdict("Musk", "Musk", None) is None  # not identified: nothing says it is off
    assert rule.verdict("Tesla", "sans rapport", "fr") == "off_topic"
    assert TopicFilter(()).verdict(None, "", "ja") is None


def test_the_worker_filters_before_fingerprinting() -> None:
    """An off-topic page costs no signature: the worker keeps it out right after cleaning,
    and the writer records the reason it found."""
    from ingest.pipeline.process import PageJob, process_page
    from ingest.types import NO_FINGERPRINT

    html = ("<html><head><title>Le budget</title></head><body><article><p>"
            + "Le conseil municipal a voté le budget de la ville jeudi soir. " * 10
            + "</p></article></body></html>").encode()
    off = process_page(PageJob(url="https://a.example/x", body=html,
                               topic=TopicFilter((("musk",),))))
    assert (off.skip, off.fingerprint, off.keys) == ("off_topic", NO_FINGERPRINT, ())
    lang = process_page(PageJob(url="https://a.example/x", body=html,
                                topic=TopicFilter((), languages=("en",))))
    assert lang.skip == "off_language"
    kept = process_page(PageJob(url="https://a.example/x", body=html,
                                topic=TopicFilter((), languages=("fr",))))
    assert kept.skip is None and kept.fingerprint.n_shingles > 0 and kept.keys


def test_a_weak_language_vote_keeps_the_page() -> None:
    """A headline-sized text gets a weak guess ('Musk v. Altman' may read as Swedish):
    below the identifier's UNSURE it does not keep a page out."""
    rule = TopicFilter((), languages=("fr", "en"))
    assert rule.verdict("Musk v. Altman", "Musk v. Altman: live", "sv", 0.17) is None
    assert rule.verdict("Musk", "Musk und OpenAI", "de", 0.95) == "off_language"


def test_the_known_codes_are_the_models() -> None:
    from ingest.clean.language import model_languages
    from ingest.langtags import IDENTIFIED_CODES

    assert model_languages() == IDENTIFIED_CODES


def test_once_with_an_unknown_language_code_exits_2_naming_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import service

    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "news.db"}"\n[topic]\n'
                      'languages = ["eng"]\n')
    assert service.main(["once", "--config", str(config)]) == 2
    assert "topic.languages" in capsys.readouterr().err
