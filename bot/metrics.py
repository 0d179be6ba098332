"""Prometheus metrics: the pipeline's ``Observer`` turned into ``feedbot_*`` series.

Each daemon owns one ``Metrics`` and its own registry (no process-global state), so a
reload keeps every counter. Labels are feed and account names from the config, and
fixed result names: a bounded set, never an item id, never a secret.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot import __version__
from bot.observe import PollResult
from bot.outcomes import Failed, Outcome, Posted
from bot.publish.pacing import WriteBudget

#: seconds; polls are network-bound, posts may wait on pacing
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
POST_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _Budgets(Collector):
    """Write-budget points left per account, read from the live publishers at scrape."""

    def __init__(self, budgets: Callable[[], Mapping[str, WriteBudget]]) -> None:
        self.budgets = budgets

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "feedbot_write_budget_points",
            "Write points an account may spend now (window=hour: the bucket; day: 24 h)",
            labels=["account", "window"],
        )
        for account, budget in sorted(self.budgets().items()):
            bucket, day = budget.points_left()
            family.add_metric([account, "hour"], bucket)
            family.add_metric([account, "day"], day)
        yield family


class Metrics:
    """An ``Observer`` that counts; ``registry`` is what ``/metrics`` serves."""

    def __init__(self, budgets: Callable[[], Mapping[str, WriteBudget]] = dict) -> None:
        self.registry = registry = CollectorRegistry()
        self.polls = Counter(
            "feedbot_polls", "Polls by feed and result", ["feed", "result"], registry=registry
        )
        self.items_seen = Counter(
            "feedbot_items",
            "Items by feed and what became of them (seen, new, skipped, posted, failed)",
            ["feed", "stage"],
            registry=registry,
        )
        self.threads = Counter(
            "feedbot_threads_posted", "Threads written by account", ["account"], registry=registry
        )
        self.posts = Counter(
            "feedbot_posts_written",
            "Records (posts, reposts) written by account",
            ["account"],
            registry=registry,
        )
        self.pauses = Counter(
            "feedbot_rate_limit_pauses",
            "Times an account was paused by a rate limit or a spent budget",
            ["account"],
            registry=registry,
        )
        self.paused_until = Gauge(
            "feedbot_rate_limit_paused_until_seconds",
            "Epoch seconds until which the account is paused (0: never paused)",
            ["account"],
            registry=registry,
        )
        self.logins = Counter(
            "feedbot_logins", "Password logins attempted", ["account"], registry=registry
        )
        self.login_failures = Counter(
            "feedbot_login_failures", "Password logins that failed", ["account"], registry=registry
        )
        self.poll_seconds = Histogram(
            "feedbot_poll_duration_seconds",
            "How long a poll took (fetch and parse)",
            ["feed"],
            buckets=POLL_BUCKETS,
            registry=registry,
        )
        self.post_seconds = Histogram(
            "feedbot_post_duration_seconds",
            "How long publishing one item took (compose, plan, write)",
            ["account"],
            buckets=POST_BUCKETS,
            registry=registry,
        )
        self.last_ok = Gauge(
            "feedbot_last_successful_poll_timestamp_seconds",
            "When the feed was last polled without error (epoch seconds)",
            ["feed"],
            registry=registry,
        )
        Info("feedbot_build", "The running feedbot", registry=registry).info(
            {"version": __version__, "python": platform.python_version()}
        )
        registry.register(_Budgets(budgets))

    # --- the Observer protocol ---------------------------------------------------------

    def polled(self, feed: str, result: PollResult, seconds: float | None) -> None:
        self.polls.labels(feed, result.value).inc()
        if seconds is not None:
            self.poll_seconds.labels(feed).observe(seconds)
        if result in (PollResult.OK, PollResult.NOT_MODIFIED):
            self.last_ok.labels(feed).set_to_current_time()

    def items(self, feed: str, *, seen: int, new: int, skipped: int) -> None:
        self.items_seen.labels(feed, "seen").inc(seen)
        self.items_seen.labels(feed, "new").inc(new)
        self.items_seen.labels(feed, "skipped").inc(skipped)

    def published(self, feed: str, account: str, outcome: Outcome, *, seconds: float) -> None:
        if isinstance(outcome, Posted):
            self.items_seen.labels(feed, "posted").inc()
            self.threads.labels(account).inc()
            self.posts.labels(account).inc(len(outcome.refs))
            self.post_seconds.labels(account).observe(seconds)
        elif isinstance(outcome, Failed):
            self.items_seen.labels(feed, "failed").inc()
            self.post_seconds.labels(account).observe(seconds)

    def paused(self, account: str, until: float) -> None:
        self.pauses.labels(account).inc()
        self.paused_until.labels(account).set(until)

    def login(self, account: str, *, ok: bool) -> None:
        self.logins.labels(account).inc()
        if not ok:
            self.login_failures.labels(account).inc()
