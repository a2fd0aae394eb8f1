"""Store round trips per page: the SQL statements one ``once`` cycle sends to SQLite.

Runs one ``once`` cycle in this process over a news web and counts, through
``sqlite3.Connection.set_trace_callback`` installed on every connection
``store.db.Store`` opens, the statements the store executes (the main process
only: extraction workers never touch SQLite). Run it from the tree to measure
(it imports that tree's code, whatever the venv's editable install points at)::

    .venv/bin/python bench/round_trips.py --web newsweb          # tests/newsweb.py
    .venv/bin/python bench/round_trips.py --web langweb          # tests/langweb.py
    .venv/bin/python bench/round_trips.py --web bench --data ../shared/data [--limit N]
    .venv/bin/python bench/round_trips.py --web newsweb --json after.json --keep DIR
    .venv/bin/python bench/round_trips.py --diff before.json after.json

What is counted: one statement execution = one round trip (a row of
``executemany`` is one; the implicit ``BEGIN`` and the ``COMMIT`` are too).
Not counted, but shown: statements SQLite runs *inside* another (FTS5's own
queries on its shadow tables, traced as ``-- ...``) and the repeated traces of
a write that fires triggers (the FTS triggers on ``articles``: SQLite traces the
outer statement again at each trigger program). Statements run while the store
opens (``Store.__init__``: pragmas, migrations) are shown apart from the
cycle's; "per page" is the cycle's statements over the pages the cycle handled
(the sum of its summary's ``page.*`` counts: new, duplicate, skipped and
failed; not rows, since a page with a canonical URL is an article row *and* a
``url`` duplicate row). The ``BEGIN``/``COMMIT`` count moves a little from run
to run: the writer commits every 32 pages *or* every second.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This tree's code first: the venv's editable install may point at another tree.
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import service  # noqa: E402
from store.db import Store  # noqa: E402

KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN/COMMIT", "PRAGMA", "other")
_FIRST = {"WITH": "SELECT", "REPLACE": "INSERT", "BEGIN": "BEGIN/COMMIT", "COMMIT": "BEGIN/COMMIT",
          "ROLLBACK": "BEGIN/COMMIT", "SAVEPOINT": "BEGIN/COMMIT", "RELEASE": "BEGIN/COMMIT"}
_STRING = re.compile(r"'(?:[^']|'')*'")
_BLOB = re.compile(r"\b[xX]\?")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_NULL = re.compile(r"\bNULL\b", re.IGNORECASE)
_LIST = re.compile(r"\?(?:\s*,\s*\?)+")
_SPACE = re.compile(r"\s+")
_SAVEPOINT = re.compile(r"\b(SAVEPOINT|RELEASE|TO)\s+(?!SAVEPOINT\b)\w+", re.IGNORECASE)
_WRITE = re.compile(r'^(?:INSERT(?: OR \w+)? INTO|REPLACE INTO|UPDATE(?: OR \w+)?|DELETE FROM)'
                    r'\s+["\[`]?(\w+)', re.IGNORECASE)


def normalise(sql: str) -> str:
    """The statement with its values (bound parameters show expanded) as ``?``."""
    text = _NUMBER.sub("?", _BLOB.sub("?", _STRING.sub("?", sql)))
    text = _SAVEPOINT.sub(r"\1 name", _LIST.sub("?, ...", _NULL.sub("?", text)))
    return _SPACE.sub(" ", text).strip().rstrip(";")


def kind(statement: str) -> str:
    word = statement.split(" ", 1)[0].upper()
    word = _FIRST.get(word, word)
    return word if word in KINDS else "other"


class Tracer:
    """Every traced statement: (phase, nested, normalised text, hash of the full text)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, bool, str, int]] = []
        self.phase = "cycle"
        self.connections = 0

    def trace(self, sql: str) -> None:
        # Run by SQLite itself: inside another statement ("-- "), or FTS5 reading its
        # config while a statement is prepared (quoted schema, as no code here writes).
        nested = sql.startswith("-- ") or "'main'." in sql
        self.events.append((self.phase, nested, normalise(sql), hash(sql)))

    @contextlib.contextmanager
    def installed(self) -> Iterator[Tracer]:
        original = Store.__init__

        def traced_init(store: Store, conn: sqlite3.Connection, *a: Any, **kw: Any) -> None:
            conn.set_trace_callback(self.trace)
            self.connections += 1
            self.phase = "open"
            try:
                original(store, conn, *a, **kw)
            finally:
                self.phase = "cycle"

        Store.__init__ = traced_init  # type: ignore[method-assign]
        try:
            yield self
        finally:
            Store.__init__ = original  # type: ignore[method-assign]

    def round_trips(self, trigger_tables: set[str]) -> tuple[list[tuple[str, str]], Counter[str]]:
        """(phase, statement) of each round trip; and the traces left out, by reason."""
        trips: list[tuple[str, str]] = []
        left_out: Counter[str] = Counter()
        previous: int | None = None
        for phase, nested, text, full in self.events:
            if nested:
                left_out["run by SQLite inside others (FTS5, triggers' bodies)"] += 1
                continue
            write = _WRITE.match(text)
            if full == previous and write and write.group(1).lower() in trigger_tables:
                left_out["trigger re-traces of the same write"] += 1
                continue
            previous = full
            trips.append((phase, text))
        return trips, left_out


@contextlib.contextmanager
def news_web(name: str, workdir: Path, args: argparse.Namespace) -> Iterator[tuple[Path, Path]]:
    """The web ``name`` served on loopback; yields (config path, database path)."""
    if name == "bench":
        from throughput import write_config
        from throughput_site import ArticleSite, load_pages
        pages = load_pages(args.data, args.limit)
        options = argparse.Namespace(concurrency=16, per_host_concurrency=16,
                                     workers=args.workers)
        with ArticleSite(pages) as site:
            yield write_config(workdir, site.feed_url, options), workdir / "bench.db"
        return
    if name == "newsweb":
        from newsweb import NewsWeb as Web
    else:
        from langweb import LangWeb as Web
    with Web() as web:
        yield web.write_config(workdir), workdir / "news.db"


def run_once(config: Path, log_level: str) -> dict[str, Any]:
    """``service.main(["once", ...])`` in this process; the cycle summary it prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = service.main(["--log-level", log_level, "once", "--config", str(config)])
    if code != 0:
        raise SystemExit(f"once exited {code}: {out.getvalue()[-2000:]}")
    lines = [x for x in out.getvalue().splitlines() if x.startswith("{")]
    summary: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return summary


def measure(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="round-trips-") as tmp, \
            news_web(args.web, Path(tmp), args) as (config, db), Tracer().installed() as tracer:
        summary = run_once(config, args.log_level)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("articles", "duplicates", "skipped")}
            triggers = {r[0].lower() for r in conn.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'")}
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(db) as src, sqlite3.connect(args.keep / f"{args.web}.db") as dst:
                src.backup(dst)
    trips, left_out = tracer.round_trips(triggers)
    cycle = Counter(text for phase, text in trips if phase == "cycle")
    page_counts = {k: v for k, v in summary.get("counts", {}).items() if k.startswith("page.")}
    pages = sum(page_counts.values()) or sum(rows.values())
    return {"web": args.web, "tree": str(ROOT), "store_module": sys.modules[Store.__module__]
            .__file__, "connections": tracer.connections, "rows": rows, "pages": pages,
            "summary_pages": page_counts,
            "open": sum(1 for phase, _ in trips if phase == "open"),
            "cycle": sum(cycle.values()), "left_out": dict(left_out),
            "kinds": dict(Counter(kind(s) for s in cycle.elements())),
            "statements": dict(cycle.most_common())}


def per(n: float, pages: int) -> str:
    return f"{n / pages:7.2f}" if pages else "      -"


def report(m: dict[str, Any], top: int) -> None:
    pages = m["pages"]
    print(f"== {m['web']}: tree {m['tree']} (store code {m['store_module']}, "
          f"{m['connections']} Store connection(s))")
    print(f"pages: {pages} (the cycle summary's page.* counts: {m['summary_pages']}); "
          f"rows {m['rows']}")
    print(f"round trips: {m['open'] + m['cycle']} = {m['open']} opening the store + "
          f"{m['cycle']} in the cycle -> {per(m['cycle'], pages).strip()} per page "
          f"({per(m['open'] + m['cycle'], pages).strip()} with the opening)")
    print(f"not counted: {m['left_out'] or 'nothing'}")
    print("by kind (cycle):   " + "   ".join(
        f"{k} {m['kinds'].get(k, 0)} ({per(m['kinds'].get(k, 0), pages).strip()}/page)"
        for k in KINDS))
    print(f"top {top} statements (cycle):\n  count  /page  statement")
    for text, n in list(m["statements"].items())[:top]:
        print(f"  {n:5} {per(n, pages)}  {text[:90]}")


def diff(before: dict[str, Any], after: dict[str, Any], top: int) -> None:
    """Side by side: per page, by kind, and the statements whose count changed most."""
    pb, pa = before["pages"], after["pages"]
    print(f"== {after['web']}: before {before['tree']}  after {after['tree']}")
    same = before["summary_pages"] == after["summary_pages"] and before["rows"] == after["rows"]
    print(f"pages: {pb} vs {pa} ({'same' if same else 'DIFFERENT'} page.* counts and rows)")
    print(f"round trips per page (cycle): {per(before['cycle'], pb).strip()} -> "
          f"{per(after['cycle'], pa).strip()}  (totals {before['cycle']} -> {after['cycle']}; "
          f"opening the store {before['open']} -> {after['open']})")
    for k in KINDS:
        b, a = before["kinds"].get(k, 0), after["kinds"].get(k, 0)
        print(f"  {k:12} {b:6} -> {a:6}   per page {per(b, pb)} -> {per(a, pa)}")
    keys = set(before["statements"]) | set(after["statements"])
    change = sorted(keys, key=lambda s: -abs(after["statements"].get(s, 0)
                                              - before["statements"].get(s, 0)))
    print(f"statements whose count changed most (top {top}):\n  before  after  statement")
    for text in change[:top]:
        b, a = before["statements"].get(text, 0), after["statements"].get(text, 0)
        if a != b:
            print(f"  {b:6} {a:6}  {text[:100]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--web", choices=("newsweb", "langweb", "bench"), default="newsweb")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                   help="--web bench: the data sets (default ../shared/data)")
    p.add_argument("--limit", type=int, default=None, help="--web bench: first N pages only")
    p.add_argument("--workers", type=int, default=0, help="--web bench: extract.workers")
    p.add_argument("--top", type=int, default=10, help="statements listed")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--keep", type=Path, help="copy the database to DIR/<web>.db")
    p.add_argument("--log-level", default="WARNING", help="the service's --log-level")
    p.add_argument("--diff", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
                   help="compare two --json files instead of running")
    args = p.parse_args(argv)
    if args.diff:
        before, after = (json.loads(f.read_text(encoding="utf-8")) for f in args.diff)
        diff(before, after, args.top)
        return 0
    figures = measure(args)
    report(figures, args.top)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
