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
