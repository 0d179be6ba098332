"""The Bluesky publisher against the real local PDS: atomic writes, lookups and sessions.
Requests are counted on our side of the wire (a wrapping httpx transport)."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bluesky_fakes import MemorySessions
from pds import Account, LocalPds, XrpcError

from bot.atproto_ids import TidClock, record_cid
from bot.config import BlueskyAccount
from bot.model import Plan, PlannedPost, Post, Target, Thread
from bot.publish.bluesky import BlueskyPublisher

POST = "app.bsky.feed.post"


class CountingTransport(httpx.BaseTransport):
    """A real HTTP transport that counts XRPC methods called through it."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.calls: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[request.url.path.removeprefix("/xrpc/")] += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def account_settings(pds: LocalPds, account: Account) -> BlueskyAccount:
    return BlueskyAccount(
        type="bluesky",
        handle=account.handle,
        app_password=account.password,
        pds=pds.pds_url,
        timeout=timedelta(seconds=10),
    )


def publisher(
    pds: LocalPds, account: Account, store: MemorySessions, transport: CountingTransport
) -> BlueskyPublisher:
    return BlueskyPublisher(
        "me", account_settings(pds, account), store, transport=transport, sleep=lambda _: None
    )


def hand_made_plan(did: str, texts: list[str]) -> Plan:
    """A reply chain built the way prepare builds one: rkeys and CIDs before any write."""
    tids = TidClock()
    posts: list[PlannedPost] = []
    root: dict[str, str] | None = None
    parent: dict[str, str] | None = None
    for i, text in enumerate(texts):
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "langs": ["en"],
            "createdAt": f"2026-01-02T03:04:05.{i:03d}Z",
        }
        if root and parent:
            record["reply"] = {"root": root, "parent": parent}
        rkey, cid = tids.next(), record_cid(record)
        parent = {"uri": f"at://{did}/{POST}/{rkey}", "cid": cid}
        root = root or parent
        posts.append(PlannedPost(rkey, cid, record))
    return Plan("feed", "item", "https://example.com/a", "me", did, tuple(posts))


def test_a_thread_is_written_in_one_request_and_found_afterwards(pds: LocalPds) -> None:
    account = pds.create_account("write")
    transport = CountingTransport()
    pub = publisher(pds, account, MemorySessions(), transport)
    plan = hand_made_plan(account.did, ["one", "two", "three"])

    assert pub.find(plan) is None
    refs = pub.write(plan)

    assert transport.calls["com.atproto.repo.applyWrites"] == 1
    assert [r.cid for r in refs] == [p.cid for p in plan.posts]
    for ref, planned in zip(refs, plan.posts, strict=True):
        got = pds.get_record(ref.uri)
        assert got["cid"] == planned.cid
        assert got["value"] == planned.record
    third = pds.get_record(refs[2].uri)["value"]
    assert third["reply"]["root"] == {"uri": refs[0].uri, "cid": refs[0].cid}
    assert third["reply"]["parent"] == {"uri": refs[1].uri, "cid": refs[1].cid}
    assert pub.find(plan) == refs
    pub.close()


def test_rewriting_a_written_plan_is_a_500_on_the_pds_and_write_finds_it_instead(
    pds: LocalPds,
) -> None:
    account = pds.create_account("dup")
    transport = CountingTransport()
    pub = publisher(pds, account, MemorySessions(), transport)
    plan = hand_made_plan(account.did, ["once"])
    first = pub.write(plan)

    writes = [
        {
            "$type": "com.atproto.repo.applyWrites#create",
            "collection": POST,
            "rkey": p.rkey,
            "value": p.record,
        }
        for p in plan.posts
    ]
    with pytest.raises(XrpcError) as info:
        pds.apply_writes(account, writes)
    assert info.value.status == 500  # what the notes warn about

    assert pub.write(plan) == first
    listed = pds.query("com.atproto.repo.listRecords", repo=account.did, collection=POST)
    assert len(listed["records"]) == 1
    pub.close()


def test_two_publishers_sharing_a_store_log_in_exactly_once(pds: LocalPds) -> None:
    account = pds.create_account("reuse")
    store = MemorySessions()
    transport = CountingTransport()

    for texts in (["first run"], ["second run"]):
        pub = publisher(pds, account, store, transport)
        pub.write(hand_made_plan(account.did, texts))
        pub.close()

    assert transport.calls["com.atproto.server.createSession"] == 1
    assert transport.calls["com.atproto.repo.applyWrites"] == 2
    assert len(store.saves) == 1


def forged(exp: float) -> str:
    """A well-formed but unsigned access token the PDS will refuse."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'exp': int(exp)})}.c2ln"


def stored_session(pds: LocalPds, account: Account) -> str:
    store = MemorySessions()
    pub = publisher(pds, account, store, CountingTransport())
    pub.write(hand_made_plan(account.did, ["x"]))  # logs in
    pub.close()
    return store.data["me"]


def replace_tokens(session: str, access: str | None = None, refresh: str | None = None) -> str:
    handle, did, old_access, old_refresh, endpoint = session.split(":::")
    return ":::".join([handle, did, access or old_access, refresh or old_refresh, endpoint])


@pytest.mark.parametrize("exp_offset", [-60, 3600], ids=["expired", "refused"])
def test_an_expired_or_refused_access_token_is_refreshed_not_logged_in(
    pds: LocalPds, exp_offset: int
) -> None:
    account = pds.create_account("refresh")
    session = replace_tokens(stored_session(pds, account), access=forged(time.time() + exp_offset))
    store = MemorySessions({"me": session})
    transport = CountingTransport()

    pub = publisher(pds, account, store, transport)
    refs = pub.write(hand_made_plan(account.did, ["after refresh"]))
    pub.close()

    assert len(refs) == 1
    assert transport.calls["com.atproto.server.refreshSession"] >= 1
    assert transport.calls["com.atproto.server.createSession"] == 0
    assert store.data["me"] != session


def test_when_refreshing_fails_it_logs_in_again(pds: LocalPds) -> None:
    account = pds.create_account("relogin")
    session = replace_tokens(
        stored_session(pds, account),
        access=forged(time.time() - 60),
        refresh=forged(time.time() + 86400),
    )
    store = MemorySessions({"me": session})
    transport = CountingTransport()

    pub = publisher(pds, account, store, transport)
    pub.write(hand_made_plan(account.did, ["after login"]))
    pub.close()

    assert transport.calls["com.atproto.server.createSession"] == 1


def test_garbage_stored_session_logs_in(pds: LocalPds) -> None:
    account = pds.create_account("garbage")
    store = MemorySessions({"me": "garbage:::not:::a:::session"})
    transport = CountingTransport()

    pub = publisher(pds, account, store, transport)
    pub.write(hand_made_plan(account.did, ["fresh"]))
    pub.close()

    assert transport.calls["com.atproto.server.createSession"] == 1
    assert store.data["me"].split(":::")[1] == account.did


def test_boost_is_a_native_repost_of_the_root_post(pds: LocalPds) -> None:
    account = pds.create_account("boost")
    transport = CountingTransport()
    pub = publisher(pds, account, MemorySessions(), transport)
    root = pub.write(hand_made_plan(account.did, ["root", "reply"]))[0]

    target = Target("f", "item", "https://example.com/a")
    plan = pub.prepare_boost(root, target, now=datetime(2026, 1, 3, tzinfo=UTC))
    assert pub.find(plan) is None
    (ref,) = pub.write(plan)
    assert pub.find(plan) == (ref,)  # a crash after the write is recovered, not redone
    pub.close()

    got = pds.get_record(ref.uri)
    assert ref.uri.startswith(f"at://{account.did}/app.bsky.feed.repost/")
    assert got["cid"] == ref.cid
    assert got["value"]["subject"] == {"uri": root.uri, "cid": root.cid}
    assert got["value"]["createdAt"] == "2026-01-03T00:00:00.000Z"


def test_a_repost_plans_fresh_record_keys(pds: LocalPds) -> None:
    account = pds.create_account("again")
    pub = publisher(pds, account, MemorySessions(), CountingTransport())
    thread = Thread(posts=(Post("same text"), Post("same summary")), langs=("en",))
    target = Target("feed", "item", "https://example.com/a")
    now = datetime(2026, 1, 3, tzinfo=UTC)

    first = pub.prepare(thread, target, now=now)
    second = pub.prepare(thread, target, now=now)
    pub.write(first)
    pub.write(second)
    pub.close()

    assert {p.rkey for p in first.posts}.isdisjoint(p.rkey for p in second.posts)
    listed = pds.query("com.atproto.repo.listRecords", repo=account.did, collection=POST)
    assert len(listed["records"]) == 4
