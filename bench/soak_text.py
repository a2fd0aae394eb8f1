"""Deterministic, varied news text for the soak web (``bench/soak.py``).

The soak needs hundreds of *distinct* articles on one topic: if they shared
paragraphs, per-site template learning would strip them and MinHash would
merge them, and "nothing lost" could not be told from "wrongly folded".
Each sentence is a template with slots (people, institutions, numbers,
places, actions) filled from a per-article ``random.Random(seed)``, so every
paragraph is new while the whole still reads like coverage of the
Musk–Altman dispute, in English or French. Off-topic stories (weather,
markets, sport) never name Musk, Altman or OpenAI, so the topic filter must
skip them::

    story = make_story("alpha-3-1", lang="fr", on_topic=True)
    story.title, story.paragraphs[0]
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from html import escape

SLOTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "who": ("Elon Musk", "Sam Altman", "OpenAI's board", "Musk's lawyers",
                "OpenAI's general counsel", "a Microsoft spokesperson", "the plaintiff's team",
                "two former OpenAI researchers", "an early donor", "the nonprofit's trustees"),
        "court": ("the federal court in Oakland", "Judge Yvonne Gonzalez Rogers",
                  "the appeals panel", "the Delaware attorney general",
                  "the California attorney general", "a jury in Northern California"),
        "thing": ("the for-profit conversion", "the 2015 founding emails",
                  "the capped-profit structure", "the Microsoft partnership",
                  "the unsolicited takeover bid", "the charitable trust claim",
                  "the board's fiduciary duties", "the compute agreements",
                  "the restructuring plan", "the public benefit corporation"),
        "act": ("challenged", "defended", "questioned", "disclosed", "rejected", "revisited",
                "dismissed", "scrutinised", "summarised", "contested"),
        "place": ("San Francisco", "Oakland", "Austin", "Wilmington", "Washington", "Palo Alto",
                  "New York", "Sacramento"),
        "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "late on Sunday",
                "on Saturday morning"),
        "adj": ("sharp", "lengthy", "unusual", "carefully worded", "heavily redacted",
                "closely watched", "blunt", "technical"),
    },
    "fr": {
        "who": ("Elon Musk", "Sam Altman", "le conseil d'OpenAI", "les avocats de Musk",
                "la directrice juridique d'OpenAI", "un porte-parole de Microsoft",
                "l'équipe du plaignant", "deux anciens chercheurs d'OpenAI",
                "un des premiers donateurs", "les administrateurs de la fondation"),
        "court": ("le tribunal fédéral d'Oakland", "la juge Yvonne Gonzalez Rogers",
                  "la cour d'appel", "le procureur général du Delaware",
                  "le procureur général de Californie", "un jury californien"),
        "thing": ("la conversion en société lucrative", "les courriels fondateurs de 2015",
                  "la structure à profit plafonné", "le partenariat avec Microsoft",
                  "l'offre de rachat non sollicitée", "la plainte pour abus de confiance",
                  "les devoirs fiduciaires du conseil", "les contrats de calcul",
                  "le plan de restructuration", "la société à mission"),
        "act": ("contesté", "défendu", "remis en cause", "dévoilé", "rejeté", "réexaminé",
                "écarté", "examiné de près", "résumé", "attaqué"),
        "place": ("San Francisco", "Oakland", "Austin", "Wilmington", "Washington",
                  "Palo Alto", "New York", "Sacramento"),
        "day": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "dimanche soir",
                "samedi matin"),
        "adj": ("vif", "long", "inhabituel", "soigneusement rédigé", "largement caviardé",
                "très suivi", "direct", "technique"),
    },
}

ON_TOPIC: dict[str, tuple[str, ...]] = {
    "en": (
        "{who} {act} {thing} in a {adj} filing {day}, according to documents seen in {place}.",
        "Speaking in {place}, {who} said {thing} had been {act} long before OpenAI grew.",
        "The dispute between Musk and Altman turned on {thing}, which {court} {act} {day}.",
        "{court} asked {who} to explain {thing} in no more than {n} pages.",
        "Lawyers for OpenAI argued that {thing} was lawful; {who} {act} that view.",
        "In {place}, observers called the hearing on {thing} {adj} but inconclusive.",
        "{who} pointed to {n} messages about {thing} exchanged with Altman.",
        "The filing lists {n} exhibits, several of them about {thing}.",
        "Musk says {thing} betrayed the original mission; Altman says it funded it.",
        "{court} set a hearing on {thing} for {day}, after {who} {act} the schedule.",
        "A {adj} letter from {who} {act} {thing} and was read aloud in {place}.",
        "Analysts in {place} said {thing} could cost OpenAI about {n} million dollars.",
    ),
    "fr": (
        "{who} a {act} {thing} dans un mémoire {adj} déposé {day} à {place}.",
        "À {place}, {who} a affirmé que {thing} avait été {act} bien avant l'essor d'OpenAI.",
        "Le différend entre Musk et Altman porte sur {thing}, que {court} a {act} {day}.",
        "{court} a demandé à {who} d'expliquer {thing} en {n} pages au plus.",
        "Les avocats d'OpenAI jugent {thing} légal ; {who} a {act} cette lecture.",
        "À {place}, les observateurs ont trouvé l'audience sur {thing} {adj} mais peu concluante.",
        "{who} a cité {n} messages sur {thing} échangés avec Altman.",
        "Le dossier compte {n} pièces, dont plusieurs consacrées à {thing}.",
        "Pour Musk, {thing} trahit la mission d'origine ; pour Altman, il l'a financée.",
        "{court} a fixé une audience sur {thing} à {day}, après que {who} a {act} le calendrier.",
        "Une lettre {adj} de {who} a {act} {thing} et a été lue à {place}.",
        "Selon des analystes de {place}, {thing} pourrait coûter {n} millions de dollars à OpenAI.",
    ),
}

OFF_TOPIC: dict[str, tuple[str, ...]] = {
    "en": (
        "Heavy rain is expected across {place} on {day}, with up to {n} millimetres locally.",
        "The harbour ferry in {place} will run {n} extra crossings during the festival.",
        "Local growers in {place} reported a {adj} apple harvest of {n} tonnes this year.",
        "The city football club won {n} matches in a row before a {adj} defeat {day}.",
        "Museum visits in {place} rose by {n} percent after the new wing opened.",
        "Road works near {place} station will close two lanes until {day}.",
    ),
    "fr": (
        "De fortes pluies sont attendues sur {place} {day}, jusqu'à {n} millimètres par endroits.",
        "Le bac du port de {place} assurera {n} traversées de plus pendant le festival.",
        "Les producteurs de {place} annoncent une récolte de pommes {adj} de {n} tonnes.",
        "Le club de football de la ville a gagné {n} matchs d'affilée avant une défaite {day}.",
        "La fréquentation des musées de {place} a progressé de {n} % avec la nouvelle aile.",
        "Des travaux près de la gare de {place} fermeront deux voies jusqu'à {day}.",
    ),
}

# Every on-topic story opens with one of these: it names Musk and OpenAI or Altman, so the
# topic filter (musk AND (altman OR openai)) keeps it by construction.
LEADS: dict[str, tuple[str, ...]] = {
    "en": ("The fight between Elon Musk and OpenAI over {thing} went on {day} in {place}.",
           "Elon Musk's case against Sam Altman's OpenAI moved to {thing} {day}.",
           "In the Musk v. OpenAI case, {court} turned to {thing} {day}."),
    "fr": ("Le bras de fer entre Elon Musk et OpenAI sur {thing} s'est poursuivi {day} à {place}.",
           "La plainte d'Elon Musk contre l'OpenAI de Sam Altman a porté {day} sur {thing}.",
           "Dans l'affaire Musk contre OpenAI, {court} s'est penché {day} sur {thing}."),
}

TITLES: dict[str, tuple[str, ...]] = {
    "en": ("Musk and Altman clash over {thing}", "OpenAI answers Musk on {thing}",
           "Judge weighs {thing} in Musk v. OpenAI", "New filing on {thing} in OpenAI fight"),
    "fr": ("Musk et Altman s'opposent sur {thing}", "OpenAI répond à Musk sur {thing}",
           "Procès Musk-OpenAI : la juge examine {thing}",
           "Nouveau mémoire sur {thing} dans l'affaire OpenAI"),
}
OFF_TITLES: dict[str, tuple[str, ...]] = {
    "en": ("Weekend in {place}: what to expect", "{place} prepares for the festival"),
    "fr": ("Week-end à {place} : ce qui vous attend", "{place} se prépare au festival"),
}


@dataclass(frozen=True, slots=True)
class Story:
    """One generated article: a title and 5 to 7 paragraphs of 2 to 3 sentences."""

    key: str
    lang: str
    on_topic: bool
    title: str
    paragraphs: tuple[str, ...]


def _fill(template: str, rng: random.Random, lang: str) -> str:
    values = {name: rng.choice(options) for name, options in SLOTS[lang].items()}
    values["n"] = str(rng.randint(3, 480))
    text = template.format(**values)
    return text[0].upper() + text[1:]


def make_story(key: str, *, lang: str, on_topic: bool, seed: int = 0) -> Story:
    """The story ``key`` (same key and seed, same text; different keys, different text).

    >>> make_story("a-1-1", lang="en", on_topic=True) == make_story("a-1-1", lang="en",
    ...                                                              on_topic=True)
    True
    """
    rng = random.Random(f"{seed}:{key}")
    pool = (ON_TOPIC if on_topic else OFF_TOPIC)[lang]
    titles = (TITLES if on_topic else OFF_TITLES)[lang]
    paragraphs = [
        " ".join(_fill(rng.choice(pool), rng, lang) for _ in range(rng.randint(2, 3)))
        for _ in range(rng.randint(5, 7))]
    if on_topic:
        paragraphs[0] = f"{_fill(rng.choice(LEADS[lang]), rng, lang)} {paragraphs[0]}"
    title = _fill(rng.choice(titles), rng, lang)
    return Story(key, lang, on_topic, title, tuple(paragraphs))


def article_html(story: Story, site: str, *, malformed: bool = False,
                 charset_meta: str | None = "utf-8") -> str:
    """A full page around ``story``: navigation, a sidebar and a footer to strip.

    ``malformed`` leaves tags unclosed and ``&``/``<`` raw (text still there);
    ``charset_meta=None`` drops the ``<meta charset>``::

        article_html(make_story("a-1-1", lang="en", on_topic=True), "alpha")
    """
    body = "\n".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
    if malformed:  # unclosed tags, stray closers, raw & and <, no end tags
        body = "\n".join(f"<p class=x>{p.replace(',', ' &')}" for p in story.paragraphs)
        body += "</span></div><div><b>unclosed <i>markup < 3"
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    end = "" if malformed else "</body></html>"
    return (f'<!doctype html><html lang="{story.lang}"><head>{meta}'
            f"<title>{escape(story.title)} | {site.title()} News</title></head><body>"
            f'<header><nav><a href="/">Home</a> <a href="/world">World</a> '
            f'<a href="/tech">Tech</a></nav></header><main><article>'
            f"<h1>{escape(story.title)}</h1>{body}</article>"
            f'<aside><h3>Most read</h3><ul><li><a href="/a">Markets today</a></li>'
            f'<li><a href="/b">Weather</a></li></ul></aside></main>'
            f"<footer><p>© 2025 {site.title()} News</p></footer>{end}")
