"""Tests for ingest.clean.article: the cleaning pass end to end, template keys, and the seeds.

The seeds (tests/fixtures/clean/, the project's own articles, annotated in
seeds.json) are rendered as HTML in several layouts and run through
extract_article + clean_article: no boilerplate line may survive and every
body line must appear exactly once.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clean.article import clean_article, edge_flags, is_learnable, paragraph_key
from ingest.extract.page import extract_with_removals
from ingest.types import ExtractedArticle, Paragraph, Removal

FIXTURES = Path(__file__).parent / "fixtures" / "clean"
RULES = {"repeat", "title", "template", "empty", "share_widget", "photo_credit", "ad",
         "newsletter", "related", "navigation", "byline", "author_bio", "disclaimer", "cookie",
         "widget_list"}

BODY = [
    "La plainte, déposée devant un tribunal fédéral de San Francisco, accuse la société "
    "d'avoir abandonné sa mission d'origine au profit de la rentabilité.",
    "Les avocats de l'entreprise ont qualifié ces accusations de sans fondement et comptent "
    "demander au juge de classer l'affaire avant l'été.",
    "Une audience est prévue en mars, au cours de laquelle les deux parties présenteront "
    "leurs arguments sur la demande de rejet et sur les mesures provisoires.",
    "Selon des documents consultés par la presse, les échanges entre les fondateurs se sont "
    "tendus dès 2017, lorsque la question du contrôle de la structure a été posée.",
]


def article(lines: list[str] | list[Paragraph], *, title: str | None = None,
            author: str | None = None) -> ExtractedArticle:
    paras = tuple(p if isinstance(p, Paragraph) else Paragraph(p) for p in lines)
    return ExtractedArticle(url="https://news.example/a", title=title, author=author,
                            published=None, declared_language="fr", paragraphs=paras)


def texts(cleaned_lines: tuple[Paragraph, ...]) -> list[str]:
    return [p.text for p in cleaned_lines]


# clean_article -------------------------------------------------------------

def test_clean_body_is_untouched() -> None:
    out = clean_article(article(BODY))
    assert texts(out.paragraphs) == BODY
    assert out.removed == ()


def test_boilerplate_around_the_body_is_removed_with_rules() -> None:
    lines = ["Partager sur Facebook", "© AFP", *BODY[:2], "Publicité", *BODY[2:],
             "[ ]", "Lire aussi : Musk relance la bataille", "Par Marie Dupont"]
    out = clean_article(article(lines))
    assert texts(out.paragraphs) == BODY
    assert [r.rule for r in out.removed] == ["share_widget", "photo_credit", "ad", "empty",
                                             "related", "byline"]


def test_byline_name_moves_into_author() -> None:
    out = clean_article(article([*BODY, "Par Marie Dupont"]))
    assert out.author == "Marie Dupont"


def test_metadata_author_is_kept_and_bare_name_removed() -> None:
    out = clean_article(article([*BODY, "Marie Dupont"], author="Marie Dupont"))
    assert out.author == "Marie Dupont"
    assert texts(out.paragraphs) == BODY
    assert out.removed == (Removal("Marie Dupont", "byline"),)


@pytest.mark.parametrize("order", ["structured_first", "flattened_first"])
def test_doubled_body_keeps_the_structured_copy(order: str) -> None:
    flattened = " ".join(BODY)
    lines = [*BODY, flattened] if order == "structured_first" else [flattened, *BODY]
    out = clean_article(article(lines))
    assert texts(out.paragraphs) == BODY
    assert out.removed == (Removal(flattened, "repeat"),)


def test_title_repeated_in_body_is_removed() -> None:
    title = "Musk contre OpenAI : la bataille judiciaire continue"
    out = clean_article(article([title, *BODY], title=title))
    assert texts(out.paragraphs) == BODY
    assert out.removed[0].rule == "title"


def test_template_paragraphs_are_removed() -> None:
    promo = "Retrouvez toute l'actualité de la tech dans notre application"
    out = clean_article(article([*BODY, promo]), template=frozenset({paragraph_key(promo)}))
    assert texts(out.paragraphs) == BODY
    assert out.removed == (Removal(promo, "template"),)


def test_pre_removed_come_first_in_removed() -> None:
    pre = (Removal("Facebook Twitter", "share_widget"),)
    out = clean_article(article([*BODY, "Publicité"]), pre_removed=pre)
    assert out.removed == (*pre, Removal("Publicité", "ad"))


def test_never_returns_an_empty_article_from_line_rules() -> None:
    out = clean_article(article(["Abonnez-vous à notre newsletter", "Publicité"]))
    assert texts(out.paragraphs) == ["Abonnez-vous à notre newsletter", "Publicité"]


def test_short_real_paragraph_stays() -> None:
    out = clean_article(article([BODY[0], "Il a refusé.", *BODY[1:]]))
    assert "Il a refusé." in texts(out.paragraphs)


def test_quote_with_email_in_body_stays() -> None:
    quote = "« Écrivez-moi à jean.dupont@mairie.fr », a lancé Jean Dupont aux habitants."
    out = clean_article(article([*BODY[:2], quote, *BODY[2:]]))
    assert quote in texts(out.paragraphs)


def test_fields_are_carried_over() -> None:
    src = ExtractedArticle(url="https://n.example/a", title="T", author="A", published="2025-01-02",
                           declared_language="en", paragraphs=(Paragraph(BODY[0]),),
                           canonical_url="https://n.example/c", sitename="N")
    out = clean_article(src)
    assert (out.url, out.title, out.author, out.published, out.declared_language,
            out.canonical_url, out.sitename) == ("https://n.example/a", "T", "A", "2025-01-02",
                                                 "en", "https://n.example/c", "N")
    assert out.language == "fr"  # BODY is French: the text's language, not the claim
    assert out.language_confidence is not None and out.language_confidence > 0.5


def test_edge_flags_mark_start_and_end() -> None:
    flags = edge_flags(["x"] * 2 + BODY * 3 + ["y"])
    assert flags[:3] == [True, True, True] and flags[-4:] == [True] * 4
    assert not any(flags[3:-4])


# widget lists ---------------------------------------------------------------

TEASERS = ["Musk relance la bataille judiciaire", "Les dix chiffres clés de l'année",
           "OpenAI : le conseil se réunit"]


@pytest.mark.parametrize("label", ["À lire aussi", "Related posts", "Lesen Sie auch",
                                   "Suivez-nous", "Newsletters"])
def test_lines_listed_under_a_label_after_the_body_go(label: str) -> None:
    out = clean_article(article([*BODY, label, *TEASERS]))
    assert texts(out.paragraphs) == BODY
    assert [r.rule for r in out.removed][1:] == ["widget_list"] * len(TEASERS)


def test_a_label_inside_the_body_takes_nothing_with_it() -> None:
    lines = [BODY[0], "À lire aussi", TEASERS[0], *BODY[1:]]
    out = clean_article(article(lines))
    assert texts(out.paragraphs) == [BODY[0], TEASERS[0], *BODY[1:]]


def test_a_widget_list_ends_at_prose_and_at_long_lines() -> None:
    long_line = " ".join(["mot"] * 25)
    prose_tail = ("Le juge a indiqué que la décision serait rendue dans les prochaines "
                  "semaines.")
    out = clean_article(article([*BODY, "Related posts", TEASERS[0], long_line, TEASERS[1]]))
    assert texts(out.paragraphs) == [*BODY, long_line, TEASERS[1]]
    out = clean_article(article([*BODY, "Related posts", prose_tail]))
    assert texts(out.paragraphs) == [*BODY, prose_tail]


# paragraph_key / is_learnable --------------------------------------------

def test_paragraph_key_normalises() -> None:
    assert paragraph_key("  Partagez  l’ARTICLE : 12 commentaires ") == \
        paragraph_key("partagez l'article - 3 Commentaires")
    assert paragraph_key("ﬁn") == "fin"  # NFKC


def test_is_learnable_excludes_short_lines() -> None:
    assert not is_learnable("Lire aussi")
    assert not is_learnable("12 345")
    assert is_learnable("Inscrivez-vous à notre newsletter quotidienne")


def test_is_learnable_counts_only_words_with_letters() -> None:
    # Data rows recur across a site's pages as data, not as template.
    assert not is_learnable("36 | Alabama | 45.8 | 12")
    assert not is_learnable("$2.50 – $7.00 – $9.10")
    assert is_learnable("Read 3 more stories from 2024 here")


# properties ---------------------------------------------------------------

_VOCABULARY = ("le la les un une des tribunal juge société accord contrat projet plainte avocat "
         "the a court judge company deal lawyer filing board investors said would after "
         "before during market plan fund year month report by par et and of de in en to "
         "à pour for with avec milliards billion dollars euros")
WORDS = _VOCABULARY.split()


@st.composite
def prose(draw: st.DrawFn) -> str:
    n = draw(st.integers(min_value=8, max_value=40))
    tokens = draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n))
    return tokens[0].capitalize() + " " + " ".join(tokens[1:]) + "."


def _distinct(paras: list[str]) -> bool:
    """No two paragraphs share a run of five words: sharing one is what the repeat pass
    looks for (random draws can make "le le le le le le" twice)."""
    grams = [_five_grams(p) for p in paras]
    return all(a.isdisjoint(b) for i, a in enumerate(grams) for b in grams[i + 1:])


def _five_grams(text: str) -> set[tuple[str, ...]]:
    words = paragraph_key(text).split()
    return {tuple(words[i:i + 5]) for i in range(len(words) - 4)}


@settings(max_examples=60, deadline=None)
@given(st.lists(prose(), min_size=1, max_size=12).filter(_distinct))
def test_ordinary_prose_always_survives(paras: list[str]) -> None:
    out = clean_article(article(paras))
    assert texts(out.paragraphs) == paras
    assert out.removed == ()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=80), max_size=15))
def test_every_block_is_kept_or_explained(lines: list[str]) -> None:
    lines = [t for t in lines if t.strip()]
    out = clean_article(article(lines))
    assert all(r.rule in RULES for r in out.removed)
    assert sorted(texts(out.paragraphs) + [r.text for r in out.removed]) == sorted(lines)
    assert out.paragraphs or all(not any(c.isalnum() for c in t) for t in lines)


# the seeds, end to end ------------------------------------------------------

def _seeds() -> list[tuple[str, list[str], dict[str, object]]]:
    notes = json.loads((FIXTURES / "seeds.json").read_text(encoding="utf-8"))
    out = []
    for name, note in notes.items():
        if name.startswith("_"):
            continue
        raw = (FIXTURES / name).read_text(encoding="utf-8")
        out.append((name, [ln.strip() for ln in raw.split("\n") if ln.strip()], note))
    return out


def _labels(lines: list[str], note: dict[str, object]) -> list[str]:
    bp, copy = set(note["boilerplate"]), set(note["copy"])  # type: ignore[call-overload]
    return ["title" if i == note["title"] else "boilerplate" if i in bp else
            "copy" if i in copy else "body" for i in range(len(lines))]


def _page(title: str, inner: str) -> str:
    t = html.escape(title)
    return (f"<html lang='fr'><head><meta charset='utf-8'><title>{t}</title></head><body>"
            f"<nav><a href='/'>Accueil</a></nav><article><h1>{t}</h1>{inner}</article>"
            f"<footer>© Site</footer></body></html>")


def _wrap(lines: list[str], tag: str) -> str:
    if tag == "br":
        return "<div>" + "<br>".join(html.escape(t) for t in lines) + "</div>"
    return "".join(f"<{tag}>{html.escape(t)}</{tag}>" for t in lines)


def _layouts(lines: list[str], labels: list[str], title: str) -> dict[str, str]:
    own = [t for t, lab in zip(lines, labels, strict=True) if lab in ("body", "boilerplate")]
    flat = " ".join(t for t, lab in zip(lines, labels, strict=True) if lab == "body")
    pages = {}
    for tag in ("p", "div", "br"):
        pages[f"as-is/{tag}"] = _page(title, _wrap(lines, tag))
        pages[f"doubled-after/{tag}"] = _page(title, _wrap([*own, title, flat], tag))
        pages[f"doubled-before/{tag}"] = _page(title, _wrap([flat, *own], tag))
    widgets = "".join(
        f"<div class='share-buttons'><span>{html.escape(t)}</span></div>" if lab == "boilerplate"
        else f"<p>{html.escape(t)}</p>"
        for t, lab in zip(lines, labels, strict=True) if lab in ("body", "boilerplate"))
    pages["labelled-widgets"] = _page(title, widgets)
    return pages


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


CASES = [(name, layout, page, lines, _labels(lines, note), note)
         for name, lines, note in _seeds()
         for layout, page in _layouts(lines, _labels(lines, note),
                                      lines[int(note["title"])]).items()]  # type: ignore[call-overload]


@pytest.mark.parametrize(("name", "layout", "page", "lines", "labels", "note"), CASES,
                         ids=[f"{c[0][:3]}-{c[1]}" for c in CASES])
def test_seed_is_clean_in_every_layout(name: str, layout: str, page: str, lines: list[str],
                                       labels: list[str], note: dict[str, object]) -> None:
    extracted, pre = extract_with_removals(page, f"https://seed.example/{name}")
    out = clean_article(extracted, pre_removed=pre)
    text = _norm(out.text)
    for line, label in zip(lines, labels, strict=True):
        if label == "boilerplate":
            assert _norm(line) not in text, f"boilerplate kept: {line[:60]}"
        elif label == "body":
            assert text.count(_norm(line)) == 1, f"body line not exactly once: {line[:60]}"
    assert text.count(_norm(lines[int(note["title"])])) <= 1  # type: ignore[call-overload]
    if note["author"]:
        assert out.author == note["author"]
    assert all(r.rule in RULES for r in out.removed)
