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
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ingest.config import Config
from ingest.errors import NewsdedupError
from report.web import handlers
from report.web.auth import session_key
from report.web.context import HERE, App

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


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
                   same_site="lax", https_only=config.review.secure_cookies),
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
