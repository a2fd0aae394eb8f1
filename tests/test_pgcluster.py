"""The throwaway PostgreSQL cluster the PostgreSQL store's tests will run on (issue 14):
it starts, takes connections and transactions, and leaves nothing behind."""

from __future__ import annotations

import socket
import subprocess
from urllib.parse import urlsplit

import psycopg

from pgcluster import pg_bin, pg_cluster


def test_a_throwaway_cluster_serves_transactions_and_is_removed_at_exit() -> None:
    with pg_cluster() as url:
        port = urlsplit(url).port
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE news")
        with psycopg.connect(url.rsplit("/", 1)[0] + "/news") as conn:
            conn.execute("CREATE TABLE t (id bigserial PRIMARY KEY, url text UNIQUE NOT NULL)")
            conn.execute("INSERT INTO t (url) VALUES (%s) ON CONFLICT DO NOTHING", ("a",))
            conn.execute("INSERT INTO t (url) VALUES (%s) ON CONFLICT DO NOTHING", ("a",))
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)
            version = conn.execute("SHOW server_version_num").fetchone()
            assert version is not None and int(version[0]) >= 130000
    with socket.socket() as sock:  # the server is gone: its port is free again
        sock.bind(("127.0.0.1", port or 0))
    assert subprocess.run([str(pg_bin() / "pg_ctl"), "--version"], capture_output=True,
                          check=True).stdout.startswith(b"pg_ctl")
