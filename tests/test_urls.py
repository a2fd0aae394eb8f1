from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.urls import canonical_url, declared_canonical, host_key


def test_tracking_parameters_fragment_case_and_default_port_are_removed() -> None:
    url = "HTTP://Example.COM:80/News/a.html?utm_source=rss&utm_medium=feed&id=3&fbclid=x#top"
    assert canonical_url(url) == "http://example.com/News/a.html?id=3"


def test_query_order_does_not_matter() -> None:
    assert canonical_url("https://a.example/x?b=2&a=1") == canonical_url(
        "https://a.example/x?a=1&b=2")


def test_meaningful_parameters_stay() -> None:
    assert canonical_url("https://a.example/article?id=42&page=2") == (
        "https://a.example/article?id=42&page=2")


def test_amp_copy_resolves_to_its_declared_canonical() -> None:
    assert declared_canonical("https://a.example/amp/story.html", "/story.html") == (
        "https://a.example/story.html")


def test_canonical_pointing_at_home_page_is_ignored() -> None:
    assert declared_canonical("https://a.example/news/x", "https://a.example/") == (
        "https://a.example/news/x")


def test_host_key_keeps_the_port() -> None:
    assert host_key("http://127.0.0.1:8081/a") == "127.0.0.1:8081"


_segment = st.text("abcdefghij0123456789-", min_size=1, max_size=8)
_param = st.tuples(st.sampled_from(["id", "p", "q", "utm_source", "fbclid", "utm_campaign"]),
                   _segment)


@given(st.lists(_segment, max_size=4), st.lists(_param, max_size=5), _segment)
def test_canonicalisation_is_idempotent_and_drops_tracking(path: list[str],
                                                           params: list[tuple[str, str]],
                                                           fragment: str) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url = "https://News.Example.org/" + "/".join(path) + (f"?{query}" if query else "") + \
        f"#{fragment}"
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "utm_" not in once and "fbclid" not in once and "#" not in once
    assert once.startswith("https://news.example.org/")


def test_identity_key_folds_hosts_schemes_amp_and_trailing_slash() -> None:
    from ingest.urls import identity_key

    variants = ["https://www.example.com/news/x", "http://example.com/news/x/",
                "https://m.example.com/amp/news/x", "https://amp.example.com/news/x?utm_source=a"]
    assert {identity_key(v) for v in variants} == {"example.com/news/x"}
    assert identity_key("https://example.com/news/y") != identity_key(variants[0])
    assert identity_key("https://www.example.com/x?id=1") != identity_key(
        "https://www.example.com/x?id=2")
