"""Near-duplicate quality: pairwise precision and recall on a labelled set.

Run from the repository root::

    .venv/bin/python bench/dedup_quality.py [--data PATH] [--seed 0] [--verbose]

The stored records (article bodies and template-heavy briefs, see
``dedup_corpus``) are warm-loaded into a :class:`NearDuplicateIndex`; every
query (a copy, a variant, or a different story) is then decided alone. Each
decision names one (query, stored) pair; it is right when the stored record
is the query's origin. True Jaccard and containment are computed on the clean
shingle sets. Targets (issue 4): precision >= 0.99, recall >= 0.95 for pairs
whose clean texts have Jaccard >= 0.8, no merge below Jaccard 0.5 (those
justified by true containment >= settings.containment are counted apart).
Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_corpus import Corpus, build_brief_stress, build_corpus, load_bases  # noqa: E402

from ingest.config import DedupSettings  # noqa: E402
from ingest.dedup import Fingerprinter, NearDuplicateIndex  # noqa: E402
from ingest.minhash import shingle_set, tokens  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "scrapinghub-aeb" / "ground-truth.json"


@dataclass(frozen=True)
class Outcome:
    kind: str
    origin: int | None
    partner: int | None
    estimate: float
    origin_j: float  # true Jaccard with the origin (0 without one)
    origin_c: float  # true containment, the larger direction
    partner_j: float
    partner_c: float
    size_ratio: float  # larger / smaller shingle set, query vs origin
    nearest_j: float  # true Jaccard with the closest stored record (origin-less queries)


def true_measures(a: set[bytes], b: set[bytes]) -> tuple[float, float]:
    if not a or not b:
        return 0.0, 0.0
    inter = len(a & b)
    return inter / len(a | b), inter / min(len(a), len(b))


def evaluate(corpus: Corpus, settings: DedupSettings) -> tuple[list[Outcome], dict[str, float]]:
    make = Fingerprinter(settings)
    k = settings.shingle_size
    fps = {d.doc_id: make(d.text, None) for d in corpus.stored}
    sets = {d.doc_id: shingle_set(tokens(d.text), k) for d in corpus.stored}
    index = NearDuplicateIndex(settings, fps.get)
    index.load((i, fp.language, fp.n_shingles, fp.bands) for i, fp in fps.items())
    outcomes, find_ms = [], []
    for q in corpus.queries:
        fp = make(q.text, None)
        start = time.perf_counter()
        decision = index.find(fp)
        find_ms.append((time.perf_counter() - start) * 1e3)
        outcomes.append(outcome(q.kind, q.origin, decision.duplicate_of, decision.similarity,
                                shingle_set(tokens(q.text), k), sets))
    timing = {"find_median_ms": statistics.median(find_ms), "find_max_ms": max(find_ms)}
    return outcomes, timing


def outcome(kind: str, origin: int | None, partner: int | None, estimate: float,
            shingles: set[bytes], sets: dict[int, set[bytes]]) -> Outcome:
    oj, oc = true_measures(shingles, sets[origin]) if origin is not None else (0.0, 0.0)
    pj, pc = true_measures(shingles, sets[partner]) if partner is not None else (0.0, 0.0)
    ratio, nearest = 0.0, oj
    if origin is not None and shingles and sets[origin]:
        sizes = sorted((len(shingles), len(sets[origin])))
        ratio = sizes[1] / sizes[0]
    if origin is None:
        nearest = max((true_measures(shingles, other)[0] for other in sets.values()), default=0.0)
    return Outcome(kind, origin, partner, estimate, oj, oc, pj, pc, ratio, nearest)


def summarise(outcomes: list[Outcome], s: DedupSettings) -> dict[str, float]:
    merged = [o for o in outcomes if o.partner is not None]
    right = [o for o in merged if o.partner == o.origin]
    justified = [o for o in merged if o.partner_j >= s.threshold or o.partner_c >= s.containment]
    high = [o for o in outcomes if o.origin is not None and o.origin_j >= s.threshold]
    contained = [o for o in outcomes if o.origin is not None and o.origin_j < s.threshold
                 and o.origin_c >= s.containment]
    gray = [o for o in outcomes if o.origin is not None and o.origin_j < s.threshold
            and o.origin_c < s.containment]
    low = [o for o in merged if o.partner_j < 0.5]
    return {
        "queries": len(outcomes),
        "merges": len(merged),
        "precision": len(right) / len(merged) if merged else 1.0,
        "precision_measured": len(justified) / len(merged) if merged else 1.0,
        "pairs_j_ge_threshold": len(high),
        "recall_j_ge_threshold": recall(high),
        "pairs_containment_only": len(contained),
        "recall_containment_only": recall(contained),
        "gray_pairs": len(gray),
        "gray_merged": sum(o.partner == o.origin for o in gray),
        "merges_below_0.5": len(low),
        "merges_below_0.5_by_containment": sum(o.partner_c >= s.containment for o in low),
        "merges_below_0.5_wrong": sum(o.partner != o.origin for o in low),
    }


def recall(pairs: list[Outcome]) -> float:
    return sum(o.partner == o.origin for o in pairs) / len(pairs) if pairs else 1.0


def print_kinds(outcomes: list[Outcome]) -> None:
    """Per kind: true Jaccard with the origin (with the nearest stored record
    for queries without one), merges, and merges to the right record."""
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.kind].append(o)
    print(f"{'kind':<22}{'n':>6}{'true J min/med/max':>20}{'merged':>8}{'right':>7}{'wrong':>7}")
    for kind, group in by_kind.items():
        js = [o.nearest_j for o in group]
        merged = [o for o in group if o.partner is not None]
        right = sum(o.partner == o.origin for o in merged)
        span = f"{min(js):.2f}/{statistics.median(js):.2f}/{max(js):.2f}"
        print(f"{kind:<22}{len(group):>6}{span:>20}{len(merged):>8}{right:>7}"
              f"{len(merged) - right:>7}")


def print_containment(outcomes: list[Outcome], s: DedupSettings) -> None:
    """Recall of contained pairs (J below threshold) by size ratio: the LSH limit."""
    buckets = ((1.0, 1.5), (1.5, 2.0), (2.0, 2.5), (2.5, 3.0), (3.0, 99.0))
    pairs = [o for o in outcomes if o.origin is not None and o.origin_j < s.threshold
             and o.origin_c >= s.containment]
    for lo, hi in buckets:
        group = [o for o in pairs if lo <= o.size_ratio < hi]
        if group:
            print(f"  contained, size ratio {lo:.1f}-{hi:.1f}: {len(group):>4} pairs, "
                  f"recall {recall(group):.3f}")


def print_misses(outcomes: list[Outcome], s: DedupSettings, limit: int = 15) -> None:
    misses = [o for o in outcomes if o.origin is not None and o.origin_j >= s.threshold
              and o.partner != o.origin]
    wrong = [o for o in outcomes if o.partner is not None and o.partner != o.origin]
    for o in (misses + wrong)[:limit]:
        print(f"  {o.kind:<20} origin={o.origin} partner={o.partner} est={o.estimate:.3f} "
              f"J={o.origin_j:.3f} C={o.origin_c:.3f} partner J={o.partner_j:.3f}")


def print_summary(m: dict[str, float]) -> None:
    for key, value in m.items():
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"  {key:<34}{text}")


def targets(m: dict[str, float]) -> list[tuple[str, bool]]:
    return [
        ("precision >= 0.99", m["precision"] >= 0.99),
        ("recall >= 0.95 (true J >= threshold)", m["recall_j_ge_threshold"] >= 0.95),
        ("no merge below J 0.5 without containment",
         m["merges_below_0.5"] == m["merges_below_0.5_by_containment"]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="scrapinghub ground-truth.json (generated text if absent)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=DedupSettings().threshold)
    parser.add_argument("--containment", type=float, default=DedupSettings().containment)
    parser.add_argument("--num-perm", type=int, default=DedupSettings().num_perm)
    parser.add_argument("--verbose", action="store_true", help="list misses and wrong merges")
    args = parser.parse_args(argv)
    s = DedupSettings(threshold=args.threshold, containment=args.containment,
                      num_perm=args.num_perm)
    bases, source = load_bases(args.data)
    corpus = build_corpus(bases, args.seed, source)
    print(f"base texts: {len(bases)} from {source}; settings: {s}")
    print(f"stored records: {len(corpus.stored)}, queries: {len(corpus.queries)}\n")
    start = time.perf_counter()
    outcomes, timing = evaluate(corpus, s)
    print_kinds(outcomes)
    print_containment(outcomes, s)
    metrics = summarise(outcomes, s)
    print("\nsummary")
    print_summary(metrics | timing | {"seconds": time.perf_counter() - start})
    if args.verbose:
        print("\nmisses (true J >= threshold, not merged) and wrong merges")
        print_misses(outcomes, s)
    stress, _ = evaluate(build_brief_stress(bases, args.seed, source), s)
    print("\nstress (not in the targets): 10-30-word briefs under an 85-word template")
    print_kinds(stress)
    print("\ntargets")
    results = targets(metrics)
    for name, ok in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
