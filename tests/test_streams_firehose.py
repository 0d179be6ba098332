"""FirehoseStream against the local PDS's own subscribeRepos (real events, real CAR blocks)."""

from __future__ import annotations

import threading

from builders import FAST_STREAM as FAST
from builders import stream_doc as _doc
from pds import Account, LocalPds
from stream_harness import Running

from bot.nsids import STANDARD_DOCUMENT, STANDARD_PUBLICATION
from bot.streams import Op, Subscription
from bot.streams.firehose import FirehoseStream
from bot.streams.reconnect import Tuning


def _stream(
    pds: LocalPds, *dids: str, collections: tuple[str, ...] = (STANDARD_DOCUMENT,)
) -> FirehoseStream:
    subscription = Subscription(frozenset(collections), frozenset(dids) if dids else None)
    return FirehoseStream(pds.pds_url, subscription, tuning=FAST)


def _live(pds: LocalPds, account: Account, running: Running) -> None:
    """Wait until the stream is live: write probes until one comes through."""
    for attempt in range(100):
        pds.put_record(account, STANDARD_DOCUMENT, _doc(f"probe {attempt}"))
        try:
            running.wait_for(lambda: bool(running.events), timeout=0.5)
            return
        except AssertionError:
            continue
    raise AssertionError("the stream never went live")


def test_creates_updates_and_deletes_come_in_order_with_getrecords_records(
    pds: LocalPds,
) -> None:
    alice = pds.create_account("alice")
    cover = pds.upload_blob(alice, b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")
    uri, cid = pds.put_record(
        alice,
        STANDARD_DOCUMENT,
        _doc("First", coverImage=cover, textContent="Hello", tags=["a", "b"]),
    )
    created = pds.get_record(uri)
    rkey = uri.rsplit("/", 1)[1]
    _, cid2 = pds.put_record(alice, STANDARD_DOCUMENT, _doc("First, edited"), rkey=rkey)
    updated = pds.get_record(uri)
    pds.delete_record(alice, uri)

    with Running(_stream(pds, alice.did), cursor=0) as running:
        events = running.wait_events(3)
    assert [e.op for e in events] == [Op.CREATE, Op.UPDATE, Op.DELETE]
    assert all(e.uri == uri for e in events)
    assert events[0].cid == cid == created["cid"]
    assert events[0].record == created["value"]
    assert events[0].record is not None
    assert events[0].record["coverImage"]["ref"] == {"$link": cover["ref"]["$link"]}
    assert events[1].cid == cid2 == updated["cid"]
    assert events[1].record == updated["value"]
    assert events[2].cid is None and events[2].record is None
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_a_saved_cursor_resumes_after_what_was_delivered(pds: LocalPds) -> None:
    bob = pds.create_account("bob")
    first, _ = pds.put_record(bob, STANDARD_DOCUMENT, _doc("one"))
    with Running(_stream(pds, bob.did), cursor=0) as running:
        running.wait_events(1)
        running.wait_for(lambda: running.cursor is not None)
        saved = running.cursor
    second, _ = pds.put_record(bob, STANDARD_DOCUMENT, _doc("two"))
    with Running(_stream(pds, bob.did), cursor=saved) as again:
        events = again.wait_events(1)
        third, _ = pds.put_record(bob, STANDARD_DOCUMENT, _doc("three"))
        events = again.wait_events(2)
    assert [e.uri for e in events] == [second, third]
    assert first not in [e.uri for e in again.events]


def test_only_the_subscriptions_repos_and_collections_come_through(pds: LocalPds) -> None:
    carol, dave = pds.create_account("carol"), pds.create_account("dave")
    mine, _ = pds.put_record(carol, STANDARD_DOCUMENT, _doc("carol's"))
    pds.put_record(carol, STANDARD_PUBLICATION, {"name": "Carol", "url": "https://c.example"})
    pds.put_record(carol, "app.bsky.feed.post", {"text": "hi", "createdAt": "2026-11-30T12:00:00Z"})
    theirs, _ = pds.put_record(dave, STANDARD_DOCUMENT, _doc("dave's"))
    last, _ = pds.put_record(carol, STANDARD_DOCUMENT, _doc("carol's last"))
    with Running(_stream(pds, carol.did), cursor=0) as one:
        one.wait_for(lambda: last in [e.uri for e in one.events])
    assert [e.uri for e in one.events] == [mine, last]

    everyone = _stream(pds, collections=(STANDARD_DOCUMENT, STANDARD_PUBLICATION))
    with Running(everyone, cursor=0) as all_repos:
        all_repos.wait_for(lambda: last in [e.uri for e in all_repos.events])
    uris = [e.uri for e in all_repos.events]
    assert {mine, theirs, last} <= set(uris)
    assert any(
        e.collection == STANDARD_PUBLICATION and e.did == carol.did for e in all_repos.events
    )
    assert not any(e.collection == "app.bsky.feed.post" for e in all_repos.events)


def test_from_the_live_tip_only_later_events_come(pds: LocalPds) -> None:
    erin = pds.create_account("erin")
    before, _ = pds.put_record(erin, STANDARD_DOCUMENT, _doc("before"))
    # the PDS hands a new subscriber what its sequencer has not yet polled as "live":
    # let it see ``before`` first
    threading.Event().wait(1.0)
    with Running(_stream(pds, erin.did)) as running:
        _live(pds, erin, running)
        after, _ = pds.put_record(erin, STANDARD_DOCUMENT, _doc("after"))
        running.wait_for(lambda: after in [e.uri for e in running.events])
    assert before not in [e.uri for e in running.events]


def test_stop_is_honoured_within_a_second(pds: LocalPds) -> None:
    running = Running(_stream(pds, "did:plc:nobodynobodynobodynobody"))
    threading.Event().wait(0.5)
    assert running.close() < 1.0
    assert running.error is None


def test_a_burst_is_delivered_in_a_few_batches_not_one_per_event(pds: LocalPds) -> None:
    hank = pds.create_account("hank")
    uris = [pds.put_record(hank, STANDARD_DOCUMENT, _doc(f"burst {n}"))[0] for n in range(30)]
    wide = Tuning(stall_after=5.0, batch_window=0.5, max_batch=500)
    stream = FirehoseStream(
        pds.pds_url,
        Subscription(frozenset({STANDARD_DOCUMENT}), frozenset({hank.did})),
        tuning=wide,
    )
    with Running(stream, cursor=0) as running:
        running.wait_events(30)
    assert [e.uri for e in running.events] == uris  # 30 commits, 30 frames
    with_events = [b for b in running.batches if b.events]
    assert len(with_events) <= 3
    assert all(b.cursor == b.events[-1].seq for b in with_events)


def test_a_batch_holds_at_most_max_batch_events_when_frames_queue_up(pds: LocalPds) -> None:
    iris = pds.create_account("iris")
    for n in range(12):
        pds.put_record(iris, STANDARD_DOCUMENT, _doc(f"queued {n}"))
    small = Tuning(stall_after=5.0, batch_window=0.5, max_batch=5)
    stream = FirehoseStream(
        pds.pds_url,
        Subscription(frozenset({STANDARD_DOCUMENT}), frozenset({iris.did})),
        tuning=small,
    )
    with Running(stream, cursor=0) as running:
        running.wait_events(12)
    assert all(len(b.events) <= 5 for b in running.batches)
    assert len([b for b in running.batches if b.events]) >= 3


def test_frames_without_wanted_events_still_advance_the_cursor(pds: LocalPds) -> None:
    jack = pds.create_account("jack")
    pds.put_record(
        jack, "app.bsky.feed.post", {"text": "not a document", "createdAt": "2026-11-30T12:00:00Z"}
    )
    stream = _stream(pds, jack.did)
    with Running(stream, cursor=0) as running:
        running.wait_for(lambda: running.cursor is not None and running.cursor > 0)
    assert running.events == []
    assert all(not b.events for b in running.batches)
