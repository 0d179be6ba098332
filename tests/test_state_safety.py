"""State that can't trip: concurrent migration by processes, and every sqlite3 failure
(locked, corrupt, disk full) as one line of ``StateError``, with nothing half-recorded."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from builders import article

from bot.cli import main
from bot.errors import StateError
from bot.model import Article
from bot.outcomes import ItemStatus
from bot.state import SCHEMA_VERSION, State, storage_error


def _open_and_close(path: str) -> None:
    State.open(path).close()


def test_processes_starting_together_on_a_new_file_never_fail(tmp_path: Path) -> None:
    """Each round: four processes open the same new file at once (bounded: 5 rounds)."""
    context = multiprocessing.get_context("fork")
    for round_ in range(5):
        path = str(tmp_path / f"new-{round_}.db")
        procs = [context.Process(target=_open_and_close, args=(path,)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=60)
        assert [p.exitcode for p in procs] == [0, 0, 0, 0], f"round {round_}"
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.close()


def _real_error(sql: str, path: Path, *, lock: bool = False) -> sqlite3.Error:
    holder = sqlite3.connect(path, isolation_level=None)
    if lock:
        holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute(sql)
    except sqlite3.Error as exc:
        return exc
    finally:
        other.close()
        holder.close()
    raise AssertionError("no error")


def test_a_locked_file_says_another_process_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    State.open(path).close()
    exc = _real_error("BEGIN IMMEDIATE", path, lock=True)
    message = str(storage_error(path, exc))
    assert message.startswith(f"{path}: the state file is locked: another process holds it")
    assert "\n" not in message


def test_a_file_that_is_not_a_database_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StateError) as caught:
        State.open(path)
    assert "the state file is corrupt" in str(caught.value)
    assert "restore it from a backup" in str(caught.value)


def _corrupt(path: Path) -> None:
    """Overwrite the middle of a table's pages, keeping the header readable."""
    state = State.open(path)
    for n in range(300):
        state.add_items([(article(n, text="words " * 200), ItemStatus.NEW, None)], norm=lambda u: u)
    state.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 3, len(data) - page, page * 2):
        data[offset : offset + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))


def test_status_detects_a_corrupt_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    _corrupt(db)
    (tmp_path / "feeds.yaml").write_text(
        f"state: {db}\naccounts: {{p: {{type: preview}}}}\n"
        "feeds: [{name: f, source: {type: records, path: x}, account: p}]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("FEEDBOT_CONFIG", str(tmp_path / "feeds.yaml"))
    assert main(["status"]) != 0
    err = capsys.readouterr().err
    assert "corrupt" in err and "backup" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_full_disk_records_nothing_half_way(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    state = State.open(path)
    state.add_items([(article(1), ItemStatus.NEW, None)], norm=lambda u: u)
    pages = state.conn.execute("PRAGMA page_count").fetchone()[0]
    state.conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from now on
    big: list[tuple[Article, ItemStatus, str | None]] = [
        (article(n, text="x " * 20_000), ItemStatus.NEW, None) for n in range(2, 12)
    ]
    with pytest.raises(StateError, match="the disk is full; nothing of this change was recorded"):
        state.add_items(big, norm=lambda u: u)
    assert sum(state.counts("f").values()) == 1
    state.close()
