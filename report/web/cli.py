"""``newsdedup serve`` and ``newsdedup editors``: the review app and its accounts.

The operator makes and disables the accounts; passwords are read from standard
input (one line) or, on a terminal, prompted twice without echo, and only their
argon2 hash is stored::

    newsdedup editors add ada --config /etc/newsdedup/config.toml    # prompts
    printf '%s\\n' "$PASSWORD" | newsdedup editors add ada            # scripted
    newsdedup editors disable ada
    newsdedup editors list                                           # JSON lines
    newsdedup serve --config /etc/newsdedup/config.toml [--read-only]
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from ingest.config import load_config
from ingest.errors import ConfigError
from ingest.logs import event
from report.web.auth import hash_password
from store import editors
from store.backends import open_store


def add_web_parsers(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="the editors' review app (web)")
    serve.add_argument("--config", default="config.toml", help="default: ./config.toml")
    serve.add_argument("--read-only", action="store_true",
                       help="show everything, change nothing")
    serve.set_defaults(func=cmd_serve)
    accounts = commands.add_parser("editors", help="the review app's editor accounts")
    actions = accounts.add_subparsers(dest="action", required=True)
    for name, func, text in (("add", cmd_add, "create an editor (password from stdin)"),
                             ("disable", cmd_disable, "disable an editor (kept in history)"),
                             ("list", cmd_list, "list editors as JSON lines")):
        sub = actions.add_parser(name, help=text)
        if name != "list":
            sub.add_argument("name", metavar="NAME")
        sub.add_argument("--config", default="config.toml", help="default: ./config.toml")
        sub.set_defaults(func=func)


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from report.web.app import create_app

    config = load_config(args.config)
    app = create_app(config, read_only=args.read_only)
    event(logging.getLogger("newsdedup.review_app"), "review_app_start",
          url=f"http://{config.review.host}:{config.review.port}/", read_only=args.read_only)
    uvicorn.run(app, host=config.review.host, port=config.review.port, log_level="warning",
                access_log=False, server_header=False, proxy_headers=False)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    _check_name(args.name)
    hashed = hash_password(_read_password())
    with open_store(config.store_target) as store:
        made = editors.add_editor(store, args.name, hashed)
    print(json.dumps({"name": made.name, "created_at": made.created_at}))
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with open_store(config.store_target) as store:
        done = editors.disable_editor(store, args.name)
    print(json.dumps({"name": done.name, "disabled_at": done.disabled_at}))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with open_store(config.store_target) as store:
        for e in editors.editors(store):
            print(json.dumps({"name": e.name, "created_at": e.created_at,
                              "disabled_at": e.disabled_at}))
    return 0


def _check_name(name: str) -> None:
    if not (1 <= len(name) <= 64) or not all(c.isalnum() or c in "._-@" for c in name):
        raise ConfigError("NAME", name, "use 1 to 64 letters, digits and . _ - @")


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ConfigError("password", "(hidden)", "the two entries differ; try again")
    return first
