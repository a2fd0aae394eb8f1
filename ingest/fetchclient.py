"""The httpx client behind :class:`ingest.fetch.Fetcher`: how it is configured, and why.

Part of the fetch stage (split from :mod:`ingest.fetch` to keep modules
small). Every setting here closes a door that a hostile feed could open or
saves real time per cycle:

* no automatic redirects: the fetcher follows them by hand, so each hop is
  address-checked and robots-checked again;
* ``trust_env=False``: an HTTP(S)_PROXY from the environment would bypass
  the address check (the proxy, not us, would connect to the target);
* only gzip and deflate are offered, because only those are decoded with a
  bounded output size (see :mod:`ingest.fetchbody`);
* one verifying TLS context shared by every fetcher, since each cycle builds
  a new Fetcher and a context costs ~30 ms to build.

Example::

    client = make_client(settings)          # a real network transport
    client = make_client(settings, mock)    # tests: httpx.MockTransport(...)
"""

from __future__ import annotations

import functools
import ssl

import httpx

from ingest.config import FetchSettings


def make_client(settings: FetchSettings,
                transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """An httpx client that never follows redirects or reads proxy settings.

    ``trust_env=False``: an HTTP(S)_PROXY from the environment would bypass
    the address check (the proxy, not us, would connect to the target).
    Only gzip and deflate are offered, because only those are decoded with
    a bounded output size (see :mod:`ingest.fetchbody`).
    """
    t = settings.timeout_seconds
    # Limits belong to the transport (httpx ignores a client's limits when given one).
    # Idle connections expire before the common 5 s server keep-alive timeout, so we
    # rarely send a request on a connection the server is closing.
    limits = httpx.Limits(max_connections=settings.concurrency * 2,
                          max_keepalive_connections=settings.concurrency,
                          keepalive_expiry=2.0)
    return httpx.AsyncClient(
        transport=transport or httpx.AsyncHTTPTransport(verify=_tls_context(), retries=0,
                                                        limits=limits),
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(t), follow_redirects=False, trust_env=False,
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for all fetchers: building one costs ~30 ms."""
    return httpx.create_ssl_context()
