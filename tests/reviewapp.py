"""The review app running for real, for tests: uvicorn on a free loopback port, in a
thread of the test process, over a store crawled from the loopback news web::

    with NewsWeb() as web:
        config = crawled(web, tmp_path)                 # once, plus editor "ada"
        with running_app(config) as base:               # "http://127.0.0.1:PORT"
            client = signed_in(base)                    # an httpx.Client with a session
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import uvicorn

import service
from ingest.config import load_config
from newsweb import NewsWeb
from report.web.app import create_app
from report.web.auth import hash_password
from store import editors
from store.backends import open_store

EDITOR, PASSWORD = "ada", "correct horse battery"


def crawled(web: NewsWeb, directory: Path, *, extra: str = "") -> Path:
    """A configuration whose store holds one crawl of ``web`` and the editor ``ada``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = web.write_config(directory, extra=extra)
    assert service.main(["once", "--config", str(path)]) == 0
    with open_store(load_config(path).store_target) as store:
        editors.add_editor(store, EDITOR, hash_password(PASSWORD))
    return path


@contextlib.contextmanager
def running_app(config_path: Path, *, read_only: bool = False,
                clock: Callable[[], float] = time.time) -> Iterator[str]:
    config = load_config(config_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(config, read_only=read_only, clock=clock),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the review app did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def signed_in(base: str, name: str = EDITOR, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"name": name, "password": password, "csrf": token,
                                         "next": "/"})
    assert answer.status_code == 303, answer.text
    return client
