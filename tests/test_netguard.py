"""No SSRF: URLs found in content never reach private addresses without the opt-in.

A canary server on 127.0.0.1 counts what reaches it; the guarded client must leave it
untouched for every way of naming it, and the opt-in must let the same requests through.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx
import pytest
from httpserver import LocalServer, Response, serve

from bot import config
from bot.errors import SourceError
from bot.http import make_client
from bot.identity import IdentityResolver
from bot.netguard import GuardedBackend, is_public, is_refusal
from bot.sources.feed import FeedSource
from bot.thumbnail import fetch_image

PRIVATE = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "not an address",
]
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"]


@pytest.mark.parametrize("address", PRIVATE)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(address)


@pytest.fixture
def canary() -> Iterator[LocalServer]:
    with serve() as server:
        server.routes["/secret"] = Response(200, b"internal", {"Content-Type": "image/png"})
        yield server


def _names_for(canary: LocalServer) -> list[str]:
    port = canary.url.rsplit(":", 1)[1]
    return [
        canary.url + "/secret",
        f"http://localhost:{port}/secret",
        f"http://[::ffff:127.0.0.1]:{port}/secret",
        f"http://2130706433:{port}/secret",  # 127.0.0.1 as one integer
        f"http://rebind.example:{port}/secret",  # a name our resolver points at loopback
    ]


def _loopback_resolver(host: str, port: int) -> list[str]:
    return ["127.0.0.1"] if host == "rebind.example" else _system(host, port)


def _system(host: str, port: int) -> list[str]:
    from bot.netguard import system_resolve

    return system_resolve(host, port)


def test_the_guarded_client_never_reaches_the_canary(canary: LocalServer) -> None:
    with make_client(allow_private=False, resolve=_loopback_resolver) as client:
        for url in _names_for(canary):
            with pytest.raises(httpx.ConnectError) as caught:
                client.get(url)
            assert is_refusal(caught.value), url
            assert "not a public address" in str(caught.value)
    assert canary.requests == []


class _Recorder(httpcore.NetworkBackend):
    """Records where the guard asks it to connect; the stream claims a peer address."""

    def __init__(self, peer: str) -> None:
        self.peer = peer
        self.asked: list[str] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        self.asked.append(host)
        return _Stream(self.peer)


class _Stream(httpcore.NetworkStream):
    def __init__(self, peer: str) -> None:
        self.peer = peer
        self.closed = False

    def get_extra_info(self, info: str) -> Any:
        return (self.peer, 80) if info == "server_addr" else None

    def close(self) -> None:
        self.closed = True


def test_the_socket_connects_to_the_checked_address_not_the_name() -> None:
    """DNS rebinding: the name is resolved once and the socket opened to that address,
    skipping the private ones, so a second lookup can't point elsewhere."""
    inner = _Recorder(peer="93.184.216.34")
    backend = GuardedBackend(lambda host, port: ["127.0.0.1", "93.184.216.34"], inner)
    backend.connect_tcp("mixed.example", 80)
    assert inner.asked == ["93.184.216.34"]


def test_a_socket_whose_peer_is_private_is_closed_and_refused() -> None:
    inner = _Recorder(peer="127.0.0.1")
    backend = GuardedBackend(lambda host, port: ["93.184.216.34"], inner)
    with pytest.raises(httpcore.ConnectError, match="not a public address"):
        backend.connect_tcp("sneaky.example", 80)


@pytest.fixture
def clients() -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """A trusted client (the configured URLs) and a guarded one (content), closed after."""
    with make_client() as trusted, make_client(allow_private=False) as guarded:
        yield trusted, guarded


def _feed(
    server: LocalServer,
    clients: tuple[httpx.Client, httpx.Client],
    link: str,
    **settings: Any,
) -> FeedSource:
    rss = (
        "<rss version='2.0'><channel><title>t</title><link>https://x.example/</link>"
        f"<item><guid>1</guid><title>One</title><link>{link}</link>"
        "<description>Short excerpt.</description></item></channel></rss>"
    )
    server.routes["/feed.xml"] = Response(200, rss, {"Content-Type": "application/rss+xml"})
    cfg = config.FeedSourceSettings(type="feed", url=server.url + "/feed.xml", **settings)
    trusted, guarded = clients
    content = trusted if cfg.allow_private_addresses else guarded
    return FeedSource("f", cfg, trusted, content_client=content)


PAGE = (
    "<html><head><meta property='og:image' content='/cover.png'></head><body><article>"
    "<h1>One</h1>"
    + "<p>The internal page has a long paragraph of text in it.</p>" * 20
    + "</article></body></html>"
)


def test_full_text_of_a_private_page_is_not_fetched_without_the_opt_in(
    canary: LocalServer, http_server: LocalServer, clients: tuple[httpx.Client, httpx.Client]
) -> None:
    """The configured feed URL is trusted (it is on 127.0.0.1 here); the entry's link,
    on another local server, is content and is refused."""
    canary.routes["/page"] = Response(200, PAGE, {"Content-Type": "text/html"})
    source = _feed(http_server, clients, canary.url + "/page", full_text=True)
    article = source.poll({}).articles[0]
    assert article.text == "Short excerpt."
    assert canary.requests == []


def test_full_text_of_a_private_page_is_fetched_with_the_opt_in(
    canary: LocalServer, http_server: LocalServer, clients: tuple[httpx.Client, httpx.Client]
) -> None:
    canary.routes["/page"] = Response(200, PAGE, {"Content-Type": "text/html"})
    source = _feed(
        http_server, clients, canary.url + "/page", full_text=True, allow_private_addresses=True
    )
    article = source.poll({}).articles[0]
    assert "internal page" in article.text
    assert len(canary.requests) == 1


def test_a_permanent_redirect_of_the_feed_to_a_private_address_is_not_followed_or_stored(
    canary: LocalServer, http_server: LocalServer
) -> None:
    canary.routes["/feed.xml"] = Response(200, "<rss/>", {"Content-Type": "application/xml"})
    http_server.routes["/feed.xml"] = Response(301, b"", {"Location": canary.url + "/feed.xml"})
    cfg = config.FeedSourceSettings(type="feed", url=http_server.url + "/feed.xml")
    with make_client() as trusted, make_client(allow_private=False) as guarded:
        source = FeedSource("f", cfg, trusted, content_client=guarded)
        with pytest.raises(SourceError, match="not a public address"):
            source.poll({})
    assert canary.requests == []


def test_a_same_origin_redirect_of_the_configured_feed_stays_trusted(
    http_server: LocalServer,
) -> None:
    http_server.routes["/old.xml"] = Response(301, b"", {"Location": "/new.xml"})
    http_server.routes["/new.xml"] = Response(
        200, "<rss version='2.0'><channel><title>t</title></channel></rss>"
    )
    cfg = config.FeedSourceSettings(type="feed", url=http_server.url + "/old.xml")
    with make_client() as trusted, make_client(allow_private=False) as guarded:
        poll = FeedSource("f", cfg, trusted, content_client=guarded).poll({})
    assert poll.cursor["url"] == http_server.url + "/new.xml"


def test_a_private_cover_is_not_fetched_by_the_guarded_client(canary: LocalServer) -> None:
    with make_client(allow_private=False) as client:
        assert fetch_image(client, canary.url + "/secret", seconds=2) is None
    with make_client() as client:  # the opt-in: the same URL is fetched
        assert fetch_image(client, canary.url + "/secret", seconds=2) == b"internal"
    assert len(canary.requests) == 1


def test_a_did_web_document_on_a_private_address_is_refused(canary: LocalServer) -> None:
    canary.routes["/.well-known/did.json"] = Response(200, json.dumps({"id": "x"}))
    with make_client() as trusted, make_client(allow_private=False) as guarded:
        resolver = IdentityResolver(trusted, content_client=guarded)
        with pytest.raises(SourceError, match="not a public address"):
            resolver.did_document("did:web:localhost")
    assert canary.requests == []
