"""The review app in a real browser: Debian's chromium, headless, driven by Playwright
against the app running for real (uvicorn on loopback, ``reviewapp.running_app``) over a
SQLite store crawled from the loopback news web (``reviewapp.crawled``). Each test has a
store of its own. (The same app's refusals over plain HTTP: ``test_review_app.py``.)

Checked: an editor signs in through the form, filters the decisions, splits a duplicate,
merges a record through "Same story as…", confirms a decision (the history, the JSON
report and a later crawl cycle all keep what the editor did, under the editor's name);
the keyboard shortcuts; reviews made while ``newsdedup once`` (another process) writes
the same database all answer at once and all stand, and the crawl loses no page for
good; crawled titles, texts and URLs and editors' notes with markup stay inert on every
page (escaping alone: the browser is told to ignore the Content-Security-Policy); the
session cookie is out of page script's reach and not sent from another site.

Playwright's sync API keeps an event loop marked running in the test's thread, so the
command line (which runs its own loop, and installs signal handlers, so it must stay in
the main thread) is called through ``_aside``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Request,
    expect,
    sync_playwright,
)

import service
from clusterweb import ClusterWeb
from loopback import LoopbackServer
from newsweb import EXPECTED, NewsWeb
from reviewapp import EDITOR, PASSWORD, crawled, csrf_of, running_app, signed_in

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]
SESSION_COOKIE = "newsdedup_session"
T = TypeVar("T")


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web() -> Iterator[NewsWeb]:
    with NewsWeb() as news:
        yield news


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def _aside(fn: Callable[[], T]) -> T:
    """``fn()`` with no event loop marked running in this thread. Playwright's sync API
    keeps its loop marked running here between calls, and a crawl cycle starts a loop of
    its own (``asyncio.run``), which it must do in the main thread (it installs signal
    handlers). Playwright's loop does nothing meanwhile: it runs only inside its calls."""
    loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        return fn()
    finally:
        asyncio.events._set_running_loop(loop)


def _cli(*args: str) -> int:
    return _aside(lambda: service.main(list(args)))


@pytest.fixture(scope="module")
def crawl(web: NewsWeb, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One crawl of the news web, and the editor ``ada``: the stores' common start."""
    return _aside(lambda: crawled(web, tmp_path_factory.mktemp("crawl")))


@pytest.fixture
def config(web: NewsWeb, crawl: Path, tmp_path: Path) -> Path:
    """This test's own store: a copy of the crawled one (its configuration beside it)."""
    directory = tmp_path / "store"
    directory.mkdir()
    path = web.write_config(directory)
    with sqlite3.connect(crawl.parent / "news.db") as source, \
            sqlite3.connect(directory / "news.db") as copy:
        source.backup(copy)
    return path


@pytest.fixture
def base(config: Path) -> Iterator[str]:
    with running_app(config) as url:
        yield url


class Tab:
    """A page of its own browser context (its own cookies) on the app at ``base``, whose
    console errors, uncaught exceptions, dialogs and requests are recorded."""

    def __init__(self, context: BrowserContext, base: str) -> None:
        self.context, self.base = context, base
        self.page: Page = context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        where = message.location.get("url", "")
        if where.endswith("/favicon.ico"):  # asked for by the browser itself; none is served
            return
        if message.text.startswith("Failed to load resource") and where == self.page.url:
            return  # a page answered with an error status: the tests check those statuses
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text} ({where} on "
                                 f"{self.page.url})")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def goto(self, path: str) -> None:
        answer = self.page.goto(self.base + path)
        assert answer is not None

    def sign_in(self, name: str = EDITOR, password: str = PASSWORD) -> None:
        """Through the form, as an editor does: a page, then the sign-in it redirects to."""
        self.goto("/")
        assert urlsplit(self.page.url).path == "/login"
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=password]", password)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_url(self.base + "/")

    def rows(self) -> list[str]:
        """Ids of the list's rows (decisions, or a record's duplicates), in page order."""
        ids: list[str] = self.page.eval_on_selector_all(".row", "els => els.map(e => e.id)")
        return ids

    def selected(self) -> list[str]:
        ids: list[str] = self.page.eval_on_selector_all(".row.selected",
                                                        "els => els.map(e => e.id)")
        return ids

    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.page.url).query)


@pytest.fixture
def tab(browser: Browser, base: str) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield Tab(context, base)
    context.close()


# -- store helpers --------------------------------------------------------------------------


def _db(config: Path) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "news.db", timeout=30)


class Ids:
    """The crawled news web's ids in one store, by page key (see ``newsweb.EXPECTED``)."""

    def __init__(self, config: Path, web: NewsWeb) -> None:
        with _db(config) as conn:
            articles = dict(conn.execute("SELECT url, id FROM articles"))
            duplicates = {url: (i, a) for url, i, a in
                          conn.execute("SELECT url, id, article_id FROM duplicates")}
        self.record = {k: articles[web.page_urls[k]] for k in EXPECTED["articles"]}
        self.duplicate = {k: duplicates[web.page_urls[k]][0] for k in EXPECTED["duplicates"]}


def _where(conn: sqlite3.Connection, url: str) -> list[tuple[str, int, str | None]]:
    """Where ``url`` is stored: ``("article", id, None)`` / ``("duplicate", record, method)``."""
    found: list[tuple[str, int, str | None]] = [("article", int(i), None) for (i,) in
             conn.execute("SELECT id FROM articles WHERE url = ?", (url,))]
    found += [("duplicate", int(a), str(m)) for a, m in
              conn.execute("SELECT article_id, method FROM duplicates WHERE url = ?", (url,))]
    return found


# -- 1. the common path ------------------------------------------------------------------------


def test_an_editor_filters_splits_merges_and_confirms(web: NewsWeb, config: Path,
                                                      tab: Tab, tmp_path: Path) -> None:
    ids, page = Ids(config, web), tab.page
    tab.sign_in()
    assert page.inner_text("header .who") == EDITOR
    assert set(tab.rows()) == {f"decision-{d}" for d in ids.duplicate.values()}

    # Filter: near copies, then a word of one story, then the unreviewed ones.
    page.select_option("select[name=method]", "near")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/?*method=near*")
    assert set(tab.rows()) == {f"decision-{ids.duplicate['wire-en1']}",
                               f"decision-{ids.duplicate['wire-en2']}"}
    page.fill("#search", "emails")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/?*q=emails*")
    assert tab.rows() == [f"decision-{ids.duplicate['wire-en2']}"]
    assert page.input_value("select[name=method]") == "near"  # the filters are kept
    page.select_option("select[name=reviewed]", "no")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/?*reviewed=no*")
    assert tab.query() == {"q": ["emails"], "method": ["near"], "reviewed": ["no"]}
    assert tab.rows() == [f"decision-{ids.duplicate['wire-en2']}"]
    assert page.input_value("#search") == "emails"

    # Open the record; "Not a copy", with a note.
    split_dup, en2 = ids.duplicate["wire-en2"], ids.record["en2"]
    page.click(f"#decision-{split_dup} a")
    page.wait_for_url(f"{tab.base}/records/{en2}#duplicate-{split_dup}")
    assert page.inner_text(f"#record-{en2} h1").startswith(
        "OpenAI publishes old emails to rebut Musk")
    item = page.locator(f"#duplicate-{split_dup}")
    assert "Emails show Musk wanted control" in item.inner_text()
    assert item.locator("del, ins").count() > 0  # the word diff is shown
    item.locator("input[name=note]").fill("a follow-up with its own angle")
    item.locator(".split-button").click()
    page.wait_for_url("**/records/*?done=split")
    split_id = int(urlsplit(page.url).path.rsplit("/", 1)[1])
    assert split_id not in ids.record.values()
    assert page.inner_text("p.done") == "Split: this page is now a record of its own."
    assert page.inner_text(f"#record-{split_id} h1").startswith(
        "Emails show Musk wanted control, OpenAI says")
    assert "a follow-up with its own angle" in page.inner_text("ol.reviews")

    # "Same story as…": search, then "Merge into #N", with a note.
    fr5, en6 = ids.record["fr5"], ids.record["en6"]
    tab.goto(f"/records/{fr5}")
    page.click("#merge-link")
    page.wait_for_url(f"{tab.base}/records/{fr5}/merge")
    expect(page.locator("#search")).to_be_focused()  # autofocus, applied once rendered
    page.fill("#search", "brief")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/merge?q=brief")
    targets = page.locator("li.target")
    assert targets.count() == 1
    assert targets.first.locator(".merge-button").inner_text() == f"Merge into #{en6}"
    targets.first.locator("input[name=note]").fill("the same court brief, in French")
    targets.first.locator(".merge-button").click()
    page.wait_for_url(f"{tab.base}/records/{en6}?done=merge")
    assert page.inner_text("p.done") == "Merged into this record."
    merged = page.locator("li.duplicate", has_text=web.page_urls["fr5"])
    assert merged.locator(".method").inner_text() == "review"
    assert "reviewed by ada" in merged.inner_text()  # an editor's own merge is reviewed

    # "Confirm: a copy" marks the decision reviewed; it leaves the unreviewed list.
    en1, confirmed, amp = ids.record["en1"], ids.duplicate["wire-en1"], ids.duplicate[
        "tech-amp-en1"]
    tab.goto(f"/records/{en1}")
    assert page.locator(f"#duplicate-{confirmed} .reviewed").count() == 0
    page.click(f"#duplicate-{confirmed} .confirm-button")
    page.wait_for_url(f"{tab.base}/records/{en1}#duplicate-{confirmed}")
    assert page.inner_text(f"#duplicate-{confirmed} .reviewed") == "reviewed by ada"
    assert page.locator(f"#duplicate-{confirmed} .confirm-button").count() == 0
    assert page.locator(f"#duplicate-{amp} .reviewed").count() == 0
    assert page.locator(f"#duplicate-{amp} .confirm-button").count() == 1
    tab.goto("/?reviewed=no")
    assert set(tab.rows()) == {f"decision-{amp}", f"decision-{ids.duplicate['maps-fr1']}"}
    tab.goto("/?reviewed=yes")
    assert f"decision-{confirmed}" in tab.rows()
    assert page.inner_text(f"#decision-{confirmed} td:last-child") == f"✓ {EDITOR}"

    # The history: both reviews, by ada, with their notes.
    tab.goto("/history")
    history = page.locator("li.review")
    assert history.count() == 2
    texts = [history.nth(i).inner_text() for i in range(2)]
    assert page.eval_on_selector_all("li.review .by", "els => els.map(e => e.textContent)"
                                     ) == [EDITOR, EDITOR]
    merge_text, split_text = texts  # newest first
    assert merge_text.startswith(f"merge record {fr5} merged into record {en6}")
    assert "Note: the same court brief, in French" in merge_text
    assert split_text.startswith(f"split duplicate {split_dup} split from record {en2}: "
                                 f"now record {split_id}")
    assert "Note: a follow-up with its own angle" in split_text
    assert tab.problems == []

    # The JSON report has both, under ada's name.
    out = tmp_path / "report.json"
    assert _cli("report", "--config", str(config), "--format", "json", "-o", str(out)) == 0
    reviews = {r["action"]: r for r in json.loads(out.read_text(encoding="utf-8"))["reviews"]}
    assert set(reviews) == {"split", "merge"}
    assert reviews["split"]["editor"] == reviews["merge"]["editor"] == EDITOR
    assert reviews["split"]["note"] == "a follow-up with its own angle"
    assert reviews["split"]["url"] == web.page_urls["wire-en2"]
    assert (reviews["merge"]["article_id"], reviews["merge"]["target_id"]) == (fr5, en6)

    # A later cycle, which reads every feed again (validators dropped), undoes neither.
    with _db(config) as conn:
        conn.execute("UPDATE sources SET etag = NULL, last_modified = NULL")
    feeds_before = len(web.all_requests())
    assert _cli("once", "--config", str(config)) == 0
    assert len(web.all_requests()) > feeds_before
    with _db(config) as conn:
        assert _where(conn, web.page_urls["wire-en2"]) == [("article", split_id, None)]
        assert _where(conn, web.page_urls["fr5"]) == [("duplicate", en6, "review")]
        assert _where(conn, web.page_urls["wire-en1"]) == [("duplicate", en1, "near")]
        (marked,) = conn.execute("SELECT editor FROM decision_marks WHERE duplicate_id = ?",
                                 (confirmed,)).fetchone()
        assert marked == EDITOR
        assert [tuple(r) for r in conn.execute(
            "SELECT action, editor FROM reviews ORDER BY id")] == [("split", EDITOR),
                                                                   ("merge", EDITOR)]


# -- 2. keyboard -----------------------------------------------------------------------------


def test_keyboard_shortcuts(web: NewsWeb, config: Path, tab: Tab) -> None:
    ids, page, keys = Ids(config, web), tab.page, tab.page.keyboard
    tab.sign_in()
    rows = tab.rows()
    assert len(rows) == 4 and tab.selected() == [rows[0]]  # the first row, from the start

    # "/" focuses the search box (and is not typed into it); keys typed there are text.
    keys.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    assert page.input_value("#search") == ""
    keys.type("jk")
    assert page.input_value("#search") == "jk" and tab.selected() == [rows[0]]
    page.fill("#search", "court")
    keys.press("Enter")  # in the box: the form is submitted, no row opened
    page.wait_for_url(f"{tab.base}/?q=court*")
    court = tab.rows()
    assert set(court) == {f"decision-{ids.duplicate[k]}" for k in ("tech-amp-en1", "wire-en1",
                                                                   "wire-en2")}
    tab.goto("/")

    # j / k move the selection, within the list; o opens the selected decision.
    page.click("h1")  # the focus off any field
    keys.press("j")
    assert tab.selected() == [rows[1]]
    keys.press("k")
    keys.press("k")
    assert tab.selected() == [rows[0]]
    for _ in range(6):
        keys.press("j")
    assert tab.selected() == [rows[-1]]
    keys.press("k")
    href = page.get_attribute(f"#{rows[-2]}", "data-href")
    assert href is not None
    keys.press("o")
    page.wait_for_url(tab.base + href)
    assert page.locator(f"#{href.rsplit('#', 1)[1]}").count() == 1
    tab.goto("/")
    page.click("h1")
    keys.press("j")
    href = page.get_attribute(f"#{rows[1]}", "data-href")
    assert href is not None
    keys.press("Enter")  # Enter opens too
    page.wait_for_url(tab.base + href)

    # On a record: j selects the next duplicate, c confirms the selected one.
    en1, amp, wire = ids.record["en1"], ids.duplicate["tech-amp-en1"], ids.duplicate["wire-en1"]
    tab.goto(f"/records/{en1}")
    assert tab.rows() == [f"duplicate-{amp}", f"duplicate-{wire}"]
    assert tab.selected() == [f"duplicate-{amp}"]
    page.click("h1")
    keys.press("j")
    assert tab.selected() == [f"duplicate-{wire}"]
    keys.press("c")
    page.wait_for_url(f"{tab.base}/records/{en1}#duplicate-{wire}")
    assert page.inner_text(f"#duplicate-{wire} .reviewed") == "reviewed by ada"
    assert page.locator(f"#duplicate-{amp} .reviewed").count() == 0
    keys.press("o")  # a record's duplicates are not links: nothing happens
    keys.press("c")  # the first one is selected again: c confirms it
    page.wait_for_url(f"{tab.base}/records/{en1}#duplicate-{amp}")
    assert page.inner_text(f"#duplicate-{amp} .reviewed") == "reviewed by ada"
    with _db(config) as conn:
        marks = dict(conn.execute("SELECT duplicate_id, editor FROM decision_marks"))
    assert marks == {amp: EDITOR, wire: EDITOR}

    # s: "Not a copy" on the selected duplicate (the note field stays empty).
    en2, copy = ids.record["en2"], ids.duplicate["wire-en2"]
    tab.goto(f"/records/{en2}")
    page.click("h1")
    keys.press("s")
    page.wait_for_url("**/records/*?done=split")
    split_id = int(urlsplit(page.url).path.rsplit("/", 1)[1])
    assert page.inner_text(f"#record-{split_id} h1").startswith("Emails show Musk wanted")
    with _db(config) as conn:
        assert _where(conn, web.page_urls["wire-en2"]) == [("article", split_id, None)]
        assert conn.execute("SELECT note, editor FROM reviews WHERE duplicate_id = ?",
                            (copy,)).fetchall() == [(None, EDITOR)]

    # n: the unreviewed decisions.
    keys.press("n")
    page.wait_for_url(f"{tab.base}/?reviewed=no")
    assert tab.rows() == [f"decision-{ids.duplicate['maps-fr1']}"]

    # Modified keys are the browser's, not shortcuts.
    page.click("h1")
    keys.press("Control+j")
    keys.press("Alt+o")
    assert urlsplit(page.url).query == "reviewed=no"
    assert tab.problems == []


# -- 3. reviews while a crawl cycle writes the same database -------------------------------


class Reviewer:
    """Reviews over HTTP as the app's forms send them (the page, then its form), by ``ada``;
    every answer is kept, with when each write was answered."""

    def __init__(self, base: str) -> None:
        self.client = signed_in(base)
        self.answers: list[tuple[str, int, str]] = []
        self.written: list[float] = []

    def _get(self, path: str) -> str:
        answer = self.client.get(path)
        self.answers.append((f"GET {path}", answer.status_code, answer.text))
        return answer.text

    def _post(self, path: str, data: dict[str, str]) -> str:
        answer = self.client.post(path, data=data)
        self.answers.append((f"POST {path}", answer.status_code, answer.text))
        self.written.append(time.monotonic())
        return answer.headers.get("location", "")

    def split(self, record: int, duplicate: int, note: str) -> int:
        page = self._get(f"/records/{record}")
        expect = re.search(rf'action="/duplicates/{duplicate}/split"[^>]*>\s*<input[^>]*>\s*'
                           r'<input type="hidden" name="expect" value="([^"]+)"', page)
        assert expect is not None, f"no split form for duplicate {duplicate}"
        location = self._post(f"/duplicates/{duplicate}/split",
                              {"csrf": csrf_of(page), "expect": expect.group(1), "note": note})
        done = re.fullmatch(r"/records/(\d+)\?done=split", location)
        assert done is not None, location
        return int(done.group(1))

    def merge(self, record: int, into: int, note: str) -> None:
        page = self._get(f"/records/{record}/merge?q={into}")
        form = re.search(rf'name="into" value="{into}">\s*'
                         r'<input type="hidden" name="expect" value="([^"]+)">\s*'
                         r'<input type="hidden" name="expect_into" value="([^"]+)">', page)
        assert form is not None, f"record {into} not offered as a merge target of {record}"
        location = self._post(f"/records/{record}/merge",
                              {"csrf": csrf_of(page), "into": str(into), "note": note,
                               "expect": form.group(1), "expect_into": form.group(2)})
        assert location == f"/records/{into}?done=merge", location

    def confirm(self, record: int, duplicate: int) -> None:
        page = self._get(f"/records/{record}")
        location = self._post(f"/duplicates/{duplicate}/confirm",
                              {"csrf": csrf_of(page), "next": f"/records/{record}"})
        assert location == f"/records/{record}", location


class Done:
    """What the reviewers did, to be found in the store afterwards."""

    def __init__(self) -> None:
        self.splits: dict[str, int] = {}  # the page's URL -> its new record
        self.merges: dict[str, int] = {}  # the merged record's URL -> the record it joined
        self.confirms: set[int] = set()  # duplicate ids
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()


def _in_thread(done: Done, work: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test, with the rest
            with done.lock:
                done.errors.append(exc)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _url(conn: sqlite3.Connection, table: str, row_id: int) -> str:
    (url,) = conn.execute(f"SELECT url FROM {table} WHERE id = ?", (row_id,)).fetchone()
    return str(url)


def test_reviews_while_a_crawl_cycle_writes_the_same_database(
        web: NewsWeb, config: Path, base: str, tmp_path: Path) -> None:
    ids, db = Ids(config, web), config.parent / "news.db"
    with _db(config) as conn:
        (last_record,) = conn.execute("SELECT max(id) FROM articles").fetchone()
        (last_duplicate,) = conn.execute("SELECT max(id) FROM duplicates").fetchone()
    with ClusterWeb(sites=3, stories=30, seed=21, latency=(0.1, 0.3)) as cluster:
        daemon_config = tmp_path / "daemon.toml"
        daemon_config.write_text(cluster.config_text("SQLITE", fetch="per_host_concurrency = 1")
                                 .replace('url = "SQLITE"', f'path = "{db}"'), encoding="utf-8")
        done, news, crawl = Done(), Reviewer(base), Reviewer(base)
        def review_the_news() -> None:  # the news web's records: known ids
            for step in (
                    lambda: news.confirm(ids.record["en1"], ids.duplicate["tech-amp-en1"]),
                    lambda: done.splits.__setitem__(web.page_urls["wire-en1"], news.split(
                        ids.record["en1"], ids.duplicate["wire-en1"], "own angle")),
                    lambda: news.merge(ids.record["fr5"], ids.record["en6"], "same brief"),
                    lambda: news.confirm(ids.record["fr1"], ids.duplicate["maps-fr1"]),
                    lambda: done.splits.__setitem__(web.page_urls["wire-en2"], news.split(
                        ids.record["en2"], ids.duplicate["wire-en2"], "a follow-up")),
                    lambda: news.merge(ids.record["fr2"], ids.record["en3"], "same trial"),
                    lambda: news.merge(ids.record["fr3"], ids.record["en2"], "same emails")):
                step()
                time.sleep(0.15)
            done.confirms.update({ids.duplicate["tech-amp-en1"], ids.duplicate["maps-fr1"]})
            done.merges.update({web.page_urls["fr5"]: ids.record["en6"],
                                web.page_urls["fr2"]: ids.record["en3"],
                                web.page_urls["fr3"]: ids.record["en2"]})

        def review_the_crawl() -> None:  # what the running cycle stores, as it comes
            used: set[int] = set()
            for turn in range(9):
                with _db(config) as conn:
                    dups = conn.execute(
                        "SELECT id, article_id FROM duplicates WHERE id > ? AND method != "
                        "'review' ORDER BY id DESC", (last_duplicate,)).fetchall()
                    records = [r for r, url in conn.execute(
                        "SELECT id, url FROM articles WHERE id > ? ORDER BY id DESC",
                        (last_record,)) if url in cluster.article_urls]  # no split-off one
                fresh = [(d, a) for d, a in dups if d not in used and a not in used]
                alone = [r for r in records if r not in used and r not in {a for _, a in dups}]
                if turn % 3 == 2 and len(alone) >= 2:
                    source, target = alone[:2]
                    with _db(config) as conn:
                        url = _url(conn, "articles", source)
                    crawl.merge(source, target, f"turn {turn}")
                    done.merges[url] = target
                    used |= {source, target}
                elif fresh:
                    duplicate, record = fresh[0]
                    used |= {duplicate, record}
                    if turn % 3 == 0:
                        crawl.confirm(record, duplicate)
                        done.confirms.add(duplicate)
                    else:
                        with _db(config) as conn:
                            url = _url(conn, "duplicates", duplicate)
                        done.splits[url] = crawl.split(record, duplicate, f"turn {turn}")
                        used.add(done.splits[url])  # a record now, but not to merge
                time.sleep(0.2)

        with (tmp_path / "daemon.log").open("w", encoding="utf-8") as log, _daemon(
                daemon_config, log) as daemon:
            ended: list[float] = []

            def wait_for_the_cycle() -> None:
                daemon.wait(120)
                ended.append(time.monotonic())

            watcher = threading.Thread(target=wait_for_the_cycle)
            watcher.start()
            deadline = time.monotonic() + 60
            while _max_id(db, "articles") <= last_record:  # until the cycle is writing
                assert daemon.poll() is None and time.monotonic() < deadline, "nothing stored"
                time.sleep(0.05)
            writing = time.monotonic()
            threads = [_in_thread(done, review_the_news), _in_thread(done, review_the_crawl)]
            for thread in threads:
                thread.join(120)
            watcher.join(120)
        assert daemon.returncode == 0, (tmp_path / "daemon.log").read_text()
        assert done.errors == []

        # Every answer was a page or a redirect: no error, no "database is locked".
        answers = news.answers + crawl.answers
        assert [(what, code) for what, code, _ in answers if code not in (200, 303)] == []
        assert [what for what, _, text in answers if "database is locked" in text] == []
        during = [t for t in news.written + crawl.written if writing <= t <= ended[0]]
        assert len(during) >= 4, "too few reviews overlapped the cycle's writes"

        # Each review is in the store, by ada; no page is stored twice.
        with _db(config) as conn:
            _check_reviews(conn, done)
            twice = conn.execute("SELECT url FROM articles INTERSECT SELECT url FROM duplicates")
            assert twice.fetchall() == []

        # A page the cycle could not store is fetched by the next: then every page is
        # stored exactly once, and the reviews stand.
        assert _cli("once", "--config", str(daemon_config)) == 0
        with _db(config) as conn:
            _check_reviews(conn, done)
            pages = {web.page_urls[k] for k in (*EXPECTED["articles"], *EXPECTED["duplicates"])}
            pages |= cluster.article_urls
            places = {url: len(_where(conn, url)) for url in pages}
            assert {url: n for url, n in places.items() if n != 1} == {}


@contextlib.contextmanager
def _daemon(config: Path, log: IO[str]) -> Iterator[subprocess.Popen[bytes]]:
    """``newsdedup once`` in a process of its own (killed if the test ends first)."""
    daemon = subprocess.Popen([sys.executable, str(Path(service.__file__).resolve()), "once",
                               "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        yield daemon
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)


def _max_id(db: Path, table: str) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        (n,) = conn.execute(f"SELECT max(id) FROM {table}").fetchone()
    return int(n or 0)


def _check_reviews(conn: sqlite3.Connection, done: Done) -> None:
    for url, record in done.splits.items():
        assert _where(conn, url) == [("article", record, None)], url
    for url, target in done.merges.items():
        assert _where(conn, url) == [("duplicate", target, "review")], url
    marks = dict(conn.execute("SELECT duplicate_id, editor FROM decision_marks"))
    assert {d: marks.get(d) for d in done.confirms} == {d: EDITOR for d in done.confirms}
    rows = conn.execute("SELECT action, url, editor FROM reviews").fetchall()
    assert sorted(rows) == sorted([("split", u, EDITOR) for u in done.splits]
                                  + [("merge", u, EDITOR) for u in done.merges])


# -- 4. crawled text stays inert -----------------------------------------------------------

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
REMOTE = '<img src="https://evil.example/pixel.png">'
NOTE = "<script>window.__pwned='note'</script><b onmouseover=\"window.__pwned=3\">note</b>"
REFLECTED = '"><script>window.__pwned=4</script><img src=x onerror="window.__pwned=5">'

INERT = """() => ({
    pwned: typeof window.__pwned,
    scriptLinks: [...document.querySelectorAll("a")].map(a => a.getAttribute("href") || "")
        .filter(h => !/^(https?:\\/\\/|\\/|#)/i.test(h.trim())),
    embedded: document.querySelectorAll("img, iframe, object, embed, svg").length,
    inlineScripts: [...document.scripts].filter(s => !s.src).length,
    foreignScripts: [...document.scripts].filter(s => s.src)
        .map(s => new URL(s.src).origin).filter(o => o !== location.origin),
    handlers: [...document.querySelectorAll("*")].flatMap(e => [...e.attributes])
        .filter(a => a.name.toLowerCase().startsWith("on")).map(a => a.name),
})"""


def test_crawled_text_urls_and_notes_stay_inert_on_every_page(
        web: NewsWeb, config: Path, base: str, browser: Browser) -> None:
    ids = Ids(config, web)
    en1, en2, en3, en5 = (ids.record[k] for k in ("en1", "en2", "en3", "en5"))
    with _db(config) as conn:
        conn.execute("UPDATE articles SET title = ?, text = text || ? WHERE id = ?",
                     (f"{SCRIPT} pwned", f"\n\n{IMG}\n\n{REMOTE} pwned", en1))
        conn.execute("UPDATE removals SET text = ? WHERE article_id = ?", (IMG, en1))
        conn.execute("UPDATE duplicates SET title = ?, url = ?, text = text || ? WHERE id = ?",
                     (IMG, "javascript:alert(1)", f"\n\n{SCRIPT}", ids.duplicate["wire-en1"]))
        conn.execute("UPDATE articles SET title = NULL, url = ? WHERE id = ?",
                     (" JaVaScRiPt:alert(2)", en2))
        conn.execute("UPDATE duplicates SET title = NULL, url = ? WHERE id = ?",
                     ("javascript://%0Aalert(3)", ids.duplicate["wire-en2"]))
    Reviewer(base).merge(en3, en5, NOTE)  # a note with markup, as an editor may type

    # Escaping alone must keep it inert: the page's Content-Security-Policy is bypassed.
    context = browser.new_context(bypass_csp=True)
    try:
        _check_inert(context, base, ids)
    finally:
        context.close()


def _check_inert(context: BrowserContext, base: str, ids: Ids) -> None:
    en1, en2, en5 = (ids.record[k] for k in ("en1", "en2", "en5"))
    context.set_default_timeout(10_000)
    tab = Tab(context, base)
    tab.sign_in()
    pages = {"/": 200, f"/records/{en1}": 200, f"/records/{en2}": 200,
             f"/records/{en5}": 200, f"/records/{en5}/merge?q=pwned": 200, "/history": 200,
             "/?q=" + quote(REFLECTED): 200, f"/records/{en5}/merge?q=" + quote(REFLECTED): 200,
             "/?method=" + quote(SCRIPT): 400}
    for path, status in pages.items():
        answer = tab.page.goto(base + path)
        assert answer is not None and answer.status == status, path
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        tab.page.hover("main")  # a mouseover handler, were there one
        found = tab.page.evaluate(INERT)
        assert found == {"pwned": "undefined", "scriptLinks": [], "embedded": 0,
                         "inlineScripts": 0, "foreignScripts": [], "handlers": []}, path

    # The hostile text is there, shown as text.
    tab.goto("/")
    decisions = tab.page.inner_text("table.decisions")
    assert IMG in decisions and SCRIPT in decisions and "JaVaScRiPt:alert(2)" in decisions
    tab.goto(f"/records/{en1}")
    assert tab.page.inner_text(f"#record-{en1} h1").startswith(SCRIPT)
    item = tab.page.inner_text(f"#duplicate-{ids.duplicate['wire-en1']}")
    assert IMG in item and "javascript:alert(1)" in item
    assert REMOTE in (tab.page.text_content(f"#record-{en1} .body") or "")
    tab.goto(f"/records/{en5}/merge?q=pwned")
    assert tab.page.inner_text("li.target span") == f"#{en1} {SCRIPT} pwned"
    tab.goto("/history")
    assert tab.page.inner_text("li.review .note") == f"Note: {NOTE}"

    # Nothing was asked of any other host; no dialog, no console error.
    app = urlsplit(base).netloc
    assert [u for u in tab.requests if urlsplit(u).netloc != app] == []
    assert not any(urlsplit(u).path == "/x" for u in tab.requests)
    assert tab.problems == []


# -- 5. the session cookie -------------------------------------------------------------------


def test_the_session_cookie_is_beyond_page_script_and_other_sites(
        web: NewsWeb, config: Path, base: str, tab: Tab) -> None:
    page = tab.page
    tab.sign_in()
    cookies = {c["name"]: c for c in tab.context.cookies()}
    assert set(cookies) == {SESSION_COOKIE}
    session = cookies[SESSION_COOKIE]
    assert session["httpOnly"] is True and session["sameSite"] == "Lax"
    assert session["secure"] is False  # plain HTTP on loopback: review.secure_cookies off
    assert (session["domain"], session["path"]) == ("127.0.0.1", "/")
    assert 11 * 3600 < session["expires"] - time.time() <= 12 * 3600 + 60
    assert SESSION_COOKIE not in page.evaluate("document.cookie")
    page.evaluate(f"document.cookie = '{SESSION_COOKIE}=forged; path=/'")  # refused
    assert tab.context.cookies()[0]["value"] == session["value"]
    tab.goto("/")
    assert urlsplit(page.url).path == "/" and page.inner_text("header .who") == EDITOR
    assert tab.problems == []

    # Sign out: the session is over in this browser.
    page.click("form.signout button")
    page.wait_for_url(f"{base}/login")
    tab.goto("/history")
    assert urlsplit(page.url).path == "/login"

    # From another site (localhost is not 127.0.0.1), a form posts without the cookie:
    # the write is refused as signed out (401, not the 403 of a bad token). A link (a
    # top-level GET, which changes nothing) opens the app signed in, and the editor's
    # session survives it (SameSite=Lax: with Strict the link showed the sign-in page,
    # and its answer replaced the session).
    tab.sign_in()
    ids = Ids(config, web)
    duplicate = ids.duplicate["wire-en1"]
    with LoopbackServer() as other:
        other.add("/", f"""<!doctype html><title>elsewhere</title>
<form method="post" action="{base}/duplicates/{duplicate}/confirm">
<input type="hidden" name="csrf" value="guess"><button id="go">go</button></form>
<a id="link" href="{base}/">the app</a>""")
        elsewhere = other.url("/").replace("127.0.0.1", "localhost")
        tab.page.goto(elsewhere)
        with page.expect_response(f"{base}/duplicates/{duplicate}/confirm") as posted:
            page.click("#go")
        assert posted.value.status == 401
        tab.page.goto(elsewhere)
        page.click("#link")
        page.wait_for_url(f"{base}/")
        assert page.inner_text("header .who") == EDITOR
        tab.goto("/history")
        assert urlsplit(page.url).path == "/history"
    with _db(config) as conn:
        assert conn.execute("SELECT count(*) FROM decision_marks").fetchone() == (0,)
