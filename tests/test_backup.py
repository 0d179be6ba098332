"""``feedbot backup`` while the daemon posts: every copy opens as a valid state file in
which each posted item has its posted thread."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from daemons import Daemon, config_text, feedbot, feedbot_process, write_records

from bot.errors import StateError
from bot.state import SCHEMA_VERSION, State

COUNT = 80


def _check(path: Path) -> int:
    """Assert the copy is whole and consistent; return how many threads it has posted."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        posted_items = {r[0] for r in conn.execute("SELECT id FROM items WHERE status = 'posted'")}
        threads = conn.execute(
            "SELECT item, posts FROM threads WHERE status = 'posted' AND kind = 'post'"
        ).fetchall()
    finally:
        conn.close()
    assert {item for item, _ in threads} == posted_items
    assert all(posts and posts != "[]" for _, posts in threads)
    return len(threads)


def test_backups_taken_while_the_daemon_posts_are_consistent(tmp_path: Path) -> None:
    write_records(tmp_path / "records", COUNT)
    (tmp_path / "feeds.yaml").write_text(config_text({"notes": "records"}, interval="1h"))
    daemon = Daemon(tmp_path)
    copies: list[Path] = []
    try:
        daemon.wait_for(r"posted feed=notes", seconds=60)
        command = feedbot_process(tmp_path, "backup", "backups/cli.db")  # starts slowly
        state = State.open(tmp_path / "state" / "feedbot.db")
        try:
            deadline = time.monotonic() + 120
            while "pass notes" not in daemon.stderr and time.monotonic() < deadline:
                copies.append(tmp_path / "backups" / f"{len(copies)}.db")
                state.backup(copies[-1])
                time.sleep(0.1)
            daemon.wait_for(rf"pass notes: {COUNT} new, {COUNT} posted", seconds=5)
            copies.append(tmp_path / "backups" / "after.db")
            state.backup(copies[-1])
        finally:
            state.close()
        out, err = command.communicate(timeout=60)
    finally:
        assert daemon.stop() == 0
    assert command.returncode == 0, err
    assert out.startswith("backups/cli.db: backup of state/feedbot.db written")
    assert _check(tmp_path / "backups" / "cli.db") <= COUNT
    posted = [_check(copy) for copy in copies]
    assert posted == sorted(posted) and posted[-1] == COUNT
    assert any(0 < n < COUNT for n in posted), posted  # some were taken mid-posting
    assert stat.S_IMODE(os.stat(copies[0]).st_mode) == 0o600  # it holds sessions
    assert not list((tmp_path / "backups").glob("*.partial"))

    # restoring is copying the file back: the next run posts only what the copy lacks
    shutil.copy(copies[0], tmp_path / "state" / "feedbot.db")
    for leftover in (tmp_path / "state").glob("feedbot.db-*"):
        leftover.unlink()
    once = feedbot(tmp_path, "run", "--once")
    assert once.returncode == 0, once.stderr
    assert f"notes: 0 new, {COUNT - posted[0]} posted" in once.stdout


def test_a_backup_that_cannot_be_written_is_one_state_error(tmp_path: Path) -> None:
    state = State.open(tmp_path / "state.db")
    (tmp_path / "file").write_text("not a folder")
    try:
        with pytest.raises(StateError, match=r"file/copy.db: cannot write the backup"):
            state.backup(tmp_path / "file" / "copy.db")
    finally:
        state.close()
