"""The daemon's streams, in process: one stream per endpoint started with the feeds, the
real atproto source turning its events into articles (DID documents from a real HTTP
server on 127.0.0.1), a reload restarting only the stream whose subscription changed,
and ``/healthz``'s view of each stream. The stream itself is a fake behind ``Stream``;
the real transports are in ``test_follow_pds.py``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import until
from fakes import FakeStream
from httpserver import LocalServer, Response

from bot.config import load_config
from bot.daemon import Daemon
from bot.follow import StreamSpec
from bot.outcomes import ItemStatus
from bot.streams import Batch, Op, RecordEvent

DOC = "site.standard.document"
AUTHORS = ("did:plc:followaaaaaaaaaaaaaaaaaa", "did:plc:followbbbbbbbbbbbbbbbbbb")


def record(n: int, tags: list[str]) -> dict[str, Any]:
    return {
        "$type": DOC,
        "site": "https://wide.example",
        "path": f"/n/{n}",
        "title": f"Wide note {n}",
        "publishedAt": "2026-05-01T12:00:00.000Z",
        "textContent": f"Note {n} says a plain thing. It says another one too.",
        "tags": tags,
    }


def create(seq: int, did: str, n: int, tags: list[str]) -> RecordEvent:
    return RecordEvent(seq, did, DOC, f"3mnwide{n:05d}", Op.CREATE, f"bafy{n}", record(n, tags))


@pytest.fixture
def plc(http_server: LocalServer) -> LocalServer:
    for did in AUTHORS:
        doc = {
            "id": did,
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": "https://pds.wide.example",
                }
            ],
        }
        http_server.routes[f"/{did}"] = Response(200, json.dumps(doc))
    return http_server


def write(path: Path, plc: LocalServer, *, tags: str = "[rust]", extra: str = "") -> None:
    path.write_text(
        f"""state: {path.parent / "feedbot.db"}
accounts:
  preview: {{type: preview}}
feeds:
  - name: wide
    account: preview
    interval: 1h
    max_per_hour: 2
    filter: {{tags: {tags}}}
    source:
      type: atproto
      repo: "*"
      follow: jetstream
      jetstream: ws://127.0.0.1:9/xrpc
      plc_url: {plc.url}
{extra}""",
        encoding="utf-8",
    )


Start = Callable[..., tuple[Daemon, list[FakeStream], Path]]


@pytest.fixture
def start(tmp_path: Path, plc: LocalServer) -> Iterator[Start]:
    """Start a daemon whose first stream delivers ``batches``; closed after the test."""
    started: list[Daemon] = []

    def run(
        batches: list[Batch], *, fail: list[BaseException] | None = None, **settings: str
    ) -> tuple[Daemon, list[FakeStream], Path]:
        path = tmp_path / "feeds.yaml"
        write(path, plc, **settings)
        made: list[FakeStream] = []

        def factory(spec: StreamSpec) -> FakeStream:
            stream = FakeStream(spec.endpoint, [] if made else batches)
            stream.raise_first = list(fail or []) if not made else []
            stream.spec = spec  # type: ignore[attr-defined]
            made.append(stream)
            return stream

        d = Daemon(
            load_config(path, env={}), load=lambda: load_config(path, env={}), streams=factory
        )
        started.append(d)
        d.start()
        return d, made, path

    yield run
    for d in started:
        d.close()


def test_the_daemon_posts_a_network_wide_feed_s_matching_documents_from_its_stream(
    start: Start,
) -> None:
    batch = Batch(
        (
            create(10, AUTHORS[0], 1, ["rust"]),
            create(11, AUTHORS[1], 2, ["go"]),
            create(12, AUTHORS[1], 3, ["Rust"]),
            create(13, AUTHORS[0], 4, ["rust"]),
        ),
        13,
    )
    d, made, _ = start([batch])
    [stream] = made
    assert stream.endpoint == "jetstream ws://127.0.0.1:9/xrpc"
    until(lambda: d.state.stream_cursor(stream.endpoint) == 13)
    until(lambda: d.state.counts("wide").get(ItemStatus.POSTED) == 2)
    # "go" is filtered out and not kept; the third rust document is over max_per_hour
    assert d.state.counts("wide") == {ItemStatus.POSTED: 2, ItemStatus.SKIPPED: 1}
    until(lambda: d.stream_statuses()[0].cursor == 13)  # set once the batch is applied
    ok, message = d.health()
    assert ok and "stream jetstream ws://127.0.0.1:9/xrpc: live" in message
    assert "cursor 13" in message


def test_a_reload_restarts_only_a_stream_whose_subscription_changed(
    start: Start, plc: LocalServer
) -> None:
    d, made, path = start([])
    assert len(made) == 1
    assert d.reload()
    assert len(made) == 1  # the same subscription: the stream runs on
    write(path, plc, extra="      collections: [site.standard.document, com.whtwnd.blog.entry]\n")
    assert d.reload()
    assert len(made) == 2
    assert made[1].spec.subscription.collections == {DOC, "com.whtwnd.blog.entry"}  # type: ignore[attr-defined]
    assert list(d.runners) == [made[1].endpoint]
    assert not d.runners[made[1].endpoint].stop.is_set()


def test_events_become_articles_through_the_polling_path(http_server: LocalServer) -> None:
    import httpx

    from bot.config import AtprotoSourceSettings
    from bot.sources.atproto import AtprotoSource

    did = AUTHORS[0]
    doc = {
        "id": did,
        "service": [
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": http_server.url,
            }
        ],
    }
    http_server.routes[f"/{did}"] = Response(200, json.dumps(doc))
    http_server.routes["/xrpc/com.atproto.repo.getRecord"] = Response(
        400, json.dumps({"error": "RecordNotFound", "message": "Could not locate record"})
    )
    settings = AtprotoSourceSettings(
        type="atproto", repo=did, follow="firehose", plc_url=http_server.url
    )
    orphan = {**record(3, []), "site": f"at://{did}/site.standard.publication/3mnpubgone"}
    events = (
        create(1, did, 1, ["rust"]),
        create(2, AUTHORS[1], 2, []),  # another repo: not this feed's
        RecordEvent(3, did, DOC, "3mnwide00001", Op.UPDATE, "bafy1b", record(1, ["rust"])),
        RecordEvent(4, did, DOC, "3mnwide00003", Op.CREATE, "bafy3", orphan),
        RecordEvent(5, did, "com.whtwnd.blog.entry", "3mnw", Op.CREATE, "bafyw", {}),
        RecordEvent(6, did, DOC, "3mnwide00009", Op.DELETE, None, None),
    )
    with httpx.Client() as client:
        source = AtprotoSource("f", settings, client)
        assert source.home_pds() == http_server.url
        read = source.read_events(events)
    uri = f"at://{did}/{DOC}/3mnwide00001"
    assert [a.id for a in read.articles] == [uri, uri]
    assert read.articles[0].url == "https://wide.example/n/1"
    assert read.articles[0].refs[0].cid == "bafy1"  # the event's CID, for the card's refs
    assert read.updated == {uri}
    assert read.deleted == (f"at://{did}/{DOC}/3mnwide00009",)
    [problem] = read.problems  # the document whose publication can't be found
    assert problem.startswith(f"at://{did}/{DOC}/3mnwide00003: publication ")
    assert "not found" in problem

    # created and deleted within one batch: only the deletion is left, nothing to post
    gone = (
        create(1, did, 1, ["rust"]),
        RecordEvent(2, did, DOC, "3mnwide00001", Op.DELETE, None, None),
    )
    with httpx.Client() as client:
        read = AtprotoSource("f", settings, client).read_events(gone)
    assert (read.articles, read.updated, read.deleted) == ((), frozenset(), (uri,))


def test_a_stream_without_a_cursor_or_past_it_has_its_feeds_listed_again(start: Start) -> None:
    from bot.daemon import CATCH_UP_SETTLE
    from bot.errors import CursorTooOld

    d, made, _ = start([], fail=[CursorTooOld("cursor older than the stream keeps")])
    until(lambda: len(made[0].started) == 2)  # again, at the live tip
    assert made[0].started == [None, None]
    job = d.scheduler.get_job("\x00catch-up wide")
    assert job is not None
    left = job.next_run_time - d.clock()
    assert timedelta(0) < left <= CATCH_UP_SETTLE


def test_a_resolver_hiccup_does_not_restart_a_running_stream(start: Start) -> None:
    from bot.errors import SourceError

    d, made, _ = start([])
    source = d.pipeline.sources["wide"]
    real = source.subscription  # type: ignore[attr-defined]

    def failing() -> Any:
        raise SourceError("cannot resolve: PLC answered HTTP 503")

    source.subscription = failing  # type: ignore[attr-defined]
    d.check_streams()
    assert len(made) == 1 and list(d.runners) == [made[0].endpoint]
    source.subscription = real  # type: ignore[attr-defined]
    d.check_streams()
    assert len(made) == 1
