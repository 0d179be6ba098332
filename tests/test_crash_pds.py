"""Exactly once across crashes: the bot is SIGKILLed after the plan is saved and before
the write, and after the write and before the state knows; after a restart exactly one
whole thread exists each time. Real subprocess, real state file, real local PDS."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pds import Account, LocalPds

from bot.state import State

ENTRY = Path(__file__).with_name("crash_entry.py")
POST = "app.bsky.feed.post"


def run_bot(
    pds: LocalPds, account: Account, state: Path, item: str, kill: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(ENTRY),
            str(state),
            pds.pds_url,
            account.handle,
            account.password,
            item,
            "--kill",
            kill,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def posts_in_repo(pds: LocalPds, account: Account) -> list[dict]:  # type: ignore[type-arg]
    page = pds.query("com.atproto.repo.listRecords", repo=account.did, collection=POST, limit=100)
    return list(page["records"])


def assert_one_whole_thread(pds: LocalPds, account: Account, state_path: Path, item: str) -> None:
    records = posts_in_repo(pds, account)
    assert len(records) == 3, [r["value"]["text"] for r in records]
    state = State.open(state_path)
    (thread,) = state.threads("crash", item)
    state.close()
    assert thread.status == "posted"
    assert sorted(p.uri for p in thread.posts) == sorted(r["uri"] for r in records)
    assert {p.cid for p in thread.posts} == {r["cid"] for r in records}
    by_uri = {r["uri"]: r["value"] for r in records}
    root, second, third = (by_uri[p.uri] for p in thread.posts)
    assert "reply" not in root
    assert second["reply"]["root"]["uri"] == thread.posts[0].uri
    assert third["reply"]["parent"]["uri"] == thread.posts[1].uri


@pytest.mark.parametrize("kill", ["before-write", "after-write"])
def test_killed_around_the_write_the_restart_leaves_exactly_one_thread(
    pds: LocalPds, tmp_path: Path, kill: str
) -> None:
    account = pds.create_account("crash")
    state_path = tmp_path / "feedbot.db"

    crashed = run_bot(pds, account, state_path, "doc-1", kill)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert len(posts_in_repo(pds, account)) == (0 if kill == "before-write" else 3)
    state = State.open(state_path)
    (thread,) = state.threads("crash", "doc-1")
    state.close()
    assert thread.status == "planned" and thread.plan is not None

    restarted = run_bot(pds, account, state_path, "doc-1", "none")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout.splitlines()[-1]) == {"recovered": 1, "posted": []}
    assert_one_whole_thread(pds, account, state_path, "doc-1")

    again = run_bot(pds, account, state_path, "doc-1", "none")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1]) == {"recovered": 0, "posted": []}
    assert len(posts_in_repo(pds, account)) == 3


def test_the_session_in_the_state_file_survives_restarts(pds: LocalPds, tmp_path: Path) -> None:
    account = pds.create_account("restart")
    state_path = tmp_path / "feedbot.db"
    for item in ("a", "b"):
        done = run_bot(pds, account, state_path, item, "none")
        assert done.returncode == 0, done.stderr
    state = State.open(state_path)
    session = state.load_session("bot")
    state.close()
    assert session is not None and account.did in session
    assert len(posts_in_repo(pds, account)) == 6
