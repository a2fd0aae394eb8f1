"""The review app's routes: sign-in, the decisions list, a record's page, the writes.

Each write checks, in order: a live session (else 401, or a redirect to sign in
for a page), the form's CSRF token (403), read-only mode (403), the state the
editor saw (409 with the current state when the daemon or another editor changed
it since), then applies the review in one transaction through ``ingest.pipeline.review``,
as ``newsdedup review`` does, with the editor's name on it::

    POST /duplicates/17/split   csrf=…&expect=7:near:0.86&note=different+angle
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from ingest.errors import NewsdedupError, ReviewRefused
from ingest.pipeline import review
from report.assets import CSS
from report.data import parse_since
from report.diff import word_diff
from report.web.auth import DUMMY_HASH, hash_password, needs_rehash, verify_password
from report.web.context import App, log_request_error
from store import editors, webreads
from store.backends import AnyStore
from store.reportreads import (
    ReviewRow,
    record_text,
    records_by_id,
    removals,
    reviews,
    reviews_for,
)
from store.reviews import ReviewResult

METHODS = ("url", "exact", "near", "review")
PAGE_SIZE = 50


class Refused(HTTPException):
    """A clear 4xx page: ``detail`` says what happened and what to do."""


@dataclass(frozen=True, slots=True)
class DuplicateView:
    row: webreads.DecisionRow
    diff: Any
    expect: str


class Handlers:
    def __init__(self, app: App) -> None:
        self.app = app

    # -- sessions ---------------------------------------------------------------------

    async def _editor(self, request: Request) -> str | None:
        """The signed-in editor, if the session is live and the editor still active."""
        name, issued = request.session.get("editor"), request.session.get("t", 0)
        if not name:
            return None
        if self.app.clock() - float(issued) > self.app.session_seconds:
            request.session.clear()
            return None
        found = await self.app.stores.run(lambda s: editors.editor(s, name))
        if found is None or not found.active:
            request.session.clear()
            return None
        return str(name)

    async def _reader(self, request: Request) -> str:
        """The editor for a page; otherwise a redirect to sign in (back here after)."""
        name = await self._editor(request)
        if name is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise _Redirect(f"/login?{urlencode({'next': target})}")
        return name

    async def _writer(self, request: Request) -> tuple[str, FormData]:
        """The editor and the form of a write, or the 4xx that refuses it."""
        name = await self._editor(request)
        if name is None:
            raise Refused(401, "Your session has ended (or you never signed in): sign in "
                               "again, then redo the change. Nothing was written.")
        form = await request.form()
        if not _same_token(form.get("csrf"), request.session.get("csrf")):
            raise Refused(403, "This form is out of date (its security token does not match "
                               "your session): reload the page and try again. Nothing was "
                               "written.")
        if self.app.read_only:
            raise Refused(403, "This review app runs read-only: no change can be made here.")
        return name, form

    # -- sign-in ----------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        request.session.setdefault("csrf", secrets.token_urlsafe(32))
        return self.app.page(request, "login.html", next=_local(request.query_params.get("next")))

    async def login(self, request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
        target = _local(str(form.get("next", ""))) or "/"
        if not _same_token(form.get("csrf"), request.session.get("csrf")):
            raise Refused(403, "The sign-in form is out of date: reload it and try again.")
        address = request.client.host if request.client else "unknown"
        if not self.app.throttle.allowed(name, address):
            raise Refused(429, "Too many failed sign-ins: wait a quarter of an hour, or ask "
                               "the operator to check the account.")
        found = await self.app.stores.run(lambda s: editors.editor(s, name)) if name else None
        ok = verify_password(found.password_hash if found else DUMMY_HASH, password)
        if not ok or found is None or not found.active:
            self.app.throttle.failed(name, address)
            return self.app.page(request, "login.html", status=401, next=target,
                                 error="Wrong name or password, or the account is disabled.")
        if needs_rehash(found.password_hash):
            hashed = hash_password(password)
            await self.app.stores.run(lambda s: editors.set_password(s, name, hashed))
        request.session.clear()
        request.session.update(editor=name, csrf=secrets.token_urlsafe(32), t=self.app.clock())
        return RedirectResponse(target, status_code=303)

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        if _same_token(form.get("csrf"), request.session.get("csrf")):
            request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- pages ------------------------------------------------------------------------

    async def decisions(self, request: Request) -> Response:
        await self._reader(request)
        filters, shown = _filters(request.query_params)
        page = await self.app.stores.run(
            lambda s: webreads.decisions(s.conn, filters, limit=PAGE_SIZE))
        older = None
        if page.next_before is not None:
            older = "/?" + urlencode({**shown, "before": f"{page.next_before[0]}|"
                                                        f"{page.next_before[1]}"})
        return self.app.page(request, "decisions.html", page=page, shown=shown, older=older,
                             methods=METHODS,
                             sources=[s.name for s in self.app.config.sources])

    async def record(self, request: Request) -> Response:
        await self._reader(request)
        article_id = int(request.path_params["article_id"])
        data = await self.app.stores.run(lambda s: _record_data(s, article_id))
        return self.app.page(request, "record.html", done=request.query_params.get("done"),
                             **data)

    async def merge_form(self, request: Request) -> Response:
        await self._reader(request)
        article_id = int(request.path_params["article_id"])
        query = request.query_params.get("q", "").strip()[:200]

        def load(s: AnyStore) -> dict[str, Any]:
            found = records_by_id(s.conn, [article_id])
            if not found:
                raise Refused(404, _gone(s, article_id))
            targets = webreads.search_records(s.conn, query, exclude=article_id) if query else []
            return {"record": found[0], "targets": [
                (t, _version(s, t[0])) for t in targets],
                "expect": _version(s, article_id)}

        data = await self.app.stores.run(load)
        return self.app.page(request, "merge.html", query=query, **data)

    async def history(self, request: Request) -> Response:
        await self._reader(request)
        rows = await self.app.stores.run(lambda s: reviews(s.conn, limit=500))
        return self.app.page(request, "history.html", reviews=rows)

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def report_css(self, request: Request) -> Response:
        """The report's stylesheet, which the app's own (/static/app.css) builds on."""
        return Response(CSS, media_type="text/css")

    # -- writes -----------------------------------------------------------------------

    async def split(self, request: Request) -> Response:
        name, form = await self._writer(request)
        duplicate_id = int(request.path_params["duplicate_id"])
        note = _note(form)

        def apply(s: AnyStore) -> ReviewResult:
            state = webreads.duplicate_state(s.conn, duplicate_id)
            if state is None:
                raise Refused(404, f"There is no duplicate {duplicate_id} (it may have been "
                                   "split meanwhile: see the history). Nothing was written.")
            if _state_token(state) != form.get("expect"):
                raise Refused(409, f"Duplicate {duplicate_id} changed since you loaded the "
                                   f"page: it is now a {state[1]} duplicate of record "
                                   f"{state[0]} (similarity {state[2]:.2f}). Nothing was "
                                   "written; reload the record and decide again.")
            return review.split(s, duplicate_id, settings=self.app.config.dedup, note=note,
                                editor=name)

        result = await self.app.stores.run(apply)
        return RedirectResponse(f"/records/{result.article_id}?done=split", status_code=303)

    async def merge(self, request: Request) -> Response:
        name, form = await self._writer(request)
        article_id = int(request.path_params["article_id"])
        into = _int(form.get("into"), "into")
        note = _note(form)
        if into == article_id:
            raise Refused(409, f"Record {article_id} cannot be merged into itself. Nothing was "
                               "written.")

        def apply(s: AnyStore) -> ReviewResult:
            versions = {key: (record_id, _version(s, record_id))
                        for record_id, key in ((article_id, "expect"), (into, "expect_into"))}
            for record_id, now in versions.values():
                if now is None:
                    raise Refused(409, _gone(s, record_id) + " Nothing was written.")
            for key, (record_id, now) in versions.items():
                if now != form.get(key):
                    raise Refused(409, f"Record {record_id} changed since you loaded the page "
                                       "(a new version was stored). Nothing was written; "
                                       "reload and decide again.")
            return review.merge(s, article_id, into=into, note=note, editor=name)

        result = await self.app.stores.run(apply)
        return RedirectResponse(f"/records/{result.target_id}?done=merge", status_code=303)

    async def confirm(self, request: Request) -> Response:
        name, form = await self._writer(request)
        duplicate_id = int(request.path_params["duplicate_id"])
        await self.app.stores.run(lambda s: editors.confirm(s, duplicate_id, name))
        target = _local(str(form.get("next", ""))) or "/"
        return RedirectResponse(target, status_code=303)

    # -- errors -----------------------------------------------------------------------

    async def http_error(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, _Redirect):
            return RedirectResponse(exc.detail, status_code=303)
        assert isinstance(exc, HTTPException)
        return self.app.page(request, "error.html", status=exc.status_code,
                             message=exc.detail, code=exc.status_code)

    async def store_error(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, ReviewRefused):
            return self.app.page(request, "error.html", status=409, code=409,
                                 message=f"{exc} Nothing was written.")
        assert isinstance(exc, NewsdedupError)
        log_request_error(request, exc)
        return self.app.page(request, "error.html", status=503, code=503,
                             message="The database did not answer in time; nothing was "
                                     "written. Try again in a moment.")

    async def crash(self, request: Request, exc: Exception) -> Response:
        log_request_error(request, exc)
        return self.app.page(request, "error.html", status=500, code=500,
                             message="Something went wrong on our side; nothing was written. "
                                     "The operator's log has the details.")


class _Redirect(HTTPException):
    def __init__(self, location: str) -> None:
        super().__init__(303, location)


def _record_data(s: AnyStore, article_id: int) -> dict[str, Any]:
    found = records_by_id(s.conn, [article_id])
    if not found:
        raise Refused(404, _gone(s, article_id))
    text = record_text(s.conn, article_id)
    dups = []
    for row in webreads.record_duplicates(s.conn, article_id):
        own = webreads.duplicate_text(s.conn, row.id)
        dups.append(DuplicateView(row, None if own is None else word_diff(text, own),
                                  _state_token((row.article_id, row.method, row.similarity))))
    urls = {found[0].url, *(d.row.url for d in dups)}
    history = reviews_for(s.conn, article_id, urls)
    return {"record": found[0], "text": text, "duplicates": dups,
            "removed": tuple(removals(s.conn, article_id)), "history": history,
            "expect": _version(s, article_id)}


def _version(s: AnyStore, article_id: int) -> str | None:
    state = webreads.record_version(s.conn, article_id)
    return None if state is None else f"{state[0]}:{state[1]}"


def _state_token(state: tuple[int, str, float]) -> str:
    return f"{state[0]}:{state[1]}:{state[2]:.6f}"


def _gone(s: AnyStore, article_id: int) -> str:
    merged = [r for r in reviews_for(s.conn, article_id, ())
              if r.action == "merge" and r.article_id == article_id]
    if merged:
        return (f"Record {article_id} is no longer a record: it was merged into record "
                f"{merged[0].target_id}.")
    return f"There is no record {article_id}."


def _filters(params: Any) -> tuple[webreads.DecisionFilters, dict[str, str]]:
    """The list's filters from the query string; a bad value is a 400 naming it."""
    shown = {k: str(params[k]).strip() for k in ("source", "method", "min", "max", "since",
                                                 "until", "reviewed", "q")
             if str(params.get(k, "")).strip()}
    if shown.get("method") not in (None, *METHODS):
        raise Refused(400, f"method {shown['method']!r}: expected one of {', '.join(METHODS)}")
    reviewed = {"yes": True, "no": False, None: None}.get(shown.get("reviewed"), "bad")
    if reviewed == "bad":
        raise Refused(400, "reviewed: expected yes or no")
    before = None
    if params.get("before"):
        stamp, _, ident = str(params["before"]).rpartition("|")
        before = (stamp, _int(ident, "before"))
    return webreads.DecisionFilters(
        source=shown.get("source"), method=shown.get("method"),
        min_similarity=_fraction(shown.get("min"), "min"),
        max_similarity=_fraction(shown.get("max"), "max"),
        since=_date(shown.get("since"), "since"), until=_date(shown.get("until"), "until"),
        reviewed=reviewed if isinstance(reviewed, bool) else None,
        query=shown.get("q"), before=before), shown


def _fraction(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise Refused(400, f"{name} {value!r}: expected a similarity between 0 and 1")
    return number


def _date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError:
        raise Refused(400, f"{name} {value!r}: expected a date such as 2026-12-01") from None


def _int(value: object, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise Refused(400, f"{name} {value!r}: expected a number") from None


def _note(form: FormData) -> str | None:
    note = str(form.get("note", "")).strip()
    if len(note) > 2000:
        raise Refused(400, "The note is longer than 2,000 characters. Nothing was written.")
    return note or None


def _local(target: str | None) -> str | None:
    """``target`` if it is a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _same_token(sent: object, expected: object) -> bool:
    return (isinstance(sent, str) and isinstance(expected, str) and bool(expected)
            and secrets.compare_digest(sent, expected))


__all__ = ["Handlers", "ReviewRow"]
