"""Publishers write composed threads somewhere: Bluesky, or a preview on stdout.

Publishing happens in three steps so the state file can hold the plan before any post
exists: ``prepare`` turns a ``Thread`` into a ``Plan`` (record keys, records, CIDs;
uploading blobs is allowed because it is safe to repeat), the pipeline saves the plan,
then ``write`` writes it. After a crash, ``find`` tells whether a saved plan was
already written, so it is never written twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.model import PostedRef, Thread


@dataclass(frozen=True)
class PlannedPost:
    rkey: str
    cid: str
    record: dict[str, Any]  # the app.bsky.feed.post record, in the lexicon's JSON form


@dataclass(frozen=True)
class Plan:
    feed: str
    item: str
    url: str
    account: str
    repo: str  # the account's DID; empty for the preview
    posts: tuple[PlannedPost, ...]  # app.bsky.feed.post records, or one repost record
    # threadgate/postgate records for the root, keyed by its rkey; written with the posts
    gates: tuple[PlannedPost, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "feed": self.feed,
            "item": self.item,
            "url": self.url,
            "account": self.account,
            "repo": self.repo,
            "posts": [_planned_json(p) for p in self.posts],
        }
        if self.gates:
            data["gates"] = [_planned_json(p) for p in self.gates]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            feed=data["feed"],
            item=data["item"],
            url=data["url"],
            account=data["account"],
            repo=data["repo"],
            posts=tuple(PlannedPost(**p) for p in data["posts"]),
            gates=tuple(PlannedPost(**p) for p in data.get("gates", ())),
        )


def _planned_json(planned: PlannedPost) -> dict[str, Any]:
    return {"rkey": planned.rkey, "cid": planned.cid, "record": planned.record}


@dataclass(frozen=True)
class Target:
    """What a plan is for: the feed, the item and its canonical URL."""

    feed: str
    item: str
    url: str


class Publisher(Protocol):
    #: False for publishers that show rather than post (the preview).
    posts_for_real: bool

    def prepare(self, thread: Thread, target: Target, *, now: datetime) -> Plan:
        """Choose record keys and build the records. Must not create any post."""
        ...

    def find(self, plan: Plan) -> tuple[PostedRef, ...] | None:
        """The posts of ``plan`` if it was already written in full, else None."""
        ...

    def write(self, plan: Plan) -> tuple[PostedRef, ...]:
        """Write the whole thread, all or nothing."""
        ...

    def prepare_boost(self, root: PostedRef, target: Target, *, now: datetime) -> Plan:
        """A plan for a native repost of an earlier root post: one record, written and
        recovered like a thread."""
        ...
