"""Where a cycle's time goes: the stage times of a real ``once`` run, or serial per-page costs.

Run from the repository root::

    .venv/bin/python bench/profile_cycle.py stages [--limit N] [--workers N] [--variant V]
    .venv/bin/python bench/profile_cycle.py stages --from news.db     # a cycle already run
    .venv/bin/python bench/profile_cycle.py serial [--limit N]
    .venv/bin/python bench/profile_cycle.py fetch [--limit N]

``stages`` (``spy`` is its old name) serves the benchmark's pages exactly as
``bench/throughput.py`` does, runs ``service.py once`` (or a
``throughput_variant``) and prints the per-stage table of the cycle's own
stage stats (``ingest.pipeline.stats``): the ``stages`` of the summary line
``once`` prints, else of the ``cycles.summary`` its database holds. ``--from``
reads them from an existing database (its last finished cycle) or a file
holding a summary line, without running anything. The stages fall in three
groups:

- the workers' ``decode``, ``extract``, ``clean`` (with the language
  identification) and ``fingerprint``: CPU seconds against the cycle's
  seconds x workers is how busy the pool was;
- the event loop thread's own work, ``discover`` (per source), ``record``
  (the writer's decision and writes) and ``commit`` (batched SQLite commits):
  their wall seconds against the cycle's is the writer's busy share;
- the overlapping waits, ``fetch`` (per page), ``process`` (a page's round
  trip to the pool, queueing for a free worker included) and ``wait`` (the
  writer waiting for the next page in order): wall seconds summed over the
  pages in flight, so read them per run (latency), not as shares.

``fetch`` runs only the fetch stage (our Fetcher, same settings) over
every page and prints its rate and CPU cost per page.

``serial`` times, in this one process and per page interleaved (CPU time,
so background load matters less): ``trafilatura.extract`` with metadata
beside our ``process_page`` (and its stages, from ``process_page_timed``),
and the main process's per-page extras (pickling a job and its result,
compressing the raw page for ``pages``). The ratio of these two CPU costs
bounds what any pool can reach: with two cores and nothing else, the cycle
ratio is at most 2 x (trafilatura CPU / cycle CPU per page).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import DEFAULT_DATA, write_config  # noqa: E402
from throughput_site import ArticleSite, Page, load_pages  # noqa: E402

from ingest.pipeline.stats import StageTime, Stats  # noqa: E402

TRAFILATURA = "trafilatura.extract(str, with_metadata)"
OURS = "process_page(bytes): decode+extract+clean+fingerprint"

# (group, its stages in pipeline order, what its total is compared with)
WORKER_STAGES = ("decode", "extract", "clean", "fingerprint")
LOOP_STAGES = ("discover", "record", "commit")
WAIT_STAGES = ("fetch", "process", "wait")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=("stages", "spy", "serial", "fetch"))
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--workers", type=int, default=0, help="extract.workers (0: one per core)")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--per-host-concurrency", type=int, default=16)
    p.add_argument("--variant", default="", metavar="NAME[+NAME]",
                   help="stages: run the service with these throughput_variant patches")
    p.add_argument("--from", dest="source", type=Path, metavar="DB_OR_JSON",
                   help="stages: print the last cycle of this database (or a summary line "
                        "in this file) instead of running one")
    p.add_argument("--keep", metavar="DIR", help="keep config, database and log")
    args = p.parse_args(argv)
    if args.mode in ("stages", "spy") and args.source is not None:
        print_stages(read_summary(args.source), args.workers)
        return 0
    pages = load_pages(args.data, args.limit)
    if args.mode == "serial":
        serial(pages)
    elif args.mode == "fetch":
        fetch_only(pages, args)
    else:
        stages(pages, args)
    return 0


def stages(pages: list[Page], args: argparse.Namespace) -> None:
    """Run a ``once`` cycle over the served pages and print its stage table."""
    with tempfile.TemporaryDirectory(prefix="newsdedup-profile-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        with ArticleSite(pages) as site:
            config = write_config(workdir, site.feed_url, args)
            entry = [str(ROOT / "bench" / "throughput_variant.py"), args.variant] \
                if args.variant else [str(ROOT / "service.py")]
            cmd = [sys.executable, *entry, "--log-format", "json", "once",
                   "--config", str(config)]
            start = time.perf_counter()
            with (workdir / "service.log").open("wb") as log:
                done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=log,
                                      check=True)
            seconds = time.perf_counter() - start
        summary = _summary_line(done.stdout.decode("utf-8", errors="replace")) or \
            read_summary(workdir / "bench.db")
    print(f"{len(pages)} pages served, service.py once {seconds:.1f} s spawn to exit\n")
    print_stages(summary, args.workers)


def read_summary(path: Path) -> dict[str, Any]:
    """A cycle summary: the last finished cycle of a database, or a summary line in a file."""
    with path.open("rb") as f:
        is_db = f.read(16) == b"SQLite format 3\x00"
    if not is_db:
        summary = _summary_line(path.read_text(encoding="utf-8", errors="replace"))
        if not summary:
            raise SystemExit(f"{path}: no summary line (a JSON object) in it")
        return summary
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT summary FROM cycles WHERE summary IS NOT NULL "
                           "ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    if row is None:
        raise SystemExit(f"{path}: no finished cycle")
    value: dict[str, Any] = json.loads(row[0])
    return value


def _summary_line(text: str) -> dict[str, Any]:
    """The last JSON object line of ``text`` (what ``once`` prints), empty if none."""
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            value: dict[str, Any] = json.loads(line)
            return value
    return {}


def print_stages(summary: Mapping[str, Any], workers: int = 0) -> None:
    """The per-stage table of a cycle summary, grouped by who spends the time."""
    stats = Stats.from_dict(summary.get("stages") or {}, summary.get("counts") or {})
    if not stats.times:
        raise SystemExit("the summary has no stage times (a cycle from before they existed?)")
    seconds = float(summary.get("seconds") or 0.0)
    pool = workers or os.cpu_count() or 1
    pages = sum(n for key, n in stats.counts.items() if key.startswith("page."))
    print(f"cycle {summary.get('cycle_id')}: {seconds:.2f} s inside run_cycle, {pages} pages "
          f"recorded, {pool} workers (as configured here: --workers, 0 = one per core)")
    print(f"{'stage':<12} {'runs':>6} {'wall s':>9} {'CPU s':>9} {'wall ms/run':>12} "
          f"{'CPU ms/run':>11}")
    rest = set(stats.times) - set(WORKER_STAGES) - set(LOOP_STAGES) - set(WAIT_STAGES)
    groups = (("worker processes", WORKER_STAGES), ("event loop thread", LOOP_STAGES),
              ("overlapping waits (wall summed over pages in flight)", WAIT_STAGES),
              ("other", tuple(sorted(rest))))
    for title, names in groups:
        rows = [(n, stats.times[n]) for n in names if n in stats.times]
        if not rows:
            continue
        print(f"-- {title}")
        for name, t in rows:
            print(f"{name:<12} {t.count:>6} {t.wall:>9.2f} {t.cpu:>9.2f} "
                  f"{_per_run(t.wall, t):>12.2f} {_per_run(t.cpu, t):>11.2f}")
        total = StageTime()
        for _, t in rows:
            total = total + t
        print(_share(title, total, seconds, pool))


def _per_run(value: float, t: StageTime) -> float:
    return 1000 * value / t.count if t.count else 0.0


def _share(title: str, total: StageTime, seconds: float, pool: int) -> str:
    if not seconds:
        return ""
    if title == "worker processes":
        return (f"   total CPU {total.cpu:.2f} s = {total.cpu / (seconds * pool):.0%} of "
                f"{pool} workers over the cycle (wall {total.wall:.2f} s)")
    if title == "event loop thread":
        return (f"   total wall {total.wall:.2f} s = {total.wall / seconds:.0%} of the cycle "
                f"(CPU {total.cpu:.2f} s)")
    return f"   total wall {total.wall:.2f} s"


def serial(pages: list[Page]) -> None:
    """Per-page CPU: trafilatura.extract vs process_page, and main-process extras."""
    import trafilatura

    from ingest.errors import NewsdedupError
    from ingest.extract.decode import decode_html
    from ingest.pipeline.process import PageJob, process_page_timed, warm_up
    from store.db import compress_html

    texts = [decode_html(p.body) for p in pages]
    trafilatura.extract(texts[0], with_metadata=True)  # warm-up, untimed
    warm_up()  # the language model, as each worker loads it before its first page
    costs: dict[str, float] = defaultdict(float)
    stats = Stats()
    failed = 0
    for page, text in zip(pages, texts, strict=True):
        job = PageJob(url="http://127.0.0.1:8000" + page.path, body=page.body)
        costs[TRAFILATURA] += _cpu(partial(trafilatura.extract, text, with_metadata=True))
        start = time.process_time()
        done, page_stats = process_page_timed(job)
        costs[OURS] += time.process_time() - start
        stats.merge(page_stats)
        if isinstance(done, NewsdedupError):
            failed += 1
        costs["main: pickle job + result and stats (both ways)"] += _cpu(
            partial(_round_trip, (job, (done, page_stats))))
        costs["main: compress_html(raw page), as stored"] += _cpu(partial(compress_html, page.body))
        costs["main: zlib.compress(raw page, 1), for scale"] += _cpu(
            partial(zlib.compress, page.body, 1))
    n = len(pages)
    print(f"{n} pages ({failed} without an article), CPU ms per page, interleaved:")
    for name, value in costs.items():
        print(f"  {1000 * value / n:8.1f}  {name}")
        if name == OURS:
            for stage in WORKER_STAGES:
                t = stats.times.get(stage, StageTime())
                print(f"  {1000 * t.cpu / n:8.1f}    {stage} ({t.count} runs)")
    ratio = costs[TRAFILATURA] / costs[OURS]
    print(f"trafilatura / process_page CPU: {ratio:.2f}; with 2 cores and nothing else "
          f"the cycle ratio is at most {2 * ratio:.2f}")


def fetch_only(pages: list[Page], args: argparse.Namespace) -> None:
    """The fetch stage alone: every page through one Fetcher, as the cycle's settings."""
    import asyncio

    from ingest.config import FetchSettings
    from ingest.fetch.fetcher import Fetcher

    settings = FetchSettings(concurrency=args.concurrency,
                             per_host_concurrency=args.per_host_concurrency,
                             per_host_delay_seconds=0, allow_private_addresses=True)

    async def crawl(urls: list[str]) -> int:
        async with Fetcher(settings) as fetcher:
            got = await asyncio.gather(*(fetcher.get(u) for u in urls), return_exceptions=True)
        return sum(1 for g in got if not isinstance(g, BaseException))

    with ArticleSite(pages) as site:
        urls = [site.url(p) for p in pages]
        wall, cpu = time.perf_counter(), time.process_time()
        ok = asyncio.run(crawl(urls))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{ok}/{len(urls)} pages fetched in {wall:.1f} s ({len(urls) / wall:.0f} pages/s); "
          f"CPU of this process (client and loopback server together) {cpu:.1f} s = "
          f"{1000 * cpu / len(urls):.1f} ms/page")


def _round_trip(value: object) -> object:
    return pickle.loads(pickle.dumps(value, protocol=5))


def _cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


if __name__ == "__main__":
    sys.exit(main())
