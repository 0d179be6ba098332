"""The clock, injected wherever a decision depends on the time (tests move it by hand)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Now, as an aware UTC datetime: feedbot never handles naive ones."""
    return datetime.now(UTC)
