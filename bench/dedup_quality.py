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

Issue 12 (dedup never looks at a language; ``dedup_declared``): the same
queries again with every fingerprint carrying a language label, declared
wrongly (``fr`` on an English copy, ``und``, None) or identified from the text
with that declaration; decided now and as the language gate did before. And
a translation hard negative: aeb and wikinews-fr (``--french``) in one index,
where no French text may merge with an English one. Both are targets too.
Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_corpus import Corpus, build_brief_stress, build_corpus, load_bases  # noqa: E402
from dedup_declared import (  # noqa: E402
    FR_OFFSET,
    SCENARIOS,
    Labels,
    base_languages,
    cross_merges,
    gated_find,
    gated_off,
    load_french,
    mixed_corpus,
    mixed_labels,
    mixed_truth,
    scenario_labels,
    shared_shingles,
    true_labels,
)

from ingest.config import DedupSettings  # noqa: E402
from ingest.dedup.index import Fingerprint, Fingerprinter, NearDuplicateIndex  # noqa: E402
from ingest.dedup.minhash import shingle_set, tokens  # noqa: E402
from ingest.langtags import primary_tag  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DEFAULT_DATA = DATA / "scrapinghub-aeb" / "ground-truth.json"
DEFAULT_FRENCH = DATA / "wikinews-fr" / "fr.jsonl"


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


@dataclass(frozen=True)
class Prepared:
    """A corpus's fingerprints (no language) and clean shingle sets, computed once
    for every labelling; ``nearest``: origin-less queries' best true Jaccard (0 when
    not asked for); ``seen``: outcomes by (query, partner), which labels do not change."""

    corpus: Corpus
    stored: dict[int, Fingerprint]
    queries: list[Fingerprint]
    sets: dict[int, set[bytes]]
    query_sets: list[set[bytes]]
    nearest: list[float]
    seen: dict[tuple[int, int | None], Outcome] = field(default_factory=dict)


def prepare(corpus: Corpus, settings: DedupSettings, *, nearest: bool = True) -> Prepared:
    make = Fingerprinter(settings)
    k = settings.shingle_size
    sets = {d.doc_id: shingle_set(tokens(d.text), k) for d in corpus.stored}
    query_sets = [shingle_set(tokens(q.text), k) for q in corpus.queries]
    best = [0.0 if q.origin is not None or not nearest else
            max((true_measures(qs, other)[0] for other in sets.values()), default=0.0)
            for q, qs in zip(corpus.queries, query_sets, strict=True)]
    return Prepared(corpus, {d.doc_id: make(d.text, None) for d in corpus.stored},
                    [make(q.text, None) for q in corpus.queries], sets, query_sets, best)


def evaluate(p: Prepared, settings: DedupSettings, labels: Labels | None = None, *,
             gated: bool = False) -> tuple[list[Outcome], dict[str, float]]:
    """Every query decided alone against the warm-loaded records. ``labels``: the
    language each fingerprint carries; ``gated``: decide as before issue 12."""
    stored = p.stored if labels is None else {
        i: replace(fp, language=primary_tag(labels.stored[i])) for i, fp in p.stored.items()}
    index = NearDuplicateIndex(settings, stored.get)
    index.load((i, fp.n_shingles, fp.bands) for i, fp in stored.items())
    outcomes, find_ms = [], []
    for k, q in enumerate(p.corpus.queries):
        fp = p.queries[k] if labels is None else replace(
            p.queries[k], language=primary_tag(labels.queries[k]))
        start = time.perf_counter()
        decision = gated_find(index, fp, stored) if gated else index.find(fp)
        find_ms.append((time.perf_counter() - start) * 1e3)
        key = (k, decision.duplicate_of)
        if key not in p.seen:
            p.seen[key] = outcome(q.kind, q.origin, decision.duplicate_of, decision.similarity,
                                  p.query_sets[k], p.sets, p.nearest[k])
        outcomes.append(p.seen[key])
    timing = {"find_median_ms": statistics.median(find_ms), "find_max_ms": max(find_ms)}
    return outcomes, timing


def outcome(kind: str, origin: int | None, partner: int | None, estimate: float,
            shingles: set[bytes], sets: dict[int, set[bytes]], nearest_j: float) -> Outcome:
    oj, oc = true_measures(shingles, sets[origin]) if origin is not None else (0.0, 0.0)
    pj, pc = true_measures(shingles, sets[partner]) if partner is not None else (0.0, 0.0)
    ratio = 0.0
    if origin is not None and shingles and sets[origin]:
        sizes = sorted((len(shingles), len(sets[origin])))
        ratio = sizes[1] / sizes[0]
    return Outcome(kind, origin, partner, estimate, oj, oc, pj, pc, ratio,
                   oj if origin is not None else nearest_j)


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


def cells(m: dict[str, float]) -> str:
    return (f"{m['merges']:>7}{m['precision']:>8.4f}{m['recall_j_ge_threshold']:>8.4f}"
            f"{m['recall_containment_only']:>8.4f}")


HEAD = f"{'merges':>7}{'prec':>8}{'rec J':>8}{'rec C':>8}"


def print_declared(p: Prepared, s: DedupSettings, truth: Labels,
                   base: list[Outcome]) -> bool:
    """The same queries with a language in every fingerprint, decided now
    (language-blind) and as before issue 12 (language-gated). True when no
    language-blind figure falls below the existing cases'."""
    print("\nwrong declarations (issue 12): the same queries, each fingerprint carrying a language")
    print("  declared: the page's claim (what was stored before issue 12); identified:")
    print("  ingest.clean.language.identify(text, declared=claim).language (what is stored now)")
    print("  differ: pairs whose two labels the old rule holds apart; prec = precision,")
    print("  rec J = recall of pairs with true J >= threshold, rec C = containment-only pairs")
    print(f"  {'':<42}{'pairs':>7}  {'language-blind (now)':<31}  language-gated (before issue 12)")
    print(f"  {'labels':<42}{'differ':>7}  {HEAD}  {HEAD}")
    ref = summarise(base, s)
    keys = ("precision", "recall_j_ge_threshold", "recall_containment_only")
    ok, same = True, 0
    rows: list[tuple[str, Labels | None]] = [("none (the existing cases)", None)]
    rows += [(sc.name, scenario_labels(p.corpus, truth, sc)) for sc in SCENARIOS]
    for name, labels in rows:
        blind_outcomes, _ = evaluate(p, s, labels)
        blind = summarise(blind_outcomes, s)
        gated = summarise(evaluate(p, s, labels, gated=True)[0], s)
        differ = gated_off(p.corpus, labels) if labels else 0
        print(f"  {name:<42}{differ:>7}  {cells(blind)}  {cells(gated)}")
        ok = ok and all(blind[key] >= ref[key] for key in keys)
        same += [o.partner for o in blind_outcomes] == [o.partner for o in base]
    print(f"  language-blind decisions identical to the existing cases' in {same} of {len(rows)} "
          f"labellings ({len(base)} queries each)")
    return ok


def print_translation(english: Corpus, truth: Labels, bases: list[str], languages: list[str],
                      path: Path, s: DedupSettings, seed: int) -> Counter[str] | None:
    """aeb and wikinews-fr labelled sets in one index, copies declared in the other
    language: no French text may merge with an English one."""
    if not path.exists():
        print(f"\ntranslation hard negatives: skipped ({path} not found)")
        return None
    fr_bases = load_french(path)
    mixed = mixed_corpus(english, build_corpus(fr_bases, seed, str(path)))
    p = prepare(mixed, s, nearest=False)
    mtruth = mixed_truth(truth, mixed)
    labels = mixed_labels(mixed, mtruth)
    n_fr = len(mixed.stored) - len(english.stored)
    print(f"\ntranslation hard negatives: aeb ({len(english.stored)} records, "
          f"{len(english.queries)} queries) and wikinews-fr ({n_fr} records, "
          f"{len(mixed.queries) - len(english.queries)} queries) in one index; every query")
    print("  identified with the other language declared (stored records: their own)")
    print(f"  {'':<34}{'fr-en':>7}{'other':>7}  {'aeb queries':<31}  French queries")
    print(f"  {'':<34}{'merges':>7}{'cross':>7}  {HEAD}  {HEAD}")
    blind_cross: Counter[str] | None = None
    wrong: list[Outcome] = []
    for name, gated in (("language-blind (now)", False),
                        ("language-gated (before issue 12)", True)):
        outcomes, _ = evaluate(p, s, labels, gated=gated)
        cross = cross_merges([o.partner for o in outcomes], mtruth)
        en = summarise([o for o in outcomes if not o.kind.startswith("fr ")], s)
        fr = summarise([o for o in outcomes if o.kind.startswith("fr ")], s)
        print(f"  {name:<34}{cross['en-fr']:>7}{sum(cross.values()) - cross['en-fr']:>7}  "
              f"{cells(en)}  {cells(fr)}")
        if blind_cross is None:
            blind_cross = cross
            wrong = [o for o in outcomes if o.kind.startswith("fr ") and o.partner is not None
                     and o.partner != o.origin]
    justified = sum(o.partner_j >= s.threshold or o.partner_c >= s.containment for o in wrong)
    into_french = sum((o.partner or 0) >= FR_OFFSET for o in wrong)
    print(f"  French wrong merges (language-blind): {len(wrong)}, {into_french} into French "
          f"records, {justified} with true J >= {s.threshold} or containment >= {s.containment}")
    print("  (wikinews-fr keeps 'Sur le meme sujet' link lists and many short dispatches: the")
    print("  generator's extended and truncated copies can contain another record whole)")
    english_only = [b for b, lang in zip(bases, languages, strict=True) if lang == "en"]
    pairs, sharing, best = shared_shingles(fr_bases, english_only, s.shingle_size)
    print(f"  French x English base texts: {pairs:,} pairs, {sharing:,} share a "
          f"{s.shingle_size}-word shingle, largest true Jaccard {best:.4f}")
    return blind_cross


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
    parser.add_argument("--french", type=Path, default=DEFAULT_FRENCH,
                        help="wikinews-fr fr.jsonl for the translation hard negatives "
                             "(section skipped if absent)")
    args = parser.parse_args(argv)
    s = DedupSettings(threshold=args.threshold, containment=args.containment,
                      num_perm=args.num_perm)
    bases, source = load_bases(args.data)
    corpus = build_corpus(bases, args.seed, source)
    print(f"base texts: {len(bases)} from {source}; settings: {s}")
    print(f"stored records: {len(corpus.stored)}, queries: {len(corpus.queries)}\n")
    start = time.perf_counter()
    prepared = prepare(corpus, s)
    outcomes, timing = evaluate(prepared, s)
    print_kinds(outcomes)
    print_containment(outcomes, s)
    metrics = summarise(outcomes, s)
    print("\nsummary")
    print_summary(metrics | timing | {"seconds": time.perf_counter() - start})
    if args.verbose:
        print("\nmisses (true J >= threshold, not merged) and wrong merges")
        print_misses(outcomes, s)
    stress, _ = evaluate(prepare(build_brief_stress(bases, args.seed, source), s), s)
    print("\nstress (not in the targets): 10-30-word briefs under an 85-word template")
    print_kinds(stress)
    start = time.perf_counter()
    languages = base_languages(args.data, bases)
    truth = true_labels(corpus, bases, languages)
    declared_ok = print_declared(prepared, s, truth, outcomes)
    cross = print_translation(corpus, truth, bases, languages, args.french, s, args.seed)
    print(f"  (wrong-declaration and translation sections: {time.perf_counter() - start:.1f} s)")
    print("\ntargets")
    results = targets(metrics)
    results.append(("wrong declarations: precision and recall not below the existing cases",
                    declared_ok))
    if cross is not None:
        results.append(("no French-English merge (translation hard negatives)",
                        cross["en-fr"] == 0))
    for name, ok in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
