"""The firehose transport: ``com.atproto.sync.subscribeRepos`` on a PDS or a relay.

    FirehoseStream(service_url, subscription, *, public_only=False, tuning=Tuning())

``service_url`` is the PDS or relay (``https://…``, ``wss://…``; ``/xrpc`` is added);
``public_only`` makes the connection go through the SSRF guard (``bot.streams.dial``):
set it for an endpoint read from a DID document unless the source allows private
addresses. ``endpoint`` is ``"firehose <service_url>"``.

The SDK's ``FirehoseSubscribeReposClient`` speaks the protocol. Each ``#commit`` is
filtered here by repo and collection before anything else is decoded; its wanted ops
become ``RecordEvent``s whose records come from the commit's CAR blocks in exactly the
JSON ``listRecords`` gives (``bot.streams.dagcbor``), so the record readers can't tell
a streamed record from a listed one. ``#identity``, ``#account`` and ``#sync`` frames
only advance the cursor. An ``#info OutdatedCursor`` or a ``FutureCursor`` error (a
cursor the server can't serve: too old, or from before a reset) raises
``CursorTooOld``; other error frames raise ``StreamError``. A frame or op that fails a
check is dropped with one logged line; the stream goes on.
"""

from __future__ import annotations

import random
import threading
from functools import partial
from typing import Any

from atproto_firehose import FirehoseSubscribeReposClient
from atproto_subscription import ErrorFrame, Frame, MessageFrame

from bot.errors import RecordError
from bot.netguard import Resolver, system_resolve
from bot.streams import Deliver, Op, RecordEvent, Subscription
from bot.streams.checks import checked_event, wanted
from bot.streams.dagcbor import car_blocks, cid_text, record_json
from bot.streams.dial import host_port, public_socket, websocket_base
from bot.streams.reconnect import (
    Connection,
    FrameReader,
    ManagedClient,
    Pump,
    Tuning,
    Undecodable,
    refusal,
    translated,
)
from bot.untrusted import log_safe

#: the error names and #info names that say "this cursor can't be served"
CURSOR_REFUSALS = frozenset({"OutdatedCursor", "FutureCursor"})
_WRITES = (Op.CREATE.value, Op.UPDATE.value)


class _Client(ManagedClient, FirehoseSubscribeReposClient):  # type: ignore[misc]
    """The SDK's firehose client, with our lifecycle and our frame decoding."""

    frame_bytes = 0  # the size of the frame decoded last

    def _decode_frame(self, raw_frame: str | bytes) -> MessageFrame | None:
        if isinstance(raw_frame, str):
            raise Undecodable("a text frame")
        self.frame_bytes = len(raw_frame)
        try:
            frame = Frame.from_bytes(raw_frame)
        except Exception as exc:  # the edge: whatever libipld makes of hostile bytes
            raise Undecodable(f"undecodable frame ({type(exc).__name__})") from None
        if isinstance(frame, ErrorFrame):
            name, message = str(frame.body.error), str(frame.body.message or "")
            raise refusal(self.connection.endpoint, name, message, CURSOR_REFUSALS)
        if not isinstance(frame, MessageFrame) or not isinstance(frame.body, dict):
            raise Undecodable("a frame that is neither a message nor an error")
        return frame


class FirehoseStream:
    """One ``subscribeRepos`` connection, filtered here to the subscription."""

    def __init__(
        self,
        service_url: str,
        subscription: Subscription,
        *,
        public_only: bool = False,
        tuning: Tuning | None = None,
        resolve: Resolver = system_resolve,
        rng: random.Random | None = None,
    ) -> None:
        self.base_uri = websocket_base(service_url)
        self.endpoint = f"firehose {service_url.rstrip('/')}"
        self.subscription = subscription
        self.public_only = public_only
        self.tuning = tuning or Tuning()
        self.resolve = resolve
        self.rng = rng or random.Random()

    def run(self, cursor: int | None, deliver: Deliver, stop: threading.Event) -> None:
        pump = Pump(self.endpoint, self.tuning)
        dial = None
        if self.public_only:
            dial = partial(public_socket, *host_port(self.base_uri), self.resolve)
        connection = Connection(
            self.endpoint, self.tuning, closing=pump.closing, rng=self.rng, dial=dial
        )
        client = _Client(
            {"cursor": cursor} if cursor is not None else None,
            base_uri=self.base_uri,
            recv_timeout=None,  # quiet repos are normal; pings detect a dead link
        )
        client.connection = connection
        reader = _Reader(self.endpoint, self.subscription, client, pump, cursor, CURSOR_REFUSALS)
        pump.run(reader, deliver, stop, partial(translated, self.endpoint))


class _Reader(FrameReader):
    """Turns the frames of one ``run`` into checked events (on the SDK's thread)."""

    client: _Client

    def on_message(self, frame: MessageFrame) -> None:
        body: dict[str, Any] = frame.body
        seq = self.fresh_seq(frame.type, body, info=frame.type == "#info")
        if seq is None:
            return
        self.client.update_params({"cursor": seq})  # a reconnect resumes after it
        events = self._commit(seq, body) if frame.type == "#commit" else []
        self.pump.put(seq, events, self.client.frame_bytes)

    def _commit(self, seq: int, body: dict[str, Any]) -> list[RecordEvent]:
        repo, ops = body.get("repo"), body.get("ops")
        if not isinstance(repo, str) or not isinstance(ops, list):
            self.drop(f"seq={seq}: a commit without repo or ops")
            return []
        if self.subscription.dids is not None and repo not in self.subscription.dids:
            return []
        chosen = []
        for op in ops:
            path = op.get("path") if isinstance(op, dict) else None
            collection, _, rkey = path.partition("/") if isinstance(path, str) else ("", "", "")
            if wanted(self.subscription, repo, collection):
                chosen.append((op, collection, rkey))
        if not chosen:
            return []
        blocks: dict[bytes, bytes] = {}
        if any(op.get("action") in _WRITES for op, _, _ in chosen):
            try:
                blocks = car_blocks(body.get("blocks") or b"")
            except RecordError as exc:
                self.drop(f"seq={seq} repo={log_safe(repo)}: {exc}")
                return []
        events = []
        for op, collection, rkey in chosen:
            try:
                events.append(self._event(seq, repo, collection, rkey, op, blocks))
            except RecordError as exc:
                shown = log_safe(f"at://{repo}/{collection}/{rkey}"[:300])
                self.drop(f"seq={seq} uri={shown}: {exc}")
        return events

    @staticmethod
    def _event(
        seq: int,
        repo: str,
        collection: str,
        rkey: str,
        op: dict[str, Any],
        blocks: dict[bytes, bytes],
    ) -> RecordEvent:
        action = op.get("action")
        if action not in _WRITES:  # a delete, or no action at all: checked as such
            return checked_event(seq, repo, collection, rkey, action, None, None)
        raw_cid = op.get("cid")
        if not isinstance(raw_cid, bytes):
            raise RecordError(f"a {log_safe(str(action)[:20])} without a CID")
        block = blocks.get(raw_cid)
        if block is None:
            raise RecordError("the commit does not carry the record's block")
        record = record_json(raw_cid, block)
        return checked_event(
            seq,
            repo,
            collection,
            rkey,
            action,
            cid_text(raw_cid),
            record,
            record_bytes=len(block),
        )
