"""Logins that can't lock the account out: a fake PDS on 127.0.0.1 answering 503 or 401
to every login; attempts are counted across many items, passes and restarts (the gate
lives in the real state file). The clock is injected; nothing sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from bluesky_fakes import FakeXrpc, error, plan, settings
from httpserver import LocalServer, Request, Response

from bot.errors import PublishError, RejectedError, TransientError
from bot.publish.bluesky import BlueskyPublisher
from bot.publish.session import LOGIN_BACKOFF, LOGIN_BACKOFF_MAX
from bot.state import State

LOGIN = "com.atproto.server.createSession"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _publisher(url: str, state: State, clock: Clock, **extra: object) -> BlueskyPublisher:
    return BlueskyPublisher("me", settings(url, **extra), state, clock=clock, sleep=lambda s: None)


def _items(pub: BlueskyPublisher, n: int) -> list[PublishError]:
    """``n`` items trying to post in one pass: each needs the login."""
    failures = []
    for i in range(n):
        with pytest.raises(PublishError) as caught:
            pub.write(plan(f"3kaaaaaaa{i:02d}22"))
        failures.append(caught.value)
    return failures


@pytest.fixture
def fake(http_server: LocalServer) -> FakeXrpc:
    return FakeXrpc(http_server)


def test_a_503_storm_costs_one_login_per_backoff_window_across_items_and_restarts(
    fake: FakeXrpc, tmp_path: Path
) -> None:
    fake.server.routes["/xrpc/" + LOGIN] = error(503, "Unavailable", "down for maintenance")
    state = State.open(tmp_path / "s.db")
    clock = Clock()
    pub = _publisher(fake.server.url, state, clock)
    failures = _items(pub, 10)
    assert fake.hits(LOGIN) == 1
    assert all(isinstance(f, TransientError) for f in failures)
    assert all(getattr(f, "retry_at", None) == clock.now + LOGIN_BACKOFF for f in failures)
    pub.close()

    # a restart reads the gate from the state file
    pub = _publisher(fake.server.url, state, clock)
    _items(pub, 5)
    assert fake.hits(LOGIN) == 1

    for n in range(2, 11):  # attempt n comes exactly one doubled window after n - 1
        wait = min(LOGIN_BACKOFF * 2 ** (n - 2), LOGIN_BACKOFF_MAX)
        clock.now += wait - 1
        _items(pub, 3)
        assert fake.hits(LOGIN) == n - 1
        clock.now += 1
        _items(pub, 3)
        assert fake.hits(LOGIN) == n
    gate = state.load_login("me")
    assert gate is not None and gate.failures == 10 and gate.refused is None
    pub.close()
    state.close()


def test_a_401_stops_logins_until_the_password_changes(fake: FakeXrpc, tmp_path: Path) -> None:
    state = State.open(tmp_path / "s.db")
    clock = Clock()
    pub = _publisher(fake.server.url, state, clock, app_password="wrong-password-123")
    failures = _items(pub, 5)
    assert all(isinstance(f, RejectedError) for f in failures)
    assert "until the handle or app_password in the config changes" in str(failures[-1])
    clock.now += 30 * 86400
    _items(pub, 5)
    assert fake.hits(LOGIN) == 1
    pub.close()

    pub = _publisher(fake.server.url, state, clock)  # the owner fixed the password
    pub.write(plan("3kaaaaaaaz022"))
    assert fake.hits(LOGIN) == 2
    assert state.load_login("me") is None, "a good login clears the gate"
    pub.close()
    state.close()


def test_a_login_that_works_after_failures_clears_the_gate(fake: FakeXrpc, tmp_path: Path) -> None:
    answers = [error(503, "Unavailable")]

    def flaky(request: Request) -> Response:
        return answers.pop(0) if answers else fake._create_session(request)

    fake.server.routes["/xrpc/" + LOGIN] = flaky
    state = State.open(tmp_path / "s.db")
    clock = Clock()
    pub = _publisher(fake.server.url, state, clock)
    _items(pub, 1)
    clock.now += LOGIN_BACKOFF
    pub.write(plan("3kaaaaaaaz122"))
    assert fake.hits(LOGIN) == 2
    assert state.load_login("me") is None
    pub.close()
    state.close()
