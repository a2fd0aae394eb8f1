"""The editors' report: content, diffs, filters, formats, and hostile page text.

Most tests read a fixture database written through the real store (real
SQLite file, real fingerprints), whose pages include hostile text: a title
with ``<script>``, a body with ``<img onerror=…>``, a ``javascript:`` URL.
One test reads the report of a real cycle over the loopback news web.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest

import service
from ingest.config import DedupSettings
from ingest.dedup.index import fingerprint
from ingest.errors import ConfigError
from ingest.pipeline.review import merge, split
from ingest.types import CleanedArticle, NewArticle, NewDuplicate, Paragraph, RawPage, Removal
from ingest.urls import canonical_url
from newsweb import NewsWeb
from report.cli import add_report_parsers
from report.data import Report, ReportFilters, load_report
from report.diff import Gap, condense, word_diff
from report.formats import render_csv, render_json, unguard
from report.html import render_html, safe_href
from store.db import Store

HOSTILE_TITLE = "<script>window.__pwned = 'title'</script>Wire: Musk files again"
HOSTILE_BODY = "<img src=x onerror=\"window.__pwned = 'body'\"> Reporting by the wire desk."
HOSTILE_URL = "javascript:window.__pwned='url'"

TRIAL = ("Elon Musk asked a federal judge on Friday to stop OpenAI from completing its change "
         "into a for-profit company, arguing that the laboratory was founded as a charity.\n\n"
         "Lawyers for Sam Altman said the request was baseless and designed to slow down a "
         "competitor of xAI, the start-up Musk founded after leaving the board.\n\n"
         "The judge will hear arguments next month before deciding on an emergency order.")
TRIAL_COPY = TRIAL.replace("on Friday", "on Monday").replace(
    "next month", "in December") + "\n\n" + HOSTILE_BODY
PROCES = ("Elon Musk demande à la justice de bloquer la transformation d'OpenAI en entreprise "
          "lucrative, estimant que le laboratoire doit rester fidèle à sa mission.\n\n"
          "Sam Altman juge la démarche infondée et dénonce une manœuvre d'un concurrent.")
LONG = " ".join(f"Paragraph {i} of the long explainer on the Musk and Altman dispute, with "
                f"detail number {i} about the founding of OpenAI." for i in range(40))
SINGLE = "Microsoft, OpenAI's largest investor, remains a defendant on a smaller set of claims."


def _article(url: str, title: str, text: str, language: str = "en",
             removed: tuple[Removal, ...] = (), declared: str | None = None) -> CleanedArticle:
    return CleanedArticle(url=url, title=title, author=None, published=None, language=language,
                          paragraphs=tuple(Paragraph(p) for p in text.split("\n\n")),
                          removed=removed, sitename="Site <b>bold</b>",
                          declared_language=declared or language, language_confidence=0.99)


def _record(store: Store, url: str, source: str, title: str, text: str, fetched_at: str,
            language: str = "en", removed: tuple[Removal, ...] = ()) -> int:
    page = RawPage(url=url, final_url=url, source=source, html=b"<html></html>",
                   fetched_at=fetched_at)
    return store.add_article(NewArticle(
        url=url, source=source, article=_article(url, title, text, language, removed),
        fingerprint=fingerprint(text, language, DedupSettings()), page=page))


def _duplicate(store: Store, record: int, url: str, source: str, method: str,
               similarity: float, title: str | None, text: str | None,
               language: str = "en", decided_at: str | None = None,
               stored_url: str | None = None, declared: str | None = None) -> int:
    article = (_article(url, title or "", text, language, declared=declared)
               if text is not None else None)
    dup = store.add_duplicate(NewDuplicate(
        url=url, source=source, article_id=record, method=method,  # type: ignore[arg-type]
        similarity=similarity, fetched_at="2025-11-20T09:00:00+00:00", article=article))
    # The store stamps "now" and only takes http(s) URLs; the fixture needs a history,
    # and a row as an older version or another writer could have left it.
    store.conn.execute("UPDATE duplicates SET decided_at = coalesce(?, decided_at), "
                       "url = coalesce(?, url) WHERE id = ?", (decided_at, stored_url, dup))
    store.conn.commit()
    return dup


def build_fixture(path: Path) -> dict[str, int]:
    """A small store with clusters, a long diff, removals and hostile text; returns ids."""
    with Store.open(path) as store:
        ids = {"trial": _record(store, "https://ledger.example/trial", "ledger",
                                "Musk asks court to halt OpenAI's conversion", TRIAL,
                                "2025-11-20T08:00:00+00:00",
                                removed=(Removal("Share this story", "share_widget"),
                                         Removal(HOSTILE_BODY, "newsletter")))}
        ids["wire"] = _duplicate(store, ids["trial"], "https://wire.example/trial", "wire",
                                 "near", 0.87, HOSTILE_TITLE, TRIAL_COPY,
                                 decided_at="2025-11-20T09:00:00+00:00", stored_url=HOSTILE_URL,
                                 declared="fr")
        ids["amp"] = _duplicate(store, ids["trial"], "https://ledger.example/amp/trial",
                                "ledger", "url", 1.0, None, None,
                                decided_at="2025-11-20T09:05:00+00:00")
        ids["proces"] = _record(store, "https://courrier.example/proces", "courrier",
                                "Musk contre OpenAI", PROCES, "2025-11-21T08:00:00+00:00", "fr")
        ids["copy"] = _duplicate(store, ids["proces"], "https://digest.example/copie",
                                 "digest", "exact", 1.0, "Musk contre OpenAI", PROCES, "fr",
                                 decided_at="2025-11-21T10:00:00+00:00")
        ids["long"] = _record(store, "https://ledger.example/explainer", "ledger",
                              "=HYPERLINK(\"x\") Explainer", LONG, "2025-11-19T08:00:00+00:00")
        ids["long_copy"] = _duplicate(store, ids["long"], "https://wire.example/explainer",
                                      "wire", "near", 0.97, "Explainer (wire)",
                                      LONG.replace("detail number 20", "detail no. 20"),
                                      decided_at="2025-11-19T09:00:00+00:00")
        ids["single"] = _record(store, "https://ledger.example/single", "ledger",
                                '<img src=x onerror="window.__pwned=\'single\'">', SINGLE,
                                "2025-11-18T08:00:00+00:00")
    return ids


@pytest.fixture
def fixture_db(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    path = tmp_path / "news.db"
    return path, build_fixture(path)


def _report(path: Path, **filters: str) -> Report:
    with Store.open(path) as store:
        return load_report(store.conn, ReportFilters(**filters))


def _by_class(element: lxml.html.HtmlElement, name: str, tag: str = "*") -> list:
    return element.xpath(f'.//{tag}[contains(concat(" ", @class, " "), " {name} ")]')


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_report_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def _config(directory: Path, db: Path) -> Path:
    path = directory / "config.toml"
    path.write_text(f'[store]\npath = "{db}"\n[[sources]]\nname = "ledger"\n'
                    'url = "https://ledger.example/feed.xml"\n', encoding="utf-8")
    return path


# -- content --------------------------------------------------------------------------------


def test_one_entry_per_record_with_duplicates_newest_first(fixture_db: tuple[Path, dict]) -> None:
    path, ids = fixture_db
    report = _report(path)
    assert [c.record.id for c in report.clusters] == [ids["proces"], ids["trial"], ids["long"]]
    trial = report.clusters[1]
    assert [d.id for d in trial.duplicates] == [ids["wire"], ids["amp"]]
    assert [(d.method, d.similarity, d.source) for d in trial.duplicates] == [
        ("near", 0.87, "wire"), ("url", 1.0, "ledger")]
    assert [r.id for r in report.singles] == [ids["single"]]
    assert [(b.rule, b.text) for b in trial.removed] == [
        ("share_widget", "Share this story"), ("newsletter", HOSTILE_BODY)]


def test_summary_counts_records_duplicates_sources_and_methods(
        fixture_db: tuple[Path, dict]) -> None:
    summary = _report(fixture_db[0]).summary
    assert (summary.records, summary.duplicates) == (4, 4)
    assert summary.share == 0.5
    assert dict(summary.by_method) == {"exact": 1, "near": 2, "url": 1}
    assert {(c.source, c.records, c.duplicates) for c in summary.by_source} == {
        ("courrier", 1, 0), ("digest", 0, 1), ("ledger", 3, 1), ("wire", 0, 2)}
    assert (summary.start, summary.end) == ("2025-11-18T08:00:00+00:00",
                                            "2025-11-21T10:00:00+00:00")


def test_since_and_source_narrow_the_report(fixture_db: tuple[Path, dict]) -> None:
    path, ids = fixture_db
    recent = _report(path, since="2025-11-20T08:30:00+00:00")
    assert [c.record.id for c in recent.clusters] == [ids["proces"], ids["trial"]]
    assert (recent.summary.records, recent.summary.duplicates) == (1, 3)
    wire = _report(path, source="wire")
    assert [d.id for c in wire.clusters for d in c.duplicates] == [ids["wire"], ids["long_copy"]]


def test_word_diff_marks_inserted_deleted_and_changed_words() -> None:
    diff = word_diff("Musk sued OpenAI on Friday in Oakland.\n\nThe judge will rule.",
                     "Musk sued OpenAI on Monday in Oakland.\n\nThe judge will rule. AFP")
    ops = [(s.op, s.old, s.new) for s in diff.segments]
    assert ("replace", "Friday", "Monday") in ops and ("insert", "", "AFP") in ops
    assert (diff.inserted, diff.deleted, diff.replaced) == (1, 0, 1)
    assert diff.same + diff.deleted + diff.replaced == 11
    assert diff.wdiff() == ("Musk sued OpenAI on [-Friday-]{+Monday+} in Oakland.\n\n"
                            "The judge will rule. {+AFP+}")
    gone = word_diff("one two three four", "one four")
    assert [(s.op, s.old) for s in gone.segments if s.op != "equal"] == [("delete", "two three")]


def test_condensed_diff_keeps_each_change_with_context() -> None:
    text = " ".join(f"w{i}" for i in range(200))
    diff = word_diff(text, text.replace("w100", "CHANGED"))
    parts = condense(diff, context=5)
    assert [type(p).__name__ for p in parts] == ["Gap", "Segment", "Segment", "Segment", "Gap"]
    assert sum(p.words for p in parts if isinstance(p, Gap)) == 199 - 10
    assert word_diff(text, text).identical


# -- HTML -----------------------------------------------------------------------------------


def test_html_entries_have_anchors_diffs_removals_and_review_commands(
        fixture_db: tuple[Path, dict]) -> None:
    path, ids = fixture_db
    doc = lxml.html.fromstring(render_html(_report(path)))
    entry = doc.get_element_by_id(f"record-{ids['trial']}")
    assert entry.tag == "article"
    wire = doc.get_element_by_id(f"duplicate-{ids['wire']}")
    assert wire.get("data-method") == "near" and wire.get("data-similarity") == "0.8700"
    body = _by_class(wire, "diff-body")[0]
    assert [d.text_content() for d in body.iter("del")] == ["Friday", "next month"]
    assert "Monday" in [i.text_content() for i in body.iter("ins")]
    assert _by_class(wire, "diff", "details")[0].get("open") is not None  # short: open
    assert f"newsdedup review split {ids['wire']}" in wire.text_content()
    assert f"newsdedup review merge OTHER_ID --into {ids['trial']}" in entry.text_content()
    removed = _by_class(entry, "removed", "details")[0]
    assert removed.get("open") is None and "Share this story" in removed.text_content()
    long_copy = doc.get_element_by_id(f"duplicate-{ids['long_copy']}")
    assert _by_class(long_copy, "diff", "details")[0].get("open") is None  # long: collapsed
    assert "identical words" in long_copy.text_content()
    assert "no text of its own" in doc.get_element_by_id(f"duplicate-{ids['amp']}").text_content()
    assert doc.get_element_by_id(f"record-{ids['single']}") is not None
    assert doc.xpath('//meta[@name="viewport"]')


def test_hostile_page_text_is_shown_as_text_and_never_linked(
        fixture_db: tuple[Path, dict]) -> None:
    page = render_html(_report(fixture_db[0]))
    doc = lxml.html.fromstring(page)
    scripts = doc.xpath("//script")
    assert len(scripts) == 1 and "__pwned" not in scripts[0].text_content()
    assert not doc.xpath("//img")
    handlers = [a for el in doc.iter() if isinstance(el.tag, str) for a in el.attrib
                if a.lower().startswith("on")]
    assert handlers == []
    hrefs = [a.get("href", "") for a in doc.xpath("//a")]
    assert not [h for h in hrefs if re.match(r"\s*(javascript|data|vbscript):", h, re.I)]
    text = doc.text_content()
    assert HOSTILE_TITLE in text and "<img src=x onerror=" in text and HOSTILE_URL in text
    assert "&lt;script&gt;window.__pwned" in page
    csp = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]')[0].get("content")
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)",
                                 "data:text/html,<script>x</script>", "java\tscript:x",
                                 "//evil.example/x", "https://a.example/\"onmouseover=x"])
def test_only_plain_http_urls_are_linked(url: str) -> None:
    assert safe_href(url) is None
    assert safe_href("https://a.example/x?q=1&r=2") == "https://a.example/x?q=1&r=2"


def test_the_text_language_is_shown_with_a_declaration_that_differs(
        fixture_db: tuple[Path, dict]) -> None:
    """Issue 12: the report shows the identified language, and the page's claim only
    where it differs (the wire copy is English text on a page declaring French)."""
    path, ids = fixture_db
    report = _report(path)
    page = lxml.html.fromstring(render_html(report))
    wire = page.get_element_by_id(f"duplicate-{ids['wire']}").text_content()
    record = page.get_element_by_id(f"record-{ids['trial']}").xpath(
        "./p[@class='meta']")[0].text_content()
    assert "en (declared fr)" in wire
    assert "en" in record and "declared" not in record
    entry = next(c for c in json.loads(render_json(report))["records"]
                 if c["id"] == ids["trial"])
    dup = next(d for d in entry["duplicates"] if d["id"] == ids["wire"])
    assert (entry["language"], entry["declared_language"]) == ("en", "en")
    assert (dup["language"], dup["declared_language"]) == ("en", "fr")
    row = next(r for r in csv.DictReader(io.StringIO(render_csv(report)))
               if r["duplicate_id"] == str(ids["wire"]))
    assert (row["record_language"], row["duplicate_language"],
            row["duplicate_declared_language"]) == ("en", "en", "fr")


def test_review_history_shows_notes_and_undo_commands(fixture_db: tuple[Path, dict]) -> None:
    path, ids = fixture_db
    with Store.open(path) as store:
        made = split(store, ids["wire"], settings=DedupSettings(), note="<b>not</b> a copy")
        merge(store, ids["single"], into=ids["long"], note="same explainer")
    report = _report(path)
    assert [r.action for r in report.reviews] == ["merge", "split"]
    doc = lxml.html.fromstring(render_html(report))
    history = doc.get_element_by_id("reviews").text_content()
    assert "<b>not</b> a copy" in history and "same explainer" in history
    assert f"newsdedup review merge {made.article_id} --into {ids['trial']}" in history
    merged_dup = report.reviews[0].duplicate_id
    assert f"newsdedup review split {merged_dup}" in history
    assert not doc.get_element_by_id("reviews").xpath(".//b")


# -- JSON and CSV ---------------------------------------------------------------------------


def test_json_and_csv_carry_the_same_decisions(fixture_db: tuple[Path, dict]) -> None:
    path, ids = fixture_db
    with Store.open(path) as store:
        split(store, ids["long_copy"], settings=DedupSettings(), note="=1+1")
    report = _report(path)
    data = json.loads(render_json(report))
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    from_json = [(str(r["id"]), str(d["id"]), d["method"], repr(d["similarity"]),
                  d["diff"]["wdiff"] if d["diff"] else "", d["split_command"], r["title"])
                 for r in data["records"] for d in r["duplicates"]]
    from_csv = [(row["record_id"], row["duplicate_id"], row["method"], row["similarity"],
                 row["diff"], row["command"], unguard(row["record_title"]))
                for row in rows if row["kind"] == "duplicate"]
    assert from_csv == from_json and len(from_json) == 3
    reviews = [row for row in rows if row["kind"] == "review"]
    assert [(int(r["review_id"]), unguard(r["note"])) for r in reviews] == [
        (r["id"], r["note"]) for r in data["reviews"]]
    assert reviews[0]["note"] == "'=1+1"  # a spreadsheet must not run it
    assert data["summary"]["by_method"] == {"exact": 1, "near": 1, "url": 1}
    trial = next(r for r in data["records"] if r["id"] == ids["trial"])
    assert trial["removed"][1]["text"] == HOSTILE_BODY


# -- command line ---------------------------------------------------------------------------


def test_report_command_writes_each_format(fixture_db: tuple[Path, dict], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, fixture_db[0])
    for fmt in ("html", "json", "csv"):
        out = tmp_path / f"r.{fmt}"
        assert _cli(["report", "--config", str(config), "--format", fmt, "-o", str(out)]) == 0
        assert json.loads(capsys.readouterr().out)["duplicates"] == 4
        assert out.stat().st_size > 500
    assert out.read_text(encoding="utf-8").startswith("kind,action,record_id")
    assert _cli(["report", "--config", str(config), "--since", "2025-11-21",
                 "--format", "json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["records"]] == [
        fixture_db[1]["proces"]]


def test_report_command_rejects_what_it_cannot_honour(fixture_db: tuple[Path, dict],
                                                      tmp_path: Path) -> None:
    config = _config(tmp_path, fixture_db[0])
    with pytest.raises(ConfigError, match="--source"):
        _cli(["report", "--config", str(config), "--source", "nope"])
    with pytest.raises(SystemExit) as info:
        _cli(["report", "--config", str(config), "--since", "last tuesday"])
    assert info.value.code == 2
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ConfigError, match="no database"):
        _cli(["report", "--config", str(_config(other, tmp_path / "absent.db"))])


# -- a real cycle ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NewsWeb, Path]]:
    with NewsWeb() as web:
        config = web.write_config(tmp_path_factory.mktemp("report-e2e"))
        assert service.main(["once", "--config", str(config)]) == 0
        yield web, config


def test_report_of_a_real_cycle_shows_the_syndicated_copy_and_its_added_line(
        crawled: tuple[NewsWeb, Path]) -> None:
    web, config = crawled
    report = _report(config.parent / "news.db", config=str(config))
    by_url = {d.url: (c, d) for c in report.clusters for d in c.duplicates}
    cluster, wire = by_url[canonical_url(web.page_urls["wire-en1"])]
    assert cluster.record.url == canonical_url(web.page_urls["en1"])
    assert wire.method == "near" and wire.diff is not None
    inserted = " ".join(s.new for s in wire.diff.segments if s.op in ("insert", "replace"))
    assert "This story was first published by Tech Daily." in inserted
    assert wire.diff.deleted == 0
    assert wire.split_command.endswith(f"--config {config}")
    assert {d.method for c in report.clusters for d in c.duplicates} == {"url", "near", "exact"}
    assert any(b.rule for b in cluster.removed)


# -- the offline demo -----------------------------------------------------------------------


def test_demo_crawls_its_sample_web_and_writes_the_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location(
        "demo_run", Path(__file__).parent.parent / "demo" / "run.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert demo.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "demo-report.html") in out and str(tmp_path / "demo.db") in out
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        methods = dict(conn.execute("SELECT method, count(*) FROM duplicates GROUP BY method"))
        rules = {r for (r,) in conn.execute("SELECT rule FROM removals")}
        skipped = conn.execute("SELECT count(*) FROM skipped").fetchone()[0]
    assert methods == {"url": 1, "near": 2, "exact": 2}
    assert {"repeat", "share_widget"} <= rules and skipped == 1
    doc = lxml.html.fromstring((tmp_path / "demo-report.html").read_text(encoding="utf-8"))
    assert len(doc.xpath('//article[@class="entry"]')) == 5
    assert "Reporting by the Continental Wire legal desk." in " ".join(
        i.text_content() for i in doc.xpath("//ins"))
    assert (tmp_path / "demo-config.toml").exists()  # what the printed review commands use
