"""Per-site template learning over a real loopback site and real cycles."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import service
from ingest.clean.article import paragraph_key
from ingest.config import DedupSettings
from ingest.pipeline.plan import apply_template
from ingest.pipeline.process import ProcessedPage, processed_page
from ingest.pipeline.record import strip_template
from ingest.types import CleanedArticle, Paragraph
from loopback import LoopbackServer
from newsweb import STORIES, article_html, rss

HOUSE = ("The Harbor Gazette is published every morning by the Coastal Media Group "
         "from its offices on Pier Street.")


def _publish(site: LoopbackServer, keys: list[str]) -> None:
    items = []
    for key in keys:
        site.add(f"/a/{key}", article_html(key, site="Harbor Gazette", extra=HOUSE))
        items.append((STORIES[key]["title"], site.url(f"/a/{key}")))
    site.add("/feed.xml", rss(items), content_type="application/rss+xml")


def test_a_paragraph_on_several_records_becomes_template_and_is_purged(tmp_path: Path) -> None:
    with LoopbackServer() as site:
        config = tmp_path / "c.toml"
        config.write_text(
            f'[store]\npath = "{tmp_path / "n.db"}"\n[fetch]\nper_host_delay_seconds = 0\n'
            "allow_private_addresses = true\n[clean]\ntemplate_min_pages = 3\n"
            f'[[sources]]\nname = "harbor"\nurl = "{site.url("/feed.xml")}"\n')
        _publish(site, ["en1", "en2"])
        assert service.main(["once", "--config", str(config)]) == 0
        with sqlite3.connect(tmp_path / "n.db") as conn:
            texts = [t for (t,) in conn.execute("SELECT text FROM articles")]
        assert len(texts) == 2 and all(HOUSE in t for t in texts)

        _publish(site, ["en1", "en2", "en3", "en5"])
        assert service.main(["once", "--config", str(config)]) == 0
    with sqlite3.connect(tmp_path / "n.db") as conn:
        rows = conn.execute("SELECT id, text FROM articles ORDER BY id").fetchall()
        rules = conn.execute("SELECT article_id, rule, text FROM removals "
                             "WHERE rule = 'template'").fetchall()
        pages = conn.execute("SELECT pages FROM site_paragraphs WHERE sample = ?",
                             (HOUSE,)).fetchone()
    assert len(rows) == 4
    assert not [i for i, text in rows if HOUSE in text], "template left in a record"
    assert {i for i, _, _ in rules} == {i for i, _ in rows}
    assert all(text == HOUSE for _, _, text in rules)
    assert pages is not None and pages[0] >= 3
    for (_, text), key in zip(rows, ["en1", "en2", "en3", "en5"], strict=True):
        assert STORIES[key]["paragraphs"][0] in text


def test_strip_template_never_empties_a_record() -> None:
    keys = frozenset({paragraph_key(HOUSE)})
    assert strip_template(HOUSE, keys) is None
    assert strip_template("A story.\n\nAnother line.", keys) is None
    kept, removed = strip_template(f"A story about Musk.\n\n{HOUSE}", keys) or ("", [])
    assert kept == "A story about Musk." and [r.rule for r in removed] == ["template"]


def _processed(texts: list[str]) -> ProcessedPage:
    article = CleanedArticle("https://gazette.example/a", "T", None, None, "en",
                             tuple(Paragraph(t) for t in texts))
    return processed_page(article, DedupSettings())


def test_processed_page_keys_follow_its_paragraphs() -> None:
    done = _processed(["A story about Musk.", HOUSE])
    assert done.keys == (paragraph_key("A story about Musk."), paragraph_key(HOUSE))


def test_apply_template_removes_and_records_only_template_paragraphs() -> None:
    done = _processed(["A story about Musk.", HOUSE, "The court ruled on Monday."])
    out = apply_template(done, frozenset({paragraph_key(HOUSE)}), DedupSettings())
    assert out.article.text == "A story about Musk.\n\nThe court ruled on Monday."
    assert [(r.rule, r.text) for r in out.article.removed] == [("template", HOUSE)]
    assert out.keys == (done.keys[0], done.keys[2])
    assert out.fingerprint == _processed(["A story about Musk.",
                                          "The court ruled on Monday."]).fingerprint


STORY_LINES = st.lists(st.sampled_from([HOUSE, "A story about Musk.", "Altman replied.",
                                        "Subscribe to the Gazette today", "The judge agreed."]),
                       min_size=1, max_size=6)


@given(STORY_LINES, st.sets(st.sampled_from([HOUSE, "Subscribe to the Gazette today",
                                             "Altman replied."])))
def test_apply_template_agrees_with_strip_template(texts: list[str], template: set[str]) -> None:
    keys = frozenset(paragraph_key(t) for t in template)
    done = _processed(texts)
    out = apply_template(done, keys, DedupSettings())
    plan = strip_template(done.article.text, keys)
    if plan is None:
        assert out is done
    else:
        assert out.article.text == plan[0]
        assert [r.text for r in out.article.removed] == [r.text for r in plan[1]]
