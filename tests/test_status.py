"""``feedbot status``: a table per feed and per account, and ``--json`` with every field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.state import State
from bot.status import gather

CONFIG = """\
state: state.db
accounts:
  me: {type: bluesky, handle: me.test, app_password: pw-secret-1234}
  demo: {type: preview}
feeds:
  - {name: news, account: me, interval: 10m, source: {type: records, path: news}}
  - {name: quiet, account: demo, enabled: false, source: {type: records, path: quiet}}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDBOT_CONFIG", "feeds.yaml")
    (tmp_path / "feeds.yaml").write_text(CONFIG)
    now = datetime.now(UTC)
    state = State.open(tmp_path / "state.db")
    try:
        state.record_poll("news", result="error", error="feed news: HTTP 500")
        for minutes, posts in ((30, 3), (300, 2), (60 * 30, 4)):  # the last is too old
            state.conn.execute(
                "INSERT INTO threads (feed, item, account, status, posts, created_at, posted_at)"
                " VALUES ('news', ?, 'me', 'posted', ?, ?, ?)",
                (
                    f"i{minutes}",
                    json.dumps([{"uri": f"at://x/{n}", "cid": "c"} for n in range(posts)]),
                    now.isoformat(),
                    (now - timedelta(minutes=minutes)).isoformat(timespec="seconds"),
                ),
            )
        state.record_pause("me", now + timedelta(hours=1), "createRecord: rate limited")
    finally:
        state.close()
    return tmp_path


def test_status_gathers_polls_budgets_and_pauses(project: Path) -> None:
    state = State.open(project / "state.db")
    try:
        status = gather(load_config("feeds.yaml"), state)
    finally:
        state.close()
    news, quiet = status.feeds
    assert news.enabled and news.last_result == "error" and news.last_error
    assert news.last_poll is not None and news.next_poll == news.last_poll + timedelta(minutes=10)
    assert not quiet.enabled and quiet.next_poll is None and quiet.last_poll is None
    me, demo = status.accounts
    assert (me.points_last_hour, me.points_last_day, me.points_per_day) == (9, 15, 30000)
    assert me.paused_until is not None and me.pause_reason == "createRecord: rate limited"
    assert demo.type == "preview" and demo.points_last_day is None and demo.paused_until is None


def test_status_prints_tables_without_secrets(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "pw-secret-1234" not in out
    lines = out.splitlines()
    assert lines[0] == "feeds"
    news = next(line for line in lines if line.startswith("  news "))
    assert "  yes  " in news and "error" in news and "feed news: HTTP 500" in news
    assert "no items" in news
    quiet = next(line for line in lines if line.startswith("  quiet "))
    assert quiet.split()[:3] == ["quiet", "no", "never"]
    me = next(line for line in lines if line.startswith("  me "))
    assert "9 (pace 4000/h, burst 300)" in me and "15 of 30000" in me
    assert "createRecord: rate limited" in me and "until 20" in me
    demo = next(line for line in lines if line.startswith("  demo "))
    assert demo.split() == ["demo", "preview", "-", "-", "no"]
    assert all(line == line.rstrip() for line in lines)


def test_status_json_keeps_every_field(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "pw-secret-1234" not in out
    data = json.loads(out)
    assert [f["feed"] for f in data["feeds"]] == ["news", "quiet"]
    assert set(data["feeds"][0]) == {
        "feed",
        "enabled",
        "counts",
        "last_poll",
        "last_result",
        "next_poll",
        "last_error",
        "disabled",
        "item_errors",
        "given_up",
        "max_per_hour",
        "capped_last_hour",
    }
    assert data["streams"] == []
    me = data["accounts"][0]
    assert me["account"] == "me" and me["points_last_hour"] == 9
    assert datetime.fromisoformat(me["paused_until"]) > datetime.now(UTC)
