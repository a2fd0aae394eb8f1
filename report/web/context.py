"""What the review app's handlers share: configuration, per-thread stores, templates,
the sign-in throttle, and the error log (apart from :mod:`report.web.app`, which wires
the routes, so that the handlers do not import the app that imports them)::

    app = App(config, read_only=False)
    found = await app.stores.run(lambda store: editors.editor(store, "ada"))
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from ingest.config import Config
from ingest.logs import event
from report.html import diff_html, language_html, removed_html, safe_href
from report.web.auth import LoginThrottle
from store.backends import AnyStore, open_store

log = logging.getLogger("newsdedup.review_app")
HERE = Path(__file__).resolve().parent
T = TypeVar("T")


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


def log_request_error(request: Request, exc: BaseException) -> None:
    event(log, "review_app_error", level=logging.ERROR, path=request.url.path,
          error=f"{type(exc).__name__}: {exc}")
