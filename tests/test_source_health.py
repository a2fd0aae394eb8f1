"""A failing source backs off on its own schedule and is never dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import service
from ingest.config import load_config
from loopback import LoopbackServer, status
from newsweb import STORIES, article_html, rss


def _config(tmp_path: Path, busy: LoopbackServer, good: LoopbackServer) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[store]\npath = "{tmp_path / "n.db"}"\n[fetch]\nper_host_delay_seconds = 0\n'
        "allow_private_addresses = true\n[schedule]\ninterval_minutes = 10\n"
        "adaptive = false\n"  # each daemon cycle visits the healthy source, as its job would
        f'[[sources]]\nname = "busy"\nurl = "{busy.url("/feed.xml")}"\n'
        f'[[sources]]\nname = "good"\nurl = "{good.url("/feed.xml")}"\n')
    return path


def test_retry_after_backs_off_that_source_only(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with LoopbackServer() as busy, LoopbackServer() as good:
        busy.add_handler("/feed.xml", status(429, retry_after="3600"))
        good.add("/a", article_html("en1", site="Good"))
        good.add("/feed.xml", rss([(STORIES["en1"]["title"], good.url("/a"))]),
                 content_type="application/rss+xml")
        config = _config(tmp_path, busy, good)
        daemon = service.Service(load_config(config))
        daemon.pipeline.honour_backoff = True
        try:
            first = daemon.cycle(daemon.config.sources)
            second = daemon.cycle(daemon.config.sources)
        finally:
            daemon.close()
        assert busy.count("/feed.xml") == 1, "the backed-off source was asked again"
        assert good.count("/feed.xml") == 2
    assert first["counts"]["source.status_429"] == 1
    assert second["counts"]["source.backoff"] == 1
    assert service.main(["stats", "--config", str(config)]) == 0
    failing = json.loads(capsys.readouterr().out)["failing_sources"]
    assert [f["name"] for f in failing] == ["busy"]
    retry_at = datetime.fromisoformat(failing[0]["next_attempt_at"])
    assert retry_at - datetime.now(UTC) > timedelta(minutes=55)
    assert failing[0]["last_status"] == 429 and "429" in failing[0]["last_error"]


def test_a_long_lived_service_sees_records_other_processes_stored(tmp_path: Path) -> None:
    from newsweb import NewsWeb

    with NewsWeb() as web:
        text = web.config_text(tmp_path / "n.db")
        head, _, _ = text.partition("\n[[sources]]")
        by_name = {n: (k, u) for n, k, u in web.sources}

        def config(name: str) -> Path:
            kind, url = by_name[name]
            path = tmp_path / f"{name}.toml"
            path.write_text(f'{head}\n[[sources]]\nname = "{name}"\nkind = "{kind}"\n'
                            f'url = "{url}"\n')
            return path

        daemon = service.Service(load_config(config("wire")))  # index loaded: empty store
        try:
            assert service.main(["once", "--config", str(config("tech"))]) == 0
            daemon.cycle(daemon.config.sources)
        finally:
            daemon.close()
        copy = web.page_urls["wire-en1"]
    import sqlite3

    with sqlite3.connect(tmp_path / "n.db") as conn:
        method = conn.execute("SELECT method FROM duplicates WHERE url = ?", (copy,)).fetchone()
    assert method == ("near",)


def test_a_page_that_was_empty_is_tried_again_hours_later(tmp_path: Path) -> None:
    import sqlite3

    with LoopbackServer() as site:
        site.add("/a", "<html><body></body></html>")
        site.add("/feed.xml", rss([(STORIES["en3"]["title"], site.url("/a"))]),
                 content_type="application/rss+xml")
        path = tmp_path / "c.toml"
        path.write_text(f'[store]\npath = "{tmp_path / "n.db"}"\n[fetch]\n'
                        "per_host_delay_seconds = 0\nallow_private_addresses = true\n"
                        f'[[sources]]\nname = "s"\nurl = "{site.url("/feed.xml")}"\n')
        daemon = service.Service(load_config(path))
        try:
            daemon.cycle(daemon.config.sources)
            site.add("/a", article_html("en3", site="Late"))
            daemon.cycle(daemon.config.sources)
            assert site.count("/a") == 1, "an empty page was refetched at once"
            daemon.pipeline.clock = lambda: datetime.now(UTC) + timedelta(hours=7)
            daemon.cycle(daemon.config.sources)
        finally:
            daemon.close()
        assert site.count("/a") == 2
    with sqlite3.connect(tmp_path / "n.db") as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM skipped").fetchone()[0] == 0
