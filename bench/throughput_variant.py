"""Run ``service.py`` with measured what-if changes patched in: proposals, timed for real.

``bench/throughput.py --variant NAME[+NAME...]`` runs one more ``once``
cycle through this launcher, so a proposed change to the service can be
measured in the same run as the unchanged cycle before anyone edits the
service. Each variant patches the *main* process only (the store, the
fetcher, the pipeline), which is where these proposals act::

    python bench/throughput_variant.py template-index+zlib1 once --config c.toml

Variants (``VARIANTS``):

- ``template-index``: an index on ``site_paragraphs(site, pages)``, so
  ``Store.site_template`` (called twice per page) stops scanning every
  paragraph ever seen on the site;
- ``template-cache``: ``Store.site_template`` answered from memory,
  refreshed only when ``Store.newly_template`` reports a key that just
  became template (the only way the answer can change within one writer);
- ``zlib1``: raw pages compressed at level 1 instead of 6 for ``pages``;
- ``batch32``: one write transaction per 32 pages instead of one per page
  (each page's block becomes a SAVEPOINT, so pages stay atomic);
- ``keepalive2``: the HTTP client drops idle keep-alive connections after
  2 s instead of httpx's 5 s, which equals common server timeouts (Apache:
  5 s) and loses the race on a connection the server is closing.

``service`` is imported at module level on purpose: worker processes are
spawned and re-import the main module, so they must import what they would
import under ``service.py`` for start-up costs to stay comparable.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import service  # noqa: E402
from store.db import Store  # noqa: E402


def _template_index() -> None:
    original = Store.__init__

    def init(self: Store, conn: Any) -> None:
        original(self, conn)
        conn.execute("CREATE INDEX IF NOT EXISTS bench_site_paragraphs_pages "
                     "ON site_paragraphs(site, pages)")

    Store.__init__ = init  # type: ignore[method-assign]


def _template_cache() -> None:
    site_template, newly_template = Store.site_template, Store.newly_template
    cache: dict[tuple[int, str, int], frozenset[str]] = {}

    def cached(self: Store, site: str, min_pages: int) -> frozenset[str]:
        key = (id(self), site, min_pages)
        if key not in cache:
            cache[key] = site_template(self, site, min_pages)
        return cache[key]

    def newly(self: Store, site: str, keys: list[str], min_pages: int) -> frozenset[str]:
        found = newly_template(self, site, keys, min_pages)
        if found:
            cache.pop((id(self), site, min_pages), None)
        return found

    Store.site_template = cached  # type: ignore[method-assign]
    Store.newly_template = newly  # type: ignore[method-assign]


def _zlib1() -> None:
    import store.db

    class Level1:
        """``zlib`` as ``store.db`` sees it, compressing at level 1."""

        compress = staticmethod(lambda data, level=1: zlib.compress(data, 1))
        decompress = staticmethod(zlib.decompress)

    store.db.zlib = Level1  # type: ignore[assignment]


def _keepalive2() -> None:
    import httpx

    original = httpx.Limits.__init__

    def init(self: httpx.Limits, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_expiry", 2.0)
        original(self, *args, **kwargs)

    httpx.Limits.__init__ = init  # type: ignore[method-assign]


def _batch(pages: int = 32) -> None:
    """One transaction per ``pages`` recorded pages; each page's own ``atomic()``
    block becomes a SAVEPOINT inside it (sqlite-utils nests that way), so a page
    is still stored whole or not at all."""
    from ingest.record import Recorder

    commit, end_cycle = Recorder.commit, Store.end_cycle
    done = {"pages": 0}

    def batched(self: Recorder, result: Any) -> str:
        conn = self.store.conn
        if not conn.in_transaction:
            conn.execute("BEGIN")
        outcome: str = commit(self, result)
        done["pages"] += 1
        if done["pages"] % pages == 0 and conn.in_transaction:
            conn.execute("COMMIT")
        return outcome

    def end(self: Store, *args: Any, **kwargs: Any) -> None:
        end_cycle(self, *args, **kwargs)
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    Recorder.commit = batched  # type: ignore[method-assign]
    Store.end_cycle = end  # type: ignore[method-assign]


VARIANTS: dict[str, Callable[[], None]] = {
    "batch32": _batch,
    "template-index": _template_index,
    "template-cache": _template_cache,
    "zlib1": _zlib1,
    "keepalive2": _keepalive2,
}


def apply(spec: str) -> None:
    """Apply ``a+b+c``; an unknown name is an error naming the known ones."""
    for name in filter(None, spec.split("+")):
        if name not in VARIANTS:
            raise SystemExit(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
        VARIANTS[name]()


if __name__ == "__main__":
    apply(sys.argv[1])
    sys.exit(service.main(sys.argv[2:]))
