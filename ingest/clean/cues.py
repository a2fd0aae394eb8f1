"""Wording cues of in-body boilerplate, French and English.

Patterns describe *kinds* of phrasing ("share this ...", "lire aussi",
"does not constitute financial advice"), never a given site's sentence. No
cue decides alone: :mod:`ingest.clean.rules` combines them with length,
punctuation and position. All patterns are case-insensitive.

Every line of every article is searched for these cues, so the long
alternations are :class:`~ingest.clean.patterns.Cue` objects, which skip a line
lacking the words any match must contain. Plain word lists (social tokens,
byline words, month names) live in :mod:`ingest.clean.lexicon`.

Example::

    >>> sorted(promo_cues("200% Deposit Bonus up to €3,000"))
    ['bonus', 'deposit', 'money', 'percent', 'up_to']
    >>> sorted(disclaimer_cues("Not financial advice. For information purposes only."))
    ['info_only', 'not_advice']
"""

from __future__ import annotations

import re

from ingest.clean.lexicon import META_WORDS, MONTHS
from ingest.clean.patterns import Cue

_I = re.IGNORECASE

_UP = "A-ZÀ-ÖØ-Þ"
_NAME_WORD = rf"[{_UP}][\w'’.-]*"
_PARTICLE = r"(?:de|da|del|della|di|du|des|van|von|der|den|le|la|bin|ibn|al|el|dos|y)"
NAME = rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{0,3}}"

SHARE_CALL = re.compile(
    r"^\W*(?:spread the (?:love|word)|share the love|sharing is caring|"
    r"share (?:this|the|on|via|to)\b|share\s*[:!]|"
    r"partage[rz]?\s*(?:cet|cette|ce|l['’]|sur|via|par|:|!)|faites passer|"
    r"follow us\b|suivez[- ]nous\b|join us on\b|rejoignez[- ]nous sur\b|"
    r"copy (?:the )?link|copier le lien|click to (?:share|email|print)|cliquez pour partager|"
    r"like us on|aimez notre page|share your (?:story|thoughts|experience|views)|"
    r"partagez (?:votre|vos) (?:histoire|avis|expérience)|pin (?:it|this|for later)|"
    r"save (?:it )?for later|stay connected\b|restez connectés?\b|réagir\b|commenter\b|"
    r"(?:offrir|écouter|sauvegarder|imprimer) (?:cet|l['’]) ?article|"
    r"(?:gift|listen to|save|print) (?:this )?article|ajouter à (?:mes )?favoris|"
    r"add to (?:favorites|bookmarks)|\d+\s+(?:comments?|commentaires?|réactions?)\b)",
    _I,
)
ENGAGEMENT = Cue(
    r"\b(?:help (?:me|us) spread the word|tell your friends|refer a friend|parrainez|"
    r"if you (?:liked|enjoyed|found) this (?:article|post|"
    r"story|video|podcast|episode)|si (?:vous avez aimé|cet article vous a plu)|"
    r"please consider (?:liking|sharing|subscribing|supporting)|"
    r"(?:did|have) you (?:make|made|try|tried) (?:this|one of my|my) recipes?|"
    r"n['’]hésitez pas à (?:partager|commenter|nous suivre)|"
    r"(?:please|feel free to|don['’]t forget to) (?:leave|drop) (?:a|your|us a) (?:comment|"
    r"reply|rating|review|star rating)|"
    r"follow (?:me|us) on (?:facebook|twitter|x|instagram|linkedin|tiktok|youtube|"
    r"threads|bluesky|pinterest)|suivez-(?:moi|nous) sur)\b|"
    r"^\W*(?:join (?:the|our) [\w ]{0,30}(?:group|community|channel|server)|"
    r"rejoignez (?:le|notre) (?:groupe|communauté|chaîne)|leave (?:a|your) (?:comment|reply|"
    r"rating|review)|laissez(?:-nous)? (?:un|votre) (?:commentaire|avis))\b",
    _I,
)
FOLLOW_NAME = re.compile(rf"^\W*(?i:follow|suivez)\s+{NAME}\W*$")
NAVIGATION = re.compile(
    r"back to (?:the )?(?:blog|blogs|top|home|homepage|articles?|news|list|posts?|"
    r"overview|index|search results)|blog index|(?:table of )?contents|"
    r"jump to (?:the )?(?:recipe|list|content|section|comments|video)|"
    r"skip to (?:the )?(?:main )?content|retour (?:à l['’]accueil|au blog|aux articles|en haut"
    r"|à la liste|au sommaire)|sommaire|aller au contenu|in this (?:article|post|guide)|"
    r"dans cet article|print (?:this )?(?:article|page)|imprimer(?: l['’]article| cette page)?"
    r"|(?:go|scroll) to top|haut de (?:la )?page|previous|next|précédent|suivant",
    _I,
)
READING_TIME = re.compile(
    r"(?:reading time|temps de lecture|lecture)?\s*:?\s*\d+\s*(?:min(?:ute)?s?|mn)\.?"
    r"(?:\s*(?:read|de lecture|lecture|to read))?",
    _I,
)
CALL_TO_ACTION = Cue(
    r"(?:^\W*|[.!?]\s+)(?:book (?:a|your) (?:free )?(?:demo|call|consultation)|"
    r"request (?:a|your) (?:free )?(?:quote|demo|call|consultation)|"
    r"get (?:a |your )?free (?:quote|trial|demo|consultation|estimate)|"
    r"get started(?: today| now| for free)?\W*$|contact us(?: today| now)?\W*$|"
    r"talk to (?:our|an|a)(?: [\w-]+){0,4} (?:experts?|specialists?|team)|"
    r"try (?:it )?(?:for )?free|"
    r"start (?:your )?free trial|essai gratuit|demandez (?:un|votre) devis|"
    r"prenez rendez-vous|contactez-nous\W*$|shop (?:now|the look)|buy now|order now|"
    r"download (?:the app|now|our app)|téléchargez (?:l['’]application|notre application))",
    _I,
)
AD_PREFIX = re.compile(
    r"^(?:advertisement|publicité|sponsored|sponsorisé|annonce|ad)\s*[:|–—-]", _I
)

CREDIT_START = re.compile(
    r"^(?:©|\(c\)\s|copyright\s*(?:©|\(c\)|\d{4})|"
    r"(?:(?:featured?|header|cover|top|main|lead|hero)\s+)?"
    r"(?:photos?|images?|pictures?|illustrations?|foto|infographie|graphic)"
    r"(?:\s+credits?|\s+crédits?)?\s*(?::|©|/|by\b|de\b|par\b|courtesy\b)|"
    r"(?:crédits?|credits?)(?:\s+photos?|\s+images?)?\s*[:©/]|"
    r"source\s+(?:photo|image)|courtesy of\b|avec l['’]aimable autorisation)",
    _I,
)
AGENCY_END = re.compile(
    r"(?:getty(?: images)?|afp|reuters|associated press|ap photo|\bap|epa(?:-efe)?|"
    r"shutterstock|istock(?:photo)?|unsplash|pexels|pixabay|wikimedia(?: commons)?|abaca(?:press)?|"
    r"sipa(?: press)?|maxppp|hans lucas|bloomberg|alamy|dpa|anadolu|xinhua|\bdr|nurphoto|"
    r"imago|zuma(?: press)?|leemage|belga|keystone|ansa|efe)\W*$",
    _I,
)
PHOTO_WORD = re.compile(
    r"\b(?:photos?|images?|pictures?|illustrations?|crédits?|credits?|photographie|"
    r"screenshot|capture d['’]écran|via)\b|©|/",
    _I,
)

AD_LABEL = re.compile(
    r"advertisements?|advertising|ads?|sponsored(?: (?:content|post|article|story))?|"
    r"sponsored by .{1,40}|paid (?:content|post|partnership)|partner content|"
    r"promoted(?: content| stories)?|publicités?|pub|annonces?|sponsorisée?|"
    r"contenu (?:sponsorisé|partenaire|de marque|proposé par .{1,40})|article sponsorisé|"
    r"la suite (?:de l['’]article )?après (?:cette |la )?(?:publicité|annonce)|"
    r"(?:the )?(?:story|article) continues (?:below|after)"
    r"(?: (?:the |this )?(?:advertisement|ad))?|"
    r"continue reading (?:below|the main story)|scroll (?:down )?to continue(?: reading)?"
    r"(?: with content)?|skip (?:the )?ad|publi-?(?:rédactionnel|reportage|communiqué)",
    _I,
)
_PROMO = {
    "bonus": r"\bbonus(?:es)?\b",
    "deposit": r"\b(?:deposits?|dépôts?|depot)\b",
    "free_spins": r"\bfree ?spins?\b|\btours? gratuits?\b|\bfree bets?\b|\bparis? gratuits?\b",
    "percent": r"\d\s?%",
    "money": r"[€$£]\s?\d|\d(?:[\d,.\s]*\d)?\s?(?:€|\$|£|eur\b|usd\b|euros?\b|dollars?\b)",
    "up_to": r"\bup to\b|\bjusqu['’]\s?à\b",
    "promo_code": r"\bpromo(?:tional)? ?codes?\b|\bcodes? promo\b|\bcoupons?\b|\bvouchers?\b",
    "discount": r"\b(?:\d+\s?% off|discounts?|réductions?|remises?|special offers?|"
                r"offre spéciale|limited time|offre limitée|bons? plans?|cashback|"
                r"free (?:trial|shipping)|essai gratuit|livraison gratuite)\b",
    "casino": r"\b(?:casinos?|betting|bookmakers?|jackpots?|paris sportifs|slots?|wager)\b",
    "cta": r"\b(?:claim (?:now|your|bonus)|unlock|today!|now!|buy now|shop now|order now|"
           r"achetez|commandez|"
           r"profitez|get started|join now|play now|jouez|click here|cliquez ici|"
           r"learn more|en savoir plus|t&cs? apply|18\+)",
}
_PROMO_RE = {name: re.compile(p, _I) for name, p in _PROMO.items()}
STRONG_PROMO = frozenset({"promo_code", "free_spins", "casino", "cta"})
COMMERCIAL = frozenset({"bonus", "deposit", "free_spins", "promo_code", "discount", "casino",
                        "cta"})
_COMMERCIAL_ANY = Cue("|".join(f"(?:{_PROMO[n]})" for n in sorted(COMMERCIAL)), _I)

_NEWSLETTER = r"(?:e-?mail )?(?:newsletters?|infolettres?|lettres? d['’]information)"
NEWSLETTER_CALL = Cue(
    rf"\b(?:sign up|subscribe|register|inscrivez-vous|abonnez-vous|s['’]abonner|s['’]inscrire|"
    rf"recevez|receive|get|join)\b[^.!?]{{0,40}}\b{_NEWSLETTER}\b|"
    rf"\b(?:our|notre|nos)\s+(?:[\w-]+\s+){{0,3}}{_NEWSLETTER}\b|"
    r"\b(?:reserved|réservée?s?) (?:for |to |aux )(?:subscribers|abonnés|members|membres)\b|"
    r"\bsubscribers? only\b|\bsubscribe (?:now |today )?to (?:read|continue|unlock|get)\b|"
    r"\bexclusive (?:to|for) [\w+ ]{0,30}(?:subscribers|members)\b|"
    r"\b(?:funded|supported|powered) by (?:readers|our readers|members|listeners)|"
    r"\breader-supported\b|"
    r"\bto continue reading\b|\bpour (?:lire|continuer à lire|poursuivre) la (?:suite|lecture)\b|"
    r"\bil vous reste \d+ ?% de (?:cet|l['’]) ?article\b|"
    r"\b(?:delivered|straight|directly) to your inbox\b|"
    r"\bdans votre boîte (?:mail|e-mail|aux lettres|de réception)\b",
    _I,
)
# Imperatives that are widgets only as short lines: "Sign up" is also step 1 of a how-to.
SUBSCRIBE_START = re.compile(
    r"^\W*(?:subscribe|abonnez-vous|inscrivez-vous|je m['’]abonne|s['’]abonner|sign up|"
    r"sign in|log in|connectez-vous|se connecter|create (?:a |an |your )?(?:free )?account|"
    r"créez (?:un|votre) compte|already (?:a )?(?:subscriber|member|registered)|"
    r"déjà (?:abonné|inscrit|membre)|become a (?:member|subscriber|patron)|"
    r"devenez (?:membre|abonné)|support (?:our|independent|quality) journalism|"
    r"soutenez[- ]nous|enter your e-?mail|entrez votre (?:adresse )?e-?mail|"
    r"register(?: now| today| here| for free)?\W*$|login\W*$|s['’]inscrire\W*$|"
    r"(?:get|receive) the latest (?:news|updates|articles|stories|insights|offers)|"
    r"stay (?:informed|updated|in the loop|up to date)\W*$|restez informés?\W*$|"
    r"support (?:us|our work)|donate|make a donation|faites un don|faire un don)\b",
    _I,
)

# Cues that name a link to another article: enough with a headline after them.
RELATED_CUE = re.compile(
    r"(?:read (?:more|also|next|the full story)|related(?: articles?| stories| posts| content|"
    r" coverage| news| reading| topics)?|see also|more (?:on|from|about) (?:this|the|our)\b"
    r"|you (?:may|might) (?:also )?(?:like|enjoy|be interested)|further reading|also read|"
    r"don['’]?t miss|must read|lire (?:aussi|également|la suite|plus)|"
    r"à lire (?:aussi|également|absolument)|a lire (?:aussi|également)|voir aussi|"
    r"à voir (?:aussi|également)|sur le même (?:sujet|thème)|dans la même rubrique|"
    r"articles? (?:similaires|liés|connexes|recommandés)|vous aimerez aussi|"
    r"vous (?:pourriez|pourrez) (?:aussi|également) aimer|découvrez aussi|explore more)\b",
    _I,
)
# Labels that are also ordinary words ("Recommended configuration"): only as a label,
# alone on the line or followed by a separator.
RELATED_LABEL = re.compile(
    r"(?:recommended(?: for you| articles| stories| reading)?|most (?:read|popular|viewed|"
    r"shared)|trending(?: now)?|popular (?:posts|stories|articles)|watch|listen|"
    r"les plus (?:lus|partagés)|à découvrir|tags?|mots[- ]clés|étiquettes|topics|sujets|"
    r"catégories?|categories|filed under|posted in|publié dans|previous (?:article|post|story)|"
    r"next (?:article|post|story)|article (?:précédent|suivant)|(?:en|in) (?:vidéo|video))\b",
    _I,
)
RELATED_SEPARATOR = re.compile(r"^\s*(?:$|[:\-–—|»>›•]|\.\.\.|…)")

COOKIE_WORD = Cue(
    r"\b(?:cookies?|traceurs?|consent(?:ement)?|gdpr|rgpd|tracking technologies)\b", _I
)
COOKIE_ADDRESS = re.compile(
    r"\b(?:we use|nous utilisons|(?:this|our) (?:site|website) uses|(?:ce|notre) site utilise|"
    r"you (?:agree|accept|consent)|vous (?:acceptez|consentez)|accept(?: all)?|"
    r"accepter(?: tout)?|tout accepter|refuser(?: tout)?|reject all|"
    r"by (?:continuing|clicking|using)|en (?:poursuivant|continuant|cliquant)|"
    r"your (?:consent|preferences|choices|privacy|browser)|vos (?:choix|préférences)|"
    r"manage (?:preferences|settings|cookies|options|consent)|"
    r"gérer (?:les|mes|vos) (?:cookies|préférences|paramètres)|paramétrer|"
    r"privacy (?:policy|settings)|politique de (?:confidentialité|cookies))\b",
    _I,
)

_ADVICE = r"(?:financial|investment|investing|legal|tax|professional|medical|trading)"
_DISCLAIMER = {
    "disclaimer": r"\b(?:disclaimers?|avertissements?|clause de non-responsabilité|"
                  r"avis de non-responsabilité|disclosure)\b",
    "not_advice": rf"\b{_ADVICE}(?:\s*(?:,|or|and|/)\s*{_ADVICE})* advice\b|"
                  r"\bconseils? (?:financiers?|en investissements?|d['’]investissement|"
                  r"juridiques?|fiscaux|professionnels?|médicaux)\b|"
                  r"\brecommandations? d['’]investissement\b|\bincitation à (?:investir|acheter)",
    "info_only": r"\bfor (?:general )?(?:information(?:al)?|educational|entertainment) "
                 r"purposes\b|\bà (?:titre|des fins) (?:purement )?(?:informatif|"
                 r"d['’]information|indicatif|informatives|éducatives|pédagogiques)\b",
    "no_endorse": r"\b(?:endorsements?|do(?:es)? not (?:necessarily )?reflect|"
                  r"ne reflète(?:nt)? pas|n['’]engage(?:nt)? que|views (?:expressed|and opinions)|"
                  r"opinions? exprimées?|the opinions? expressed)\b",
    "third_party": r"\bthird[- ]party (?:content|links?|websites?)\b|\bcontenus? (?:de )?tiers\b",
    "risk": r"\b(?:risk warning|may lose value|peut perdre (?:de )?(?:sa )?valeur|"
            r"not (?:fdic |bank )?(?:insured|guaranteed)|non garantie?s?|capital (?:is )?at risk|"
            r"votre capital|you (?:could|may|might|can) lose|"
            r"vous (?:pouvez|pourriez|risquez de) perdre|do your own research|dyor|"
            r"past performance|performances passées|cfds? are complex|high(?:ly)? (?:risky|"
            r"speculative)|risque (?:élevé )?de perte)\b",
    "affiliate": r"\baffiliate (?:links?|commissions?)\b|\bliens? (?:affiliés?|d['’]affiliation)\b"
                 r"|\bwe (?:may|might) (?:earn|receive|get) (?:a )?(?:small )?(?:commission|"
                 r"compensation)|\bnous (?:pouvons|pourrions) (?:percevoir|toucher|recevoir) une "
                 r"commission|\bwhen you (?:buy|purchase) (?:through|via)",
    "rights": r"\ball rights reserved\b|\btous droits réservés\b|\breproduction (?:interdite|"
              r"prohibited|strictement interdite)\b|\bmay not be (?:reproduced|republished|"
              r"redistributed)\b|\bne peut (?:pas )?être reproduit",
    "ai_note": r"\b(?:written|generated|produced|translated|created|drafted) (?:with|by|using) "
               r"(?:the help of |the assistance of )?(?:an? )?(?:ai|artificial intelligence)\b|"
               r"\b(?:rédigé|généré|traduit|produit) (?:avec|par) (?:l['’]aide (?:de |d['’]))?"
               r"(?:l['’]ia|une ia|l['’]intelligence artificielle)\b",
    "liability": r"\b(?:(?:held )?(?:liable|responsible) for any|no (?:liability|responsibility)|"
                 r"aucune responsabilité|ne (?:saurait|peut) être tenue? (?:pour )?responsable|"
                 r"assumes? no)\b",
    "considered": r"\bshould not be (?:considered|construed|taken|relied)|"
                  r"\bne (?:doi(?:t|vent)|saurai(?:t|ent)) (?:pas |en aucun cas )?"
                  r"être considérée?s?",
}
_DISCLAIMER_RE = {name: re.compile(p, _I) for name, p in _DISCLAIMER.items()}
_DISCLAIMER_ANY = Cue("|".join(f"(?:{p})" for p in _DISCLAIMER.values()), _I)
STRONG_DISCLAIMER = frozenset({"rights", "ai_note", "affiliate", "third_party"})
DISCLAIMER_LABEL = re.compile(
    r"^\W*(?:disclaimers?|disclosures?|avertissements?|mise en garde|"
    r"clause de non-responsabilité|avis de non-responsabilité|affiliate disclaimer)\b",
    _I,
)

BYLINE = re.compile(
    r"^(?i:by|par|written by|écrit par|rédigé par|texte de|text by|reported by|reporting by|"
    r"story by|words by|posted by|publié par|auteure?\s*:|authors?\s*:|de notre "
    r"(?:correspondante?|envoyée? spéciale?)(?: à [\w-]+)?,?)\s+"
    rf"(?P<name>{NAME}(?:\s*(?:,|and|&|et)\s*{NAME})*)(?P<tail>.*)$",
)
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE = (
    rf"(?:(?:{_MONTH_ALT}),?\s+)?(?:\d{{1,2}}(?:er|st|nd|rd|th)?\s+(?:{_MONTH_ALT})\.?,?\s+\d{{4}}"
    rf"|(?:{_MONTH_ALT})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2})"
)
_TIME = r"(?:\s*(?:at|à|,|-|–|\|)?\s*\d{1,2}(?:[:h]\d{2}|h)\s*(?:am|pm)?(?:\s*[A-Z]{2,4})?)?"
DATE_ONLY = re.compile(rf"{_DATE}{_TIME}", _I)
DATE_VERB = re.compile(
    r"^(?:first |last )?(?:published|updated|posted|publié|publiée|mis à jour|modifié|"
    r"modifiée|créé|créée|actualisé|actualisée)\b",
    _I,
)


def strip_leading_date(text: str) -> str:
    """The line without a date (and separator) in front: "12/11/2025 by X" -> "by X".

    >>> strip_leading_date("11/12/2025 by One Tree Planted")
    'by One Tree Planted'
    """
    match = DATE_ONLY.match(text)
    return text[match.end():].lstrip(" ,|·•–—-") if match else text


def is_dateline(text: str) -> bool:
    """A line that is only a date, or a short "Published/Mis à jour ..." stamp.

    >>> is_dateline("Publié le 12 mars 2025 à 10h30"), is_dateline("March 3, 2025")
    (True, True)
    >>> is_dateline("Updates to the law arrived on March 3, 2025, after a long debate.")
    False
    """
    text = text.strip(" .|·•")
    if DATE_ONLY.fullmatch(text):
        return True
    if not DATE_VERB.match(text) or len(text.split()) > 14:
        return False
    return bool(DATE_ONLY.search(text) or re.search(r"\d", text))


NAME_OPENING = re.compile(
    r"^(?:(?i:hi|hello|hey|bonjour|salut)\W+)?"
    r"(?:(?i:i['’]m|i am|je suis|je m['’]appelle|my name is)\s+)?"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}})\W"
)
ABOUT_AUTHOR = re.compile(
    r"^\W*(?:about the author|à propos de l['’]auteur(?:e|rice)?|about (?:me|us)|"
    r"l['’]auteur(?:e|rice)?\s*:|the author\s*:)",
    _I,
)

_BIO = {
    "role": r"\b(?:reporter|journalist|correspondent|editor|writer|columnist|contributor|"
            r"author of|freelancer|freelance|news desk|journaliste|correspondante?|"
            r"rédact(?:eur|rice)|chroniqueu(?:r|se)|pigiste|auteure? de|autrice de|"
            r"éditorialiste|analyst|analyste)\b",
    "career": r"\b(?:has been|joined|previously|before (?:that|joining)|since \d{4}|covers|"
              r"covering|writes about|reports on|is based in|graduated|depuis \d{4}|"
              r"a rejoint|auparavant|couvre|écrit sur|est basée? à|diplômée?)\b",
    "contact": r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d\s().-]{7,}\d|\b(?:contact|follow (?:him|her|"
               r"them|me)|get in touch|reach (?:him|her|me)|suivez-(?:le|la)|contactez|"
               r"joindre)\b|(?<!\w)@\w{2,}",
}
_BIO_RE = {name: re.compile(p, _I) for name, p in _BIO.items()}


def promo_cues(text: str) -> set[str]:
    """Which promotional cues a line has; an ad line needs a commercial one among them."""
    if not _COMMERCIAL_ANY.search(text):
        return set()
    found = {name for name, rx in _PROMO_RE.items() if rx.search(text)}
    return found if found & COMMERCIAL else set()


def disclaimer_cues(text: str) -> set[str]:
    """Which kinds of disclaimer wording a line has."""
    if not _DISCLAIMER_ANY.search(text):
        return set()
    return {name for name, rx in _DISCLAIMER_RE.items() if rx.search(text)}


def bio_cues(text: str) -> set[str]:
    """Which kinds of author-bio wording a line has (role, career, contact)."""
    return {name for name, rx in _BIO_RE.items() if rx.search(text)}


def tail_is_metadata(tail: str) -> bool:
    """After a byline's name: empty, or a short run of places, dates, roles, outlets.

    >>> tail_is_metadata(", à Paris"), tail_is_metadata(", the deal was off.")
    (True, False)
    """
    tail = tail.strip()
    if not tail:
        return True
    tokens = re.findall(r"[^\W_]+", tail)
    if tail[0] not in ",|·•–—-/(" and (not tokens or tokens[0].casefold() not in META_WORDS):
        return False
    if len(tokens) > 12:
        return False
    return all(t[0].isupper() or t[0].isdigit() or t.casefold() in META_WORDS
               or t.casefold() in MONTHS for t in tokens)
