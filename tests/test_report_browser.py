"""The HTML report in a real browser: Debian's chromium, headless, opened from disk.

The report is built from the hostile fixture database of ``test_report``
(a ``<script>`` title, an ``<img onerror>`` body, a ``javascript:`` URL) with
one review applied, written to a file and opened as ``file://``. Checked: the
entries render, the filters change what is visible, nothing from page text
runs (no ``window.__pwned``, no dialog), the console stays clean, and a
phone-width viewport needs no horizontal scrolling.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright
from test_report import build_fixture

from ingest.config import DedupSettings
from ingest.pipeline.review import split
from report.data import ReportFilters, load_report
from report.html import render_html
from store.db import Store

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    directory = tmp_path_factory.mktemp("browser")
    ids = build_fixture(directory / "news.db")
    with Store.open(directory / "news.db") as store:
        ids["split"] = split(store, ids["copy"], settings=DedupSettings(),
                             note="<script>window.__pwned='note'</script>").article_id
        html = render_html(load_report(store.conn, ReportFilters()))
    path = directory / "report.html"
    path.write_text(html, encoding="utf-8")
    return path, ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Watched:
    """A page whose console errors, uncaught exceptions and dialogs are recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def visible(self, selector: str) -> list[str]:
        """Ids of the elements matching ``selector`` that are displayed."""
        ids: list[str] = self.page.eval_on_selector_all(
            selector, "els => els.filter(e => e.offsetParent !== null).map(e => e.id)")
        return ids


@pytest.fixture
def opened(browser: Browser, report_file: tuple[Path, dict[str, int]]) -> Iterator[Watched]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watched = Watched(page)
    page.goto(report_file[0].as_uri())
    page.wait_for_selector("#filters:not([hidden])")
    yield watched
    page.close()


def test_entries_render_and_nothing_from_page_text_runs(
        opened: Watched, report_file: tuple[Path, dict[str, int]]) -> None:
    ids = report_file[1]
    assert opened.visible(".entry") == [f"record-{ids['trial']}", f"record-{ids['long']}"]
    title = opened.page.inner_text(f"#duplicate-{ids['wire']} .dup-title")
    assert title.startswith("<script>window.__pwned")
    assert "onerror" in (opened.page.text_content(f"#record-{ids['trial']} .removed") or "")
    assert opened.page.evaluate("typeof window.__pwned") == "undefined"
    assert opened.page.eval_on_selector_all("img, iframe, object, embed", "els => els.length") == 0
    hrefs = opened.page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    assert hrefs and all(h.startswith(("http://", "https://", "file://")) for h in hrefs)
    assert "4 of 4 duplicates" not in opened.page.inner_text("#shown")  # one was split off
    assert opened.page.inner_text("#shown") == "Showing 3 of 3 duplicates in 2 of 2 records"
    assert opened.problems == []


def test_filters_change_what_is_visible(opened: Watched,
                                        report_file: tuple[Path, dict[str, int]]) -> None:
    ids, page = report_file[1], opened.page
    everything = opened.visible(".dup")
    assert everything == [f"duplicate-{ids[k]}" for k in ("wire", "amp", "long_copy")]
    page.select_option("select[name=source]", "wire")
    assert opened.visible(".dup") == [f"duplicate-{ids['wire']}", f"duplicate-{ids['long_copy']}"]
    page.select_option("select[name=source]", "")
    page.uncheck("input[name=method][value=near]")
    assert opened.visible(".dup") == [f"duplicate-{ids['amp']}"]
    assert opened.visible(".entry") == [f"record-{ids['trial']}"]
    page.check("input[name=method][value=near]")
    page.fill("input[name=min]", "0.9")
    page.fill("input[name=max]", "0.99")
    assert opened.visible(".dup") == [f"duplicate-{ids['long_copy']}"]
    assert page.inner_text("#shown") == "Showing 1 of 3 duplicates in 1 of 2 records"
    page.click("button[type=reset]")
    page.locator(f"#duplicate-{ids['amp']}").wait_for(state="visible")
    assert opened.visible(".dup") == everything
    assert opened.problems == []


def test_an_anchor_opens_its_entry_even_when_filtered_out(
        opened: Watched, report_file: tuple[Path, dict[str, int]]) -> None:
    ids, page = report_file[1], opened.page
    page.uncheck("input[name=method][value=url]")
    assert f"duplicate-{ids['amp']}" not in opened.visible(".dup")
    page.evaluate(f"location.hash = '#duplicate-{ids['amp']}'")
    page.locator(f"#duplicate-{ids['amp']}").wait_for(state="visible")
    assert opened.problems == []


def test_history_is_shown_with_notes_as_text(opened: Watched,
                                             report_file: tuple[Path, dict[str, int]]) -> None:
    ids = report_file[1]
    history = opened.page.inner_text("#reviews")
    assert "<script>window.__pwned='note'</script>" in history
    assert f"review merge {ids['split']} --into {ids['proces']}" in history
    assert opened.page.evaluate("typeof window.__pwned") == "undefined"


def test_layout_fits_a_phone_screen(browser: Browser,
                                    report_file: tuple[Path, dict[str, int]]) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=3,
                            is_mobile=True, has_touch=True)
    watched = Watched(page)
    page.goto(report_file[0].as_uri())
    page.wait_for_selector("#filters:not([hidden])")
    for details in page.query_selector_all("details"):
        details.evaluate("d => { d.open = true; }")  # the widest content, expanded
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == 390
    box = page.locator("#filters").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert watched.problems == []
    page.close()


def test_escaping_alone_keeps_page_text_inert(browser: Browser,
                                             report_file: tuple[Path, dict[str, int]]) -> None:
    """The Content-Security-Policy is a second line; without it nothing runs either."""
    context = browser.new_context(bypass_csp=True)
    watched = Watched(context.new_page())
    watched.page.goto(report_file[0].as_uri())
    watched.page.wait_for_selector("#filters:not([hidden])")
    watched.page.hover(f"#duplicate-{report_file[1]['wire']}")
    assert watched.page.evaluate("typeof window.__pwned") == "undefined"
    assert watched.problems == []
    context.close()
