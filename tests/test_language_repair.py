"""Issue 12, existing databases repaired: a store written before migration 0009 (language
read from the page's declaration, dedup gated on it) is migrated, then ``reprocess``
recomputes every language and merges the copies that were missed, record ids kept, and
ends equal to a fresh crawl of the same pages.

The old store is written as the old code left it: migrations up to 0008 only, one
record per page (the English wire copy on a French-declaring site kept apart from its
original, labelled ``fr``), the raw pages in ``pages``.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

import service
from ingest.urls import canonical_url
from loopback import LoopbackServer
from store.db import Store
from store.schema import MIGRATIONS

STORY = (
    "Regional water authorities approved a new drought plan on Tuesday after three months "
    "of hearings in which farmers, city officials and fishing crews argued over the same "
    "shrinking reservoirs.",
    "The plan caps summer withdrawals at eighty percent of last year's level and pays "
    "growers who leave fields fallow, a measure the board's chair called painful but "
    "unavoidable given the snowpack figures published in March.",
    "Two counties voted against it, saying the payments favour large estates, and their "
    "lawyers said they would ask a state court to suspend the caps before the irrigation "
    "season begins in earnest next month.",
    "Engineers told the board that even with the caps, the main reservoir could fall below "
    "the level needed to run its turbines by late August if the summer is as dry as the "
    "forecasts suggest.",
)
HISTOIRE = (
    "Les autorités régionales de l'eau ont adopté mardi un nouveau plan sécheresse, après "
    "trois mois d'audiences où agriculteurs, élus et pêcheurs se sont disputé les mêmes "
    "réservoirs qui s'amenuisent.",
    "Le plan plafonne les prélèvements estivaux à quatre-vingts pour cent du niveau de "
    "l'an dernier et indemnise les exploitants qui laissent leurs champs en jachère.",
    "Deux départements ont voté contre, estimant que les indemnités favorisent les grands "
    "domaines, et leurs avocats entendent saisir la justice avant la saison d'irrigation.",
    "Les ingénieurs ont prévenu que, même avec ces plafonds, le principal réservoir pourrait "
    "passer sous le niveau nécessaire aux turbines dès la fin août si l'été est sec.",
)
CHRONIQUE = (
    "Le conseil municipal a voté jeudi soir la rénovation complète de la vieille halle aux "
    "grains, fermée depuis l'effondrement d'une partie de sa charpente l'hiver dernier.",
    "Les travaux, estimés à quatre millions d'euros, commenceront au printemps et dureront "
    "deux ans ; la halle accueillera ensuite un marché couvert et une salle de concert.",
    "L'opposition a dénoncé un projet trop coûteux pour une ville endettée, mais la maire a "
    "rappelé que la région et l'État financeront plus de la moitié de la facture.",
    "Les commerçants du centre, privés de leur marché du samedi depuis des mois, ont salué "
    "une décision qu'ils réclamaient depuis l'effondrement.",
)


def _page(title: str, paragraphs: tuple[str, ...], lang: str, chrome: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang='{lang}'><head><title>{title}</title>"
            f"<meta property='og:locale' content='{lang}_{lang.upper()}'></head><body>"
            f"<nav>{chrome}</nav><article><h1>{title}</h1>{body}</article>"
            f"<footer>{chrome} · contact · mentions</footer></body></html>")


# path -> (html, the language the old code stored: the page's declaration)
PAGES = {
    "/wire/drought-plan": (_page("Drought plan approved", STORY, "en", "Wire desk"), "en"),
    "/quotidien/plan-secheresse-wire": (_page("Drought plan approved", STORY, "fr",
                                              "Le Quotidien"), "fr"),
    "/quotidien/plan-secheresse": (_page("Plan sécheresse adopté", HISTOIRE, "fr",
                                         "Le Quotidien"), "fr"),
    "/herald/halle-aux-grains": (_page("La halle rénovée", CHRONIQUE, "en", "The Herald"),
                                 "en"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        for path, (html, _) in PAGES.items():
            srv.add(path, html, content_type="text/html; charset=utf-8")
        items = "".join(f"<item><title>{p}</title><link>{srv.url(p)}</link></item>"
                        for p in PAGES)
        srv.add("/feed.xml", f"<?xml version='1.0'?><rss version='2.0'><channel><title>t"
                             f"</title><link>{srv.url('/')}</link>{items}</channel></rss>",
                content_type="application/rss+xml")
        yield srv


def _config(directory: Path, srv: LoopbackServer) -> Path:
    config = directory / "config.toml"
    config.write_text(
        f'[store]\npath = "{directory / "news.db"}"\n'
        "[fetch]\nallow_private_addresses = true\nper_host_delay_seconds = 0\n"
        "[topic]\nall_of = []\n"
        f'[[sources]]\nname = "feed"\nkind = "feed"\nurl = "{srv.url("/feed.xml")}"\n')
    return config


def _old_store(path: Path, srv: LoopbackServer) -> dict[str, int]:
    """What the code before migration 0009 left: one record per page, declared languages."""
    db = Database(sqlite3.connect(path))
    MIGRATIONS.apply(db, stop_before="0009_identified_language")
    ids = {}
    for i, (route, (html, declared)) in enumerate(PAGES.items(), start=1):
        url = canonical_url(srv.url(route))
        text = html.split("<article>")[1]  # any text: reprocess redoes it from the page
        db.execute("INSERT INTO articles (id, url, source, language, text, content_hash, "
                   "fetched_at, site) VALUES (?, ?, 'feed', ?, ?, ?, "
                   "'2026-01-01T00:00:00+00:00', ?)",
                   (i, url, declared, text, f"old-{i}", srv.host))
        db.execute("INSERT INTO pages (url, final_url, source, article_id, html, fetched_at) "
                   "VALUES (?, ?, 'feed', ?, ?, '2026-01-01T00:00:00+00:00')",
                   (url, url, i, zlib.compress(html.encode())))
        db.execute("INSERT INTO url_aliases VALUES (?, ?, '2026-01-01T00:00:00+00:00')",
                   (url, i))
        ids[route] = i
    db.conn.commit()
    db.conn.close()
    return ids


def _state(path: Path) -> tuple[set[tuple], set[tuple]]:
    with sqlite3.connect(path) as conn:
        articles = set(conn.execute(
            "SELECT url, text, language, declared_language FROM articles"))
        duplicates = set(conn.execute(
            "SELECT d.url, d.method, a.url, d.language, d.declared_language "
            "FROM duplicates d JOIN articles a ON a.id = d.article_id"))
    return articles, duplicates


def test_migration_then_reprocess_merges_the_missed_copy_and_equals_a_fresh_crawl(
        server: LoopbackServer, tmp_path: Path) -> None:
    old_dir, fresh_dir = tmp_path / "old", tmp_path / "fresh"
    old_dir.mkdir()
    fresh_dir.mkdir()
    ids = _old_store(old_dir / "news.db", server)
    with Store.open(old_dir / "news.db") as store:  # migration 0009 runs here
        columns = {r[1] for r in store.conn.execute("PRAGMA table_info(articles)")}
        assert {"declared_language", "language_confidence"} <= columns
        assert store.conn.execute("SELECT count(*) FROM articles WHERE declared_language "
                                  "IS NOT NULL").fetchone() == (0,)

    assert service.main(["reprocess", "--config", str(_config(old_dir, server))]) == 0
    assert service.main(["once", "--config", str(_config(fresh_dir, server))]) == 0
    repaired = _state(old_dir / "news.db")
    assert repaired == _state(fresh_dir / "news.db")

    articles, duplicates = repaired
    url = {route: canonical_url(server.url(route)) for route in PAGES}
    languages = {u: (lang, declared) for u, _, lang, declared in articles}
    assert languages == {url["/wire/drought-plan"]: ("en", "en"),
                         url["/quotidien/plan-secheresse"]: ("fr", "fr"),
                         url["/herald/halle-aux-grains"]: ("fr", "en")}
    [(copy, method, into, language, declared)] = duplicates
    assert (copy, into) == (url["/quotidien/plan-secheresse-wire"], url["/wire/drought-plan"])
    assert (method, language, declared) == ("exact", "en", "fr")
    with sqlite3.connect(old_dir / "news.db") as conn:
        kept = dict(conn.execute("SELECT url, id FROM articles"))
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert kept == {url[r]: ids[r] for r in ("/wire/drought-plan", "/quotidien/plan-secheresse",
                                             "/herald/halle-aux-grains")}
