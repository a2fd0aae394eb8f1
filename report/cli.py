"""The ``report`` and ``review`` subcommands, registered on service.py's parser.

``service.py`` stays the composition root; this module only adds its
subcommands and their handlers, which load the configuration and open the
store like every other command::

    commands = parser.add_subparsers(dest="command", required=True)
    add_report_parsers(commands)
    # newsdedup report --since 2025-11-20 --format html -o report.html
    # newsdedup review split 17 --note "a follow-up, not a copy"
    # newsdedup review merge 42 --into 7

Exit codes: 0 done; 2 bad configuration, a ``--source`` the store has never
seen, or no database yet (``ConfigError``); 1 a review refused (unknown id,
a record merged into itself or into a record that no longer exists:
``ReviewRefused``, nothing written) or another store error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from ingest.config import Config, load_config
from ingest.errors import ConfigError
from ingest.pipeline.review import merge, split
from report.data import DEFAULT_CONFIG, Report, ReportFilters, load_report, parse_since
from report.formats import render_csv, render_json
from report.html import render_html
from store.backends import AnyStore, open_store
from store.db import Store
from store.reportreads import source_known
from store.reviews import ReviewResult

Handler = Callable[[argparse.Namespace], int]
RENDERERS = {"html": render_html, "json": render_json, "csv": render_csv}


def add_report_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``report`` and ``review {split,merge}`` with their handlers."""
    report = commands.add_parser("report", help="write the editors' dedup report")
    _config_option(report)
    report.add_argument("--since", type=_since, metavar="DATE",
                        help="decisions and records from this date or ISO time (UTC) on")
    report.add_argument("--source", metavar="NAME", help="only pages of this source")
    report.add_argument("--format", choices=tuple(RENDERERS), default="html")
    report.add_argument("-o", "--output", metavar="FILE", help="default: standard output")
    report.set_defaults(func=cmd_report)
    review = commands.add_parser("review", help="correct a dedup decision")
    actions = review.add_subparsers(dest="review_action", required=True, metavar="ACTION")
    sub = actions.add_parser("split", help="a duplicate that is not one: make it a record")
    sub.add_argument("duplicate_id", type=int, metavar="DUPLICATE_ID")
    _review_options(sub, cmd_review_split)
    sub = actions.add_parser("merge", help="a missed duplicate: fold a record into another")
    sub.add_argument("article_id", type=int, metavar="ARTICLE_ID")
    sub.add_argument("--into", type=int, required=True, metavar="ARTICLE_ID",
                     help="the record to keep")
    _review_options(sub, cmd_review_merge)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="default: ./config.toml")


def _review_options(parser: argparse.ArgumentParser, func: Handler) -> None:
    parser.add_argument("--note", help="why (kept in the review history)")
    _config_option(parser)
    parser.set_defaults(func=func)


def _since(value: str) -> str:
    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date: use YYYY-MM-DD or an ISO 8601 time") from exc


# -- handlers -----------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    if args.output is None:
        sys.stdout.write(RENDERERS[args.format](build_report(
            args.config, since=args.since, source=args.source)))
        return 0
    report = write_report(args.config, Path(args.output), args.format, since=args.since,
                          source=args.source)
    print(json.dumps(_written(args.output, args.format, report)))
    return 0


def build_report(config_path: str | Path, *, since: str | None = None,
                 source: str | None = None) -> Report:
    """The report of the store that ``config_path`` names (``since``: see parse_since)."""
    config = load_config(config_path)
    with _open_store(config) as store:
        _check_source(store, config, source)
        return load_report(store.conn, ReportFilters(since, source, str(config_path)))


def write_report(config_path: str | Path, output: Path, fmt: str = "html", *,
                 since: str | None = None, source: str | None = None) -> Report:
    """Render the report to ``output`` (replaced atomically); returns what it holds,
    e.g. ``write_report("config.toml", Path("report.html")).summary.duplicates``."""
    report = build_report(config_path, since=since, source=source)
    _write_atomically(output, RENDERERS[fmt](report))
    return report


def cmd_review_split(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with _open_store(config) as store:
        result = split(store, args.duplicate_id, settings=config.dedup, note=args.note)
    return _print_result(result)


def cmd_review_merge(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with _open_store(config) as store:
        result = merge(store, args.article_id, into=args.into, note=args.note)
    return _print_result(result)


def _print_result(result: ReviewResult) -> int:
    print(json.dumps(asdict(result), sort_keys=True))
    return 0


# -- helpers ------------------------------------------------------------------------------


def _open_store(config: Config) -> AnyStore:
    """The store, which must exist: a report or a review of nothing is a mistake."""
    if config.store.url:
        return open_store(config.store.url)
    if not config.db_path.exists():
        raise ConfigError("store.path", str(config.db_path),
                          "no database there yet: run `newsdedup once` first, or point "
                          "--config at the configuration the daemon uses")
    return Store.open(config.db_path)


def _check_source(store: AnyStore, config: Config, source: str | None) -> None:
    if source is None or source in {s.name for s in config.sources}:
        return
    if not source_known(store.conn, source):
        names = ", ".join(sorted(s.name for s in config.sources)) or "none"
        raise ConfigError("--source", source,
                          f"no such source in the configuration or the store; configured: {names}")


def _write_atomically(path: Path, text: str) -> None:
    """Readers (a browser reloading the report) never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the report from a web server
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _written(output: str, fmt: str, report: Report) -> dict[str, object]:
    return {"output": output, "format": fmt, "records_with_duplicates": len(report.clusters),
            "duplicates": report.summary.duplicates, "reviews": len(report.reviews)}
