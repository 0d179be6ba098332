"""The daemon as a real process: it polls on schedule and stops cleanly on signals."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.heartbeat import write_beat
from bot.outcomes import ItemStatus
from bot.state import State

ROOT = Path(__file__).resolve().parent.parent


def start_daemon(tmp_path: Path, interval: str = "1s") -> subprocess.Popen[str]:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    config = tmp_path / "config" / "feeds.yaml"
    config.write_text(config.read_text().replace("interval: 15m", f"interval: {interval}"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FEEDBOT_MIN_INTERVAL": "1s"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear in {seconds}s")
        time.sleep(0.1)


def wait_for_a_pass(tmp_path: Path, seconds: float = 30) -> None:
    """Until the first job has posted every sample. The heartbeat appears first, once
    the daemon has opened (and migrated) the state file."""
    db = tmp_path / "state" / "feedbot.db"
    wait_for(tmp_path / "state" / "feedbot.heartbeat", seconds)
    deadline = time.monotonic() + seconds
    while True:
        with State.open(db) as state:
            if state.counts("samples").get(ItemStatus.POSTED) == 8:  # documents in config/samples
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"no pass finished in {seconds}s")
        time.sleep(0.2)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_daemon_polls_then_exits_0_on_a_signal(tmp_path: Path, signum: int) -> None:
    proc = start_daemon(tmp_path)
    try:
        wait_for_a_pass(tmp_path)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.count("── samples · at://") == 8  # the preview account shows each thread once
    assert "daemon stopped" in err
    state = State.open(tmp_path / "state" / "feedbot.db")
    assert state.counts("samples") == {"posted": 8}


def health(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "health", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_health_is_healthy_while_the_daemon_runs_and_unhealthy_once_it_stops(
    tmp_path: Path,
) -> None:
    proc = start_daemon(tmp_path)
    try:
        wait_for_a_pass(tmp_path)
        running = health(tmp_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert running.returncode == 0, running.stdout + running.stderr
    assert running.stdout.startswith("healthy: last heartbeat ")
    assert f"(pid {proc.pid})" in running.stdout
    stopped = health(tmp_path)
    assert stopped.returncode == 1
    assert stopped.stdout.startswith("unhealthy: the daemon stopped at ")


def test_health_is_unhealthy_when_the_daemon_is_gone_or_its_beat_is_old(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    beat = tmp_path / "state" / "feedbot.heartbeat"
    beat.parent.mkdir()
    missing = health(tmp_path)
    assert missing.returncode == 1 and missing.stdout.startswith("unhealthy: no heartbeat")

    # a daemon killed without a word: its beat says running, its pid is gone
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_beat(beat, timedelta(minutes=31))
    beat.write_text(beat.read_text().replace(f'"pid": {os.getpid()}', f'"pid": {gone.pid}'))
    dead = health(tmp_path)
    assert dead.returncode == 1
    assert dead.stdout == f"unhealthy: the daemon (pid {gone.pid}) is gone\n"

    # alive (this test's own pid) but silent for an hour: older than its 31m limit
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    write_beat(beat, timedelta(minutes=31), now=hour_ago)
    stale = health(tmp_path)
    assert stale.returncode == 1
    assert re.fullmatch(r"unhealthy: last heartbeat 1h(\d+s)? ago \(limit 31m\)\n", stale.stdout)
    assert health(tmp_path, "--max-age", "2h").returncode == 0
    assert health(tmp_path, "--config", "config/feeds.yaml", "--max-age", "2h").returncode == 0


def test_health_with_a_bad_max_age_is_one_line_and_exit_2(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    bad = health(tmp_path, "--max-age", "bogus")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr == (
        'feedbot health: error: argument --max-age: expected a duration like "15m"'
        " (see 'feedbot health --help')\n"
    )


def test_jobs_finishing_at_once_all_write_the_heartbeat(tmp_path: Path) -> None:
    """The scheduler's threads finish feeds' jobs at the same moment; each writes the
    beat through one temporary file, and one's rename must not find it gone."""
    beat = tmp_path / "feedbot.heartbeat"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def job() -> None:
        start.wait()
        for _ in range(200):
            try:
                write_beat(beat, timedelta(minutes=31))
            except OSError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert json.loads(beat.read_text())["pid"] == os.getpid()
    assert list(tmp_path.iterdir()) == [beat]
