"""Pages that are not articles (``ingest.extract.walls``): recognised, named, never stored.

The fixture pages (``fixtures/walls``, described in ``cases.toml``) are original pages in
the style of real walls and real CMS pages, in seven languages: consent walls,
challenges, JavaScript shells, login walls and error pages, and articles that carry the
same markup beside their text (a cookie banner, a consent platform, a captcha on the
comment form, a login box in the sidebar, "404" in the text), short ones included. Each
goes through ``clean_page``, the path the workers run; the tiers and thresholds are
checked on built pages; a loopback web checks that a cycle stores no wall and fetches
the walls again later.
"""

from __future__ import annotations

import asyncio
import pickle
import random
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.config import load_config_text
from ingest.dedup.stored import index_for
from ingest.errors import ExtractError, NotAnArticle
from ingest.extract.walls import (
    DECISIVE_MAX,
    EMPTY_MAX,
    STRONG_MAX,
    article_chars,
    wall_kind,
)
from ingest.extract.wallwords import WALL_KINDS, fold, phrase_hits, plain, vocabulary
from ingest.fetch.fetcher import Fetcher
from ingest.pipeline.cycle import Pipeline
from ingest.pipeline.process import PageJob, clean_page, process_page
from ingest.types import ProcessedPage
from loopback import LoopbackServer
from newsweb import rss
from store.backends import open_store

FIXTURES = Path(__file__).parent / "fixtures" / "walls"
CASES: dict[str, dict[str, str]] = tomllib.loads((FIXTURES / "cases.toml").read_text())
NEUTRAL = "The council met on Monday and voted on the budget for next year. "


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def url_of(name: str) -> str:
    return CASES[name].get("url", f"https://news.example/{name}")


def text_of(length: int) -> list[str]:
    """Article paragraphs of exactly ``length`` characters, with no wall sentence."""
    body = (NEUTRAL * (length // len(NEUTRAL) + 1))[:length]
    return [body[i:i + 300] for i in range(0, length, 300)]


# -- the fixture pages ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_page_is_a_wall_of_its_kind_or_an_article(name: str) -> None:
    expected = CASES[name]["wall"]
    if expected == "none":
        article = clean_page(page(name), url_of(name))
        assert article.text.strip() and article.access == CASES[name]["access"]
        return
    with pytest.raises(NotAnArticle) as caught:
        clean_page(page(name), url_of(name))
    assert caught.value.reason == expected and caught.value.url == url_of(name)
    assert expected.replace("_", " ") in str(caught.value)


def test_the_pages_cover_every_kind_in_several_languages_and_cms() -> None:
    languages: dict[str, set[str]] = {}
    for name, case in CASES.items():
        languages.setdefault(case["wall"], set()).add(name.split(".")[1])
    assert set(languages) == {*WALL_KINDS, "none"}
    assert all(len(langs) >= 3 for langs in languages.values()), languages
    assert {"en", "fr", "de", "es", "it", "pt", "nl"} <= set().union(*languages.values())
    assert {p.name for p in FIXTURES.glob("*.html")} == set(CASES)


def test_a_wall_where_extraction_found_nothing_is_named_not_just_empty() -> None:
    """The JavaScript shell has no text at all: extraction fails first, and the wall is
    still the reason (so the page is fetched again), the extraction error its cause."""
    with pytest.raises(NotAnArticle) as caught:
        clean_page(page("js_required.en.react-shell.html"), "https://news.example/a")
    assert caught.value.reason == "js_required"
    assert type(caught.value.__cause__) is ExtractError


def test_a_paywalled_teaser_is_kept_though_its_text_alone_reads_as_a_login_wall() -> None:
    name = "article.fr.paywalled-teaser.html"
    kept = clean_page(page(name), url_of(name))
    assert kept.access == "paywalled" and "Article réservé aux abonnés" in kept.text
    paragraphs = [p.text for p in kept.paragraphs]
    assert wall_kind(page(name).decode(), paragraphs=paragraphs) == "login_wall"
    assert wall_kind(page(name).decode(), paragraphs=paragraphs, paywalled=True) is None


def test_a_paywall_does_not_excuse_an_error_page_or_a_challenge() -> None:
    for html, kind in ((TITLED, "error_page"), (CHALLENGE, "bot_challenge")):
        locked = html.replace("<body>", "<body><div class='paywall'><p>Abonnez-vous</p></div>")
        assert wall_kind(locked, paragraphs=["Abonnez-vous"], paywalled=True) == kind


def test_the_reason_survives_the_worker_pipe() -> None:
    with pytest.raises(NotAnArticle) as caught:
        process_page(PageJob(url="https://news.example/x",
                             body=page("bot_challenge.en.cloudflare.html")))
    again = pickle.loads(pickle.dumps(caught.value))
    assert (type(again), again.reason, again.url) == (NotAnArticle, "bot_challenge",
                                                      "https://news.example/x")


# -- tiers: evidence against article text ------------------------------------------------

CHALLENGE = "<html><body><script>window._cf_chl_opt={cType:'managed'}</script></body></html>"
TITLED = "<html><head><title>Page introuvable | Le Quotidien</title></head><body></body></html>"
SENTENCE = "<html><body><p>Dit artikel is niet meer beschikbaar.</p></body></html>"


@pytest.mark.parametrize(("html", "kind", "limit"), [
    (CHALLENGE, "bot_challenge", DECISIVE_MAX), (TITLED, "error_page", STRONG_MAX),
    (SENTENCE, "error_page", EMPTY_MAX)])
def test_each_tier_of_evidence_outweighs_up_to_its_amount_of_article_text(
        html: str, kind: str, limit: int) -> None:
    assert wall_kind(html, paragraphs=text_of(limit - 1)) == kind
    assert wall_kind(html, paragraphs=text_of(limit)) is None
    assert wall_kind(html) == kind, "extraction found nothing at all"


def test_a_consent_host_is_decisive_and_an_ordinary_host_is_not() -> None:
    html = "<html><body><p>Choose your settings.</p></body></html>"
    assert wall_kind(html, url="https://consent.portal.example/v2?s=1") == "consent_wall"
    assert wall_kind(html, url="https://guce.portal.example/consent") == "consent_wall"
    assert wall_kind(html, url="https://www.consent-news.example/consent/a") is None


def test_wall_sentences_extraction_took_for_the_body_are_not_article_text() -> None:
    said = ["We and our partners store and/or access information on a device.",
            "Measure advertising performance", "Develop and improve services"]
    assert article_chars(said) == 0
    assert article_chars([*said, NEUTRAL]) == len(NEUTRAL)


POLISH = ("Szanujemy Twoją prywatność. Razem z partnerami przechowujemy informacje na "
          "urządzeniu i przetwarzamy dane osobowe, by wyświetlać spersonalizowane reklamy. "
          "Możesz w każdej chwili zmienić swoje wybory w ustawieniach prywatności.")


def test_a_page_that_is_mostly_a_consent_container_is_a_wall_in_any_language() -> None:
    dialog = (f"<html><head><title>Gazeta</title></head><body><div id='cmp-app-container'>"
              f"<p>{POLISH}</p><button>Przejdź do serwisu</button></div></body></html>")
    assert wall_kind(dialog, paragraphs=[POLISH]) == "consent_wall"
    wrapper = (f"<html><head><title>Gazeta</title></head><body><div class='has-cookie-banner'>"
               f"<main><article><p>{POLISH}</p></article></main></div></body></html>")
    assert wall_kind(wrapper, paragraphs=[POLISH]) is None, "a page wrapper is no dialog"
    beside = dialog.replace("</body>", f"<article><p>{NEUTRAL * 3}</p></article></body>")
    assert wall_kind(beside, paragraphs=[POLISH, NEUTRAL * 3]) is None


@pytest.mark.parametrize(("title", "kind"), [
    ("Page not found | Riverside Gazette", "error_page"),
    ("Erreur 404 : page introuvable", "error_page"),
    ("404 – Rundschau Mitte", "error_page"),
    ("Oops! That page can’t be found. – My Blog", "error_page"),
    ("Seite nicht gefunden", "error_page"),
    ("Página no encontrada — Diario", "error_page"),
    ("Just a moment...", "bot_challenge"),
    ("Nur einen Moment …", "bot_challenge"),
    ("Een ogenblik…", "bot_challenge"),
    ("Un moment historique pour le club", None),
    ("Accès refusé : des camions bloqués au col", None),
    ("404 days at sea: a sailor's story", None),
    ("Leiche nicht gefunden", None),
    ("Zustimmung für die Rentenreform | Rundschau", None),
])
def test_a_title_names_a_wall_only_when_the_wall_words_fill_it(
        title: str, kind: str | None) -> None:
    html = f"<html><head><title>{title}</title></head><body></body></html>"
    assert wall_kind(html, paragraphs=text_of(EMPTY_MAX + 50)) == kind


def test_a_hidden_login_dialog_beside_a_short_article_is_not_a_login_wall() -> None:
    html = ("<html><head><title>Bridge reopens | Gazette</title></head><body><h1>Bridge "
            "reopens</h1><div class='modal login-modal' aria-hidden='true'><h1>Sign in</h1>"
            "<form><input type='password'></form></div></body></html>")
    assert wall_kind(html, paragraphs=text_of(EMPTY_MAX)) is None
    shown = html.replace(" aria-hidden='true'", "").replace("modal login-modal", "gate")
    assert wall_kind(shown, paragraphs=text_of(EMPTY_MAX)) == "login_wall"


def test_a_login_box_or_comment_login_beside_a_short_article_is_not_a_login_wall() -> None:
    html = ("<html><head><title>Bridge reopens | Gazette</title></head><body>"
            "<p>You must be logged in to post a comment.</p><h3>Log in</h3><form>"
            "<input name='u'><input type='password' name='p'></form></body></html>")
    assert wall_kind(html, paragraphs=text_of(EMPTY_MAX)) is None
    gate = html.replace("You must be logged in to post a comment.",
                        "Log in to continue reading.")
    assert wall_kind(gate, paragraphs=text_of(EMPTY_MAX - 1)) == "login_wall"


# -- the vocabulary ------------------------------------------------------------------


def test_the_vocabulary_is_written_folded_and_without_repeats() -> None:
    seen: set[tuple[str, str, str]] = set()
    for kind, group, entry in vocabulary().entries:
        assert (kind, group, entry) not in seen, entry
        seen.add((kind, group, entry))
        if group == "phrases":
            assert entry == fold(entry), entry
        elif group == "titles":
            assert entry == fold(entry) and plain(entry), entry
        elif group == "markers":
            assert entry == entry.lower(), entry


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(vocabulary().phrases.keys())), st.randoms())
def test_a_phrase_is_found_whatever_its_case_unless_it_is_quoted(
        phrase: str, rnd: random.Random) -> None:
    shouted = "".join(c.upper() if rnd.random() < 0.5 else c for c in phrase)
    said = phrase_hits(fold(f"Puis\u00a0: {shouted}. Et rien d'autre."))
    assert phrase in {p for _, p in said}
    quoted = phrase_hits(fold(f"Un bouton « {shouted} » en bas de l'écran."))
    assert phrase not in {p for _, p in quoted}, "a quotation is an article talking"


@pytest.mark.parametrize(("text", "phrase"), [
    ("Vérification de votre navigateur…", "verification de votre navigateur"),
    ("Wir überprüfen Ihren Browser", "wir uberprufen ihren browser"),
    ("Você precisa ativar o JavaScript", "ativar o javascript"),
    ("Nous et nos partenaires stockons…", "nous et nos partenaires"),
    ("Questo articolo non è più disponibile", "questo articolo non e piu disponibile"),
])
def test_accents_and_typography_do_not_hide_a_phrase(text: str, phrase: str) -> None:
    assert phrase in {p for _, p in phrase_hits(fold(text))}


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=400), st.lists(st.text(max_size=80), max_size=4))
def test_any_page_and_text_get_an_answer_never_an_error(html: str, texts: list[str]) -> None:
    assert wall_kind(html, url="https://a.example/x", paragraphs=texts) in (*WALL_KINDS, None)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(n for n, c in CASES.items() if c["wall"] != "none")),
       st.integers(DECISIVE_MAX, 4 * DECISIVE_MAX))
def test_enough_article_text_outweighs_any_wall(name: str, length: int) -> None:
    assert wall_kind(page(name).decode(), url="https://news.example/a",
                     paragraphs=text_of(length)) is None


def test_fold_is_stable() -> None:
    for text in ("Ça ﬁnit À 23 h", "İstanbul’da", "ŒUVRE ǅ", "  a\u2009b "):
        assert fold(fold(text)) == fold(text)


# -- a loopback web: walls are never records, and are fetched again -------------------------


def test_a_cycle_stores_the_articles_and_no_wall_and_fetches_the_walls_again(
        tmp_path: Path, loopback: LoopbackServer) -> None:
    names = sorted(n for n in CASES if "url" not in CASES[n])
    for name in names:
        loopback.add(f"/{name}", page(name))
    loopback.add("/feed.xml", rss([(n, loopback.url(f"/{n}")) for n in names]),
                 content_type="application/rss+xml")
    config = load_config_text(
        f'[store]\npath = "{tmp_path / "news.db"}"\n[fetch]\nper_host_delay_seconds = 0\n'
        f'allow_private_addresses = true\n[[sources]]\nname = "walls"\nkind = "feed"\n'
        f'url = "{loopback.url("/feed.xml")}"\n')

    async def worker(job: PageJob) -> ProcessedPage:
        return process_page(job)

    with open_store(tmp_path / "news.db") as store:
        pipe = Pipeline(config, store, index_for(config.dedup, store),
                        fetcher_factory=lambda: Fetcher(config.fetch), processor=worker)
        first = asyncio.run(pipe.run_cycle(config.sources))
        stored = {row[0].rsplit("/", 1)[1] for row in store.conn.execute(
            "SELECT url FROM articles UNION SELECT url FROM duplicates")}
        remembered = store.conn.execute("SELECT count(*) FROM skipped").fetchone()[0]
        before = {n: loopback.count(f"/{n}") for n in names}
        asyncio.run(pipe.run_cycle(config.sources))
    articles = {n for n in names if CASES[n]["wall"] == "none"}
    assert stored == articles
    assert remembered == 0, "a wall is not remembered: it may be gone next time"
    walls = [n for n in names if n not in articles]
    for kind in WALL_KINDS:
        assert first.counts[f"page.failed_{kind}"] == sum(CASES[n]["wall"] == kind
                                                          for n in walls)
    again = {n for n in names if loopback.count(f"/{n}") > before[n]}
    assert again == set(walls), "walls are fetched again, stored articles are not"
