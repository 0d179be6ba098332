from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlite_utils
from builders import Clock, article

from bot.errors import StateError, TransientError, UnknownItem
from bot.model import Plan, PlannedPost, StrongRef
from bot.outcomes import Claim, Claimed, ErrorKind, ItemStatus, Refused, ThreadKind
from bot.state import MIGRATIONS, SCHEMA_VERSION, State, migrate
from bot.urls import normalize_url


def claimed(claim: Claim) -> int:
    """The thread id of a claim the test expects to succeed."""
    assert isinstance(claim, Claimed), claim
    return claim.thread_id


def plan_for(item_id: str, feed: str = "f", posts: int = 1) -> Plan:
    planned = tuple(PlannedPost(f"3kab{n}", "bafycid", {"text": "hi"}) for n in range(posts))
    return Plan(feed, item_id, "https://example.com", "acct", "did:plc:x", planned)


@pytest.fixture
def state() -> State:
    return State.memory(clock=Clock())


def add(state: State, *articles, status: ItemStatus = ItemStatus.NEW) -> None:  # type: ignore[no-untyped-def]
    state.add_items([(a, status, None) for a in articles], norm=normalize_url)


def test_a_new_state_file_is_at_the_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    state = State.open(tmp_path / "sub" / "feedbot.db")
    assert state.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert state.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_old_schema_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0](sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version = 1")
    a = article(1)
    conn.execute(
        "INSERT INTO items (feed, id, url, content_hash, first_seen, status, article)"
        " VALUES (?, ?, ?, ?, ?, 'posted', ?)",
        ("f", a.id, a.url, a.content_hash(), "2026-01-01T00:00:00+00:00", json.dumps(a.to_json())),
    )
    conn.close()

    state = State.open(path)
    assert state.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    item = state.find_item(a.url)
    assert item.status == "posted" and item.article == a
    assert state.known("f", [a.id]) == {a.id: (a.content_hash(), "posted")}


def test_a_newer_schema_is_refused_clearly() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError, match="newer than this feedbot"):
        migrate(conn)


def test_items_round_trip_and_pending_is_oldest_first(state: State) -> None:
    add(state, article(1), article(3), article(2))
    assert [i.id for i in state.pending("f", max_attempts=3, max_interrupted=3)] == [
        "item-3",
        "item-2",
        "item-1",
    ]
    assert state.find_item("item-2").article == article(2)


def test_claim_then_plan_then_posted(state: State) -> None:
    add(state, article(1))
    item = state.pending("f", max_attempts=3, max_interrupted=3)[0]
    claim = claimed(state.claim(item, "acct", norm_url=normalize_url(item.url)))
    state.save_plan(claim, plan_for(item.id))
    assert state.find_item(item.id, feed="f").status == "planned"
    state.mark_posted(claim, (StrongRef("at://x/app.bsky.feed.post/3kabc", "bafycid"),))
    assert state.find_item(item.id, feed="f").status == "posted"
    assert state.pending("f", max_attempts=3, max_interrupted=3) == []
    [thread] = state.threads("f", item.id)
    assert thread.posts[0].uri.endswith("3kabc") and thread.plan == plan_for(item.id)


def test_an_item_cannot_be_claimed_twice_while_in_flight(state: State) -> None:
    add(state, article(1))
    item = state.pending("f", max_attempts=3, max_interrupted=3)[0]
    me = state.owner
    state.owner = f"{socket.gethostname()}:{os.getppid()}"  # a live process: our parent
    first = state.claim(item, "acct", norm_url=item.url)
    state.owner = me
    again = state.claim(item, "acct", norm_url=item.url, kind=ThreadKind.REPOST)
    assert isinstance(first, Claimed)
    assert again == Refused("another process is posting it right now")


def test_a_claim_left_by_this_process_waits_for_the_next_run(state: State) -> None:
    add(state, article(1))
    item = state.pending("f", max_attempts=3, max_interrupted=3)[0]
    assert isinstance(state.claim(item, "acct", norm_url=item.url), Claimed)
    again = state.claim(item, "acct", norm_url=item.url, kind=ThreadKind.REPOST)
    assert again == Refused("an earlier attempt is waiting to be finished by the next run")


def test_two_processes_racing_for_one_item_let_exactly_one_win(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    seed = State.open(path)
    add(seed, *[article(n) for n in range(20)])
    items = seed.pending("f", max_attempts=3, max_interrupted=3)
    wins: list[int] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        state = State.open(path)  # its own connection, like another process
        barrier.wait()
        for item in items:
            if isinstance(state.claim(item, "acct", norm_url=item.url), Claimed):
                wins.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == len(items)


def test_the_same_url_from_another_feed_is_not_posted_twice_on_one_account(state: State) -> None:
    a = article(1, feed="rss", url="https://Example.com/posts/1/")
    b = article(9, feed="atproto", url="https://example.com/posts/1")
    add(state, a, b)
    first = state.pending("rss", max_attempts=3, max_interrupted=3)[0]
    claimed(state.claim(first, "acct", norm_url=normalize_url(first.url)))
    second = state.pending("atproto", max_attempts=3, max_interrupted=3)[0]
    reason = state.claim(second, "acct", norm_url=normalize_url(second.url))
    assert reason == Refused("already posted on acct as rss/item-1")
    assert state.find_item("item-9", feed="atproto").status == "skipped"
    # another account may still post it
    other = state.claim(
        state.find_item("item-9", feed="atproto"),
        "other",
        norm_url=second.url,
        kind=ThreadKind.REPOST,
    )
    assert isinstance(other, Claimed)


def test_a_transient_failure_stays_pending_and_counts_attempts(state: State) -> None:
    add(state, article(1))
    item = state.pending("f", max_attempts=3, max_interrupted=3)[0]
    for _ in range(2):
        claim = claimed(state.claim(state.find_item(item.id, feed="f"), "acct", norm_url=item.url))
        state.fail(claim, "timed out", kind=ErrorKind.TRANSIENT)
    failed = state.find_item(item.id, feed="f")
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 2, "timed out")
    assert [i.id for i in state.pending("f", max_attempts=3, max_interrupted=3)] == [item.id]
    assert state.pending("f", max_attempts=2, max_interrupted=2) == []


def test_a_rejected_item_is_not_retried_automatically_and_is_reported(state: State) -> None:
    add(state, article(1))
    item = state.pending("f", max_attempts=3, max_interrupted=3)[0]
    claim = claimed(state.claim(item, "acct", norm_url=item.url))
    state.fail(claim, "400 InvalidRecord: text too long", kind=ErrorKind.REJECTED)
    assert state.pending("f", max_attempts=3, max_interrupted=3) == []
    assert state.errors("f") == [("item-1", "rejected", "400 InvalidRecord: text too long")]


def test_a_write_that_may_have_happened_keeps_its_plan_for_recovery(state: State) -> None:
    add(state, article(1))
    item = state.pending("f", max_attempts=3, max_interrupted=3)[0]
    claim = claimed(state.claim(item, "acct", norm_url=item.url))
    state.save_plan(claim, plan_for(item.id))
    state.fail(claim, "read timed out", kind=ErrorKind.TRANSIENT, maybe_written=True)
    [row] = state.in_flight()
    assert row.status == "planned" and row.plan == plan_for(item.id)
    assert state.find_item(item.id, feed="f").status == "planned"


def test_claims_of_a_dead_process_are_recovered_but_a_live_ones_are_not(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    state = State.open(path)
    add(state, article(1), article(2))
    one, two = state.pending("f", max_attempts=3, max_interrupted=3)
    c1 = claimed(state.claim(one, "acct", norm_url=one.url))
    claimed(state.claim(two, "acct", norm_url=two.url))
    state.conn.execute("UPDATE threads SET owner = 'elsewhere:1' WHERE id = ?", (c1,))
    other = State.open(path)
    other.owner = "this-host-but-another:pid"
    # the second claim belongs to this (live) process; c1 to an owner that cannot be alive here
    assert [t.id for t in other.in_flight()] == [c1]


def test_sessions_round_trip(state: State) -> None:
    assert state.load_session("me") is None
    state.save_session("me", "session-1")
    state.save_session("me", "session-2")
    assert state.load_session("me") == "session-2"


def test_an_unknown_item_is_a_clear_error(state: State) -> None:
    with pytest.raises(UnknownItem, match="unknown item 'nope'"):
        state.find_item("nope")


def test_polls_are_recorded_and_the_cursor_only_moves_on_success(state: State) -> None:
    assert not state.has_history("f")
    state.record_poll("f", result="ok: 1 new", cursor={"etag": "a"})
    state.record_poll("f", result="error", error="boom")
    row = state.feed("f")
    assert row.cursor == {"etag": "a"} and row.last_error == "boom"


def test_writes_per_account_come_from_posted_threads_gates_included(state: State) -> None:
    add(state, article(1), article(2))
    posts = tuple(PlannedPost(f"3kab{n}", "bafycid", {"text": "hi"}) for n in range(2))
    gate = PlannedPost("3kab0", "bafygate", {"$type": "app.bsky.feed.threadgate"})
    for item in state.pending("f", max_attempts=3, max_interrupted=3):
        claim = claimed(state.claim(item, "acct", norm_url=item.url))
        plan = Plan("f", item.id, "https://example.com", "acct", "did:plc:x", posts, (gate,))
        state.save_plan(claim, plan)
        refs = tuple(StrongRef(f"at://x/app.bsky.feed.post/{n}", "c") for n in range(2))
        state.mark_posted(claim, refs)
    since = state.clock() - timedelta(hours=1)
    # the gate is a create too: the budget paid 3 creates for each thread
    assert [(c, d) for _, c, d in state.writes("acct", since=since)] == [(3, 0), (3, 0)]
    assert state.writes("other", since=since) == []
    assert state.writes("acct", since=state.clock() + timedelta(seconds=1)) == []


def test_a_bluesky_publisher_starts_with_the_day_s_writes_counted(tmp_path: Path) -> None:
    from bot.config import Config
    from bot.wiring import make_publishers

    state = State.open(tmp_path / "s.db")
    add(state, article(1))
    item = state.pending("f", max_attempts=3, max_interrupted=3)[0]
    claim = claimed(state.claim(item, "me", norm_url=item.url))
    state.save_plan(claim, plan_for(item.id, posts=3))
    state.mark_posted(claim, tuple(StrongRef(f"at://x/p/{n}", "c") for n in range(3)))
    account = {"type": "bluesky", "handle": "me.test", "app_password": "pw", "points_per_day": 12}
    config = Config.model_validate({"accounts": {"me": account}})
    publishers = make_publishers(config, state, dry_run=False, as_json=False, out=io.StringIO())
    budget = publishers["me"].budget  # type: ignore[attr-defined]
    budget.spend(3)  # 9 + 3: the day's 12 points
    with pytest.raises(TransientError, match="write budget spent"):
        budget.spend(3)


def test_close_closes_the_connection_of_every_thread(tmp_path: Path) -> None:
    with State.open(tmp_path / "s.db") as state:
        opened: list[sqlite3.Connection] = []
        workers = [threading.Thread(target=lambda: opened.append(state.conn)) for _ in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert len(set(map(id, opened))) == 3
    for conn in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("SELECT 1")
