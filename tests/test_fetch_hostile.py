"""The fetch stage against misbehaving servers (issue 6): each fault becomes one
FetchError subclass carrying the URL, within a bounded time and memory."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from test_fetch import HTML, fetch, fetch_error, settings

from ingest.errors import BodyTooLarge, NetworkError, UnsupportedContent
from loopback import (
    LoopbackRequest,
    LoopbackServer,
    closed_port_url,
    delayed,
    endless_body,
    gzip_bomb,
    gzipped,
    reset_connection,
    slow_drip,
    status,
)

CAP = 64 * 1024


@contextmanager
def within(seconds: float) -> Iterator[None]:
    start = time.monotonic()
    yield
    assert time.monotonic() - start < seconds


def test_connection_refused() -> None:
    url = closed_port_url("/a")
    with within(2):
        err = fetch_error(url, settings(respect_robots_txt=False))
    assert isinstance(err, NetworkError) and err.url == url and err.reason == "network"
    assert isinstance(err.__cause__, Exception)  # the httpx error is chained


def test_connection_reset(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", reset_connection)
    err = fetch_error(loopback.url("/a"), settings(respect_robots_txt=False))
    assert isinstance(err, NetworkError) and err.url == loopback.url("/a")


@pytest.mark.parametrize("reset", [True, False])
def test_body_cut_short(loopback: LoopbackServer, reset: bool) -> None:
    """A reset, or a plain close, before Content-Length bytes arrived."""
    def fn(req: LoopbackRequest) -> None:
        req.send_head(200, {"Content-Type": "text/html", "Content-Length": "50000"})
        req.write(b"<html>" + b"x" * 1000)
        if reset:
            req.reset()
        else:
            req.handler.connection.shutdown(2)
    loopback.add_handler("/a", fn)
    err = fetch_error(loopback.url("/a"), settings(respect_robots_txt=False))
    assert isinstance(err, NetworkError) and err.url == loopback.url("/a")


def test_read_timeout(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", delayed(5.0, status(200)))
    with within(2):
        err = fetch_error(loopback.url("/a"),
                          settings(timeout_seconds=0.4, respect_robots_txt=False))
    assert isinstance(err, NetworkError)


def test_slow_drip_stopped_by_total_deadline(loopback: LoopbackServer) -> None:
    """Bytes arrive every 0.1 s, so no read ever times out: only the total deadline helps."""
    loopback.add_handler("/a", slow_drip(interval=0.1))
    with within(2.5):
        err = fetch_error(loopback.url("/a"),
                          settings(timeout_seconds=1.0, respect_robots_txt=False))
    assert isinstance(err, NetworkError) and "deadline" in str(err)
    assert err.url == loopback.url("/a")


def test_declared_length_over_cap(loopback: LoopbackServer) -> None:
    loopback.add("/a", b"<html>" + b"x" * (CAP * 2))
    err = fetch_error(loopback.url("/a"), settings(respect_robots_txt=False))
    assert isinstance(err, BodyTooLarge) and "exceeds" in str(err)


def test_endless_body_stopped_at_cap(loopback: LoopbackServer) -> None:
    loopback.add_handler("/a", endless_body())
    with within(3):
        err = fetch_error(loopback.url("/a"), settings(respect_robots_txt=False))
    assert isinstance(err, BodyTooLarge)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bomb_stopped_at_cap_with_bounded_memory(
        loopback: LoopbackServer, encoding: str) -> None:
    """50 MB of zeros in about 50 KB: the fetcher must stop near the 1 MB cap
    without ever holding the decoded 50 MB (httpx's own decoder would)."""
    loopback.add_handler("/bomb", gzip_bomb(50_000_000, encoding))
    s = settings(respect_robots_txt=False, max_page_bytes=1_000_000)
    tracemalloc.start()
    try:
        err = fetch_error(loopback.url("/bomb"), s)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(err, BodyTooLarge) and "after decoding" in str(err)
    assert peak < 8_000_000


@pytest.mark.parametrize("encoding", ["gzip", "deflate-zlib", "deflate-raw"])
def test_honest_compressed_body_decoded(loopback: LoopbackServer, encoding: str) -> None:
    data = (HTML * 200).encode()
    if encoding == "gzip":
        loopback.add_handler("/a", gzipped(data))
    else:
        wbits = zlib.MAX_WBITS if encoding == "deflate-zlib" else -zlib.MAX_WBITS
        comp = zlib.compressobj(6, zlib.DEFLATED, wbits)
        payload = comp.compress(data) + comp.flush()
        loopback.add("/a", payload, headers={"Content-Encoding": "deflate"})
    page = fetch(loopback.url("/a"), settings(respect_robots_txt=False))
    assert page.body == data
    assert "gzip" in loopback.requests[-1].headers["Accept-Encoding"]


def test_decoded_cap_counts_decoded_bytes(loopback: LoopbackServer) -> None:
    data = b"<html>" + b"a" * (CAP + 10)
    assert len(gzip.compress(data)) < CAP
    loopback.add_handler("/a", gzipped(data))
    assert isinstance(fetch_error(loopback.url("/a"), settings(respect_robots_txt=False)),
                      BodyTooLarge)


def test_corrupt_gzip(loopback: LoopbackServer) -> None:
    loopback.add("/a", b"this is not gzip at all", headers={"Content-Encoding": "gzip"})
    assert isinstance(fetch_error(loopback.url("/a"), settings(respect_robots_txt=False)),
                      NetworkError)


def test_unknown_content_encoding(loopback: LoopbackServer) -> None:
    loopback.add("/a", b"\x1b\x00", headers={"Content-Encoding": "br"})
    assert isinstance(fetch_error(loopback.url("/a"), settings(respect_robots_txt=False)),
                      UnsupportedContent)


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "video/mp4",
                                          "audio/mpeg", "IMAGE/JPEG; q=1"])
def test_binary_content_refused(loopback: LoopbackServer, content_type: str) -> None:
    loopback.add("/a", b"%PDF-1.7 binary", content_type=content_type)
    for accept in ("page", "source"):
        err = fetch_error(loopback.url("/a"), settings(respect_robots_txt=False),
                          accept=accept)
        assert isinstance(err, UnsupportedContent) and err.reason == "content_type"


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "text/plain"])
def test_vague_type_with_html_body_accepted(loopback: LoopbackServer,
                                            content_type: str | None) -> None:
    loopback.add("/a", "\ufeff\n  " + HTML, content_type=content_type)
    page = fetch(loopback.url("/a"), settings(respect_robots_txt=False))
    assert page.status == 200 and page.content_type == (content_type or "")


@pytest.mark.parametrize("body", [b"\x89PNG\r\n\x1a\n....", b"%PDF-1.4\n", b"plain words"])
def test_missing_type_with_non_html_body_refused(loopback: LoopbackServer, body: bytes) -> None:
    loopback.add("/a", body, content_type=None)
    assert isinstance(fetch_error(loopback.url("/a"), settings(respect_robots_txt=False)),
                      UnsupportedContent)


def test_pdf_behind_html_type_refused(loopback: LoopbackServer) -> None:
    loopback.add("/a", b"%PDF-1.7\n%...", content_type="text/html")
    assert isinstance(fetch_error(loopback.url("/a"), settings(respect_robots_txt=False)),
                      UnsupportedContent)


def test_source_with_missing_type_sniffed(loopback: LoopbackServer) -> None:
    loopback.add("/feed", b'<?xml version="1.0"?><rss/>', content_type=None)
    loopback.add("/bin", b"\x00\x01\x02", content_type=None)
    s = settings(respect_robots_txt=False)
    assert fetch(loopback.url("/feed"), s, accept="source").body.startswith(b"<?xml")
    assert isinstance(fetch_error(loopback.url("/bin"), s, accept="source"), UnsupportedContent)


def test_many_concurrent_faults_do_not_wedge_the_server(loopback: LoopbackServer) -> None:
    """The loopback server itself stays usable after resets and drips."""
    loopback.add_handler("/reset", reset_connection)
    loopback.add_handler("/drip", slow_drip(0.05))
    loopback.add("/ok", HTML)
    s = settings(respect_robots_txt=False, timeout_seconds=0.5)
    for path in ("/reset", "/drip", "/reset"):
        assert isinstance(fetch_error(loopback.url(path), s), NetworkError)
    assert fetch(loopback.url("/ok"), s).status == 200
