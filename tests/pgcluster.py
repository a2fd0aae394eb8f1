"""A throwaway PostgreSQL cluster for tests: ``initdb`` in a temp dir, a free loopback port,
stopped and removed at exit.

Storage tests run against real databases; the PostgreSQL store (issue 14) gets a
real server, not a mock. Debian's ``postgresql`` package puts ``initdb`` and
``pg_ctl`` in ``/usr/lib/postgresql/<version>/bin``; they refuse to run as
root, so as root they run as the package's ``postgres`` user (``runuser``).
``.ci/run`` installs the package::

    with pg_cluster() as url:          # "postgresql://postgres@127.0.0.1:54321/postgres"
        with psycopg.connect(url) as conn:
            conn.execute("SELECT 1")
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

SERVER_USER = "postgres"


def pg_bin() -> Path:
    """The newest installed server's ``bin`` directory (``initdb``, ``pg_ctl``).

    >>> (pg_bin() / "pg_ctl").exists()
    True
    """
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("no PostgreSQL server found: install Debian's `postgresql` package "
                       "(.ci/run does: apt-get install -y postgresql)")


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def pg_cluster() -> Iterator[str]:
    """A running cluster's connection URL (trust auth on loopback, user ``postgres``)."""
    bindir = pg_bin()
    home = Path(tempfile.mkdtemp(prefix="newsdedup-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVER_USER)
        os.chown(home, owner.pw_uid, owner.pw_gid)
    data, port = home / "data", _free_port()
    # cwd: the server user may not be allowed into the checkout's directory.
    run = {"check": True, "capture_output": True, "timeout": 60, "cwd": home}
    try:
        subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-U",
                                        "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
                                        "--locale=C"]), **run)
        subprocess.run(_as_server_user([
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(home / "server.log"), "-w",
            "-o", f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c synchronous_commit=off -c full_page_writes=off", "start"]), **run)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m",
                                            "immediate", "-w", "stop"]),
                           capture_output=True, timeout=60, cwd=home)
        shutil.rmtree(home, ignore_errors=True)
