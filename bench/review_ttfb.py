"""The review app's time to first byte on a million-record store.

Run from the repository root (about 10 minutes on 2 cores at the default size: 4 to build)::

    .venv/bin/python bench/review_ttfb.py [--records 1000000] [--requests 200]
        [--db /tmp/review.db] [--json review_ttfb.json]

1. A SQLite store of ``--records`` records is made through the real schema
   (``Store.open`` creates and migrates it), then filled with bulk inserts,
   one transaction per 20,000 records, with ``synchronous=OFF``, a 1 GB page
   cache and foreign keys off *during the load only* (the app then opens it
   as it always does: WAL, ``synchronous=NORMAL``). The FTS5 triggers are
   dropped for the load and the index is built once with ``'rebuild'``, then
   the triggers are put back from the SQL read from ``sqlite_master``.
   ``ANALYZE`` is not run (the product never runs it either). Records: 80-200
   words in paragraphs, drawn from a 30,000-word vocabulary with Zipf
   frequencies (so a topical word such as "government" is in about a quarter
   of the texts), titles, twelve sources, fetched over a year. 30 % of the
   records have 1-3 duplicates (url 15 %, exact 25 %, near 55 % with
   similarity 0.55-1, review 5 %), decided minutes to days after the record;
   3 % of the duplicates and 60 % of the newest 2,000 are marked reviewed;
   400 reviews; 20 % of the records have 1-3 removals. ``pages``,
   ``url_aliases`` and ``signatures`` stay empty (the app never reads them;
   ``--signatures`` fills the last the way bench/dedup_scale.py does, for the
   file size). With ``--db PATH`` an existing file is reused as it is (built
   there first if absent, via ``PATH.partial`` so an interrupted build is
   never reused).
2. ``service.py editors add ada`` (password on stdin) and ``service.py serve``
   run as separate processes on a free loopback port, as in production;
   an httpx client signs in and, sequentially, after ``--warmup`` requests
   of each kind, sends ``--requests`` requests of each kind and times, with a
   streamed response, the time from sending the request to the response
   headers and to the first body chunk (the time to first byte, TTFB; the
   app renders the whole page before its headers, so both are close) and to
   the last byte. Kinds: the decisions list ``/``, ``/?reviewed=no``,
   ``/?method=near&min=0.85``, ``/?q=government`` (a common word), the page
   reached by following "Older decisions →" 20 times, record pages of random
   records with and without duplicates, and, beyond the brief, a rare word,
   ``/?reviewed=yes`` and a cursor in the middle of the list.
3. In-process diagnosis on the same file: each list kind's SQL (captured with
   a trace callback), its ``EXPLAIN QUERY PLAN`` and its median time, and
   the record page's parts (``_record_data``: queries, diffs, reviews).
4. Prototypes of product changes, in-process, each checked to return the
   same rows as today's SQL (nothing in the product is changed; the two that
   write roll back): the search's plans for words from common to absent, with
   the FTS index as built and after FTS5 ``'optimize'``; the keyset cursor as a
   row value at several depths; a record page's history read by its own
   indexed query instead of the whole ``reviews`` table, with 10,000 more
   reviews.

Targets: median TTFB under 100 ms and p99 under 300 ms for every kind. The
figures are wall-clock times on a shared machine: the load average is printed.
``--json FILE`` saves every figure.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import blake2b
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from starlette.datastructures import QueryParams  # noqa: E402

from report.diff import word_diff  # noqa: E402
from report.web import handlers  # noqa: E402
from store import reportreads, webreads  # noqa: E402
from store.db import Store  # noqa: E402

EDITOR, PASSWORD = "ada", "correct horse battery"
CHUNK = 20_000
SEED = 20260601
END = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
SPAN = 365 * 86400.0
TARGET_MEDIAN_MS, TARGET_P99_MS = 100.0, 300.0
SOURCES = (("wire", "wire.example.com", "Wire Service"),
           ("afp", "afp.example.com", "AFP"),
           ("herald", "herald.example.org", "The Herald"),
           ("courier", "courier.example.net", "Courier"),
           ("tribune", "tribune.example.com", "Tribune"),
           ("gazette", "gazette.example.org", "Gazette"),
           ("post", "post.example.com", "The Post"),
           ("observer", "observer.example.net", "Observer"),
           ("chronicle", "chronicle.example.com", "Chronicle"),
           ("times", "times.example.org", "The Times"),
           ("ledger", "ledger.example.com", "Ledger"),
           ("monitor", "monitor.example.net", "Monitor"))
METHODS = (("url", 0.15), ("exact", 0.25), ("near", 0.55), ("review", 0.05))
RULES = ("boilerplate", "template", "promo", "byline", "share_links")
REMOVED = ("Subscribe to our newsletter for the latest news.",
           "Share this article on social media.", "Advertisement",
           "Read more: related stories from our newsroom.",
           "Sign up for breaking news alerts.", "Photo: staff photographer")
FUNCTION_WORDS = (
    "the", "of", "and", "to", "in", "a", "said", "that", "for", "on", "is", "was", "with", "by",
    "at", "as", "from", "it", "has", "have", "be", "are", "will", "its", "this", "an", "not", "but",
    "after", "who", "their", "they", "he", "she", "were", "had", "been", "more", "than", "over",
    "about", "new", "also", "which", "would", "could"
)
TOPICAL_WORDS = (
    "government", "minister", "police", "market", "president", "election", "court", "company",
    "workers", "budget", "report", "health", "school", "council", "energy", "prices", "water",
    "city", "state", "country", "officials", "parliament", "policy", "trade", "union", "hospital",
    "crisis", "climate", "border", "security", "economy", "bank", "tax", "vote", "party", "leader",
    "judge", "storm", "fire", "housing", "transport", "rail", "airport", "football", "season",
    "team", "coach", "museum", "festival", "science", "research", "university", "students",
    "farmers", "village", "river", "weather"
)
COMMON_WORD = "government"
VOCABULARY_SIZE = 30_000
RARE_RANK = 20_000


# -- synthetic text ---------------------------------------------------------------------------


def vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """Words by rank (function words, topical words, then pronounceable made-up words)
    and Zipf probabilities; the same every run."""
    rng = random.Random(SEED)
    onsets = (
        "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
        "br", "cr", "dr", "fl", "gr", "pl", "st", "tr", "ch", "sh", "th"
    )
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"]
    words: list[str] = [*FUNCTION_WORDS, *TOPICAL_WORDS]
    seen = set(words)
    while len(words) < VOCABULARY_SIZE:
        word = "".join(rng.choice(onsets) + rng.choice(vowels)
                       for _ in range(rng.randint(2, 4))) + rng.choice(("", "n", "s", "r"))
        if word not in seen:
            seen.add(word)
            words.append(word)
    weights = 1.0 / (np.arange(VOCABULARY_SIZE) + 2.7)
    return np.array(words, dtype=object), weights / weights.sum()


def paragraphs(words: list[str]) -> str:
    """Words as a text: paragraphs of about 50 words, each a capitalised sentence."""
    n = len(words)
    k = max(1, round(n / 50))
    bounds = [n * i // k for i in range(k + 1)]
    return "\n\n".join(" ".join([words[a].capitalize(), *words[a + 1:b]]) + "."
                       for a, b in itertools.pairwise(bounds) if b > a)


def stamp(t: float) -> str:
    return datetime.fromtimestamp(min(t, END), UTC).isoformat(timespec="seconds")


def content_hash(text: str) -> str:
    return blake2b(text.encode(), digest_size=16).hexdigest()


class Generator:
    """Rows for one chunk of records at a time; the same ``n`` gives the same rows."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.vocab, self.p = vocabulary()
        self.title_p = self.p.copy()
        self.title_p[:len(FUNCTION_WORDS)] = 0
        self.title_p /= self.title_p.sum()
        self.np_rng = np.random.default_rng(SEED)
        self.rng = random.Random(SEED + 1)
        self.pool = self.vocab[self.np_rng.choice(VOCABULARY_SIZE, 200_000, p=self.p)].tolist()
        self.next_duplicate = 1
        self.duplicates = 0
        self.removals = 0
        self.marks = 0

    def words(self, count: int) -> list[str]:
        start = self.rng.randrange(len(self.pool) - count)
        return self.pool[start:start + count]

    def chunk(self, first: int, count: int) -> dict[str, list[tuple[Any, ...]]]:
        g, rng = self.np_rng, self.rng
        lengths = g.integers(80, 201, size=count)
        flat = self.vocab[g.choice(VOCABULARY_SIZE, int(lengths.sum()), p=self.p)].tolist()
        title_lengths = g.integers(5, 11, size=count)
        titles = self.vocab[g.choice(VOCABULARY_SIZE, int(title_lengths.sum()),
                                     p=self.title_p)].tolist()
        fetched = END - SPAN + (np.arange(first, first + count) + g.random(count)) * SPAN / self.n
        sources = g.integers(0, len(SOURCES), size=count)
        articles, duplicates, removals, marks = [], [], [], []
        offset = title_offset = 0
        for i in range(count):
            article_id = first + i + 1
            words = flat[offset:offset + lengths[i]]
            offset += lengths[i]
            title_words = titles[title_offset:title_offset + title_lengths[i]]
            title_offset += title_lengths[i]
            title = " ".join([title_words[0].capitalize(), *title_words[1:]])
            text = paragraphs(words)
            name, site, sitename = SOURCES[sources[i]]
            when = stamp(fetched[i])
            slug = "-".join(title_words[:4])
            url = f"https://{site}/{when[:4]}/{when[5:7]}/{slug}-{article_id}"
            language = "en" if rng.random() < 0.9 else None
            articles.append((article_id, url, name, title, rng.choice((None, "Staff", "A. Writer")),
                             stamp(fetched[i] - rng.uniform(0, 7200)), language, text,
                             content_hash(text), when, None, sitename, len(words), site, "en",
                             0.95 if language else None))
            if rng.random() < 0.3:
                for _ in range(rng.randint(1, 3)):
                    duplicates.append(self.duplicate(article_id, sources[i], words, title, url,
                                                     fetched[i]))
                    if rng.random() < 0.03:
                        marks.append((duplicates[-1][0], rng.choice(("ada", "bob")),
                                      duplicates[-1][10]))
            if rng.random() < 0.2:
                for position in range(rng.randint(1, 3)):
                    removals.append((article_id, position * 7, rng.choice(RULES),
                                     rng.choice(REMOVED)))
        self.duplicates += len(duplicates)
        self.removals += len(removals)
        self.marks += len(marks)
        return {"articles": articles, "duplicates": duplicates, "removals": removals,
                "marks": marks}

    def duplicate(self, article_id: int, source: int, words: list[str], title: str,
                  url: str, fetched: float) -> tuple[Any, ...]:
        rng = self.rng
        duplicate_id = self.next_duplicate
        self.next_duplicate += 1
        method = rng.choices([m for m, _ in METHODS], [w for _, w in METHODS])[0]
        other = (source + rng.randrange(1, len(SOURCES))) % len(SOURCES)
        name, site, sitename = SOURCES[other]
        decided = fetched + rng.expovariate(1 / 21600) + 60
        when = stamp(decided)
        dup_title: str | None = title
        if method == "url":
            name, similarity, dup_title, text = SOURCES[source][0], 1.0, None, None
            dup_url = f"{url}?amp=1&v={duplicate_id}"
        else:
            dup_url = f"https://{site}/{when[:4]}/{when[5:7]}/story-{duplicate_id}"
            if method == "exact":
                similarity, text = 1.0, paragraphs(words)
            elif method == "near":
                similarity = round(rng.uniform(0.55, 1.0), 4)
                text = paragraphs(self.near(words, similarity, sitename))
                dup_title = f"{title} - {sitename}" if rng.random() < 0.5 else title
            else:
                similarity = round(rng.uniform(0.2, 0.8), 4)
                text = paragraphs(self.words(rng.randint(80, 200)))
        return (duplicate_id, dup_url, article_id, similarity, method, dup_title, text, name,
                "en", stamp(decided - rng.uniform(0, 60)), when, "en", 0.95)

    def near(self, words: list[str], similarity: float, sitename: str) -> list[str]:
        rng = self.rng
        out = list(words)
        for _ in range(max(1, int(len(out) * (1 - similarity) * 0.6))):
            pos, op = rng.randrange(len(out)), rng.random()
            if op < 0.5:
                out[pos] = self.pool[rng.randrange(len(self.pool))]
            elif op < 0.75 and len(out) > 40:
                del out[pos]
            else:
                out.insert(pos, self.pool[rng.randrange(len(self.pool))])
        if rng.random() < 0.4:
            out = ["by", sitename.lower().replace(" ", ""), "staff", *out]
        return out


# -- the store --------------------------------------------------------------------------------

ARTICLE_INSERT = ("INSERT INTO articles (id, url, source, title, author, published, language, "
                  "text, content_hash, fetched_at, feed_updated, sitename, word_count, site, "
                  "declared_language, language_confidence) "
                  "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
DUPLICATE_INSERT = ("INSERT INTO duplicates (id, url, article_id, similarity, method, title, "
                    "text, source, language, fetched_at, decided_at, declared_language, "
                    "language_confidence) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")


def build(path: Path, n: int, *, signatures: bool) -> dict[str, Any]:
    """Fill a new store at ``path`` (via ``path.partial``); the load's figures."""
    partial = path.with_name(path.name + ".partial")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    Store.open(partial).close()  # the real schema, every migration
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # the load only: a crash means rebuilding it
    conn.execute("PRAGMA cache_size=-1000000")
    conn.execute("PRAGMA temp_store=MEMORY")
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                            "AND tbl_name = 'articles' ORDER BY name").fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    figures: dict[str, Any] = {"records": n, "fts_triggers": [name for name, _ in triggers]}
    gen = Generator(n)
    try:
        for first in range(0, n, CHUNK):
            rows = gen.chunk(first, min(CHUNK, n - first))
            conn.execute("BEGIN")
            conn.executemany(ARTICLE_INSERT, rows["articles"])
            conn.executemany(DUPLICATE_INSERT, rows["duplicates"])
            conn.executemany("INSERT INTO removals (article_id, position, rule, text) "
                             "VALUES (?,?,?,?)", rows["removals"])
            conn.executemany("INSERT INTO decision_marks VALUES (?,?,?)", rows["marks"])
            conn.execute("COMMIT")
            if (first // CHUNK) % 10 == 9:
                print(f"  {first + CHUNK:,} records, {time.perf_counter() - started:.0f} s",
                      flush=True)
        figures["rows_s"] = time.perf_counter() - started
        conn.execute("BEGIN")
        extra_marks = newest_marks(conn)
        reviews_added = add_reviews(conn, gen)
        conn.execute("COMMIT")
        if signatures:
            fill_signatures(conn, n)
        figures["signatures"] = signatures
        fts_started = time.perf_counter()
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES('rebuild')")
        figures["fts_rebuild_s"] = time.perf_counter() - fts_started
    finally:
        for _, sql in triggers:
            conn.execute(sql)
    now = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles'")}
    assert now == {name for name, _ in triggers}, "the FTS triggers were not restored"
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    partial.rename(path)
    figures.update(duplicates=gen.duplicates, removals=gen.removals,
                   decision_marks=gen.marks + extra_marks, reviews=reviews_added,
                   load_s=time.perf_counter() - started)
    return figures


def newest_marks(conn: sqlite3.Connection) -> int:
    """Editors work from the top of the list: 60 % of the newest 2,000 decisions."""
    rng = random.Random(SEED + 2)
    newest = [i for (i, ) in conn.execute(
        "SELECT id FROM duplicates ORDER BY decided_at DESC, id DESC LIMIT 2000")]
    chosen = [(i, rng.choice(("ada", "bob")), stamp(END)) for i in newest if rng.random() < 0.6]
    before = conn.total_changes
    conn.executemany("INSERT OR IGNORE INTO decision_marks VALUES (?,?,?)", chosen)
    return conn.total_changes - before


def add_reviews(conn: sqlite3.Connection, gen: Generator, count: int = 400) -> int:
    """Splits and merges naming existing records and pages (their URLs are looked up
    by ``reviews()`` on every record page)."""
    rng = random.Random(SEED + 3)
    rows = []
    for k in range(count):
        action = "split" if k % 3 else "merge"
        dup = rng.randrange(1, gen.next_duplicate)
        found = conn.execute("SELECT article_id, url, method, similarity FROM duplicates "
                             "WHERE id = ?", (dup,)).fetchone()
        target = rng.randrange(1, gen.n + 1)
        if action == "split":
            rows.append((action, found[0], target, dup, found[1], found[2], found[3],
                         rng.choice((None, "different angle", "other event")),
                         stamp(END - rng.uniform(0, 30 * 86400)), rng.choice(("ada", "bob"))))
        else:
            source = rng.randrange(1, gen.n + 1)
            (url,) = conn.execute("SELECT url FROM articles WHERE id = ?", (source,)).fetchone()
            rows.append((action, source, target, None, url, "review", None, "same story",
                         stamp(END - rng.uniform(0, 30 * 86400)), rng.choice(("ada", "bob"))))
    conn.executemany("INSERT INTO reviews (action, article_id, target_id, duplicate_id, url, "
                     "method, similarity, note, at, editor) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    return len(rows)


def fill_signatures(conn: sqlite3.Connection, n: int) -> None:
    from dedup_scale import chunks

    conn.execute("BEGIN")
    for start, values, keys in chunks(n):
        mh = values.astype("<u4")
        conn.executemany("INSERT INTO signatures VALUES (?,?,?,?,?)", (
            (start + i + 1, "en", 500, mh[i].tobytes(), keys[i].tobytes())
            for i in range(len(values)) if start + i < n))
    conn.execute("COMMIT")


def file_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 2**20


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("articles", "duplicates", "decision_marks", "reviews", "removals")}
    finally:
        conn.close()


# -- the app, as a separate process -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(work: Path, db: Path, port: int) -> Path:
    sources = "".join(f'\n[[sources]]\nname = "{name}"\nkind = "feed"\n'
                      f'url = "https://{site}/feed.xml"\n' for name, site, _ in SOURCES)
    path = work / "config.toml"
    path.write_text(f'[store]\npath = "{db}"\n[review]\nhost = "127.0.0.1"\nport = {port}\n'
                    f'secret_key_file = "{work / "review-secret.key"}"\n{sources}',
                    encoding="utf-8")
    return path


def add_editor(config: Path) -> None:
    done = subprocess.run([sys.executable, "service.py", "editors", "add", EDITOR, "--config",
                           str(config)], cwd=ROOT, input=PASSWORD + "\n", text=True,
                          capture_output=True, check=False)
    if done.returncode != 0 and "exists already" not in done.stderr:
        raise SystemExit(f"editors add failed: {done.stderr}")


class Server:
    """``service.py serve --config CONFIG`` in its own process."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = log.open("w")
        self.proc = subprocess.Popen([sys.executable, "service.py", "serve", "--config",
                                      str(config)], cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"the app exited: {log.read_text()}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("the app did not start in 60 s")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert found is not None, "no CSRF token on the sign-in page"
    answer = client.post("/login", data={"name": EDITOR, "password": PASSWORD,
                                         "csrf": found.group(1), "next": "/"})
    assert answer.status_code == 303, answer.text
    return client


def timed_get(client: httpx.Client, url: str) -> tuple[float, float, float, bytes]:
    """(headers, first body chunk, last byte) in ms after sending ``GET url``; the body."""
    start = time.perf_counter()
    with client.stream("GET", url) as answer:
        headers = time.perf_counter()
        chunks = answer.iter_raw()
        body = [next(chunks, b"")]
        first = time.perf_counter()
        body.extend(chunks)
        last = time.perf_counter()
    if answer.status_code != 200:
        raise SystemExit(f"GET {url}: {answer.status_code}")
    return ((headers - start) * 1e3, (first - start) * 1e3, (last - start) * 1e3,
            b"".join(body))


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median_ms": statistics.median(ordered),
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "max_ms": ordered[-1]}


def measure(client: httpx.Client, urls: Callable[[int], str], warmup: int,
            requests: int) -> dict[str, Any]:
    first = timed_get(client, urls(0))[1]
    for k in range(1, warmup):
        timed_get(client, urls(k))
    headers, ttfb, total, sizes = [], [], [], []
    for k in range(requests):
        h, f, t, body = timed_get(client, urls(warmup + k))
        headers.append(h)
        ttfb.append(f)
        total.append(t)
        sizes.append(len(body))
    out = percentiles(ttfb)
    out |= {"headers_median_ms": statistics.median(headers),
            "total_median_ms": statistics.median(total), "total_p99_ms": percentiles(total)[
                "p99_ms"], "first_request_ms": first, "requests": requests,
            "median_kb": statistics.median(sizes) / 1024, "example": urls(warmup)}
    out["ok"] = out["median_ms"] < TARGET_MEDIAN_MS and out["p99_ms"] < TARGET_P99_MS
    return out


def older_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next" id="older">', page)
    return None if found is None else html.unescape(found.group(1))


def follow_older(client: httpx.Client, start: str, hops: int) -> tuple[str, list[float]]:
    url, times = start, []
    for _ in range(hops):
        _, ttfb, _, body = timed_get(client, url)
        times.append(ttfb)
        link = older_link(body.decode())
        if link is None:
            break
        url = link
    return url, times


# -- what to ask for ----------------------------------------------------------------------------


def rare_word() -> str:
    vocab, _ = vocabulary()
    return str(vocab[RARE_RANK])


def record_ids(path: Path, count: int) -> tuple[list[int], list[int]]:
    """``count`` random records with duplicates, and as many without, in random order."""
    rng = random.Random(SEED + 4)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        top = conn.execute("SELECT max(id) FROM duplicates").fetchone()[0]
        n = conn.execute("SELECT max(id) FROM articles").fetchone()[0]
        with_dups: set[int] = set()
        while len(with_dups) < count:
            row = conn.execute("SELECT article_id FROM duplicates WHERE id >= ? LIMIT 1",
                               (rng.randrange(1, top + 1),)).fetchone()
            with_dups.add(row[0])
        without: set[int] = set()
        while len(without) < count:
            candidate = rng.randrange(1, n + 1)
            if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM duplicates WHERE article_id = ?)"
                            " AND EXISTS (SELECT 1 FROM articles WHERE id = ?)",
                            (candidate, candidate)).fetchone()[0]:
                without.add(candidate)
        return rng.sample(sorted(with_dups), count), rng.sample(sorted(without), count)
    finally:
        conn.close()


def middle_cursor(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        total = conn.execute("SELECT count(*) FROM duplicates").fetchone()[0]
        decided, ident = conn.execute("SELECT decided_at, id FROM duplicates ORDER BY "
                                      "decided_at DESC, id DESC LIMIT 1 OFFSET ?",
                                      (total // 2,)).fetchone()
        return f"{decided}|{ident}"
    finally:
        conn.close()


def list_kinds(common: str, rare: str, deep: str, middle: str) -> dict[str, str]:
    return {"list /": "/",
            "list ?reviewed=no": "/?reviewed=no",
            "list ?method=near&min=0.85": "/?method=near&min=0.85",
            f"search ?q={common}": f"/?q={common}",
            "list, 20 x older": deep,
            f"extra: search ?q={rare} (rare)": f"/?q={rare}",
            "extra: list ?reviewed=yes": "/?reviewed=yes",
            "extra: cursor mid-list": "/?" + str(QueryParams({"before": middle}))}


# -- in-process diagnosis ---------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def captured(conn: sqlite3.Connection, fn: Callable[[], Any]) -> str:
    """The (last) statement ``fn`` ran, with its parameters in place; FTS5's own
    statements on its shadow tables are left out."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        fn()
    finally:
        conn.set_trace_callback(None)
    return [s for s in statements if s.startswith("SELECT") and "'main'." not in s][-1]


def plan(conn: sqlite3.Connection, sql: str) -> list[str]:
    return [f"{'  ' * (row[1] > 0)}{row[3]}"
            for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]


def diagnose(path: Path, kinds: dict[str, str], with_dups: list[int],
             without: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    store = Store.open(path)
    conn = store.conn
    try:
        for name, url in kinds.items():
            query = url.partition("?")[2]
            filters, _ = handlers._filters(QueryParams(query))

            def page(f: webreads.DecisionFilters = filters) -> Any:
                return webreads.decisions(conn, f, limit=handlers.PAGE_SIZE)

            sql = captured(conn, page)
            out[name] = {"query_ms": timed(page, 15), "sql": sql, "plan": plan(conn, sql)}
        for name, ids in (("record with duplicates", with_dups),
                          ("record without duplicates", without)):
            out[name] = record_parts(store, ids[:50])
        out["reviews() rows"] = len(reportreads.reviews(conn))
    finally:
        store.close()
    return out


def record_parts(store: Store, ids: list[int]) -> dict[str, Any]:
    conn = store.conn
    parts: dict[str, list[float]] = {}

    def clock(part: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = fn()
        parts.setdefault(part, []).append((time.perf_counter() - start) * 1e3)
        return value

    totals = []
    for article_id in ids:
        start = time.perf_counter()
        handlers._record_data(store, article_id)
        totals.append((time.perf_counter() - start) * 1e3)
        clock("records_by_id", lambda a=article_id: reportreads.records_by_id(conn, [a]))
        text = clock("record_text", lambda a=article_id: reportreads.record_text(conn, a))
        dups = clock("record_duplicates",
                     lambda a=article_id: webreads.record_duplicates(conn, a))
        for d in dups:
            own = clock("duplicate_text", lambda i=d.id: webreads.duplicate_text(conn, i))
            if own is not None:
                clock("word_diff", lambda t=text, o=own: word_diff(t, o))
        clock("reviews (whole table)", lambda: reportreads.reviews(conn))
        clock("removals", lambda a=article_id: reportreads.removals(conn, a))
        clock("record_version", lambda a=article_id: webreads.record_version(conn, a))
    sql = captured(conn, lambda: webreads.record_duplicates(conn, ids[0]))
    return {"record_data_median_ms": statistics.median(totals),
            "record_data_p99_ms": percentiles(totals)["p99_ms"],
            "parts_ms_per_page": {k: sum(v) / len(ids) for k, v in parts.items()},
            "record_duplicates_plan": plan(conn, sql),
            "reviews_plan": plan(conn, captured(conn, lambda: reportreads.reviews(conn)))}


# -- prototypes (not in the product) ----------------------------------------------------------

SEARCH_PLANS = {
    # what store/webreads.py does today: the matching records' ids as a list, then their
    # duplicates by article_id, then all of them sorted by decided_at
    "today: IN (FTS list)": "d.article_id IN (SELECT rowid FROM articles_fts "
                            "WHERE articles_fts MATCH ?)",
    # the same list, but the unary + keeps SQLite from driving from it: it walks
    # duplicates_decided_at newest first and tests each row against the list
    "+d.article_id IN (FTS list)": "+d.article_id IN (SELECT rowid FROM articles_fts "
                                   "WHERE articles_fts MATCH ?)",
    # no list: walk duplicates_decided_at newest first, ask FTS5 about each row's record
    "EXISTS (FTS probe by rowid)": "EXISTS (SELECT 1 FROM articles_fts WHERE articles_fts "
                                   "MATCH ? AND rowid = d.article_id)",
}
HYBRID_CAP = 3_000


def search_sql(where: str) -> str:
    return (webreads._SELECT + f"WHERE {where} ORDER BY d.decided_at DESC, d.id DESC LIMIT ?")


def hybrid(conn: sqlite3.Connection, phrase: str, limit: int) -> list[tuple[Any, ...]]:
    """The suggestion: count the matches up to a cap (cheap, a bounded FTS read); few
    matches -> today's plan (its cost grows with the matches), many -> the ``+`` plan (its
    cost falls as the matches grow: a page's rows are among the newest decisions)."""
    (found,) = conn.execute("SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE "
                            "articles_fts MATCH ? LIMIT ?)", (phrase, HYBRID_CAP)).fetchone()
    where = SEARCH_PLANS["today: IN (FTS list)" if found < HYBRID_CAP
                         else "+d.article_id IN (FTS list)"]
    return conn.execute(search_sql(where), (phrase, limit + 1)).fetchall()


def prototypes(path: Path, words: dict[str, str], ids: list[int], repeat: int = 3,
               ) -> dict[str, Any]:
    """The alternatives, on the same file, in-process: search plans (with the FTS index as
    built, then after FTS5 'optimize' merged it into one segment, rolled back), keyset
    cursors at several depths, and a record's history read (with 10,000 more reviews,
    rolled back). Each alternative is checked to give the same rows as today's SQL."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        segments = conn.execute("SELECT count(DISTINCT segid) FROM articles_fts_idx").fetchone()[0]
        out: dict[str, Any] = {"repeat": repeat, "search": {}}
        out["search"][f"FTS as built ({segments} segments)"] = search_prototype(
            conn, words, repeat)
        conn.execute("BEGIN")
        start = time.perf_counter()
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES('optimize')")
        out["fts_optimize_s"] = time.perf_counter() - start
        out["search"]["after FTS 'optimize' (1 segment)"] = search_prototype(conn, words, repeat)
        conn.execute("ROLLBACK")
        out["search_plans"] = {name: plan(conn, search_sql(where).replace("?", "'\"x\"'", 1)
                                          .replace("LIMIT ?", "LIMIT 51"))
                               for name, where in SEARCH_PLANS.items()}
        out["keyset"] = keyset_prototype(conn)
        out["history"] = reviews_prototype(conn, ids)
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
    return out


def search_prototype(conn: sqlite3.Connection, words: dict[str, str],
                     repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, word in words.items():
        phrase = f'"{word}"'
        (matches,) = conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts "
                                  "MATCH ?", (phrase,)).fetchone()
        row: dict[str, Any] = {"word": word, "records": matches}
        expected = None
        for name, where in SEARCH_PLANS.items():
            sql = search_sql(where)
            args = (phrase, handlers.PAGE_SIZE + 1)
            rows = conn.execute(sql, args).fetchall()
            expected = rows if expected is None else expected
            assert rows == expected, f"{name} gives other rows for {word!r}"
            row[name] = timed(lambda q=sql, a=args: conn.execute(q, a).fetchall(), repeat)
        assert hybrid(conn, phrase, handlers.PAGE_SIZE) == expected
        row["hybrid (suggested)"] = timed(
            lambda p=phrase: hybrid(conn, p, handlers.PAGE_SIZE), repeat)
        row["count to cap"] = timed(lambda p=phrase: conn.execute(
            "SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts "
            "MATCH ? LIMIT ?)", (p, HYBRID_CAP)).fetchone(), repeat)
        out[label] = row
    return out


KEYSET = {"today: a < ? OR (a = ? AND id < ?)": (
               "(d.decided_at < ? OR (d.decided_at = ? AND d.id < ?))", lambda t, i: (t, t, i)),
           "row value: (a, id) < (?, ?)": (
               "(d.decided_at, d.id) < (?, ?)", lambda t, i: (t, i))}


def keyset_prototype(conn: sqlite3.Connection, repeat: int = 5) -> dict[str, Any]:
    """The list's page at several depths, with today's cursor test and a row value."""
    total = conn.execute("SELECT count(*) FROM duplicates").fetchone()[0]
    out: dict[str, Any] = {}
    for depth in (0.001, 0.1, 0.5, 0.9):
        cursor = conn.execute("SELECT decided_at, id FROM duplicates ORDER BY decided_at DESC, "
                              "id DESC LIMIT 1 OFFSET ?", (int(total * depth),)).fetchone()
        row, expected = {}, None
        for name, (where, args) in KEYSET.items():
            sql = search_sql(where)
            params = (*args(*cursor), handlers.PAGE_SIZE + 1)
            rows = conn.execute(sql, params).fetchall()
            expected = rows if expected is None else expected
            assert rows == expected, f"{name} gives other rows"
            row[name] = timed(lambda q=sql, a=params: conn.execute(q, a).fetchall(), repeat)
        out[f"{depth:.1%} deep"] = row
    return out


def reviews_prototype(conn: sqlite3.Connection, ids: list[int], more: int = 10_000,
                      ) -> dict[str, Any]:
    """A record page's history: today's whole-table read filtered in Python, beside a
    query for the record's own reviews (its id, or its pages' URLs; all three columns are
    indexed), with the reviews there are and with ``more`` added (rolled back)."""
    out: dict[str, Any] = {}
    for label in ("as built", f"+{more:,} reviews (rolled back)"):
        if label != "as built":
            rng = random.Random(SEED + 5)
            top = conn.execute("SELECT max(id) FROM articles").fetchone()[0]
            merged = [rng.randrange(1, top + 1) for _ in range(more)]
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO reviews (action, article_id, target_id, url, method, "
                             "at, editor) VALUES ('merge', ?, ?, ?, 'review', ?, 'ada')",
                             [(a, rng.randrange(1, top + 1), article_url(conn, a), stamp(END))
                              for a in merged])
        today, own = [], []
        for article_id in ids:
            urls = [article_url(conn, article_id),
                    *(d.url for d in webreads.record_duplicates(conn, article_id))]
            start = time.perf_counter()
            a = [r.id for r in reportreads.reviews(conn)
                 if article_id in (r.article_id, r.target_id) or r.url in set(urls)]
            today.append((time.perf_counter() - start) * 1e3)
            start = time.perf_counter()
            b = [r[0] for r in conn.execute(
                REVIEWS_FOR.format(", ".join("?" * len(urls))),
                (article_id, article_id, *urls)).fetchall()]
            own.append((time.perf_counter() - start) * 1e3)
            assert a == b, (article_id, a, b)
        count = conn.execute("SELECT count(*) FROM reviews").fetchone()[0]
        out[label] = {"reviews": count, "today: reviews() + filter": statistics.median(today),
                      "WHERE article_id/target_id/url IN": statistics.median(own)}
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    out["plan"] = plan(conn, REVIEWS_FOR.format("?, ?").replace("?", "1"))
    return out


REVIEWS_FOR = ("SELECT r.id FROM reviews r WHERE r.article_id = ? OR r.target_id = ? "
               "OR r.url IN ({}) ORDER BY r.id DESC")


def article_url(conn: sqlite3.Connection, article_id: int) -> str:
    return str(conn.execute("SELECT url FROM articles WHERE id = ?", (article_id,)).fetchone()[0])


def print_prototypes(proto: dict[str, Any]) -> None:
    print(f"\nPrototype search plans (in-process, not in the product; median ms of "
          f"{proto['repeat']} runs; 'hybrid': count the matches up to {HYBRID_CAP:,}, below that "
          f"today's plan, else the + plan; FTS 'optimize' took "
          f"{proto['fts_optimize_s']:.0f} s):")
    names = [*SEARCH_PLANS, "hybrid (suggested)", "count to cap"]
    short = ["today", "+ IN list", "EXISTS probe", "hybrid", "count<cap"]
    for state, rows in proto["search"].items():
        print(f"  {state}:")
        print(f"    {'word':<24}{'records':>9}" + "".join(f"{n:>14}" for n in short))
        for label, row in rows.items():
            print(f"    {label + ' ' + row['word']:<24}{row['records']:>9,}"
                  + "".join(f"{row[n]:>14.1f}" for n in names))
    for name, lines in proto["search_plans"].items():
        print(f"  plan, {name}:")
        for line in lines:
            print(f"      {line}")
    print("\nPrototype keyset cursor (in-process, median ms, one page of 50):")
    for depth, row in proto["keyset"].items():
        print(f"  {depth:<12}" + "   ".join(f"{n} {v:.2f}" for n, v in row.items()))
    print("\nPrototype record history (in-process, median ms per record page):")
    for label, row in proto["history"].items():
        if label != "plan":
            print(f"  {label} ({row['reviews']:,} reviews): "
                  + "   ".join(f"{n} {v:.2f}" for n, v in row.items() if n != "reviews"))
    print("  plan: " + " / ".join(line.strip() for line in proto["history"]["plan"]))


# -- main -------------------------------------------------------------------------------------


def report(results: dict[str, dict[str, Any]]) -> None:
    print(f"\n{'kind':<44}{'median':>9}{'p99':>9}{'max':>9}{'total':>9}{'KB':>7}  target")
    for name, r in results.items():
        print(f"{name:<44}{r['median_ms']:>7.1f}ms{r['p99_ms']:>7.1f}ms{r['max_ms']:>7.1f}ms"
              f"{r['total_median_ms']:>7.1f}ms{r['median_kb']:>7.1f}  "
              f"{'ok' if r['ok'] else 'MISSED'}")
    print(f"(TTFB = first body byte after sending; total = last byte; median/p99 targets "
          f"{TARGET_MEDIAN_MS:.0f}/{TARGET_P99_MS:.0f} ms)")


def print_diagnosis(diag: dict[str, Any]) -> None:
    print("\nIn-process diagnosis (same file, no HTTP):")
    for name, d in diag.items():
        if not isinstance(d, dict):
            print(f"  {name}: {d}")
            continue
        if "query_ms" in d:
            print(f"  {name}: decisions() {d['query_ms']:.1f} ms; plan:")
        else:
            print(f"  {name}: _record_data median {d['record_data_median_ms']:.1f} ms, "
                  f"p99 {d['record_data_p99_ms']:.1f} ms; per page: "
                  + ", ".join(f"{k} {v:.2f}" for k, v in d["parts_ms_per_page"].items())
                  + " ms; record_duplicates plan:")
        for line in d.get("plan", d.get("record_duplicates_plan", [])):
            print(f"      {line}")


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    db = Path(args.db) if args.db else work / "review.db"
    out: dict[str, Any] = {"records_requested": args.records}
    if db.exists():
        print(f"Reusing {db}")
    else:
        print(f"Building {db}: {args.records:,} records (synchronous=OFF during the load)")
        out["load"] = build(db, args.records, signatures=args.signatures)
        load = out["load"]
        print(f"Loaded in {load['load_s']:.0f} s (rows {load['rows_s']:.0f} s, FTS rebuild "
              f"{load['fts_rebuild_s']:.0f} s)")
    out["counts"] = counts(db)
    out["file_mb"] = file_mb(db)
    print("Rows: " + ", ".join(f"{k} {v:,}" for k, v in out["counts"].items())
          + f"; file {out['file_mb']:,.0f} MB")

    port = free_port()
    config = write_config(work, db.resolve(), port)
    add_editor(config)
    server = Server(config, port, work / "serve.log")
    try:
        client = signed_in(server.base)
        deep, hops = follow_older(client, "/", 20)
        print(f"'Older decisions →' followed 20 times: {deep[:80]}… "
              f"(hops median {statistics.median(hops):.1f} ms)")
        rare = rare_word()
        kinds = list_kinds(COMMON_WORD, rare, deep, middle_cursor(db))
        with_dups, without = record_ids(db, args.requests + args.warmup)
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        for word in (COMMON_WORD, rare):
            matches = conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts "
                                   "MATCH ?", (word,)).fetchone()[0]
            out.setdefault("search_matches", {})[word] = matches
            print(f"'{word}' is in {matches:,} records")
        conn.close()
        out["load_average_before"] = os.getloadavg()
        print("Load average before measuring: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
              + f" ({os.cpu_count()} cpus; other processes share the machine)")
        results: dict[str, dict[str, Any]] = {}
        for name, url in kinds.items():
            results[name] = measure(client, lambda k, u=url: u, args.warmup, args.requests)
            print(f"  {name}: median {results[name]['median_ms']:.1f} ms", flush=True)
        for name, ids in (("record with duplicates", with_dups),
                          ("record without duplicates", without)):
            results[name] = measure(client, lambda k, i=ids: f"/records/{i[k]}",
                                    args.warmup, args.requests)
            print(f"  {name}: median {results[name]['median_ms']:.1f} ms", flush=True)
        client.close()
        out["load_average_after"] = os.getloadavg()
        print("Load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        server.stop()
    out["ttfb"] = results
    report(results)
    out["diagnosis"] = diagnose(db, kinds, with_dups, without)
    print_diagnosis(out["diagnosis"])
    vocab, _ = vocabulary()
    out["prototypes"] = prototypes(db, {"common": COMMON_WORD, "medium": str(vocab[500]),
                                        "uncommon": str(vocab[3000]), "rare": rare,
                                        "absent": "zzzqqx"}, with_dups[:25] + without[:25])
    print_prototypes(out["prototypes"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="per kind (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="per kind (default 10)")
    parser.add_argument("--db", help="the store to use; built there if absent (kept)")
    parser.add_argument("--signatures", action="store_true",
                        help="also fill signatures (random MinHash values, for the file size)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="review_ttfb_"))
    try:
        out = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["wall_s"] = time.perf_counter() - started
    print(f"\nWall time {out['wall_s']:.0f} s (cpus: {os.cpu_count()}, "
          f"SQLite {sqlite3.sqlite_version})")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
