"""One exception hierarchy for everything feedbot raises on purpose.

    FeedbotError
    ├── ConfigError          the YAML is wrong; the message names file, line and key
    ├── SourceError          a feed could not be read at all (other feeds carry on)
    │   ├── FeedGone         the feed is gone for good (HTTP 410); it gets disabled
    │   ├── FeedThrottled    the server said "not now" (429, 503); wait until next_poll
    │   ├── IdentityNotFound the handle or DID does not resolve (a definite answer)
    │   └── StreamError      an event stream failed for good (bad endpoint, refused)
    │       └── CursorTooOld the stream can't resume from the saved cursor; catch up
    ├── RecordError          one record or entry is malformed; it is skipped, the feed
    │   │                    carries on (never escapes a source's ``poll``)
    │   └── NotPublic        a well-formed draft: skipped quietly
    ├── StateError           the state file is unusable
    │   ├── UnknownItem      no item in the state file matches what was asked for
    │   └── DaemonRunning    another daemon holds the state file's lock
    ├── SummarizeError       a summarizer backend failed (the pipeline falls back)
    ├── PublishError         a thread could not be written
    │   ├── TransientError   worth retrying later: timeouts, 5xx, 429, an empty budget
    │   │   └── LoginUnavailable  the account can't log in now; no item's fault
    │   ├── RejectedError    the server refused the records (4xx); not retried blindly
    │   └── InvalidThread    our own checks refused the records before sending; not retried
    ├── RepostError          a manual ``repost`` could not be done
    │   ├── RepostRefused    not now: the item is in flight, the account rate limited,
    │   │                    or there is no earlier thread to boost
    │   └── RepostFailed     the write was tried and failed (the reason is in ``status``)
    └── DeleteError          a manual ``delete`` of an item's threads could not be done
        ├── DeleteRefused    nothing to delete, or not now (in flight, rate limited)
        └── DeleteFailed     the deletes were tried and failed (the reason is in ``status``)

Foreign errors (httpx, atproto, sqlite) are translated at the edge with
``raise ... from exc`` so the core only ever sees these.
"""

from __future__ import annotations

from datetime import datetime


class FeedbotError(Exception):
    """Base of every error feedbot raises on purpose."""


class ConfigError(FeedbotError):
    """The configuration is invalid. ``str()`` is the one-line message for the user."""


class SourceError(FeedbotError):
    """A whole feed failed to poll."""


class FeedGone(SourceError):
    """The feed says it is gone for good (HTTP 410)."""


class FeedThrottled(SourceError):
    """The server said "not now" (429 or 503); ``next_poll`` is when it allows a retry."""

    def __init__(self, message: str, *, next_poll: datetime | None) -> None:
        super().__init__(message)
        self.next_poll = next_poll


class IdentityNotFound(SourceError):
    """The handle or DID does not resolve: a definite answer, not a network failure."""


class StreamError(SourceError):
    """An event stream can't go on: the endpoint refused us, or can't be reached."""


class CursorTooOld(StreamError):
    """The stream no longer holds events from the saved cursor: catch up by listing."""


class RecordError(FeedbotError):
    """One record or entry is malformed: the source skips it and reports why."""


class NotPublic(RecordError):
    """A well-formed record its author did not make public (a draft): skipped quietly."""


class StateError(FeedbotError):
    """The state file is unusable."""


class UnknownItem(StateError):
    """No stored item matches the id or URL asked for (or several feeds hold it)."""


class DaemonRunning(StateError):
    """A second daemon on one state file; ``pid`` is the running one's, when known."""

    def __init__(self, message: str, *, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid


class SummarizeError(FeedbotError):
    """A summarizer backend failed or gave unusable output."""


class PublishError(FeedbotError):
    """A thread could not be written."""


class TransientError(PublishError):
    """A failure worth retrying later (timeouts, connection errors, 5xx, 429).

    ``retry_at`` is an epoch timestamp before which retrying is pointless, when known.
    """

    def __init__(self, message: str, *, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class LoginUnavailable(TransientError):
    """The account can't log in now (backoff after failed logins, a refused password,
    the PDS down). The items are not at fault, so it never uses up their tries."""


class RejectedError(PublishError):
    """The server refused the request as invalid (4xx other than 429), or answered
    something that cannot be used."""


class InvalidThread(PublishError):
    """The publisher's own checks refused the records (lexicon limits, an empty thread)
    before anything was sent; retrying would fail the same way."""


class RepostError(FeedbotError):
    """A manual repost or boost could not be done."""


class RepostRefused(RepostError):
    """Not now: the item is in flight elsewhere, the account is rate limited, or there is
    nothing to boost."""


class RepostFailed(RepostError):
    """The repost was attempted and its write failed."""


class DeleteError(FeedbotError):
    """A manual delete of an item's threads could not be done."""


class DeleteRefused(DeleteError):
    """Nothing of the item is on an account, or not now: in flight, rate limited."""


class DeleteFailed(DeleteError):
    """The deletes were attempted and failed."""
