"""The Bluesky publisher against a fake XRPC endpoint on 127.0.0.1: rate limits, server
faults, timeouts, refused writes and sessions. Counts and waits are bounded."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from bluesky_fakes import (
    DID,
    HANDLE,
    PASSWORD,
    FakeXrpc,
    MemorySessions,
    X,
    error,
    jwt,
    plan,
    settings,
)
from httpserver import LocalServer, Request, Response

from bot.errors import RejectedError, TransientError
from bot.model import StrongRef, Target
from bot.publish.bluesky import BlueskyPublisher
from bot.publish.pacing import Backoff


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake(http_server: LocalServer) -> FakeXrpc:
    return FakeXrpc(http_server)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def publisher(fake: FakeXrpc, sleeps: Sleeps) -> Iterator[BlueskyPublisher]:
    pub = BlueskyPublisher(
        "me", settings(fake.server.url, timeout=0.5), MemorySessions(), sleep=sleeps
    )
    yield pub
    pub.close()


def test_rate_limit_gives_transient_error_with_the_reset_time(
    fake: FakeXrpc, publisher: BlueskyPublisher, sleeps: Sleeps
) -> None:
    reset = int(time.time()) + 900
    fake.script.append(
        lambda _: error(429, "RateLimitExceeded", "slow down", **{"RateLimit-Reset": str(reset)})
    )

    with pytest.raises(TransientError) as info:
        publisher.write(plan("3kaaaaaaaaa22"))

    assert info.value.retry_at == reset
    assert fake.hits("com.atproto.repo.applyWrites") == 1  # not hammered
    assert sleeps.calls == []


def test_server_errors_are_retried_with_backoff_then_succeed(
    fake: FakeXrpc, publisher: BlueskyPublisher, sleeps: Sleeps
) -> None:
    fake.script += [lambda _: error(503, "Unavailable"), lambda _: error(502, "BadGateway")]
    thread = plan("3kaaaaaaaab22", "3kaaaaaaaac22")

    refs = publisher.write(thread)

    assert [r.cid for r in refs] == [p.cid for p in thread.posts]
    assert fake.hits("com.atproto.repo.applyWrites") == 3
    assert len(sleeps.calls) == 2
    assert all(0 <= s <= Backoff().cap for s in sleeps.calls)


def test_persistent_server_errors_end_as_transient_after_bounded_tries(
    fake: FakeXrpc, publisher: BlueskyPublisher, sleeps: Sleeps
) -> None:
    fake.script += [lambda _: error(500, "InternalServerError")] * 10

    with pytest.raises(TransientError) as info:
        publisher.write(plan("3kaaaaaaaad22"))

    assert "HTTP 500" in str(info.value)
    assert fake.hits("com.atproto.repo.applyWrites") == Backoff().attempts
    assert len(sleeps.calls) == Backoff().attempts - 1
    assert fake.records == {}


def test_invalid_request_is_rejected_with_the_server_message_and_not_retried(
    fake: FakeXrpc, publisher: BlueskyPublisher, sleeps: Sleeps
) -> None:
    fake.script.append(
        lambda _: error(400, "InvalidRequest", "Invalid app.bsky.feed.post record: text too long")
    )

    with pytest.raises(RejectedError) as info:
        publisher.write(plan("3kaaaaaaaae22"))

    assert "InvalidRequest" in str(info.value)
    assert "text too long" in str(info.value)
    assert fake.hits("com.atproto.repo.applyWrites") == 1
    assert sleeps.calls == []


def test_timeout_is_retried(fake: FakeXrpc, publisher: BlueskyPublisher, sleeps: Sleeps) -> None:
    fake.script.append(lambda _: Response(503, "", delay=1.5))  # past the 0.5 s timeout

    started = time.monotonic()
    refs = publisher.write(plan("3kaaaaaaaaf22"))

    assert len(refs) == 1
    assert fake.hits("com.atproto.repo.applyWrites") == 2
    assert len(sleeps.calls) == 1
    assert time.monotonic() - started < 5


def test_a_write_that_landed_before_timing_out_is_found_not_written_twice(
    fake: FakeXrpc, publisher: BlueskyPublisher
) -> None:
    def commit_then_hang(request: Request) -> Response:
        fake.commit(request)
        return Response(200, "{}", {"Content-Type": "application/json"}, delay=1.5)

    fake.script.append(commit_then_hang)
    thread = plan("3kaaaaaaaag22", "3kaaaaaaaah22", "3kaaaaaaaai22")

    refs = publisher.write(thread)

    assert [r.cid for r in refs] == [p.cid for p in thread.posts]
    assert fake.hits("com.atproto.repo.applyWrites") == 1
    assert len(fake.records) == 3


def test_find_tells_written_from_unwritten_and_flags_a_partial_thread(
    fake: FakeXrpc, publisher: BlueskyPublisher
) -> None:
    thread = plan("3kaaaaaaaaj22", "3kaaaaaaaak22")
    assert publisher.find(thread) is None

    written = publisher.write(thread)
    assert publisher.find(thread) == written
    assert written == (
        StrongRef(f"at://{DID}/app.bsky.feed.post/3kaaaaaaaaj22", thread.posts[0].cid),
        StrongRef(f"at://{DID}/app.bsky.feed.post/3kaaaaaaaak22", thread.posts[1].cid),
    )

    del fake.records["3kaaaaaaaak22"]
    with pytest.raises(RejectedError, match="1 of 2"):
        publisher.find(thread)


def test_rewriting_an_existing_plan_fails_but_find_recovers_it(
    fake: FakeXrpc, publisher: BlueskyPublisher
) -> None:
    thread = plan("3kaaaaaaaal22")
    first = publisher.write(thread)

    # the PDS answers 500 to a duplicate rkey; write looks before each retry
    assert publisher.write(thread) == first
    assert fake.hits("com.atproto.repo.applyWrites") == 2


def test_boost_writes_a_repost_record(fake: FakeXrpc, publisher: BlueskyPublisher) -> None:
    from datetime import UTC, datetime

    root = StrongRef(f"at://{DID}/app.bsky.feed.post/3kaaaaaaaam22", "bafyreiabc")
    target = Target("f", "item", "https://example.com/a")
    plan = publisher.prepare_boost(root, target, now=datetime(2026, 1, 2, tzinfo=UTC))
    assert fake.records == {}  # planning writes nothing
    (ref,) = publisher.write(plan)
    assert publisher.find(plan) == (ref,)

    (record,) = fake.records.values()
    assert ref.uri.startswith(f"at://{DID}/app.bsky.feed.repost/")
    assert record["value"] == {
        "$type": "app.bsky.feed.repost",
        "subject": {"uri": root.uri, "cid": root.cid},
        "createdAt": "2026-01-02T00:00:00.000Z",
    }


# --- sessions ------------------------------------------------------------------------


def test_logs_in_once_and_the_next_publisher_reuses_the_stored_session(
    fake: FakeXrpc, sleeps: Sleeps
) -> None:
    store = MemorySessions()
    for i in range(2):
        pub = BlueskyPublisher("me", settings(fake.server.url), store, sleep=sleeps)
        pub.write(plan(f"3kaaaaaaab{i}22"))
        pub.close()

    assert fake.hits("com.atproto.server.createSession") == 1
    assert len(store.saves) == 1


def test_refused_token_is_refreshed_not_logged_in_again(fake: FakeXrpc, sleeps: Sleeps) -> None:
    store = MemorySessions()
    pub = BlueskyPublisher("me", settings(fake.server.url), store, sleep=sleeps)
    pub.write(plan("3kaaaaaaac222"))
    fake.valid_access.clear()  # the server no longer accepts the access token

    pub.write(plan("3kaaaaaaac322"))
    pub.close()

    assert fake.hits("com.atproto.server.createSession") == 1
    assert fake.hits("com.atproto.server.refreshSession") >= 1
    assert len(fake.records) == 2
    assert store.data["me"] == store.saves[-1] != store.saves[0]


def test_expired_access_token_in_the_store_is_refreshed_before_use(
    fake: FakeXrpc, sleeps: Sleeps
) -> None:
    fresh = fake.session_json()
    expired = jwt(time.time() - 60, "old")
    stored = f"{HANDLE}:::{DID}:::{expired}:::{fresh['refreshJwt']}:::{fake.server.url}/xrpc"
    store = MemorySessions({"me": stored})

    pub = BlueskyPublisher("me", settings(fake.server.url), store, sleep=sleeps)
    pub.write(plan("3kaaaaaaac422"))
    pub.close()

    assert fake.hits("com.atproto.server.createSession") == 0
    assert fake.hits("com.atproto.server.refreshSession") == 1
    assert store.data["me"] != stored


def test_when_refresh_fails_it_logs_in_again(fake: FakeXrpc, sleeps: Sleeps) -> None:
    expired = jwt(time.time() - 60, "old")
    revoked = jwt(time.time() + 86400, "revoked")
    stored = f"{HANDLE}:::{DID}:::{expired}:::{revoked}:::{fake.server.url}/xrpc"
    store = MemorySessions({"me": stored})

    pub = BlueskyPublisher("me", settings(fake.server.url), store, sleep=sleeps)
    pub.write(plan("3kaaaaaaac522"))
    pub.close()

    assert fake.hits("com.atproto.server.createSession") == 1
    assert len(fake.records) == 1


@pytest.mark.parametrize("garbage", ["", "nonsense", "a:::b:::c:::d:::e", "x" * 5000])
def test_garbage_stored_session_means_a_fresh_login(
    fake: FakeXrpc, sleeps: Sleeps, garbage: str
) -> None:
    store = MemorySessions({"me": garbage})
    pub = BlueskyPublisher("me", settings(fake.server.url), store, sleep=sleeps)
    pub.write(plan("3kaaaaaaac622"))
    pub.close()

    assert fake.hits("com.atproto.server.createSession") == 1
    assert store.data["me"] != garbage


def test_wrong_password_is_not_retried(fake: FakeXrpc, sleeps: Sleeps) -> None:
    """Transient for the item (it posts once the password is fixed); the login gate, not
    the item, is what stops (tests/test_login_gate.py)."""
    pub = BlueskyPublisher(
        "me", settings(fake.server.url, app_password="wrong-pass"), MemorySessions(), sleep=sleeps
    )
    with pytest.raises(TransientError, match="Invalid identifier or password"):
        pub.write(plan("3kaaaaaaac722"))
    pub.close()

    assert fake.hits("com.atproto.server.createSession") == 1
    assert sleeps.calls == []


def test_no_password_or_token_reaches_the_logs(
    fake: FakeXrpc, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = MemorySessions()
    fake.script += [lambda _: error(503, "Unavailable")]
    pub = BlueskyPublisher("me", settings(fake.server.url), store, sleep=sleeps)
    pub.write(plan("3kaaaaaaac822"))
    fake.valid_access.clear()
    pub.write(plan("3kaaaaaaac922"))
    pub.close()

    text = caplog.text
    assert "logging in account=me" in text  # the log did capture the publisher
    assert PASSWORD not in text
    for session in store.saves:
        for secret in session.split(":::")[2:4]:
            assert secret not in text


def test_threads_sharing_a_publisher_log_in_once(
    fake: FakeXrpc, publisher: BlueskyPublisher
) -> None:
    """The daemon's workers share an account's publisher; the first login is held until
    a second one arrives (or 0.3s pass), which only happens without the lock."""
    route = X + "com.atproto.server.createSession"
    login = fake.server.routes[route]
    assert callable(login)
    second = threading.Event()
    logins: list[Request] = []

    def slow_login(request: Request) -> Response:
        logins.append(request)
        if len(logins) == 1:
            second.wait(timeout=0.3)  # under the client's 0.5s timeout
        else:
            second.set()
        return login(request)

    fake.server.routes[route] = slow_login
    writers = [
        threading.Thread(target=publisher.write, args=(plan(rkey),))
        for rkey in ("3kaaaaaaaaz22", "3kaaaaaaabz22")
    ]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert len(logins) == 1
    assert len(fake.records) == 2
