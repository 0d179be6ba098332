"""Isolation: whatever a feed or an article makes the code do, it fails that feed or
that item only, in a pass (``run_once``), in a daemon job (``run_feed``) and in a dry
run, and ``status`` shows the feed's last poll and its error."""

from __future__ import annotations

from typing import Any

import pytest
from builders import Clock, article
from fakes import FakePublisher, FakeSource, FirstSentences

from bot.config import Config
from bot.model import Article, Poll, Summary
from bot.outcomes import ErrorKind
from bot.pipeline import Pipeline
from bot.state import State
from bot.summarize import Budget


class ExplodingSource:
    """A source that trips over input nobody foresaw."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def poll(self, cursor: dict[str, Any]) -> Poll:
        raise self.error


class PickySummarizer(FirstSentences):
    """Crashes on one article, as a summarizer bug would on hostile text."""

    def summarize(self, article: Article, budget: Budget) -> Summary:
        if "bomb" in article.title:
            raise ValueError("unexpected\ninput")
        return super().summarize(article, budget)


def two_feeds() -> Config:
    return Config.model_validate(
        {
            "accounts": {"acct": {"type": "preview"}},
            "feeds": [
                {"name": n, "source": {"type": "records", "path": "x"}, "account": "acct"}
                for n in ("bad", "good")
            ],
        }
    )


def build(state: State, bad: Any, good: Any, **kw: Any) -> tuple[Pipeline, FakePublisher]:
    publisher = FakePublisher()
    summarizer = kw.pop("summarizer", FirstSentences())
    pipeline = Pipeline(
        two_feeds(),
        state,
        sources={"bad": bad, "good": good},
        publishers={"acct": publisher},
        summarizers={"bad": summarizer, "good": summarizer},
        clock=Clock(),
        **kw,
    )
    return pipeline, publisher


@pytest.fixture
def state() -> State:
    return State.memory(clock=Clock())


@pytest.mark.parametrize(
    "error",
    [RecursionError("maximum recursion depth exceeded"), OverflowError("date"), KeyError("x")],
    ids=["recursion", "overflow", "keyerror"],
)
def test_a_source_crashing_fails_its_feed_only_and_status_says_so(
    state: State, error: Exception
) -> None:
    pipeline, _ = build(state, ExplodingSource(error), FakeSource(article(1, feed="good")))
    reports = pipeline.run_once()
    assert reports[0].error is not None
    assert reports[0].error.startswith(f"feed bad: could not be read: {type(error).__name__}")
    assert reports[1].posted == 1
    row = state.feed("bad")
    assert row.last_poll_at is not None
    assert row.last_error == reports[0].error


def test_a_source_crashing_in_a_daemon_job_is_recorded_too(state: State) -> None:
    pipeline, _ = build(state, ExplodingSource(RecursionError("deep")), FakeSource())
    report = pipeline.run_feed(pipeline.config.feed("bad"))
    assert report.error == "feed bad: could not be read: RecursionError: deep"
    assert state.feed("bad").last_poll_at is not None


def test_an_article_the_summarizer_trips_on_fails_alone_and_is_not_retried(
    state: State,
) -> None:
    source = FakeSource(article(1, feed="good", title="a bomb"), article(2, feed="good"))
    pipeline, _ = build(state, FakeSource(), source, summarizer=PickySummarizer())
    reports = pipeline.run_once()
    assert (reports[1].posted, reports[1].failed) == (1, 1)
    [(item, kind, error)] = state.errors("good")
    assert item == "item-1" and kind == ErrorKind.REJECTED
    assert error == "could not compose a thread: ValueError: unexpected input"


def test_a_dry_run_shows_what_it_can_and_goes_on(state: State) -> None:
    source = FakeSource(article(1, feed="good", title="a bomb"), article(2, feed="good"))
    pipeline, publisher = build(
        state, FakeSource(), source, summarizer=PickySummarizer(), dry_run=True
    )
    reports = pipeline.run_once()
    assert reports[1].error is None
    assert publisher.writes == 1
