"""Run ``service.py`` with measured what-if changes patched in: proposals, timed for real.

``bench/throughput.py --variant NAME[+NAME...]`` runs one more ``once``
cycle through this launcher, so a proposed change to the service can be
measured in the same run as the unchanged cycle before anyone edits the
service. Each variant patches the *main* process only (the store, the
fetcher, the pipeline), which is where these proposals act::

    python bench/throughput_variant.py switch1ms once --config c.toml

Variants (``VARIANTS``); the earlier ones (a template index and cache,
zlib level 1, batched commits, a 2 s keep-alive) proved out and are now
part of the service:

- ``switch1ms``: ``sys.setswitchinterval(0.001)`` in the main process, so
  the pool's threads get the GIL back sooner from the event loop (measured:
  no gain, more CPU);
- ``nocheckpoint``: no automatic WAL checkpoints on the writer's connection
  (measured: shorter commits, but more CPU to read through a growing WAL).

``service`` is imported at module level on purpose: worker processes are
spawned and re-import the main module, so they must import what they would
import under ``service.py`` for start-up costs to stay comparable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import service  # noqa: E402
from store.db import Store  # noqa: E402


def _switch1ms() -> None:
    sys.setswitchinterval(0.001)


def _nocheckpoint() -> None:
    original = Store.__init__

    def init(self: Store, conn: Any) -> None:
        original(self, conn)
        conn.execute("PRAGMA wal_autocheckpoint=0")

    Store.__init__ = init  # type: ignore[method-assign]


VARIANTS: dict[str, Callable[[], None]] = {
    "switch1ms": _switch1ms,
    "nocheckpoint": _nocheckpoint,
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
