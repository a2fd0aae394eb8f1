"""Tests for store.spill: values survive the round trip, the scratch file goes away."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import DedupSettings
from ingest.errors import ExtractError
from ingest.pipeline.process import processed_page
from ingest.types import CleanedArticle, Paragraph
from store.spill import Spill


def test_values_round_trip_by_url_and_the_file_is_removed(tmp_path: Path) -> None:
    article = CleanedArticle("https://a.example/x", "T", None, None, "en",
                             (Paragraph("Musk sued OpenAI in a federal court on Friday."),))
    done = processed_page(article, DedupSettings())
    with Spill(tmp_path) as spill:
        spill.put("https://a.example/x", done)
        spill.put("https://a.example/y", ExtractError("no article text found",
                                                      url="https://a.example/y"))
        assert spill.get("https://a.example/x") == done
        error = spill.get("https://a.example/y")
        assert isinstance(error, ExtractError) and error.url == "https://a.example/y"
        assert "https://a.example/x" in spill and "https://a.example/z" not in spill
        with pytest.raises(KeyError):
            spill.get("https://a.example/z")
        assert list(tmp_path.iterdir())
    assert list(tmp_path.iterdir()) == []
