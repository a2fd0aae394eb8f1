"""Shared pytest fixtures; keep each one small and documented.

``loopback`` is a started :class:`loopback.LoopbackServer` (one web site on
127.0.0.1), stopped after the test::

    def test_something(loopback):
        loopback.add("/a", "<html>hi</html>")
        ...  # fetch loopback.url("/a")
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopback import LoopbackServer


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv
