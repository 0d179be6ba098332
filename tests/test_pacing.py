"""Write pacing stays under Bluesky's points budget; backoff is bounded and jittered."""

from __future__ import annotations

import contextlib
import sys
import threading

import pytest

from bot.errors import TransientError
from bot.publish.pacing import Backoff, WriteBudget


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(t: FakeTime, **kw: int) -> WriteBudget:
    values = {"per_hour": 3600, "burst": 30, "per_day": 30_000, **kw}
    return WriteBudget(clock=t.clock, sleep=t.sleep, **values)


def test_a_burst_goes_through_without_sleeping() -> None:
    t = FakeTime()
    b = budget(t)
    for _ in range(10):
        b.spend(3)
    assert t.slept == []


def test_past_the_burst_writes_are_paced_at_the_hourly_rate() -> None:
    t = FakeTime()
    b = budget(t, per_hour=3600, burst=9)  # one point a second
    for _ in range(3):
        b.spend(3)
    b.spend(3)  # bucket empty: three points take three seconds
    assert t.slept == [pytest.approx(3.0)]


def test_any_hour_stays_within_burst_plus_rate() -> None:
    t = FakeTime()
    b = budget(t, per_hour=900, burst=90)
    spent, start = 0, t.now
    while t.now - start < 3600:
        b.spend(9)
        spent += 9
    assert spent <= 900 + 90 + 9


def test_daily_cap_refuses_long_waits_with_a_retry_time() -> None:
    t = FakeTime()
    b = budget(t, per_hour=5000, burst=5000, per_day=30)
    for _ in range(10):
        b.spend(3)
    with pytest.raises(TransientError) as info:
        b.spend(3)
    assert info.value.retry_at == pytest.approx(1_000_000.0 + 86_400)
    t.now += 86_400
    b.spend(3)  # the window moved on


def test_backoff_grows_and_is_capped_and_jittered() -> None:
    policy = Backoff(attempts=5, base=0.5, cap=4.0)
    assert [policy.delay(n, lambda: 1.0) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.delay(3, lambda: 0.25) == 1.0


def test_impossible_spend_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        budget(FakeTime(), burst=3).spend(6)


def test_a_restart_replays_recent_writes_instead_of_refilling_the_bucket() -> None:
    t = FakeTime()
    b = budget(t, per_hour=3600, burst=9)  # one point a second
    b.replay([(t.now - 1, 9)])  # a full burst written a second ago, before the restart
    b.spend(3)
    assert t.slept == [pytest.approx(2.0)]  # one second has refilled one point


def test_replayed_writes_count_against_the_day_and_old_ones_do_not() -> None:
    t = FakeTime()
    b = budget(t, per_hour=36_000, burst=30, per_day=30)
    b.replay([(t.now - 2 * 86_400, 30), (t.now - 3600, 30)])
    with pytest.raises(TransientError) as info:
        b.spend(3)
    assert info.value.retry_at == pytest.approx(t.now - 3600 + 86_400)


def _race(spenders: int) -> int:
    """How many of ``spenders`` threads, released at once, get the 3 points a budget holds."""
    b = WriteBudget(per_hour=3600, burst=3, per_day=30_000, clock=lambda: 1000.0, max_wait=0)
    gate = threading.Barrier(spenders)
    wins: list[int] = []

    def spend() -> None:
        gate.wait()
        with contextlib.suppress(TransientError):
            b.spend(3)
            wins.append(1)

    workers = [threading.Thread(target=spend) for _ in range(spenders)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(wins)


def test_threads_sharing_a_budget_never_spend_more_than_it_holds() -> None:
    """The daemon's workers share an account's budget: two spends must not both see the
    same points. Threads switch every microsecond here so an unguarded race shows."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        wins = [_race(4) for _ in range(1000)]
    finally:
        sys.setswitchinterval(interval)
    assert max(wins) == 1
