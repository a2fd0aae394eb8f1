"""``make demo``: the whole service on a bundled sample news web, offline.

Serves ``demo/sample`` as four small sites on 127.0.0.1, runs one crawl
cycle into ``demo.db``, writes the editors' report ``demo-report.html``, and
prints where they are. It needs nothing but the repository (no network, no
``../shared``)::

    .venv/bin/python demo/run.py                 # files in the current directory
    .venv/bin/python demo/run.py --out /tmp/d    # or elsewhere

Each run starts from an empty ``demo.db``: the sample sites get new ports
every time, so yesterday's URLs would never match today's. The
configuration is kept beside them as ``demo-config.toml`` so the review
commands the report shows work on ``demo.db`` afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE.parent, HERE):  # the repository and the sample web, however we run
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from sampleweb import SampleWeb  # noqa: E402

import service  # noqa: E402
from report.cli import write_report  # noqa: E402
from report.data import Report  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=".", help="directory for the files (default: .)")
    out = Path(parser.parse_args(argv).out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    db, config, html = out / "demo.db", out / "demo-config.toml", out / "demo-report.html"
    for stale in (db, db.with_name("demo.db-wal"), db.with_name("demo.db-shm")):
        stale.unlink(missing_ok=True)
    with SampleWeb() as web:
        config.write_text(web.config_text(db), encoding="utf-8")
        summary = _cycle(config)
    if summary is None:
        return 1
    report = write_report(config, html)
    print(_summary(summary, report, db, config, html))
    return 0


def _cycle(config: Path) -> dict[str, object] | None:
    """One ``newsdedup once`` over the sample web; its JSON summary, or None if it failed."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = service.main(["--log-level", "WARNING", "once", "--config", str(config)])
    if code != 0:
        print(f"demo: the crawl cycle failed (exit {code})", file=sys.stderr)
        return None
    summary: dict[str, object] = json.loads(captured.getvalue().strip().splitlines()[-1])
    return summary


def _summary(cycle: dict[str, object], report: Report, db: Path, config: Path,
             html: Path) -> str:
    counts = cycle.get("counts")
    pages = ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in sorted(
        counts.items() if isinstance(counts, dict) else []) if k.startswith("page."))
    lines = [f"demo: one cycle over the sample web ({pages})",
             f"demo: {report.summary.records} records and {report.summary.duplicates} "
             f"duplicates in {db}",
             f"demo: report written to {html}",
             f"      open it: file://{html}"]
    near = [d for c in report.clusters for d in c.duplicates if d.method == "near"]
    if near:
        here = Path.cwd()
        rel = config.relative_to(here) if config.is_relative_to(here) else config
        lines += ["demo: try a review, then write the report again:",
                  f"      .venv/bin/python service.py review split {near[0].id} "
                  f"--config {rel} --note 'not a copy'",
                  f"      .venv/bin/python service.py report --config {rel} -o {html}"]
    return "\n".join(lines)


if __name__ == "__main__":  # the guard matters: extraction workers are spawned processes
    sys.exit(main())
