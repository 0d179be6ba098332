"""The daemon as a real process: it polls on schedule and stops cleanly on signals."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_daemon_polls_then_exits_0_on_a_signal(tmp_path: Path, signum: int) -> None:
    proc = start_daemon(tmp_path)
    try:
        wait_for(tmp_path / "state" / "feedbot.heartbeat")
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.count("── samples · at://") == 6  # the preview account shows each thread once
    assert "daemon stopped" in err
    state = State.open(tmp_path / "state" / "feedbot.db")
    assert state.counts("samples") == {"posted": 6}


def test_health_follows_the_heartbeat(tmp_path: Path) -> None:
    proc = start_daemon(tmp_path)
    try:
        wait_for(tmp_path / "state" / "feedbot.heartbeat")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FEEDBOT_MIN_INTERVAL": "1s"}
    health = [sys.executable, "-m", "bot", "health"]
    ok = subprocess.run(health, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("healthy")
    beat = tmp_path / "state" / "feedbot.heartbeat"
    beat.write_text("2020-01-01T00:00:00+00:00\n")
    stale = subprocess.run(health, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert stale.returncode == 1 and stale.stdout.startswith("unhealthy: last heartbeat")
    fresh_enough = subprocess.run(
        [*health, "--max-age", "3650d"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert fresh_enough.returncode == 0
    (tmp_path / "state" / "feedbot.heartbeat").unlink()
    missing = subprocess.run(health, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stdout.startswith("unhealthy: no heartbeat")
