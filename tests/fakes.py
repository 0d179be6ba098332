"""Hand-written fakes behind feedbot's own interfaces (Source, Publisher, Summarizer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.deletions import records_of
from bot.errors import FeedbotError, SourceError
from bot.lexicon import gate_records
from bot.model import (
    Article,
    Deletion,
    Plan,
    PlannedPost,
    Poll,
    StrongRef,
    Summary,
    Target,
    Thread,
)
from bot.summarize import Budget


class FakeSource:
    def __init__(self, *articles: Article) -> None:
        self.articles = list(articles)
        self.error: SourceError | None = None
        self.cursors: list[dict[str, Any]] = []

    def poll(self, cursor: dict[str, Any]) -> Poll:
        self.cursors.append(cursor)
        if self.error is not None:
            raise self.error
        return Poll(articles=tuple(self.articles), cursor={"n": len(self.cursors)})


class FirstSentences:
    def summarize(self, article: Article, budget: Budget) -> Summary:
        return Summary((article.text.split(". ")[0] + ".",), "en")


class Crash(BaseException):
    """Stands in for the process dying (not an Exception: nothing catches it)."""


class FakePublisher:
    """Keeps written threads in a dict, like a repo; can fail or crash on demand."""

    def __init__(self) -> None:
        self.repo: dict[str, tuple[StrongRef, ...]] = {}  # first rkey → posts
        self.writes = 0
        self.fail_with: FeedbotError | None = None
        self.crash_after_write = False
        self.written_then_fail: FeedbotError | None = None
        self.boosted: list[StrongRef] = []
        #: every record written and not deleted, as (collection, rkey)
        self.records: set[tuple[str, str]] = set()
        self.deletes = 0  # applyWrites of deletes that deleted something
        self.crash_after_delete = False
        self._n = 0

    def prepare(self, thread: Thread, target: Target, *, now: datetime) -> Plan:
        posts = []
        for post in thread.posts:
            self._n += 1
            posts.append(PlannedPost(f"rk{self._n}", f"cid{self._n}", {"text": post.text}))
        root = f"at://did:plc:fake/app.bsky.feed.post/{posts[0].rkey}"
        gates = tuple(
            PlannedPost(posts[0].rkey, f"gate{i}", record)
            for i, record in enumerate(gate_records(root, thread.gate, created_at=now))
        )
        return Plan(
            target.feed, target.item, target.url, "acct", "did:plc:fake", tuple(posts), gates
        )

    def _refs(self, plan: Plan) -> tuple[StrongRef, ...]:
        return tuple(
            StrongRef(f"at://did:plc:fake/app.bsky.feed.post/{p.rkey}", p.cid) for p in plan.posts
        )

    def find(self, plan: Plan) -> tuple[StrongRef, ...] | None:
        return self.repo.get(plan.posts[0].rkey)

    def write(self, plan: Plan) -> tuple[StrongRef, ...]:
        if self.fail_with is not None:
            raise self.fail_with
        key = plan.posts[0].rkey
        if key in self.repo:
            raise AssertionError(f"thread {key} written twice")
        self.writes += 1
        self.repo[key] = self._refs(plan)
        self.records.update((r.collection, r.rkey) for r in records_of(plan))
        if self.crash_after_write:
            raise Crash
        if self.written_then_fail is not None:
            raise self.written_then_fail
        return self.repo[key]

    def prepare_boost(self, root: StrongRef, target: Target, *, now: datetime) -> Plan:
        self.boosted.append(root)
        self._n += 1
        record = {"$type": "app.bsky.feed.repost", "subject": {"uri": root.uri, "cid": root.cid}}
        post = PlannedPost(f"rk{self._n}", f"cid{self._n}", record)
        return Plan(target.feed, target.item, target.url, "acct", "did:plc:fake", (post,))

    def delete(self, deletion: Deletion) -> int:
        """Like the real one: looks first, deletes what is left, all or nothing."""
        if self.fail_with is not None:
            raise self.fail_with
        left = {(r.collection, r.rkey) for r in deletion.records} & self.records
        if not left:
            return 0
        self.deletes += 1
        self.records -= left
        for key in [k for k in self.repo if ("app.bsky.feed.post", k) in left]:
            del self.repo[key]
        if self.crash_after_delete:
            raise Crash
        return len(left)
