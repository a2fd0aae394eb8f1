"""The page templates and feeds of :mod:`langweb`'s five sites.

Each site has its own article template (boilerplate, navigation, share
widgets, footers) and its own language declarations, right or wrong:
``northwire`` (``<article>``, ``lang="en"``), ``quotidien``
(``<div class=story-body>``, ``lang="fr"`` and ``fr_FR``), ``herald``
(``<main>``, ``lang="en"`` and ``en_US``), ``metro`` and ``gazette`` (no
``lang`` at all); AMP copies share one minimal template. A :class:`Body` is
what a page shows; RSS, Atom and sitemap writers list the pages. Example::

    html = herald_html(Body(title, paragraphs, "2025-11-12", "Valmere"))
    feed = rss([(title, url)], title="Metro Brief", language=None)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# --- site templates -----------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """What one page shows: headline, paragraphs (copy variants applied), date."""

    title: str
    paragraphs: tuple[str, ...]
    date: str
    place: str


def _paras(body: Body) -> str:
    """The body's paragraphs as ``<p>`` elements, one a line."""
    return "\n".join(f"<p>{escape(p)}</p>" for p in body.paragraphs)


def northwire_html(body: Body, *, amp_path: str | None = None) -> str:
    """A Northwire wire story: ``<article>``, honest ``lang="en"`` and ``en_US``."""
    amp = f'<link rel="amphtml" href="{escape(amp_path)}">' if amp_path else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(body.title)} | Northwire</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:site_name" content="Northwire"><meta property="og:locale" content="en_US">
<meta property="og:title" content="{escape(body.title)}">
<meta property="article:published_time" content="{body.date}T06:30:00Z">{amp}
<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>
<body class="wire"><div class="masthead"><a class="logo" href="/">NORTHWIRE</a>
<ul class="menu"><li><a href="/world">World</a></li><li><a href="/business">Business</a></li>
<li><a href="/regions">Regions</a></li><li><a href="/markets">Markets</a></li>
<li><a href="/about">About us</a></li></ul>
<form class="search" action="/search"><input name="q" placeholder="Search Northwire"></form></div>
<div class="wrap"><article class="wire-story"><h1 class="headline">{escape(body.title)}</h1>
<div class="meta"><span class="dateline">{escape(body.place.upper())}</span>
<time datetime="{body.date}">{body.date}</time></div>
<ul class="share"><li><a href="#">Share on X</a></li><li><a href="#">Email</a></li>
<li><a href="#">Copy link</a></li></ul>
{_paras(body)}
</article>
<aside class="rail"><h2>Most read</h2>
<ol><li><a href="/r1">Bond yields ease as markets steady</a></li>
<li><a href="/r2">Storm warning for the northern coast</a></li>
<li><a href="/r3">Grain exports recover after a late harvest</a></li></ol></aside></div>
<footer class="site-footer"><p>© 2025 Northwire News Agency. All rights reserved.</p>
<p><a href="/terms">Terms</a> · <a href="/privacy">Privacy</a> · <a href="/contact">Contact</a></p>
</footer></body></html>"""


def quotidien_html(body: Body, *, amp_path: str | None = None) -> str:
    """A Quotidien page: ``<div class=story-body>``, ``lang="fr"`` and ``fr_FR``."""
    amp = f'<link rel="amphtml" href="{escape(amp_path)}">' if amp_path else ""
    return f"""<!doctype html>
<html lang="fr" dir="ltr"><head><meta charset="utf-8">
<title>{escape(body.title)} – Le Quotidien</title>
<meta property="og:locale" content="fr_FR"><meta property="og:site_name" content="Le Quotidien">
<meta name="date" content="{body.date}">{amp}</head>
<body><div id="bandeau"><div class="logo"><a href="/">Le Quotidien</a></div>
<nav class="rubriques"><a href="/politique">Politique</a> | <a href="/economie">Économie</a> |
<a href="/regions">Régions</a> | <a href="/culture">Culture</a> |
<a href="/abonnement">S'abonner</a></nav></div>
<div class="colonnes"><div class="story-body"><h1>{escape(body.title)}</h1>
<p class="date-publication">Publié le {body.date}</p>
<div class="partage"><a href="#">Partager</a> <a href="#">Facebook</a> <a href="#">LinkedIn</a>
<a href="#">Envoyer par courriel</a></div>
{_paras(body)}
<div class="lire-aussi"><strong>Lire aussi :</strong>
<a href="/x">Le budget régional de nouveau en débat</a></div></div>
<div class="sidebar"><h3>Les plus lus</h3><ul><li><a href="/p1">La rentrée sous tension</a></li>
<li><a href="/p2">Les prix de l'immobilier reculent</a></li></ul>
<div class="newsletter"><p>Recevez notre lettre d'information chaque matin.</p>
<form><input type="email"><button>Je m'inscris</button></form></div></div></div>
<div id="pied"><p>© Le Quotidien 2025 – Tous droits réservés</p>
<a href="/mentions">Mentions légales</a> <a href="/cookies">Gestion des cookies</a></div>
</body></html>"""


def herald_html(body: Body, *, amp_path: str | None = None) -> str:
    """A Herald page: ``<main>``, JSON-LD, ``lang="en"`` and ``en_US``."""
    amp = f'<link rel="amphtml" href="{escape(amp_path)}">' if amp_path else ""
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                     "headline": body.title, "datePublished": body.date})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(body.title)} • The Harbor Herald</title>
<meta property="og:locale" content="en_US"><meta property="og:type" content="article">
<meta name="twitter:card" content="summary">{amp}
<script type="application/ld+json">{escape(ld, quote=False)}</script></head>
<body><header class="site-header"><div class="brand">The Harbor Herald</div>
<nav><ul><li><a href="/local">Local</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/opinion">Opinion</a></li><li><a href="/weather">Weather</a></li></ul></nav>
<div class="cookie-banner">We use cookies to improve your experience.
<button>Accept</button></div></header>
<main id="main"><h1 class="entry-title">{escape(body.title)}</h1>
<div class="dates"><span class="updated">Updated {body.date}</span></div>
<section class="article-text">
{_paras(body)}
</section>
<div class="share-widget"><span>Share this article</span> <a href="#">Facebook</a>
<a href="#">X</a> <a href="#">WhatsApp</a></div>
<section class="newsletter-signup"><h3>Get the Herald in your inbox</h3>
<p>Sign up for our free morning briefing.</p></section></main>
<aside class="sidebar"><h3>Trending</h3><ul><li><a href="/t1">Tides and weather this week</a></li>
<li><a href="/t2">Harbour parking changes from Monday</a></li></ul></aside>
<footer><p>The Harbor Herald · 12 Quay Street · Copyright 2025</p></footer></body></html>"""


def metro_html(body: Body) -> str:
    """A Metro brief (a blog theme): no ``lang`` and no ``og:locale``."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Metro Brief: {escape(body.title)}</title>
<meta name="generator" content="BriefPress 4.2"></head>
<body><div id="top"><span class="sitename">Metro Brief</span> <a href="/">Latest</a>
<a href="/briefs">Briefs</a> <a href="/tips">Send us a tip</a></div>
<div id="content"><div class="entry"><h2 class="entry-title">{escape(body.title)}</h2>
<div class="entry-meta">Posted {body.date} in Briefs</div>
<div class="entry-content">
{_paras(body)}
</div>
<div class="tags">Tags: <a href="/tag/city">city</a>, <a href="/tag/briefs">briefs</a></div></div>
<div class="sharedaddy"><h3>Share this:</h3><a href="#">Tweet</a> <a href="#">Print</a></div></div>
<div id="sidebar"><div class="widget"><h4>Archives</h4><ul><li>November 2025</li>
<li>October 2025</li></ul></div></div>
<div id="footer">Metro Brief runs on BriefPress. Theme by Studio Nine.</div></body></html>"""


def gazette_html(body: Body) -> str:
    """A Gazette post: ``<div class=post>``, no ``lang``."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>{escape(body.title)} - La Gazette de la Vallée</title>
<link rel="alternate" type="application/rss+xml" href="/rss"></head>
<body><div id="entete"><div class="titre-site"><a href="/">La Gazette de la Vallée</a></div>
<div class="menu"><a href="/">Accueil</a> · <a href="/vie-locale">Vie locale</a> ·
<a href="/sports">Sports</a> · <a href="/agenda">Agenda</a> ·
<a href="/annonces">Petites annonces</a></div></div>
<div class="post"><h2 class="post-title">{escape(body.title)}</h2>
<div class="post-info">Le {body.date} · <a href="#commentaires">3 commentaires</a></div>
<div class="post-content">
{_paras(body)}
</div>
<div class="reseaux"><a href="#">Partager sur Facebook</a> <a href="#">Imprimer</a></div></div>
<div id="pied">La Gazette de la Vallée — hebdomadaire d'information locale depuis 1952</div>
</body></html>"""


def amp_html(body: Body, *, site: str, lang: str, locale: str, canonical: str) -> str:
    """An AMP copy: its own minimal template, ``rel=canonical`` to the main page."""
    return f"""<!doctype html>
<html amp lang="{lang}"><head><meta charset="utf-8">
<link rel="canonical" href="{escape(canonical)}">
<meta name="viewport" content="width=device-width,minimum-scale=1,initial-scale=1">
<meta property="og:locale" content="{locale}">
<style amp-boilerplate>body{{visibility:hidden}}</style>
<title>{escape(body.title)}</title></head>
<body><header class="amp-header"><a href="/">{escape(site)}</a></header>
<article class="amp-article"><h1>{escape(body.title)}</h1>
{_paras(body)}
</article>
<footer class="amp-footer">{escape(site)} · <a href="{escape(canonical)}">Full site</a></footer>
</body></html>"""


# --- feeds and sitemaps ---------------------------------------------------------------

FeedItem = tuple[str, str]  # (title, absolute link)


def rss(items: Sequence[FeedItem], *, title: str, language: str | None) -> str:
    """An RSS 2.0 feed; ``language=None`` leaves ``<language>`` out."""
    lang = f"<language>{language}</language>" if language else ""
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid>{escape(u)}</guid>"
        "<pubDate>Thu, 20 Nov 2025 07:00:00 GMT</pubDate></item>" for t, u in items)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><link>http://example.invalid/</link>"
            f"<description>{escape(title)}</description>{lang}{entries}</channel></rss>")


def atom(items: Sequence[FeedItem], *, title: str, language: str) -> str:
    """An Atom feed with ``xml:lang`` set to ``language``."""
    entries = "".join(
        f'<entry><title>{escape(t)}</title><link rel="alternate" href="{escape(u)}"/>'
        f"<id>{escape(u)}</id><updated>2025-11-20T07:00:00Z</updated></entry>"
        for t, u in items)
    return ('<?xml version="1.0" encoding="utf-8"?>'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{language}">'
            f"<title>{escape(title)}</title><id>urn:langweb:{escape(title)}</id>"
            f"<updated>2025-11-20T07:00:00Z</updated>{entries}</feed>")


def urlset(urls: Sequence[str], *, news: str | None = None) -> str:
    """A sitemap; with ``news`` (a publication name) a Google News sitemap without
    ``<news:language>`` (the pages' own declarations are the ones under test)."""
    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    extra = (f"<news:news><news:publication><news:name>{escape(news)}</news:name>"
             "</news:publication><news:publication_date>2025-11-20</news:publication_date>"
             "</news:news>" if news else "<lastmod>2025-11-20</lastmod>")
    body = "".join(f"<url><loc>{escape(u)}</loc>{extra}</url>" for u in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>{body}</urlset>')
