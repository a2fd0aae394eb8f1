"""One page's CPU work (``ingest.pipeline.process``): bytes in, values out.

What a worker process runs, called here directly: the title and the text's own
language (never a wrong claim), the charset a page is read in, the template a
site learned, the error that names the page, and the stage times a cycle sums.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingest.clean.article import paragraph_key
from ingest.config import DedupSettings
from ingest.errors import ExtractError, NotAnArticle
from ingest.pipeline.plan import REMEMBERED
from ingest.pipeline.process import (
    PageJob,
    clean_page,
    process_page,
    process_page_timed,
    processed_page,
)
from ingest.pipeline.stats import Stats
from ingest.pipeline.topic import TopicFilter
from ingest.types import NO_FINGERPRINT, ProcessedPage, Removal
from newsweb import STORIES, article_html

URL = "https://journal.example/2025/11/proces"
FRENCH = ("<html><head><title>Le procès</title></head><body><article><p>"
          + "Le tribunal a entendu les deux fondateurs lundi à Oakland. " * 12
          + "</p></article></body></html>")
POLISH = ("<html><head>{meta}<title>Sąd wyznaczył datę procesu</title></head><body><article><p>"
          + "Sąd wysłuchał obu założycieli spółki w poniedziałek w Oakland, a ława "
            "przysięgłych zbierze się wiosną. " * 6 + "</p></article></body></html>")
WORKER_STAGES = ["clean", "decode", "extract", "fingerprint"]


def test_title_text_and_language_come_from_the_page() -> None:
    done = process_page(PageJob(url=URL, body=FRENCH.encode()))
    assert done.article.title == "Le procès"
    assert done.article.text.startswith("Le tribunal a entendu les deux fondateurs")
    assert done.article.language == "fr" and done.article.declared_language is None
    assert done.article.url == URL


def test_a_wrong_declared_language_is_kept_apart_and_the_text_decides() -> None:
    done = process_page(PageJob(url=URL, body=FRENCH.encode(), declared_language="en"))
    assert (done.article.language, done.article.declared_language) == ("fr", "en")
    assert done.article.language_confidence is not None and done.article.language_confidence > 0.5


def test_the_pages_own_claim_comes_before_the_job_hint() -> None:
    body = FRENCH.replace("<html>", '<html lang="de-DE">').encode()
    done = process_page(PageJob(url=URL, body=body, declared_language="en"))
    assert (done.article.language, done.article.declared_language) == ("fr", "de")


def test_the_http_charset_is_honoured_over_a_contradicting_meta() -> None:
    body = POLISH.format(meta='<meta charset="windows-1250">').encode("iso-8859-2")
    done = process_page(PageJob(url=URL, body=body, charset="iso-8859-2"))
    assert done.article.title == "Sąd wyznaczył datę procesu"
    assert done.article.language == "pl"


def test_a_meta_charset_is_read_when_the_header_gives_none() -> None:
    body = POLISH.format(meta='<meta charset="iso-8859-2">').encode("iso-8859-2")
    assert process_page(PageJob(url=URL, body=body)).article.title == \
        "Sąd wyznaczył datę procesu"


def test_utf8_mislabelled_latin1_still_reads_as_utf8() -> None:
    done = process_page(PageJob(url=URL, body=FRENCH.encode(), charset="iso-8859-1"))
    assert done.article.title == "Le procès" and "à Oakland" in done.article.text


@pytest.mark.parametrize("body", [
    b"", b"<html>", b"<html><body></body></html>",
    b"<html><body><p> \n </p><script>x()</script></body></html>",
    b"<html><body><article><p>***</p><p>...</p></article></body></html>"])  # cleaned away
def test_a_page_without_an_article_raises_extract_error_naming_it(body: bytes) -> None:
    with pytest.raises(ExtractError) as caught:
        process_page(PageJob(url=URL, body=body))
    assert caught.value.url == URL and URL in str(caught.value)
    assert caught.value.reason == "no_article"


def test_keys_and_fingerprint_are_those_of_the_clean_text() -> None:
    """The same story in two sites' chrome is one text: same keys, same content hash."""
    one = process_page(PageJob(url=URL, body=article_html("en1", site="Tech Daily").encode()))
    two = process_page(PageJob(url="https://wire.example/a",
                               body=article_html("en1", site="The Wire").encode()))
    assert [p.text for p in one.article.paragraphs] == STORIES["en1"]["paragraphs"]
    assert one.keys == tuple(paragraph_key(p) for p in STORIES["en1"]["paragraphs"])
    assert one.fingerprint == two.fingerprint
    assert one == processed_page(one.article, DedupSettings())


def test_the_dedup_settings_of_the_job_shape_the_fingerprint() -> None:
    body = article_html("en1", site="Tech Daily").encode()
    small = process_page(PageJob(url=URL, body=body, dedup=DedupSettings(num_perm=64)))
    assert len(small.fingerprint.minhash) == 64 * 4
    assert len(process_page(PageJob(url=URL, body=body)).fingerprint.minhash) == 128 * 4


def test_the_sites_template_is_removed_as_template() -> None:
    extra = "Subscribe to the Tech Daily letter for the best stories of the week in your inbox"
    body = article_html("en2", site="Tech Daily", extra=extra).encode()
    plain = process_page(PageJob(url=URL, body=body))
    assert plain.article.paragraphs[-1].text == extra
    done = process_page(PageJob(url=URL, body=body, template=frozenset({paragraph_key(extra)})))
    assert [p.text for p in done.article.paragraphs] == STORIES["en2"]["paragraphs"]
    assert Removal(extra, "template") in done.article.removed
    assert done.fingerprint != plain.fingerprint


def test_a_page_off_the_jobs_topic_is_kept_out_before_fingerprinting() -> None:
    topic = TopicFilter((("tribunal",),), languages=("fr",))
    kept = process_page(PageJob(url=URL, body=FRENCH.encode(), topic=topic))
    plain = process_page(PageJob(url=URL, body=FRENCH.encode()))
    assert kept.skip is None and kept.filtered and not plain.filtered
    assert (kept.article, kept.fingerprint, kept.keys) == (plain.article, plain.fingerprint,
                                                           plain.keys)
    off = process_page(PageJob(url=URL, body=FRENCH.encode(),
                               topic=TopicFilter((("musk",),))))
    assert (off.skip, off.fingerprint, off.keys) == ("off_topic", NO_FINGERPRINT, ())
    assert off.article.title == "Le procès", "the article is still there, for the record"
    english_only = TopicFilter((), languages=("en",))
    done, stats = process_page_timed(PageJob(url=URL, body=FRENCH.encode(), topic=english_only))
    assert isinstance(done, ProcessedPage) and done.skip == "off_language"
    assert sorted(stats.times) == WORKER_STAGES


def test_clean_page_times_its_stages_into_the_given_stats() -> None:
    stats = Stats()
    cleaned = clean_page(FRENCH.encode(), URL, stats=stats)
    assert cleaned.title == "Le procès"
    assert sorted(stats.times) == ["clean", "decode", "extract"]
    assert all(t.count == 1 for t in stats.times.values())


def test_process_page_timed_returns_the_page_and_every_worker_stage() -> None:
    job = PageJob(url=URL, body=FRENCH.encode())
    done, stats = process_page_timed(job)
    assert isinstance(done, ProcessedPage) and done == process_page(job)
    assert sorted(stats.times) == WORKER_STAGES
    assert all(t.count == 1 and t.wall >= t.cpu >= 0 for t in stats.times.values())


def test_process_page_timed_returns_a_failure_as_a_value_with_its_time() -> None:
    error, stats = process_page_timed(PageJob(url=URL, body=b"<html>"))
    assert isinstance(error, ExtractError) and error.url == URL
    assert "fingerprint" not in stats.times and stats.times["decode"].count == 1


def test_process_page_adds_to_the_stats_it_is_given() -> None:
    stats = Stats()
    job = PageJob(url=URL, body=FRENCH.encode())
    process_page(job, stats)
    process_page(job, stats)
    assert {name: t.count for name, t in stats.times.items()} == dict.fromkeys(WORKER_STAGES, 2)


WORKER_SCRIPT = """
import sys
from py3langid.langid import LanguageIdentifier
from ingest.pipeline.process import PageJob, process_page, warm_up
if sys.argv[1] == "warm":
    warm_up()
def refuse(*args, **kwargs):
    raise RuntimeError("the language model was loaded by a page")
LanguageIdentifier.from_modelpath = refuse
page = PageJob(url="https://a.example/x", body=sys.stdin.buffer.read())
print(process_page(page).article.language)
"""


def worker(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WORKER_SCRIPT, mode], input=FRENCH,
                          capture_output=True, text=True, cwd=Path(__file__).parent.parent,
                          timeout=60)


def test_warm_up_loads_the_language_model_before_the_first_page() -> None:
    """In a fresh process, as a worker's ``warmup``: once warm_up ran, a page needs no model
    loading (here, loading is refused after warm-up); without it, the first page loads it."""
    warm = worker("warm")
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.split() == ["fr"]
    cold = worker("cold")
    assert cold.returncode != 0 and "loaded by a page" in cold.stderr


# -- walls and access (issue 16) ---------------------------------------------------------

WALLS = Path(__file__).parent / "fixtures" / "walls"
CHALLENGE = ("<html><head><title>Just a moment...</title></head><body><h1>journal.example</h1>"
             "<p>Checking your browser before accessing journal.example.</p><noscript>Enable "
             "JavaScript and cookies to continue</noscript></body></html>")


@pytest.mark.parametrize(("body", "kind"), [
    (CHALLENGE.encode(), "bot_challenge"),
    ((WALLS / "consent_wall.de.sourcepoint.html").read_bytes(), "consent_wall"),
    ((WALLS / "error_page.fr.introuvable.html").read_bytes(), "error_page"),
    ((WALLS / "js_required.fr.spa.html").read_bytes(), "js_required"),
    ((WALLS / "login_wall.en.signin.html").read_bytes(), "login_wall")])
def test_a_wall_raises_not_an_article_with_its_kind_and_is_not_remembered(
        body: bytes, kind: str) -> None:
    error, stats = process_page_timed(PageJob(url=URL, body=body))
    assert isinstance(error, NotAnArticle) and isinstance(error, ExtractError)
    assert (error.reason, error.url) == (kind, URL)
    assert kind not in REMEMBERED, "fetched again when its source lists it again"
    assert "fingerprint" not in stats.times


def test_a_paywalled_teaser_comes_back_as_a_paywalled_article() -> None:
    teaser = ("<html><head><title>La réforme</title><script type='application/ld+json'>"
              '{"@type": "NewsArticle", "isAccessibleForFree": false}</script></head><body>'
              "<article><p>Le gouvernement présente mercredi sa réforme remaniée.</p>"
              "<div class='paywall'><p>Connectez-vous pour lire la suite.</p><form><input "
              "type='password'></form></div></article></body></html>")
    done = process_page(PageJob(url=URL, body=teaser.encode()))
    assert done.article.access == "paywalled" and done.fingerprint.content_hash
    assert "Le gouvernement présente mercredi" in done.article.text


def test_access_is_free_only_when_the_page_says_so() -> None:
    assert process_page(PageJob(url=URL, body=FRENCH.encode())).article.access == "unknown"
    tier = FRENCH.replace("<title>", '<meta property="article:content_tier" content="free">'
                                     "<title>")
    assert process_page(PageJob(url=URL, body=tier.encode())).article.access == "free"
