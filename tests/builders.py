"""Small builders for domain data in tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.model import Article

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
