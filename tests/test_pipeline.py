from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builders import Clock, article
from fakes import Crash, FakePublisher, FakeSource, FirstSentences

from bot.config import Config, FeedSettings
from bot.errors import (
    InvalidThread,
    LoginUnavailable,
    RejectedError,
    RepostRefused,
    SourceError,
    TransientError,
    UnknownItem,
)
from bot.model import Poll
from bot.outcomes import Claimed, ErrorKind, Failed, Posted, Skipped
from bot.pipeline import MAX_ATTEMPTS, MAX_INTERRUPTED, Pipeline
from bot.state import State


def config(backfill: int = 2, **feed: object) -> Config:
    return Config.model_validate(
        {
            "accounts": {"acct": {"type": "preview"}},
            "feeds": [
                {
                    "name": "f",
                    "source": {"type": "records", "path": "unused"},
                    "account": "acct",
                    "backfill": backfill,
                    **feed,
                }
            ],
        }
    )


def pipeline(state: State, source: FakeSource, publisher: FakePublisher, **kw: object) -> Pipeline:
    cfg = kw.pop("cfg", None) or config()
    return Pipeline(
        cfg,  # type: ignore[arg-type]
        state,
        sources={"f": source},
        publishers={"acct": publisher},
        summarizers={"f": FirstSentences()},
        clock=Clock(),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def state() -> State:
    return State.memory(clock=Clock())


def test_a_first_pass_posts_the_backfill_and_a_second_pass_posts_nothing(state: State) -> None:
    source = FakeSource(*[article(n) for n in range(1, 6)])
    publisher = FakePublisher()
    [report] = pipeline(state, source, publisher).run_once()
    assert (report.new, report.posted, report.skipped) == (2, 2, 3)
    assert publisher.writes == 2
    [again] = pipeline(state, source, publisher).run_once()
    assert (again.new, again.posted) == (0, 0)
    assert again.line() == "f: nothing new"
    assert publisher.writes == 2


def test_new_items_after_the_first_poll_are_posted_oldest_first(state: State) -> None:
    source = FakeSource(article(10))
    publisher = FakePublisher()
    pipeline(state, source, publisher).run_once()
    source.articles = [article(1), article(3), article(2), article(10)]
    pipeline(state, source, publisher).run_once()
    items = [p.item for p in _plans(state)]
    assert items == ["item-10", "item-3", "item-2", "item-1"]


def _plans(state: State) -> list:  # type: ignore[type-arg]
    rows = state.conn.execute("SELECT feed, item FROM threads ORDER BY id").fetchall()
    return [t.plan for f, i in rows for t in state.threads(f, i)[:1]]


def test_an_edited_record_is_not_posted_again(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    pipeline(state, source, publisher).run_once()
    source.articles = [article(1, text="Completely new text. Of the same article.")]
    [report] = pipeline(state, source, publisher).run_once()
    assert publisher.writes == 1 and report.posted == 0
    assert state.find_item("item-1").article.text.startswith("Completely new")


def test_a_failing_feed_does_not_stop_the_others(state: State) -> None:
    cfg = Config.model_validate(
        {
            "accounts": {"acct": {"type": "preview"}},
            "feeds": [
                {"name": n, "source": {"type": "records", "path": "x"}, "account": "acct"}
                for n in ("bad", "good")
            ],
        }
    )
    bad = FakeSource()
    bad.error = SourceError("feed bad: HTTP 404 from https://example.com/feed")
    good = FakeSource(article(1, feed="good"))
    publisher = FakePublisher()
    reports = Pipeline(
        cfg,
        state,
        sources={"bad": bad, "good": good},
        publishers={"acct": publisher},
        summarizers={"bad": FirstSentences(), "good": FirstSentences()},
    ).run_once()
    assert reports[0].error == "feed bad: HTTP 404 from https://example.com/feed"
    assert reports[1].posted == 1
    assert state.feed("bad").last_error == "feed bad: HTTP 404 from https://example.com/feed"


def test_a_stop_during_a_pass_stops_fetching_and_posts_nothing(state: State) -> None:
    """SIGTERM in a long first pass: the polls under way finish, no new feed is asked
    (one worker: the first feed, the one under way when the stop is seen, a spare)."""
    names = [f"f{i}" for i in range(30)]
    cfg = Config.model_validate(
        {
            "accounts": {"acct": {"type": "preview"}},
            "feeds": [
                {"name": n, "source": {"type": "records", "path": "x"}, "account": "acct"}
                for n in names
            ],
        }
    )
    stop = threading.Event()

    class Slow(FakeSource):
        def poll(self, cursor: dict[str, object]) -> Poll:
            if self is sources["f0"]:
                stop.set()  # the signal arrives while the first feed is fetched
            time.sleep(0.05)  # a fetch takes a while (longer than waking the caller)
            return super().poll(cursor)

    sources = {n: Slow(article(1, feed=n)) for n in names}
    publisher = FakePublisher()
    reports = Pipeline(
        cfg,
        state,
        sources=sources,
        publishers={"acct": publisher},
        summarizers={n: FirstSentences() for n in names},
        stop=stop,
        workers=1,
    ).run_once()
    asked = [n for n, source in sources.items() if source.cursors]
    assert len(asked) <= 5, f"{len(asked)} of 30 feeds were fetched after the stop"
    assert reports == [] and publisher.writes == 0


def test_a_transient_failure_is_retried_on_the_next_pass(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    publisher.fail_with = TransientError("HTTP 503")
    [report] = pipeline(state, source, publisher).run_once()
    assert report.failed == 1
    assert state.find_item("item-1").last_error == "HTTP 503"
    publisher.fail_with = None
    [report] = pipeline(state, source, publisher).run_once()
    assert report.posted == 1 and publisher.writes == 1
    assert state.find_item("item-1").status == "posted"


def test_a_rejected_thread_is_not_retried_blindly(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    publisher.fail_with = RejectedError("400 InvalidRecord")
    pipeline(state, source, publisher).run_once()
    publisher.fail_with = None
    pipeline(state, source, publisher).run_once()
    assert publisher.writes == 0
    assert state.errors("f") == [("item-1", "rejected", "400 InvalidRecord")]


def test_a_thread_our_own_checks_refuse_is_not_retried_blindly(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    publisher.fail_with = InvalidThread("post 2 is invalid: text longer than 300 graphemes")
    pipeline(state, source, publisher).run_once()
    publisher.fail_with = None
    pipeline(state, source, publisher).run_once()
    assert publisher.writes == 0
    [(_, kind, _)] = state.errors("f")
    assert kind == ErrorKind.REJECTED


def test_publish_says_what_happened_as_a_type(state: State) -> None:
    source = FakeSource(article(1), article(2))
    publisher = FakePublisher()
    p = pipeline(state, source, publisher, cfg=config(backfill=5))
    p.poll(p.config.feeds[0])
    first, second = state.pending("f", max_attempts=3, max_interrupted=3)
    posted = p.publish(first, p.config.feeds[0])
    assert isinstance(posted, Posted) and posted.refs == next(iter(publisher.repo.values()))
    again = p.publish(state.find_item(first.id), p.config.feeds[0])
    assert again == Skipped("item is posted")
    publisher.fail_with = TransientError("HTTP 503")
    assert p.publish(second, p.config.feeds[0]) == Failed("HTTP 503", transient=True)


def test_a_crash_after_the_write_is_recovered_without_writing_again(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    source = FakeSource(article(1))
    publisher = FakePublisher()
    publisher.crash_after_write = True
    with pytest.raises(Crash):
        pipeline(State.open(path), source, publisher).run_once()
    publisher.crash_after_write = False
    restarted = State.open(path)
    restarted.owner = "new-process:1"  # the old owner (this test's PID) "died"
    restarted.conn.execute("UPDATE threads SET owner = 'old-host:1'")
    pipeline(restarted, source, publisher).run_once()
    assert publisher.writes == 1
    assert restarted.find_item("item-1").status == "posted"


def test_a_timeout_that_did_write_is_found_on_the_next_pass(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    publisher.written_then_fail = TransientError("read timed out")
    pipeline(state, source, publisher).run_once()
    assert state.find_item("item-1").status == "planned"
    publisher.written_then_fail = None
    pipeline(state, source, publisher).run_once()
    assert publisher.writes == 1
    assert state.find_item("item-1").status == "posted"


def test_a_timeout_that_did_not_write_is_written_on_the_next_pass(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    publisher.fail_with = TransientError("connect timed out")
    pipeline(state, source, publisher).run_once()
    publisher.fail_with = None
    pipeline(state, source, publisher).run_once()
    assert publisher.writes == 1
    assert state.find_item("item-1").status == "posted"


def test_dry_run_shows_threads_but_records_nothing_as_posted(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    pipeline(state, source, publisher, dry_run=True).run_once()
    assert publisher.writes == 1
    assert state.find_item("item-1").status == "new"
    assert state.conn.execute("SELECT count(*) FROM threads").fetchone()[0] == 0


def test_repost_writes_a_fresh_thread_even_after_posting(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    p = pipeline(state, source, publisher)
    p.run_once()
    assert p.repost("https://example.com/posts/1") == "posted"
    assert publisher.writes == 2
    assert len({refs[0].uri for refs in publisher.repo.values()}) == 2


def test_repost_boost_reposts_the_earlier_root(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    p = pipeline(state, source, publisher)
    p.run_once()
    assert p.repost("item-1", boost=True) == "boosted"
    [root] = publisher.boosted
    assert root == next(iter(publisher.repo.values()))[0]
    assert [t.kind for t in state.threads("f", "item-1")] == ["post", "boost"]


def test_a_boost_interrupted_after_its_write_is_found_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    source = FakeSource(article(1))
    publisher = FakePublisher()
    pipeline(State.open(path), source, publisher).run_once()
    publisher.crash_after_write = True
    with pytest.raises(Crash):
        pipeline(State.open(path), source, publisher).repost("item-1", boost=True)
    publisher.crash_after_write = False
    restarted = State.open(path)
    restarted.conn.execute("UPDATE threads SET owner = 'old-host:1' WHERE kind = 'boost'")
    pipeline(restarted, source, publisher).run_once()
    assert publisher.writes == 2  # the thread and the boost, each once
    [boost] = [t for t in restarted.threads("f", "item-1") if t.kind == "boost"]
    assert boost.status == "posted"


def test_repost_of_an_unknown_item_is_a_clear_error(state: State) -> None:
    p = pipeline(state, FakeSource(), FakePublisher())
    with pytest.raises(UnknownItem, match=re.escape("unknown item 'https://nowhere.example/x'")):
        p.repost("https://nowhere.example/x")


def test_a_stop_request_finishes_the_item_in_hand_and_stops(state: State) -> None:
    source = FakeSource(*[article(n) for n in range(1, 4)])
    publisher = FakePublisher()
    p = pipeline(state, source, publisher, cfg=config(backfill=5))
    original = publisher.write

    def write_then_stop(plan):  # type: ignore[no-untyped-def]
        p.stop.set()
        return original(plan)

    publisher.write = write_then_stop  # type: ignore[method-assign]
    p.run_once()
    assert publisher.writes == 1
    statuses = sorted(state.counts("f").items())
    assert statuses == [("new", 2), ("posted", 1)]


def test_feed_settings_are_used(state: State) -> None:
    assert isinstance(config().feeds[0], FeedSettings)


def test_a_throttled_feed_records_when_it_may_be_polled_again(state: State) -> None:
    from datetime import UTC, datetime

    from bot.errors import FeedThrottled

    source = FakeSource()
    later = datetime(2026, 5, 1, 13, 0, tzinfo=UTC)
    source.error = FeedThrottled("feed f: HTTP 429", next_poll=later)
    [report] = pipeline(state, source, FakePublisher()).run_once()
    assert report.error == "feed f: HTTP 429"
    assert state.feed("f").next_poll_at == later


def test_a_rate_limited_account_pauses_and_repost_says_so(state: State) -> None:
    source = FakeSource(article(1), article(2))
    publisher = FakePublisher()
    clock = Clock()
    reset = clock.now.timestamp() + 600
    publisher.fail_with = TransientError("HTTP 429 RateLimitExceeded", retry_at=reset)
    p = pipeline(state, source, publisher, cfg=config(backfill=5))
    p.clock = clock
    [report] = p.run_once()
    assert report.failed == 1  # the second item waits: the account is paused
    assert state.counts("f") == {"planned": 1, "new": 1}  # looked up before a retry
    # the pause is in the state file too, for ``status`` in another process
    until = datetime.fromtimestamp(reset, UTC).isoformat(timespec="seconds")
    assert state.conn.execute("SELECT account, until, reason FROM pauses").fetchall() == [
        ("acct", until, "HTTP 429 RateLimitExceeded")
    ]
    publisher.fail_with = None
    with pytest.raises(RepostRefused, match="account acct is rate limited until 12:10 UTC"):
        p.repost("item-1")
    clock.advance(seconds=601)
    assert p.repost("item-1") == "posted"
    # item-2's write failed after its plan was saved: the next run looks it up first
    with pytest.raises(RepostRefused, match="waiting to be finished by the next run"):
        p.repost("item-2")


class Recording(FakePublisher):
    def __init__(self) -> None:
        super().__init__()
        self.threads: list[object] = []

    def prepare(self, thread, target, *, now):  # type: ignore[no-untyped-def]
        self.threads.append(thread)
        return super().prepare(thread, target, now=now)


def test_keyword_hashtags_are_added_only_when_configured(state: State) -> None:
    text = (
        "Volcano eruption forces evacuation of coastal villages. The volcano had been quiet "
        "for decades. Scientists monitor the volcano and the evacuation closely."
    )
    publisher = Recording()
    source = FakeSource(article(1, text=text))
    pipeline(state, source, publisher, cfg=config(summary={"keywords": 2})).run_once()
    tags = [f.value for p in publisher.threads[0].posts for f in p.facets if f.kind == "tag"]  # type: ignore[attr-defined]
    assert tags == ["volcano", "evacuation"]

    plain = Recording()
    other = State.memory(clock=Clock())
    pipeline(other, FakeSource(article(1, text=text)), plain).run_once()
    assert not [f for p in plain.threads[0].posts for f in p.facets if f.kind == "tag"]  # type: ignore[attr-defined]


def test_an_account_that_cannot_log_in_uses_up_none_of_an_items_tries(state: State) -> None:
    """A long outage of logins (backoff, a refused password) is the account's failure:
    the item stays pending however many passes it lasts, then posts."""
    source = FakeSource(article(1))
    publisher = FakePublisher()
    publisher.fail_with = LoginUnavailable("login as bot.test: HTTP 503")
    p = pipeline(state, source, publisher)
    for _ in range(MAX_ATTEMPTS + 2):
        p.run_once()
    assert publisher.writes == 0
    assert state.find_item("item-1").attempts == 0
    publisher.fail_with = None
    p.run_once()
    assert publisher.writes == 1
    assert state.find_item("item-1").status == "posted"


def test_a_crash_before_planning_counts_as_interrupted_not_as_a_failure(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    p = pipeline(state, source, publisher)
    p.poll(p.config.feeds[0])
    for _ in range(MAX_ATTEMPTS + 1):  # more crashes than failures would be allowed
        (item,) = state.pending("f", max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED)
        claim = state.claim(item, "acct", norm_url=item.url)
        assert isinstance(claim, Claimed)
        p.recover()  # what a restart does with the claim a crash left behind
    item = state.find_item("item-1")
    assert item.attempts == 0
    given_up = state.given_up("f", max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED)
    assert given_up == []
    p.run_once()
    assert publisher.writes == 1


def test_an_item_that_kills_every_try_stops_after_its_own_bound(state: State) -> None:
    source = FakeSource(article(1))
    p = pipeline(state, source, FakePublisher())
    p.poll(p.config.feeds[0])
    for _ in range(MAX_INTERRUPTED):
        (item,) = state.pending("f", max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED)
        claim = state.claim(item, "acct", norm_url=item.url)
        assert isinstance(claim, Claimed)
        p.recover()
    assert state.pending("f", max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED) == []
    given_up = state.given_up("f", max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED)
    assert given_up == [("item-1", 0, MAX_INTERRUPTED)]


def test_an_edit_is_posted_again_when_the_feed_says_edits_repost(state: State) -> None:
    source = FakeSource(article(1))
    publisher = FakePublisher()
    cfg = config(edits="repost")
    pipeline(state, source, publisher, cfg=cfg).run_once()
    source.articles = [article(1, text="Article 1 was corrected. It says more now.")]
    [report] = pipeline(state, source, publisher, cfg=cfg).run_once()
    # the account's earlier thread of the same URL is this item's own: not a duplicate
    assert (report.new, report.posted, publisher.writes) == (1, 1, 2)
