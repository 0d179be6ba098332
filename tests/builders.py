"""Small builders for domain data in tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.model import Article
from bot.streams.reconnect import Backoff, Tuning

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def article(n: int = 1, *, feed: str = "f", days_ago: int | None = None, **kw: Any) -> Article:
    fields: dict[str, Any] = {
        "feed": feed,
        "id": f"item-{n}",
        "url": f"https://example.com/posts/{n}",
        "title": f"Title number {n}",
        "text": f"Article {n} has a first sentence. It has a second sentence too.",
        "published": T0 - timedelta(days=days_ago if days_ago is not None else n),
    }
    fields.update(kw)
    return Article(**fields)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for another thread's work: ``check`` true within ``seconds``, else fail."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        time.sleep(0.01)


#: stream tuning for tests: quick backoff, stall and cursor checks, bounded in time
FAST_STREAM = Tuning(stall_after=2.0, backoff=Backoff(base=0.05, cap=0.5), cursor_every=0.2)


def stream_doc(title: str, **extra: object) -> dict[str, object]:
    """A valid ``site.standard.document`` record for the stream tests."""
    return {
        "title": title,
        "site": "https://example.com",
        "publishedAt": "2026-11-30T12:00:00Z",
        **extra,
    }
