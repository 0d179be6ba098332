"""Following event streams in the daemon: one stream per endpoint, shared by its feeds.

``plan_streams`` groups the feeds that say ``follow: jetstream | firehose`` by endpoint
and asks each endpoint for the union of their collections and repos. A ``StreamRunner``
(a thread) keeps one ``Stream`` running: it starts from the saved cursor less a safety
window (events are deduplicated, so seeing a few twice is harmless), applies every
batch through the pipeline (items and cursor in one transaction), and when the stream
can't resume from the cursor it asks the daemon to catch up by listing, then starts
again at the live tip. Nothing it meets ends the thread but ``stop``; each failure is
one log line.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.clock import Clock, utcnow
from bot.config import AtprotoSourceSettings, Config
from bot.configfile import format_duration
from bot.errors import CursorTooOld, FeedbotError, SourceError, StreamError
from bot.sources import Source, StreamedSource
from bot.state import State
from bot.streams import Batch, Stream, Subscription

log = logging.getLogger(__name__)

#: how far back a restart resumes: Jetstream cursors are microseconds, firehose ones
#: sequence numbers; what was applied twice is deduplicated by the items table
JETSTREAM_WINDOW_US = 5_000_000
FIREHOSE_WINDOW_SEQ = 100
#: waits after a stream failed for good (bad endpoint, refused), doubling up to the cap
RETRY_FIRST = 5.0
RETRY_CAP = 600.0


class StreamKind(StrEnum):
    JETSTREAM = "jetstream"
    FIREHOSE = "firehose"


@dataclass(frozen=True)
class StreamSpec:
    """One endpoint to follow and what to ask it for."""

    kind: StreamKind
    url: str
    subscription: Subscription
    #: may reach loopback and private addresses: the config named the endpoint, or the
    #: owner allowed it (an endpoint from a DID document is content)
    allow_private: bool = False

    @property
    def endpoint(self) -> str:
        """The endpoint's key in the state file, in logs and in ``status``."""
        return f"{self.kind} {self.url}"


StreamFactory = Callable[[StreamSpec], Stream]


@dataclass
class StreamPlan:
    """The streams a configuration asks for, the feeds of each, and why a feed has none."""

    specs: dict[str, StreamSpec] = field(default_factory=dict)
    feeds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: feeds left out because their repo could not be resolved now
    unresolved: set[str] = field(default_factory=set)


def plan_streams(config: Config, sources: Mapping[str, Source]) -> StreamPlan:
    """Group the enabled stream-following feeds by endpoint. A firehose without
    ``service`` follows the repo's own PDS, which takes resolving its DID: a feed whose
    repo can't be resolved now is left out with a reason (it is polled meanwhile)."""
    plan = StreamPlan()
    wanted: dict[str, list[tuple[str, Subscription, bool]]] = {}
    kinds: dict[str, tuple[StreamKind, str]] = {}
    for feed in config.feeds:
        settings = feed.source
        if not feed.enabled or not isinstance(settings, AtprotoSourceSettings):
            continue
        if settings.follow == "poll":
            continue
        source = sources.get(feed.name)
        if not isinstance(source, StreamedSource):
            continue
        try:
            kind, url, content = _where(settings, source)
            subscription = source.subscription()
        except SourceError as exc:
            plan.problems.append(f"{feed.name}: no stream yet: {exc}")
            plan.unresolved.add(feed.name)
            continue
        key = f"{kind} {url}"
        kinds[key] = (kind, url)
        # an endpoint the config names is trusted; one from a DID document is content
        trusted = not content or settings.allow_private_addresses
        wanted.setdefault(key, []).append((feed.name, subscription, trusted))
    for key, members in wanted.items():
        kind, url = kinds[key]
        dids: frozenset[str] | None = frozenset()
        for _, sub, _ in members:
            dids = None if dids is None or sub.dids is None else dids | sub.dids
        collections = frozenset().union(*(sub.collections for _, sub, _ in members))
        allow = any(trusted for _, _, trusted in members)
        plan.specs[key] = StreamSpec(kind, url, Subscription(collections, dids), allow)
        plan.feeds[key] = tuple(name for name, _, _ in members)
    return plan


def _where(settings: AtprotoSourceSettings, source: StreamedSource) -> tuple[StreamKind, str, bool]:
    """``(kind, url, from content)``: a repo's own PDS comes from its DID document."""
    if settings.follow == "jetstream":
        return StreamKind.JETSTREAM, settings.jetstream, False
    if settings.service is not None:
        return StreamKind.FIREHOSE, settings.service, False
    return StreamKind.FIREHOSE, source.home_pds(), True


def resume_cursor(kind: StreamKind, saved: int | None) -> int | None:
    """Where a restart resumes: the saved cursor less the safety window."""
    if saved is None:
        return None
    window = JETSTREAM_WINDOW_US if kind == StreamKind.JETSTREAM else FIREHOSE_WINDOW_SEQ
    return max(0, saved - window)


class Phase(StrEnum):
    CONNECTING = "connecting"  # started, no batch yet
    LIVE = "live"  # batches arrive
    WAITING = "waiting"  # failed; trying again after a pause


@dataclass(frozen=True)
class StreamStatus:
    endpoint: str
    phase: Phase
    feeds: tuple[str, ...]
    cursor: int | None
    last_event_at: datetime | None
    error: str | None

    def line(self, now: datetime) -> str:
        text = f"{self.endpoint}: {self.phase}"
        if self.last_event_at is not None:
            text += f", last batch {format_duration(now - self.last_event_at)} ago"
        if self.cursor is not None:
            text += f", cursor {self.cursor}"
        if self.error:
            text += f" ({self.error})"
        return text


class StreamRunner:
    """A thread running one ``Stream`` until stopped.

    ``apply`` applies a batch for the endpoint's feeds (the daemon's current pipeline);
    ``catch_up`` asks the daemon to list the feeds' repos now (the cursor was too old).
    """

    def __init__(
        self,
        spec: StreamSpec,
        feeds: Sequence[str],
        stream: Stream,
        state: State,
        *,
        apply: Callable[[str, Batch], None],
        catch_up: Callable[[Sequence[str]], None],
        clock: Clock = utcnow,
    ) -> None:
        self.spec = spec
        self.feeds = tuple(feeds)
        self.stream = stream
        self.state = state
        self.apply = apply
        self.catch_up = catch_up
        self.clock = clock
        self.stop = threading.Event()
        self.phase = Phase.CONNECTING
        self.cursor: int | None = None
        self.last_event_at: datetime | None = None
        self.error: str | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"stream {spec.endpoint}", daemon=True
        )

    @property
    def endpoint(self) -> str:
        return self.spec.endpoint

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        self.stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def status(self) -> StreamStatus:
        return StreamStatus(
            self.endpoint, self.phase, self.feeds, self.cursor, self.last_event_at, self.error
        )

    def _deliver(self, batch: Batch) -> None:
        self.phase, self.error = Phase.LIVE, None  # batches arrive: connected
        self.apply(self.endpoint, batch)
        self.cursor = batch.cursor
        self.last_event_at = self.clock()

    def _run(self) -> None:
        wait = RETRY_FIRST
        while not self.stop.is_set():
            saved = self.state.stream_cursor(self.endpoint)
            start = resume_cursor(self.spec.kind, saved)
            self.cursor = saved
            self.phase = Phase.CONNECTING
            log.info("stream starting endpoint=%s cursor=%s", self.endpoint, start)
            try:
                self.stream.run(start, self._deliver, self.stop)
                wait = RETRY_FIRST
                self.stop.wait(1.0)  # returned without a stop: the stream ended; again
                continue
            except CursorTooOld as exc:
                log.warning(
                    "stream cursor too old endpoint=%s: catching up by listing (%s)",
                    self.endpoint,
                    exc,
                )
                self.state.forget_stream(self.endpoint)
                self.catch_up(self.feeds)
                continue
            except StreamError as exc:
                self.error = str(exc)
            except FeedbotError as exc:  # applying a batch failed (the state file)
                self.error = str(exc)
            except Exception as exc:  # the daemon must outlive a transport's bug
                self.error = f"{type(exc).__name__}: {exc}"
                log.debug("stream crashed endpoint=%s", self.endpoint, exc_info=True)
            self.phase = Phase.WAITING
            pause = wait * random.uniform(0.8, 1.2)
            log.error(
                "stream failed endpoint=%s error=%s (again in %.0fs)",
                self.endpoint,
                self.error,
                pause,
            )
            self.stop.wait(pause)
            wait = min(wait * 2, RETRY_CAP)
