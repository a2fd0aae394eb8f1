"""Soak test, run by hand: many cycles of one long-lived service over a hostile web.

Issue 6 asks for a daemon that survives months of slow, broken and hostile
servers without losing or duplicating an article and without growing. This
bench builds ``service.Service`` once, as the daemon does, and runs
``--cycles`` cycles over :mod:`soak_web` (a loopback web in a child process
whose sites publish new articles every cycle while a share of requests fail
in every way issue 6 lists). After each cycle it records the summary and the
resident memory of the service's process tree (main process plus extraction
workers; the web's process is excluded). At the end it prints pages stored,
errors by kind, memory per cycle, and checks the database::

    .venv/bin/python bench/soak.py [--cycles 20] [--fail-share 0.2] [--trim] [--keep DIR]

Checks (exit 1 if any fails): no article lost (every page that served valid
HTML at least once is in ``articles.url`` or ``duplicates.url``, or in
``skipped`` as off topic), none duplicated (no URL in both tables or twice),
no off-topic page stored, no cycle crashed, SQLite integrity, and memory
growth between the first and last quarter below ``--max-growth-mb``. RSS
includes what glibc keeps after a cycle's peak; ``--trim`` returns that to
the OS before each measurement, which tells a leak (still grows) from
allocator high water (flat once trimmed).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from soak_web import Plan, WebProcess, planted_source_faults  # noqa: E402

import service  # noqa: E402
from ingest import logs  # noqa: E402
from ingest.config import load_config  # noqa: E402
from ingest.urls import canonical_url  # noqa: E402

PROC = Path("/proc")


def tree_rss_mb(root: int, exclude: set[int]) -> tuple[float, float]:
    """(main process, its descendants) VmRSS in MB, skipping ``exclude`` and their trees."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            ppid = _ppid(entry)
            if ppid is not None:
                children.setdefault(ppid, []).append(int(entry.name))
    rest, stack = 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        if pid in exclude:
            continue
        rest += _rss_kb(pid)
        stack += children.get(pid, [])
    return _rss_kb(root) / 1024, rest / 1024


def _ppid(entry: Path) -> int | None:
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _rss_kb(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def write_config(directory: Path, sources: list[tuple[str, str, str]], plan: Plan) -> Path:
    path = directory / "config.toml"
    entries = "".join(f'\n[[sources]]\nname = "{n}"\nkind = "{k}"\nurl = "{u}"\n'
                      for n, k, u in sources)
    path.write_text(
        f'[store]\npath = "{directory / "news.db"}"\n'
        '[fetch]\nuser_agent = "newsdedup-soak/1.0 (+https://example.org/soak)"\n'
        f"timeout_seconds = {plan.client_timeout}\nmax_page_bytes = {plan.max_page_bytes}\n"
        "per_host_delay_seconds = 0\nconcurrency = 8\nper_host_concurrency = 2\n"
        "allow_private_addresses = true\n"
        '[topic]\nall_of = [["musk"], ["altman", "openai"]]\n'
        f"[extract]\nworkers = 2\ntimeout_seconds = 20\n{entries}", encoding="utf-8")
    return path


def malloc_trim() -> None:
    """Hand glibc's free memory back to the OS, so RSS shows live memory, not high water."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: measure as is
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def run_cycles(args: argparse.Namespace, plan: Plan, directory: Path,
               ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Run the cycles; returns one row per cycle and the web's ledger."""
    rows: list[dict[str, Any]] = []
    with WebProcess(plan) as web:
        config = load_config(write_config(directory, web.sources, plan))
        svc = service.Service(config)
        try:
            for cycle in range(1, args.cycles + 1):
                web.start_cycle(cycle)
                rows.append(_one_cycle(svc, config, cycle, web.pid, trim=args.trim))
                _print_row(rows[-1])
        finally:
            svc.close()
        return rows, web.ledger()


def _one_cycle(svc: Any, config: Any, cycle: int, web_pid: int, *,
               trim: bool) -> dict[str, Any]:
    start = time.monotonic()
    try:
        summary, crash = svc.cycle(config.sources), None
    except Exception as exc:  # a crash is a finding to report, not a reason to stop
        summary, crash = {}, f"{type(exc).__name__}: {exc}"
    if trim:
        malloc_trim()
    main_mb, workers_mb = tree_rss_mb(os.getpid(), {web_pid})
    return {"cycle": cycle, "seconds": time.monotonic() - start,
            "counts": dict(summary.get("counts", {})),
            "failed_sources": list(summary.get("failed_sources", [])), "crash": crash,
            "main_mb": main_mb, "workers_mb": workers_mb}



def _print_row(row: dict[str, Any]) -> None:
    c = row["counts"]
    failed = sum(n for k, n in c.items() if k.startswith("page.failed"))
    print(f"cycle {row['cycle']:>3}  {row['seconds']:6.1f}s  new {c.get('page.new', 0):>3}  "
          f"dup {c.get('page.duplicate', 0):>3}  skipped {c.get('page.skipped', 0):>3}  "
          f"failed {failed:>3}  sources failed {len(row['failed_sources'])}  "
          f"RSS main {row['main_mb']:6.1f} MB  workers {row['workers_mb']:6.1f} MB  "
          f"total {row['main_mb'] + row['workers_mb']:6.1f} MB"
          + (f"  CRASH {row['crash']}" if row["crash"] else ""), flush=True)


def check_store(db: Path, ledger: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Compare the database with what the web served; every list must come back empty."""
    conn = sqlite3.connect(db)
    try:
        articles = [u for (u,) in conn.execute("SELECT url FROM articles")]
        duplicates = [u for (u,) in conn.execute("SELECT url FROM duplicates")]
        skipped = dict(conn.execute("SELECT url, reason FROM skipped"))
        last = dict(conn.execute("SELECT url, outcome || ':' || coalesce(reason, '') "
                                 "FROM fetch_log ORDER BY id"))
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        leaked = conn.execute("SELECT count(*) FROM articles WHERE text LIKE '%root:x:0:0%' "
                              "OR title LIKE '%root:x:0:0%'").fetchone()[0]
    finally:
        conn.close()
    stored = set(articles) | set(duplicates)
    served = {canonical_url(u): p for u, p in ledger.items() if p["first_valid"] is not None}
    lost = sorted(u for u, p in served.items()
                  if u not in stored and skipped.get(u) != "off_topic")
    return {
        "articles": len(articles), "duplicates": len(duplicates), "skipped": len(skipped),
        "served_valid": len(served), "integrity": integrity, "passwd_leaked": leaked,
        "lost": [f"{u} (last: {last.get(u, 'never decided')})" for u in lost],
        "in_both_tables": sorted(set(articles) & set(duplicates)),
        "url_twice": sorted(u for u, n in Counter(articles + duplicates).items() if n > 1),
        "off_topic_stored": sorted(u for u, p in served.items()
                                   if not p["on_topic"] and u in stored),
        "stories_stored_twice": _stories_twice(articles, ledger),
        "skipped_reasons": dict(Counter(skipped.values())),
        "gave_up_after_transient": _gave_up(ledger, skipped),
    }


def _stories_twice(articles: list[str], ledger: dict[str, dict[str, Any]]) -> list[str]:
    story = {canonical_url(u): p["story"] for u, p in ledger.items()}
    counts = Counter(story[u] for u in articles if u in story)
    return sorted(s for s, n in counts.items() if n > 1)


def _gave_up(ledger: dict[str, dict[str, Any]], skipped: dict[str, str]) -> dict[str, int]:
    """Transiently failing pages remembered as skipped: never fetched again."""
    out: Counter[str] = Counter()
    for url, page in ledger.items():
        reason = skipped.get(canonical_url(url))
        if page["fault"] not in ("ok", "status_404", "status_410", "pdf", "image") and \
                reason and reason != "off_topic":
            out[f"{page['fault']}->{reason}"] += 1
    return dict(out)


def _groups(totals: Counter[str]) -> list[tuple[str, list[str]]]:
    """Summary keys by meaning: page decisions, errors by kind, sources, the rest."""
    ok_sources = ("source.fetched", "source.not_modified")
    errors = [k for k in totals if k.startswith("page.failed_")]
    source_errors = [k for k in totals if k.startswith("source.") and k not in ok_sources]
    pages = [k for k in totals if k.startswith("page.") and k not in errors]
    rest = [k for k in totals if k not in {*errors, *source_errors, *pages}]
    return [("pages", sorted(pages)), ("page errors by kind", sorted(errors)),
            ("source errors by kind", sorted(source_errors)), ("other", sorted(rest))]


def report(rows: list[dict[str, Any]], checks: dict[str, Any], ledger: dict[str, Any],
           plan: Plan, max_growth_mb: float) -> bool:
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update(row["counts"])
    print("\n== totals over all cycles (from the cycle summaries) ==")
    for title, keys in _groups(totals):
        print(f"  {title}: " + ", ".join(f"{k} {totals[k]}" for k in keys))
    faults = Counter(p["fault"] for p in ledger.values())
    print(f"\n== web == {len(ledger)} article pages; faults planted: "
          f"{dict(sorted(faults.items()))}")
    print(f"  source and robots.txt faults served: {planted_source_faults(plan, len(rows))}")
    print(f"  quirks of healthy pages: {dict(Counter(p['quirk'] for p in ledger.values()))}")
    growth, main_growth, slope = memory_trend(rows)
    totals_mb = [r["main_mb"] + r["workers_mb"] for r in rows]
    print("\n== store ==")
    for key in ("served_valid", "articles", "duplicates", "skipped", "skipped_reasons",
                "gave_up_after_transient", "integrity", "passwd_leaked"):
        print(f"  {key:<26} {checks[key]}")
    print(f"\n== memory == after {WARM_UP} warm-up cycles, total RSS first quarter -> last "
          f"quarter: {growth:+.1f} MB (main process {main_growth:+.1f} MB), trend "
          f"{slope:+.2f} MB/cycle; min {min(totals_mb):.1f}, max {max(totals_mb):.1f} MB")
    seconds = [r["seconds"] for r in rows]
    print(f"== time == {sum(seconds):.0f}s in cycles, median {statistics.median(seconds):.1f}s,"
          f" max {max(seconds):.1f}s")
    return _verdict(rows, checks, growth, max_growth_mb)


WARM_UP = 2  # cycles: imports, worker start-up, first allocations


def memory_trend(rows: list[dict[str, Any]]) -> tuple[float, float, float]:
    """(total growth, main-process growth, least-squares MB/cycle) after the warm-up.

    Growth compares the mean RSS of the first and last quarters of the
    cycles after ``WARM_UP``, so one noisy cycle does not decide it.
    """
    steady = rows[WARM_UP:] if len(rows) > WARM_UP + 3 else rows
    total = [r["main_mb"] + r["workers_mb"] for r in steady]
    main = [r["main_mb"] for r in steady]
    q = max(1, len(steady) // 4)
    slope = statistics.linear_regression(range(len(total)), total).slope if len(total) > 1 \
        else 0.0
    return (statistics.mean(total[-q:]) - statistics.mean(total[:q]),
            statistics.mean(main[-q:]) - statistics.mean(main[:q]), slope)


def _verdict(rows: list[dict[str, Any]], checks: dict[str, Any], growth: float,
             max_growth_mb: float) -> bool:
    problems = {
        "lost articles": checks["lost"], "URLs in both tables": checks["in_both_tables"],
        "URLs stored twice": checks["url_twice"],
        "off-topic pages stored": checks["off_topic_stored"],
        "crashed cycles": [f"cycle {r['cycle']}: {r['crash']}" for r in rows if r["crash"]],
        "integrity": [] if checks["integrity"] == "ok" else [checks["integrity"]],
        "external entity leaked": ["/etc/passwd"] if checks["passwd_leaked"] else [],
        "memory growth": [f"{growth:+.1f} MB"] if growth > max_growth_mb else [],
    }
    print("\n== checks ==")
    for name, items in problems.items():
        print(f"  {'ok  ' if not items else 'FAIL'} {name}: {len(items)}")
        for item in items[:10]:
            print(f"       {item}")
    print(f"  info stories stored as two records (dedup missed): "
          f"{len(checks['stories_stored_twice'])} {checks['stories_stored_twice'][:5]}")
    return not any(problems.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--fail-share", type=float, default=0.2)
    parser.add_argument("--per-cycle", type=int, default=10, help="new articles per site")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-growth-mb", type=float, default=25.0,
                        help="allowed RSS growth after the warm-up")
    parser.add_argument("--trim", action="store_true",
                        help="malloc_trim(0) before each measurement: live memory, not peaks")
    parser.add_argument("--keep", type=Path, help="keep the database in this directory")
    parser.add_argument("--log-level", default="CRITICAL")
    args = parser.parse_args(argv)
    logs.configure("text", args.log_level)
    plan = Plan(fail_share=args.fail_share, per_cycle=args.per_cycle, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        print(f"soak: {args.cycles} cycles, 4 sites x {plan.per_cycle} new articles per cycle,"
              f" fail share {plan.fail_share}, data in {directory}", flush=True)
        rows, ledger = run_cycles(args, plan, directory)
        checks = check_store(directory / "news.db", ledger)
        ok = report(rows, checks, ledger, plan, args.max_growth_mb)
    print(f"\nsoak: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
