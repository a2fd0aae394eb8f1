"""A known URL whose feed entry says it was updated: the record changes, history kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import service
from loopback import LoopbackServer
from newsweb import STORIES, article_html


def _feed(url: str, updated: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>t</title><id>urn:t</id><updated>{updated}</updated><entry>"
            f'<title>{STORIES["en3"]["title"]}</title><link href="{url}"/><id>{url}</id>'
            f"<updated>{updated}</updated></entry></feed>")


def test_updated_entry_updates_the_record_and_keeps_the_old_version(tmp_path: Path) -> None:
    extra = "Update: the judge moved the hearing to Thursday, lawyers for Musk said."
    with LoopbackServer() as site:
        url = site.url("/story")
        site.add("/story", article_html("en3", site="Daily"))
        site.add("/atom.xml", _feed(url, "2025-11-22T07:00:00Z"),
                 content_type="application/atom+xml")
        config = tmp_path / "c.toml"
        config.write_text(f'[store]\npath = "{tmp_path / "n.db"}"\n[fetch]\n'
                          "per_host_delay_seconds = 0\nallow_private_addresses = true\n"
                          f'[[sources]]\nname = "s"\nurl = "{site.url("/atom.xml")}"\n')
        assert service.main(["once", "--config", str(config)]) == 0
        assert service.main(["once", "--config", str(config)]) == 0  # same stamp: not fetched
        assert site.count("/story") == 1
        site.add("/story", article_html("en3", site="Daily", extra=extra))
        site.add("/atom.xml", _feed(url, "2025-11-22T09:30:00Z"),
                 content_type="application/atom+xml")
        assert service.main(["once", "--config", str(config)]) == 0
        assert site.count("/story") == 2
    with sqlite3.connect(tmp_path / "n.db") as conn:
        rows = conn.execute("SELECT id, text, version, updated_at FROM articles").fetchall()
        old = conn.execute("SELECT article_id, version, text FROM article_versions").fetchall()
        duplicates = conn.execute("SELECT count(*) FROM duplicates").fetchone()[0]
        fts = conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH "
                           "'Thursday'").fetchone()[0]
    assert len(rows) == 1 and duplicates == 0
    article_id, text, version, updated_at = rows[0]
    assert extra in text and version == 2 and updated_at
    assert [(a, v) for a, v, _ in old] == [(article_id, 1)] and extra not in old[0][2]
    assert fts == 1
