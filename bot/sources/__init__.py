"""Sources read publication items from the outside world and return ``Article``.

Each kind of source lives in its own module and implements ``Source``. A source never
touches the state file: it gets its last ``cursor`` and returns a new one in ``Poll``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.model import Article, Poll
from bot.streams import RecordEvent, Subscription


class Source(Protocol):
    def poll(self, cursor: dict[str, Any]) -> Poll:
        """Read what is new since ``cursor``.

        Raises ``SourceError`` when the whole feed fails; a single bad entry is
        skipped and reported in ``Poll.problems`` instead.
        """
        ...


@dataclass(frozen=True)
class EventRead:
    """What a batch of stream events meant for one feed.

    ``updated`` holds the ids of ``articles`` that came from an update (not a create):
    an update of a document never seen before is not news. ``deleted`` are the ids of
    deleted items; ``problems`` one-line reasons for records that were skipped.
    """

    articles: tuple[Article, ...] = ()
    updated: frozenset[str] = frozenset()
    deleted: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


@runtime_checkable
class StreamedSource(Source, Protocol):
    """A source that can also follow an event stream (``follow: jetstream | firehose``)."""

    def subscription(self) -> Subscription:
        """What this feed wants from its stream: collections and repos (None: all)."""
        ...

    def home_pds(self) -> str:
        """The followed repo's own PDS (a firehose's default endpoint); ``SourceError``
        when it can't be resolved now."""
        ...

    def read_events(self, events: Sequence[RecordEvent]) -> EventRead:
        """The feed's own events of a batch as articles and deletions; the others are
        ignored. Raises ``SourceError`` only when the feed's own repo can't be resolved."""
        ...
