"""Where a cycle's time goes: py-spy over a real ``once`` run, or serial per-page costs.

Run from the repository root::

    .venv/bin/python -m pip install py-spy      # once; a profiler, not a dependency
    .venv/bin/python bench/profile_cycle.py spy [--limit N] [--rate 100] [--variant V]
    .venv/bin/python bench/profile_cycle.py serial [--limit N]
    .venv/bin/python bench/profile_cycle.py fetch [--limit N]

``spy`` serves the benchmark's pages exactly as ``bench/throughput.py``
does, runs ``service.py once`` (or a ``throughput_variant``) under
``py-spy record --subprocesses`` (active samples only), and prints, per
role (the main thread, the pool's threads, each worker process), how long
it was busy and which stage its samples fell in. The stage of a sample is
the first rule of ``RULES`` that matches a frame of its stack, so the rules
go from specific to general. py-spy counts a thread that waits for a CPU as
active, so on an oversubscribed machine "busy or runnable" exceeds CPU
seconds: read the shares, and take CPU seconds from ``throughput.py``.
Samples whose innermost frame is a blocking wait are counted apart.

``fetch`` runs only the fetch stage (our Fetcher, same settings) over
every page and prints its rate and CPU cost per page.

``serial`` times, in this one process and per page interleaved (CPU time,
so background load matters less): ``trafilatura.extract`` with metadata
beside our ``process_page``, and the main process's per-page extras
(pickling a job and its result, compressing the raw page for ``pages``).
The ratio of these two CPU costs bounds what any pool can reach: with two
cores and nothing else, the cycle ratio is at most 2 x (trafilatura CPU /
cycle CPU per page).
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import DEFAULT_DATA, write_config  # noqa: E402
from throughput_site import ArticleSite, Page, load_pages  # noqa: E402

# Leaf functions that block: py-spy may count them active, but they wait.
BLOCKING = frozenset({"select", "poll", "_poll", "wait", "acquire", "_recv", "recv_bytes",
                      "sleep"})
TRAFILATURA = "trafilatura.extract(str, with_metadata)"
OURS = "process_page(bytes): decode+extract+clean+fingerprint"

# (stage, substring of a py-spy frame "function (file:line)"), most specific first.
RULES: tuple[tuple[str, str], ...] = (
    ("start-up: imports", "<frozen importlib._bootstrap"),
    ("log lines", "(logging/__init__.py"),
    ("store: compress raw page", "compress_html ("),
    ("store: compress raw page", "zlib"),
    ("store: other writes", "(store/db.py"),
    ("store: sqlite-utils", "(sqlite_utils/"),
    ("IPC: pickle/pipe", "(multiprocessing/connection.py"),
    ("IPC: pickle/pipe", "(multiprocessing/reduction.py"),
    ("decide/dedup (main)", "(ingest/record.py"),
    ("fetch: httpx/httpcore/anyio", "(httpcore/"),
    ("fetch: httpx/httpcore/anyio", "(httpx/"),
    ("fetch: httpx/httpcore/anyio", "(anyio/"),
    ("fetch: ours", "(ingest/fetch"),
    ("discover", "(ingest/discovery.py"),
    ("worker: decode", "decode_html ("),
    ("worker: trafilatura metadata", "page_metadata (metadata.py"),
    ("worker: trafilatura body", "bare_extraction (trafilatura"),
    ("worker: parse", "_parse (extract.py"),
    ("worker: trafilatura's tree copies", "deepcopy (copy.py"),
    ("worker: our pruning", "prune_tree ("),
    ("worker: cleaning", "clean_article ("),
    ("worker: fingerprint", "fingerprint (ingest/dedup.py"),
    ("worker: extract (other)", "(ingest/extract.py"),
    ("pipeline (main, other)", "(ingest/pipeline.py"),
    ("event loop", "(asyncio/"),
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=("spy", "serial", "fetch"))
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--per-host-concurrency", type=int, default=16)
    p.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    p.add_argument("--variant", default="", metavar="NAME[+NAME]",
                   help="profile the service with these throughput_variant patches")
    p.add_argument("--keep", metavar="DIR", help="keep config, database and raw profile")
    args = p.parse_args(argv)
    pages = load_pages(args.data, args.limit)
    if args.mode == "serial":
        serial(pages)
    elif args.mode == "fetch":
        fetch_only(pages, args)
    else:
        spy(pages, args)
    return 0


def spy(pages: list[Page], args: argparse.Namespace) -> None:
    """Record a ``once`` cycle with py-spy and print busy shares and stages per role."""
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or \
        shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy not found: .venv/bin/python -m pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="newsdedup-profile-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        raw = workdir / "py-spy.txt"
        with ArticleSite(pages) as site:
            config = write_config(workdir, site.feed_url, args)
            entry = [str(ROOT / "bench" / "throughput_variant.py"), args.variant] \
                if args.variant else [str(ROOT / "service.py")]
            cmd = [py_spy, "record", "--subprocesses", "--threads", "-r", str(args.rate),
                   "--format", "raw", "-o", str(raw), "--", sys.executable, *entry,
                   "--log-format", "json", "once", "--config", str(config)]
            start = time.perf_counter()
            with (workdir / "service.log").open("wb") as log:
                subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                               check=True)
            seconds = time.perf_counter() - start
        print(f"{len(pages)} pages, cycle under py-spy {seconds:.1f} s "
              f"(sampling slows it), {args.rate} samples/s per thread\n")
        print_roles(raw, seconds, args.rate)


def print_roles(raw: Path, seconds: float, rate: int) -> None:
    """Busy share and stage breakdown of each role found in a py-spy raw profile."""
    stages: dict[str, Counter[str]] = defaultdict(Counter)
    leaves: dict[str, Counter[str]] = defaultdict(Counter)
    waiting: Counter[str] = Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        who = _role(frames)
        code = [f for f in frames if not f.startswith(("process ", "thread "))]
        if code and code[-1].split(" (")[0].rsplit(".", 1)[-1] in BLOCKING:
            waiting[who] += int(count)  # py-spy saw it "active" but it sits in a wait
            continue
        stages[who][_stage(code)] += int(count)
        leaves[who][_short(code[-1]) if code else "?"] += int(count)
    for who in sorted(stages, key=lambda w: -sum(stages[w].values())):
        total = sum(stages[who].values())
        busy = total / rate
        print(f"== {who}: {total} samples = {busy:.1f} s busy or runnable "
              f"({busy / seconds:.0%} of the run; {waiting[who] / rate:.1f} s more in "
              f"blocking waits)")
        for stage, n in stages[who].most_common(12):
            print(f"   {n / rate:6.1f} s {n / total:5.1%}  {stage}")
        top = ", ".join(f"{leaf} {n / total:.0%}" for leaf, n in leaves[who].most_common(6))
        print(f"   hottest frames: {top}\n")


def _role(frames: list[str]) -> str:
    """'main: MainThread', 'main: pool threads', 'worker process', 'resource tracker'."""
    procs = [f for f in frames if f.startswith("process ")]
    threads = [f for f in frames if f.startswith("thread ")]
    if len(procs) > 1:
        cmd = procs[-1]
        if "resource_tracker" in cmd:
            return "resource tracker"
        pid = cmd.split(":", 1)[0].removeprefix("process ")
        return f"worker process {pid}" if "multiprocessing" in cmd else f"child {pid}"
    name = threads[0].split(":", 1)[-1].strip() if threads else ""
    if name.startswith("worker"):
        return "main: pool threads (send/recv pages)"
    return "main: MainThread (event loop: fetch, decide, store)" if name else "main: unnamed"


def _stage(code: list[str]) -> str:
    for stage, needle in RULES:
        if any(needle in frame for frame in code):
            return stage
    return "other: " + (_short(code[-1]) if code else "?")


def _short(frame: str) -> str:
    return frame.replace(str(ROOT) + "/", "").split(" (")[0] + " (" + \
        frame.rsplit("/", 1)[-1].split(":")[0].rstrip(")") + ")"


def serial(pages: list[Page]) -> None:
    """Per-page CPU: trafilatura.extract vs process_page, and main-process extras."""
    import trafilatura

    from ingest.errors import ExtractError
    from ingest.extract.decode import decode_html
    from ingest.pipeline.process import PageJob, process_page
    from store.db import compress_html

    texts = [decode_html(p.body) for p in pages]
    trafilatura.extract(texts[0], with_metadata=True)  # warm-up, untimed
    costs: dict[str, float] = defaultdict(float)
    failed = 0
    for page, text in zip(pages, texts, strict=True):
        job = PageJob(url="http://127.0.0.1:8000" + page.path, body=page.body)
        costs[TRAFILATURA] += _cpu(partial(trafilatura.extract, text, with_metadata=True))
        start = time.process_time()
        try:
            done: object = process_page(job)
        except ExtractError:
            done, failed = None, failed + 1
        costs[OURS] += time.process_time() - start
        costs["main: pickle job + result (both ways)"] += _cpu(partial(_round_trip, (job, done)))
        costs["main: compress_html(raw page), as stored"] += _cpu(partial(compress_html, page.body))
        costs["main: zlib.compress(raw page, 1), for scale"] += _cpu(
            partial(zlib.compress, page.body, 1))
    n = len(pages)
    print(f"{n} pages ({failed} without an article), CPU ms per page, interleaved:")
    for name, value in costs.items():
        print(f"  {1000 * value / n:8.1f}  {name}")
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
