"""Hand-written fakes behind feedbot's own interfaces (Source, Publisher, Summarizer)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from threading import Event
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
from bot.sources import EventRead
from bot.streams import Batch, Op, RecordEvent, Subscription
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


class FakeStreamedSource(FakeSource):
    """A source that also reads stream events: a create or update event's record is
    ``{"title", "url", "tags"?}``; only ``did`` (None: every repo) and ``collection``
    are followed."""

    def __init__(
        self, *articles: Article, did: str | None = "did:plc:one", feed: str = "f"
    ) -> None:
        super().__init__(*articles)
        self.did = did
        self.feed = feed
        self.home_error: SourceError | None = None

    def subscription(self) -> Subscription:
        dids = frozenset({self.did}) if self.did is not None else None
        return Subscription(frozenset({COLLECTION}), dids)

    def home_pds(self) -> str:
        if self.home_error is not None:
            raise self.home_error
        return "http://127.0.0.1:1/pds"

    def read_events(self, events: Sequence[RecordEvent]) -> EventRead:
        articles, updated, deleted = [], set(), []
        for event in events:
            if event.collection != COLLECTION or self.did not in (None, event.did):
                continue
            if event.op == Op.DELETE:
                deleted.append(event.uri)
                continue
            assert event.record is not None
            record = event.record
            articles.append(
                Article(
                    self.feed,
                    event.uri,
                    record["url"],
                    record["title"],
                    text=f"{record['title']} is a sentence. Another one follows.",
                    tags=tuple(record.get("tags", ())),
                )
            )
            if event.op == Op.UPDATE:
                updated.add(event.uri)
        return EventRead(tuple(articles), frozenset(updated), tuple(deleted))


COLLECTION = "site.standard.document"


def event(
    seq: int,
    rkey: str,
    *,
    did: str = "did:plc:one",
    op: Op = Op.CREATE,
    title: str | None = None,
    tags: tuple[str, ...] = (),
) -> RecordEvent:
    """One record event for ``FakeStreamedSource``."""
    record = None
    if op != Op.DELETE:
        record = {
            "title": title or f"Document {rkey}",
            "url": f"https://example.com/{did[-3:]}/{rkey}",
            "tags": list(tags),
        }
    return RecordEvent(seq, did, COLLECTION, rkey, op, None if record is None else "cid", record)


class FakeStream:
    """Delivers the batches it is given, then waits for stop; can raise on demand."""

    def __init__(self, endpoint: str, batches: Sequence[Batch] = ()) -> None:
        self.endpoint = endpoint
        self.batches = list(batches)
        self.raise_first: list[BaseException] = []
        self.started: list[int | None] = []

    def run(self, cursor: int | None, deliver: Callable[[Batch], None], stop: Event) -> None:
        self.started.append(cursor)
        if self.raise_first:
            raise self.raise_first.pop(0)
        while self.batches and not stop.is_set():
            deliver(self.batches.pop(0))
        stop.wait()
