"""Language labels for ``dedup_quality.py``: wrong declarations and translations (issue 12).

Since issue 12 no dedup decision looks at a language; the label is only
stored in the fingerprint. These helpers put labels on the labelled set so
the bench can show that (the same decisions whatever the labels), and how
the rule dedup applied before (:func:`same_language`, from ``ingest/dedup.py``
at the commit before issue 12) would have decided on the same labels:

- a record's *true* language: aeb's hand-checked labels
  (``bench/langid_labels.json``), English for every other aeb body, French
  for wikinews-fr; a query has its origin's (or, without one, its own text's);
- a *declared* label: what a page claims (the label stored before issue 12),
  e.g. a French site's template saying ``fr`` on an English wire copy;
- an *identified* label: ``identify(text, declared=claim).language``, the
  label the pipeline stores now.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dedup_corpus import Corpus, Doc

from ingest.clean.language import identify
from ingest.dedup.index import Fingerprint, NearDuplicateIndex, choose
from ingest.dedup.minhash import shingle_set, tokens
from ingest.langtags import primary_tag
from ingest.types import DedupDecision

HAND_LABELS = Path(__file__).with_name("langid_labels.json")
FR_OFFSET = 1_000_000
"""French record ids in the mixed index start here."""
TRUE = "*"
"""In a scenario: each text declared as its true language."""


@dataclass(frozen=True)
class Labels:
    """The language stored with each record's and each query's fingerprint."""

    stored: Mapping[int, str | None]
    queries: Sequence[str | None]


@dataclass(frozen=True)
class Scenario:
    name: str
    stored: str | None  # what every stored record's page declares (TRUE: its true language)
    query: str | None  # what every query's page declares
    identified: bool  # label = identify(text, declared=...) instead of the declaration


SCENARIOS = (
    Scenario("declared: copy fr (French site template)", TRUE, "fr", False),
    Scenario("declared: original fr, copy true", "fr", TRUE, False),
    Scenario("declared: copy und", TRUE, "und", False),
    Scenario("declared: copy None (undeclared)", TRUE, None, False),
    Scenario("identified: copy declared fr", TRUE, "fr", True),
    Scenario("identified: original declared fr", "fr", TRUE, True),
)


def same_language(a: str | None, b: str | None) -> bool:
    """Dedup's rule before issue 12: French and English versions are different
    records; an unknown (None) language matches any."""
    a, b = primary_tag(a), primary_tag(b)
    return a is None or b is None or a == b


def gated_find(index: NearDuplicateIndex, fp: Fingerprint,
               lookup: dict[int, Fingerprint]) -> DedupDecision:
    """``index.find`` as it was before issue 12: candidates whose stored language
    is incompatible with the query's are dropped before confirmation."""
    ids = [i for i in index.candidates(fp) if same_language(fp.language, lookup[i].language)]
    return choose(fp, ((i, lookup[i]) for i in ids), index.settings)


@cache
def identified(text: str, declared: str | None) -> str | None:
    return identify(text, declared=declared).language


def base_languages(path: Path | None, bases: list[str]) -> list[str]:
    """Each aeb base's language: the hand-checked labels, English for the rest."""
    hand: dict[str, str] = {}
    if path is not None and path.exists() and HAND_LABELS.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        labels = json.loads(HAND_LABELS.read_text(encoding="utf-8")).get("scrapinghub-aeb", {})
        hand = {data[k].get("articleBody", ""): lang for k, lang in labels.items() if k in data}
    return [hand.get(b, "en") for b in bases]


def _start(text: str) -> str:
    return " ".join(text.split()[:10])


def true_labels(corpus: Corpus, bases: list[str], languages: list[str]) -> Labels:
    """Stored records and origin-less queries by the base their text starts with
    (a brief starts with its story's words); a query with an origin by its origin."""
    by_start = {_start(b): lang for b, lang in zip(bases, languages, strict=True)}
    stored = {d.doc_id: by_start.get(_start(d.text), "en") for d in corpus.stored}
    queries = [stored[q.origin] if q.origin is not None else by_start.get(_start(q.text), "en")
               for q in corpus.queries]
    return Labels(stored, queries)


def scenario_labels(corpus: Corpus, truth: Labels, sc: Scenario) -> Labels:
    def label(text: str, true: str | None, declared: str | None) -> str | None:
        claim = true if declared == TRUE else declared
        return identified(text, claim) if sc.identified else claim

    stored = {d.doc_id: label(d.text, truth.stored[d.doc_id], sc.stored) for d in corpus.stored}
    queries = [label(q.text, truth.queries[k], sc.query) for k, q in enumerate(corpus.queries)]
    return Labels(stored, queries)


def gated_off(corpus: Corpus, labels: Labels) -> int:
    """Queries with an origin whose label the old rule finds incompatible with it."""
    return sum(q.origin is not None and not same_language(labels.queries[k],
                                                          labels.stored[q.origin])
               for k, q in enumerate(corpus.queries))


def load_french(path: Path) -> list[str]:
    """wikinews-fr bodies (``lang`` is the source's, not a guess)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r["text"] for r in rows if r.get("lang") == "fr"]


def mixed_corpus(english: Corpus, french: Corpus) -> Corpus:
    """Both labelled sets in one index: French ids shifted, French kinds prefixed."""
    def shift(i: int | None) -> int | None:
        return None if i is None else i + FR_OFFSET

    stored = english.stored + tuple(Doc(d.doc_id + FR_OFFSET, d.kind, d.text, shift(d.origin))
                                    for d in french.stored)
    n = len(english.queries)
    queries = english.queries + tuple(Doc(n + k, "fr " + q.kind, q.text, shift(q.origin))
                                      for k, q in enumerate(french.queries))
    return Corpus(stored, queries, f"{english.source} + {french.source}")


def mixed_labels(mixed: Corpus, truth: Labels) -> Labels:
    """Stored records identified with their true language declared; every query
    identified with the *other* language declared (English copies on a French
    site, French copies on an English one)."""
    def other(lang: str | None) -> str:
        return "en" if lang == "fr" else "fr"

    stored = {d.doc_id: identified(d.text, truth.stored[d.doc_id]) for d in mixed.stored}
    queries = [identified(q.text, other(truth.queries[k])) for k, q in enumerate(mixed.queries)]
    return Labels(stored, queries)


def mixed_truth(english: Labels, mixed: Corpus) -> Labels:
    stored = {d.doc_id: english.stored.get(d.doc_id, "en") if d.doc_id < FR_OFFSET else "fr"
              for d in mixed.stored}
    n = len(english.queries)
    return Labels(stored, [*english.queries, *["fr"] * (len(mixed.queries) - n)])


def cross_merges(partners: list[int | None], truth: Labels) -> Counter[str]:
    """Merges whose query and record differ in true language, by pair (``en-fr``)."""
    out: Counter[str] = Counter()
    for k, partner in enumerate(partners):
        if partner is not None:
            a, b = truth.queries[k], truth.stored[partner]
            if a != b:
                out["-".join(sorted((str(a), str(b))))] += 1
    return out


def shared_shingles(french: list[str], english: list[str], k: int) -> tuple[int, int, float]:
    """French/English text pairs, those sharing any k-word shingle, their largest true Jaccard."""
    sets = [shingle_set(tokens(t), k) for t in english]
    owners: dict[bytes, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            owners[sh].append(i)
    sharing, best = 0, 0.0
    for text in french:
        fr = shingle_set(tokens(text), k)
        inter = Counter(i for sh in fr for i in owners.get(sh, ()))
        sharing += len(inter)
        best = max([best, *(n / (len(fr) + len(sets[i]) - n) for i, n in inter.items())])
    return len(french) * len(english), sharing, best
