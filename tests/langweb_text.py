"""The text grammar of :mod:`langweb`: seeded English and French news stories.

Every text of the loopback web is generated here from a seeded grammar of
paired English/French sentence templates (no text or template is shared with
``newsweb.py`` or ``fixtures/web``). The templates and the vocabulary they are
filled with are data, in ``fixtures/langweb/sentences.json`` and
``fixtures/langweb/vocabulary.json``, read once at import. A story is planned
once (:class:`Plan`: its :class:`Cast`, headline and :class:`Sentence` picks)
and rendered in a language (:class:`Story`), so a translation keeps the facts,
names and numbers and changes every word around them. Example::

    stories = generate_stories()           # same seed, same stories
    stories["t1"].plan == stories["w1"].plan    # t1 translates w1 into French

:data:`HARD_NEGATIVES` names the pairs of stories that must never share a record.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SEED = 20251122
Phrase = tuple[str, str]  # (English, French)
LANGS = ("en", "fr")

# --- the grammar -------------------------------------------------------------------
# Each sentence template exists in English and French with the same choice groups
# ``[a|b|c]`` (the same index is taken in both), so a story's plan renders in either
# language: a translation keeps the facts, names and numbers, and changes every word
# around them. Slots are filled from the story's cast.


@dataclass(frozen=True)
class Domain:
    """What a story is about: the nouns its sentences are filled with."""

    projects: tuple[Phrase, ...]
    groups: tuple[Phrase, ...]
    reasons: tuple[Phrase, ...]
    alts: tuple[Phrase, ...]
    orgs: tuple[str, ...]


# --- the grammar's data, read once from fixtures/langweb ------------------------------

DATA = Path(__file__).parent / "fixtures" / "langweb"


def _load(name: str) -> dict[str, object]:
    """The JSON object in ``DATA/name``."""
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TypeError(f"{name}: expected a JSON object")
    return data


def _words(value: object) -> tuple[str, ...]:
    """A JSON list of strings, as a tuple."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"expected a list of strings, got {value!r}")
    return tuple(value)


def _phrases(value: object) -> tuple[Phrase, ...]:
    """A JSON list of ``{"en": ..., "fr": ...}`` objects, as (English, French) pairs."""
    if not isinstance(value, list):
        raise TypeError(f"expected a list of phrases, got {value!r}")
    out: list[Phrase] = []
    for item in value:
        if not (isinstance(item, dict) and set(item) == set(LANGS)
                and isinstance(item["en"], str) and isinstance(item["fr"], str)):
            raise TypeError(f"expected {{\"en\": str, \"fr\": str}}, got {item!r}")
        out.append((item["en"], item["fr"]))
    return tuple(out)


def _domain(value: object) -> Domain:
    """One JSON domain object (``projects``, ``groups``, ``reasons``, ``alts``, ``orgs``)."""
    keys = {"projects", "groups", "reasons", "alts", "orgs"}
    if not isinstance(value, dict) or set(value) != keys:
        raise TypeError(f"expected a domain with keys {sorted(keys)}, got {value!r}")
    return Domain(_phrases(value["projects"]), _phrases(value["groups"]),
                  _phrases(value["reasons"]), _phrases(value["alts"]),
                  _words(value["orgs"]))


def _domains(value: object) -> tuple[Domain, ...]:
    """A JSON list of domain objects."""
    if not isinstance(value, list):
        raise TypeError(f"expected a list of domains, got {value!r}")
    return tuple(_domain(d) for d in value)


_TEMPLATES = _load("sentences.json")
_VOCABULARY = _load("vocabulary.json")

SENTENCES: tuple[Phrase, ...] = _phrases(_TEMPLATES["sentences"])
HEADLINES: tuple[Phrase, ...] = _phrases(_TEMPLATES["headlines"])
DOMAINS: tuple[Domain, ...] = _domains(_VOCABULARY["domains"])
FIRST_NAMES: tuple[str, ...] = _words(_VOCABULARY["first_names"])
LAST_NAMES: tuple[str, ...] = _words(_VOCABULARY["last_names"])
PLACES: tuple[str, ...] = _words(_VOCABULARY["places"])
ROLES: tuple[Phrase, ...] = _phrases(_VOCABULARY["roles"])
ROLES2: tuple[Phrase, ...] = _phrases(_VOCABULARY["roles2"])
DAYS: tuple[Phrase, ...] = _phrases(_VOCABULARY["days"])
MONTHS: tuple[Phrase, ...] = _phrases(_VOCABULARY["months"])

# --- filling the templates ------------------------------------------------------------

_CHOICE = re.compile(r"\[([^\[\]]*)\]")
# French elision and contraction after slot filling ("de le" -> "du", "de Ashcombe" -> ...).
_FR_CONTRACTIONS = ((re.compile(r"\bde le "), "du "), (re.compile(r"\bde les "), "des "),
                     (re.compile(r"\bà le "), "au "), (re.compile(r"\bà les "), "aux "))
_FR_ELISION = re.compile(r"\b([dD]e|[qQ]ue|[lL][ea]) (?=[aeiouéèêâîôAEIOUÉÈÊÂÎÔ])")


@dataclass(frozen=True)
class Cast:
    """Who, where and how much: shared by a story, its copies and its translation."""

    domain: Domain
    person: str
    person2: str
    role: Phrase
    role2: Phrase
    org: str
    place: str
    place2: str
    project: Phrase
    group: Phrase
    reason: Phrase
    alt: Phrase
    day: Phrase
    day2: Phrase
    month: Phrase
    amount: int
    pct: int
    count: int
    year: int
    year2: int

    def slots(self, lang: str) -> dict[str, str]:
        """Slot values in ``lang`` (0 English, 1 French for the paired phrases)."""
        i = LANGS.index(lang)
        count = f"{self.count:,}".replace(",", " " if lang == "fr" else ",")
        return {
            "person": self.person, "person2": self.person2,
            "surname": self.person.split()[-1], "surname2": self.person2.split()[-1],
            "role": self.role[i], "role2": self.role2[i], "org": self.org,
            "place": self.place, "place2": self.place2, "project": self.project[i],
            "group": self.group[i], "reason": self.reason[i], "alt": self.alt[i],
            "day": self.day[i], "day2": self.day2[i], "month": self.month[i],
            "amount": str(self.amount), "pct": str(self.pct), "count": count,
            "year": str(self.year), "year2": str(self.year2),
        }


@dataclass(frozen=True)
class Sentence:
    """One sentence of a plan: which template, which alternatives, its small numbers."""

    template: int
    choices: tuple[int, ...]
    n: int
    n2: int


@dataclass(frozen=True)
class Plan:
    """A story before it is written in a language: cast, headline, paragraphs."""

    cast: Cast
    headline: int
    paragraphs: tuple[tuple[Sentence, ...], ...]


@dataclass(frozen=True)
class Story:
    """A story rendered in one language: the body every copy of it carries."""

    key: str
    language: str
    title: str
    paragraphs: tuple[str, ...]
    plan: Plan

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)

    def headline(self, index: int) -> str:
        """Another headline for the same story (syndicated copies retitle)."""
        return render_headline(self.plan.cast, index % len(HEADLINES), self.language)


def fill(template: str, choices: Sequence[int], slots: dict[str, str], lang: str) -> str:
    """Pick the alternatives, fill the slots, fix French elisions, capitalise."""
    picks = iter(choices)

    def choose(match: re.Match[str]) -> str:
        options = match[1].split("|")
        return options[next(picks) % len(options)]

    text = _CHOICE.sub(choose, template).format(**slots)
    if lang == "fr":
        for pattern, repl in _FR_CONTRACTIONS:
            text = pattern.sub(repl, text)
        text = _FR_ELISION.sub(lambda m: m[1][:-1] + "'", text)
    return text[0].upper() + text[1:]


def choice_groups(template: str) -> list[int]:
    """The number of alternatives of each choice group (equal in both languages)."""
    return [len(m[1].split("|")) for m in _CHOICE.finditer(template)]


def render_sentence(cast: Cast, sentence: Sentence, lang: str) -> str:
    slots = {**cast.slots(lang), "n": str(sentence.n), "n2": str(sentence.n2)}
    return fill(SENTENCES[sentence.template][LANGS.index(lang)], sentence.choices, slots, lang)


def render_headline(cast: Cast, index: int, lang: str) -> str:
    return fill(HEADLINES[index][LANGS.index(lang)], (), cast.slots(lang), lang)


def render(key: str, plan: Plan, lang: str) -> Story:
    """Write ``plan`` in ``lang``: a story, or the translation of one."""
    paragraphs = tuple(" ".join(render_sentence(plan.cast, s, lang) for s in para)
                       for para in plan.paragraphs)
    return Story(key, lang, render_headline(plan.cast, plan.headline, lang), paragraphs, plan)


def random_cast(rng: random.Random, domain: Domain | None = None) -> Cast:
    domain = domain or rng.choice(DOMAINS)
    first, last = rng.sample(FIRST_NAMES, 2), rng.sample(LAST_NAMES, 2)
    place, place2 = rng.sample(PLACES, 2)
    day, day2 = rng.sample(DAYS, 2)
    return Cast(domain=domain, person=f"{first[0]} {last[0]}", person2=f"{first[1]} {last[1]}",
                role=rng.choice(ROLES), role2=rng.choice(ROLES2), org=rng.choice(domain.orgs),
                place=place, place2=place2, project=rng.choice(domain.projects),
                group=rng.choice(domain.groups), reason=rng.choice(domain.reasons),
                alt=rng.choice(domain.alts), day=day, day2=day2, month=rng.choice(MONTHS),
                amount=rng.randrange(12, 480), pct=rng.randrange(6, 61),
                count=rng.randrange(300, 48_000), year=rng.randrange(2014, 2024),
                year2=rng.randrange(2026, 2030))


def random_plan(rng: random.Random, cast: Cast, *, words: tuple[int, int],
                templates: Sequence[int] | None = None) -> Plan:
    """Sentences drawn without replacement from ``templates`` until ``words`` is reached
    (English length; French runs about 15% longer), grouped in paragraphs of 1-3."""
    pool = list(templates if templates is not None else range(len(SENTENCES)))
    rng.shuffle(pool)
    low, high = words
    sentences: list[Sentence] = []
    total = 0
    for template in pool:
        if total >= low:
            break
        n = rng.randrange(3, 30)
        sentence = Sentence(template, tuple(rng.randrange(k) for k in
                                            choice_groups(SENTENCES[template][0])),
                            n, rng.randrange(1, n))
        length = len(render_sentence(cast, sentence, "en").split())
        if total + length > high and sentences:
            continue
        sentences.append(sentence)
        total += length
    paragraphs: list[tuple[Sentence, ...]] = []
    while sentences:
        size = min(len(sentences), rng.choice((1, 2, 2, 2, 3)) if len(sentences) > 4 else 2)
        paragraphs.append(tuple(sentences[:size]))
        del sentences[:size]
    return Plan(cast, rng.randrange(len(HEADLINES)), tuple(paragraphs))


# --- the stories --------------------------------------------------------------------

FULL = (215, 280)   # words of a full story (English)
BRIEF = (62, 82)    # words of a short brief


def generate_stories(seed: int = SEED) -> dict[str, Story]:
    """Every story of the web by key, generated from ``seed`` alone.

    Keys: ``w*`` Northwire originals (English), ``f*`` Le Quotidien originals
    (French), ``h*`` Herald originals (English, ``hf1`` French), ``b*`` Metro
    briefs, ``g*`` Gazette originals (French); ``t1``/``t2`` are the French
    translations of ``w1``/``w2``; ``w9``/``h3`` and ``g1``/``g2`` are two
    stories each about one event (one cast, disjoint sentence templates).
    """
    rng = random.Random(seed)
    stories: dict[str, Story] = {}
    half = len(SENTENCES) // 2
    event_en, event_fr = random_cast(rng), random_cast(rng)
    keys = ([f"w{i}" for i in range(1, 13)] + [f"f{i}" for i in range(1, 9)]
            + [f"h{i}" for i in range(1, 6)] + ["hf1"] + [f"g{i}" for i in range(1, 5)]
            + [f"b{i}" for i in range(1, 7)])
    for key in keys:
        lang = "fr" if key[0] in "fg" or key == "hf1" or key in ("b3", "b4", "b6") else "en"
        event = {"w9": (event_en, 0), "h3": (event_en, 1),
                 "g1": (event_fr, 0), "g2": (event_fr, 1)}.get(key)
        templates = None
        if event is not None:
            cast = event[0]
            templates = range(half) if event[1] == 0 else range(half, len(SENTENCES))
        else:
            cast = random_cast(rng)
        size = BRIEF if key.startswith("b") else FULL
        if lang == "fr":
            size = (int(size[0] * 0.85), int(size[1] * 0.85))
        stories[key] = render(key, random_plan(rng, cast, words=size, templates=templates),
                              lang)
    for key, source in (("t1", "w1"), ("t2", "w2")):
        stories[key] = render(key, stories[source].plan, "fr")
    return stories


# (kind, story, story): pairs of stories whose pages must never share a record.
HARD_NEGATIVES: tuple[tuple[str, str, str], ...] = (
    ("translation", "w1", "t1"), ("translation", "w2", "t2"),
    ("same_template_briefs", "b1", "b2"), ("same_template_briefs", "b3", "b4"),
    ("same_event", "w9", "h3"), ("same_event", "g1", "g2"),
)

