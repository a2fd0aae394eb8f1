"""Walls and access on real articles: false walls, the access distribution, the cost.

Every page of ``scrapinghub-aeb`` (181) and ``wcxb-dev-articles`` (791) is a real
article, so every page the wall detector flags is a false positive: this prints how
many and which (target: none). It also prints how ``ingest.extract.access.access_of``
classes them (and from which signal: schema.org ``isAccessibleForFree``, the
``article:content_tier`` meta tag, or paywall markup), and what the two checks add to
a page's processing: each page goes through ``clean_page`` (decode, extract, clean,
access, walls: the workers' path), then ``access_of`` and ``find_wall`` are timed
again alone on the same page, beside the page's whole ``clean_page`` time.

The pages are read by the quality benchmark's loaders (``quality_data``), with their
own URLs. Its held-back split (``quality_data.held_back``) is kept here too: a false wall
on a held-back page is counted, never named, so those pages stay unseen.

Run: ``python bench/walls.py [--data DIR] [--json]`` (about a minute and a half).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality_data import SPLITS, Case, scrapinghub_cases, split_of, wcxb_cases

from ingest.errors import ExtractError, NotAnArticle
from ingest.extract.access import access_of, declared_access, paywall_markup, tier_access
from ingest.extract.decode import decode_html
from ingest.extract.walls import find_wall
from ingest.pipeline.process import clean_page
from ingest.pipeline.stats import Stats


@dataclass(frozen=True)
class Result:
    page: Case
    wall: str | None
    error: str | None
    access: str
    source: str
    total_ms: float
    added_ms: float


def pages(data: Path) -> Iterator[Case]:
    for loader in (scrapinghub_cases, wcxb_cases):
        yield from loader(data)


def source_of(html: str) -> str:
    """Which signal decided the page's access (the first that says anything)."""
    for name, said in (("isAccessibleForFree", declared_access(html)),
                       ("content_tier", tier_access(html))):
        if said != "unknown":
            return name
    return "markup" if paywall_markup(html) else "-"


def run(page: Case) -> Result:
    body, url = page.html(), page.url or f"https://{page.dataset}.example/{page.case_id}"
    stats = Stats()
    started = time.perf_counter()
    wall = error = title = None
    paragraphs: list[str] = []
    try:
        cleaned = clean_page(body, url, stats=stats)
        title, paragraphs = cleaned.title, [p.text for p in cleaned.paragraphs]
    except NotAnArticle as exc:
        wall = f"{exc.reason}: {exc}"
    except ExtractError as exc:
        error = exc.reason
    total = time.perf_counter() - started
    html = decode_html(body)
    started = time.perf_counter()
    access = access_of(html)
    find_wall(html, url=url, title=title, paragraphs=paragraphs)
    added = time.perf_counter() - started
    return Result(page, wall, error, access, source_of(html), total * 1e3, added * 1e3)


def report(results: list[Result]) -> dict[str, object]:
    walls = [r for r in results if r.wall is not None]
    added = [r.added_ms for r in results]
    total = sum(r.total_ms for r in results)
    return {
        "pages": len(results),
        "false_walls": len(walls),
        "false_walls_by_split": {split: sum(split_of(r.page.case_id) == split for r in walls)
                                 for split in SPLITS},
        "false_wall_pages": [f"{r.page.dataset}/{r.page.case_id}: {r.wall}" for r in walls
                             if split_of(r.page.case_id) == "tune"],
        "extract_errors": dict(Counter(r.error for r in results if r.error)),
        "access": dict(Counter(r.access for r in results)),
        "access_by_source": dict(Counter(f"{r.access} from {r.source}" for r in results
                                         if r.access != "unknown")),
        "added_ms_per_page": {"mean": round(statistics.fmean(added), 3),
                              "median": round(statistics.median(added), 3),
                              "p99": round(sorted(added)[int(len(added) * 0.99)], 3),
                              "max": round(max(added), 3)},
        "clean_page_ms_per_page": round(total / len(results), 1),
        "added_share": round(sum(added) / total, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parent.parent.parent
                        / "shared" / "data")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    summary = report([run(page) for page in pages(args.data)])
    if args.json:
        print(json.dumps(summary, indent=1))
        return
    for key, value in summary.items():
        if isinstance(value, list):
            print(f"{key}:")
            for line in value:
                print(f"  {line}")
        else:
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
