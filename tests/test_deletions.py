"""Deleting an item's threads when its document is deleted at the source (``deletions:``)
or by hand: planned first, recovered after a crash, never posted again. Real SQLite, the
hand-written publisher fake behind the ``Publisher`` interface; the real PDS is in
``test_deletions_pds.py``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from builders import Clock, article
from fakes import Crash, FakePublisher, FakeSource
from test_pipeline import config, pipeline

from bot.cli import main
from bot.deletions import MAX_WRITES, Written, plan_deletions, records_of
from bot.errors import DeleteRefused, RejectedError, RepostRefused, TransientError
from bot.model import Plan, PlannedPost, RecordKey
from bot.outcomes import Deleted, ItemStatus, Posted, Shown, Skipped, ThreadKind, ThreadStatus
from bot.pipeline import MAX_ATTEMPTS
from bot.state import State

ROOT = Path(__file__).resolve().parent.parent
THREADS_URL = "https://eurasia-notes.example/notes/threads"
DELETE: dict[str, Any] = {"deletions": "delete"}
GATED: dict[str, Any] = {"deletions": "delete", "replies": "nobody", "quotes": False}


@pytest.fixture
def state() -> State:
    return State.memory(clock=Clock())


def posted(state: State, publisher: FakePublisher, **feed: Any) -> FakeSource:
    """One item posted on the fake account, with the feed set as asked."""
    source = FakeSource(article(1))
    [report] = pipeline(state, source, publisher, cfg=config(**feed)).run_once()
    assert report.posted == 1
    return source


def statuses(state: State) -> list[tuple[ThreadKind, ThreadStatus]]:
    return [(t.kind, t.status) for t in state.threads("f", "item-1")]


# --- which records -------------------------------------------------------------------


def _plan(repo: str, posts: int, gates: int = 0) -> Plan:
    planned = tuple(
        PlannedPost(f"p{n}", "c", {"$type": "app.bsky.feed.post"}) for n in range(posts)
    )
    gate = tuple(
        PlannedPost("p0", "g", {"$type": "app.bsky.feed.threadgate"}) for _ in range(gates)
    )
    return Plan("f", "i", "https://example.com", "acct", repo, planned, gate)


def test_a_thread_s_records_are_its_posts_then_its_gates_each_in_its_collection() -> None:
    repost = PlannedPost("r1", "c", {"$type": "app.bsky.feed.repost"})
    assert records_of(_plan("did:a", 2, 1)) == (
        RecordKey("app.bsky.feed.post", "p0"),
        RecordKey("app.bsky.feed.post", "p1"),
        RecordKey("app.bsky.feed.threadgate", "p0"),
    )
    boost = Plan("f", "i", "https://example.com", "acct", "did:a", (repost,))
    assert records_of(boost) == (RecordKey("app.bsky.feed.repost", "r1"),)


def test_deletions_are_one_per_account_and_repo_and_never_over_200_records() -> None:
    written = [
        Written(1, "a", _plan("did:a", 3, 2)),
        Written(2, "b", _plan("did:b", 1)),
        Written(3, "a", _plan("did:a", 1)),
    ]
    [first, second] = plan_deletions("f", "i", written)
    assert (first.account, first.repo, first.threads, len(first.records)) == (
        "a",
        "did:a",
        (1, 3),
        6,
    )
    assert (second.account, second.threads, len(second.records)) == ("b", (2,), 1)
    many = [Written(n, "a", _plan("did:a", 9)) for n in range(30)]  # 270 records
    chunks = plan_deletions("f", "i", many)
    assert [len(c.records) for c in chunks] == [198, 72]  # threads are never split
    assert all(len(c.records) <= MAX_WRITES for c in chunks)
    assert sum((c.threads for c in chunks), ()) == tuple(range(30))


# --- deleted at the source -----------------------------------------------------------


def test_with_delete_every_record_of_the_thread_goes_in_one_planned_commit(state: State) -> None:
    publisher = FakePublisher()
    posted(state, publisher, **GATED)
    assert len(publisher.records) == 4  # two posts, a threadgate and a postgate
    outcome = pipeline(state, FakeSource(), publisher, cfg=config(**GATED)).delete_item(
        config(**GATED).feed("f"), "item-1"
    )
    assert outcome == Deleted(4)
    assert publisher.records == set() and publisher.deletes == 1
    assert state.find_item("item-1").status == ItemStatus.DELETED
    assert statuses(state) == [
        (ThreadKind.POST, ThreadStatus.DELETED),
        (ThreadKind.DELETION, ThreadStatus.DELETED),
    ]
    deletion = state.threads("f", "item-1")[1].deletion
    assert deletion is not None and len(deletion.records) == 4


def test_a_replayed_delete_and_a_replayed_create_do_nothing_more(state: State) -> None:
    publisher = FakePublisher()
    source = posted(state, publisher, **DELETE)
    feed = config(**DELETE).feed("f")
    run = pipeline(state, source, publisher, cfg=config(**DELETE))
    assert isinstance(run.delete_item(feed, "item-1"), Deleted)
    assert run.delete_item(feed, "item-1") == Skipped("nothing to delete")
    # the create event replays (the stream resumes before its cursor): nothing is posted
    [report] = pipeline(state, source, publisher, cfg=config(**DELETE)).run_once()
    assert (report.new, report.posted) == (0, 0)
    # an edit of it with edits: repost is not posted either
    source.articles = [article(1, text="Whole new text. Really new.")]
    [report] = pipeline(state, source, publisher, cfg=config(edits="repost", **DELETE)).run_once()
    assert report.posted == 0
    assert publisher.writes == 1 and publisher.deletes == 1
    assert state.find_item("item-1").status == ItemStatus.DELETED
    with pytest.raises(RepostRefused, match="deleted at the source"):
        pipeline(state, source, publisher).repost("item-1")


def test_with_ignore_the_item_is_marked_and_nothing_is_written(state: State) -> None:
    publisher = FakePublisher()
    posted(state, publisher)
    before = set(publisher.records)
    outcome = pipeline(state, FakeSource(), publisher).delete_item(config().feed("f"), "item-1")
    assert outcome == Skipped("deletions: ignore")
    assert publisher.records == before and publisher.deletes == 0
    item = state.find_item("item-1")
    assert item.status == ItemStatus.DELETED and item.note is not None
    assert "deletions: ignore" in item.note
    assert statuses(state) == [(ThreadKind.POST, ThreadStatus.POSTED)]
    [(listed, posts)] = state.listing(feed="f")  # `items` still links the thread
    assert listed.status == ItemStatus.DELETED and posts


def test_an_item_deleted_before_it_was_posted_is_never_posted(state: State) -> None:
    publisher = FakePublisher()
    source = FakeSource(article(1))
    run = pipeline(state, source, publisher, cfg=config(**DELETE))
    run.poll(config(**DELETE).feed("f"))  # seen, not posted yet
    assert run.delete_item(config(**DELETE).feed("f"), "item-1") == Skipped("nothing to delete")
    [report] = pipeline(state, source, publisher, cfg=config(**DELETE)).run_once()
    assert report.posted == 0 and publisher.writes == 0
    assert state.find_item("item-1").status == ItemStatus.DELETED


def test_a_delete_of_an_item_never_seen_records_nothing(state: State) -> None:
    run = pipeline(state, FakeSource(), FakePublisher(), cfg=config(**DELETE))
    assert run.delete_item(config(**DELETE).feed("f"), "at://did:plc:x/c/1") == Skipped(
        "unknown item"
    )
    assert state.conn.execute("SELECT count(*) FROM items").fetchone()[0] == 0


def test_a_dry_run_shows_the_deletion_and_records_nothing(state: State) -> None:
    publisher = FakePublisher()
    posted(state, publisher, **DELETE)
    run = pipeline(state, FakeSource(), publisher, cfg=config(**DELETE), dry_run=True)
    assert run.delete_item(config(**DELETE).feed("f"), "item-1") == Shown()
    # the fake stands for the preview here: it "deleted", but the state knows nothing
    assert state.find_item("item-1").status == ItemStatus.POSTED
    assert statuses(state) == [(ThreadKind.POST, ThreadStatus.POSTED)]


def test_boosts_and_reposts_are_deleted_with_the_thread(state: State) -> None:
    publisher = FakePublisher()
    source = posted(state, publisher, **DELETE)
    run = pipeline(state, source, publisher, cfg=config(**DELETE))
    assert run.repost("item-1") == "posted"
    assert run.repost("item-1", boost=True) == "boosted"
    assert len(publisher.records) == 2 + 2 + 1
    assert run.delete_item(config(**DELETE).feed("f"), "item-1") == Deleted(5)
    assert publisher.records == set() and publisher.deletes == 1
    kinds = [k for k, s in statuses(state) if s == ThreadStatus.DELETED]
    assert kinds == [ThreadKind.POST, ThreadKind.REPOST, ThreadKind.BOOST, ThreadKind.DELETION]


# --- failures and crashes ------------------------------------------------------------


def test_a_crash_after_the_deletes_is_recovered_without_deleting_twice(state: State) -> None:
    publisher = FakePublisher()
    source = posted(state, publisher, **DELETE)
    publisher.crash_after_delete = True
    with pytest.raises(Crash):
        pipeline(state, source, publisher, cfg=config(**DELETE)).delete_item(
            config(**DELETE).feed("f"), "item-1"
        )
    assert publisher.records == set()
    assert statuses(state)[-1] == (ThreadKind.DELETION, ThreadStatus.PLANNED)
    assert state.find_item("item-1").status == ItemStatus.DELETING
    publisher.crash_after_delete = False
    state.conn.execute("UPDATE threads SET owner = 'gone:1'")  # the crashed process
    [report] = pipeline(state, source, publisher, cfg=config(**DELETE)).run_once()
    assert report.error is None and report.posted == 0
    assert publisher.deletes == 1  # recovery looked, found nothing left, deleted nothing
    assert statuses(state)[-1] == (ThreadKind.DELETION, ThreadStatus.DELETED)
    assert state.find_item("item-1").status == ItemStatus.DELETED


def test_a_transient_failure_is_retried_on_the_next_pass(state: State) -> None:
    publisher = FakePublisher()
    source = posted(state, publisher, **DELETE)
    publisher.fail_with = TransientError("HTTP 503")
    outcome = pipeline(state, source, publisher, cfg=config(**DELETE)).delete_item(
        config(**DELETE).feed("f"), "item-1"
    )
    assert not isinstance(outcome, Deleted)
    item = state.find_item("item-1")
    assert item.status == ItemStatus.DELETING and item.last_error == "HTTP 503"
    publisher.fail_with = None
    [report] = pipeline(state, source, publisher, cfg=config(**DELETE)).run_once()
    assert report.deleted == 1 and "1 deleted" in report.line()
    assert publisher.records == set()
    item = state.find_item("item-1")
    assert item.status == ItemStatus.DELETED and item.last_error is None


def test_a_refused_deletion_waits_for_a_person(state: State) -> None:
    publisher = FakePublisher()
    source = posted(state, publisher, **DELETE)
    publisher.fail_with = RejectedError("HTTP 400 InvalidRequest")
    pipeline(state, source, publisher, cfg=config(**DELETE)).delete_item(
        config(**DELETE).feed("f"), "item-1"
    )
    publisher.fail_with = None
    [report] = pipeline(state, source, publisher, cfg=config(**DELETE)).run_once()
    assert report.deleted == 0 and publisher.deletes == 0
    assert state.pending_deletions("f", max_attempts=MAX_ATTEMPTS) == []
    done = pipeline(state, source, publisher, cfg=config(**DELETE)).delete("item-1")
    assert done == "deleted 2 records"
    assert state.find_item("item-1").status == ItemStatus.DELETED


def test_a_thread_planned_but_unwritten_when_its_item_is_deleted_is_never_written(
    state: State,
) -> None:
    publisher = FakePublisher()
    source = FakeSource(article(1))
    publisher.fail_with = TransientError("timeout")  # the plan stays: maybe written
    pipeline(state, source, publisher, cfg=config(**DELETE)).run_once()
    assert statuses(state) == [(ThreadKind.POST, ThreadStatus.PLANNED)]
    publisher.fail_with = None
    run = pipeline(state, source, publisher, cfg=config(**DELETE))
    assert run.delete_item(config(**DELETE).feed("f"), "item-1") == Skipped(
        "none of its threads is on an account"
    )
    assert state.find_item("item-1").status == ItemStatus.DELETING  # a thread in flight
    [report] = pipeline(state, source, publisher, cfg=config(**DELETE)).run_once()
    assert report.posted == 0 and publisher.writes == 0
    assert statuses(state) == [(ThreadKind.POST, ThreadStatus.FAILED)]
    assert state.find_item("item-1").status == ItemStatus.DELETED


def test_a_thread_written_while_its_item_was_being_deleted_is_deleted_next(
    state: State,
) -> None:
    publisher = FakePublisher()
    source = FakeSource(article(1))
    publisher.written_then_fail = TransientError("timeout")  # written, the answer lost
    pipeline(state, source, publisher, cfg=config(**DELETE)).run_once()
    publisher.written_then_fail = None
    run = pipeline(state, source, publisher, cfg=config(**DELETE))
    run.delete_item(config(**DELETE).feed("f"), "item-1")
    assert len(publisher.records) == 2  # not yet: the thread was in flight
    [report] = pipeline(state, source, publisher, cfg=config(**DELETE)).run_once()
    assert report.deleted == 1 and publisher.records == set()
    assert statuses(state) == [
        (ThreadKind.POST, ThreadStatus.DELETED),
        (ThreadKind.DELETION, ThreadStatus.DELETED),
    ]


# --- by hand ---------------------------------------------------------------------------


def test_feedbot_delete_removes_a_live_item_s_threads_and_it_stays_unposted(state: State) -> None:
    publisher = FakePublisher()
    source = posted(state, publisher)  # deletions: ignore does not matter by hand
    run = pipeline(state, source, publisher)
    assert run.delete("https://example.com/posts/1") == "deleted 2 records"
    assert publisher.records == set()
    item = state.find_item("item-1")
    assert item.status == ItemStatus.SKIPPED
    [report] = pipeline(state, source, publisher).run_once()
    assert report.posted == 0
    with pytest.raises(DeleteRefused, match="none of its threads"):
        run.delete("item-1")
    # a person may still post it again
    assert isinstance(run.publish(item, config().feed("f"), kind=ThreadKind.REPOST), Posted)


# --- the write budget ------------------------------------------------------------------


def test_a_deletion_counts_one_point_a_record_in_the_budget_history(state: State) -> None:
    from bot.publish.pacing import points

    publisher = FakePublisher()
    source = posted(state, publisher, **GATED)
    pipeline(state, source, publisher, cfg=config(**GATED)).delete_item(
        config(**GATED).feed("f"), "item-1"
    )
    since = state.clock().replace(year=2000)
    writes = [(c, d) for _, c, d in state.writes("acct", since=since)]
    # the thread's 2 posts and 2 gates were created (and still count), 4 records deleted
    assert writes == [(4, 0), (0, 4)]
    assert sum(points(c, d) for c, d in writes) == 4 * 3 + 4 * 1


# --- the command, in process (the shipped config: sample records, preview account) ---


def test_feedbot_delete_shows_with_dry_run_then_deletes_and_refuses_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDBOT_CONFIG", raising=False)
    assert main(["run", "--once"]) == 0
    capsys.readouterr()

    assert main(["delete", THREADS_URL, "--dry-run"]) == 0
    out = capsys.readouterr().out
    # the preview account "posted" the note's two posts
    assert "would delete 2 records" in out and out.count("   ✕ app.bsky.feed.post/") == 2
    assert main(["delete", THREADS_URL, "--dry-run", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    shown = json.loads(line)
    assert shown["item"].startswith("at://") and len(shown["delete"]) == 2
    assert {r["collection"] for r in shown["delete"]} == {"app.bsky.feed.post"}

    assert main(["delete", THREADS_URL]) == 0  # the preview account: shown, recorded
    assert capsys.readouterr().out.endswith(f"{THREADS_URL}: deleted 0 records\n")
    assert main(["items", "--status", "skipped", "--json"]) == 0
    [row] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert row["url"] == THREADS_URL and row["thread"] is None

    assert main(["delete", THREADS_URL]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing deleted: none of its threads" in err
    assert main(["delete", "https://nowhere.example/x"]) == 1
    assert "unknown item" in capsys.readouterr().err
