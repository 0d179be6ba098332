"""Event streams: a repo's commits as they happen, instead of polling ``listRecords``.

Two transports deliver the same thing, ``RecordEvent``s in ``Batch``es:

- ``jetstream``: Bluesky's Jetstream v2 (``network.bsky.jetstream.subscribeEvents``),
  filtered by the server (collections, DIDs), JSON records;
- ``firehose``: ``com.atproto.sync.subscribeRepos`` on a PDS or relay, filtered here,
  CAR blocks decoded to the same JSON shape ``listRecords`` gives.

Everything a stream delivers is untrusted: the transports validate each event once,
where it enters (``bot.untrusted`` bounds), and drop malformed ones with a logged reason.

A ``Stream`` owns its connection: it reconnects with backoff and jitter, reconnects a
stalled connection, and resumes from the last delivered event by itself. The caller
saves ``Batch.cursor`` together with what the batch produced (one transaction) and
passes it back to ``run`` after a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class Op(StrEnum):
    """What a commit did to one record."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class RecordEvent:
    """One record operation seen on a stream."""

    seq: int  # the stream's position of this event (its cursor)
    did: str
    collection: str
    rkey: str
    op: Op
    cid: str | None  # None for deletes
    record: dict[str, Any] | None  # the record as listRecords would give it; None for deletes

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"


@dataclass(frozen=True)
class Batch:
    """Events in stream order, and the cursor to save once they are applied."""

    events: tuple[RecordEvent, ...]
    cursor: int


@dataclass(frozen=True)
class Subscription:
    """What a stream is asked for: the union of its feeds' wishes."""

    collections: frozenset[str]
    dids: frozenset[str] | None  # None: every repo (a network-wide source)


Deliver = Callable[[Batch], None]


class Stream(Protocol):
    """One connection to one endpoint, shared by every feed that follows through it."""

    #: the endpoint's key in the state file and in logs ("jetstream wss://…", "firehose https://…")
    endpoint: str

    def run(self, cursor: int | None, deliver: Deliver, stop: threading.Event) -> None:
        """Deliver batches until ``stop`` is set, reconnecting as needed.

        ``cursor`` None starts at the live tip. Raises ``CursorTooOld`` when the stream
        can't resume from ``cursor`` (the caller catches up with ``listRecords`` and
        starts again from the live tip); an exception from ``deliver`` ends ``run`` too.
        """
        ...
