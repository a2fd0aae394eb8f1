"""Same output on the test webs: crawl newsweb and langweb once each, to compare trees.

Run it in each tree (it imports that tree's code, whatever the venv's editable
install points at), then compare the databases with ``compare_stores.py``::

    cd BEFORE_TREE && /work/main/.venv/bin/python bench/compare_webs.py --out /tmp/x/before
    cd /work/main && .venv/bin/python bench/compare_webs.py --out /tmp/x/after
    .venv/bin/python bench/compare_stores.py /tmp/x/before/newsweb.db /tmp/x/after/newsweb.db
    .venv/bin/python bench/compare_stores.py /tmp/x/before/langweb.db /tmp/x/after/langweb.db

Each web is one ``service.main(["once", ...])`` in this process into a fresh
``DIR/<web>.db`` (the configuration beside it, ``DIR/<web>.toml``). The
sites are served on new loopback ports every run; ``compare_stores.py``
reads any ``127.0.0.1:PORT`` as the same host. That is enough only if no two
stored URLs of different sites become one once their ports are set aside
(they would hide each other): checked after each crawl, exit 1 if so.
``--check OTHER_DIR`` then runs ``compare_stores.py`` (beside this script)
on ``OTHER_DIR/<web>.db`` and ``DIR/<web>.db``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This tree's code first: the venv's editable install may point at another tree.
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import service  # noqa: E402
from langweb import LangWeb  # noqa: E402
from newsweb import NewsWeb  # noqa: E402

WEBS: dict[str, Any] = {"newsweb": NewsWeb, "langweb": LangWeb}
_LOOPBACK = re.compile(r"127\.0\.0\.1:\d+")  # as compare_stores.py reads them


def crawl(name: str, out: Path, log_level: str) -> dict[str, Any]:
    """One ``once`` cycle over the web ``name`` into ``out/<name>.db``; its summary."""
    db = out / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with WEBS[name]() as web:
        config = out / f"{name}.toml"
        config.write_text(web.config_text(db), encoding="utf-8")
        sites = {site: srv.base for site, srv in web.sites.items()}
        out_text = io.StringIO()  # the cycle summary: kept in DIR/<web>.summary.json
        with contextlib.redirect_stdout(out_text):
            code = service.main(["--log-level", log_level, "once", "--config", str(config)])
    if code != 0:
        raise SystemExit(f"{name}: once exited {code}: {out_text.getvalue()[-2000:]}")
    (out / f"{name}.summary.json").write_text(out_text.getvalue(), encoding="utf-8")
    (out / f"{name}.sites.json").write_text(json.dumps(sites, indent=1), encoding="utf-8")
    return sites


def check_keys(db: Path) -> list[str]:
    """Rows whose URL, ports aside, is another row's too (they would hide each other)."""
    clashes = []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for table in ("articles", "duplicates", "skipped"):
            urls = [u for (u,) in conn.execute(f"SELECT url FROM {table}")]
            keys = Counter(_LOOPBACK.sub("loopback", u) for u in urls)
            clashes += [f"{table}: {k} x{n}" for k, n in keys.items() if n > 1]
    return clashes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="directory for <web>.db")
    p.add_argument("--web", choices=tuple(WEBS), action="append",
                   help="only this web (repeatable; default: both)")
    p.add_argument("--log-level", default="WARNING", help="the service's --log-level")
    p.add_argument("--check", type=Path, metavar="OTHER_DIR",
                   help="then run compare_stores.py OTHER_DIR/<web>.db DIR/<web>.db")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in args.web or list(WEBS):
        sites = crawl(name, args.out, args.log_level)
        print(f"{name}: {args.out / f'{name}.db'} ({len(sites)} sites: "
              f"{', '.join(f'{k} {v}' for k, v in sites.items())})", flush=True)
        clashes = check_keys(args.out / f"{name}.db")
        if clashes:
            failed = 1
            print(f"  URLs equal once ports are set aside: {clashes[:5]}", flush=True)
        if args.check:
            cmd = [sys.executable, str(ROOT / "bench" / "compare_stores.py"),
                   str(args.check / f"{name}.db"), str(args.out / f"{name}.db")]
            failed |= subprocess.run(cmd, check=False).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main())
