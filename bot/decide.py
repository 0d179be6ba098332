"""Deciding what a poll means: pure, no I/O, the clock passed in.

Given what a source returned and what the state already knows, return one
``Decision`` per article. The pipeline applies them to the state; the state's
pending items are what gets published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.filters import ItemFilter
from bot.model import Article
from bot.outcomes import ItemStatus

Action = Literal[
    "publish", "seen", "too-old", "no-link", "filtered", "capped", "edited", "unchanged"
]


@dataclass(frozen=True)
class Policy:
    backfill: int
    max_age: timedelta | None
    edits: Literal["ignore", "repost"]
    #: the owner's filters; a filtered item is skipped and uses no backfill
    filter: ItemFilter = field(default_factory=ItemFilter)
    #: the feed's cap per rolling hour, and how many items it let through in the last hour
    max_per_hour: int | None = None
    admitted: int = 0


@dataclass(frozen=True)
class Decision:
    article: Article
    action: Action
    note: str | None = None


def dated(article: Article) -> datetime | None:
    """When an item appeared: its publication date, else its last update (some feeds
    only give ``updated``)."""
    return article.published or article.updated


def _newest_first(articles: Sequence[Article]) -> list[Article]:
    """By date, newest first; undated items keep the source's order after dated ones."""
    indexed = list(enumerate(articles))
    with_date = [(i, a, when) for i, a in indexed if (when := dated(a)) is not None]
    undated = [a for _, a in indexed if dated(a) is None]
    with_date.sort(key=lambda row: (row[2], -row[0]), reverse=True)
    return [a for _, a, _ in with_date] + undated


def decide(
    articles: Sequence[Article],
    known: Mapping[str, tuple[str, ItemStatus]],
    *,
    first_poll: bool,
    policy: Policy,
    now: datetime,
) -> list[Decision]:
    """What to do with each article of a poll.

    ``known`` maps item ids already in the state to ``(content_hash, status)``.
    On a feed's first poll only the ``backfill`` newest new items are published and
    the rest are recorded as seen, so starting the bot never floods an account.
    """
    decisions: list[Decision] = []
    fresh: list[Article] = []
    seen_ids: set[str] = set()
    for article in articles:
        if article.id in seen_ids:
            continue  # a feed listing the same entry twice
        seen_ids.add(article.id)
        previous = known.get(article.id)
        if previous is None:
            fresh.append(article)
        elif previous[0] == article.content_hash():
            decisions.append(Decision(article, "unchanged"))
        elif policy.edits == "repost" and previous[1] in (ItemStatus.POSTED, ItemStatus.SKIPPED):
            reason = policy.filter.reason(article)
            if reason is None:
                decisions.append(Decision(article, "publish", "edited; posting again"))
            else:
                decisions.append(Decision(article, "edited", f"edited; not posted again: {reason}"))
        else:
            decisions.append(Decision(article, "edited", "edited; not posted again"))

    budget = policy.backfill if first_poll else None
    for article in _newest_first(fresh):
        when = dated(article)
        if not article.url.startswith(("https://", "http://")):
            decisions.append(Decision(article, "no-link", "no link to the original"))
        elif policy.max_age is not None and when is not None and now - when > policy.max_age:
            decisions.append(Decision(article, "too-old", f"older than max_age {policy.max_age}"))
        elif (reason := policy.filter.reason(article)) is not None:
            decisions.append(Decision(article, "filtered", reason))
        elif budget is not None and budget <= 0:
            decisions.append(Decision(article, "seen", "first poll: beyond backfill"))
        else:
            if budget is not None:
                budget -= 1
            decisions.append(Decision(article, "publish"))
    return _capped(decisions, policy)


def _capped(decisions: list[Decision], policy: Policy) -> list[Decision]:
    """Items past the feed's ``max_per_hour`` are skipped for good, not queued: a burst
    must never come out later as a flood."""
    if policy.max_per_hour is None:
        return decisions
    room = policy.max_per_hour - policy.admitted
    out = []
    for decision in decisions:
        if decision.action == "publish":
            if room <= 0:
                note = f"over max_per_hour ({policy.max_per_hour} in the last hour)"
                decision = Decision(decision.article, "capped", note)
            room -= 1
        out.append(decision)
    return out
