"""Per-site template learning over a real loopback site and real cycles."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import service
from ingest.clean import paragraph_key
from ingest.record import strip_template
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
