"""Deciding what a poll means: pure, no I/O, the clock passed in.

Given what a source returned and what the state already knows, return one
``Decision`` per article. The pipeline applies them to the state; the state's
pending items are what gets published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.model import Article

Action = Literal["publish", "seen", "too-old", "edited", "unchanged"]


@dataclass(frozen=True)
class Policy:
    backfill: int
    max_age: timedelta | None
    edits: Literal["ignore", "repost"]


@dataclass(frozen=True)
class Decision:
    article: Article
    action: Action
    note: str | None = None


def _newest_first(articles: Sequence[Article]) -> list[Article]:
    """By date, newest first; undated items keep the source's order after dated ones."""
    indexed = list(enumerate(articles))
    dated = [(i, a) for i, a in indexed if a.published is not None]
    undated = [(i, a) for i, a in indexed if a.published is None]
    dated.sort(key=lambda pair: (pair[1].published, -pair[0]), reverse=True)
    return [a for _, a in dated + undated]


def decide(
    articles: Sequence[Article],
    known: dict[str, tuple[str, str]],
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
        elif policy.edits == "repost" and previous[1] in ("posted", "skipped"):
            decisions.append(Decision(article, "publish", "edited; posting again"))
        else:
            decisions.append(Decision(article, "edited", "edited; not posted again"))

    budget = policy.backfill if first_poll else None
    for article in _newest_first(fresh):
        if (
            policy.max_age is not None
            and article.published is not None
            and now - article.published > policy.max_age
        ):
            decisions.append(Decision(article, "too-old", f"older than max_age {policy.max_age}"))
        elif budget is not None and budget <= 0:
            decisions.append(Decision(article, "seen", "first poll: beyond backfill"))
        else:
            if budget is not None:
                budget -= 1
            decisions.append(Decision(article, "publish"))
    return decisions
