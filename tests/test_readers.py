"""Downstream readers beside a running cycle (issue 6, readers and writers).

The README promises that tools reading the database never block the daemon
and are never blocked by it: "hold read transactions as long as you like".
Here two real, separate Python processes read the database while a real
cycle (``service.main(["once", ...])``, in this process) crawls the loopback
news web and writes it:

- the *long* reader opens a read transaction before the cycle and holds it
  until the cycle is over, re-reading inside it (its snapshot must not move);
- the *busy* reader opens its connection read-only and loops on counts,
  an FTS5 query and a join, each in its own short transaction.

Readers use ``timeout=0``: any lock they met would be an immediate error
instead of a silent wait, so "no error" means "never blocked". The cycle
must exit 0 and store exactly what ``newsweb.EXPECTED`` says.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import service
from ingest.urls import canonical_url
from newsweb import EXPECTED, NewsWeb
from store.db import Store

READER = r'''
import json, sqlite3, sys, threading, time
db, mode = sys.argv[1], sys.argv[2]
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
out = {"errors": [], "iterations": 0, "seen": []}

def note(value):
    if not out["seen"] or out["seen"][-1] != value:
        out["seen"].append(value)

def long_reader():
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    conn.execute("BEGIN")
    note(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    print("ready", flush=True)
    while not stop.wait(0.02):
        try:
            note(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
            conn.execute("SELECT count(*) FROM duplicates").fetchone()
            out["iterations"] += 1
        except sqlite3.Error as exc:
            out["errors"].append(f"{type(exc).__name__}: {exc}")
    conn.execute("COMMIT")
    out["after_commit"] = conn.execute("SELECT count(*) FROM articles").fetchone()[0]

QUERIES = (
    "SELECT count(*) FROM duplicates",
    "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'musk OR openai'",
    "SELECT count(*) FROM articles_fts f JOIN articles a ON a.id = f.rowid "
    "WHERE articles_fts MATCH 'proces'",
    "SELECT count(*) FROM duplicates d JOIN articles a ON a.id = d.article_id",
    "SELECT max(id) FROM fetch_log",
)

def busy_read(conn):
    try:
        note(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        for sql in QUERIES:
            conn.execute(sql).fetchall()
        out["iterations"] += 1
        out.setdefault("first_at", time.time())
        out["last_at"] = time.time()
    except sqlite3.Error as exc:
        out["errors"].append(f"{type(exc).__name__}: {exc}")

def busy_reader():
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0)
    busy_read(conn)
    print("ready", flush=True)
    while not stop.is_set():
        busy_read(conn)
        time.sleep(0.002)

long_reader() if mode == "long" else busy_reader()
print(json.dumps(out), flush=True)
'''


class Reader:
    """A reader process: started, waited for until ready, then stopped for its report."""

    def __init__(self, db: Path, mode: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", READER, str(db), mode],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline().strip()
        assert ready == "ready", self.proc.stderr.read() if self.proc.stderr else ready

    def finish(self) -> dict[str, Any]:
        out, err = self.proc.communicate(input="", timeout=30)
        assert self.proc.returncode == 0, err
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def web() -> Iterator[NewsWeb]:
    with NewsWeb() as news:
        yield news


def _stored(db: Path) -> tuple[set[str], dict[str, str], dict[str, str]]:
    with sqlite3.connect(db) as conn:
        articles = {u for (u,) in conn.execute("SELECT url FROM articles")}
        duplicates = dict(conn.execute("SELECT url, method FROM duplicates"))
        skipped = dict(conn.execute("SELECT url, reason FROM skipped"))
    return articles, duplicates, skipped


def test_readers_never_fail_and_never_fail_a_cycle(web: NewsWeb, tmp_path: Path) -> None:
    config = web.write_config(tmp_path)
    db = tmp_path / "news.db"
    Store.open(db).close()  # the schema exists before the readers look at it
    long_reader, busy_reader = Reader(db, "long"), Reader(db, "busy")
    try:
        started = time.time()
        assert service.main(["once", "--config", str(config)]) == 0
        finished = time.time()
        long_report, busy_report = long_reader.finish(), busy_reader.finish()
    finally:
        long_reader.kill()
        busy_reader.kill()

    articles, duplicates, skipped = _stored(db)
    urls = {key: canonical_url(url) for key, url in web.page_urls.items()}
    assert articles == {urls[k] for k in EXPECTED["articles"]}
    assert {k: duplicates.get(urls[k]) for k in EXPECTED["duplicates"]} == EXPECTED["duplicates"]
    assert {skipped.get(urls[k]) for k in EXPECTED["skipped"]} == {"off_topic"}

    assert long_report["errors"] == [], long_report
    assert busy_report["errors"] == [], busy_report
    # The long transaction really spanned the writes: its snapshot never moved...
    assert long_report["seen"] == [0] and long_report["iterations"] > 0, long_report
    assert long_report["after_commit"] == len(EXPECTED["articles"])
    # ...and the busy reader read from before the cycle began until after it ended.
    assert busy_report["iterations"] >= 10, busy_report
    assert busy_report["first_at"] < started and busy_report["last_at"] > finished
    assert busy_report["seen"][0] == 0 and busy_report["seen"][-1] == len(EXPECTED["articles"])
