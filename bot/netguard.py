"""Requests made on behalf of content never reach private networks (no SSRF).

A URL found inside a feed, a record or a DID document (a cover, an article page, a
redirect, a PDS endpoint) is a request its *author* makes through the bot. Such requests
go through a client whose connections are made here: the host name is resolved once,
every address is checked, and the socket connects to a checked address (so a name that
resolves differently the second time, DNS rebinding, cannot slip through); the peer of
the connected socket is checked again. Redirect hops open their own connections and so
are checked too. Loopback, private, link-local, CGNAT, multicast, reserved and
unspecified addresses are refused, IPv4 and IPv6 alike, including IPv4 addresses hidden
in IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64).

The owner opts a source in with ``allow_private_addresses: true``; the URLs the config
names itself (a feed's ``url``, a PLC directory, a PDS, an LLM endpoint) are trusted.
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from collections.abc import Callable, Iterable

import httpcore
import httpx

#: host, port → the addresses to try, in order
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REFUSED_HINT = "set allow_private_addresses: true on the source to allow it"


class PrivateAddressRefused(httpcore.ConnectError):
    """A connection to a non-public address was refused; httpx raises it as ``ConnectError``."""


def system_resolve(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, each once, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """True for a globally routable unicast address; False for anything else or garbage."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(str(embedded))
        if ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
    )


def is_refusal(exc: BaseException) -> bool:
    """Whether an httpx error (or anything it was raised from) is the guard's refusal."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, PrivateAddressRefused):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend, connecting only to public addresses."""

    def __init__(
        self, resolve: Resolver = system_resolve, inner: httpcore.NetworkBackend | None = None
    ) -> None:
        self._resolve = resolve
        self._inner = inner if inner is not None else httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        allowed = [a for a in addresses if is_public(a)]
        if not allowed:
            shown = addresses[0] if addresses else "no address"
            raise PrivateAddressRefused(
                f"refused {host}: {shown} is not a public address ({_REFUSED_HINT})"
            )
        failure: httpcore.ConnectError | None = None
        for address in allowed:
            try:
                stream = self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            peer = stream.get_extra_info("server_addr")
            if not peer or not is_public(str(peer[0])):
                stream.close()
                raise PrivateAddressRefused(
                    f"refused {host}: connected to {peer!r}, not a public address"
                )
            return stream
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise PrivateAddressRefused(f"refused unix socket {path}")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose sockets the guard opens."""

    def __init__(self, resolve: Resolver, limits: httpx.Limits) -> None:
        super().__init__()
        # httpx has no public hook for the network backend; the pool is its only seam
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(resolve),
        )
