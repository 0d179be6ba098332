"""Pacing writes below Bluesky's budget, and backing off between retries. Pure: time and
sleep are injected, so tests run instantly and the daemon's behaviour is predictable.

Bluesky counts writes in points (a create costs 3, a delete 1): 5000 an hour and 35000 a
day per account. ``WriteBudget`` is a token bucket for the hourly pace (at most ``burst`` points
at once, refilling at ``per_hour``) plus an exact 24-hour sliding window for the daily
cap. A restarted daemon ``replay``s the last day's writes from the state file, so a
restart neither refills the bucket nor forgets the daily count; the bucket's worst hour
(``burst + per_hour``) is still kept under 5000 by the config.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.errors import TransientError

CREATE_POINTS = 3
DELETE_POINTS = 1
DAY = 86_400.0


def points(creates: int, deletes: int = 0) -> int:
    """What records created and deleted cost on Bluesky's hosted PDS (its documented
    rate limits: a create 3 points, a delete 1)."""
    return CREATE_POINTS * creates + DELETE_POINTS * deletes


class WriteBudget:
    """Spend points before each write; sleeps briefly when short, refuses long waits.

    A wait longer than ``max_wait`` seconds raises ``TransientError`` with ``retry_at``
    instead of blocking the daemon for hours (the pipeline pauses the account).

    Feeds on one account share its budget from the daemon's worker threads: a lock makes
    each spend (its short sleep included, so writers queue) one step.
    """

    def __init__(
        self,
        *,
        per_hour: int,
        burst: int,
        per_day: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
    ) -> None:
        if min(per_hour, burst, per_day) <= 0:
            raise ValueError("budgets must be positive")
        self.rate = per_hour / 3600.0
        self.burst = float(burst)
        self.per_day = per_day
        self._clock = clock
        self._sleep = sleep
        self.max_wait = max_wait
        self._tokens = float(burst)
        self._updated = clock()
        self._day: deque[tuple[float, int]] = deque()
        self._day_used = 0
        self._lock = threading.Lock()

    def points_left(self) -> tuple[float, int]:
        """``(points in the bucket now, points left in the last 24 hours)``, without
        spending: for metrics and ``status``."""
        now = self._clock()
        bucket = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        window = list(self._day)  # one C-level copy: safe beside a writing thread
        return bucket, self.per_day - sum(p for when, p in window if when > now - DAY)

    def replay(self, history: Iterable[tuple[float, int]]) -> None:
        """Count earlier writes ``(epoch seconds, points)``, oldest first, as if spent then."""
        with self._lock:
            self._replay(history)

    def _replay(self, history: Iterable[tuple[float, int]]) -> None:
        for when, points in sorted(history):
            if when <= self._clock() - DAY:
                continue
            if not self._day:
                self._tokens, self._updated = self.burst, when
            self._tokens = min(self.burst, self._tokens + (when - self._updated) * self.rate)
            self._tokens -= points
            self._updated = max(self._updated, when)
            self._day.append((when, points))
            self._day_used += points

    def spend(self, points: int) -> None:
        if points > self.burst or points > self.per_day:
            raise ValueError(f"{points} points can never fit a budget of {self.burst:.0f}")
        with self._lock:
            self._spend(points)

    def _spend(self, points: int) -> None:
        for _ in range(3):  # a sleep of the computed length always suffices; bounded anyway
            now = self._clock()
            wait = self._wait(points, now)
            if wait <= 0:
                self._tokens -= points
                self._day.append((now, points))
                self._day_used += points
                return
            if wait > self.max_wait:
                raise TransientError(
                    f"write budget spent: next {points} points in {wait:.0f}s",
                    retry_at=now + wait,
                )
            self._sleep(wait)
        raise TransientError("write budget: clock did not advance", retry_at=self._clock() + 60)

    def _wait(self, points: int, now: float) -> float:
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        while self._day and self._day[0][0] <= now - DAY:
            self._day_used -= self._day.popleft()[1]
        bucket_wait = max(0.0, (points - self._tokens) / self.rate)
        day_wait = 0.0
        if self._day_used + points > self.per_day:
            # the oldest writes must leave the window until enough points are free
            excess = self._day_used + points - self.per_day
            for when, spent in self._day:
                excess -= spent
                if excess <= 0:
                    day_wait = when + DAY - now
                    break
        return max(bucket_wait, day_wait)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits up to ``base * 2**n``, capped."""

    attempts: int = 4  # tries in all, the first included
    base: float = 0.5
    cap: float = 8.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based)."""
        return rng() * min(self.cap, self.base * 2.0**attempt)
