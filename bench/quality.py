"""Extraction quality benchmark: newsdedup's extract+clean beside plain trafilatura.

Run from the repository root::

    .venv/bin/python bench/quality.py [--data ../shared/data] [--split tune|held|all]
                                      [--limit N] [--dump out.json]

Prints, per data set and for both systems in the same run: mean bag-of-words
F1 against the ground truth, "without" snippets (annotated boilerplate)
leaking into the text (WCXB only), and outputs that repeat their text (share
of repeated word 5-grams above the ground truth's by more than 0.05). Then
the seed articles in every HTML layout (see ``quality_seeds``). Targets, per
data set: F1 at least +0.01 over trafilatura, at most half its leaks, no
output with repeated text, seeds clean in every layout.

Splits: pages whose id hashes into the held-back split (``quality_data.held_back``,
about 30 %) are never used for tuning, only measured. By default both splits
run and each is printed apart, beside plain trafilatura; ``--split tune`` runs
only the tuning pages (what to iterate on), ``--split held`` only the held-back
ones, ``--split all`` every page as one set.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import trafilatura  # noqa: E402
from quality_data import SPLITS, Case, scrapinghub_cases, split_of, wcxb_cases  # noqa: E402
from quality_metrics import bow_f1, leaked, repeats_text  # noqa: E402
from quality_seeds import check_seed, load_annotations, load_seed, render_layouts  # noqa: E402

from ingest.clean.article import clean_article  # noqa: E402
from ingest.errors import ExtractError  # noqa: E402
from ingest.extract.page import extract_with_removals  # noqa: E402


def ours(html: bytes, url: str | None) -> str:
    try:
        article, removed = extract_with_removals(html, url)
    except ExtractError:
        return ""
    return clean_article(article, pre_removed=removed).text


def plain(html: bytes, url: str | None) -> str:
    return trafilatura.extract(html, url=url) or ""


def run_case(case: Case) -> dict[str, object]:
    html = case.html()
    row: dict[str, object] = {"dataset": case.dataset, "id": case.case_id,
                              "split": split_of(case.case_id)}
    for name, system in (("ours", ours), ("plain", plain)):
        start = time.perf_counter()
        text = system(html, case.url)
        row[f"{name}_seconds"] = time.perf_counter() - start
        row[f"{name}_f1"] = bow_f1(text, case.truth)
        row[f"{name}_leaks"] = leaked(text, list(case.without))
        row[f"{name}_repeats"] = repeats_text(text, case.truth)
    row["snippets"] = len(case.without)
    return row


def summarise(rows: list[dict[str, object]], dataset: str, split: str) -> dict[str, float]:
    mine = [r for r in rows if r["dataset"] == dataset and split in ("all", r["split"])]
    out: dict[str, float] = {"pages": len(mine)}
    for name in ("ours", "plain"):
        out[f"{name}_f1"] = _total(mine, f"{name}_f1") / max(len(mine), 1)
        out[f"{name}_leaks"] = _total(mine, f"{name}_leaks")
        out[f"{name}_repeats"] = _total(mine, f"{name}_repeats")
        out[f"{name}_seconds"] = _total(mine, f"{name}_seconds")
    out["snippets"] = _total(mine, "snippets")
    return out


def _total(rows: list[dict[str, object]], key: str) -> float:
    return sum(float(cast(float, r[key])) for r in rows)


def print_dataset(dataset: str, split: str, s: dict[str, float]) -> bool:
    if not s["pages"]:
        return True
    ok = s["ours_f1"] >= s["plain_f1"] + 0.01 and s["ours_repeats"] == 0
    if dataset.startswith("wcxb"):
        ok = ok and s["ours_leaks"] <= s["plain_leaks"] / 2
    print(f"\n{dataset}, {split} split ({int(s['pages'])} pages)")
    print(f"  {'':12}{'F1':>8}{'leaks':>8}{'repeats':>9}{'seconds':>9}")
    for name, label in (("ours", "newsdedup"), ("plain", "trafilatura")):
        leaks = f"{int(s[f'{name}_leaks'])}" if dataset.startswith("wcxb") else "-"
        print(f"  {label:12}{s[f'{name}_f1']:8.4f}{leaks:>8}{int(s[f'{name}_repeats']):9d}"
              f"{s[f'{name}_seconds']:9.1f}")
    if dataset.startswith("wcxb"):
        print(f"  ('without' snippets checked: {int(s['snippets'])})")
    ratio = s["ours_seconds"] / max(s["plain_seconds"], 1e-9)
    print(f"  time ratio newsdedup / trafilatura: {ratio:.2f}")
    print(f"  targets {'MET' if ok else 'NOT met'}")
    return ok


def run_seeds(seeds_dir: Path) -> bool:
    print("\nseeds")
    all_ok = True
    for name, note in load_annotations().items():
        seed = load_seed(seeds_dir, name, note)
        for layout, page in render_layouts(seed):
            problems = check_seed(seed, ours(page.encode(), f"https://seed.example/{name}"))
            all_ok &= not problems
            status = "ok" if not problems else "; ".join(problems[:3])
            print(f"  {name[:3]} {layout:22} {status}")
    print(f"  targets {'MET' if all_ok else 'NOT met'}")
    return all_ok


def _cases(data: Path, limit: int | None, split: str | None) -> list[Case]:
    cases: list[Case] = []
    for loader in (scrapinghub_cases, wcxb_cases):
        found: Iterable[Case] = (c for c in loader(data)
                                 if split in (None, "all", split_of(c.case_id)))
        cases.extend(list(found)[:limit] if limit else found)
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--split", choices=(*SPLITS, "all"), default=None,
                        help="only these pages (default: both splits, printed apart)")
    parser.add_argument("--limit", type=int, default=None, help="pages per data set")
    parser.add_argument("--dump", type=Path, default=None, help="write per-page rows as JSON")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    cases = _cases(args.data, args.limit, args.split)
    start = time.perf_counter()
    with mp.get_context("fork").Pool(args.workers, maxtasksperchild=50) as pool:
        rows = list(pool.imap_unordered(run_case, cases, chunksize=2))
    print(f"{len(rows)} pages in {time.perf_counter() - start:.0f} s")
    if args.dump:
        args.dump.write_text(json.dumps(sorted(rows, key=lambda r: str(r["id"])), indent=1))
    splits = SPLITS if args.split is None else (args.split,)
    ok = all([print_dataset(d, split, summarise(rows, d, split))
              for d in ("scrapinghub-aeb", "wcxb-dev-articles") for split in splits])
    if args.split is None:
        for d in ("scrapinghub-aeb", "wcxb-dev-articles"):
            print_dataset(d, "all", summarise(rows, d, "all"))
    ok &= run_seeds(args.data.parent / "seeds")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
