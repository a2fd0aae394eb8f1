"""CPU cost of our per-page work next to plain trafilatura, and an output check.

``ingest.pipeline.process.clean_page`` (decode, prune, trafilatura body + metadata,
clean) is what every worker runs per page, so its CPU time decides how many
pages a core handles. The yardstick is ``trafilatura.extract(html,
with_metadata=True)`` on the same decoded page: what the service would cost
with no pruning and no cleaning of our own. Both run interleaved, page by
page, in one process, and are timed with ``time.process_time`` (CPU, not wall
time: the machine is shared).

Speed work must not change what we extract, so ``--dump`` writes every page's
output and ``--compare`` checks a dump against the current code::

    .venv/bin/python bench/clean_speed.py --dump /tmp/clean_before.jsonl
    # ... optimise ...
    .venv/bin/python bench/clean_speed.py --compare /tmp/clean_before.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from ingest.errors import ExtractError  # noqa: E402
from ingest.extract.decode import decode_html  # noqa: E402
from ingest.pipeline.process import clean_page  # noqa: E402

DATASETS = ("scrapinghub-aeb", "wcxb-dev-articles")


@dataclass(frozen=True)
class Page:
    """One benchmark page: its file (the key in dumps), URL if known, raw bytes."""

    file: str
    url: str | None
    body: bytes


def pages(data: Path, limit: int | None) -> list[Page]:
    """Every ``html/*.html.gz`` of the data sets, in name order, with its URL when the
    ground truth gives one (trafilatura and our canonical URL use it)."""
    found: list[Page] = []
    for dataset in DATASETS:
        root = data / dataset
        urls = _urls(root)
        for path in sorted((root / "html").glob("*.html.gz")):
            stem = path.name.removesuffix(".html.gz")
            with gzip.open(path, "rb") as fh:
                found.append(Page(f"{dataset}/{path.name}", urls.get(stem), fh.read()))
    return found[:limit] if limit else found


def _urls(root: Path) -> dict[str, str]:
    """Page id -> URL from either data set's ground-truth layout."""
    single = root / "ground-truth.json"
    if single.exists():
        truth = json.loads(single.read_text(encoding="utf-8"))
        return {k: v["url"] for k, v in truth.items() if v.get("url")}
    urls: dict[str, str] = {}
    for path in sorted((root / "ground-truth").glob("*.json")):
        url = json.loads(path.read_text(encoding="utf-8")).get("url")
        if url:
            urls[path.stem] = url
    return urls


def output(page: Page) -> dict[str, Any]:
    """``clean_page``'s result as plain JSON (an ExtractError is an output too)."""
    try:
        art = clean_page(page.body, page.url)
    except ExtractError as exc:
        return {"file": page.file, "error": str(exc)}
    return {
        "file": page.file, "title": art.title, "author": art.author,
        "published": art.published, "language": art.language,
        "paragraphs": [[p.kind, p.text] for p in art.paragraphs],
        "removed": [[r.rule, r.text] for r in art.removed],
    }


def run(all_pages: list[Page]) -> tuple[list[dict[str, Any]], float, float]:
    """Outputs plus total CPU seconds of ours and of trafilatura, interleaved per page."""
    texts = [decode_html(p.body) for p in all_pages]
    if all_pages:  # warm-up (imports, caches, regex compilation), untimed
        trafilatura.extract(texts[0], with_metadata=True)
        output(all_pages[0])
    outputs: list[dict[str, Any]] = []
    ours = theirs = 0.0
    for page, text in zip(all_pages, texts, strict=True):
        start = time.process_time()
        trafilatura.extract(text, with_metadata=True)
        middle = time.process_time()
        outputs.append(output(page))
        ours += time.process_time() - middle
        theirs += middle - start
    return outputs, ours, theirs


def compare(outputs: list[dict[str, Any]], dump: Path) -> int:
    """Pages whose output differs from the dump (or is missing on either side)."""
    before = {row["file"]: row for row in map(json.loads, dump.read_text("utf-8").splitlines())}
    now = {row["file"]: row for row in outputs}
    differing = sorted(f for f in before.keys() | now.keys() if before.get(f) != now.get(f))
    for name in differing[:20]:
        print(f"  differs: {name}")
    return len(differing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--dump", type=Path, help="write every page's output (JSON lines)")
    parser.add_argument("--compare", type=Path, help="count pages differing from a dump")
    args = parser.parse_args(argv)
    all_pages = pages(args.data, args.limit)
    outputs, ours, theirs = run(all_pages)
    n = max(len(all_pages), 1)
    errors = sum("error" in o for o in outputs)
    print(f"{len(all_pages)} pages ({errors} without an article), CPU ms/page, interleaved:")
    print(f"  clean_page                              {1000 * ours / n:7.1f}")
    print(f"  trafilatura.extract(with_metadata=True) {1000 * theirs / n:7.1f}")
    print(f"  ratio ours / trafilatura                {ours / theirs if theirs else 0:7.2f}")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as fh:
            for row in outputs:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {args.dump}")
    if args.compare:
        differing = compare(outputs, args.compare)
        print(f"pages differing from {args.compare}: {differing}")
        return 1 if differing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
