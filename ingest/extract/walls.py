"""Pages that are not articles: consent walls, bot challenges, "enable JavaScript"
shells, login walls and error pages, all served with ``200``.

Such a page must never become a record: it is skipped with its kind as the reason
(``NotAnArticle``) and fetched again the next time its source lists it, when the wall
may be gone. The difficulty is the other way round: nearly every real article carries
*some* wall markup (a cookie banner and its consent platform's script, a reCAPTCHA on
the comment form, a login box in the sidebar, a ``<noscript>`` asking for JavaScript
for the comments, "404" in its text). So no signal decides alone. A page is a wall
only when **the wall evidence is strong and the article text extraction found is
little**, and the more specific the evidence, the more text it may outweigh:

=========== =============================================================== ===========
tier        evidence                                                        article
                                                                            text under
=========== =============================================================== ===========
decisive    a challenge's own markup (``_cf_chl_opt``, DataDome's            2000 chars
            ``captcha-delivery.com``, ``id="px-captcha"``...), a consent
            host (``consent.*``, ``guce.*``), an error template's
            ``<body class="error404">``
titled      the ``<title>`` or an ``<h1>`` is the wall's ("Just a moment",    400 chars
            "Page introuvable", "Sign in | Site"), with a second signal
            where the title is common words (a login title and a password
            field or a "sign in to continue" sentence; a consent title and
            a consent sentence or platform)
sentences   the wall's sentences with the markup they come with (consent      150 chars
            sentences and a consent platform, a "log in to continue
            reading" and a password field, challenge sentences and a
            captcha), an error sentence, an "enable JavaScript" sentence;
            or, in any language, visible text mostly (60%) inside consent
            containers
=========== =============================================================== ===========

*Article text* is what cleaning kept, minus the paragraphs that are themselves wall
sentences or the text of a consent container (a consent dialog that extraction took for
the body is the wall talking). A quoted phrase ("un bouton « Tout accepter »") is an
article talking about a wall, and counts as article text.
Why these numbers: a wall's own leftovers (form labels, a footer line, a "Ray ID")
stay under 150 characters once its sentences are set aside, while a real article has
at least one real paragraph: the shortest of the 972 real articles of
``bench/walls.py`` has 269 characters, 2 have under 400 and 89 under 2000. A sentence
can sit beside an article (a cookie banner, "Please enable JavaScript to view the
comments"), so it only names a page with no article at all; a wall's title cannot, so
it outweighs a short text or a soft 404's list of suggestions; 2000 is a guard only,
for a page whose decisive markup is not what it seems. A paywalled teaser's own prompt
("log in to read on" and a password field) is not a login wall (``paywalled=True``, from
:func:`ingest.extract.access.access_of`); a challenge or an error page still is a wall.

Titles are matched segment by segment ("Page introuvable | Le Quotidien"); a short
wall title must fill its segment ("Un instant" names a challenge, "Un instant de grâce"
does not; see :data:`~ingest.extract.wallwords.TITLE_EXTRA_WORDS`). The vocabulary (seven
languages) is data: ``walls.toml``.

Cost: a page whose text is at least 2000 characters long is settled by one sum; a
shorter one is searched for the decisive markers (substring tests); only a page with
under 400 characters of article text is parsed again to read its title, headings,
visible text and forms.

Example::

    >>> challenge = ("<html><head><title>Just a moment...</title></head><body>"
    ...              "<p>Checking your browser before accessing news.example.</p></body></html>")
    >>> wall_kind(challenge)
    'bot_challenge'
    >>> article = ("<html><head><title>Le procès</title><script src='https://cdn.didomi.io/x.js'>"
    ...            "</script></head><body><p>" + "Le tribunal a entendu les parties. " * 30
    ...            + "</p></body></html>")
    >>> wall_kind(article, paragraphs=["Le tribunal a entendu les parties. " * 30]) is None
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from ingest.extract.wallpage import PageView, read_page
from ingest.extract.wallwords import fold, has_phrase, phrase_hits, title_hits, vocabulary

WallKind = Literal["consent_wall", "bot_challenge", "js_required", "login_wall", "error_page"]

DECISIVE_MAX = 2_000
"""Article characters that outweigh even decisive wall markup."""
STRONG_MAX = 400
"""Article characters that outweigh a wall's title."""
CONSENT_SHARE = 0.6
"""A page with no article text is a consent wall when this share of its visible text
sits in consent containers, whatever its language."""
EMPTY_MAX = 150
"""Article characters that outweigh a wall's sentences: under this, extraction found
no article at all (what a challenge or a JavaScript shell gives)."""

_BODY_CLASS = re.compile(r"<body\b[^>]*?\bclass\s*=\s*[\"']?([^\"'>]*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Wall:
    """A page judged not to be an article: its kind, and the evidence, for the log."""

    kind: WallKind
    evidence: str


def wall_kind(html: str, *, url: str | None = None, title: str | None = None,
              paragraphs: Sequence[str] = (), paywalled: bool = False) -> WallKind | None:
    """The kind of wall ``html`` is, or None for a page that may be an article.

    ``title`` and ``paragraphs`` are what extraction and cleaning found (nothing when
    extraction found no text); ``url`` is the page's final URL; ``paywalled`` says the
    page is a paywalled teaser (:func:`~ingest.extract.access.access_of`): its own
    prompt ("Connectez-vous pour lire la suite" and a password field) is then not a
    login wall, however short the teaser. See :func:`find_wall`.
    """
    wall = find_wall(html, url=url, title=title, paragraphs=paragraphs, paywalled=paywalled)
    return wall.kind if wall is not None else None


def find_wall(html: str, *, url: str | None = None, title: str | None = None,
              paragraphs: Sequence[str] = (), paywalled: bool = False) -> Wall | None:
    """:func:`wall_kind` with the evidence that decided it.

    >>> find_wall("<html><body><p>x</p></body></html>", url="https://consent.portal.example/v2")
    Wall(kind='consent_wall', evidence='consent host consent.portal.example')
    """
    if sum(map(len, paragraphs)) >= DECISIVE_MAX:  # article_chars is never more than this
        return None
    text = article_chars(paragraphs)
    wall = decisive_wall(html, url)
    if wall is not None or text >= STRONG_MAX:
        return wall
    page = read_page(html, title)
    if page.consent_text:  # a consent dialog that extraction took for the body
        text = article_chars([p for p in paragraphs if fold(p) not in page.consent_text])
    wall = judge(page, html.lower(), text)
    return None if paywalled and wall is not None and wall.kind == "login_wall" else wall


def article_chars(paragraphs: Sequence[str]) -> int:
    """Characters of the paragraphs that are not wall sentences.

    >>> article_chars(["We value your privacy. We and our partners store cookies.",
    ...                "The court heard both founders on Monday."])
    40
    """
    return sum(len(p) for p in paragraphs if not has_phrase(p))


def decisive_wall(html: str, url: str | None) -> Wall | None:
    """A wall named by markup no article page carries.

    >>> decisive_wall('<body class="error404 logged-out"><h1>Oops</h1></body>', None)
    Wall(kind='error_page', evidence='body class error404')
    """
    vocab = vocabulary()
    host = urlsplit(url or "").hostname or ""
    if host.split(".", 1)[0] in vocab.host_labels and "." in host:
        return Wall("consent_wall", f"consent host {host}")
    for marker in vocab.decisive_markers:
        if marker in html:
            return Wall("bot_challenge", f"challenge markup {marker}")
    body = _BODY_CLASS.match(html, max(html.find("<body"), 0))
    for name in (body.group(1).lower().split() if body else ()):
        if name in vocab.body_classes:
            return Wall("error_page", f"body class {name}")
    return None


def judge(page: PageView, low: str, text: int) -> Wall | None:
    """The wall ``page`` shows, given ``text`` article characters and the lower-cased
    markup ``low``: the first kind, in the order of
    :data:`~ingest.extract.wallwords.WALL_KINDS`, whose evidence outweighs the text.

    >>> judge(PageView(("Page introuvable | Le Quotidien",), "", "", False), "", 250)
    Wall(kind='error_page', evidence="title 'page introuvable'")
    >>> judge(PageView(("Un procès",), "la page que vous recherchez", "", False), "", 250)
    """
    vocab = vocabulary()
    titles = title_hits(*page.titles)
    hits = phrase_hits(page.text) | phrase_hits(page.noscript)
    said = {kind: sorted(p for k, p in hits if k == kind) for kind in vocab.titles}
    marked = {kind: next((m for m in vocab.markers[kind] if m in low), None)
              for kind in ("consent_wall", "bot_challenge")}
    checks: tuple[tuple[WallKind, Evidence | None], ...] = (
        ("bot_challenge", _challenge(titles.get("bot_challenge"), said["bot_challenge"],
                                     marked["bot_challenge"])),
        ("consent_wall", _consent(titles.get("consent_wall"), said["consent_wall"],
                                  marked["consent_wall"], page.consent_share)),
        ("login_wall", _login(titles.get("login_wall"), said["login_wall"], page.password)),
        ("error_page", _error(titles.get("error_page"), said["error_page"])),
        ("js_required", _sentences(said["js_required"])),
    )
    for kind, evidence in checks:
        if evidence is not None and text < evidence.limit:
            return Wall(kind, evidence.what)
    return None


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a check found, and the article text it outweighs (a tier's limit)."""

    what: str
    limit: int


def _titled(title: str, also: str | None = None) -> Evidence:
    return Evidence(f"title {title!r}" + (f" and {also}" if also else ""), STRONG_MAX)


def _sentences(said: list[str], also: str | None = None) -> Evidence | None:
    if not said:
        return None
    return Evidence(f"text {said[0]!r}" + (f" and {also}" if also else ""), EMPTY_MAX)


def _challenge(title: str | None, said: list[str], marker: str | None) -> Evidence | None:
    """A challenge's title alone ("Just a moment", "Un instant"), or its sentences
    with a captcha widget, or two of them."""
    if title is not None:
        return _titled(title)
    if said and (marker is not None or len(said) > 1):
        return _sentences(said, f"markup {marker}" if marker else None)
    return None


def _consent(title: str | None, said: list[str], marker: str | None,
             share: float) -> Evidence | None:
    """A consent title with a consent sentence or platform; or, on a page with no
    article text, two consent sentences with a platform, or three (a banner beside a
    short article says as much), or visible text mostly in consent containers."""
    if title is not None and (said or marker is not None):
        return _titled(title, f"text {said[0]!r}" if said else f"markup {marker}")
    if (len(said) > 1 and marker is not None) or len(said) > 2:
        return _sentences(said, f"markup {marker}" if marker else None)
    if share >= CONSENT_SHARE:
        return Evidence(f"{share:.0%} of the visible text in consent containers", EMPTY_MAX)
    return None


def _login(title: str | None, said: list[str], password: bool) -> Evidence | None:
    """A login title with a password field or a "sign in to continue reading"
    sentence; or that sentence beside a password field, on a page with no article
    text (a sidebar login box has neither title nor sentence)."""
    if title is not None and (password or said):
        return _titled(title, "a password field" if password else f"text {said[0]!r}")
    return _sentences(said, "a password field") if password else None


def _error(title: str | None, said: list[str]) -> Evidence | None:
    """An error title or heading ("Page introuvable", "404"), or an error sentence
    on a page with no article text."""
    return _titled(title) if title is not None else _sentences(said)
