"""The daemon's heartbeat file: who is running, when it last finished a job, and
whether it stopped cleanly. ``feedbot health`` reads it.

Standard library only: the health check runs every minute and must start fast.
The file is one JSON object, replaced atomically so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from bot.configfile import format_duration


class Phase(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Beat:
    at: datetime
    pid: int
    host: str
    phase: Phase
    #: how old a beat may get while the daemon is well: it knows its feeds' intervals
    limit: timedelta


def heartbeat_path(state: Path) -> Path:
    """The heartbeat lives beside the state file."""
    return state.with_suffix(".heartbeat")


def process_owner() -> str:
    """Who holds a claim: host and PID, so a dead owner's claim can be recognised."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None) -> bool:
    """Whether ``host:pid`` names a live process; another host's owner is taken as gone
    (an old container: nobody here holds it)."""
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: the daemon's jobs finish on several threads at once, and all write one temporary file
_WRITING = threading.Lock()


def write_beat(
    path: Path, limit: timedelta, phase: Phase = Phase.RUNNING, *, now: datetime | None = None
) -> None:
    """Record that this process is alive (or has stopped) now; ``OSError`` if it can't."""
    beat = {
        "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "limit": int(limit.total_seconds()),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "phase": str(phase),
    }
    tmp = path.with_name(path.name + ".tmp")
    with _WRITING:
        tmp.write_text(json.dumps(beat) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def read_beat(path: Path) -> Beat | None:
    """The last heartbeat, or None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Beat(
            at=datetime.fromisoformat(data["at"]),
            pid=int(data["pid"]),
            host=str(data["host"]),
            phase=Phase(data["phase"]),
            limit=timedelta(seconds=int(data["limit"])),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def verdict(
    beat: Beat | None, *, now: datetime, where: Path, limit: timedelta | None = None
) -> str | None:
    """Why the daemon is unhealthy, or None when it is healthy. ``limit`` overrides
    the one the daemon wrote."""
    if beat is None:
        return f"no heartbeat in {where}"
    if beat.phase is Phase.STOPPED:
        return f"the daemon stopped at {beat.at.isoformat()}"
    if beat.host == socket.gethostname() and not owner_alive(f"{beat.host}:{beat.pid}"):
        return f"the daemon (pid {beat.pid}) is gone"
    age = now - beat.at
    limit = beat.limit if limit is None else limit
    if age > limit:
        return f"last heartbeat {format_duration(age)} ago (limit {format_duration(limit)})"
    return None
