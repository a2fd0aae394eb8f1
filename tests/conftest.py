"""Shared pytest fixtures; keep each one small and documented.

``loopback`` is a started :class:`loopback.LoopbackServer` (one web site on
127.0.0.1), stopped after the test::

    def test_something(loopback):
        loopback.add("/a", "<html>hi</html>")
        ...  # fetch loopback.url("/a")

Hypothesis explores new examples on every local run; under ``.ci/run``
(``NEWSDEDUP_CI=1``) it is derandomized, so CI judges a commit on the same
examples every time and a property that fails there fails reproducibly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from loopback import LoopbackServer

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("NEWSDEDUP_CI"):
    settings.load_profile("ci")


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """One throwaway PostgreSQL cluster for the session (``tests/pgcluster.py``)."""
    from pgcluster import pg_cluster

    with pg_cluster() as url:
        yield url


_PG_DATABASES = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the session's cluster: each test starts from nothing."""
    import psycopg

    name = f"t{next(_PG_DATABASES)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.rsplit("/", 1)[0] + f"/{name}"
