"""A real HTTP/1.1 server on 127.0.0.1 for tests: one instance is one web site.

Tests talk to a real socket instead of mocking httpx, so timeouts, resets,
chunked streams and compression are exercised for real. Each server binds an
ephemeral port, so several servers at once are several sites (``host:port``
differ). Every request is recorded, which lets a test prove a negative
("robots.txt disallowed /private, and /private was never requested")::

    with LoopbackServer() as srv:
        srv.add("/robots.txt", "User-agent: *\\nDisallow: /private\\n",
                content_type="text/plain")
        srv.add("/a", "<html>...</html>", etag='"v1"')
        srv.add_handler("/slow", slow_drip(interval=1.0))
        ...  # fetch srv.url("/a")
        assert srv.requests[0].headers["user-agent"].startswith("newsdedup")
        assert "/private" not in srv.paths()

Static routes answer conditional GETs by themselves (304 when If-None-Match
matches the ETag exactly, or If-Modified-Since equals Last-Modified). Handler
routes get a :class:`LoopbackRequest` and may do anything: drip, reset,
redirect forever, send a gzip bomb. Missing paths answer 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import urlsplit

Handler = Callable[["LoopbackRequest"], None]


class Headers(dict[str, str]):
    """Request headers with case-insensitive lookup (keys stored lower-case)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)


class RecordedRequest(NamedTuple):
    """One request as the server saw it: ``(method, path_with_query, headers)``."""

    method: str
    path: str
    headers: Headers


@dataclass(frozen=True)
class StaticRoute:
    body: bytes
    status: int
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class LoopbackRequest:
    """What a handler receives: the request, plus helpers to answer it."""

    method: str
    path: str
    query: str
    headers: Headers
    handler: BaseHTTPRequestHandler
    stopping: threading.Event = field(repr=False)

    def respond(self, status: int = 200, body: bytes | str = b"", *,
                headers: Mapping[str, str] | None = None,
                content_type: str | None = "text/html; charset=utf-8") -> None:
        """Send a complete answer with a Content-Length."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers.setdefault("Content-Type", content_type)
        all_headers["Content-Length"] = str(len(data))
        self.send_head(status, all_headers)
        if self.method != "HEAD":
            self.write(data)

    def send_head(self, status: int, headers: Mapping[str, str]) -> None:
        """Send the status line and headers only; the handler streams the body."""
        h = self.handler
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        if not any(k.lower() == "content-length" for k in headers):
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.flush()

    def write(self, data: bytes) -> None:
        self.handler.wfile.write(data)
        self.handler.wfile.flush()

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), like a crashed peer."""
        sock = self.handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.handler.close_connection = True
        sock.close()

    def sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; returns False when it is."""
        return not self.stopping.wait(seconds)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5.0  # idle keep-alive connections close so shutdown never waits long
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.owner._dispatch(self)

    do_HEAD = do_GET
    do_POST = do_GET

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:
            self.close_connection = True  # reset by a handler or by the client

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the socket is already gone (reset)
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr log; tests read ``srv.requests`` instead."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    owner: LoopbackServer


class LoopbackServer:
    """A threaded HTTP/1.1 site on 127.0.0.1 (or another 127.x address)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._static: dict[str, StaticRoute] = {}
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._httpd = _HTTPServer((host, 0), _RequestHandler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + (path if path.startswith("/") else "/" + path)

    def add(self, path: str, body: bytes | str, *, status: int = 200,
            headers: Mapping[str, str] | None = None,
            content_type: str | None = "text/html; charset=utf-8",
            etag: str | None = None, last_modified: str | None = None) -> None:
        """Serve a fixed answer at ``path`` (a query string in ``path`` must match too).

        ``etag``/``last_modified`` (or ETag/Last-Modified in ``headers``) make the
        route answer conditional GETs with 304. ``content_type=None`` sends none.
        """
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers.setdefault("Content-Type", content_type)
        if etag is not None:
            all_headers["ETag"] = etag
        if last_modified is not None:
            all_headers["Last-Modified"] = last_modified
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self._static[path] = StaticRoute(data, status, all_headers)

    def add_handler(self, path: str, fn: Handler) -> None:
        """Let ``fn(request)`` write the whole answer for ``path``."""
        with self._lock:
            self._handlers[path] = fn

    def paths(self) -> list[str]:
        """Requested paths (with query), in arrival order."""
        with self._lock:
            return [r.path for r in self.requests]

    def count(self, path: str) -> int:
        return self.paths().count(path)

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _dispatch(self, h: _RequestHandler) -> None:
        split = urlsplit(h.path)
        headers = Headers(h.headers.items())
        with self._lock:
            self.requests.append(RecordedRequest(h.command, h.path, headers))
            fn = self._handlers.get(h.path) or self._handlers.get(split.path)
            route = self._static.get(h.path) or self._static.get(split.path)
        req = LoopbackRequest(h.command, split.path, split.query, headers, h, self.stopping)
        try:
            if fn is not None:
                fn(req)
            elif route is not None:
                _answer_static(req, route)
            else:
                req.respond(404, "not found", content_type="text/plain")
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True  # the client went away: nothing left to say


def _answer_static(req: LoopbackRequest, route: StaticRoute) -> None:
    etag, modified = route.header("ETag"), route.header("Last-Modified")
    inm, ims = req.headers.get("If-None-Match"), req.headers.get("If-Modified-Since")
    if (etag is not None and inm == etag) or (modified is not None and ims == modified):
        keep = {k: v for k, v in route.headers.items() if k.lower() in ("etag", "last-modified")}
        req.respond(304, b"", headers=keep, content_type=None)
        return
    headers = {k: v for k, v in route.headers.items() if k.lower() != "content-type"}
    req.respond(route.status, route.body, headers=headers,
                content_type=route.header("Content-Type"))


# --- ready-made misbehaviours, for fetch tests, soak benches and fixtures ---


def redirect(location: str, status: int = 302) -> Handler:
    """Answer with a redirect to ``location`` (relative or absolute)."""
    def fn(req: LoopbackRequest) -> None:
        req.respond(status, b"", headers={"Location": location}, content_type=None)
    return fn


def status(code: int, *, retry_after: str | None = None, body: str = "error") -> Handler:
    """Answer ``code``; with ``retry_after`` a Retry-After header (seconds or HTTP-date)."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    def fn(req: LoopbackRequest) -> None:
        req.respond(code, body, headers=headers, content_type="text/plain")
    return fn


def delayed(seconds: float, then: Handler) -> Handler:
    """Wait ``seconds`` before answering (a read timeout for an impatient client)."""
    def fn(req: LoopbackRequest) -> None:
        if req.sleep(seconds):
            then(req)
    return fn


def reset_connection(req: LoopbackRequest) -> None:
    """Read the request, then abort the TCP connection with RST."""
    req.reset()


def slow_drip(interval: float = 1.0, chunk: bytes = b"<") -> Handler:
    """Send headers at once, then ``chunk`` every ``interval`` seconds, forever."""
    def fn(req: LoopbackRequest) -> None:
        req.send_head(200, {"Content-Type": "text/html"})
        while req.sleep(interval):
            req.write(chunk)
    return fn


def endless_body(chunk_size: int = 65536, content_type: str = "text/html") -> Handler:
    """Stream ``<p>`` bytes as fast as the client reads, with no end and no length."""
    block = (b"<p>" + b"x" * chunk_size)[:chunk_size]
    def fn(req: LoopbackRequest) -> None:
        req.send_head(200, {"Content-Type": content_type})
        while not req.stopping.is_set():
            req.write(block)
    return fn


def gzip_bomb(decoded_size: int = 200_000_000, encoding: str = "gzip") -> Handler:
    """A small compressed body that inflates to ``decoded_size`` bytes of zeros.

    The body is built once (about 1/1000 of ``decoded_size``) and sent with a
    Content-Length, so the server never holds the decoded size in memory.
    """
    payload = _compressed_zeros(decoded_size, encoding)
    def fn(req: LoopbackRequest) -> None:
        req.respond(200, payload, headers={"Content-Encoding": encoding})
    return fn


def _compressed_zeros(size: int, encoding: str) -> bytes:
    wbits = 31 if encoding == "gzip" else 15
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = b"\0" * 1_000_000
    parts = [comp.compress(block) for _ in range(size // len(block))]
    parts.append(comp.compress(b"\0" * (size % len(block))))
    parts.append(comp.flush())
    return b"".join(parts)


def gzipped(body: bytes | str, content_type: str = "text/html; charset=utf-8") -> Handler:
    """An honest gzip-encoded answer."""
    data = gzip.compress(body.encode("utf-8") if isinstance(body, str) else body)
    def fn(req: LoopbackRequest) -> None:
        req.respond(200, data, headers={"Content-Encoding": "gzip"}, content_type=content_type)
    return fn


def closed_port_url(path: str = "/", host: str = "127.0.0.1") -> str:
    """A URL on a port where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    return f"http://{host}:{port}{path}"


def wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Poll ``predicate`` until true or ``timeout``; for asserting on server threads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class FakeTime:
    """A clock and sleep pair for ``Fetcher(clock=..., sleep=...)``: time only moves
    when someone sleeps, so politeness delays are asserted exactly and instantly.

        t = FakeTime()
        fetcher = Fetcher(settings, clock=t.clock, sleep=t.sleep)
        ...
        assert t.sleeps == [1.0, 1.0]
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += seconds
