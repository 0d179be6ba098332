"""The local Jetstream bridge, checked with the SDK's own ``JetstreamClient``.

Every event here is a real write on the local PDS, carried by its real firehose through
the bridge; these tests are what make the bridge a trustworthy stand-in for Jetstream.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import zstandard
from atproto_jetstream import JetstreamClient
from atproto_jetstream.exceptions import JetstreamCursorTooOldError
from jetstream import JetstreamProcess, firehose_url
from jetstream_bridge import BridgeThread
from pds import Account, LocalPds
from websockets.sync.client import connect
from websockets.typing import Subprotocol

DOC = "site.standard.document"
POST = "app.bsky.feed.post"
WAIT = 20.0  # seconds for an event to arrive through PDS → firehose → bridge → client


def doc(title: str, **fields: Any) -> dict[str, Any]:
    return {
        "site": "https://news.example.com",
        "path": f"/{title.lower().replace(' ', '-')}",
        "title": title,
        "publishedAt": "2026-05-01T10:00:00.000Z",
        "textContent": f"Body of {title}.",
        **fields,
    }


def post(text: str) -> dict[str, Any]:
    return {"text": text, "createdAt": "2026-05-01T10:00:00.000Z"}


class Listener:
    """The SDK's ``JetstreamClient`` on a thread; every message it delivers, in order."""

    def __init__(self, url: str, params: dict[str, Any], compress: bool = False) -> None:
        self.client = JetstreamClient(params=params, base_uri=url, compress=compress)
        self.messages: queue.Queue[Any] = queue.Queue()
        self.seen: list[Any] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.client.start(self.messages.put)
        except BaseException as exc:  # handed to the test thread
            self.error = exc

    def wait_for(self, matches: Callable[[Any], bool], timeout: float = WAIT) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise AssertionError(f"the client stopped: {self.error!r}")
            try:
                message = self.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(message)
            if matches(message):
                return message
        raise AssertionError(f"no matching message in {timeout}s; saw {self.seen!r}")

    def commit(self, uri: str, operation: str, timeout: float = WAIT) -> Any:
        return self.wait_for(lambda m: _uri(m) == uri and m.operation == operation, timeout)

    def stop(self) -> None:
        self.client.stop()
        self._thread.join(10)


def _uri(message: Any) -> str | None:
    if not message.py_type.endswith("#commit"):
        return None
    return f"at://{message.did}/{message.collection}/{message.rkey}"


@pytest.fixture
def listen(jetstream: JetstreamProcess) -> Iterator[Callable[..., Listener]]:
    listeners: list[Listener] = []

    def start(url: str | None = None, compress: bool = False, **params: Any) -> Listener:
        listener = Listener(url or jetstream.url, params, compress)
        listeners.append(listener)
        return listener

    yield start
    for listener in listeners:
        listener.stop()


def raw_frames(jetstream: JetstreamProcess, query: str, count: int) -> list[str | bytes]:
    """The first ``count`` websocket messages of a subscription, as they are on the wire."""
    url = f"{jetstream.url}/network.bsky.jetstream.subscribeEvents?{query}"
    with connect(url, subprotocols=[Subprotocol("xrpc.v1.json")], open_timeout=WAIT) as ws:
        return [ws.recv(WAIT) for _ in range(count)]


def ready(listener: Listener, pds: LocalPds, account: Account) -> None:
    """Wait until the client is subscribed: a post it is asked to see arrives."""
    uri, _ = pds.put_record(account, POST, post("ready?"))
    listener.commit(uri, "create")


def test_sdk_client_sees_a_documents_create_update_and_delete_as_listrecords_shows_it(
    pds: LocalPds, jetstream: JetstreamProcess, listen: Callable[..., Listener]
) -> None:
    alice = pds.create_account("alice")
    listener = listen(collections=[DOC, POST], dids=[alice.did])
    ready(listener, pds, alice)
    cover = pds.upload_blob(alice, b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
    uri, cid = pds.put_record(alice, DOC, doc("First light", coverImage=cover, tags=["rust"]))
    created = listener.commit(uri, "create")
    assert created.cid == cid
    assert (created.record.title, created.record.tags) == ("First light", ["rust"])
    # on the wire, the record is exactly what getRecord shows (the blob ref as {"$link"})
    query = f"cursor={created.seq}&collections={DOC}&dids={alice.did}"
    frame = json.loads(raw_frames(jetstream, query, 1)[0])
    shown = pds.get_record(uri)["value"]
    assert frame["payload"]["record"] == shown
    assert shown["coverImage"]["ref"] == cover["ref"]

    rkey = uri.rsplit("/", 1)[1]
    _, new_cid = pds.put_record(alice, DOC, doc("First light, revised"), rkey=rkey)
    updated = listener.commit(uri, "update")
    assert (updated.cid, updated.record.title) == (new_cid, "First light, revised")

    pds.delete_record(alice, uri)
    deleted = listener.commit(uri, "delete")
    assert deleted.cid is None and deleted.record is None
    seqs = [m.seq for m in listener.seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert created.rev < updated.rev < deleted.rev


def test_filters_by_collection_prefix_and_did(
    pds: LocalPds, listen: Callable[..., Listener]
) -> None:
    alice, bob = pds.create_account("alice"), pds.create_account("bob")
    listener = listen(kinds=["commit"], collections=["site.standard.*"], dids=[alice.did], cursor=0)
    first, _ = pds.put_record(alice, DOC, doc("Alice one"))
    listener.commit(first, "create")
    pds.put_record(alice, POST, post("a post: another collection"))
    pds.put_record(bob, DOC, doc("Bob's: another repo"))
    pds.create_records(bob, POST, [post(f"bob {n}") for n in range(20)])
    last, _ = pds.put_record(
        alice, "site.standard.publication", {"url": "https://a.example", "name": "A"}
    )
    listener.commit(last, "create")
    assert [(_uri(m) or "").split("/")[3] for m in listener.seen] == [
        DOC,
        "site.standard.publication",
    ]
    assert {m.did for m in listener.seen} == {alice.did}


def test_kinds_identity_and_account_wrap_the_upstream_events(
    pds: LocalPds, listen: Callable[..., Listener]
) -> None:
    listener = listen(kinds=["identity", "account"])
    # the client is subscribed once an event about an account made after it arrives
    carol = pds.create_account("carol")
    identity = listener.wait_for(lambda m: m.py_type.endswith("#identity") and m.did == carol.did)
    assert identity.identity.did == carol.did
    assert identity.identity.handle == carol.handle
    account = listener.wait_for(lambda m: m.py_type.endswith("#account") and m.did == carol.did)
    assert account.account.active is True
    assert not any(m.py_type.endswith("#commit") for m in listener.seen)


def test_resumes_inclusively_from_a_cursor(pds: LocalPds, listen: Callable[..., Listener]) -> None:
    dana = pds.create_account("dana")
    uris = [pds.put_record(dana, DOC, doc(f"Dana {n}"))[0] for n in range(3)]
    everything = listen(kinds=["commit"], collections=[DOC], dids=[dana.did], cursor=0)
    everything.commit(uris[2], "create")
    assert [_uri(m) for m in everything.seen] == uris
    cursor = everything.seen[1].seq
    resumed = listen(kinds=["commit"], collections=[DOC], dids=[dana.did], cursor=cursor)
    resumed.commit(uris[2], "create")
    assert [_uri(m) for m in resumed.seen] == uris[1:]


def test_an_evicted_cursor_is_refused_with_cursor_too_old(pds: LocalPds) -> None:
    erin = pds.create_account("erin")
    pds.create_records(erin, POST, [post(f"erin {n}") for n in range(10)])
    with BridgeThread(firehose_url(pds), buffer=4) as small:
        assert small.bridge is not None
        assert len(small.bridge.ring) == 4 and small.bridge.total > 4
        client = JetstreamClient(params={"cursor": 1}, base_uri=small.bridge.url)
        with pytest.raises(JetstreamCursorTooOldError):
            client.start(lambda message: None)
        # an event still kept is a valid cursor
        newest = small.bridge.ring[-1].seq
        kept = Listener(small.bridge.url, {"cursor": newest})
        try:
            assert kept.wait_for(lambda m: True).seq == newest
        finally:
            kept.stop()


def test_a_future_cursor_gets_an_info_frame_then_the_live_tip(
    pds: LocalPds, jetstream: JetstreamProcess
) -> None:
    fay = pds.create_account("fay")
    query = f"cursor=999999999999999&kinds=commit&dids={fay.did}"
    url = f"{jetstream.url}/network.bsky.jetstream.subscribeEvents?{query}"
    with connect(url, subprotocols=[Subprotocol("xrpc.v1.json")], open_timeout=WAIT) as ws:
        info = json.loads(ws.recv(WAIT))
        assert info["payload"]["$type"] == "network.bsky.jetstream.subscribeEvents#info"
        assert info["payload"]["name"] == "FutureCursor"
        uri, _ = pds.put_record(fay, POST, post("live"))
        frame = json.loads(ws.recv(WAIT))
        assert frame["payload"]["rkey"] == uri.rsplit("/", 1)[1]


def test_a_microsecond_cursor_replays_from_that_instant(
    pds: LocalPds, listen: Callable[..., Listener]
) -> None:
    gus = pds.create_account("gus")
    live = listen(collections=[DOC], dids=[gus.did], cursor=0)
    before, _ = pds.put_record(gus, DOC, doc("Before"))
    live.commit(before, "create")
    time.sleep(0.05)
    instant = time.time_ns() // 1000
    after, _ = pds.put_record(gus, DOC, doc("After"))
    live.commit(after, "create")
    replay = listen(kinds=["commit"], collections=[DOC], dids=[gus.did], cursor=instant)
    replay.commit(after, "create")
    assert [_uri(m) for m in replay.seen] == [after]


def test_max_message_size_skips_bigger_frames(
    pds: LocalPds, listen: Callable[..., Listener]
) -> None:
    hal = pds.create_account("hal")
    listener = listen(collections=[DOC], dids=[hal.did], cursor=0, max_message_size_bytes=4000)
    big, _ = pds.put_record(hal, DOC, doc("Big", textContent="x" * 5000))
    small, _ = pds.put_record(hal, DOC, doc("Small"))
    listener.commit(small, "create")
    assert big not in [_uri(m) for m in listener.seen]


def test_compressed_frames_decode_with_the_served_dictionary(
    pds: LocalPds, jetstream: JetstreamProcess, listen: Callable[..., Listener]
) -> None:
    ivy = pds.create_account("ivy")
    listener = listen(collections=[DOC], dids=[ivy.did], cursor=0, compress=True)
    uri, cid = pds.put_record(ivy, DOC, doc("Squeezed"))
    assert listener.commit(uri, "create").cid == cid
    assert listener.client.compressed

    # on the wire: binary frames, each one zstd frame of exactly the text frame
    http_base = "http" + jetstream.url.removeprefix("ws")
    blob = httpx.get(f"{http_base}/network.bsky.jetstream.getZstdDictionary").content
    dictionary = zstandard.ZstdCompressionDict(blob)
    query = f"cursor=0&kinds=commit&dids={ivy.did}&zstdDictionary={dictionary.dict_id()}"
    raw = raw_frames(jetstream, query, 1)[0]
    assert isinstance(raw, bytes)
    text = zstandard.ZstdDecompressor(dict_data=dictionary).decompress(raw)
    frame = json.loads(text)
    assert frame["payload"]["cid"] == cid
    assert len(raw) < len(text)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("collections=not%20an%20nsid", "InvalidRequest"),
        ("dids=alice", "InvalidRequest"),
        ("kinds=commits", "InvalidRequest"),
        ("kinds=identity&collections=site.standard.document", "InvalidRequest"),
        ("cursor=-1", "InvalidRequest"),
        ("maxMessageSizeBytes=4294967296", "InvalidRequest"),
        ("zstdDictionary=7", "UnknownZstdDictionary"),
    ],
)
def test_bad_parameters_are_refused_before_the_upgrade(
    jetstream: JetstreamProcess, query: str, error: str
) -> None:
    http_base = "http" + jetstream.url.removeprefix("ws")
    response = httpx.get(f"{http_base}/network.bsky.jetstream.subscribeEvents?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_a_restarted_bridge_serves_the_same_events_under_the_same_seqs(
    pds: LocalPds, jetstream: JetstreamProcess, listen: Callable[..., Listener]
) -> None:
    jay = pds.create_account("jay")
    before = listen(collections=[DOC], dids=[jay.did], cursor=0)
    uri, _ = pds.put_record(jay, DOC, doc("Kept"))
    seen = before.commit(uri, "create")
    before.stop()
    port = jetstream.port
    jetstream.restart()
    assert jetstream.port == port
    after = listen(collections=[DOC], dids=[jay.did], cursor=0)
    again = after.commit(uri, "create")
    assert (again.seq, again.cid, again.record) == (seen.seq, seen.cid, seen.record)
