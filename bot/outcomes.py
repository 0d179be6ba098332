"""What happened, as types: the statuses the state file stores, and what a claim and a
publish return, so no caller ever parses a string back.

The enums' values are the words stored in SQLite (and shown by ``status``); renaming a
value needs a migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.model import StrongRef


class ItemStatus(StrEnum):
    """Where an item is on its way to an account."""

    NEW = "new"  # waiting to be posted
    SKIPPED = "skipped"  # never to be posted (backfill, too old, a duplicate URL)
    PLANNED = "planned"  # a plan is saved; the write may or may not have happened
    POSTED = "posted"
    FAILED = "failed"  # the last attempt failed; ``ErrorKind`` says whether it is retried
    #: its document was deleted at the source and its threads are to be deleted
    #: (``deletions: delete``); retried like posting until they are gone
    DELETING = "deleting"
    #: its document was deleted at the source; never posted again. Its threads are gone,
    #: or were left alone (``deletions: ignore``)
    DELETED = "deleted"

    @classmethod
    def gone(cls) -> tuple[ItemStatus, ...]:
        """Deleted at the source: no way back to posting, whatever replays."""
        return (cls.DELETING, cls.DELETED)


class ThreadStatus(StrEnum):
    """One attempt to put an item on an account."""

    CLAIMED = "claimed"  # taken, no plan yet
    PLANNED = "planned"  # the plan is saved before anything is written
    POSTED = "posted"
    FAILED = "failed"
    #: a thread whose records were deleted from the account; a ``deletion``: its
    #: deletes are written
    DELETED = "deleted"

    @classmethod
    def in_flight(cls) -> tuple[ThreadStatus, ...]:
        """Statuses of a thread somebody is (or was, before a crash) working on."""
        return (cls.CLAIMED, cls.PLANNED)


class ThreadKind(StrEnum):
    POST = "post"  # the item's thread, at most once per account and URL
    REPOST = "repost"  # a fresh thread asked for by hand
    BOOST = "boost"  # a native repost of an earlier thread's first post
    DELETION = "deletion"  # deletes of an item's earlier threads, planned like a thread


class ErrorKind(StrEnum):
    TRANSIENT = "transient"  # retried on later passes, up to a bound
    REJECTED = "rejected"  # not retried until someone reposts by hand


# --- claiming an item ----------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """The item is ours to post; ``thread_id`` names the attempt in the state file."""

    thread_id: int


@dataclass(frozen=True)
class Refused:
    """The item can't be taken now, and why (one line for logs and the CLI)."""

    reason: str


Claim = Claimed | Refused


# --- publishing an item --------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """Written: where each record of the thread (or the one repost) ended up."""

    refs: tuple[StrongRef, ...]


@dataclass(frozen=True)
class Shown:
    """A dry run: the thread was shown, nothing was recorded."""


@dataclass(frozen=True)
class Skipped:
    """Not attempted, and why: the claim was refused or the account is paused."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """Attempted and failed; ``transient`` failures are retried on later passes."""

    error: str
    transient: bool


Outcome = Posted | Shown | Skipped | Failed


# --- deleting an item's threads ------------------------------------------------------


@dataclass(frozen=True)
class Deleted:
    """The item's threads are gone from the account; ``records`` were deleted now (fewer
    than planned when an earlier try, or a person, had deleted some already)."""

    records: int


DeleteOutcome = Deleted | Shown | Skipped | Failed
