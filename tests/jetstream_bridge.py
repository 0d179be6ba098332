"""A local Jetstream v2 for tests: a real firehose in, ``subscribeEvents`` out.

No Jetstream server installs from the package registries, so the tests run this bridge:
it subscribes to an upstream ``com.atproto.sync.subscribeRepos`` (the local PDS's
firehose) with the SDK's firehose client and serves what it receives as
``network.bsky.jetstream.subscribeEvents`` over websockets, in v2's wire
(``tests/jetstream_wire.py``): filters by collection, DID and kind, an inclusive cursor
replayed from a bounded in-memory ring (too old: HTTP 400 ``CursorTooOld``; in the
future: ``#info FutureCursor``, then the live tip; unix microseconds from 1e15),
``maxMessageSizeBytes``, and dict-zstd compression with
``network.bsky.jetstream.getZstdDictionary`` over HTTP on the same port.

It never makes events up. At start it reads the upstream history from cursor 0 and
derives each event's seq from the upstream seq, so a bridge restarted (SIGKILL, then the
same command) serves the same events under the same seqs; it takes connections once it
has caught up with the upstream. Run it as a process::

    python -m tests.jetstream_bridge --upstream ws://127.0.0.1:PORT --port 0

which prints one JSON line (``{"url": "ws://127.0.0.1:N/xrpc", "port": N}``) when ready
and runs until killed; or in-process with ``BridgeThread``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # as a process: its sibling modules

import jetstream_wire as wire
import zstandard
from atproto_firehose import AsyncFirehoseSubscribeReposClient
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

DEFAULT_BUFFER = 20_000  # events kept for cursor replay
CATCH_UP_QUIET = 1.0  # seconds without an upstream message: caught up with its history
CATCH_UP_TIMEOUT = 60.0  # a connection waits at most this long for the catch-up
DICTIONARY_ID = 1_000_001  # fixed, so a restarted bridge offers the same dictionary
DICTIONARY_SIZE = 8192
ZSTD_LEVEL = 3


def _now_us() -> int:
    return time.time_ns() // 1000


def build_dictionary(dict_id: int = DICTIONARY_ID) -> zstandard.ZstdCompressionDict:
    """A zstd dictionary trained on the envelope Jetstream's frames share.

    The samples are frame skeletons from the lexicon (field names, ``$type`` values and
    common collection NSIDs), not events: the dictionary exists before any event does,
    and is the same on every start.
    """
    collections = (
        "app.bsky.feed.post",
        "app.bsky.feed.like",
        "app.bsky.feed.repost",
        "app.bsky.graph.follow",
        "site.standard.document",
        "site.standard.publication",
    )
    samples: list[bytes | bytearray | memoryview] = []
    for number in range(600):
        collection = collections[number % len(collections)]
        payload = {
            "$type": f"{wire.NSID}#commit",
            "seq": number * 7919,
            "did": f"did:plc:{number * 104729:024x}",
            "time": wire.timestamp(1_700_000_000_000_000 + number * 12345),
            "witnessedAt": wire.timestamp(1_700_000_000_000_000 + number * 12345),
            "rev": f"3l{number:011d}",
            "operation": ("create", "update", "delete")[number % 3],
            "collection": collection,
            "rkey": f"3l{number * 31:011d}",
            "cid": f"bafyrei{number:052d}",
            "record": {"$type": collection, "createdAt": "", "text": "", "langs": ["en"]},
        }
        samples.append(wire.message_frame(payload))
    return zstandard.train_dictionary(DICTIONARY_SIZE, samples, dict_id=dict_id, threads=1)


class Bridge:
    """The bridge on the running event loop: ``await start()``, ``await stop()``.

    ``ingest`` takes one upstream message; the firehose task calls it, and a benchmark
    can replay recorded messages through it without an upstream (``upstream=None``).
    """

    def __init__(
        self,
        upstream: str | None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        buffer: int = DEFAULT_BUFFER,
        quiet: float = CATCH_UP_QUIET,
    ) -> None:
        self.upstream = _xrpc_base(upstream) if upstream else None
        self.host = host
        self.port = port
        self.quiet = quiet
        self.ring: deque[wire.Event] = deque(maxlen=buffer)
        self.total = 0  # events ever appended; the ring holds the last len(ring)
        self.upstream_seq = -1
        self.dictionary = build_dictionary()
        self.dictionary_bytes = self.dictionary.as_bytes()
        self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=self.dictionary)
        self._compressed: dict[int, bytes] = {}  # seq → frame, for the events in the ring
        self._tick = asyncio.Event()
        self._closing = False
        self._started_us = _now_us()
        self._last_message = time.monotonic()
        self.caught_up = asyncio.Event()
        self._params: dict[ServerConnection, wire.Params] = {}
        self._server: Server | None = None
        self._firehose: AsyncFirehoseSubscribeReposClient | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.bytes_sent = 0  # websocket payload bytes, for the benchmarks
        self.frames_sent = 0

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/xrpc"

    async def start(self) -> str:
        self._server = await serve(
            self._serve,
            self.host,
            self.port,
            subprotocols=[Subprotocol(wire.SUBPROTOCOL)],
            process_request=self._process_request,
            compression=None,  # Jetstream's own zstd, or nothing: bandwidth is measured
            max_size=64 * 1024,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self.upstream is None:
            self.caught_up.set()
        else:
            self._firehose = AsyncFirehoseSubscribeReposClient(
                params={"cursor": 0}, base_uri=self.upstream
            )
            self._tasks.append(asyncio.create_task(self._follow_upstream()))
            self._tasks.append(asyncio.create_task(self._watch_catch_up()))
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._tick.set()  # wakes the idle subscribers, which then end
        if self._firehose is not None:
            await self._firehose.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # --- upstream -----------------------------------------------------------------

    async def _follow_upstream(self) -> None:
        assert self._firehose is not None
        firehose = self._firehose

        async def on_message(frame: Any) -> None:
            kind = (frame.header.t or "").lstrip("#")
            body = frame.body
            self._last_message = time.monotonic()
            if not isinstance(body, dict) or not isinstance(body.get("seq"), int):
                return
            if body["seq"] <= self.upstream_seq:
                return  # the firehose replays from the cursor it was given
            firehose.update_params({"cursor": body["seq"]})
            self.ingest(kind, body)
            if not self.caught_up.is_set() and _is_live(body, self._started_us):
                self.caught_up.set()

        await firehose.start(on_message)

    async def _watch_catch_up(self) -> None:
        while not self.caught_up.is_set():
            if time.monotonic() - self._last_message >= self.quiet:
                self.caught_up.set()
            await asyncio.sleep(0.05)

    def ingest(self, kind: str, body: dict[str, Any]) -> None:
        """Number, convert and keep one upstream message."""
        self.upstream_seq = max(self.upstream_seq, body["seq"])
        self.publish(wire.convert(kind, body, _now_us()))

    def publish(self, events: Iterable[wire.Event]) -> int:
        """Keep events (seqs ascending; older ones are dropped) and wake the subscribers.

        Called on the bridge's loop: by ``ingest``, or by a benchmark replaying events.
        """
        added = 0
        for event in events:
            if self.ring and event.seq <= self.ring[-1].seq:
                continue
            if len(self.ring) == self.ring.maxlen:
                self._compressed.pop(self.ring[0].seq, None)
            self.ring.append(event)
            self.total += 1
            added += 1
        if added:
            self._tick.set()
            self._tick = asyncio.Event()
        return added

    # --- the HTTP side: validation before the upgrade, the dictionary ----------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        url = urlsplit(request.path)
        query = parse_qs(url.query, keep_blank_values=False)
        if url.path == f"/xrpc/{wire.DICTIONARY_NSID}":
            return self._dictionary_response(query)
        if url.path != f"/xrpc/{wire.NSID}":
            return _json_response(HTTPStatus.NOT_FOUND, "MethodNotImplemented", url.path)
        try:
            params = wire.parse_params(query)
        except wire.InvalidRequest as exc:
            return _json_response(HTTPStatus.BAD_REQUEST, exc.error, str(exc))
        if params.zstd_dictionary not in (None, self.dictionary.dict_id()):
            return _json_response(
                HTTPStatus.BAD_REQUEST,
                "UnknownZstdDictionary",
                f"unknown zstd dictionary {params.zstd_dictionary}; "
                f"current: {self.dictionary.dict_id()}",
            )
        try:
            await asyncio.wait_for(self.caught_up.wait(), CATCH_UP_TIMEOUT)
        except TimeoutError:
            return _json_response(HTTPStatus.SERVICE_UNAVAILABLE, "NotReady", "catching up")
        if params.cursor is not None and params.cursor < wire.TIMESTAMP_CURSOR:
            evicted = self.total > len(self.ring)
            if evicted and params.cursor < self.ring[0].seq:
                return _json_response(
                    HTTPStatus.BAD_REQUEST,
                    "CursorTooOld",
                    f"cursor {params.cursor} is older than the oldest event kept "
                    f"({self.ring[0].seq})",
                )
        self._params[connection] = params
        return None

    def _dictionary_response(self, query: dict[str, list[str]]) -> Response:
        wanted = query.get("id")
        if wanted and wanted != [str(self.dictionary.dict_id())]:
            return _json_response(
                HTTPStatus.NOT_FOUND, "UnknownZstdDictionary", f"no dictionary {wanted[0]}"
            )
        headers = Headers(
            [
                ("Content-Type", "application/octet-stream"),
                ("Content-Length", str(len(self.dictionary_bytes))),
            ]
        )
        return Response(HTTPStatus.OK, "OK", headers, self.dictionary_bytes)

    # --- a subscriber ------------------------------------------------------------------

    def _start_position(self, params: wire.Params) -> tuple[int, bytes | None]:
        """(absolute ring index to send from, an #info frame to send first or None)."""
        first = self.total - len(self.ring)
        cursor = params.cursor
        if cursor is None:
            return self.total, None
        if cursor >= wire.TIMESTAMP_CURSOR:
            index = bisect.bisect_left(self.ring, cursor, key=lambda e: e.witnessed_us)
            if index == 0 and self.total > len(self.ring) and self.ring[0].witnessed_us > cursor:
                message = f"cursor {cursor} is before the oldest event kept; from seq "
                return first, wire.info_frame("OutdatedCursor", message + str(self.ring[0].seq))
            return first + index, None
        last = self.ring[-1].seq if self.ring else -1
        if cursor > last + 1:
            message = f"cursor {cursor} is beyond the next seq ({last + 1}); from the live tip"
            return self.total, wire.info_frame("FutureCursor", message)
        return first + bisect.bisect_left(self.ring, cursor, key=lambda e: e.seq), None

    async def _serve(self, connection: ServerConnection) -> None:
        params = self._params.pop(connection)
        position, info = self._start_position(params)
        compress = params.zstd_dictionary is not None
        try:
            if info is not None:
                await self._send(connection, info, None, compress)
            while True:
                while position < self.total:
                    first = self.total - len(self.ring)
                    if position < first:
                        frame = wire.error_frame("ConsumerTooSlow", "fell behind the buffer")
                        await connection.send(frame.decode())
                        await connection.close()
                        return
                    event = self.ring[position - first]
                    position += 1
                    if not params.wants(event.kind, event.did, event.collection):
                        continue
                    if params.max_message_size and len(event.frame) > params.max_message_size:
                        continue
                    await self._send(connection, event.frame, event.seq, compress)
                if self._closing:
                    return
                await self._tick.wait()
        except ConnectionClosed:
            return

    async def _send(
        self, connection: ServerConnection, frame: bytes, seq: int | None, compress: bool
    ) -> None:
        if not compress:
            text = frame.decode()
            self.bytes_sent += len(frame)
            self.frames_sent += 1
            await connection.send(text)
            return
        data = self._compressed.get(seq) if seq is not None else None
        if data is None:
            data = self._compressor.compress(frame)
            if seq is not None:
                self._compressed[seq] = data
        self.bytes_sent += len(data)
        self.frames_sent += 1
        await connection.send(data)


def _is_live(body: dict[str, Any], started_us: int) -> bool:
    """An upstream event stamped after the bridge started: the history is behind us."""
    stamp = body.get("time")
    if not isinstance(stamp, str):
        return False
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return moment.timestamp() * 1_000_000 >= started_us - 1_000_000


def _json_response(status: HTTPStatus, error: str, message: str) -> Response:
    body = json.dumps({"error": error, "message": message}).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


def _xrpc_base(upstream: str) -> str:
    """``ws://host:port`` or ``ws://host:port/xrpc`` → the SDK's base URI (with ``/xrpc``)."""
    base = upstream.rstrip("/")
    return base if base.endswith("/xrpc") else f"{base}/xrpc"


class BridgeThread:
    """A ``Bridge`` on its own event loop in a daemon thread, for in-process use."""

    def __init__(self, upstream: str | None, **options: Any) -> None:
        self._upstream = upstream
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.bridge: Bridge | None = None

    def start(self, timeout: float = CATCH_UP_TIMEOUT) -> str:
        """Start and wait for the catch-up; returns the base URI (``ws://…/xrpc``)."""
        self._thread.start()
        self.bridge = self.call(self._make(), timeout)
        url: str = self.call(self.bridge.start(), timeout)
        self.call(self.bridge.caught_up.wait(), timeout)
        return url

    async def _make(self) -> Bridge:
        return Bridge(self._upstream, **self._options)

    def call(self, coroutine: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine on the bridge's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self) -> None:
        if self.bridge is not None:
            self.call(self.bridge.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> BridgeThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _main(args: argparse.Namespace) -> None:
    bridge = Bridge(args.upstream, host=args.host, port=args.port, buffer=args.buffer)
    url = await bridge.start()
    await bridge.caught_up.wait()
    print(json.dumps({"url": url, "port": bridge.port}), flush=True)
    await asyncio.Event().wait()  # until killed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="the firehose: ws://host:port[/xrpc]")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--buffer", type=int, default=DEFAULT_BUFFER, help="events kept")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
