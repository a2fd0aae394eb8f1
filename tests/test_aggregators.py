"""Aggregator links, the pure rules (``ingest.discover.aggregators``, ``.batchexecute``).

Recognition by configured host, offline unwrapping (Bing's ``url=``, old Google
ids), what a newer Google id needs, and the lookup protocol's page, request and
answer, on the shapes the loopback replica (``tests/aggregatorweb.py``) serves.
Properties: unwrapping what a wrapper wrapped gives the URL back, and no input
string makes recognition raise.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregatorweb import BROKEN_ID, answer_body, bing_link, new_id, old_id
from ingest.discover.aggregators import (
    BBC_ID,
    NEWER_ID,
    Aggregators,
    Locale,
    Lookup,
    Unresolvable,
    Unwrapped,
    decode_google_id,
    unwrap,
)
from ingest.discover.batchexecute import Signature, batch_answer, batch_request, page_target

REAL = Aggregators()
REPLICA = Aggregators(google=frozenset({"127.0.0.1:8001"}), bing=frozenset({"127.0.0.1:8002"}))

# URLs a publisher may use: any host, path with unicode and reserved characters, a query.
PATH = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60)
HOSTS = st.from_regex(r"[a-z][a-z0-9-]{0,20}\.(com|fr|de|example)", fullmatch=True)
URLS = st.builds(lambda scheme, host, path, q: f"{scheme}://{host}/{path}" + (f"?{q}" if q else ""),
                 st.sampled_from(["http", "https"]), HOSTS,
                 PATH.map(lambda p: p.replace("?", "").replace("#", "")),
                 st.from_regex(r"([a-z]{1,5}=[a-z0-9%]{0,8}&?){0,3}", fullmatch=True))


# -- which links are aggregators' ----------------------------------------------------------


def test_hosts_are_configured_not_guessed() -> None:
    assert REAL.kind("https://news.google.com/rss/articles/x") == "google"
    assert REAL.kind("http://www.bing.com/news/apiclick.aspx?url=x") == "bing"
    assert REAL.kind("https://news.google.com.evil.example/rss/articles/x") is None
    assert REAL.kind("https://pub.example/rss/articles/CBMi") is None
    assert REPLICA.kind("http://127.0.0.1:8001/rss/articles/x") == "google"
    assert REPLICA.kind("http://127.0.0.1:8003/rss/articles/x") is None  # another port


@given(st.text(max_size=200))
def test_recognising_never_raises_and_ignores_other_hosts(text: str) -> None:
    verdict = unwrap(text, REAL)
    assert verdict is None or isinstance(verdict, Unwrapped | Lookup | Unresolvable)
    assert unwrap("https://pub.example/" + text.replace("#", ""), REAL) is None


# -- Bing --------------------------------------------------------------------------------------


@given(URLS)
def test_a_bing_wrapper_gives_back_the_url_it_wraps(url: str) -> None:
    assert unwrap(bing_link("http://www.bing.com", url, "tid1"), REAL) == Unwrapped(url)


def test_bing_links_that_lead_nowhere_are_named() -> None:
    assert unwrap(bing_link("http://www.bing.com", None, "t"), REAL) == Unresolvable("no_target")
    assert unwrap("https://www.bing.com/news/search?q=x", REAL) == Unresolvable("unknown_link")
    inner = bing_link("http://www.bing.com", "https://www.bing.com/news/x", "t")
    assert unwrap(inner, REAL) == Unresolvable("not_a_publisher_url")
    assert unwrap(bing_link("http://www.bing.com", "javascript:alert(1)", "t"),
                  REAL) == Unresolvable("not_a_publisher_url")


def test_bing_web_search_click_wrapper_is_unwrapped_too() -> None:
    link = "https://www.bing.com/ck/a?!&&p=abc&u=a1aHR0cHM6Ly9wdWIuZXhhbXBsZS9hP3g9MQ&ntb=1"
    assert unwrap(link, REAL) == Unwrapped("https://pub.example/a?x=1")


# -- Google ------------------------------------------------------------------------------------


@given(URLS)
def test_an_old_google_id_gives_back_the_url_it_carries(url: str) -> None:
    assert decode_google_id(old_id(url)) == url
    link = f"https://news.google.com/rss/articles/{old_id(url)}?oc=5"
    assert unwrap(link, REAL) == Unwrapped(url)


def test_real_ids_of_both_formats() -> None:
    assert decode_google_id(BBC_ID) == "https://www.bbc.com/news/articles/cjjjnxdv188o"
    assert decode_google_id(NEWER_ID) == ""  # valid, carries no URL: a lookup


@pytest.mark.parametrize("path", ["/rss/articles/{}", "/articles/{}", "/read/{}",
                                  "/__i/rss/rd/articles/{}"])
def test_every_google_link_form_is_read(path: str) -> None:
    link = "https://news.google.com" + path.format(BBC_ID) + "?hl=en-US&gl=US&ceid=US%3Aen"
    assert unwrap(link, REAL) == Unwrapped("https://www.bbc.com/news/articles/cjjjnxdv188o")


def test_a_new_id_is_looked_up_on_the_same_host_in_the_feeds_edition() -> None:
    article_id = new_id()
    feed = "http://127.0.0.1:8001/rss/search?q=procès&hl=fr&gl=FR&ceid=FR:fr"
    verdict = unwrap(f"http://127.0.0.1:8001/rss/articles/{article_id}?oc=5", REPLICA, feed)
    assert verdict == Lookup(article_id,
                             f"http://127.0.0.1:8001/rss/articles/{article_id}?hl=fr&gl=FR"
                             "&ceid=FR%3Afr",
                             "http://127.0.0.1:8001/_/DotsSplashUi/data/batchexecute",
                             Locale("fr", "FR", "FR:fr"))


@pytest.mark.parametrize(("link", "reason"), [
    (f"https://news.google.com/rss/articles/{BROKEN_ID}", "decode_failed"),
    ("https://news.google.com/rss/articles/not%20base64!", "decode_failed"),
    ("https://news.google.com/topics/CAAqBwgK", "unknown_link"),
    (f"https://news.google.com/rss/articles/{old_id('https://news.google.com/x')}",
     "not_a_publisher_url"),
    (f"https://news.google.com/rss/articles/{old_id('ftp://pub.example/x')}", ""),
])
def test_google_links_that_cannot_be_read(link: str, reason: str) -> None:
    verdict = unwrap(link, REAL)
    if reason:
        assert verdict == Unresolvable(reason)
    else:  # a valid id whose field is no http(s) URL is only Google's to say
        assert isinstance(verdict, Lookup)


# -- the lookup protocol -----------------------------------------------------------------------


def test_the_article_page_gives_its_signature_or_its_target() -> None:
    page = (b'<html><body><c-wiz jsrenderer="x"><div jscontroller="aLI87" data-n-a-id="I" '
            b'data-n-a-sg="AZ5r3e-sig" data-n-a-ts="1764500000"></div></c-wiz></body></html>')
    assert page_target(page) == Signature("AZ5r3e-sig", "1764500000")
    direct = page.replace(b'data-n-a-id="I"', b'data-n-au="https://pub.example/a?b=1&amp;c=2"')
    assert page_target(direct) == "https://pub.example/a?b=1&c=2"
    for nothing in (b"", b"<html><body>Before you continue to Google</body></html>",
                    b'<div data-n-a-sg="S" data-n-a-ts="not-a-number"></div>', b"\x00\xff"):
        assert page_target(nothing) is None


def test_the_request_carries_each_id_with_its_signature_and_edition() -> None:
    lookups = [(str(i), Lookup(f"id{i}", "", "", Locale("fr", "FR", "FR:fr")),
                Signature(f"sig{i}", str(1700 + i))) for i in range(3)]
    form = parse_qs(batch_request(lookups).decode())
    envelopes = json.loads(form["f.req"][0])[0]
    assert [e[0] for e in envelopes] == ["Fbv4je"] * 3
    assert [e[3] for e in envelopes] == ["0", "1", "2"]
    inner = [json.loads(e[1]) for e in envelopes]
    assert [(i[0], i[2], i[3], i[4]) for i in inner] == [
        ("garturlreq", f"id{n}", 1700 + n, f"sig{n}") for n in range(3)]
    assert inner[0][1][0][7] == "FR:fr"


@given(st.lists(st.tuples(URLS, st.booleans()), max_size=12), st.booleans())
def test_an_answer_gives_each_resolved_id_its_url(items: list[tuple[str, bool]],
                                                  chunked: bool) -> None:
    results = [(str(i), url if ok else None) for i, (url, ok) in enumerate(items)]
    rids = [rid for rid, _ in results]
    found = batch_answer(answer_body(list(reversed(results)), chunked=chunked).encode(), rids)
    assert found == {rid: url for rid, url in results if url is not None}


def test_an_answer_without_our_ids_is_read_in_order_and_garbage_gives_nothing() -> None:
    single = answer_body([("generic", "https://pub.example/a")]).encode()
    assert batch_answer(single, ["0"]) == {"0": "https://pub.example/a"}
    for garbage in (b"", b")]}'", b")]}'\n\n[[\"wrb.fr\",\"Fbv4je\",\"[oops\"]]",
                    b"<html>Sorry...</html>", b")]}'\n\n" + b"[" * 5000):
        assert batch_answer(garbage, ["0"]) == {}
