"""JetstreamStream against a hostile server: bad frames dropped, refusals translated.

A local websocket server on 127.0.0.1 speaks the ``xrpc.v1.json`` subprotocol and sends
hand-made bad frames, then a commit carrying a record read back from the local PDS
(``getRecord``), which must come through unchanged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from http import HTTPStatus
from typing import Any

import pytest
from pds import LocalPds
from stream_harness import Running
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from bot.errors import CursorTooOld, StreamError
from bot.nsids import STANDARD_DOCUMENT
from bot.streams import Op, Subscription
from bot.streams.jetstream import MAX_FRAME_BYTES, MAX_QUERY_DIDS, JetstreamStream
from bot.streams.reconnect import Backoff, Tuning

FAST = Tuning(stall_after=5.0, backoff=Backoff(base=0.05, cap=0.3), cursor_every=0.2)
COMMIT = "network.bsky.jetstream.subscribeEvents#commit"
DID = "did:plc:abcdefghijklmnopqrstuvwx"

Refuse = Callable[[Request], Response | None]


@contextlib.contextmanager
def _serving(
    frames: Sequence[str | bytes], refuse: Refuse | None = None
) -> Iterator[tuple[str, list[str]]]:
    """A Jetstream-like server: sends ``frames`` to each subscriber; yields (url, paths)."""
    paths: list[str] = []

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        paths.append(request.path)
        if "getZstdDictionary" in request.path:  # no compression offered
            return connection.respond(HTTPStatus.NOT_FOUND, "no dictionary\n")
        return refuse(request) if refuse else None

    def handler(ws: ServerConnection) -> None:
        for frame in frames:
            ws.send(frame)
        with contextlib.suppress(Exception):
            for _ in ws:
                pass

    server: Server = serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol("xrpc.v1.json")],
        process_request=process_request,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}", paths
    finally:
        server.shutdown()
        thread.join(5)


def _message(payload: dict[str, Any]) -> str:
    return json.dumps({"$type": "message", "payload": payload})


def _commit(seq: int, **fields: Any) -> str:
    payload = {
        "$type": COMMIT,
        "seq": seq,
        "did": DID,
        "collection": STANDARD_DOCUMENT,
        "operation": "create",
        "rkey": "3kabcdefghij2",
        "rev": "3kabcdefghij2",
        "time": "2026-11-30T12:00:00.000000Z",
        "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        "record": {"$type": STANDARD_DOCUMENT, "title": "x"},
    }
    payload.update(fields)
    return _message({k: v for k, v in payload.items() if v is not None})


def test_bad_frames_are_dropped_with_a_reason_and_the_stream_goes_on(
    pds: LocalPds, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.streams")
    alice = pds.create_account("jsalice")
    uri, cid = pds.put_record(
        alice,
        STANDARD_DOCUMENT,
        {"title": "Real", "site": "https://e.example", "publishedAt": "2026-11-30T12:00:00Z"},
    )
    real = pds.get_record(uri)
    deep: Any = "bottom"
    for _ in range(150):
        deep = {"d": deep}
    bad: list[str | bytes] = [
        "{not json",
        json.dumps([1, 2, 3]),
        json.dumps({"$type": "message"}),  # no payload
        b"\x28\xb5\x2f\xfd garbage",  # binary, though compression was never agreed
        _commit(0),  # seq not positive
        _commit(3, rkey="a/b"),
        _commit(4, operation="explode"),
        _commit(5, cid=None),
        _commit(6, record=["not", "an", "object"]),
        _commit(7, record=deep),
    ]
    real_frame = _commit(
        20,
        did=alice.did,
        rkey=uri.rsplit("/", 1)[1],
        cid=cid,
        record=real["value"],
    )
    outside = [  # outside the subscription, whatever the server's filters did: skipped quietly
        _commit(2, did="not a did"),
        _commit(8, collection="not..an..nsid"),
        _commit(9, collection="app.bsky.feed.post"),
        _commit(10, did="did:plc:zzzzzzzzzzzzzzzzzzzzzzzz"),
    ]
    with _serving([*bad, *outside, real_frame]) as (url, _):
        subscription = Subscription(frozenset({STANDARD_DOCUMENT}), frozenset({alice.did, DID}))
        stream = JetstreamStream(url, subscription, tuning=FAST)
        with Running(stream, cursor=None) as running:
            running.wait_for(lambda: bool(running.events), timeout=20)
            running.wait_for(lambda: running.cursor == 20)
    assert [(e.uri, e.op, e.cid) for e in running.events] == [(uri, Op.CREATE, cid)]
    assert running.events[0].record == real["value"]
    drops = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dropped")]
    assert len(drops) == len(bad), drops
    for expected in (
        "undecodable",
        "seq is not",
        "not a record key",
        "not a create",
        "without a valid CID",
        "not a JSON object",
        "nested deeper",
    ):
        assert any(expected in d for d in drops), (expected, drops)
    assert not any(r.exc_info for r in caplog.records)
    assert stream.compressed is False  # no dictionary offered: plain frames


def test_a_cursor_refused_before_the_upgrade_raises_cursor_too_old() -> None:
    def refuse(request: Request) -> Response:
        body = json.dumps(
            {"error": "CursorTooOld", "message": "below the retention floor"}
        ).encode()
        return Response(400, "Bad Request", Headers({"Content-Type": "application/json"}), body)

    with _serving([], refuse) as (url, paths):
        stream = JetstreamStream(
            url, Subscription(frozenset({STANDARD_DOCUMENT}), None), tuning=FAST
        )
        error = Running(stream, cursor=5).wait_ended(timeout=20)
    assert isinstance(error, CursorTooOld)
    assert any("cursor=5" in p for p in paths)


def test_an_outdated_cursor_notice_raises_cursor_too_old() -> None:
    info = _message(
        {
            "$type": "network.bsky.jetstream.subscribeEvents#info",
            "name": "OutdatedCursor",
            "message": "clamped",
        }
    )
    with _serving([info]) as (url, _):
        stream = JetstreamStream(
            url, Subscription(frozenset({STANDARD_DOCUMENT}), None), tuning=FAST
        )
        error = Running(stream, cursor=5).wait_ended(timeout=20)
    assert isinstance(error, CursorTooOld)


def test_a_refused_handshake_is_a_stream_error() -> None:
    def refuse(request: Request) -> Response:
        body = json.dumps({"error": "InvalidRequest", "message": "bad kinds"}).encode()
        return Response(400, "Bad Request", Headers({"Content-Type": "application/json"}), body)

    with _serving([], refuse) as (url, _):
        stream = JetstreamStream(
            url, Subscription(frozenset({STANDARD_DOCUMENT}), None), tuning=FAST
        )
        error = Running(stream).wait_ended(timeout=20)
    assert isinstance(error, StreamError) and not isinstance(error, CursorTooOld)


def test_the_server_is_asked_for_commits_of_the_subscription_only() -> None:
    few = Subscription(frozenset({STANDARD_DOCUMENT, "pub.leaflet.document"}), frozenset({DID}))
    params = JetstreamStream("wss://js.example", few).params(cursor=42)
    assert params == {
        "kinds": ["commit"],
        "collections": ["pub.leaflet.document", STANDARD_DOCUMENT],
        "dids": [DID],
        "max_message_size_bytes": MAX_FRAME_BYTES,
        "cursor": 42,
    }
    everyone = Subscription(frozenset({STANDARD_DOCUMENT}), None)
    assert "dids" not in JetstreamStream("wss://js.example", everyone).params(None)
    assert "cursor" not in JetstreamStream("wss://js.example", everyone).params(None)
    many = Subscription(
        frozenset({STANDARD_DOCUMENT}),
        frozenset(f"did:plc:{n:024d}" for n in range(MAX_QUERY_DIDS + 1)),
    )
    assert "dids" not in JetstreamStream("wss://js.example", many).params(None)  # filtered here


def test_the_endpoint_names_the_transport_and_url() -> None:
    stream = JetstreamStream(
        "wss://js.example/", Subscription(frozenset({STANDARD_DOCUMENT}), None)
    )
    assert stream.endpoint == "jetstream wss://js.example"
    assert stream.base_uri == "wss://js.example/xrpc"


def test_consumer_too_slow_reconnects_from_the_cursor() -> None:
    too_slow = json.dumps({"$type": "error", "error": "ConsumerTooSlow", "message": "slow"})
    queries: list[str] = []

    def record(request: Request) -> None:
        queries.append(request.path)
        return None

    # each connection: one commit, then the complaint; the next resumes after that commit
    frames = [_commit(1, rkey="3kaaaaaaaaaa2"), too_slow]
    with _serving(frames, record) as (url, _):
        stream = JetstreamStream(
            url, Subscription(frozenset({STANDARD_DOCUMENT}), frozenset({DID})), tuning=FAST
        )
        with Running(stream) as running:
            running.wait_for(lambda: len([q for q in queries if "subscribeEvents" in q]) >= 2)
    assert [e.rkey for e in running.events] == ["3kaaaaaaaaaa2"]  # once, not per connection
    assert running.error is None
    assert "cursor=1" in [q for q in queries if "subscribeEvents" in q][1]


def test_a_server_closing_normally_is_reconnected_from_the_cursor() -> None:
    """A restart closes with 1001 "going away": the SDK alone would stop; we come back."""
    rounds = [
        [_commit(1, rkey="3kaaaaaaaaaa2")],
        [
            _message(
                {"$type": "network.bsky.jetstream.subscribeEvents#identity", "seq": 2, "did": DID}
            ),
            _commit(3, rkey="3kaaaaaaaaab2"),
        ],
    ]
    paths: list[str] = []

    def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        paths.append(ws.request.path)
        for frame in rounds[min(len(paths), len(rounds)) - 1]:
            ws.send(frame)
        ws.close(1001, "going away")

    server: Server = serve(handler, "127.0.0.1", 0, subprotocols=[Subprotocol("xrpc.v1.json")])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
        stream = JetstreamStream(
            url,
            Subscription(frozenset({STANDARD_DOCUMENT}), frozenset({DID})),
            tuning=FAST,
            compress=False,
        )
        with Running(stream) as running:
            running.wait_for(lambda: len(running.events) == 2 and running.cursor == 3)
    finally:
        server.shutdown()
        thread.join(5)
    assert [e.rkey for e in running.events] == ["3kaaaaaaaaaa2", "3kaaaaaaaaab2"]
    assert "cursor" not in paths[0] and "cursor=1" in paths[1]


def test_an_error_frame_ends_the_stream_with_a_stream_error() -> None:
    frame = json.dumps({"$type": "error", "error": "InternalError", "message": "boom"})
    with _serving([frame]) as (url, _):
        stream = JetstreamStream(
            url, Subscription(frozenset({STANDARD_DOCUMENT}), None), tuning=FAST
        )
        error = Running(stream).wait_ended(timeout=20)
    assert type(error) is StreamError and "InternalError" in str(error)
