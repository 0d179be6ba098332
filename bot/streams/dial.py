"""Where a stream connects: its websocket URL, and a socket that honours the SSRF guard.

A firehose endpoint read from a DID document is an untrusted URL (its owner picks the
host): the connection to it is made here, through ``bot.netguard``'s rules, unless the
source opted in with ``allow_private_addresses``. The name is resolved once, every
address is checked, the socket connects to a checked address (DNS rebinding can't slip
through) and its peer is checked again; websockets then speaks TLS and HTTP over that
socket with the URL's host name. Endpoints the config names are trusted and dialled
by websockets itself.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from bot.errors import RecordError, StreamError
from bot.netguard import Resolver, is_public, system_resolve
from bot.untrusted import checked_url, log_safe

#: seconds to open the TCP connection (the websocket handshake has its own limit)
CONNECT_SECONDS = 10.0

_WS_TO_HTTP = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
_HINT = "set allow_private_addresses: true on the source to allow it"


class PrivateAddressRefused(StreamError):
    """The endpoint resolves to a loopback or private address and no opt-in allows it."""


def websocket_base(url: str) -> str:
    """``url`` (http, https, ws or wss) as the websocket base the SDK clients want:
    ``wss://host[:port][/path]/xrpc``. ``StreamError`` for anything else."""
    scheme, sep, rest = url.partition("://")
    http = _WS_TO_HTTP.get(scheme.lower()) if sep else None
    if http is None:
        raise StreamError(f"not a ws, wss, http or https URL: {log_safe(url[:100])}")
    try:
        checked_url(f"{http}://{rest}", "stream endpoint")
    except RecordError as exc:
        raise StreamError(str(exc)) from None
    parts = urlsplit(f"{http}://{rest}")
    if parts.query or parts.fragment:
        raise StreamError(f"a stream endpoint takes no query: {log_safe(url[:100])}")
    path = parts.path.rstrip("/")
    if not path.endswith("/xrpc"):
        path += "/xrpc"
    ws = "wss" if http == "https" else "ws"
    return f"{ws}://{parts.netloc}{path}"


def host_port(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    assert parts.hostname is not None  # websocket_base checked it
    return parts.hostname, parts.port or (443 if parts.scheme == "wss" else 80)


#: (address, port), timeout → a connected socket
Connect = Callable[[tuple[str, int], float], socket.socket]


def public_socket(
    host: str,
    port: int,
    resolve: Resolver = system_resolve,
    timeout: float = CONNECT_SECONDS,
    connect: Connect = socket.create_connection,
) -> socket.socket:
    """A TCP connection to a public address of ``host``.

    ``PrivateAddressRefused`` when it has none (a definite answer: the stream stops);
    ``OSError`` when it can't be reached now (the stream retries).
    """
    addresses = resolve(host, port)
    allowed = [a for a in addresses if is_public(a)]
    if not allowed:
        shown = addresses[0] if addresses else "no address"
        raise PrivateAddressRefused(
            f"refused {log_safe(host)}: {shown} is not a public address ({_HINT})"
        )
    failure: OSError | None = None
    for address in allowed:
        try:
            sock = connect((address, port), timeout)
        except OSError as exc:
            failure = exc
            continue
        peer = sock.getpeername()
        if not is_public(str(peer[0])):
            sock.close()
            raise PrivateAddressRefused(f"refused {log_safe(host)}: connected to {peer[0]}")
        return sock
    assert failure is not None
    raise failure
