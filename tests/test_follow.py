"""Following event streams: batches applied by the pipeline (items and cursor together),
the network-wide feed's filter and cap, and the streams the daemon plans per endpoint.

The stream and the source are small fakes behind feedbot's own interfaces (``Stream``,
``StreamedSource``); the state is real SQLite. The real transports against the real
PDS are in ``test_follow_pds.py``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from builders import Clock
from fakes import FakePublisher, FakeStreamedSource, FirstSentences, event

from bot.config import Config
from bot.errors import SourceError
from bot.follow import StreamKind, plan_streams, resume_cursor
from bot.model import Article
from bot.outcomes import ItemStatus
from bot.pipeline import Pipeline
from bot.state import State
from bot.streams import Batch, Op

ENDPOINT = "jetstream ws://127.0.0.1:1/xrpc"


def config(*feeds: dict[str, Any]) -> Config:
    return Config.model_validate({"accounts": {"acct": {"type": "preview"}}, "feeds": list(feeds)})


def feed(name: str = "f", repo: str = "did:plc:one", **extra: Any) -> dict[str, Any]:
    source = {
        "type": "atproto",
        "repo": repo,
        "follow": "jetstream",
        "jetstream": "ws://127.0.0.1:1/xrpc",
    }
    source.update(extra.pop("source", {}))
    return {"name": name, "account": "acct", "source": source, **extra}


def pipeline(
    state: State, cfg: Config, sources: dict[str, FakeStreamedSource], publisher: FakePublisher
) -> Pipeline:
    return Pipeline(
        cfg,
        state,
        sources=sources,
        publishers={"acct": publisher},
        summarizers={name: FirstSentences() for name in sources},
        clock=state.clock,
    )


@pytest.fixture
def state() -> State:
    return State.memory(clock=Clock())


def listed(state: State, name: str = "f") -> None:
    """The feed's first listing happened (the daemon's catch-up)."""
    state.record_poll(name, result="ok: 0 new")


def batch(cursor: int, *events: Any) -> Batch:
    return Batch(tuple(events), cursor)


def test_a_batch_posts_its_new_documents_at_once_and_saves_the_cursor(state: State) -> None:
    cfg = config(feed())
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, publisher)
    listed(state)
    [report] = pipe.apply_batch(ENDPOINT, batch(7, event(6, "a"), event(7, "b")), cfg.feeds)
    assert (report.new, report.posted) == (2, 2)
    assert publisher.writes == 2
    assert state.stream_cursor(ENDPOINT) == 7
    # the same events again (a restart resumes a little before the cursor): nothing twice
    pipe.apply_batch(ENDPOINT, batch(7, event(6, "a"), event(7, "b")), cfg.feeds)
    assert publisher.writes == 2


def test_items_and_cursor_of_a_batch_are_stored_together_or_not_at_all(state: State) -> None:
    cfg = config(feed())
    listed(state)
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, FakePublisher())
    pipe.apply_batch(ENDPOINT, batch(3, event(3, "a")), cfg.feeds)

    class Unstorable(FakeStreamedSource):
        def read_events(self, events: Any) -> Any:
            read = super().read_events(events)
            bad = Article("f", "at://bad", "https://example.com/bad", "Bad", tags=(object(),))  # type: ignore[arg-type]
            return type(read)((*read.articles, bad))

    pipe = pipeline(state, cfg, {"f": Unstorable()}, FakePublisher())
    with pytest.raises(TypeError):  # the second row can't be written: nothing of it is
        pipe.apply_batch(ENDPOINT, batch(9, event(8, "b")), cfg.feeds)
    assert state.stream_cursor(ENDPOINT) == 3
    assert "at://did:plc:one/site.standard.document/b" not in state.known(
        "f", ["at://did:plc:one/site.standard.document/b"]
    )


def test_a_repo_feed_s_events_wait_for_its_first_listing(state: State) -> None:
    cfg = config(feed())
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, publisher)
    assert pipe.apply_batch(ENDPOINT, batch(5, event(5, "a")), cfg.feeds) == []
    assert publisher.writes == 0
    assert state.stream_cursor(ENDPOINT) == 5  # the listing, not the stream, reads those


def test_other_repos_and_collections_are_ignored(state: State) -> None:
    cfg = config(feed())
    listed(state)
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, publisher)
    [report] = pipe.apply_batch(ENDPOINT, batch(2, event(2, "a", did="did:plc:two")), cfg.feeds)
    assert (report.new, publisher.writes) == (0, 0)


def test_a_network_wide_feed_posts_only_what_its_filter_lets_through(state: State) -> None:
    cfg = config(feed(repo="*", filter={"tags": ["rust"]}))
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource(did=None)}, publisher)
    events = [
        event(1, "a", did="did:plc:aaa", tags=("rust",)),
        event(2, "b", did="did:plc:bbb", tags=("python",)),
        event(3, "c", did="did:plc:ccc"),
    ]
    [report] = pipe.apply_batch(ENDPOINT, batch(3, *events), cfg.feeds)
    assert (report.new, report.posted, report.skipped) == (1, 1, 2)
    # strangers' documents the filter refused are not kept in the state file
    assert [item.id for item, _ in state.listing(feed="f")] == [
        "at://did:plc:aaa/site.standard.document/a"
    ]


def test_max_per_hour_skips_a_burst_with_a_reason_and_never_posts_it_later(
    state: State,
) -> None:
    cfg = config(feed(repo="*", max_per_hour=2))
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource(did=None)}, publisher)
    burst = [event(n, f"r{n}", did=f"did:plc:a{n:02d}") for n in range(5)]
    [report] = pipe.apply_batch(ENDPOINT, batch(5, *burst), cfg.feeds)
    assert (report.posted, report.skipped) == (2, 3)
    skipped = state.listing(feed="f", status=ItemStatus.SKIPPED)
    assert {item.note for item, _ in skipped} == {"over max_per_hour (2 in the last hour)"}
    # still within the hour: the next document is capped too
    state.clock.advance(minutes=30)  # type: ignore[attr-defined]
    pipe.apply_batch(ENDPOINT, batch(6, event(6, "late", did="did:plc:late")), cfg.feeds)
    assert publisher.writes == 2
    # an hour on, there is room again, and the skipped burst stays skipped
    state.clock.advance(minutes=31)  # type: ignore[attr-defined]
    pipe.apply_batch(ENDPOINT, batch(7, event(7, "next", did="did:plc:next")), cfg.feeds)
    assert publisher.writes == 3
    pipe.publish_pending(cfg.feeds[0], report)
    assert publisher.writes == 3


def test_an_update_with_edits_repost_posts_the_document_again(state: State) -> None:
    cfg = config(feed(edits="repost"))
    listed(state)
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, publisher)
    pipe.apply_batch(ENDPOINT, batch(1, event(1, "a", title="First")), cfg.feeds)
    edited = event(2, "a", op=Op.UPDATE, title="First, corrected")
    [report] = pipe.apply_batch(ENDPOINT, batch(2, edited), cfg.feeds)
    assert (report.new, publisher.writes) == (1, 2)


def test_an_update_with_edits_ignore_keeps_the_new_text_without_posting(state: State) -> None:
    cfg = config(feed())
    listed(state)
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, publisher)
    pipe.apply_batch(ENDPOINT, batch(1, event(1, "a", title="First")), cfg.feeds)
    pipe.apply_batch(ENDPOINT, batch(2, event(2, "a", op=Op.UPDATE, title="Again")), cfg.feeds)
    assert publisher.writes == 1
    [(item, _)] = state.listing(feed="f")
    assert item.article.title == "Again"


def test_an_update_of_a_document_never_seen_created_is_not_news(state: State) -> None:
    cfg = config(feed())
    listed(state)
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, publisher)
    [report] = pipe.apply_batch(ENDPOINT, batch(1, event(1, "old", op=Op.UPDATE)), cfg.feeds)
    assert (report.new, report.skipped, publisher.writes) == (0, 1, 0)


def test_a_delete_event_marks_the_item_deleted_and_it_is_never_posted_again(
    state: State,
) -> None:
    cfg = config(feed())
    listed(state)
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, publisher)
    pipe.apply_batch(ENDPOINT, batch(3, event(3, "gone")), cfg.feeds)
    pipe.apply_batch(ENDPOINT, batch(4, event(4, "gone", op=Op.DELETE)), cfg.feeds)
    uri = "at://did:plc:one/site.standard.document/gone"
    assert state.known("f", [uri])[uri][1] == ItemStatus.DELETED  # deletions: ignore
    # the stream replays its window after a restart: the create again posts nothing
    pipe.apply_batch(
        ENDPOINT, batch(4, event(3, "gone"), event(4, "gone", op=Op.DELETE)), cfg.feeds
    )
    assert publisher.writes == 1
    assert state.stream_cursor(ENDPOINT) == 4


def test_a_delete_event_with_deletions_delete_deletes_the_thread(state: State) -> None:
    cfg = config(feed(deletions="delete"))
    listed(state)
    publisher = FakePublisher()
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, publisher)
    pipe.apply_batch(ENDPOINT, batch(3, event(3, "gone")), cfg.feeds)
    assert publisher.repo
    pipe.apply_batch(ENDPOINT, batch(4, event(4, "gone", op=Op.DELETE)), cfg.feeds)
    assert publisher.repo == {} and publisher.deletes == 1


def test_one_feed_whose_repo_fails_leaves_the_others_going(state: State) -> None:
    class Broken(FakeStreamedSource):
        def read_events(self, events: Any) -> Any:
            raise SourceError("atproto repo did:plc:one: cannot resolve")

    cfg = config(feed("a"), feed("b", repo="*"))
    listed(state, "a")
    publisher = FakePublisher()
    sources = {"a": Broken(feed="a"), "b": FakeStreamedSource(did=None, feed="b")}
    reports = pipeline(state, cfg, sources, publisher).apply_batch(
        ENDPOINT, batch(1, event(1, "x")), cfg.feeds
    )
    assert [(r.feed, r.error is None, r.posted) for r in reports] == [
        ("a", False, 0),
        ("b", True, 1),
    ]
    assert state.stream_cursor(ENDPOINT) == 1


# --- the streams a configuration asks for ---------------------------------------------


def test_feeds_on_one_endpoint_share_one_stream_asking_for_the_union() -> None:
    cfg = config(
        feed("a"),
        feed("b", repo="did:plc:two", source={"collections": ["com.whtwnd.blog.entry"]}),
        feed("c", source={"follow": "firehose", "service": "https://relay.example"}),
        feed("d", source={"follow": "poll"}),
    )
    sources = {
        "a": FakeStreamedSource(),
        "b": FakeStreamedSource(did="did:plc:two"),
        "c": FakeStreamedSource(),
        "d": FakeStreamedSource(),
    }
    plan = plan_streams(cfg, sources)
    assert plan.feeds == {ENDPOINT: ("a", "b"), "firehose https://relay.example": ("c",)}
    spec = plan.specs[ENDPOINT]
    assert spec.kind == StreamKind.JETSTREAM
    assert spec.subscription.dids == frozenset({"did:plc:one", "did:plc:two"})
    assert spec.allow_private  # the config named it


def test_a_network_wide_feed_makes_its_stream_follow_every_repo() -> None:
    cfg = config(feed("a"), feed("b", repo="*"))
    sources = {"a": FakeStreamedSource(), "b": FakeStreamedSource(did=None)}
    assert plan_streams(cfg, sources).specs[ENDPOINT].subscription.dids is None


def test_a_firehose_without_service_follows_the_repo_s_own_pds_as_content() -> None:
    cfg = config(feed(source={"follow": "firehose"}), feed("g", source={"follow": "firehose"}))
    broken = FakeStreamedSource()
    broken.home_error = SourceError("cannot resolve did:plc:one")
    plan = plan_streams(cfg, {"f": FakeStreamedSource(), "g": broken})
    [spec] = plan.specs.values()
    assert spec.endpoint == "firehose http://127.0.0.1:1/pds"
    assert not spec.allow_private  # named by a DID document, not by the owner
    assert plan.problems == ["g: no stream yet: cannot resolve did:plc:one"]


def test_a_restart_resumes_a_safety_window_before_the_saved_cursor() -> None:
    assert resume_cursor(StreamKind.JETSTREAM, None) is None
    assert resume_cursor(StreamKind.JETSTREAM, 1_700_000_000_000_000) == 1_699_999_995_000_000
    assert resume_cursor(StreamKind.FIREHOSE, 1000) == 900
    assert resume_cursor(StreamKind.FIREHOSE, 30) == 0


def test_capped_items_are_logged_with_the_reason(state: State, caplog: Any) -> None:
    cfg = config(feed(repo="*", max_per_hour=1))
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource(did=None)}, FakePublisher())
    with caplog.at_level(logging.WARNING, logger="bot.pipeline"):
        pipe.apply_batch(
            ENDPOINT,
            batch(2, event(1, "a", did="did:plc:a"), event(2, "b", did="did:plc:b")),
            cfg.feeds,
        )
    assert "reason=over max_per_hour (1 in the last hour)" in caplog.text


def test_status_shows_what_the_cap_held_back_and_each_stream_s_cursor(state: State) -> None:
    from bot.status import gather, render

    cfg = config(feed(repo="*", max_per_hour=1))
    pipe = pipeline(state, cfg, {"f": FakeStreamedSource(did=None)}, FakePublisher())
    burst = [event(n, f"r{n}", did=f"did:plc:a{n:02d}") for n in range(3)]
    pipe.apply_batch(ENDPOINT, batch(42, *burst), cfg.feeds)
    status = gather(cfg, state)
    assert (status.feeds[0].capped_last_hour, status.feeds[0].max_per_hour) == (2, 1)
    assert [(s.endpoint, s.cursor) for s in status.streams] == [(ENDPOINT, 42)]
    text = render(status, terminal=False, now=state.clock())
    assert "f: 2 items skipped in the last hour, over max_per_hour 1" in text
    assert f"stream {ENDPOINT}: cursor 42, last batch 0s ago" in text


def test_run_once_has_nothing_to_poll_for_a_network_wide_feed(http_server: Any) -> None:
    import httpx

    from bot.config import AtprotoSourceSettings
    from bot.sources.atproto import AtprotoSource

    settings = AtprotoSourceSettings(
        type="atproto", repo="*", follow="jetstream", plc_url=http_server.url
    )
    with httpx.Client() as client:
        poll = AtprotoSource("f", settings, client).poll({"kept": 1})
    assert (poll.articles, poll.cursor, poll.problems) == ((), {"kept": 1}, ())
    assert http_server.requests == []  # nothing asked of the network


def test_a_poll_and_a_stream_batch_publishing_one_feed_at_once_post_once(
    tmp_path: Any,
) -> None:
    import threading

    from builders import until

    class Slow(FakePublisher):
        """Holds the first write until released, like a slow PDS."""

        def __init__(self) -> None:
            super().__init__()
            self.inside = threading.Event()
            self.release = threading.Event()

        def write(self, plan: Any) -> Any:
            self.inside.set()
            assert self.release.wait(10)
            return super().write(plan)

    cfg = config(feed())
    with State.open(tmp_path / "state.db", clock=Clock()) as state:
        listed(state)
        publisher = Slow()
        pipe = pipeline(state, cfg, {"f": FakeStreamedSource()}, publisher)
        stream = threading.Thread(
            target=pipe.apply_batch, args=(ENDPOINT, batch(1, event(1, "a")), cfg.feeds)
        )
        stream.start()
        assert publisher.inside.wait(10)  # the stream's thread is writing the thread
        from bot.pipeline import FeedReport

        poll = threading.Thread(target=pipe.publish_pending, args=(cfg.feeds[0], FeedReport("f")))
        poll.start()  # the poll job's pass over the same feed meanwhile
        poll.join(0.3)
        assert poll.is_alive()  # it waits for the feed rather than "recovering" the write
        publisher.release.set()
        stream.join(10)
        poll.join(10)
        until(lambda: not (stream.is_alive() or poll.is_alive()))
        assert publisher.writes == 1
        threads = state.threads("f", "at://did:plc:one/site.standard.document/a")
        assert [t.status for t in threads] == ["posted"]


def test_each_kind_of_stream_gets_its_transport_and_content_endpoints_are_guarded() -> None:
    from bot.follow import StreamSpec
    from bot.streams import Subscription
    from bot.streams.firehose import FirehoseStream
    from bot.streams.jetstream import JetstreamStream
    from bot.wiring import make_stream

    wanted = Subscription(frozenset({"site.standard.document"}), None)
    jet = make_stream(StreamSpec(StreamKind.JETSTREAM, "wss://js.example/xrpc", wanted, True))
    assert isinstance(jet, JetstreamStream) and jet.endpoint == "jetstream wss://js.example/xrpc"
    home = make_stream(StreamSpec(StreamKind.FIREHOSE, "https://pds.example", wanted, False))
    assert isinstance(home, FirehoseStream) and home.public_only
    named = make_stream(StreamSpec(StreamKind.FIREHOSE, "http://127.0.0.1:9", wanted, True))
    assert isinstance(named, FirehoseStream) and not named.public_only
