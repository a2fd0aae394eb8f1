"""Google News' lookup protocol, the pure parts: read its article page, build its
``batchexecute`` request, read the answer. The network step is
:mod:`ingest.discover.resolve`, through the project's own fetcher.

For an id that does not carry its URL (see :mod:`ingest.discover.aggregators`),
Google's page does this in JavaScript, and so do we, in three observed steps
(the public decoders, e.g. the ``googlenewsdecoder`` package, do the same):

1. ``GET /rss/articles/<id>?hl=..&gl=..&ceid=..`` on the aggregator's host: an
   HTML page whose ``<c-wiz><div jscontroller=... data-n-a-id=<id>
   data-n-a-sg=<signature> data-n-a-ts=<timestamp>>`` holds what the next step
   needs. Some pages carry the target itself in a ``data-n-au`` attribute; an
   interstitial, consent or error page carries neither (``no_signature``).
2. ``POST /_/DotsSplashUi/data/batchexecute``, form-encoded ``f.req=`` with one
   envelope per id, several ids per request::

       [[["Fbv4je", "[\\"garturlreq\\",[CONTEXT],\\"<id>\\",<ts>,\\"<sg>\\"]",
          null, "<request id>"], ...]]

   where ``CONTEXT`` is a fixed array holding the edition (``ceid``, e.g. ``US:en``).
3. The answer is ``)]}\'`` then a JSON array of rows (or, in the streamed form,
   length-prefixed chunks of rows). The row::

       ["wrb.fr", "Fbv4je", "[\\"garturlres\\",\\"<URL>\\",1]", null, null, null, "<request id>"]

   carries each target; ``di`` and ``af.httprm`` rows are bookkeeping, and an id
   Google will not resolve gets no ``garturlres`` row (``no_answer``).

Example::

    >>> lookup = Lookup("AU_x", "", "")
    >>> body = batch_request([("0", lookup, Signature("S", "17"))])
    >>> body.startswith(b"f.req=") and b"garturlreq" in body
    True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from lxml import etree
from lxml import html as lxml_html

from ingest.discover.aggregators import Lookup

FORM_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"
_MAX_ANSWER_CHARS = 2_000_000


@dataclass(frozen=True, slots=True)
class Signature:
    """What Google's article page gives for the batchexecute request."""

    signature: str
    timestamp: str


def page_target(body: bytes) -> str | Signature | None:
    """What Google's article page offers: the target itself (``data-n-au``), else the
    signature and timestamp for batchexecute, else None (an interstitial, a consent
    or error page: nothing to go on).

    >>> page_target(b'<c-wiz><div jscontroller="x" data-n-a-sg="S" data-n-a-ts="17"></div></c-wiz>')
    Signature(signature='S', timestamp='17')
    >>> page_target(b'<div data-n-au="https://pub.example/a"></div>')
    'https://pub.example/a'
    >>> page_target(b"<html><body>Before you continue</body></html>") is None
    True
    """
    try:
        tree = lxml_html.fromstring(body)
    except (etree.LxmlError, ValueError):  # an empty or undecodable body
        return None
    direct = tree.xpath("//*[@data-n-au][1]/@data-n-au")
    if direct and str(direct[0]).strip():
        return str(direct[0]).strip()
    found = tree.xpath("//*[@data-n-a-sg][@data-n-a-ts][1]")
    if not found:
        return None
    signature = str(found[0].get("data-n-a-sg", "")).strip()
    timestamp = str(found[0].get("data-n-a-ts", "")).strip()
    return Signature(signature, timestamp) if signature and timestamp.isdigit() else None


def batch_request(items: Sequence[tuple[str, Lookup, Signature]]) -> bytes:
    """The batchexecute form body asking for each ``(request id, lookup, signature)``.

    >>> body = batch_request([("0", Lookup("AU_x", "", ""), Signature("S", "17"))])
    >>> body.startswith(b"f.req=") and b"garturlreq" in body and b"Fbv4je" in body
    True
    """
    envelopes = []
    for rid, lookup, sig in items:
        context = [["X", "X", ["X", "X"], None, None, 1, 1, lookup.locale.ceid, None, 1, None,
                    None, None, None, None, 0, 1], "X", "X", 1, [1, 1, 1], 1, 1, None, 0, 0,
                   None, 0]
        inner = ["garturlreq", context, lookup.article_id, int(sig.timestamp), sig.signature]
        envelopes.append(["Fbv4je", json.dumps(inner, separators=(",", ":")), None, rid])
    payload = json.dumps([envelopes], separators=(",", ":"))
    return f"f.req={quote(payload, safe='')}".encode("ascii")


def batch_answer(body: bytes, rids: Sequence[str]) -> dict[str, str]:
    """The target of each request id found in a batchexecute answer.

    Rows are matched by their request id; an answer whose rows carry no id we
    asked for is matched in order (a single request answered as ``generic``).

    >>> ans = b')]}\\'\\n\\n[["wrb.fr","Fbv4je","[\\\\"garturlres\\\\",\\\\"https://pub.example/a\\\\",1]",null,null,null,"7"],["di",12]]'
    >>> batch_answer(ans, ["7"])
    {'7': 'https://pub.example/a'}
    >>> batch_answer(b"<html>sorry</html>", ["7"])
    {}
    """
    text = body[:_MAX_ANSWER_CHARS].decode("utf-8", errors="replace").lstrip()
    if text.startswith(")]}'"):
        text = text[4:]
    found = [hit for row in _rows(text) if (hit := _garturlres(row)) is not None]
    wanted = set(rids)
    matched = {rid: url for rid, url in found if rid in wanted}
    if matched or not found:
        return matched
    return dict(zip(rids, (url for _, url in found), strict=False))


def _rows(text: str) -> list[list[object]]:
    """Every row of every JSON envelope in ``text``: one array, or length-prefixed chunks."""
    decoder, i = json.JSONDecoder(), 0
    rows: list[list[object]] = []
    while i < len(text):
        while i < len(text) and (text[i].isspace() or text[i].isdigit()):
            i += 1  # whitespace and the chunk lengths of the ``rt=c`` form
        if i >= len(text):
            break
        try:
            value, i = decoder.raw_decode(text, i)
        except (ValueError, RecursionError):
            break
        if isinstance(value, list):
            rows.extend(r for r in value if isinstance(r, list))
    return rows


def _garturlres(row: list[object]) -> tuple[str, str] | None:
    if len(row) < 3 or row[0] != "wrb.fr" or row[1] != "Fbv4je" or not isinstance(row[2], str):
        return None
    try:
        payload = json.loads(row[2])
    except (ValueError, RecursionError):
        return None
    if not (isinstance(payload, list) and len(payload) >= 2 and payload[0] == "garturlres"
            and isinstance(payload[1], str)):
        return None
    rid = next((str(c) for c in reversed(row[3:]) if isinstance(c, str | int)), "")
    return rid, payload[1]
