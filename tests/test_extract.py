"""Tests for ingest.extract.page: decoding, metadata, typed paragraphs, structural pruning."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml.html import fromstring

from ingest.errors import ExtractError
from ingest.extract.decode import decode_html
from ingest.extract.page import (
    extract_article,
    extract_with_removals,
)
from ingest.extract.teasers import link_texts, split_trailing_links
from ingest.types import Paragraph

PROSE_EN = ("The court heard arguments from both sides on Monday, and the judge said "
            "she would rule on the motion before the end of the month. ")
PROSE_FR = ("Le tribunal a entendu les deux parties lundi, et la juge a indiqué qu'elle "
            "se prononcerait sur la demande avant la fin du mois. ")


def page(body: str, head: str = "", lang: str = "en") -> str:
    return (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>{head}</head>"
            f"<body><nav><a href='/'>Home</a></nav><main><article>{body}</article></main>"
            f"<footer>Contact</footer></body></html>")


def paragraphs(n: int, text: str = PROSE_EN, tag: str = "p") -> str:
    return "".join(f"<p>{tag} {i}. {text}</p>" for i in range(n))


# decode_html ---------------------------------------------------------------

def test_header_charset_wins_when_it_decodes() -> None:
    body = "<p>Élysée, déjà vu</p>".encode("cp1252")
    assert decode_html(body, "windows-1252") == "<p>Élysée, déjà vu</p>"


def test_latin1_label_is_read_as_cp1252_like_browsers() -> None:
    body = "<p>“quoted” – 5 €</p>".encode("cp1252")
    assert decode_html(body, "iso-8859-1") == "<p>“quoted” – 5 €</p>"


def test_meta_charset_used_when_header_missing() -> None:
    body = ('<html><head><meta charset="iso-8859-15"></head><body>Côte €</body></html>'
            .encode("iso-8859-15"))
    assert "Côte €" in decode_html(body)


def test_http_equiv_charset_used() -> None:
    html = ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
            "<p>Noël</p>")
    assert "Noël" in decode_html(html.encode("cp1252"))


def test_unknown_header_label_falls_back_to_meta_then_utf8() -> None:
    assert decode_html("<p>naïve</p>".encode(), "x-made-up") == "<p>naïve</p>"


def test_bom_overrides_the_header() -> None:
    body = b"\xef\xbb\xbf<p>caf\xc3\xa9</p>"
    assert decode_html(body, "ascii") == "<p>café</p>"


def test_one_stray_byte_does_not_change_the_declared_charset() -> None:
    text = "<p>Élysée, déjà vu, à Paris.</p>" * 20
    body = text.encode("utf-8") + b"\xff"
    decoded = decode_html(body, "utf-8")
    assert decoded.startswith(text) and decoded.endswith("\ufffd")


def test_utf16_bom() -> None:
    assert decode_html("\ufeff<p>hé</p>".encode("utf-16-le")) == "<p>hé</p>"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, "utf-8", "latin-1", "bogus", "utf-16"]))
def test_decode_never_raises(body: bytes, charset: str | None) -> None:
    assert isinstance(decode_html(body, charset), str)


# extract_article: metadata ------------------------------------------------

def test_metadata_title_author_date_language_canonical() -> None:
    head = ("<title>Musk sues OpenAI | The Paper</title>"
            "<meta property='og:site_name' content='The Paper'>"
            "<meta name='author' content='Jane Doe'>"
            "<meta property='article:published_time' content='2025-02-11T08:30:00Z'>"
            "<link rel='canonical' href='/2025/musk-openai'>")
    art = extract_article(page(paragraphs(6), head), "https://paper.example/x?utm=1")
    assert art.title == "Musk sues OpenAI"
    assert art.author == "Jane Doe"
    assert art.published is not None and art.published.startswith("2025-02-11")
    assert art.declared_language == "en"
    assert art.canonical_url == "https://paper.example/2025/musk-openai"
    assert art.sitename == "The Paper"
    assert art.url == "https://paper.example/x?utm=1"


def test_og_url_is_canonical_when_no_link() -> None:
    head = "<meta property='og:url' content='https://paper.example/a'>"
    art = extract_article(page(paragraphs(5), head), "https://paper.example/a?ref=rss")
    assert art.canonical_url == "https://paper.example/a"


def test_no_canonical_is_none() -> None:
    assert extract_article(page(paragraphs(5)), "https://a.example/x").canonical_url is None


def test_language_from_og_locale() -> None:
    html = page(paragraphs(5, PROSE_FR), "<meta property='og:locale' content='fr_FR'>",
                lang="")
    assert extract_article(html, "https://a.example/x").declared_language == "fr"


def test_an_undeclared_page_declares_nothing() -> None:
    """Extraction reports only what the page claims; the text's language is
    identified after cleaning (ingest.clean.language), not guessed here."""
    html = page(paragraphs(5, PROSE_FR)).replace(" lang='en'", "")
    assert extract_article(html, "https://a.example/x").declared_language is None


def test_bytes_input_is_decoded() -> None:
    html = page(paragraphs(5, PROSE_FR), lang="fr").encode("utf-8")
    art = extract_article(html, "https://a.example/x")
    assert "qu'elle" in art.text


# extract_article: body structure -----------------------------------------

def test_paragraph_kinds() -> None:
    body = (paragraphs(3, tag="a") + "<h2>What the filing says</h2>" + paragraphs(2, tag="b")
            + "<ul><li>First claim in the filing</li><li>Second claim in the filing</li></ul>"
            + "<blockquote><p>We will fight this in court, all the way.</p></blockquote>"
            + "<table><tr><td>Year</td><td>Amount</td></tr><tr><td>2015</td><td>$44m</td></tr>"
            + "</table>" + paragraphs(2, tag="c"))
    art = extract_article(page(body), "https://a.example/x")
    kinds = {p.text: p.kind for p in art.paragraphs}
    assert kinds["What the filing says"] == "head"
    assert kinds["First claim in the filing"] == "list"
    assert kinds["We will fight this in court, all the way."] == "quote"
    assert kinds["Year | Amount"] == "table"
    assert sum(k == "p" for k in kinds.values()) == 7


def test_line_breaks_split_lines() -> None:
    lines = [f"Line {i}: {PROSE_EN}" for i in range(6)]
    art = extract_article(page("<div>" + "<br>".join(lines) + "</div>"), "https://a.example/x")
    assert [p.text for p in art.paragraphs] == [" ".join(t.split()) for t in lines]


def test_nested_list_items_keep_their_own_text() -> None:
    body = (paragraphs(4) + "<ul><li>SimpliSafe - best overall<ul><li>Easy setup</li>"
            "<li>Monitoring</li></ul></li><li>Ring - best doorbell</li></ul>")
    texts = [p.text for p in extract_article(page(body), "https://a.example/x").paragraphs]
    assert "SimpliSafe - best overall" in texts
    assert "Easy setup" in texts and "Ring - best doorbell" in texts


@pytest.mark.parametrize("html", [
    "<html><body></body></html>",
    "<html><body><script>var a = 1;</script><div> </div></body></html>",
])
def test_no_article_raises_with_url(html: str) -> None:
    with pytest.raises(ExtractError) as info:
        extract_article(html, "https://a.example/empty")
    assert info.value.url == "https://a.example/empty"


def test_garbage_raises_extract_error() -> None:
    with pytest.raises(ExtractError):
        extract_article(b"\x00\x01\x02", "https://a.example/bin")


# structural pruning --------------------------------------------------------

def test_labelled_widgets_pruned_and_recorded() -> None:
    body = (paragraphs(8)
            + "<div class='share-buttons'><a href='#'>Facebook</a> <a href='#'>Twitter</a></div>"
            + "<div class='newsletter-signup'><p>Get our briefing every morning</p></div>"
            + "<div class='author-bio'><p>Jane Doe covers technology.</p></div>")
    art, removed = extract_with_removals(page(body), "https://a.example/x")
    assert [r.rule for r in removed] == ["share_widget", "newsletter", "author_bio"]
    assert removed[0].text == "Facebook Twitter"
    assert "Jane Doe covers technology." not in art.text
    assert len(art.paragraphs) == 8


def test_wrapper_with_widget_word_in_class_is_kept() -> None:
    body = f"<div class='article-body has-share-buttons'>{paragraphs(8)}</div>"
    art, removed = extract_with_removals(page(body), "https://a.example/x")
    assert removed == ()
    assert len(art.paragraphs) == 8


def test_tagged_prose_section_is_not_navigation() -> None:
    body = (paragraphs(3, tag="a") + f"<section class='toc-para'>{paragraphs(2, tag='b')}"
            "</section>" + paragraphs(3, tag="c"))
    art, removed = extract_with_removals(page(body), "https://a.example/x")
    assert removed == ()
    assert len(art.paragraphs) == 8


def test_utf8_body_mislabelled_as_latin1_is_read_as_utf8() -> None:
    from ingest.extract.decode import decode_html

    body = "<p>Le procès s’ouvre à Oakland, été 2026.</p>".encode()
    assert decode_html(body, "iso-8859-1") == body.decode("utf-8")
    latin = "<p>Le procès s'ouvre à Oakland.</p>".encode("cp1252")
    assert decode_html(latin, "iso-8859-1") == latin.decode("cp1252")


def test_page_level_fields_are_read_before_pruning() -> None:
    """The tree is pruned in place: what is read from the whole page (canonical URL,
    declared language, trafilatura's metadata) must be read before that."""
    widget = ("<div class='share-buttons'><meta property='og:url' content='/canonical'>"
              "<meta http-equiv='content-language' content='fr'>"
              "<a href='#'>Facebook</a></div>")
    author_box = ("<div class='author-box'><span class='author' itemprop='author'>"
                  "Jane Doe</span></div>")
    html = (f"<!DOCTYPE html><html><head><title>Le procès</title></head><body><article>"
            f"{widget}{paragraphs(8)}{author_box}</article></body></html>")
    art, removed = extract_with_removals(html, "https://a.example/x")
    assert [r.rule for r in removed] == ["share_widget", "author_bio"]
    assert art.canonical_url == "https://a.example/canonical"
    assert art.declared_language == "fr"
    assert art.author == "Jane Doe"


def test_extraction_is_repeatable_on_one_page() -> None:
    html = page(paragraphs(6) + "<div class='share-buttons'>Partager</div>")
    assert extract_with_removals(html, "https://a.example/x") == extract_with_removals(
        html, "https://a.example/x")


# parsing -------------------------------------------------------------------

def test_a_str_with_an_xml_encoding_declaration_parses() -> None:
    html = "<?xml version='1.0' encoding='utf-8'?>" + page(paragraphs(6))
    assert len(extract_article(html, "https://a.example/x").paragraphs) == 6


def test_text_that_is_not_html_is_rejected() -> None:
    with pytest.raises(ExtractError, match="unparsable"):
        extract_article("A plain sentence, no markup at all.", "https://a.example/x")


def test_forms_inside_the_article_do_not_need_lxml_form_classes() -> None:
    form = ("<form action='/s'><label>Email<input name='e'></label><select name='c'>"
            "<option>FR</option></select><textarea name='t'></textarea></form>")
    art = extract_article(page(paragraphs(6) + form), "https://a.example/x")
    assert len([p for p in art.paragraphs if p.text.startswith("p ")]) == 6


# trailing lists of other stories -------------------------------------------

TEASERS = ["Judge delays the merger hearing until the regulators finish their review",
           "Five things to know about the appeal the company filed on Friday",
           "Regulators open a second inquiry into the deal and its financing"]


def linked(template: str = "<p><a href='/story/{i}'>{t}</a></p>") -> str:
    return "".join(template.format(i=i, t=t) for i, t in enumerate(TEASERS))


def test_headlines_linked_below_the_body_are_related() -> None:
    art, removed = extract_with_removals(page(paragraphs(8) + linked()), "https://a.example/x")
    assert [(r.rule, r.text) for r in removed] == [("related", t) for t in TEASERS]
    assert len(art.paragraphs) == 8 and not any(t in art.text for t in TEASERS)


def test_linked_headlines_inside_the_body_stay() -> None:
    body = linked("<p><a href='/p/{i}'>{t}</a></p>" + paragraphs(2))
    art, removed = extract_with_removals(page(body), "https://a.example/x")
    assert removed == ()
    assert all(t in art.text for t in TEASERS)


def test_plain_lines_after_the_body_stay() -> None:
    art, removed = extract_with_removals(page(paragraphs(8) + linked("<p>{t}</p>")),
                                         "https://a.example/x")
    assert removed == ()
    assert all(t in art.text for t in TEASERS)


def test_in_page_anchors_and_single_linked_words_are_not_teasers() -> None:
    tree = fromstring("<div><a href=' #part-1'>Part one of the story</a>"
                      "<a href='/a'>Other story of the day</a><a href='/t'>tencel</a></div>")
    links = link_texts(tree)
    assert links == {"Other story of the day", "tencel"}
    body = Paragraph(" ".join([PROSE_EN] * 2))
    tags = (Paragraph("tencel", "list"), Paragraph("tencel", "list"))
    assert split_trailing_links((body, *tags), lambda: links) == ((body, *tags), ())
    one = (body, Paragraph("Other story of the day"))
    assert split_trailing_links(one, lambda: links) == (one, ())
