"""The editors' review app (``newsdedup serve``): Starlette, Jinja2, uvicorn.

It reads the live store (on SQLite a WAL reader, never blocking the daemon) and
writes reviews through the same store functions as ``newsdedup review``, each in
one transaction. Every route but ``/login`` needs a signed-in editor; every form
carries the session's CSRF token; nothing writes on a GET; every crawled string
is escaped by the templates (and only http(s) URLs become links), and the
Content-Security-Policy lets nothing but our own stylesheet and script load::

    app = create_app(config, read_only=False)
    uvicorn.run(app, host=config.review.host, port=config.review.port)

Store work runs in a few worker threads, each with its own store connection
(sqlite3 connections are per thread; a PostgreSQL store holds one connection).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ingest.config import Config
from ingest.errors import NewsdedupError
from ingest.logs import event
from report.html import diff_html, language_html, removed_html, safe_href
from report.web import handlers
from report.web.auth import LoginThrottle, session_key
from store.backends import AnyStore, open_store

log = logging.getLogger("newsdedup.review_app")
HERE = Path(__file__).resolve().parent
T = TypeVar("T")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


class Stores:
    """One store per worker thread, opened on first use and closed with the app."""

    def __init__(self, target: str | Path, threads: int = 4) -> None:
        self.target = target
        self.limiter = anyio.CapacityLimiter(threads)
        self._local = threading.local()
        self._all: list[AnyStore] = []
        self._lock = threading.Lock()

    def _store(self) -> AnyStore:
        store: AnyStore | None = getattr(self._local, "store", None)
        if store is None:
            store = open_store(self.target, pool_size=2)
            self._local.store = store
            with self._lock:
                self._all.append(store)
        return store

    async def run(self, fn: Callable[[AnyStore], T]) -> T:
        """``fn(store)`` in a worker thread with that thread's store."""
        return await anyio.to_thread.run_sync(lambda: fn(self._store()), limiter=self.limiter)

    def close(self) -> None:
        with self._lock:
            for store in self._all:
                store.close()
            self._all.clear()


class App:
    """What the handlers share: configuration, stores, templates, the login throttle."""

    def __init__(self, config: Config, *, read_only: bool,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.read_only = read_only
        self.clock = clock
        self.stores = Stores(config.store_target)
        self.throttle = LoginThrottle(config.review.login_attempts)
        self.session_seconds = int(config.review.session_hours * 3600)
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                                 autoescape=True)
        self.templates = Jinja2Templates(env=env)
        env.filters["href"] = safe_href
        env.globals.update(diff_html=lambda d: Markup(diff_html(d)),
                           removed_html=lambda r: Markup(removed_html(r)),
                           language_html=lambda a, b: Markup(language_html(a, b)))

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("editor", request.session.get("editor"))
        context.setdefault("csrf", request.session.get("csrf", ""))
        context.setdefault("read_only", self.read_only)
        return self.templates.TemplateResponse(request, name, context, status_code=status)


def create_app(config: Config, *, read_only: bool = False,
               clock: Callable[[], float] = time.time) -> Starlette:
    app = App(config, read_only=read_only, clock=clock)
    h = handlers.Handlers(app)
    routes = [
        Route("/login", h.login_form, methods=["GET"]),
        Route("/login", h.login, methods=["POST"]),
        Route("/logout", h.logout, methods=["POST"]),
        Route("/", h.decisions, methods=["GET"]),
        Route("/records/{article_id:int}", h.record, methods=["GET"]),
        Route("/records/{article_id:int}/merge", h.merge_form, methods=["GET"]),
        Route("/records/{article_id:int}/merge", h.merge, methods=["POST"]),
        Route("/duplicates/{duplicate_id:int}/split", h.split, methods=["POST"]),
        Route("/duplicates/{duplicate_id:int}/confirm", h.confirm, methods=["POST"]),
        Route("/history", h.history, methods=["GET"]),
        Route("/healthz", h.healthz, methods=["GET"]),
        Route("/report.css", h.report_css, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(_SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=session_key(config.secret_key_path),
                   session_cookie="newsdedup_session", max_age=app.session_seconds,
                   same_site="strict", https_only=config.review.secure_cookies),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        app.stores.close()

    starlette = Starlette(routes=routes, middleware=middleware,
                          exception_handlers={HTTPException: h.http_error,
                                              NewsdedupError: h.store_error,
                                              Exception: h.crash},
                          lifespan=lifespan)
    starlette.state.app = app
    return starlette


class _SecurityHeaders:
    """The same strict headers on every answer, static files and errors included."""

    def __init__(self, asgi: Callable[..., Awaitable[None]]) -> None:
        self.asgi = asgi

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.asgi(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.asgi(scope, receive, with_headers)


def log_request_error(request: Request, exc: BaseException) -> None:
    event(log, "review_app_error", level=logging.ERROR, path=request.url.path,
          error=f"{type(exc).__name__}: {exc}")
