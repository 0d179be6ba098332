"""Real ``feedbot run`` daemons in subprocesses for the operations tests.

Each daemon reads a config written into the test's directory (records on disk, the
preview account: no network but 127.0.0.1) and its stderr is read by a thread, so a
test can wait for a log line within a bound instead of sleeping.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DID = "did:plc:opsdaemontest2kqz7xdemo"
PUB = f"at://{DID}/site.standard.publication/3mmwzzzzpub2a"


def write_records(folder: Path, count: int, *, first: int = 0, words: int = 40) -> Path:
    """``count`` standard.site documents (and their publication) in one JSON file."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, object]] = [
        {
            "uri": PUB,
            "value": {
                "$type": "site.standard.publication",
                "url": "https://ops.example",
                "name": "Ops notes",
            },
        }
    ]
    for n in range(first, first + count):
        text = " ".join(f"Sentence {i} of note {n} says something plain." for i in range(words))
        entries.append(
            {
                "uri": f"at://{DID}/site.standard.document/3mn4d2kx{n:05d}",
                "value": {
                    "$type": "site.standard.document",
                    "site": PUB,
                    "path": f"/notes/{n}",
                    "title": f"Note number {n}",
                    "publishedAt": f"2026-05-01T12:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
                    "textContent": text,
                },
            }
        )
    (folder / "docs.json").write_text(json.dumps(entries))
    return folder


def config_text(feeds: dict[str, str], *, interval: str = "1s", metrics: str | None = None) -> str:
    """A config of records feeds ``{name: folder}`` on the preview account."""
    lines = ["state: state/feedbot.db"]
    if metrics:
        lines += ["metrics:", f"  listen: {metrics!r}"]
    lines += [
        "defaults:",
        f"  interval: {interval}",
        "  backfill: 100000",
        "accounts:",
        "  preview:",
        "    type: preview",
        "feeds:",
    ]
    for name, folder in feeds.items():
        lines += [
            f"  - name: {name}",
            "    account: preview",
            f"    source: {{type: records, path: {folder}}}",
        ]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env() -> dict[str, str]:
    # a 1s interval keeps the tests short; the config refuses under 1m unless told
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FEEDBOT_CONFIG": "feeds.yaml",
        "FEEDBOT_MIN_INTERVAL": "1s",
    }


def feedbot(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """One ``feedbot`` command in ``cwd``, to its end."""
    command = [sys.executable, "-m", "bot", *args]
    return subprocess.run(
        command, cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout
    )


def feedbot_process(cwd: Path, *args: str) -> subprocess.Popen[str]:
    """One ``feedbot`` command in ``cwd``, started; the caller waits for it."""
    command = [sys.executable, "-m", "bot", *args]
    return subprocess.Popen(
        command, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


class Daemon:
    """``feedbot run`` in ``cwd`` (which holds ``feeds.yaml``); always stopped by the test."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *args, "run"],
            cwd=cwd,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, *, seconds: float = 30, count: int = 1) -> str:
        """The ``count``-th stderr line matching ``pattern``, waiting at most ``seconds``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + seconds
        with self._changed:
            while True:
                found = [line for line in self.lines if regex.search(line)]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line matching {pattern!r}:\n{self.stderr}")
                self._changed.wait(min(left, 0.2))

    def stop(self, signum: int = signal.SIGTERM, *, seconds: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=seconds)
        finally:
            self.kill()
            self._reader.join(timeout=5)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
