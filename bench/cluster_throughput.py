"""Cluster throughput: pages per second with 1, 2 and 4 ``once`` workers on one store.

Run from the repository root (about a minute on 2 cores with the defaults)::

    .venv/bin/python bench/cluster_throughput.py [--workers 1,2,4] [--stories 150]
        [--sites 8] [--latency-ms 100,300] [--concurrency 4] [--per-host-concurrency 2]
        [--rounds N] [--json FILE] [--keep DIR]

What it does (issue 14):

1. starts a throwaway PostgreSQL cluster (``tests/pgcluster.py``) and the loopback
   cluster web (``tests/clusterweb.py``): ``--sites`` sites, one RSS feed each,
   ``--stories`` stories, some syndicated as exact or near copies; every page and
   feed answers after a uniform random latency in ``--latency-ms`` (a real
   publisher's response time, so a worker is fetch-bound, not CPU-bound);
2. for each worker count N, in a fresh database: writes N configurations (topic
   filter off, no per-host delay, ``fetch.concurrency`` and
   ``per_host_concurrency`` modest, ``extract.workers = 1``, each worker its own
   User-Agent) and starts N ``service.py once --worker-id`` processes at the same
   moment, timing from the first spawn to the last exit (start-up included);
3. reads the database: pages stored (rows of ``articles`` plus ``duplicates``),
   and the partition of pages into records (each record's URL with its
   duplicates'), compared across the runs and with the web's ground truth;
   the sites' request logs say how often each page was fetched.

Figures: wall seconds, pages stored, pages/s, speed-up against the first worker
count; the sources each worker visited (``source.leased_elsewhere`` is how often
a worker found a source taken); "same partition: yes/no".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402

from clusterweb import ClusterWeb  # noqa: E402
from pgcluster import pg_cluster  # noqa: E402


@dataclass
class Run:
    """One group of N workers started together on a fresh database."""

    round: int
    workers: int
    seconds: float
    stored: int
    served: int
    returncodes: list[int]
    sources_visited: list[int]  # per worker: sources it leased and crawled
    leased_elsewhere: list[int]  # per worker
    cycle_seconds: list[float]  # per worker, as its summary says
    max_fetches: int  # the most any one page was fetched in this run
    partition_ok: bool  # equal to the web's ground truth
    partition: set[frozenset[str]] = field(repr=False, default_factory=set)

    @property
    def pages_per_second(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    counts = _int_list(parser, "--workers", args.workers)
    low, high = _latency(parser, args.latency_ms)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    load_before = os.getloadavg()[0]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="newsdedup-cluster-bench-") as tmp, \
            pg_cluster() as server, \
            ClusterWeb(sites=args.sites, stories=args.stories, seed=args.seed,
                       latency=(low, high)) as web:
        root = Path(args.keep) if args.keep else Path(tmp)
        print(f"web: {args.sites} sites, {len(web.stories)} stories, {len(web.article_urls)} "
              f"pages ({sum(len(u) > 1 for u in web.stories.values())} syndicated stories); "
              f"latency {args.latency_ms} ms per request; config: fetch.concurrency="
              f"{args.concurrency} per_host_concurrency={args.per_host_concurrency} "
              f"per_host_delay_seconds=0 extract.workers=1 topic.all_of=[]", flush=True)
        for round_no in range(1, args.rounds + 1):
            for n in counts:
                run = one_run(args, web, server, root / f"r{round_no}-n{n}", round_no, n)
                runs.append(run)
                print(f"  round {round_no}, {n} worker(s): {run.seconds:.1f} s, "
                      f"{run.stored} pages, {run.pages_per_second:.1f} pages/s", flush=True)
    print_table(runs, counts)
    same = len({frozenset(r.partition) for r in runs}) == 1 and all(r.partition_ok
                                                                    for r in runs)
    print(f"\nsame partition: {'yes' if same else 'no'} (every run against the others and "
          f"the web's ground truth)")
    print(f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": vars(args), "same_partition": same,
             "runs": [{**{k: v for k, v in asdict(r).items() if k != "partition"},
                       "pages_per_second": r.pages_per_second} for r in runs]},
            indent=2, default=str), encoding="utf-8")
    ok = same and all(c == 0 for r in runs for c in r.returncodes)
    ok = ok and all(r.stored == r.served and r.max_fetches == 1 for r in runs)
    return 0 if ok else 1


def one_run(args: argparse.Namespace, web: ClusterWeb, server: str, workdir: Path,
            round_no: int, n: int) -> Run:
    """N ``once`` workers started together on a fresh database, timed spawn to last exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    store_url = _new_database(server, f"bench_r{round_no}_n{n}")
    tags = [f"(r{round_no}n{n}w{i})" for i in range(1, n + 1)]
    configs = []
    for i, tag in enumerate(tags, 1):
        path = workdir / f"w{i}.toml"
        path.write_text(web.config_text(
            store_url, user_agent=f"newsdedup-bench/1.0 {tag}",
            fetch=f"concurrency = {args.concurrency}\n"
                  f"per_host_concurrency = {args.per_host_concurrency}",
            extra="[extract]\nworkers = 1\n"), encoding="utf-8")
        configs.append(path)
    procs: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
    start = time.perf_counter()
    for i, config in enumerate(configs, 1):
        out, err = workdir / f"w{i}.out", workdir / f"w{i}.log"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            procs.append((subprocess.Popen(
                [sys.executable, str(ROOT / "service.py"), "once", "--config", str(config),
                 "--worker-id", f"w{i}"], cwd=ROOT, stdout=stdout, stderr=stderr), out, err))
    codes = [proc.wait() for proc, _, _ in procs]
    seconds = time.perf_counter() - start
    summaries = [_summary(out) for _, out, _ in procs]
    for (proc, _, err), code in zip(procs, codes, strict=True):
        if code != 0:
            sys.stderr.write(f"worker pid {proc.pid} exited {code}:\n"
                             + err.read_text(encoding="utf-8", errors="replace")[-3000:])
    partition = _partition(store_url)
    counts = [s.get("counts", {}) for s in summaries]
    fetches = defaultdict(int)
    for tag in tags:
        for url, times in web.fetch_counts(tag).items():
            fetches[url] += times
    return Run(round=round_no, workers=n, seconds=seconds,
               stored=sum(len(group) for group in partition),
               served=len(web.article_urls), returncodes=codes,
               sources_visited=[int(c.get("source.fetched", 0)) for c in counts],
               leased_elsewhere=[int(c.get("source.leased_elsewhere", 0)) for c in counts],
               cycle_seconds=[float(s.get("seconds", 0.0)) for s in summaries],
               max_fetches=max(fetches.values(), default=0),
               partition_ok=partition == web.partition(), partition=partition)


def print_table(runs: list[Run], counts: list[int]) -> None:
    """Median over rounds per worker count; speed-up against the first count's median."""
    by_n: dict[int, list[Run]] = defaultdict(list)
    for run in runs:
        by_n[run.workers].append(run)
    base = statistics.median(r.pages_per_second for r in by_n[counts[0]])
    print(f"\n{'workers':>7} {'wall s':>7} {'stored':>7} {'pages/s':>8} {'speed-up':>8} "
          f"{'max fetch':>9}  sources per worker (leased elsewhere)")
    for n in counts:
        group = by_n[n]
        rate = statistics.median(r.pages_per_second for r in group)
        wall = statistics.median(r.seconds for r in group)
        last = group[-1]
        spread = " ".join(f"{v}({e})" for v, e in zip(last.sources_visited,
                                                       last.leased_elsewhere, strict=True))
        print(f"{n:>7} {wall:>7.1f} {last.stored:>4}/{last.served:<3}{rate:>7.1f} "
              f"{rate / base if base else 0:>7.2f}x {max(r.max_fetches for r in group):>9}  "
              f"{spread}")
    if any(len(g) > 1 for g in by_n.values()):
        for n in counts:
            rates = ", ".join(f"{r.pages_per_second:.1f}" for r in by_n[n])
            print(f"  {n} worker(s), pages/s by round: {rates}")


def _partition(store_url: str) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = defaultdict(set)
    with psycopg.connect(store_url) as conn:
        for article_id, url in conn.execute("SELECT id, url FROM articles"):
            groups[article_id].add(url)
        for article_id, url in conn.execute("SELECT article_id, url FROM duplicates"):
            groups[article_id].add(url)
    return {frozenset(g) for g in groups.values()}


def _new_database(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


def _summary(out_path: Path) -> dict[str, Any]:
    """The cycle summary ``once`` prints as its last JSON line (empty if none)."""
    for line in reversed(out_path.read_text(encoding="utf-8").splitlines()):
        if line.startswith("{"):
            value: dict[str, Any] = json.loads(line)
            return value
    return {}


def _int_list(parser: argparse.ArgumentParser, flag: str, text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        parser.error(f"{flag} must be comma-separated integers, got {text!r}")
    if not values or min(values) < 1:
        parser.error(f"{flag} must list worker counts >= 1, got {text!r}")
    return values


def _latency(parser: argparse.ArgumentParser, text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) / 1000 for v in text.split(","))
    except ValueError:
        parser.error(f"--latency-ms must be LOW,HIGH in milliseconds, got {text!r}")
    if not 0 <= low <= high:
        parser.error(f"--latency-ms needs 0 <= LOW <= HIGH, got {text!r}")
    return low, high


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="1,2,4", help="worker counts to run (default 1,2,4)")
    p.add_argument("--stories", type=int, default=150, help="stories on the web")
    p.add_argument("--sites", type=int, default=8, help="sites (one feed source each)")
    p.add_argument("--seed", type=int, default=14, help="the web's generator seed")
    p.add_argument("--latency-ms", default="100,300",
                   help="LOW,HIGH: each request waits uniform(LOW, HIGH) ms")
    p.add_argument("--concurrency", type=int, default=4, help="fetch.concurrency per worker")
    p.add_argument("--per-host-concurrency", type=int, default=2,
                   help="fetch.per_host_concurrency per worker")
    p.add_argument("--rounds", type=int, default=1, help="repeat every worker count N times")
    p.add_argument("--json", metavar="FILE", help="also write every run's figures as JSON")
    p.add_argument("--keep", metavar="DIR", help="keep configs and worker logs in DIR")
    return p


if __name__ == "__main__":
    sys.exit(main())
