"""Language identification: accuracy and cost on French and English news, beside the
declared language.

Data (``--data``, default ``../shared/data``):

- French: ``wikinews-fr/fr.jsonl`` (733 articles: body and title);
- English: the ground-truth bodies of ``scrapinghub-aeb`` (bodies only) and
  ``wcxb-dev-articles`` (bodies and titles). aeb is multilingual: the 20
  bodies listed in ``bench/langid_labels.json`` (checked by hand) are not
  English; they are scored apart ("other languages") and left out of the
  French/English figures.

A fixed share of every data set is held back: ids whose BLAKE2b hash falls in
the last 30% (``held_out``). Thresholds in ``ingest/language.py`` were tuned
on the rest only; the held-out figures are the ones to trust.

The declared language is what the page's HTML says (``<html lang>``,
``og:locale``, ``Content-Language`` meta; ``ingest.extract.page.page_language``);
Wikinews texts come without their HTML, so their declared language is the
site's (``fr``) and is printed as such.

Run: ``python bench/langid.py [--data DIR]``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lxml.html import fromstring

from ingest.clean.language import identify
from ingest.extract.page import page_language

LABELS = Path(__file__).with_name("langid_labels.json")


@dataclass(frozen=True)
class Doc:
    dataset: str
    id: str
    language: str
    body: str
    title: str | None
    declared: str | None


def held_out(doc_id: str) -> bool:
    """The fixed held-back split: 30% of ids, by hash (never tuned on)."""
    return hashlib.blake2b(doc_id.encode()).digest()[0] >= 180


def _declared(html_gz: Path) -> str | None:
    try:
        return page_language(fromstring(gzip.decompress(html_gz.read_bytes())))
    except (OSError, ValueError):
        return None


def load(data: Path) -> Iterator[Doc]:
    labels = json.loads(LABELS.read_text())["scrapinghub-aeb"]
    with open(data / "wikinews-fr" / "fr.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            yield Doc("wikinews-fr", row["id"], "fr", row["text"], row["title"], "fr")
    aeb = data / "scrapinghub-aeb"
    for doc_id, row in json.loads((aeb / "ground-truth.json").read_text()).items():
        yield Doc("scrapinghub-aeb", doc_id, labels.get(doc_id, "en"), row["articleBody"],
                  None, _declared(aeb / "html" / f"{doc_id}.html.gz"))
    wcxb = data / "wcxb-dev-articles"
    for path in sorted((wcxb / "ground-truth").glob("*.json")):
        truth = json.loads(path.read_text())["ground_truth"]
        yield Doc("wcxb-dev-articles", path.stem, "en", truth.get("main_content") or "",
                  truth.get("title"), _declared(wcxb / "html" / f"{path.stem}.html.gz"))


def _row(name: str, docs: list[Doc], field: str, *, hint: bool = False) -> dict[str, object]:
    texts = [(d, d.body if field == "body" else d.title or "") for d in docs]
    texts = [(d, t) for d, t in texts if t.strip()]
    times, right, declared_right, misses = [], 0, 0, []
    for doc, text in texts:
        start = time.perf_counter()
        guess = identify(text, declared=doc.declared if hint else None)
        times.append(time.perf_counter() - start)
        right += guess.language == doc.language
        declared_right += doc.declared == doc.language
        if guess.language != doc.language:
            misses.append(f"{doc.dataset}/{doc.id[:16]}: {guess.language} {text[:60]!r}")
    n = len(texts)
    times.sort()
    return {"set": name, "field": field + (" +declared" if hint else ""), "n": n,
            "accuracy": round(right / n, 4) if n else None,
            "declared_accuracy": round(declared_right / n, 4) if n else None,
            "ms_mean": round(1000 * statistics.fmean(times), 3) if n else None,
            "ms_p99": round(1000 * times[min(n - 1, int(0.99 * n))], 3) if n else None,
            "misses": misses[:8]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    identify("warm the model up, once per process")
    docs = list(load(args.data))
    fr_en = [d for d in docs if d.language in ("fr", "en")]
    other = [d for d in docs if d.language not in ("fr", "en")]
    rows = []
    for split, keep in (("dev", False), ("held_out", True)):
        part = [d for d in fr_en if held_out(d.id) == keep]
        for lang in ("fr", "en"):
            subset = [d for d in part if d.language == lang]
            rows.append(_row(f"{split} {lang}", subset, "body"))
            rows.append(_row(f"{split} {lang}", subset, "title"))
            rows.append(_row(f"{split} {lang}", subset, "title", hint=True))
        rows.append(_row(f"{split} fr+en", part, "body"))
        rows.append(_row(f"{split} fr+en", part, "title"))
    rows.append(_row("other languages (aeb)", other, "body"))
    print(f"{'set':24} {'field':18} {'n':>5} {'accuracy':>9} {'declared':>9} "
          f"{'ms mean':>8} {'ms p99':>7}")
    for row in rows:
        print(f"{row['set']:24} {row['field']:18} {row['n']:>5} {row['accuracy']!s:>9} "
              f"{row['declared_accuracy']!s:>9} {row['ms_mean']!s:>8} {row['ms_p99']!s:>7}")
        if args.show_misses:
            for miss in row["misses"]:  # type: ignore[attr-defined]
                print("      ", miss)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
    print(json.dumps(rows, ensure_ascii=False), file=sys.stderr)


if __name__ == "__main__":
    main()
