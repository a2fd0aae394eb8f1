"""The review app's security and error answers, against the running app (uvicorn on
loopback, a real SQLite store crawled from the loopback news web), over HTTP.

What it must refuse: a write without a session (401), with a missing or wrong CSRF
token (403), by GET (405), in read-only mode (403), on a stale view (409 with the
current state), on unknown ids (404), impossible merges (409); sign-in is throttled;
a session expires; a disabled editor is out at once. Each refusal writes nothing.
(The browser's view of the same app: ``test_review_app_browser.py``.)
"""

from __future__ import annotations

import io
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import service
from newsweb import NewsWeb
from reviewapp import EDITOR, PASSWORD, crawled, csrf_of, running_app, signed_in


@pytest.fixture(scope="module")
def web() -> Iterator[NewsWeb]:
    with NewsWeb() as news:
        yield news


@pytest.fixture(scope="module")
def config(web: NewsWeb, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crawled(web, tmp_path_factory.mktemp("app"))


@pytest.fixture(scope="module")
def base(config: Path) -> Iterator[str]:
    with running_app(config) as url:
        yield url


def _db(config: Path) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "news.db")


def _counts(config: Path) -> tuple[int, int, int, int]:
    with _db(config) as conn:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore
                     for t in ("articles", "duplicates", "reviews", "decision_marks"))


def _a_duplicate(config: Path, method: str = "near") -> tuple[int, int]:
    with _db(config) as conn:
        row = conn.execute("SELECT id, article_id FROM duplicates WHERE method = ? "
                           "ORDER BY id LIMIT 1", (method,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_pages_need_a_session_and_send_strict_headers(base: str) -> None:
    anonymous = httpx.Client(base_url=base)
    for path in ("/", "/records/1", "/history", "/records/1/merge?q=musk"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?")
    login = anonymous.get("/login")
    assert login.status_code == 200
    assert "script-src 'self'" in login.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert login.headers["x-content-type-options"] == "nosniff"
    assert anonymous.get("/static/app.js").headers["content-security-policy"]


def test_every_write_refuses_no_session_a_bad_token_and_a_get(config: Path, base: str) -> None:
    duplicate, record = _a_duplicate(config)
    before = _counts(config)
    writes = (f"/duplicates/{duplicate}/split", f"/duplicates/{duplicate}/confirm",
              f"/records/{record}/merge")
    anonymous = httpx.Client(base_url=base)
    client = signed_in(base)
    page = client.get(f"/records/{record}")
    token = csrf_of(page.text)
    for path in writes:
        assert anonymous.post(path, data={"csrf": token, "into": "1"}).status_code == 401
        assert client.post(path, data={"into": "1"}).status_code == 403, path
        assert client.post(path, data={"csrf": token[:-2] + "xx", "into": "1"}
                           ).status_code == 403, path
    # No write by GET: the write routes answer 405; the merge URL's GET is only its search.
    assert client.get(f"/duplicates/{duplicate}/split").status_code == 405
    assert client.get(f"/duplicates/{duplicate}/confirm").status_code == 405
    assert client.get(f"/records/{record}/merge?into=1").status_code == 200
    stolen = httpx.Client(base_url=base)  # a token from someone else's session
    stolen_token = csrf_of(stolen.get("/login").text)
    assert client.post(writes[1], data={"csrf": stolen_token}).status_code == 403
    assert _counts(config) == before


def test_a_stale_view_is_refused_with_the_current_state(config: Path, base: str) -> None:
    duplicate, record = _a_duplicate(config)
    client = signed_in(base)
    page = client.get(f"/records/{record}").text
    token = csrf_of(page)
    expect = re.search(rf'action="/duplicates/{duplicate}/split"[^>]*>\s*<input[^>]*>\s*'
                       r'<input type="hidden" name="expect" value="([^"]+)"', page)
    assert expect is not None
    with _db(config) as conn:  # the daemon re-decided it meanwhile
        conn.execute("UPDATE duplicates SET similarity = 0.93 WHERE id = ?", (duplicate,))
    before = _counts(config)
    answer = client.post(f"/duplicates/{duplicate}/split",
                         data={"csrf": token, "expect": expect.group(1)})
    assert answer.status_code == 409
    assert "similarity 0.93" in answer.text and "Nothing was written" in answer.text
    assert _counts(config) == before


def test_unknown_ids_and_impossible_merges_get_clear_pages(config: Path, base: str) -> None:
    client = signed_in(base)
    assert client.get("/records/999999").status_code == 404
    assert "no record 999999" in client.get("/records/999999").text
    _, record = _a_duplicate(config)
    token = csrf_of(client.get(f"/records/{record}").text)
    before = _counts(config)
    itself = client.post(f"/records/{record}/merge",
                         data={"csrf": token, "into": str(record), "expect": "1:x",
                               "expect_into": "1:x"})
    assert itself.status_code == 409 and "into itself" in itself.text
    stale = client.post(f"/records/{record}/merge", data={"csrf": token, "into": "999999",
                                                          "expect": "1:x",
                                                          "expect_into": "1:x"})
    assert stale.status_code == 409 and "There is no record 999999" in stale.text
    missing = client.post("/duplicates/999999/split", data={"csrf": token, "expect": "x"})
    assert missing.status_code == 404
    bad = client.post(f"/records/{record}/merge", data={"csrf": token, "into": "abc"})
    assert bad.status_code == 400
    assert client.get("/?min=2").status_code == 400
    assert client.get("/?method=guess").status_code == 400
    assert _counts(config) == before


def test_sign_in_is_throttled_per_account(config: Path) -> None:
    with running_app(config) as url:
        client = httpx.Client(base_url=url)
        token = csrf_of(client.get("/login").text)
        codes = [client.post("/login", data={"name": EDITOR, "password": f"wrong-{i}",
                                             "csrf": token}).status_code for i in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429
        right = client.post("/login", data={"name": EDITOR, "password": PASSWORD,
                                            "csrf": token})
        assert right.status_code == 429, "the right password does not lift the lock"


def test_the_session_cookie_is_httponly_samesite_and_expires(config: Path) -> None:
    now = [1_000_000.0]
    with running_app(config, clock=lambda: now[0]) as url:
        client = signed_in(url)
        assert any(c.name == "newsdedup_session" for c in client.cookies.jar)
        login = httpx.Client(base_url=url)
        token = csrf_of(login.get("/login").text)
        answer = login.post("/login", data={"name": EDITOR, "password": PASSWORD,
                                            "csrf": token})
        header = answer.headers["set-cookie"].lower()
        assert "httponly" in header and "samesite=lax" in header and "max-age=" in header
        assert client.get("/").status_code == 200
        now[0] += 13 * 3600  # past the default 12-hour session
        assert client.get("/").status_code == 303
        assert client.post("/duplicates/1/confirm", data={"csrf": "x"}).status_code == 401


def test_a_disabled_editor_is_out_at_once(config: Path, base: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("another long password\n"))
    assert service.main(["editors", "add", "bob", "--config", str(config)]) == 0
    client = signed_in(base, "bob", "another long password")
    assert client.get("/").status_code == 200
    assert service.main(["editors", "disable", "bob", "--config", str(config)]) == 0
    assert client.get("/").status_code == 303


def test_read_only_shows_and_changes_nothing(config: Path) -> None:
    duplicate, record = _a_duplicate(config, "exact")
    with running_app(config, read_only=True) as url:
        client = signed_in(url)
        page = client.get(f"/records/{record}").text
        assert "Not a copy" not in page and "read-only" in page
        before = _counts(config)
        answer = client.post(f"/duplicates/{duplicate}/confirm", data={"csrf": csrf_of(page)})
        assert answer.status_code == 403 and "read-only" in answer.text
        assert _counts(config) == before


def test_sign_in_never_redirects_off_site(config: Path, base: str) -> None:
    client = httpx.Client(base_url=base)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"name": EDITOR, "password": PASSWORD, "csrf": token,
                                         "next": "//evil.example/x"})
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_editors_command_line(config: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert service.main(["editors", "add", "eve", "--config", str(config)]) == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough one\n"))
    assert service.main(["editors", "add", "eve", "--config", str(config)]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough one\n"))
    assert service.main(["editors", "add", "eve", "--config", str(config)]) == 1
    assert service.main(["editors", "add", "bad name!", "--config", str(config)]) == 2
    capsys.readouterr()
    assert service.main(["editors", "list", "--config", str(config)]) == 0
    listed = capsys.readouterr().out
    assert '"name": "eve"' in listed and "hash" not in listed and "long enough" not in listed
    with _db(config) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM editors WHERE name = 'eve'"
                                 ).fetchone()
    assert stored.startswith("$argon2id$")


def test_the_app_works_on_the_postgresql_store(web: NewsWeb, tmp_path: Path,
                                               pg_url: str) -> None:
    """The same pages and writes through the store interface, on PostgreSQL (its
    full-text search is the ``tsvector`` column)."""
    from ingest.config import load_config
    from report.web.auth import hash_password
    from store import editors
    from store.backends import open_store

    path = web.write_config(tmp_path)
    path.write_text(path.read_text().replace(f'path = "{tmp_path / "news.db"}"',
                                             f'url = "{pg_url}"'))
    assert service.main(["once", "--config", str(path)]) == 0
    with open_store(load_config(path).store_target) as store:
        editors.add_editor(store, EDITOR, hash_password(PASSWORD))
        duplicate, record = store.conn.execute(
            "SELECT id, article_id FROM duplicates WHERE method = 'near' ORDER BY id LIMIT 1"
        ).fetchone()
    with running_app(path) as url:
        client = signed_in(url)
        assert f"/records/{record}#duplicate-{duplicate}" in client.get("/").text
        assert f"#duplicate-{duplicate}" in client.get("/?q=Musk&method=near").text
        page = client.get(f"/records/{record}").text
        expect = re.search(rf'/duplicates/{duplicate}/split"[^>]*>\s*<input[^>]*>\s*'
                           r'<input type="hidden" name="expect" value="([^"]+)"', page)
        assert expect is not None
        split = client.post(f"/duplicates/{duplicate}/split",
                            data={"csrf": csrf_of(page), "expect": expect.group(1),
                                  "note": "own angle"})
        assert split.status_code == 303
        history = client.get("/history").text
        assert "own angle" in history and EDITOR in history
