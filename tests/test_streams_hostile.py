"""Hostile frames on a stream: each is dropped with one logged reason, the stream goes on.

The server is a local websocket server on 127.0.0.1 that sends hand-made bad frames and
then a real frame captured from the local PDS's firehose, which must still come through.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import libipld
import pytest
from pds import LocalPds
from stream_harness import Running
from websockets.sync.client import connect
from websockets.sync.server import Server, ServerConnection, serve

from bot.errors import CursorTooOld, StreamError
from bot.nsids import STANDARD_DOCUMENT
from bot.streams import Batch, Op, Subscription
from bot.streams.dagcbor import DAG_CBOR_SHA256
from bot.streams.firehose import FirehoseStream
from bot.streams.reconnect import Backoff, Tuning

FAST = Tuning(stall_after=5.0, backoff=Backoff(base=0.05, cap=0.3), cursor_every=0.2)
DID = "did:plc:abcdefghijklmnopqrstuvwx"


@contextlib.contextmanager
def _serving(frames: Sequence[bytes | str]) -> Iterator[str]:
    """A websocket server sending ``frames`` to each subscriber, then staying open."""

    def handler(ws: ServerConnection) -> None:
        for frame in frames:
            ws.send(frame)
        with contextlib.suppress(Exception):
            for _ in ws:  # until the client goes
                pass

    server: Server = serve(handler, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    finally:
        server.shutdown()
        thread.join(5)


def _frame(body: dict[str, Any], kind: str = "#commit", header: Any = None) -> bytes:
    head = header if header is not None else {"op": 1, "t": kind}
    return bytes(libipld.encode_dag_cbor(head)) + bytes(libipld.encode_dag_cbor(body))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _car(blocks: dict[bytes, bytes]) -> bytes:
    header = bytes(libipld.encode_dag_cbor({"version": 1, "roots": []}))
    out = _varint(len(header)) + header
    for cid, block in blocks.items():
        out += _varint(len(cid) + len(block)) + cid + block
    return out


def _commit(seq: int, record_block: bytes, *, repo: str = DID, path: str = "") -> bytes:
    cid = DAG_CBOR_SHA256 + hashlib.sha256(record_block).digest()
    path = path or f"{STANDARD_DOCUMENT}/3kabcdefghij2"
    op = {"action": "create", "path": path, "cid": cid}
    body = {"seq": seq, "repo": repo, "ops": [op], "blocks": _car({cid: record_block})}
    return _frame(body)


def _real_frame(pds: LocalPds) -> tuple[bytes, str, int]:
    """A real #commit frame of the PDS's firehose: (raw bytes, the record's uri, its seq)."""
    account = pds.create_account("hostile")
    for n in range(8):  # raise the seq past the hand-made frames'
        pds.put_record(
            account, "app.bsky.feed.post", {"text": f"{n}", "createdAt": "2026-11-30T12:00:00Z"}
        )
    uri, _ = pds.put_record(
        account,
        STANDARD_DOCUMENT,
        {"title": "Real", "site": "https://e.example", "publishedAt": "2026-11-30T12:00:00Z"},
    )
    url = pds.pds_url.replace("http://", "ws://") + "/xrpc/com.atproto.sync.subscribeRepos?cursor=0"
    with connect(url, max_size=5 * 1024 * 1024) as ws:
        while True:
            raw = ws.recv(timeout=20)
            assert isinstance(raw, bytes)
            header, body = libipld.decode_dag_cbor_multi(raw)
            if header.get("t") != "#commit" or body["repo"] != account.did:
                continue
            if any(op["path"] == uri.split("/", 3)[3] for op in body["ops"]):
                return raw, uri, int(body["seq"])


def test_bad_frames_are_dropped_with_a_reason_and_the_stream_goes_on(
    pds: LocalPds, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.streams")
    real, uri, real_seq = _real_frame(pds)
    good_block = bytes(libipld.encode_dag_cbor({"$type": STANDARD_DOCUMENT, "title": "ok"}))
    deep: Any = "bottom"
    for _ in range(150):
        deep = {"d": deep}
    bad: list[bytes | str] = [
        b"\xff\xfe\x00 not cbor at all",
        "a text frame",
        _frame({"seq": 1}, header=[1, 2]),  # a header that is not a map
        _frame({"seq": "two", "repo": DID, "ops": []}),  # a seq that is not a number
        _commit(3, good_block, repo="not-a-did"),
        _commit(4, good_block, path=f"{STANDARD_DOCUMENT}/.."),  # a record key that is not one
        _commit(5, bytes(libipld.encode_dag_cbor({"$type": STANDARD_DOCUMENT, "x": 1.5}))),
        _commit(6, bytes(libipld.encode_dag_cbor(deep))),
        _frame(  # a block that does not match the op's CID
            {
                "seq": 7,
                "repo": DID,
                "ops": [
                    {
                        "action": "create",
                        "path": f"{STANDARD_DOCUMENT}/3kabc",
                        "cid": DAG_CBOR_SHA256 + bytes(32),
                    }
                ],
                "blocks": _car({DAG_CBOR_SHA256 + bytes(32): good_block}),
            }
        ),
        _frame(
            {
                "seq": 8,
                "repo": DID,
                "ops": [
                    {
                        "action": "create",
                        "path": f"{STANDARD_DOCUMENT}/3kabd",
                        "cid": DAG_CBOR_SHA256 + bytes(32),
                    }
                ],
                "blocks": b"\x05\x01",
            }
        ),  # a cut CAR
        _frame(
            {
                "seq": 9,
                "repo": DID,
                "ops": [{"action": "explode", "path": f"{STANDARD_DOCUMENT}/3kabe"}],
                "blocks": b"",
            }
        ),
    ]
    assert real_seq > 9
    with _serving([*bad, real]) as url:
        stream = FirehoseStream(
            url, Subscription(frozenset({STANDARD_DOCUMENT}), None), tuning=FAST
        )
        with Running(stream, cursor=0) as running:
            running.wait_for(lambda: bool(running.events), timeout=20)
            running.wait_for(lambda: running.cursor == real_seq)
    assert [(e.uri, e.op) for e in running.events] == [(uri, Op.CREATE)]
    assert running.error is None
    drops = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dropped")]
    assert len(drops) == len(bad), drops
    for expected in (
        "undecodable",
        "text frame",
        "seq is not",
        "not a DID",
        "not a record key",
        "float",
        "nested deeper",
        "does not match its CID",
        "cut short",
        "not a create",
    ):
        assert any(expected in d for d in drops), (expected, drops)
    assert not any(r.exc_info for r in caplog.records)


def _error_frame(error: str, message: str) -> bytes:
    return bytes(libipld.encode_dag_cbor({"op": -1})) + bytes(
        libipld.encode_dag_cbor({"error": error, "message": message})
    )


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (_frame({"name": "OutdatedCursor", "message": "too old"}, kind="#info"), CursorTooOld),
        (_error_frame("FutureCursor", "Cursor in the future."), CursorTooOld),
        (_error_frame("ConsumerTooSlow", "go faster"), StreamError),
    ],
)
def test_the_servers_refusals_end_the_stream_as_our_errors(
    frame: bytes, kind: type[StreamError]
) -> None:
    with _serving([frame]) as url:
        stream = FirehoseStream(
            url, Subscription(frozenset({STANDARD_DOCUMENT}), None), tuning=FAST
        )
        error = Running(stream, cursor=5).wait_ended(timeout=20)
    assert type(error) is kind


def test_an_error_in_deliver_ends_run_with_that_error(pds: LocalPds) -> None:
    real, _, _ = _real_frame(pds)

    class Full(Exception):
        pass

    def deliver(batch: Batch) -> None:
        raise Full("the state file is full")

    with _serving([real]) as url:
        stream = FirehoseStream(
            url, Subscription(frozenset({STANDARD_DOCUMENT}), None), tuning=FAST
        )
        with pytest.raises(Full):
            stream.run(0, deliver, threading.Event())
