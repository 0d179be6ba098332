"""Logins that can't lock the account out: a fake PDS on 127.0.0.1 answering 503 or 401
to every login; attempts are counted across many items, passes and restarts (the gate
lives in the real state file). The clock is injected; nothing sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from bluesky_fakes import HANDLE, FakeXrpc, error, plan, settings
from builders import article
from httpserver import LocalServer, Request, Response

from bot.cli import main
from bot.errors import PublishError, TransientError
from bot.logs import setup_logging
from bot.outcomes import Claimed, ErrorKind, ItemStatus
from bot.pipeline import MAX_ATTEMPTS, MAX_INTERRUPTED
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
    assert all(isinstance(f, TransientError) for f in failures), "the items stay pending"
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


def test_restarted_runs_share_the_gate_and_status_says_why_logins_stopped(
    fake: FakeXrpc,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two ``run --once`` (two starts of the program), each with several items: one
    login in all, and ``status`` names the account and what would reopen it."""
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "feeds.yaml").write_text(
        f"""
state: {tmp_path}/feedbot.db
accounts:
  me: {{type: bluesky, handle: {HANDLE}, app_password: not-the-password, pds: {fake.server.url}}}
feeds:
  - {{name: samples, source: {{type: records, path: {root}/config/samples}}, account: me}}
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("FEEDBOT_CONFIG", str(tmp_path / "feeds.yaml"))
    try:
        assert main(["run", "--once"]) == 1
        assert main(["run", "--once"]) == 1
        assert fake.hits(LOGIN) == 1
        capsys.readouterr()
        assert main(["status"]) == 0
        out = capsys.readouterr().out
    finally:
        setup_logging("WARNING")
    (line,) = [x for x in out.splitlines() if x.startswith("account me:")]
    assert "login refused" in line and "app_password in the config changes" in line


def test_an_item_that_stopped_being_retried_says_so_in_status(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s.db")
    state.add_items([(article(1), ItemStatus.NEW, None)], norm=lambda u: u)
    for _ in range(MAX_ATTEMPTS):
        (item,) = state.pending("f", max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED)
        claim = state.claim(item, "me", norm_url=item.url)
        assert isinstance(claim, Claimed)
        state.fail(claim.thread_id, "HTTP 503", kind=ErrorKind.TRANSIENT)
    assert state.pending("f", max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED) == []
    given_up = state.given_up("f", max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED)
    assert given_up == [("item-1", MAX_ATTEMPTS, 0)]
    state.close()
