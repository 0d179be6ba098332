"""What one event costs a stream transport's reading thread, per event, in CPU.

    .venv/bin/python bench/stream_decode.py [--events N]

A network-wide source reads every commit of the network and keeps a few: 0.1% of
events are documents at a realistic rate. This times the reading thread's work for
each transport on frames built like the real ones (a ``#commit`` with a CAR of its
blocks for the firehose, a ``#commit`` JSON frame for Jetstream): decoding the frame,
filtering, and for wanted documents decoding and checking the record. Websocket I/O and
delivery are left out (``bench/stream_scale.py`` measures the bridge end to end).
Jetstream's server drops what the collections filter refuses, so a network-wide
Jetstream client sees mostly documents; its other rows show the cost of a frame that
is read and skipped. Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import libipld
from atproto_jetstream.models import parse_frame
from atproto_subscription import Frame

from bot.nsids import STANDARD_DOCUMENT
from bot.streams import Subscription
from bot.streams.dagcbor import DAG_CBOR_SHA256
from bot.streams.firehose import CURSOR_REFUSALS as FIREHOSE_REFUSALS
from bot.streams.firehose import _Reader as FirehoseReader
from bot.streams.jetstream import _Reader as JetstreamReader
from bot.streams.reconnect import FrameReader

DID = "did:plc:abcdefghijklmnopqrstuvwx"
POST = {
    "$type": "app.bsky.feed.post",
    "text": "a post of an ordinary length " * 4,
    "createdAt": "2026-11-30T12:00:00Z",
}
DOCUMENT = {
    "$type": STANDARD_DOCUMENT,
    "title": "A long read",
    "site": "at://did:plc:abcdefghijklmnopqrstuvwx/site.standard.publication/self",
    "publishedAt": "2026-11-30T12:00:00Z",
    "textContent": "The council met on Monday and approved the harbour plan. " * 60,
    "tags": ["rust", "harbour"],
}


class _Connection:
    def frame(self) -> None:
        pass


class _Client:
    connection = _Connection()
    compressed = False
    frame_bytes = 0

    def update_params(self, params: dict[str, Any]) -> None:
        pass


class _Pump:
    def __init__(self) -> None:
        self.events = 0

    def put(self, seq: int, events: Any, size: int = 0) -> None:
        self.events += len(tuple(events))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _firehose_frame(seq: int, record: dict[str, Any], collection: str) -> bytes:
    block = bytes(libipld.encode_dag_cbor(record))
    cid = DAG_CBOR_SHA256 + hashlib.sha256(block).digest()
    header = bytes(libipld.encode_dag_cbor({"version": 1, "roots": [cid]}))
    car = _varint(len(header)) + header + _varint(len(cid) + len(block)) + cid + block
    body = {
        "seq": seq,
        "repo": DID,
        "rev": "3kabcdefghij2",
        "time": "2026-11-30T12:00:00.000Z",
        "ops": [{"action": "create", "path": f"{collection}/3kabcdefghij2", "cid": cid}],
        "blocks": car,
        "blobs": [],
        "commit": cid,
        "rebase": False,
        "tooBig": False,
    }
    return bytes(libipld.encode_dag_cbor({"op": 1, "t": "#commit"})) + bytes(
        libipld.encode_dag_cbor(body)
    )


def _jetstream_frame(seq: int, record: dict[str, Any], collection: str) -> str:
    payload = {
        "$type": "network.bsky.jetstream.subscribeEvents#commit",
        "seq": seq,
        "did": DID,
        "collection": collection,
        "operation": "create",
        "rkey": "3kabcdefghij2",
        "rev": "3kabcdefghij2",
        "time": "2026-11-30T12:00:00.000000Z",
        "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        "record": record,
    }
    return json.dumps({"$type": "message", "payload": payload})


def _time(decode: Any, reader: FrameReader, frames: list[Any]) -> float:
    started = time.process_time()
    for raw in frames:
        reader.on_message(decode(raw))
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    n = args.events
    wanted = Subscription(frozenset({STANDARD_DOCUMENT}), None)  # network-wide

    def mix(make: Any, share: float) -> list[Any]:
        every = max(1, round(1 / share)) if share else 0
        return [
            make(seq, DOCUMENT, STANDARD_DOCUMENT)
            if every and seq % every == 0
            else make(seq, POST, "app.bsky.feed.post")
            for seq in range(1, n + 1)
        ]

    rows = []
    for share, label in ((0.0, "0% documents"), (0.001, "0.1% documents"), (1.0, "all documents")):
        fire = FirehoseReader("firehose", wanted, _Client(), _Pump(), None, FIREHOSE_REFUSALS)  # type: ignore[arg-type]
        stream = SimpleNamespace(endpoint="jetstream", subscription=wanted, compressed=None)
        jet = JetstreamReader(stream, _Client(), _Pump(), None)  # type: ignore[arg-type]
        fire_frames, jet_frames = mix(_firehose_frame, share), mix(_jetstream_frame, share)
        fire_s = _time(Frame.from_bytes, fire, fire_frames)
        jet_s = _time(parse_frame, jet, jet_frames)
        rows.append((label, fire_s, fire.pump.events, jet_s, jet.pump.events))

    print(f"{n:,} events per row, CPU seconds of the reading thread's work (process time)\n")
    print(
        "| mix | firehose µs/event | firehose events/s | jetstream µs/event | jetstream events/s |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, fire_s, fire_kept, jet_s, jet_kept in rows:
        assert fire_kept == jet_kept, (fire_kept, jet_kept)
        print(
            f"| {label} ({fire_kept:,} kept) | {fire_s / n * 1e6:.1f} | {n / fire_s:,.0f} "
            f"| {jet_s / n * 1e6:.1f} | {n / jet_s:,.0f} |"
        )


if __name__ == "__main__":
    main()
