"""One daemon per state file: an OS lock on a file beside it, holding the owner's pid.

``fcntl.flock`` is released by the kernel when the process dies, however it dies, so a
daemon killed with SIGKILL never leaves a lock that blocks the next start; the pid in
the file is only there to name the running daemon. ``run --once`` and ``repost`` don't
take the lock: their claims on items are atomic in the state file already.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from bot.errors import DaemonRunning, StateError


def lock_path(state: Path) -> Path:
    return state.with_suffix(".lock")


class DaemonLock:
    """Held while the daemon runs; ``acquire`` raises ``DaemonRunning`` if taken."""

    def __init__(self, state: Path) -> None:
        self.path = lock_path(state)
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot open the daemon lock: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"pid {holder}" if holder else "another process"
            raise DaemonRunning(
                f"another daemon ({who}) is running on this state file ({self.path} is locked)",
                pid=holder,
            ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None
