"""One daemon per state file: a second one refuses, naming the first; a killed one's
lock never blocks a restart; one-off commands keep working beside a daemon."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from daemons import Daemon, config_text, feedbot, write_records

from bot.daemon_lock import DaemonLock, lock_path
from bot.errors import DaemonRunning


def test_a_held_lock_refuses_a_second_holder_with_the_first_ones_pid(tmp_path: Path) -> None:
    state = tmp_path / "state" / "feedbot.db"
    with DaemonLock(state):
        assert lock_path(state).read_text().strip() == str(os.getpid())
        with pytest.raises(DaemonRunning) as refused:
            DaemonLock(state).acquire()
        assert refused.value.pid == os.getpid()
        assert f"pid {os.getpid()}" in str(refused.value)
    with DaemonLock(state):  # released: free again
        pass


def _setup(tmp_path: Path, count: int = 3) -> None:
    write_records(tmp_path / "records", count)
    (tmp_path / "feeds.yaml").write_text(config_text({"notes": "records"}, interval="1h"))


def test_a_second_daemon_on_the_same_state_refuses_naming_the_first(tmp_path: Path) -> None:
    _setup(tmp_path)
    first = Daemon(tmp_path)
    try:
        first.wait_for(r"pass notes: 3 new, 3 posted")
        second = feedbot(tmp_path, "run")
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert lines == [
            f"feedbot: another daemon (pid {first.proc.pid}) is running on this state file "
            "(state/feedbot.lock is locked)"
        ]
        # one-off commands beside the daemon: claims are atomic, no lock needed
        once = feedbot(tmp_path, "run", "--once")
        assert once.returncode == 0, once.stderr
        assert "notes: nothing new" in once.stdout
        uri = "at://did:plc:opsdaemontest2kqz7xdemo/site.standard.document/3mn4d2kx00001"
        repost = feedbot(tmp_path, "repost", uri)
        assert repost.returncode == 0, repost.stderr
        assert repost.stdout.strip().endswith(": posted")
    finally:
        assert first.stop() == 0
    assert "daemon stopped" in first.stderr


def test_a_sigkilled_daemons_lock_does_not_block_a_restart(tmp_path: Path) -> None:
    _setup(tmp_path)
    killed = Daemon(tmp_path)
    try:
        killed.wait_for(r"daemon started")
    finally:
        killed.stop(signal.SIGKILL)
    assert lock_path(tmp_path / "state" / "feedbot.db").read_text().strip() == str(
        killed.proc.pid
    )  # the stale pid is still written: the kernel's lock is what counts
    restarted = Daemon(tmp_path)
    try:
        restarted.wait_for(r"daemon started")
        held = lock_path(tmp_path / "state" / "feedbot.db").read_text().strip()
        assert held == str(restarted.proc.pid)
    finally:
        assert restarted.stop() == 0
