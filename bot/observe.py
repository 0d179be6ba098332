"""What the pipeline reports as it works, for whoever watches (metrics, nobody).

The pipeline calls an ``Observer`` at its outcomes with plain values, enums and the
``bot.outcomes`` types, so a watcher never parses log lines or report strings.
``NO_OBSERVER`` does nothing.
"""

from __future__ import annotations

import enum
from typing import Protocol

from bot.outcomes import Outcome


class PollResult(enum.StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"
    GONE = "gone"


class Observer(Protocol):
    def polled(self, feed: str, result: PollResult, seconds: float | None) -> None:
        """A poll ended; ``seconds`` is its duration when it was timed alone."""

    def items(self, feed: str, *, seen: int, new: int, skipped: int) -> None:
        """A poll brought ``seen`` entries, of which ``new`` are to post."""

    def published(self, feed: str, account: str, outcome: Outcome, *, seconds: float) -> None:
        """One item's publish attempt ended (never called for a dry run)."""

    def paused(self, account: str, until: float) -> None:
        """An account is rate limited until ``until`` (epoch seconds)."""

    def login(self, account: str, *, ok: bool) -> None:
        """A password login was attempted (session reuse and refresh are not logins)."""


class _Nobody:
    def polled(self, feed: str, result: PollResult, seconds: float | None) -> None:
        pass

    def items(self, feed: str, *, seen: int, new: int, skipped: int) -> None:
        pass

    def published(self, feed: str, account: str, outcome: Outcome, *, seconds: float) -> None:
        pass

    def paused(self, account: str, until: float) -> None:
        pass

    def login(self, account: str, *, ok: bool) -> None:
        pass


NO_OBSERVER: Observer = _Nobody()
