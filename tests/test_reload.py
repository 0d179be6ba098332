"""SIGHUP re-reads the config: a valid one changes the jobs without a restart, an
invalid one is refused in one line and the old one keeps running."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from daemons import Daemon as DaemonProcess
from daemons import config_text, write_records

from bot.config import load_config
from bot.daemon import Daemon
from bot.state import State


def test_sighup_adds_reschedules_and_removes_feeds_and_refuses_a_broken_config(
    tmp_path: Path,
) -> None:
    write_records(tmp_path / "a", 2)
    write_records(tmp_path / "b", 3, first=100)
    config = tmp_path / "feeds.yaml"
    config.write_text(config_text({"a": "a"}, interval="1s"))
    daemon = DaemonProcess(tmp_path)
    try:
        daemon.wait_for(r"pass a: 2 new, 2 posted")
        config.write_text(config_text({"a": "a", "b": "b"}, interval="1s"))
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for(r"reloaded feeds=2 added=b removed=- rescheduled=- accounts_rebuilt=-")
        daemon.wait_for(r"pass b: 3 new, 3 posted")

        config.write_text("feeds:\n  - name: broken\n")
        daemon.proc.send_signal(signal.SIGHUP)
        refused = daemon.wait_for(r"reload refused")
        passes = len([line for line in daemon.lines if "pass a:" in line])
        daemon.wait_for(r"pass a: nothing new", count=passes + 1)  # the old config polls on

        config.write_text(config_text({"b": "b"}, interval="1h"))
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for(r"reloaded feeds=1 added=- removed=a rescheduled=b accounts_rebuilt=-")
    finally:
        assert daemon.stop() == 0
    assert refused.endswith(
        "reload refused, the old configuration keeps running: "
        "feeds.yaml:2: feeds[0].account: missing required key"
    )
    assert "Traceback" not in daemon.stderr
    state = State.open(tmp_path / "state" / "feedbot.db")
    try:
        assert state.counts("a") == {"posted": 2}
        assert state.counts("b") == {"posted": 3}
    finally:
        state.close()


def _accounts_config(password: str, state: str = "state/feedbot.db") -> str:
    return (
        f"state: {state}\n"
        "accounts:\n"
        "  me: {type: bluesky, handle: me.test, app_password: " + password + ","
        " pds: 'http://127.0.0.1:9'}\n"
        "  other: {type: bluesky, handle: other.test, app_password: pw-other,"
        " pds: 'http://127.0.0.1:9'}\n"
        "feeds:\n"
        "  - {name: a, account: me, source: {type: records, path: a}}\n"
        "  - {name: b, account: other, source: {type: records, path: b}}\n"
    )


def test_reload_rebuilds_only_the_changed_accounts_publishers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "feeds.yaml"
    path.write_text(_accounts_config("pw-first"))
    daemon = Daemon(load_config(path), load=lambda: load_config(path))
    try:
        before = dict(daemon.pipeline.publishers)
        daemon.pipeline.paused_until["other"] = 2e9
        path.write_text(_accounts_config("pw-second"))
        assert daemon.reload()
        after = daemon.pipeline.publishers
        assert after["me"] is not before["me"]  # new password: a new client
        assert after["other"] is before["other"]  # session and budget kept
        assert daemon.pipeline.paused_until == {"other": 2e9}

        path.write_text(_accounts_config("pw-second", state="elsewhere.db"))
        assert not daemon.reload()
        assert daemon.config.state == Path("state/feedbot.db")
    finally:
        daemon.close()
