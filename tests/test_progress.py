"""Progress bars on stderr when it is a terminal (a real pty), nothing extra otherwise."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

from daemons import config_text, env, write_records

COUNT = 12


def _run(cwd: Path, args: list[str], *, tty: bool, stdin: str = "") -> tuple[int, str, str]:
    """``feedbot ARGS`` with stderr on a pseudo-terminal (or a pipe); (code, out, err)."""
    variables = {**env(), "TERM": "xterm", "COLUMNS": "100"}
    command = [sys.executable, "-m", "bot", *args]
    if not tty:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=variables,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=variables,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    )
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        out, _ = proc.communicate(stdin, timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(timeout=10)
        os.close(master)
    return proc.returncode, out, b"".join(chunks).decode("utf-8", "replace")


def test_a_backfill_shows_a_bar_on_a_terminal_and_nothing_in_a_pipe(tmp_path: Path) -> None:
    write_records(tmp_path / "records", COUNT)
    (tmp_path / "feeds.yaml").write_text(config_text({"notes": "records"}))
    code, out, err = _run(tmp_path, ["--log-level", "WARNING", "run", "--once"], tty=True)
    assert code == 0, err
    assert "posting notes" in err and f"/{COUNT}" in err
    assert f"notes: {COUNT} new, {COUNT} posted, 0 failed" in out

    (tmp_path / "state").rename(tmp_path / "first-state")
    code, out, err = _run(tmp_path, ["--log-level", "WARNING", "run", "--once"], tty=False)
    assert code == 0
    assert err == ""  # not a terminal: not one byte of progress
    assert f"notes: {COUNT} new, {COUNT} posted, 0 failed" in out


def test_summarize_jsonl_shows_progress_only_on_a_terminal(tmp_path: Path) -> None:
    lines = "".join(
        json.dumps({"id": n, "text": f"Line {n} is here. It has two sentences."}) + "\n"
        for n in range(5)
    )
    code, out, err = _run(tmp_path, ["summarize", "--jsonl", "-"], tty=True, stdin=lines)
    assert code == 0, err
    assert "summarizing" in err
    assert [json.loads(line)["id"] for line in out.splitlines()] == list(range(5))
    code, out, err = _run(tmp_path, ["summarize", "--jsonl", "-"], tty=False, stdin=lines)
    assert code == 0 and err == "" and len(out.splitlines()) == 5
