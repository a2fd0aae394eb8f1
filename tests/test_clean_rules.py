"""Tests for ingest.clean.rules: one test per rule, French and English, with near-misses."""

from __future__ import annotations

import pytest

from ingest.clean.rules import (
    Line,
    byline_name,
    first_rule,
    is_ad,
    is_author_bio,
    is_byline,
    is_cookie,
    is_disclaimer,
    is_empty,
    is_navigation,
    is_newsletter,
    is_photo_credit,
    is_related,
    is_share_widget,
    looks_like_prose,
    templated_runs,
)


def rule(text: str, *, edge: bool = False, authors: frozenset[str] = frozenset(),
         kind: str = "p") -> str | None:
    return first_rule(Line(text, kind, edge=edge, authors=authors))


# Body lines that must stay whatever the position: near-misses of every rule.
NEAR_MISSES = [
    "La banque a restitué le dépôt de garantie aux locataires, avec un bonus de 2 %.",
    "Customers saw a 2% bonus on every deposit up to €3,000 last year, the bank said.",
    "« Écrivez-moi à jean.dupont@mairie.fr », a lancé le maire aux habitants.",
    '"Email me at jane@example.org if you disagree," Altman wrote in the message.',
    "Il a refusé.",
    "He declined.",
    "Par ailleurs, la société a annoncé un nouveau financement.",
    "By Monday, the deal was off and both sides had hired lawyers.",
    "Subscriptions to the paper rose 10% last year.",
    "La CNIL a sanctionné Google pour ses cookies déposés sans consentement.",
    "The regulator fined the firm over cookie consent rules.",
    "The judge said the filing did not constitute legal advice to investors.",
    "Photography was banned inside the courtroom.",
    "Musk shared the post on X, where it was viewed millions of times.",
    "Il a partagé la vidéo sur X, où elle a été vue des millions de fois.",
    "Read the full complaint, which runs to 83 pages, on the court's website.",
    "Related companies, including xAI, were not named in the suit.",
    "Tesla cuts prices by up to 20%",
    "Teilor Stone has been a reporter since 2013, the court heard.",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
@pytest.mark.parametrize("edge", [False, True])
def test_body_lines_stay(text: str, edge: bool) -> None:
    assert rule(text, edge=edge) is None


@pytest.mark.parametrize("text", ["[ ]", "***", "—", "…", "• • •", "( )"])
def test_empty(text: str) -> None:
    assert is_empty(Line(text))
    assert rule(text) == "empty"


@pytest.mark.parametrize("text", [
    "Spread the love", "0 𝕏", "12 Shares", "Share this article", "Partager sur Facebook",
    "Partagez cet article !", "Facebook Twitter LinkedIn Email", "Suivez-nous sur Instagram",
    "Follow us on X", "Copier le lien", "Help us spread the word about this podcast!",
    "Did you make one of my recipes? Please leave a comment below.", "Follow Hardtail Canada",
    "Réagir", "Offrir cet article", "Écouter cet article", "12 commentaires", "Listen to article",
])
def test_share_widget(text: str) -> None:
    assert is_share_widget(Line(text, edge=True))


@pytest.mark.parametrize("text", [
    "© SpaceX 𝕏", "© AFP", "Photo : Reuters", "Crédit photo : Jean Dupont / Le Monde",
    "Photo by Jane Doe/Getty Images", "(Image: Shutterstock)", "Illustration : DR",
    "Featured image by Unsplash",
])
def test_photo_credit(text: str) -> None:
    assert is_photo_credit(Line(text))
    assert rule(text) == "photo_credit"


@pytest.mark.parametrize("text", [
    "200% Deposit Bonus up to €3,000 180% First Deposit Bonus up to $20,000",
    "Publicité", "Advertisement", "Contenu sponsorisé", "La suite après cette publicité",
    "Story continues below advertisement", "Code promo : -20 % sur votre première commande",
    "Free spins up to 200 – claim now", "Book a demo", "Demandez un devis gratuit",
    "Unlock up to 55% OFF your subscription today!",
])
def test_ad(text: str) -> None:
    assert is_ad(Line(text, edge=True))


def test_offer_sentence_inside_the_body_stays() -> None:
    text = ("The Black Friday campaign offers 30% off all plans; mention the coupon code "
            "FRIDAY20 to the sales team.")
    assert not is_ad(Line(text, edge=False))


@pytest.mark.parametrize("text", [
    "Inscrivez-vous à notre newsletter", "Sign up for our daily newsletter",
    "Abonnez-vous pour lire la suite", "Cet article est réservé aux abonnés.",
    "Already a subscriber? Log in", "Déjà abonné ? Connectez-vous",
    "Get the best stories delivered to your inbox every morning",
    "This article is exclusive to STAT+ subscribers", "Subscribe", "Register now",
    "Il vous reste 75 % de cet article à lire.",
])
def test_newsletter(text: str) -> None:
    assert is_newsletter(Line(text))


@pytest.mark.parametrize("text", [
    "Lire aussi : Musk attaque OpenAI en justice", "À lire aussi", "READ MORE: Altman responds",
    "Related articles", "Sur le même sujet", "Voir aussi", "You may also like",
    "Tags: OpenAI, Musk, lawsuit", "LIRE AUSSI Le procès Musk contre OpenAI",
])
def test_related(text: str) -> None:
    assert is_related(Line(text))


@pytest.mark.parametrize("text", [
    "Back to Blogs", "Table of Contents", "Jump to recipe", "Sommaire", "Retour à l'accueil",
    "Skip to main content",
])
def test_navigation(text: str) -> None:
    assert is_navigation(Line(text))


@pytest.mark.parametrize("text", [
    "We use cookies to improve your experience. Accept all",
    "Nous utilisons des cookies pour mesurer l'audience. Tout accepter",
    "En poursuivant votre navigation, vous acceptez l'utilisation de traceurs.",
    "By continuing to browse this site you agree to our use of cookies.",
])
def test_cookie(text: str) -> None:
    assert is_cookie(Line(text))


@pytest.mark.parametrize("text", [
    "This page may contain third-party content, which is provided for information purposes "
    "only (not representations/warranties) and should not be considered as an endorsement of "
    "its views by the publisher, nor as financial or professional advice.",
    "Cet article est fourni à titre informatif et ne constitue pas un conseil en investissement.",
    "Avertissement : les cryptoactifs sont volatils, vous pouvez perdre votre capital.",
    "Disclaimer: the author holds no position in the companies mentioned.",
    "We may earn a commission when you buy through links on our site.",
    "© 2025 Example Media. All rights reserved.",
])
def test_disclaimer(text: str) -> None:
    assert is_disclaimer(Line(text, edge=True))


def test_single_strong_disclaimer_cue_needs_the_edge() -> None:
    text = "Disclaimer: the author holds no position in the companies mentioned."
    assert is_disclaimer(Line(text, edge=True))
    assert not is_disclaimer(Line(text, edge=False))


@pytest.mark.parametrize(("text", "name"), [
    ("By Teilor Stone", "Teilor Stone"),
    ("Par Marie Dupont, à Paris", "Marie Dupont"),
    ("Par Jean-Marc Le Goff et Anne Martin", "Jean-Marc Le Goff et Anne Martin"),
    ("Written by Jane Doe | Staff Writer", "Jane Doe"),
    ("Posted by David at December 16, 2025", "David"),
])
def test_byline_name(text: str, name: str) -> None:
    assert byline_name(Line(text)) == name
    assert is_byline(Line(text))


@pytest.mark.parametrize("text", [
    "Publié le 12 mars 2025 à 10h30", "Mis à jour le 3 février 2025", "March 3, 2025",
    "Updated: 14 January 2025 16:05 GMT", "5 min read", "Lecture : 4 min",
])
def test_datelines_and_reading_time(text: str) -> None:
    assert is_byline(Line(text))


def test_bare_name_is_a_byline_only_when_it_is_a_known_author() -> None:
    assert is_byline(Line("Teilor Stone", authors=frozenset({"teilor stone"})))
    assert not is_byline(Line("Teilor Stone"))
    assert not is_byline(Line("Sam Altman", authors=frozenset({"teilor stone"})))


BIO_EN = ("Teilor Stone has been a reporter on the news desk since 2013. Before that she was "
          "the legal affairs correspondent. Contact: teilor@paper.example 1-800-268-7116")
BIO_FR = ("Marie Dupont est journaliste au service économie depuis 2015. Elle couvre les "
          "nouvelles technologies. Suivez-la sur X.")


@pytest.mark.parametrize("bio", [BIO_EN, BIO_FR])
def test_author_bio_at_the_edge(bio: str) -> None:
    assert is_author_bio(Line(bio, edge=True))
    assert not is_author_bio(Line(bio, edge=False))


def test_author_bio_with_known_author_needs_one_cue() -> None:
    text = "Jane Doe writes about artificial intelligence and the companies building it."
    assert is_author_bio(Line(text, edge=True, authors=frozenset({"jane doe"})))
    assert not is_author_bio(Line(text, edge=True))


def test_rule_names_are_stable() -> None:
    assert rule("[ ]") == "empty"
    assert rule("Spread the love") == "share_widget"
    assert rule("© SpaceX 𝕏") == "photo_credit"
    assert rule("Publicité") == "ad"
    assert rule("Abonnez-vous à notre newsletter") == "newsletter"
    assert rule("Lire aussi : le procès") == "related"
    assert rule("Back to blog") == "navigation"
    assert rule("By Teilor Stone") == "byline"
    assert rule(BIO_EN, edge=True) == "author_bio"
    assert rule("We use cookies. Accept all") == "cookie"


def test_tables_and_code_are_left_to_the_repeat_rules() -> None:
    # first_rule judges text; clean.py only asks it about p/head/list/quote blocks.
    assert rule("Publicité", kind="table") == "ad"


def test_templated_link_list() -> None:
    cities = ["Boston", "Denver", "Austin", "Chicago", "Dallas", "Miami"]
    lines = ["Our survey covered 40 cities across the country in 2025."]
    lines += [f"Average Costs for Cleaning Services in {c}" for c in cities]
    assert templated_runs(lines) == list(range(1, 7))


def test_numbered_steps_are_not_a_link_list() -> None:
    steps = [f"Step {i}: mix the flour" for i in range(1, 7)]
    assert templated_runs(steps) == []


def test_short_templated_run_stays() -> None:
    lines = [f"Best hotels in {c}" for c in ("Paris", "Lyon", "Nice")]
    assert templated_runs(lines) == []


def test_looks_like_prose() -> None:
    assert looks_like_prose("The company said on Monday that it would appeal the ruling.")
    assert not looks_like_prose("Facebook Twitter LinkedIn Email Print")
