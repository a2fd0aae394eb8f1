"""One normaliser for declared language tags (``ingest/langtags.py``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.langtags import primary_tag


def test_primary_subtags_and_junk() -> None:
    assert [primary_tag(t) for t in ("fr-FR", " EN_us ", " de ", "zh-Hant-TW", "x", "", None,
                                     "1234", "en_", "-fr")] == [
        "fr", "en", "de", "zh", None, None, None, None, "en", None]


@given(st.text(max_size=12))
def test_a_normalised_tag_is_two_or_three_lower_case_letters_and_stable(tag: str) -> None:
    code = primary_tag(tag)
    if code is not None:
        assert code.isascii() and code.isalpha() and code.islower() and 2 <= len(code) <= 3
        assert primary_tag(code) == code
