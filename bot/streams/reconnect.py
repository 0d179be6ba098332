"""What both transports share: reconnecting, stall detection, batching and stopping.

The SDK's websocket clients own the wire (handshake, framing, compression); their
connection loop is handed to a ``Connection`` through ``ManagedClient``, a mixin placed
before the SDK class:

- **backoff**: before each reconnect, wait ``Backoff.delay`` (exponential with full
  jitter, so clients dropped together don't come back together), interrupted at once by
  ``stop``; the count starts over once a connection has carried a frame or lived for
  ``stall_after``;
- **stall**: websockets pings every ``stall_after / 2`` and drops the connection when
  no pong comes within another ``stall_after / 2``, so a connection that carries no
  message and answers no ping for ``stall_after`` is replaced (a quiet repo that
  answers pings is not stalled);
- **a normal close by the server** (a restart) is reconnected too, unlike the SDK's
  default, which stops;
- **logs**: one line per connect, disconnect and reconnect, naming the endpoint; never
  a traceback.

``Pump`` runs the SDK client on a thread of its own and delivers on the caller's: frames
wait in a bounded queue (a slow consumer slows the reader, not memory), and what
arrives within ``batch_window`` is delivered as one ``Batch`` of at most about
``max_batch`` events, so a burst costs one transaction per batch. Frames without
wanted events advance the cursor too: an empty batch carries it at most every
``cursor_every`` seconds. ``stop`` is honoured within ``POLL_SECONDS`` plus what the
current ``deliver`` call takes.
"""

from __future__ import annotations

import logging
import queue
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from atproto_subscription import WebsocketClientBase
from websockets.exceptions import ConnectionClosedOK

from bot.errors import CursorTooOld, FeedbotError, RecordError, StreamError
from bot.streams import Batch, Deliver, RecordEvent, Subscription
from bot.streams.checks import checked_seq
from bot.untrusted import log_safe

log = logging.getLogger("bot.streams")

#: how often the delivering thread looks at ``stop`` while the stream is quiet
POLL_SECONDS = 0.2
#: frames waiting between the reading and the delivering thread
QUEUE_FRAMES = 1024
#: how long ``run`` waits for the reading thread once it is told to stop (a thread
#: still in a handshake then ends by itself, delivering nothing)
JOIN_SECONDS = 0.5


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: after ``failures`` failed connections in a
    row, wait a uniform random time in [0, min(cap, base * 2^(failures - 1))]."""

    base: float = 0.5
    cap: float = 60.0

    def delay(self, failures: int, rng: random.Random) -> float:
        if failures <= 0:
            return 0.0
        return rng.uniform(0.0, min(self.cap, self.base * 2 ** min(failures - 1, 60)))


@dataclass(frozen=True)
class Tuning:
    """How a stream reconnects and batches; the defaults suit a daemon, tests shrink them."""

    #: seconds without a message or a pong before the connection is replaced
    stall_after: float = 60.0
    backoff: Backoff = field(default_factory=Backoff)
    #: a batch stops taking frames once it holds this many events
    max_batch: int = 500
    #: seconds a batch waits for more frames after its first
    batch_window: float = 0.005
    #: seconds between empty batches that only advance the cursor
    cursor_every: float = 10.0
    #: bytes of frames with events waiting to be delivered (one frame always fits):
    #: past this the reading thread waits, whatever a server sends
    max_queued_bytes: int = 64 * 1024 * 1024


class Stopped(Exception):
    """Raised inside the SDK's loop to leave it: ``stop`` was set while waiting."""


class Undecodable(Exception):
    """A frame that could not be decoded: logged and skipped, the stream goes on."""


def refusal(endpoint: str, name: str, message: str, cursor_refusals: frozenset[str]) -> StreamError:
    """An error frame (or notice) of the server as ours: ``CursorTooOld`` when it says
    the cursor can't be served, else ``StreamError``."""
    reason = log_safe(f"{name}: {message}"[:200])
    if name in cursor_refusals:
        return CursorTooOld(f"{endpoint}: {reason}")
    return StreamError(f"{endpoint} refused: {reason}")


class Connection:
    """The lifecycle of one ``run``: when to dial, how, and what to log."""

    def __init__(
        self,
        endpoint: str,
        tuning: Tuning,
        *,
        closing: threading.Event,
        rng: random.Random,
        dial: Callable[[], socket.socket] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.tuning = tuning
        self.closing = closing
        self.rng = rng
        self.dial = dial
        self.failures = 0
        self.dials = 0
        self._connected_at: float | None = None
        self._frames = 0

    def before_connect(self) -> None:
        if self.closing.is_set():
            raise Stopped
        if self.dials:
            delay = self.tuning.backoff.delay(self.failures, self.rng)
            log.info(
                "stream reconnecting endpoint=%s in=%.2fs failures=%d",
                self.endpoint,
                delay,
                self.failures,
            )
            if self.closing.wait(delay):
                raise Stopped
        self.dials += 1

    def connect_kwargs(self) -> dict[str, Any]:
        half = self.tuning.stall_after / 2
        kwargs: dict[str, Any] = {"ping_interval": half, "ping_timeout": half}
        if self.dial is not None:
            kwargs["sock"] = self.dial()
        return kwargs

    def connected(self) -> None:
        self._connected_at = time.monotonic()
        self._frames = 0
        log.info("stream connected endpoint=%s", self.endpoint)

    def frame(self) -> None:
        """A frame arrived: the connection works."""
        self._frames += 1

    def disconnected(self, exc: BaseException) -> None:
        lived = time.monotonic() - self._connected_at if self._connected_at is not None else 0.0
        if self._frames or lived >= self.tuning.stall_after:
            self.failures = 0
        self.failures += 1
        what = "disconnected" if self._connected_at is not None else "connect failed"
        log.warning("stream %s endpoint=%s reason=%s", what, self.endpoint, describe(exc))
        self._connected_at = None
        self._frames = 0


def describe(exc: BaseException) -> str:
    """An exception as one short, safe line: its type and message."""
    text = " ".join(str(exc).split())[:200]
    return log_safe(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


class ManagedClient(WebsocketClientBase):  # type: ignore[misc]  # the SDK has no types
    """Mixin for an SDK websocket client: its loop's decisions go to ``connection``."""

    connection: Connection

    def _get_reconnection_delay(self) -> float:
        return 0.0  # waited in _before_connect instead, where stop can cut it short

    def _before_connect(self) -> None:
        self.connection.before_connect()
        super()._before_connect()

    def _get_connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super()._get_connect_kwargs()
        kwargs.update(self.connection.connect_kwargs())
        return kwargs

    def _get_client(self) -> Any:
        client = super()._get_client()
        self.connection.connected()
        return client

    def _handle_websocket_error_or_stop(self, exception: Exception) -> bool:
        if isinstance(exception, Stopped) or self.connection.closing.is_set():
            return True
        if isinstance(exception, FeedbotError):
            raise exception  # ours, already a definite answer (a refusal, an old cursor)
        self.connection.disconnected(exception)
        if isinstance(exception, ConnectionClosedOK):
            return False  # the server closed normally (a restart): come back
        return bool(super()._handle_websocket_error_or_stop(exception))

    def _handle_frame_decoding_error(self, exception: Exception) -> None:
        if isinstance(exception, Undecodable):
            log.warning("dropped frame endpoint=%s reason=%s", self.connection.endpoint, exception)
            return
        raise exception


class FrameReader:
    """What both transports do with a decoded frame first (on the SDK's thread): count
    it, end the stream on a cursor notice, check its seq and skip one seen already."""

    def __init__(
        self,
        endpoint: str,
        subscription: Subscription,
        client: ManagedClient,
        pump: Pump,
        cursor: int | None,
        cursor_refusals: frozenset[str],
    ) -> None:
        self.endpoint = endpoint
        self.subscription = subscription
        self.client = client
        self.pump = pump
        self.last_seq = cursor or 0
        self.cursor_refusals = cursor_refusals

    def on_message(self, frame: Any) -> None:
        """One decoded frame: the transport's own."""
        raise NotImplementedError

    def fresh_seq(self, kind: object, body: dict[str, Any], *, info: bool) -> int | None:
        """The frame's seq if it is new and well-formed; None to skip the frame."""
        self.client.connection.frame()
        if info:  # a notice: no seq, no events
            name = body.get("name")
            if isinstance(name, str) and name in self.cursor_refusals:
                message = str(body.get("message") or "")
                self.pump.fail(refusal(self.endpoint, name, message, self.cursor_refusals))
                self.client.stop()
            return None
        try:
            seq = checked_seq(body.get("seq"))
        except RecordError as exc:
            self.drop(f"{log_safe(str(kind)[:80])}: {exc}")
            return None
        if seq <= self.last_seq:
            return None  # seen already (a replay after reconnecting)
        self.last_seq = seq
        return seq

    def on_callback_error(self, exc: BaseException) -> None:
        # a bug of ours on one frame: said once, without a traceback; the stream goes on
        log.error("stream frame failed endpoint=%s error=%s", self.endpoint, describe(exc))

    def drop(self, reason: str) -> None:
        log.warning("dropped event endpoint=%s reason=%s", self.endpoint, reason)


@dataclass(frozen=True)
class _Frame:
    seq: int
    events: tuple[RecordEvent, ...]
    size: int  # the frame's bytes when it carries events, else 0


@dataclass(frozen=True)
class _Ended:
    error: BaseException | None


class Pump:
    """Frames from the SDK client's thread → batches delivered on the caller's thread."""

    def __init__(self, endpoint: str, tuning: Tuning) -> None:
        self.endpoint = endpoint
        self.tuning = tuning
        #: set once ``run`` is ending: the reading thread and its waits give up
        self.closing = threading.Event()
        self._queue: queue.Queue[_Frame | _Ended] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._queued_bytes = 0
        self._room = threading.Condition()

    # --- the reading thread ------------------------------------------------------------

    def put(self, seq: int, events: Iterable[RecordEvent], size: int = 0) -> None:
        """One frame read: its seq, the wanted events it carried (maybe none) and its
        size in bytes. Waits while the frames not yet delivered hold too many bytes."""
        kept = tuple(events)
        size = size if kept else 0
        with self._room:
            while (
                self._queued_bytes
                and self._queued_bytes + size > self.tuning.max_queued_bytes
                and not self.closing.is_set()
            ):
                self._room.wait(POLL_SECONDS)
            self._queued_bytes += size
        self._put(_Frame(seq, kept, size))

    def fail(self, error: BaseException) -> None:
        """End the stream with ``error`` once the frames before it are delivered."""
        self._put(_Ended(error))

    def _put(self, item: _Frame | _Ended) -> None:
        while not self.closing.is_set():
            try:
                self._queue.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue

    # --- the caller's thread -----------------------------------------------------------

    def run(
        self,
        reader: FrameReader,
        deliver: Deliver,
        stop: threading.Event,
        translate: Callable[[BaseException], FeedbotError],
    ) -> None:
        """Read with ``reader``'s SDK client on a thread, deliver here until ``stop`` or
        an error."""
        client = reader.client

        def read() -> None:
            try:
                client.start(reader.on_message, reader.on_callback_error)
            except BaseException as exc:  # handed to the caller's thread, raised there
                self._put(_Ended(exc))
            else:
                self._put(_Ended(None))

        thread = threading.Thread(target=read, name=f"stream {self.endpoint}", daemon=True)
        thread.start()
        try:
            self._deliver(deliver, stop, translate)
        finally:
            self.closing.set()
            client.stop()
            thread.join(timeout=JOIN_SECONDS)

    def _deliver(
        self,
        deliver: Deliver,
        stop: threading.Event,
        translate: Callable[[BaseException], FeedbotError],
    ) -> None:
        last_delivery = time.monotonic()
        unsaved: int | None = None  # a cursor past the last delivered batch
        while not stop.is_set():
            events, cursor, ended = self.gather()
            if cursor is not None:
                unsaved = cursor
            now = time.monotonic()
            due = now - last_delivery >= self.tuning.cursor_every
            if unsaved is not None and (events or due or ended):
                deliver(Batch(tuple(events), unsaved))
                last_delivery, unsaved = now, None
            if ended is not None:
                if ended.error is None:
                    raise StreamError(f"{self.endpoint}: the stream ended")
                error = translate(ended.error)
                if error is ended.error:
                    raise error
                raise error from ended.error

    def gather(self) -> tuple[list[RecordEvent], int | None, _Ended | None]:
        """The frames of one batch: what arrives within ``batch_window`` of the first;
        (events, the last frame's seq, the end of the stream if it came)."""
        events: list[RecordEvent] = []
        cursor: int | None = None
        try:
            item = self._queue.get(timeout=POLL_SECONDS)
        except queue.Empty:
            return events, cursor, None
        deadline = time.monotonic() + self.tuning.batch_window
        while True:
            if isinstance(item, _Ended):
                return events, cursor, item
            events.extend(item.events)
            cursor = item.seq
            if item.size:
                with self._room:
                    self._queued_bytes -= item.size
                    self._room.notify_all()
            remaining = deadline - time.monotonic()
            if len(events) >= self.tuning.max_batch:
                return events, cursor, None
            try:  # past the window, only what is queued already
                item = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                return events, cursor, None


def translated(endpoint: str, exc: BaseException) -> FeedbotError:
    """A failure that ended the SDK's loop, as ours: kept if it is ours already."""
    if isinstance(exc, FeedbotError):
        return exc
    return StreamError(f"{endpoint}: {describe(exc)}")
