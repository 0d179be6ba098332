"""JetstreamStream against the local Jetstream bridge, which serves the local PDS's real
firehose as Jetstream v2 frames (``tests/jetstream_bridge.py``, fixture ``jetstream``)."""

from __future__ import annotations

import time
from pathlib import Path

from builders import FAST_STREAM as FAST
from builders import stream_doc as _doc
from jetstream import JetstreamProcess, firehose_url
from pds import Account, LocalPds
from stream_harness import Running

from bot.errors import CursorTooOld
from bot.nsids import STANDARD_DOCUMENT, STANDARD_PUBLICATION
from bot.streams import Op, Subscription
from bot.streams.jetstream import JetstreamStream


def _stream(
    url: str,
    *dids: str,
    collections: tuple[str, ...] = (STANDARD_DOCUMENT,),
    compress: bool = True,
) -> JetstreamStream:
    subscription = Subscription(frozenset(collections), frozenset(dids) if dids else None)
    return JetstreamStream(url, subscription, compress=compress, tuning=FAST)


def _write_history(pds: LocalPds, account: Account) -> tuple[str, list[dict[str, object]]]:
    """Create, update and delete one document; returns its uri and getRecord's answers."""
    cover = pds.upload_blob(account, b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")
    uri, _ = pds.put_record(account, STANDARD_DOCUMENT, _doc("First", coverImage=cover, tags=["x"]))
    created = pds.get_record(uri)
    pds.put_record(account, STANDARD_DOCUMENT, _doc("Edited"), rkey=uri.rsplit("/", 1)[1])
    updated = pds.get_record(uri)
    pds.delete_record(account, uri)
    return uri, [created, updated]


def test_creates_updates_and_deletes_come_compressed_with_getrecords_records(
    pds: LocalPds, jetstream: JetstreamProcess
) -> None:
    alice = pds.create_account("jalice")
    uri, (created, updated) = _write_history(pds, alice)
    stream = _stream(jetstream.url, alice.did)
    with Running(stream, cursor=0) as running:
        events = running.wait_events(3)
    assert [e.op for e in events] == [Op.CREATE, Op.UPDATE, Op.DELETE]
    assert all(e.uri == uri for e in events)
    assert (events[0].cid, events[0].record) == (created["cid"], created["value"])
    assert (events[1].cid, events[1].record) == (updated["cid"], updated["value"])
    assert (events[2].cid, events[2].record) == (None, None)
    assert stream.compressed is True  # the bridge offers a zstd dictionary


def test_without_compression_the_same_events_come_as_plain_frames(
    pds: LocalPds, jetstream: JetstreamProcess
) -> None:
    bob = pds.create_account("jbob")
    uri, (created, _) = _write_history(pds, bob)
    stream = _stream(jetstream.url, bob.did, compress=False)
    with Running(stream, cursor=0) as running:
        events = running.wait_events(3)
    assert [(e.uri, e.op) for e in events] == [(uri, Op.CREATE), (uri, Op.UPDATE), (uri, Op.DELETE)]
    assert events[0].record == created["value"]
    assert stream.compressed is False


def test_a_saved_cursor_resumes_after_what_was_delivered(
    pds: LocalPds, jetstream: JetstreamProcess
) -> None:
    carol = pds.create_account("jcarol")
    first, _ = pds.put_record(carol, STANDARD_DOCUMENT, _doc("one"))
    with Running(_stream(jetstream.url, carol.did), cursor=0) as running:
        running.wait_events(1)
        saved = running.cursor
    second, _ = pds.put_record(carol, STANDARD_DOCUMENT, _doc("two"))
    with Running(_stream(jetstream.url, carol.did), cursor=saved) as again:
        again.wait_events(1)
        third, _ = pds.put_record(carol, STANDARD_DOCUMENT, _doc("three"))
        again.wait_events(2)
    assert [e.uri for e in again.events] == [second, third]  # the cursor's own event not again
    assert first not in [e.uri for e in again.events]


def test_only_the_subscriptions_repos_and_collections_come_through(
    pds: LocalPds, jetstream: JetstreamProcess
) -> None:
    dave, erin = pds.create_account("jdave"), pds.create_account("jerin")
    mine, _ = pds.put_record(dave, STANDARD_DOCUMENT, _doc("dave's"))
    pds.put_record(dave, "app.bsky.feed.post", {"text": "hi", "createdAt": "2026-11-30T12:00:00Z"})
    pub, _ = pds.put_record(
        dave, STANDARD_PUBLICATION, {"name": "Dave", "url": "https://d.example"}
    )
    theirs, _ = pds.put_record(erin, STANDARD_DOCUMENT, _doc("erin's"))
    last, _ = pds.put_record(dave, STANDARD_DOCUMENT, _doc("dave's last"))
    with Running(_stream(jetstream.url, dave.did), cursor=0) as one:
        one.wait_for(lambda: last in [e.uri for e in one.events])
    assert [e.uri for e in one.events] == [mine, last]

    everyone = _stream(jetstream.url, collections=(STANDARD_DOCUMENT, STANDARD_PUBLICATION))
    with Running(everyone, cursor=0) as all_repos:
        all_repos.wait_for(lambda: last in [e.uri for e in all_repos.events])
    uris = [e.uri for e in all_repos.events]
    assert {mine, pub, theirs, last} <= set(uris)
    assert not any(e.collection == "app.bsky.feed.post" for e in all_repos.events)


def test_the_stream_comes_back_after_the_bridge_restarts_and_misses_nothing(
    pds: LocalPds, jetstream: JetstreamProcess
) -> None:
    fred = pds.create_account("jfred")
    with Running(_stream(jetstream.url, fred.did), cursor=0) as running:
        one, _ = pds.put_record(fred, STANDARD_DOCUMENT, _doc("one"))
        running.wait_for(lambda: one in [e.uri for e in running.events])
        jetstream.kill()
        two, _ = pds.put_record(fred, STANDARD_DOCUMENT, _doc("two"))
        jetstream.start()  # the same port, the same seqs
        three, _ = pds.put_record(fred, STANDARD_DOCUMENT, _doc("three"))
        running.wait_for(lambda: three in [e.uri for e in running.events], timeout=60)
    assert [e.uri for e in running.events] == [one, two, three]


def test_a_cursor_older_than_the_bridge_keeps_raises_cursor_too_old(
    pds: LocalPds, tmp_path: Path
) -> None:
    gina = pds.create_account("jgina")
    for n in range(6):
        pds.put_record(gina, STANDARD_DOCUMENT, _doc(f"filler {n}"))
    small = JetstreamProcess(firehose_url(pds), tmp_path / "bridge.log", buffer=5)
    small.start()
    try:
        started = time.monotonic()
        error = Running(_stream(small.url, gina.did), cursor=0).wait_ended(timeout=30)
        assert isinstance(error, CursorTooOld)
        assert time.monotonic() - started < 30
    finally:
        small.kill()
