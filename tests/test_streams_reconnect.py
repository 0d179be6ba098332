"""Reconnecting: a server that drops us, a link that stalls, a cursor the PDS can't serve,
an endpoint the SSRF guard refuses; the backoff policy itself."""

from __future__ import annotations

import logging
import random
import socket
import threading
import time

import pytest
from pds import LocalPds
from stream_harness import Running
from tcp_relay import relay_to

from bot.errors import CursorTooOld, StreamError
from bot.nsids import STANDARD_DOCUMENT
from bot.streams import Subscription
from bot.streams.dial import PrivateAddressRefused, websocket_base
from bot.streams.firehose import FirehoseStream
from bot.streams.reconnect import Backoff, Connection, Tuning

FAST = Tuning(stall_after=1.0, backoff=Backoff(base=0.05, cap=0.3), cursor_every=0.2)


def _doc(title: str) -> dict[str, object]:
    return {"title": title, "site": "https://example.com", "publishedAt": "2026-11-30T12:00:00Z"}


def _subscription(did: str) -> Subscription:
    return Subscription(frozenset({STANDARD_DOCUMENT}), frozenset({did}))


def test_the_stream_comes_back_after_the_server_drops_it_and_misses_nothing(
    pds: LocalPds, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.streams")
    fred = pds.create_account("fred")
    with relay_to(pds.pds_url) as relay:
        stream = FirehoseStream(relay.url, _subscription(fred.did), tuning=FAST)
        with Running(stream, cursor=0) as running:
            one, _ = pds.put_record(fred, STANDARD_DOCUMENT, _doc("one"))
            running.wait_for(lambda: one in [e.uri for e in running.events])
            relay.close_listener()  # the server goes away...
            relay.drop_all()
            two, _ = pds.put_record(fred, STANDARD_DOCUMENT, _doc("two"))
            time.sleep(0.5)  # ...for a while, refusing connections
            relay.listen()  # ...and comes back on the same port
            three, _ = pds.put_record(fred, STANDARD_DOCUMENT, _doc("three"))
            running.wait_for(lambda: three in [e.uri for e in running.events], timeout=20)
        assert relay.connections >= 2
    assert [e.uri for e in running.events] == [one, two, three]
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith("stream disconnected endpoint=firehose http://127.0.0.1") for m in messages
    )
    assert any(m.startswith("stream reconnecting endpoint=firehose") for m in messages)
    assert sum(m.startswith("stream connected endpoint=firehose") for m in messages) >= 2
    assert not any(r.exc_info for r in caplog.records)  # no tracebacks


def test_a_stalled_connection_is_replaced(pds: LocalPds) -> None:
    gina = pds.create_account("gina")
    with relay_to(pds.pds_url) as relay:
        stream = FirehoseStream(relay.url, _subscription(gina.did), tuning=FAST)
        with Running(stream, cursor=0) as running:
            one, _ = pds.put_record(gina, STANDARD_DOCUMENT, _doc("one"))
            running.wait_for(lambda: one in [e.uri for e in running.events])
            relay.go_silent()  # open, but nothing gets through: no messages, no pongs
            stalled_at = time.monotonic()
            two, _ = pds.put_record(gina, STANDARD_DOCUMENT, _doc("two"))
            running.wait_for(lambda: two in [e.uri for e in running.events], timeout=20)
            took = time.monotonic() - stalled_at
        assert relay.connections >= 2
    assert [e.uri for e in running.events] == [one, two]
    assert took < 10  # stall_after 1 s, the backoff under 0.3 s, with room for a slow box


def test_a_cursor_the_pds_cannot_serve_raises_cursor_too_old(pds: LocalPds) -> None:
    stream = FirehoseStream(pds.pds_url, _subscription("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"))
    running = Running(stream, cursor=10**12)
    error = running.wait_ended(timeout=20)
    assert isinstance(error, CursorTooOld)
    assert "FutureCursor" in str(error)


def test_a_did_document_endpoint_on_a_private_address_is_refused(pds: LocalPds) -> None:
    stream = FirehoseStream(
        pds.pds_url, _subscription("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"), public_only=True
    )
    error = Running(stream, cursor=0).wait_ended(timeout=10)
    assert isinstance(error, PrivateAddressRefused)
    assert "allow_private_addresses" in str(error)


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting() -> None:
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["10.1.2.3", "::ffff:192.168.0.1"]

    stream = FirehoseStream(
        "https://pds.example.com",
        _subscription("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"),
        public_only=True,
        resolve=resolve,
    )
    error = Running(stream).wait_ended(timeout=10)
    assert isinstance(error, PrivateAddressRefused)
    assert asked == [("pds.example.com", 443)]


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://pds.example.com", "wss://pds.example.com/xrpc"),
        ("https://pds.example.com/", "wss://pds.example.com/xrpc"),
        ("http://127.0.0.1:2583", "ws://127.0.0.1:2583/xrpc"),
        ("wss://relay.example.com/xrpc", "wss://relay.example.com/xrpc"),
        ("ws://relay.example.com:8080/sub/xrpc/", "ws://relay.example.com:8080/sub/xrpc"),
    ],
)
def test_endpoints_become_websocket_bases(url: str, base: str) -> None:
    assert websocket_base(url) == base


@pytest.mark.parametrize(
    "url",
    [
        "ftp://pds.example.com",
        "pds.example.com",
        "https://user:pw@pds.example.com",
        "https://pds.example.com/?x=1",
        "https://pds example.com",
        "file:///etc/passwd",
    ],
)
def test_other_endpoints_are_refused(url: str) -> None:
    with pytest.raises(StreamError):
        FirehoseStream(url, _subscription("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"))


def test_stop_cuts_a_backoff_wait_short() -> None:
    with socket.socket() as placeholder:  # a port on which nothing listens
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    slow = Tuning(backoff=Backoff(base=30.0, cap=30.0))
    stream = FirehoseStream(
        f"http://127.0.0.1:{port}",
        _subscription("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"),
        tuning=slow,
        rng=random.Random(1),
    )
    running = Running(stream)
    time.sleep(0.5)  # refused once, now waiting up to 30 s to retry
    assert running.close() < 1.0
    assert running.error is None


# --- the backoff policy ----------------------------------------------------------------


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = Backoff(base=0.5, cap=8.0)
    rng = random.Random(7)
    assert policy.delay(0, rng) == 0.0
    for failures, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (30, 8.0)]:
        delays = [policy.delay(failures, rng) for _ in range(400)]
        assert all(0.0 <= d <= ceiling for d in delays)
        # full jitter: spread over the whole range, not bunched near the ceiling
        assert min(delays) < ceiling * 0.1 and max(delays) > ceiling * 0.9
    assert policy.delay(10**6, rng) <= 8.0  # no overflow for a long outage


def test_backoff_is_reproducible_with_a_seed() -> None:
    policy = Backoff()
    one = [policy.delay(n, random.Random(42)) for n in range(1, 8)]
    two = [policy.delay(n, random.Random(42)) for n in range(1, 8)]
    assert one == two


def test_failures_count_up_until_a_connection_carries_a_frame() -> None:
    connection = Connection(
        "firehose test", Tuning(), closing=threading.Event(), rng=random.Random(0)
    )
    for expected in (1, 2, 3):
        connection.disconnected(ConnectionRefusedError("refused"))  # never connected
        assert connection.failures == expected
    connection.connected()
    connection.disconnected(OSError("dropped at once"))
    assert connection.failures == 4  # connected, but nothing came: still failing
    connection.connected()
    connection.frame()
    connection.disconnected(OSError("dropped after working"))
    assert connection.failures == 1  # the next wait starts small again
