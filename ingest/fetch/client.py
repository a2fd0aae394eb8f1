"""The httpx client behind :class:`ingest.fetch.fetcher.Fetcher`: how it is configured, and why.

Part of the fetch stage (split from :mod:`ingest.fetch.fetcher` to keep modules
small). Every setting here closes a door that a hostile feed could open or
saves real time per cycle:

* no automatic redirects: the fetcher follows them by hand, so each hop is
  address-checked and robots-checked again;
* ``trust_env=False``: an HTTP(S)_PROXY from the environment would bypass
  the address check (the proxy, not us, would connect to the target);
* unless ``fetch.allow_private_addresses``, every connection's peer address
  is checked once connected (:class:`ingest.fetch.netsafety.PublicOnlyBackend`),
  which closes the DNS-rebinding gap of a check made before connecting;
* only gzip and deflate are offered, because only those are decoded with a
  bounded output size (see :mod:`ingest.fetch.body`);
* one verifying TLS context shared by every fetcher, since each cycle builds
  a new Fetcher and a context costs ~30 ms to build.

Example::

    client = make_client(settings)          # a real network transport
    client = make_client(settings, mock)    # tests: httpx.MockTransport(...)
"""

from __future__ import annotations

import functools
import ssl

import httpcore
import httpx

from ingest.config import FetchSettings
from ingest.fetch.netsafety import PublicOnlyBackend


def make_client(settings: FetchSettings,
                transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """An httpx client that never follows redirects or reads proxy settings.

    ``trust_env=False``: an HTTP(S)_PROXY from the environment would bypass
    the address check (the proxy, not us, would connect to the target).
    Only gzip and deflate are offered, because only those are decoded with
    a bounded output size (see :mod:`ingest.fetch.body`).
    """
    t = settings.timeout_seconds
    # Limits belong to the transport (httpx ignores a client's limits when given one).
    # Idle connections expire before the common 5 s server keep-alive timeout, so we
    # rarely send a request on a connection the server is closing.
    limits = httpx.Limits(max_connections=settings.concurrency * 2,
                          max_keepalive_connections=settings.concurrency,
                          keepalive_expiry=2.0)
    if transport is None:
        transport = (httpx.AsyncHTTPTransport(verify=_tls_context(), retries=0, limits=limits)
                     if settings.allow_private_addresses else PublicOnlyTransport(limits))
    return httpx.AsyncClient(
        transport=transport,
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(t), follow_redirects=False, trust_env=False,
    )


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, whose connection pool connects through
    :class:`~ingest.fetch.netsafety.PublicOnlyBackend`.

    httpx 0.28 takes no network backend (encode/httpx#3749 proposes one), so
    the pool it builds is replaced by the same pool with the backend added;
    ``test_dns_rebinding_refused_at_connect_time`` fails if a new httpx stops
    using it.
    """

    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(verify=_tls_context(), retries=0, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_tls_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, retries=0,
            network_backend=PublicOnlyBackend(httpcore.AnyIOBackend()),
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for all fetchers: building one costs ~30 ms."""
    return httpx.create_ssl_context()
