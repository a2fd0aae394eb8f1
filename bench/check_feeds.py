"""Test-data check: every feedparser test file through the feed stage, no crash allowed.

Issue 6: malformed and hostile feeds (entity expansion, external entities,
truncated XML, wrong encodings) must give a clear ``SourceError`` or a
listing, never another exception, which would take the whole cycle down.
feedparser's own fixtures (``../shared/data/feedparser-tests``, 2,109 files:
wellformed, illformed, encoding, entities, json) are the widest corpus of
odd feeds there is, so each file goes through
:func:`ingest.discover.parse.parse_source` exactly as a fetched source body would::

    .venv/bin/python bench/check_feeds.py --data ../shared/data
    # parsed 2031 (links 1380), SourceError 78, crashes 0 ... exit 1 on any crash

Each file gets a wall-clock limit (``--limit-seconds``); passing it counts as
a crash too (a hang is as bad as an exception for a daemon).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.discover.parse import parse_source  # noqa: E402
from ingest.errors import SourceError  # noqa: E402


class Hang(Exception):
    """A file took longer than the per-file limit."""


@dataclass
class Tally:
    """Outcomes per folder, plus the crashes in detail."""

    parsed: Counter[str] = field(default_factory=Counter)
    source_errors: Counter[str] = field(default_factory=Counter)
    links: int = 0
    crashes: list[tuple[str, str]] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    error_kinds: Counter[str] = field(default_factory=Counter)


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang("over the per-file time limit")


def check_file(path: Path, rel: str, tally: Tally, limit: float) -> None:
    folder = rel.split("/")[1] if rel.startswith("tests/") else "(top)"
    url = f"http://feeds.example/{rel}"
    content_type = "application/feed+json" if path.suffix == ".json" else ""
    body = path.read_bytes()
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        listing = parse_source(body, url=url, source="check", content_type=content_type)
    except SourceError as exc:
        tally.source_errors[folder] += 1
        tally.error_kinds[exc.args[0][:60] if exc.args else "?"] += 1
    except Exception as exc:  # the point of the check: anything else is a crash
        tally.crashes.append((rel, f"{type(exc).__name__}: {exc}"[:300]))
        traceback.print_exc(limit=3, file=sys.stderr)
    else:
        tally.parsed[folder] += 1
        tally.links += len(listing.links)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    elapsed = time.perf_counter() - start
    if elapsed > tally.slowest[0]:
        tally.slowest = (elapsed, rel)


def run(data: Path, limit: float) -> Tally:
    base = data / "feedparser-tests"
    files = sorted(p for p in base.rglob("*") if p.is_file())
    if not files:
        raise SystemExit(f"check_feeds: no files under {base}")
    signal.signal(signal.SIGALRM, _on_alarm)
    tally = Tally()
    for path in files:
        check_file(path, path.relative_to(base).as_posix(), tally, limit)
    return tally


def report(tally: Tally, seconds: float) -> None:
    folders = sorted(set(tally.parsed) | set(tally.source_errors))
    total = sum(tally.parsed.values()) + sum(tally.source_errors.values()) + len(tally.crashes)
    print(f"{'folder':<12} {'parsed':>7} {'SourceError':>12}")
    for folder in folders:
        print(f"{folder:<12} {tally.parsed[folder]:>7} {tally.source_errors[folder]:>12}")
    print(f"\nfiles {total}: parsed {sum(tally.parsed.values())} "
          f"(links {tally.links}), SourceError {sum(tally.source_errors.values())}, "
          f"crashes {len(tally.crashes)}")
    print(f"time {seconds:.1f}s, slowest file {tally.slowest[0] * 1000:.0f} ms "
          f"({tally.slowest[1]})")
    print("SourceError messages: " + ", ".join(
        f"{k!r} {n}" for k, n in tally.error_kinds.most_common(6)))
    for rel, error in tally.crashes:
        print(f"CRASH {rel}: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    tally = run(args.data, args.limit_seconds)
    report(tally, time.perf_counter() - start)
    return 1 if tally.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
