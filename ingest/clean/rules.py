"""Line rules: is this block of an article body publisher boilerplate?

Each rule is a pure predicate over a :class:`Line` (the block's text, kind
and position) and combines several weak cues: wording in French or English
(the patterns in :mod:`ingest.clean.cues`), length, punctuation, the share of
function words (prose has many, widgets none) and position (widgets and
author boxes sit at the start or end of the body). A rule that is unsure
answers False: losing a body line is worse than keeping a widget.

Example::

    >>> line = Line("Inscrivez-vous à notre newsletter", "p", edge=True)
    >>> first_rule(line)
    'newsletter'
    >>> first_rule(Line("La banque a remboursé le dépôt de ses clients en mars.", "p"))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ingest.clean import cues as cue
from ingest.clean.labels import interface_label
from ingest.clean.lexicon import (
    SOCIAL_TOKENS,
    letter_ratio,
    lowercase_ratio,
    stopword_ratio,
    word_count,
    word_tuple,
)


@dataclass(frozen=True, slots=True)
class Line:
    """One body block with the context the rules need.

    ``edge``: within the first or last few blocks of the body, where widgets,
    bylines and author boxes live. ``authors``: names already known for the
    article (metadata or a byline), casefolded.
    """

    text: str
    kind: str = "p"
    edge: bool = False
    authors: frozenset[str] = field(default_factory=frozenset)
    #: Whitespace-separated words, counted once: every rule asks it first.
    n_words: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_words", word_count(self.text))


def is_empty(line: Line) -> bool:
    """No letter or digit at all: ``[ ]``, ``***``, ``—``, ``…``.

    >>> is_empty(Line("[ ]")), is_empty(Line("5"))
    (True, False)
    """
    return not any(c.isalnum() for c in line.text)


def is_share_widget(line: Line) -> bool:
    """Share/follow buttons and counters: "Spread the love", "0 𝕏", "Partager sur Facebook".

    Also calls to engage (comment, rate, follow, join the group) at the edge.

    >>> is_share_widget(Line("12 Shares")), is_share_widget(Line("Je partage ton avis."))
    (True, False)
    """
    if line.n_words <= 60 and cue.ENGAGEMENT.search(line.text):
        return True
    if line.n_words <= 5 and cue.FOLLOW_NAME.match(line.text):
        return True
    if line.n_words > 12 or _sentence_like(line.text):
        return False
    if cue.SHARE_CALL.search(line.text):
        return True
    tokens = word_tuple(line.text)
    return bool(tokens) and all(t in SOCIAL_TOKENS or t.isdigit() for t in tokens) and any(
        not t.isdigit() for t in tokens
    )


def is_photo_credit(line: Line) -> bool:
    """Short credit lines: "© SpaceX", "Photo : AFP", "(Image: Getty Images)".

    >>> is_photo_credit(Line("© Reuters")), is_photo_credit(Line("Photography is an art."))
    (True, False)
    """
    if line.n_words > 16:
        return False
    text = line.text.strip(" ()[]")
    if cue.CREDIT_START.match(text):
        return True
    # PHOTO_WORD first: it is rarely there and far cheaper than the agency list.
    return cue.PHOTO_WORD.search(text) is not None and bool(cue.AGENCY_END.search(text))


def is_ad(line: Line) -> bool:
    """Ad labels ("Publicité", "Advertisement") and promotional lines.

    A promotional line has two commercial cues (bonus, deposit, discount ...),
    or a promo code, betting or buy-now cue with any other (a price, a
    percentage), and does not read as a sentence; at the
    edge of the body, a sentence with three cues, one of them a call to buy
    ("unlock", "claim now", "shop now"), is an ad too.

    >>> is_ad(Line("200% Deposit Bonus up to €3,000"))
    True
    >>> is_ad(Line("Customers saw a 2% bonus on every deposit up to €3,000 last year."))
    False
    """
    if cue.AD_LABEL.fullmatch(line.text.strip(" .:-–—()[]")):
        return True
    if line.n_words <= 15 and (cue.AD_PREFIX.match(line.text) or
                               cue.CALL_TO_ACTION.search(line.text)):
        return True
    if line.n_words > 40:
        return False
    cues = cue.promo_cues(line.text)
    commercial = len(cues & cue.COMMERCIAL) >= 2 or (len(cues) >= 2 and cues & cue.STRONG_PROMO)
    if commercial and not _sentence_like(line.text):
        return True
    return line.edge and len(cues) >= 3 and "cta" in cues


def is_newsletter(line: Line) -> bool:
    """Calls to subscribe, sign up or log in: "Abonnez-vous", "Sign up for our newsletter".

    >>> is_newsletter(Line("Sign up for our daily newsletter"))
    True
    >>> is_newsletter(Line("Subscriptions to the paper rose 10% last year."))
    False
    """
    if line.n_words > 45:
        return False
    if line.n_words <= 12 and cue.SUBSCRIBE_START.match(line.text):
        return True
    return bool(cue.NEWSLETTER_CALL.search(line.text))


def is_related(line: Line) -> bool:
    """"Read more / related" lines: "Lire aussi : ...", "READ MORE: ...", "Related articles".

    >>> is_related(Line("À lire aussi : Musk attaque OpenAI")), is_related(Line("Read on."))
    (True, False)
    """
    if line.n_words > 30:
        return False
    text = line.text.strip(" »>›-–—•|*")
    label = cue.RELATED_LABEL.match(text)
    if label is not None and cue.RELATED_SEPARATOR.match(text[label.end():]):
        return True
    match = cue.RELATED_CUE.match(text)
    if match is None:
        return False
    if cue.RELATED_SEPARATOR.match(text[match.end():]):
        return True
    return line.n_words <= 15 and not _sentence_like(text)


def is_navigation(line: Line) -> bool:
    """In-article navigation: "Back to blog", "Table of contents", "Jump to recipe", "Sommaire".

    >>> is_navigation(Line("Back to Blogs")), is_navigation(Line("Back to the future was fun."))
    (True, False)
    """
    if line.n_words > 8:
        return False
    text = _EDGE_PUNCT.sub("", line.text)
    return bool(cue.NAVIGATION.fullmatch(text))


_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


def is_cookie(line: Line) -> bool:
    """Cookie/consent banners: a cookie word *and* an address to the reader.

    >>> is_cookie(Line("We use cookies to improve your experience. Accept all"))
    True
    >>> is_cookie(Line("The regulator fined the firm over cookie consent rules."))
    False
    """
    if line.n_words > 90:
        return False
    return bool(cue.COOKIE_WORD.search(line.text) and cue.COOKIE_ADDRESS.search(line.text))


def is_disclaimer(line: Line) -> bool:
    """Publisher disclaimers, risk warnings, affiliate notes, rights notices.

    Two distinct disclaimer cues, or one strong cue at the edge of the body.

    >>> is_disclaimer(Line("This article is for information purposes only and does not "
    ...                    "constitute financial advice."))
    True
    >>> is_disclaimer(Line("The judge said his advice was not financial.", edge=True))
    False
    """
    if line.n_words > 150:
        return False
    found = cue.disclaimer_cues(line.text)
    if len(found) >= 2:
        return True
    return line.edge and bool(found & cue.STRONG_DISCLAIMER
                              or (found and cue.DISCLAIMER_LABEL.match(line.text)))


def byline_name(line: Line) -> str | None:
    """The author named by a byline ("By Jane Doe", "Par Marie Dupont, à Paris"), if any.

    >>> byline_name(Line("By Teilor Stone")), byline_name(Line("By Monday, the deal was off."))
    ('Teilor Stone', None)
    """
    if line.n_words > 16:
        return None
    match = cue.BYLINE.match(cue.strip_leading_date(line.text.strip()))
    if match is None or not cue.tail_is_metadata(match.group("tail")):
        return None
    return " ".join(match.group("name").split())


def is_byline(line: Line) -> bool:
    """A byline, a dateline, or the bare name of a known author on its own line.

    >>> is_byline(Line("Teilor Stone", authors=frozenset({"teilor stone"})))
    True
    """
    if byline_name(line) is not None or cue.is_dateline(line.text):
        return True
    if line.n_words <= 8 and cue.READING_TIME.fullmatch(line.text.strip(" .·|•")):
        return True
    bare = " ".join(line.text.split()).strip(" .,:;|").casefold()
    return bool(bare) and bare in line.authors


def is_author_bio(line: Line) -> bool:
    """An author box at the edge of the body: "Jane Doe is a reporter ...", "X est journaliste".

    Needs the edge position, a person-name opening and either a known author's
    name with a bio cue, or a contact cue (e-mail, phone, "follow her") with a
    role or career cue: a sentence about someone's career alone is news.

    >>> bio = "Jane Doe has been a reporter since 2013. Contact: jane@paper.example"
    >>> is_author_bio(Line(bio, edge=True)), is_author_bio(Line(bio, edge=False))
    (True, False)
    """
    if not line.edge or line.n_words > 160:
        return False
    opening = cue.NAME_OPENING.match(line.text.strip())
    if opening is None:
        return False
    named = " ".join(opening.group("name").split()).casefold() in line.authors
    cues = cue.bio_cues(line.text)
    return (named and bool(cues)) or ("contact" in cues and len(cues) >= 2)


def _sentence_like(text: str) -> bool:
    """Reads as a prose sentence: ends like one, mostly lower-case words, some function words.

    Headlines, labels and ads are Title Case or lack final punctuation.
    """
    stripped = text.rstrip(" »”\"')")
    ends = stripped.endswith((".", "!", "?", "…")) and not stripped.endswith("...")
    return (ends and word_count(text) >= 5 and lowercase_ratio(text) >= 0.5
            and stopword_ratio(text) >= 0.05)


# Order matters only for the rule name reported when several rules agree.
RULES: tuple[tuple[str, Callable[[Line], bool]], ...] = (
    ("empty", is_empty),
    ("cookie", is_cookie),
    ("disclaimer", is_disclaimer),
    ("newsletter", is_newsletter),
    ("related", is_related),
    ("navigation", is_navigation),
    ("ad", is_ad),
    ("photo_credit", is_photo_credit),
    ("share_widget", is_share_widget),
    ("byline", is_byline),
    ("author_bio", is_author_bio),
)


def first_rule(line: Line) -> str | None:
    """Name of the first rule that drops ``line``, or None to keep it.

    A line that is only an interface label (:mod:`ingest.clean.labels`) is
    dropped under that label's rule before any wording rule is asked.
    """
    label = interface_label(line.text)
    if label is not None:
        return label
    for name, rule in RULES:
        if rule(line):
            return name
    return None


def looks_like_prose(text: str) -> bool:
    """A sentence of ordinary prose: long enough, mostly letters, many function words.

    >>> looks_like_prose("Le juge a rejeté la demande de la société, selon le jugement.")
    True
    """
    return word_count(text) >= 8 and letter_ratio(text) > 0.7 and stopword_ratio(text) >= 0.2



def templated_runs(texts: Sequence[str], min_lines: int = 5, prefix: int = 3) -> list[int]:
    """Runs of short link-like lines built from one template: a "related" link list.

    ``min_lines`` or more consecutive short lines, none reading as a sentence,
    all starting with the same ``prefix`` words ("Average Costs for Cleaning
    Services in Boston", "... in Denver", ...). Numbered steps differ in their
    second word ("Step 1 ...", "Step 2 ...") and stay.

    >>> lines = [f"Best Cleaning Services in {c}" for c in "ABCDE"]
    >>> templated_runs(["Intro paragraph."] + lines)
    [1, 2, 3, 4, 5]
    """
    found: list[int] = []
    run: list[int] = []
    for i, text in enumerate([*texts, ""]):
        head = _template_head(text, prefix)
        if run and head is not None and head == _template_head(texts[run[0]], prefix):
            run.append(i)
            continue
        if len(run) >= min_lines:
            found.extend(run)
        run = [i] if head is not None else []
    return found


def _template_head(text: str, prefix: int) -> tuple[str, ...] | None:
    if word_count(text) > 12:
        return None
    tokens = word_tuple(text)
    if len(tokens) <= prefix or _sentence_like(text):
        return None
    return tokens[:prefix]
