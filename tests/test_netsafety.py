"""Address safety: with allow_private_addresses = false nothing reaches loopback,
private, link-local or metadata addresses, on the first URL or any redirect hop.

No real DNS is used: names are mapped by an injected resolver stub, and a
narrow routing transport delivers "public" names to the loopback server so a
real HTTP exchange (and a real redirect) happens.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpcore
import httpx
import pytest
from test_fetch import HTML, settings

from ingest.errors import AddressRefused, NetworkError, RobotsDisallowed
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.netsafety import (
    PublicOnlyBackend,
    check_host,
    is_public_address,
    system_resolver,
)
from ingest.types import FetchedPage
from loopback import LoopbackServer, redirect

PUBLIC_IP = "93.184.216.34"


@pytest.mark.parametrize("ip", ["8.8.8.8", PUBLIC_IP, "2606:4700:4700::1111",
                                "2a00:1450:4001:82a::200e"])
def test_public_addresses(ip: str) -> None:
    assert is_public_address(ip)


@pytest.mark.parametrize("ip", [
    "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "169.254.1.1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "192.0.2.1", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254",
    "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1",
    "64:ff9b::a9fe:a9fe", "not-an-ip", ""])
def test_non_public_addresses(ip: str) -> None:
    assert not is_public_address(ip)


def test_embedded_public_ipv4_is_public() -> None:
    assert is_public_address("::ffff:8.8.8.8")
    assert is_public_address("2002:0808:0808::1")


def resolver_for(table: dict[str, list[str]], calls: list[str] | None = None) -> Any:
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]
    return resolve


class RouteToLoopback(httpx.AsyncBaseTransport):
    """Deliver requests for made-up public names to 127.0.0.1, Host header unchanged."""

    def __init__(self, names: set[str]) -> None:
        self.names, self.inner = names, httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in self.names:
            request.url = request.url.copy_with(host="127.0.0.1")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def safe_fetch(url: str, resolver: Any, **kw: Any) -> FetchedPage:
    async def run() -> FetchedPage:
        s = settings(allow_private_addresses=False, **kw)
        transport = RouteToLoopback({"news.example", "other.example"})
        async with Fetcher(s, transport=transport, resolver=resolver) as f:
            return await f.get(url)
    return asyncio.run(run())


def test_loopback_literal_refused_and_nothing_requested(loopback: LoopbackServer) -> None:
    loopback.add("/a", HTML)
    calls: list[str] = []
    with pytest.raises(AddressRefused) as info:
        safe_fetch(loopback.url("/a"), resolver_for({}, calls))
    assert info.value.url == loopback.url("/a") and info.value.reason == "address_refused"
    assert loopback.requests == [] and calls == []  # literals are never resolved


def test_default_resolver_refuses_localhost(loopback: LoopbackServer) -> None:
    loopback.add("/a", HTML)

    async def run() -> None:
        async with Fetcher(settings(allow_private_addresses=False)) as f:
            await f.get(f"http://localhost:{loopback.port}/a")
    with pytest.raises(AddressRefused):
        asyncio.run(run())
    assert loopback.requests == []


def test_name_resolving_to_metadata_refused(loopback: LoopbackServer) -> None:
    calls: list[str] = []
    resolver = resolver_for({"news.example": ["169.254.169.254"]}, calls)
    with pytest.raises(AddressRefused):
        safe_fetch(f"http://news.example:{loopback.port}/a", resolver)
    assert calls == ["news.example"] and loopback.requests == []


def test_one_private_address_among_public_ones_refused(loopback: LoopbackServer) -> None:
    resolver = resolver_for({"news.example": [PUBLIC_IP, "10.1.2.3"]})
    with pytest.raises(AddressRefused):
        safe_fetch(f"http://news.example:{loopback.port}/a", resolver)
    assert loopback.requests == []


def test_public_name_is_fetched(loopback: LoopbackServer) -> None:
    loopback.add("/a", HTML)
    page = safe_fetch(f"http://news.example:{loopback.port}/a",
                      resolver_for({"news.example": [PUBLIC_IP]}))
    assert page.status == 200 and loopback.paths() == ["/robots.txt", "/a"]
    assert loopback.requests[-1].headers["Host"] == f"news.example:{loopback.port}"


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/secret",
                                    "http://[::1]:{port}/secret",
                                    "http://other.example:{port}/secret"])
def test_redirect_to_private_address_refused(loopback: LoopbackServer, target: str) -> None:
    loopback.add_handler("/start", redirect(target.format(port=loopback.port)))
    loopback.add("/secret", "credentials")
    resolver = resolver_for({"news.example": [PUBLIC_IP], "other.example": ["169.254.169.254"]})
    with pytest.raises(AddressRefused) as info:
        safe_fetch(f"http://news.example:{loopback.port}/start", resolver)
    assert "/secret" not in loopback.paths() and loopback.count("/start") == 1
    assert info.value.url == target.format(port=loopback.port)


def test_robots_redirect_to_private_address_means_disallow(loopback: LoopbackServer) -> None:
    loopback.add_handler("/robots.txt", redirect(f"http://127.0.0.1:{loopback.port}/r"))
    loopback.add("/r", "User-agent: *\nAllow: /\n", content_type="text/plain")
    loopback.add("/a", HTML)
    with pytest.raises(RobotsDisallowed):
        safe_fetch(f"http://news.example:{loopback.port}/a",
                   resolver_for({"news.example": [PUBLIC_IP]}))
    assert loopback.paths() == ["/robots.txt"]


def test_unresolvable_name_is_a_network_error(loopback: LoopbackServer) -> None:
    with pytest.raises(NetworkError):
        safe_fetch(f"http://nowhere.example:{loopback.port}/a", resolver_for({}))
    with pytest.raises(NetworkError):
        safe_fetch(f"http://news.example:{loopback.port}/a", resolver_for({"news.example": []}))


def test_private_allowed_when_configured(loopback: LoopbackServer) -> None:
    loopback.add("/a", HTML)

    async def run() -> FetchedPage:
        calls: list[str] = []
        async with Fetcher(settings(allow_private_addresses=True),
                           resolver=resolver_for({}, calls)) as f:
            page = await f.get(loopback.url("/a"))
        assert calls == []
        return page
    assert asyncio.run(run()).status == 200


def test_check_host_and_system_resolver() -> None:
    async def run() -> None:
        assert "127.0.0.1" in await system_resolver("localhost", 80)
        await check_host(PUBLIC_IP, 80, url="http://x/", resolver=resolver_for({}))
        with pytest.raises(AddressRefused):
            await check_host("[fd00:ec2::254]", 80, url="http://x/", resolver=resolver_for({}))
    asyncio.run(run())


def test_dns_rebinding_refused_at_connect_time(loopback: LoopbackServer) -> None:
    """The check's DNS answer says public, the connect's says loopback (a zero-TTL
    rebinding): the connected socket's peer is checked, and nothing is sent."""
    loopback.add("/a", HTML)

    async def run() -> None:
        s = settings(allow_private_addresses=False, respect_robots_txt=False)
        async with Fetcher(s, resolver=resolver_for({"localhost": [PUBLIC_IP]})) as f:
            await f.get(f"http://localhost:{loopback.port}/a")
    with pytest.raises(AddressRefused, match="at connect time") as info:
        asyncio.run(run())
    assert info.value.url == f"http://localhost:{loopback.port}/a"
    assert loopback.requests == []


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, peer: tuple[str, int] | None) -> None:
        self.peer, self.closed = peer, False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        return None

    async def aclose(self) -> None:
        self.closed = True

    def get_extra_info(self, info: str) -> Any:
        return self.peer if info == "server_addr" else None


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self, stream: _Stream) -> None:
        self.stream = stream

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        return self.stream


@pytest.mark.parametrize(("peer", "allowed"), [((PUBLIC_IP, 443), True),
                                               (("2606:4700:4700::1111", 443), True),
                                               (("10.0.0.7", 443), False),
                                               (("::ffff:127.0.0.1", 80), False),
                                               (None, False)])
def test_public_only_backend_judges_the_connected_peer(
    peer: tuple[str, int] | None, allowed: bool
) -> None:
    stream = _Stream(peer)
    backend = PublicOnlyBackend(_Backend(stream))
    if allowed:
        assert asyncio.run(backend.connect_tcp("news.example", 443)) is stream
        assert not stream.closed
    else:
        with pytest.raises(AddressRefused):
            asyncio.run(backend.connect_tcp("news.example", 443))
        assert stream.closed  # refused sockets are closed, not left to the pool
