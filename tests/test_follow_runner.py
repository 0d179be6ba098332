"""The thread that keeps one stream running: resuming from the saved cursor, catching up
when the cursor is too old, and outliving failures (a fake ``Stream``, real SQLite)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from builders import until
from fakes import FakeStream, event

from bot import follow
from bot.errors import CursorTooOld, StateError, StreamError
from bot.follow import Phase, StreamKind, StreamRunner, StreamSpec
from bot.state import State
from bot.streams import Batch, Subscription

SPEC = StreamSpec(
    StreamKind.FIREHOSE, "http://127.0.0.1:1", Subscription(frozenset({"c"}), None), True
)


@pytest.fixture
def state() -> Iterator[State]:
    with State.memory() as state:
        yield state


class Applied:
    """The pipeline's part: stores the cursor like ``apply_batch`` does."""

    def __init__(self, state: State, fail: int = 0) -> None:
        self.state = state
        self.batches: list[Batch] = []
        self.fail = fail
        self.caught_up: list[Sequence[str]] = []

    def apply(self, endpoint: str, batch: Batch) -> None:
        if self.fail:
            self.fail -= 1
            raise StateError("the state file is locked")
        self.batches.append(batch)
        self.state.store([], [], norm=str, stream=(endpoint, batch.cursor))

    def catch_up(self, feeds: Sequence[str]) -> None:
        self.caught_up.append(feeds)


def runner(state: State, stream: FakeStream, applied: Applied) -> StreamRunner:
    return StreamRunner(
        SPEC, ("a", "b"), stream, state, apply=applied.apply, catch_up=applied.catch_up
    )


def test_it_resumes_a_safety_window_before_the_saved_cursor(state: State) -> None:
    state.store([], [], norm=str, stream=(SPEC.endpoint, 1000))
    stream = FakeStream(SPEC.endpoint, [Batch((event(1001, "x"),), 1001)])
    applied = Applied(state)
    run = runner(state, stream, applied)
    run.start()
    try:
        until(lambda: run.status().cursor == 1001)  # applied, then shown
        assert state.stream_cursor(SPEC.endpoint) == 1001
        assert stream.started == [1000 - follow.FIREHOSE_WINDOW_SEQ]
        status = run.status()
        assert (status.phase, status.cursor) == (Phase.LIVE, 1001)
        assert "cursor 1001" in status.line(datetime.now(UTC))
    finally:
        run.close()


def test_a_cursor_too_old_catches_up_by_listing_then_starts_at_the_live_tip(
    state: State,
) -> None:
    state.store([], [], norm=str, stream=(SPEC.endpoint, 5))
    stream = FakeStream(SPEC.endpoint, [Batch((), 900)])
    stream.raise_first = [CursorTooOld("cursor 5 is older than the stream's window")]
    applied = Applied(state)
    run = runner(state, stream, applied)
    run.start()
    try:
        until(lambda: state.stream_cursor(SPEC.endpoint) == 900)
        assert stream.started == [0, None]
        assert applied.caught_up == [("a", "b")]
    finally:
        run.close()


def test_a_failed_stream_or_batch_is_tried_again_and_the_thread_lives_on(
    state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "RETRY_FIRST", 0.05)
    stream = FakeStream(SPEC.endpoint)
    stream.raise_first = [StreamError("refused: HTTP 403"), RuntimeError("a transport bug")]
    applied = Applied(state, fail=1)
    stream.batches = [Batch((), 10), Batch((), 11)]
    run = runner(state, stream, applied)
    run.start()
    try:
        until(lambda: len(stream.started) >= 3)
        # the first batch failed to apply: its cursor was not saved, the next run
        # started from the last saved cursor (none) and applied the second one
        until(lambda: state.stream_cursor(SPEC.endpoint) == 11)
        assert stream.started[:3] == [None, None, None]
        assert run.status().phase == Phase.LIVE
    finally:
        run.close()
    assert not run._thread.is_alive()


def test_closing_stops_a_running_stream_promptly(state: State) -> None:
    run = runner(state, FakeStream(SPEC.endpoint), Applied(state))
    run.start()
    started = time.monotonic()
    run.close()
    assert time.monotonic() - started < 2
    assert not run._thread.is_alive()
