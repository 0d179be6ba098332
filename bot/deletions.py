"""Which records make up the deletion of an item's threads, and in which commits. Pure.

A thread's records are its posts (or its one repost record) and its root's gates, each in
the collection its ``$type`` names; they were planned, so the plans saved in the state
file say exactly what to delete. One ``applyWrites`` deletes at most 200 records and can
only touch one repo, so threads are grouped by account and repo, then packed whole into
commits of at most 200 records: in practice one commit per item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.lexicon import POST
from bot.model import Deletion, Plan, RecordKey

#: operations in one ``com.atproto.repo.applyWrites`` (the PDS's limit)
MAX_WRITES = 200


@dataclass(frozen=True)
class Written:
    """A thread the state file says is on an account: its id, account and plan."""

    thread: int
    account: str
    plan: Plan


def records_of(plan: Plan) -> tuple[RecordKey, ...]:
    """A written plan's records: posts or the repost first, then the root's gates."""
    return tuple(RecordKey(p.record.get("$type", POST), p.rkey) for p in (*plan.posts, *plan.gates))


def plan_deletions(feed: str, item: str, written: Sequence[Written]) -> list[Deletion]:
    """The deletions that remove every record of ``written``, in the threads' order."""
    groups: dict[tuple[str, str], list[Written]] = {}
    for thread in written:
        groups.setdefault((thread.account, thread.plan.repo), []).append(thread)
    out: list[Deletion] = []
    for (account, repo), threads in groups.items():
        records: list[RecordKey] = []
        ids: list[int] = []
        for thread in threads:
            keys = records_of(thread.plan)
            if records and len(records) + len(keys) > MAX_WRITES:
                out.append(Deletion(feed, item, account, repo, tuple(records), tuple(ids)))
                records, ids = [], []
            records.extend(keys)
            ids.append(thread.thread)
        out.append(Deletion(feed, item, account, repo, tuple(records), tuple(ids)))
    return out
