"""The Jetstream transport: Bluesky's Jetstream v2 (``network.bsky.jetstream.subscribeEvents``).

    JetstreamStream(url, subscription, *, compress=True, tuning=Tuning())

``url`` is the Jetstream instance (``wss://…``, ``https://…``; ``/xrpc`` is added);
``endpoint`` is ``"jetstream <url>"``. The URL comes from the config, so it is trusted.

The SDK's ``JetstreamClient`` speaks the protocol (the ``xrpc.v1.json`` subprotocol,
the integer ``seq`` cursor, dictionary-zstd compression). The server filters: commits
only (``kinds``), the subscription's ``collections``, its ``dids`` (left out for a
network-wide subscription, and past ``MAX_QUERY_DIDS`` DIDs, whose query string would
be too long: then the filter is ours alone), and ``max_message_size_bytes`` so a huge
record is never sent. Every event is checked again here all the same (the server is
a stranger): the filters, then ``bot.streams.checks``. Records arrive as the JSON
``listRecords`` gives and are passed on as they came, not through the SDK's models.

With ``compress`` the SDK fetches the server's zstd dictionary and receives compressed
frames when it offers one; it falls back to plain frames when it doesn't. A cursor the
server refuses (``CursorTooOld`` before the upgrade, an ``#info OutdatedCursor`` or
``FutureCursor``) raises ``CursorTooOld``; a refused handshake or an error frame other
than ``ConsumerTooSlow`` (which reconnects) raises ``StreamError``.
"""

from __future__ import annotations

import random
import threading
from functools import partial
from typing import Any

from atproto_client.models.common import XrpcError
from atproto_jetstream import JetstreamClient
from atproto_jetstream.exceptions import JetstreamConsumerTooSlowError, JetstreamCursorTooOldError
from atproto_jetstream.models import ErrorFrame, MessageFrame, parse_frame

from bot.errors import CursorTooOld, FeedbotError, RecordError, StreamError
from bot.streams import Deliver, Subscription
from bot.streams.checks import checked_event, wanted
from bot.streams.dagcbor import MAX_RECORD_BYTES
from bot.streams.dial import websocket_base
from bot.streams.reconnect import (
    Connection,
    FrameReader,
    ManagedClient,
    Pump,
    Tuning,
    Undecodable,
    describe,
    refusal,
)
from bot.untrusted import log_safe

#: Bluesky's public instance, when the config names none
DEFAULT_URL = "wss://jetstream.us-east.bsky.network"
#: DIDs sent in the query string at most; past this the server sends every repo's
#: events of the collections and the filter is ours (a query of ~4 KB stays portable)
MAX_QUERY_DIDS = 100
#: the server skips frames larger than this: a record at its cap, and the envelope
MAX_FRAME_BYTES = MAX_RECORD_BYTES + 64 * 1024
#: what the server says when it can't resume from the cursor
CURSOR_REFUSALS = frozenset({"CursorTooOld", "OutdatedCursor", "FutureCursor"})

_PREFIX = "network.bsky.jetstream.subscribeEvents"
_COMMIT = f"{_PREFIX}#commit"
_INFO = f"{_PREFIX}#info"
_CONSUMER_TOO_SLOW = "ConsumerTooSlow"


class _Client(ManagedClient, JetstreamClient):  # type: ignore[misc]
    """The SDK's Jetstream client, with our lifecycle, handing on raw payloads."""

    frame_bytes = 0  # the size of the frame decoded last, decompressed

    def _decode_frame(self, raw_frame: str | bytes) -> MessageFrame | None:
        # the SDK's own decoding, less its models: they would reshape the record
        try:
            if self._compression is not None and isinstance(raw_frame, bytes | bytearray):
                raw_frame = self._compression.decompress(bytes(raw_frame))
            self.frame_bytes = len(raw_frame)
            frame = parse_frame(raw_frame)
        except Exception as exc:  # the edge: whatever the decoders make of hostile bytes
            raise Undecodable(f"undecodable frame ({describe(exc)})") from None
        if isinstance(frame, ErrorFrame):
            name, message = str(frame.error), str(frame.message or "")
            if name == _CONSUMER_TOO_SLOW:  # the SDK reconnects on it
                raise JetstreamConsumerTooSlowError(XrpcError(name, message))
            raise refusal(self.connection.endpoint, name, message, CURSOR_REFUSALS)
        seq = frame.payload.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            if self._cursor is not None and seq <= self._cursor:
                return None  # the server replays the cursor's own event: seen already
            self._track_cursor(seq)  # a reconnect resumes from here
        return frame


class JetstreamStream:
    """One Jetstream v2 connection, filtered by the server and checked here."""

    def __init__(
        self,
        url: str,
        subscription: Subscription,
        *,
        compress: bool = True,
        tuning: Tuning | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.base_uri = websocket_base(url)
        self.endpoint = f"jetstream {url.rstrip('/')}"
        self.subscription = subscription
        self.compress = compress
        self.tuning = tuning or Tuning()
        self.rng = rng or random.Random()
        #: whether the last connection received compressed frames (None before one)
        self.compressed: bool | None = None

    def params(self, cursor: int | None) -> dict[str, Any]:
        """The query of ``subscribeEvents``: the server-side filters and the cursor."""
        params: dict[str, Any] = {
            "kinds": ["commit"],
            "collections": sorted(self.subscription.collections),
            "max_message_size_bytes": MAX_FRAME_BYTES,
        }
        dids = self.subscription.dids
        if dids is not None and len(dids) <= MAX_QUERY_DIDS:
            params["dids"] = sorted(dids)
        if cursor is not None:
            params["cursor"] = cursor
        return params

    def run(self, cursor: int | None, deliver: Deliver, stop: threading.Event) -> None:
        pump = Pump(self.endpoint, self.tuning)
        connection = Connection(self.endpoint, self.tuning, closing=pump.closing, rng=self.rng)
        try:
            client = _Client(
                self.params(cursor),
                base_uri=self.base_uri,
                recv_timeout=None,  # a narrow filter is quiet for long; pings find dead links
                compress=self.compress,
            )
        except ValueError as exc:  # pydantic's, on a subscription the lexicon refuses
            raise StreamError(f"{self.endpoint}: {describe(exc)}") from exc
        client.connection = connection
        if cursor is not None:
            client._track_cursor(cursor)  # the replayed event at the cursor is seen already
        reader = _Reader(self, client, pump, cursor)
        try:
            pump.run(reader, deliver, stop, partial(_translated, self.endpoint))
        finally:
            # the SDK never closes the HTTP client it fetched the dictionary with
            dictionary_client = getattr(client, "_xrpc_client", None)
            if dictionary_client is not None:
                dictionary_client.request.close()


class _Reader(FrameReader):
    """Turns the payloads of one ``run`` into checked events (on the SDK's thread)."""

    client: _Client

    def __init__(
        self, stream: JetstreamStream, client: _Client, pump: Pump, cursor: int | None
    ) -> None:
        super().__init__(
            stream.endpoint, stream.subscription, client, pump, cursor, CURSOR_REFUSALS
        )
        self.stream = stream

    def on_message(self, frame: MessageFrame) -> None:
        self.stream.compressed = bool(self.client.compressed)
        payload: dict[str, Any] = frame.payload
        kind = payload.get("$type")
        seq = self.fresh_seq(kind, payload, info=kind == _INFO)
        if seq is None:
            return
        did, collection = payload.get("did"), payload.get("collection")
        if (
            kind != _COMMIT  # identity, account, sync: only the cursor moves
            or not (isinstance(did, str) and isinstance(collection, str))
            or not wanted(self.subscription, did, collection)  # whatever the server thinks
        ):
            self.pump.put(seq, ())
            return
        try:
            event = checked_event(
                seq,
                did,
                collection,
                payload.get("rkey"),
                payload.get("operation"),
                payload.get("cid"),
                payload.get("record"),
            )
        except RecordError as exc:
            self.drop(f"seq={seq} repo={log_safe(did[:100])}: {exc}")
            self.pump.put(seq, ())
            return
        self.pump.put(seq, (event,), self.client.frame_bytes)


def _translated(endpoint: str, exc: BaseException) -> FeedbotError:
    """The SDK's fatal errors as ours: a refused cursor, a refused handshake."""
    if isinstance(exc, FeedbotError):
        return exc
    if isinstance(exc, JetstreamCursorTooOldError):
        return CursorTooOld(f"{endpoint}: {describe(exc)}")
    return StreamError(f"{endpoint}: {describe(exc)}")
