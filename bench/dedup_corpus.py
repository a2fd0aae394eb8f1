"""The labelled set of ``dedup_quality.py``: stored records and queries, from text.

Why generated: no public set labels syndicated copies, template-heavy briefs
and doubled bodies with their *clean* texts, so the set is derived
deterministically (one ``random.Random(seed)``) from real article bodies
(scrapinghub's ``articleBody``), or from generated prose if those are absent.
Every query knows its origin (the stored record it was derived from, or
none), so a merge is right when it points at that origin::

    corpus = build_corpus(load_bases(Path("ground-truth.json")), seed=0)
    corpus.stored[0].text, corpus.queries[0].kind, corpus.queries[0].origin

Queries per stored article: an exact copy (tracking-parameter URL), an AMP
copy (other boilerplate lines), a syndicated copy (new headline and byline
plus 1-2 of: paragraph dropped, paragraph added, ad lines, light edits), a
doubled body, a truncated copy (contained) and an extended copy
(containing). Distinct-origin queries: held-out articles (unrelated), and
short briefs under the same long site template as stored briefs.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

AD_LINES = (
    "Advertisement",
    "Subscribe to our newsletter for the latest updates.",
    "Share this article on social media",
    "Read more: the ten most important stories of the week",
    "Sign up for our daily briefing, delivered to your inbox every morning.",
    "This content is sponsored by our partners.",
    "Open in app",
    "Listen to this article (4 min)",
    "Follow us on X, Facebook and Instagram",
    "Continue reading below",
)

TEMPLATES = (
    "About the author: our correspondent has covered technology and business for more "
    "than fifteen years, reporting from San Francisco, New York and London. Before joining "
    "the newsroom she worked as an analyst for an investment bank. Disclaimer: this article "
    "is provided for information only and does not constitute investment, legal or tax "
    "advice. Readers should consult a qualified professional before making any decision. "
    "The views expressed are those of the author and do not necessarily reflect the views "
    "of the publisher. Copyright all rights reserved.",
    "This brief was prepared by the markets desk using information from company filings, "
    "press releases and wire services. Prices are delayed by at least fifteen minutes and "
    "are provided as is, without warranty of any kind. Nothing in this brief should be read "
    "as a recommendation to buy or sell any security. Corrections and complaints can be sent "
    "to the standards editor, who will reply within two working days. Our journalism is "
    "funded by readers: support independent reporting by subscribing today.",
    "Reporting by the Paris bureau; editing by the international desk. Our standards: we "
    "verify every claim with at least two independent sources and label opinion clearly. "
    "If you have information about this story, contact us securely through the tip line "
    "listed on our website. This page may contain affiliate links; we may earn a commission "
    "when you buy through them, at no extra cost to you. Comments are moderated and closed "
    "after seven days.",
)


@dataclass(frozen=True)
class Doc:
    """A stored record (``origin`` is its own id) or a query (``origin`` is None if new)."""

    doc_id: int
    kind: str
    text: str
    origin: int | None


@dataclass(frozen=True)
class Corpus:
    stored: tuple[Doc, ...]
    queries: tuple[Doc, ...]
    source: str


def load_bases(path: Path | None, *, min_words: int = 80) -> tuple[list[str], str]:
    """Article bodies from a scrapinghub ground-truth JSON, else generated prose."""
    if path is not None and path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        bodies = [data[k].get("articleBody", "") for k in sorted(data)]
        return [b for b in bodies if len(b.split()) >= min_words], str(path)
    return generated_bases(180, random.Random(12345)), "generated text"


def generated_bases(n: int, rng: random.Random) -> list[str]:
    """Zipf-distributed pseudo-words in sentences and paragraphs, like news prose."""
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    vocab = sorted({"".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(6000)})
    weights = [1 / (rank + 1) for rank in range(len(vocab))]

    def sentence() -> str:
        words = rng.choices(vocab, weights, k=rng.randint(8, 25))
        return " ".join(words).capitalize() + "."

    def paragraph() -> str:
        return " ".join(sentence() for _ in range(rng.randint(2, 5)))

    return ["\n".join(paragraph() for _ in range(rng.randint(3, 12))) for _ in range(n)]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def build_corpus(bases: list[str], seed: int = 0, source: str = "") -> Corpus:
    """Stored records and labelled queries; the same bases and seed give the same corpus."""
    rng = random.Random(seed)
    n_stored = int(len(bases) * 0.7)
    n_briefs = (len(bases) - n_stored) // 2
    stored: list[Doc] = []
    queries: list[Doc] = []
    for i, body in enumerate(bases[:n_stored]):
        stored.append(Doc(i, "original", body, i))
        queries.extend(Doc(-1, kind, text, i) for kind, text in variants(body, bases, rng))
    queries.extend(Doc(-1, "unrelated", body, None) for body in bases[n_stored + n_briefs :])
    briefs(bases[n_stored : n_stored + n_briefs], stored, queries, rng, (40, 110))
    return _numbered(stored, queries, source)


def build_brief_stress(bases: list[str], seed: int = 0, source: str = "") -> Corpus:
    """Tiny briefs (10-30 words) under an 85-word template: where set similarity
    cannot tell stories apart, because the template is most of every text."""
    stored: list[Doc] = []
    queries: list[Doc] = []
    briefs(bases, stored, queries, random.Random(seed + 1), (10, 30))
    return _numbered(stored, queries, source)


def _numbered(stored: list[Doc], queries: list[Doc], source: str) -> Corpus:
    numbered = tuple(Doc(k, q.kind, q.text, q.origin) for k, q in enumerate(queries))
    return Corpus(tuple(stored), numbered, source)


def variants(body: str, bases: list[str], rng: random.Random) -> list[tuple[str, str]]:
    paras = paragraphs(body)
    other = paragraphs(rng.choice(bases))
    return [
        ("exact copy", body),
        ("amp copy", "\n".join(with_ads(paras, rng, 3))),
        ("syndicated", syndicate(paras, other, rng)),
        ("doubled body", body + "\n" + body),
        ("truncated", "\n".join(paras[: max(1, round(len(paras) * rng.uniform(0.5, 0.8)))])),
        ("extended", "\n".join(paras + other[: rng.randint(1, 3)])),
    ]


def syndicate(paras: list[str], other: list[str], rng: random.Random) -> str:
    """A copy from another site: own headline and byline, one or two edits."""
    words = " ".join(paras).split()
    headline = " ".join(rng.sample(words, min(len(words), rng.randint(6, 11))))
    out = [headline.capitalize(), f"By staff writers | {rng.choice(['AFP', 'Reuters', 'AP'])}"]
    edits = rng.sample(["drop", "add", "ads", "words"], rng.randint(1, 2))
    body = list(paras)
    if "drop" in edits and len(body) > 1:
        body.pop(rng.randrange(len(body)))
    if "add" in edits and other:
        body.insert(rng.randint(0, len(body)), rng.choice(other))
    if "ads" in edits:
        body = with_ads(body, rng, rng.randint(2, 4))
    if "words" in edits:
        body = [light_edit(p, rng) for p in body]
    return "\n".join(out + body)


def with_ads(paras: list[str], rng: random.Random, n: int) -> list[str]:
    out = list(paras)
    for line in rng.sample(AD_LINES, n):
        out.insert(rng.randint(0, len(out)), line)
    return out


def light_edit(paragraph: str, rng: random.Random) -> str:
    """Copy-editing: about 2% of words replaced (house style, typo fixes)."""
    words = paragraph.split()
    for _ in range(max(1, len(words) // 50)):
        if words:
            words[rng.randrange(len(words))] = rng.choice(["the", "said", "new", "also"])
    return " ".join(words)


def briefs(
    stories: list[str], stored: list[Doc], queries: list[Doc], rng: random.Random,
    size: tuple[int, int],
) -> None:
    """Short briefs (``size`` words) under one long site template.

    Half the stories are stored; the other half are queried under the same
    template (different stories: must stay new) and a few stored ones are
    queried again lightly edited (same story: must merge).
    """
    half = len(stories) // 2
    for k, story in enumerate(stories):
        template = TEMPLATES[k % len(TEMPLATES)]
        words = story.split()
        brief = " ".join(words[: rng.randint(*size)])
        text = brief + "\n" + template
        if k < half:
            doc_id = len(stored)
            stored.append(Doc(doc_id, "template brief", text, doc_id))
            if k % 3 == 0:
                queries.append(Doc(-1, "brief, same story", light_edit(brief, rng) + "\n"
                                   + template, doc_id))
        else:
            queries.append(Doc(-1, "brief, other story", text, None))
