"""The seed articles rendered as HTML pages in several layouts, and their check.

A rule that only works when boilerplate sits in its own ``<p>`` is not a rule,
so each seed is laid out as publishers do: lines in ``<p>``, in ``<div>``,
split by ``<br>``, the body doubled (flattened copy before or after the
structured one), and with the widgets in labelled markup. The check: no
boilerplate line survives and every body line appears exactly once.

Example::

    pages = list(render_layouts(load_seed(Path("../shared/seeds"), "000_b0e8cb45632d7115.txt",
                                          annotations["000_b0e8cb45632d7115.txt"])))
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ANNOTATIONS = Path(__file__).resolve().parent.parent / "tests/fixtures/clean/seeds.json"
_WIDGET_CLASS = {0: "share-buttons", 2: "share-count", 4: "photo-credit", 8: "ad-slot",
                 16: "author-box", 17: "author-box", 18: "author-box", 29: "disclaimer"}


@dataclass(frozen=True)
class Seed:
    name: str
    title: str
    lines: tuple[str, ...]  # non-blank lines, in file order
    labels: tuple[str, ...]  # "body", "title", "boilerplate" or "copy" per line
    author: str | None

    @property
    def body(self) -> list[str]:
        return [t for t, lab in zip(self.lines, self.labels, strict=True) if lab == "body"]

    @property
    def boilerplate(self) -> list[str]:
        return [t for t, lab in zip(self.lines, self.labels, strict=True) if lab == "boilerplate"]


def load_annotations(path: Path = ANNOTATIONS) -> dict[str, dict[str, object]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def load_seed(seeds_dir: Path, name: str, note: dict[str, object]) -> Seed:
    raw = (seeds_dir / name).read_text(encoding="utf-8")
    lines = tuple(line.strip() for line in raw.split("\n") if line.strip())
    labels = []
    for i in range(len(lines)):
        if i == note["title"]:
            labels.append("title")
        elif i in note["boilerplate"]:  # type: ignore[operator]
            labels.append("boilerplate")
        elif i in note["copy"]:  # type: ignore[operator]
            labels.append("copy")
        else:
            labels.append("body")
    title = lines[int(note["title"])]  # type: ignore[call-overload]
    return Seed(name, title, lines, tuple(labels), note.get("author"))  # type: ignore[arg-type]


def _page(title: str, inner: str) -> str:
    t = html.escape(title)
    return (f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>{t}</title>"
            f"</head><body><header><nav><a href='/'>Accueil</a></nav></header><main><article>"
            f"<h1>{t}</h1>{inner}</article></main><footer>© Site</footer></body></html>")


def _wrap(lines: list[str], tag: str) -> str:
    if tag == "br":
        return "<div>" + "<br>".join(html.escape(t) for t in lines) + "</div>"
    return "".join(f"<{tag}>{html.escape(t)}</{tag}>" for t in lines)


def _own_lines(seed: Seed) -> list[str]:
    """The page's lines without its title line or an existing flattened copy."""
    return [t for t, lab in zip(seed.lines, seed.labels, strict=True)
            if lab in ("body", "boilerplate")]


def _semantic(seed: Seed) -> str:
    parts = []
    for i, (text, label) in enumerate(zip(seed.lines, seed.labels, strict=True)):
        if label in ("title", "copy"):
            continue
        cls = _WIDGET_CLASS.get(i) if label == "boilerplate" else None
        tag = f"<div class='{cls}'><span>" if cls else "<p>"
        end = "</span></div>" if cls else "</p>"
        parts.append(f"{tag}{html.escape(text)}{end}")
    return "".join(parts)


def render_layouts(seed: Seed) -> Iterator[tuple[str, str]]:
    """(layout name, HTML page) for every layout of one seed."""
    own = _own_lines(seed)
    flat = " ".join(seed.body)
    for tag in ("p", "div", "br"):
        yield f"as-is/{tag}", _page(seed.title, _wrap(list(seed.lines), tag))
        yield f"doubled-after/{tag}", _page(seed.title, _wrap([*own, seed.title, flat], tag))
        yield f"doubled-before/{tag}", _page(seed.title, _wrap([flat, *own], tag))
    yield "semantic", _page(seed.title, _semantic(seed))


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def check_seed(seed: Seed, text: str) -> list[str]:
    """Problems with one cleaned output: leaked boilerplate, missing or doubled body lines."""
    norm = _norm(text)
    problems = [f"boilerplate kept: {line[:50]!r}" for line in seed.boilerplate
                if _norm(line) in norm]
    for line in seed.body:
        count = norm.count(_norm(line))
        if count != 1:
            problems.append(f"body line x{count}: {line[:50]!r}")
    if norm.count(_norm(seed.title)) > 1:
        problems.append("title repeated in body")
    return problems
