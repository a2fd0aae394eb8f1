"""Loaders for the quality benchmark's data sets (read-only, in ../shared/data).

Each case is a small picklable record; the HTML is read in the worker, so the
parent process stays light.

The held-back split (:func:`held_back`) is fixed by a hash of the page id, the
convention ``bench/langid.py`` uses: about 30 % of each data set, never used
for tuning, only measured.

Example::

    cases = list(scrapinghub_cases(Path("../shared/data")))
    held = [c for c in cases if held_back(c.case_id)]

>>> held_back("0a1b"), split_of("0a1b")
(False, 'tune')
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    dataset: str
    case_id: str
    html_path: str
    url: str | None
    truth: str
    without: tuple[str, ...] = field(default_factory=tuple)

    def html(self) -> bytes:
        with gzip.open(self.html_path, "rb") as fh:
            return fh.read()


HELD_FIRST_BYTE = 180
SPLITS = ("tune", "held")


def held_back(case_id: str) -> bool:
    """True for the held-back split: the first byte of the id's BLAKE2b digest is >= 180.

    Chosen once, before any per-page result was looked at (issue 16, part 7); the
    same rule for every data set, so a new data set gets its split without choice.
    """
    return hashlib.blake2b(case_id.encode()).digest()[0] >= HELD_FIRST_BYTE


def split_of(case_id: str) -> str:
    """``"held"`` or ``"tune"``: the split a page id belongs to."""
    return "held" if held_back(case_id) else "tune"


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def scrapinghub_cases(data: Path) -> Iterator[Case]:
    root = data / "scrapinghub-aeb"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    for case_id in sorted(truth):
        item = truth[case_id]
        yield Case("scrapinghub-aeb", case_id, str(root / "html" / f"{case_id}.html.gz"),
                   item.get("url"), item.get("articleBody") or "")


def wcxb_cases(data: Path) -> Iterator[Case]:
    """WCXB dev articles; "without" snippets that also occur in the truth are left out
    (they cannot leak: the article itself contains them)."""
    root = data / "wcxb-dev-articles"
    for path in sorted((root / "ground-truth").glob("*.json")):
        item = json.loads(path.read_text(encoding="utf-8"))
        gt = item.get("ground_truth", {})
        main = gt.get("main_content") or ""
        without = tuple(s for s in gt.get("without") or () if _norm(s) not in _norm(main))
        yield Case("wcxb-dev-articles", path.stem, str(root / "html" / f"{path.stem}.html.gz"),
                   item.get("url"), main, without)
