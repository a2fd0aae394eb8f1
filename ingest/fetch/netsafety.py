"""Refuse to fetch from loopback, private, link-local and metadata addresses.

A feed is hostile input: it may link to ``http://169.254.169.254/`` (a cloud
metadata service handing out credentials) or to ``http://127.0.0.1:8080/``
(an admin port), and a public page may redirect there. So the fetcher checks
the address of the first URL and of every redirect hop *after* DNS
resolution, and refuses anything that is not a public unicast address::

    >>> is_public_address("93.184.216.34")
    True
    >>> is_public_address("169.254.169.254")
    False

DNS rebinding: the check above resolves the name, and httpx resolves it
again when it connects, so a hostile DNS server with a zero TTL could answer
a public address to the check and 127.0.0.1 to the connect. So the check is
made a second time on the connection itself: :class:`PublicOnlyBackend`
wraps httpcore's network backend and refuses a socket whose peer address is
not public, before a byte is sent on it (the Host header and TLS SNI stay the
name's, since nothing is rewritten). The first check still runs: it gives the
clear error before robots.txt is asked, and for a name that does not resolve.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore

from ingest.errors import AddressRefused, NetworkError

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(ip: str | IPAddress) -> bool:
    """True only for a globally routable unicast address.

    IPv6 forms that embed an IPv4 address (``::ffff:127.0.0.1``, 6to4,
    NAT64) are judged by the embedded address, so they cannot smuggle a
    loopback target past the check. A string that is not an IP is refused.
    """
    try:
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError:
        return False
    embedded = _embedded_ipv4(addr)
    if embedded is not None:
        return is_public_address(embedded)
    return _is_public_plain(addr)


def _embedded_ipv4(addr: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(addr, ipaddress.IPv6Address):
        return None
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def _is_public_plain(addr: IPAddress) -> bool:
    if addr in _METADATA:
        return False
    if isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT:
        return False
    flags = (addr.is_loopback, addr.is_private, addr.is_link_local, addr.is_multicast,
             addr.is_reserved, addr.is_unspecified)
    return not any(flags) and addr.is_global


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the event loop's ``getaddrinfo`` (the OS resolver).

    Example: ``await system_resolver("localhost", 80)`` -> ``["127.0.0.1", "::1"]``.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def ip_literal(host: str) -> IPAddress | None:
    """The address when ``host`` is an IP literal (``[::1]`` brackets allowed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def check_host(host: str, port: int, *, url: str, resolver: Resolver) -> None:
    """Raise AddressRefused unless every address of ``host`` is public.

    *Every* address must pass, since the connection may use any of them.
    A name that does not resolve raises NetworkError (the fetch cannot go on).

    Example: a feed links to ``http://metadata.internal/``, which resolves to
    169.254.169.254 -> ``AddressRefused(... url="http://metadata.internal/")``.
    """
    literal = ip_literal(host)
    addresses = [str(literal)] if literal is not None else await _resolve(host, port, url,
                                                                          resolver)
    for address in addresses:
        if not is_public_address(address):
            raise AddressRefused(f"refused non-public address {address} for host {host}",
                                 url=url)


async def _resolve(host: str, port: int, url: str, resolver: Resolver) -> list[str]:
    try:
        addresses = await resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise NetworkError(f"cannot resolve host {host}: {exc}", url=url) from exc
    if not addresses:
        raise NetworkError(f"host {host} resolved to no address", url=url)
    return addresses


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that refuses connections to non-public peers.

    The address judged is the connected socket's peer, the one bytes would
    go to, so no second DNS answer can slip past it. Unix sockets are refused
    outright. The error's URL is the socket's (``tcp://host:port``); the
    fetcher replaces it with the page's. Example::

        backend = PublicOnlyBackend(httpcore.AnyIOBackend())
        pool = httpcore.AsyncConnectionPool(network_backend=backend)
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address,
                                               socket_options)
        peer = stream.get_extra_info("server_addr")
        address = str(peer[0]) if peer else "unknown"
        if not is_public_address(address):
            await stream.aclose()
            raise AddressRefused(f"refused non-public address {address} for host {host} "
                                 "at connect time", url=f"tcp://{host}:{port}")
        return stream

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused(f"refused Unix socket {path}", url=f"unix:{path}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
