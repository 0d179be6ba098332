"""Deleting a posted thread on the real local PDS: the real bot (``crash_entry.py``: the
pipeline, the state file, ``BlueskyPublisher``) is told its document was deleted at the
source, as a stream's delete event does, and is SIGKILLed between the plan and the
deletes, or after the deletes and before the state knows; a restart leaves exactly one
deletion and no record of the thread. Also ``deletions: ignore``, a replayed create, the
write budget and ``feedbot delete`` by hand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pds import Account, LocalPds
from test_crash_pds import ENTRY, GATES, POST, posts_in_repo, write_config

from bot.config import load_config
from bot.links import post_link
from bot.outcomes import ItemStatus, ThreadKind, ThreadStatus
from bot.publish.pacing import points
from bot.state import State
from bot.status import gather

ROOT = Path(__file__).resolve().parent.parent
ITEM = "at://did:plc:feedbotsamples7xq2kdemo/site.standard.document/3mn4d2kxw7s2e"
COLLECTIONS = (POST, *GATES)


def setup(tmp: Path, pds: LocalPds, deletions: str) -> tuple[Path, Account]:
    account = pds.create_account("deleter")
    config = write_config(tmp, pds, account, gated=True)
    with config.open("a", encoding="utf-8") as out:  # the feed's block is the last
        out.write(f"    deletions: {deletions}\n")
    return config, account


def run_bot(
    config: Path, account: Account, kill: str = "none", delete: str | None = None
) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(ENTRY), str(config), "--kill", kill]
    return subprocess.run(
        [*args, *(["--delete", delete] if delete else [])],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TEST_APP_PASSWORD": account.password},
    )


def feedbot(config: Path, account: Account, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "TEST_APP_PASSWORD": account.password},
    )


def lines(run: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run.stdout.splitlines()]


def in_repo(pds: LocalPds, account: Account) -> int:
    return sum(len(posts_in_repo(pds, account, c)) for c in COLLECTIONS)


def post_and_count(pds: LocalPds, config: Path, account: Account) -> int:
    """Post the sample's thread (gated); the number of its records on the account."""
    first = run_bot(config, account)
    assert first.returncode == 0, first.stderr
    assert lines(first)[-1]["posted"] == 1
    records = in_repo(pds, account)
    assert len(posts_in_repo(pds, account)) >= 2 and records == len(posts_in_repo(pds, account)) + 2
    return records


def threads(tmp: Path) -> list[tuple[ThreadKind, ThreadStatus]]:
    with State.open(tmp / "feedbot.db") as state:
        return [(t.kind, t.status) for t in state.threads("crash", ITEM)]


def item_status(tmp: Path) -> ItemStatus:
    with State.open(tmp / "feedbot.db") as state:
        return state.find_item(ITEM, feed="crash").status


@pytest.mark.parametrize("kill", ["before-delete", "after-delete"])
def test_killed_around_the_deletes_the_restart_leaves_exactly_one_deletion(
    pds: LocalPds, tmp_path: Path, kill: str
) -> None:
    config, account = setup(tmp_path, pds, "delete")
    records = post_and_count(pds, config, account)

    crashed = run_bot(config, account, kill, delete=ITEM)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert threads(tmp_path) == [
        (ThreadKind.POST, ThreadStatus.POSTED),
        (ThreadKind.DELETION, ThreadStatus.PLANNED),
    ]
    assert item_status(tmp_path) == ItemStatus.DELETING
    assert in_repo(pds, account) == (records if kill == "before-delete" else 0)

    restarted = run_bot(config, account)  # the source still lists it: a replayed create
    assert restarted.returncode == 0, restarted.stderr
    assert lines(restarted)[-1] == {"feed": "crash", "posted": 0, "new": 0, "deleted": 1}
    assert "recovered deletion" in restarted.stderr
    assert "Traceback" not in restarted.stderr and "ERROR" not in restarted.stderr
    assert in_repo(pds, account) == 0
    assert threads(tmp_path) == [
        (ThreadKind.POST, ThreadStatus.DELETED),
        (ThreadKind.DELETION, ThreadStatus.DELETED),
    ]
    assert item_status(tmp_path) == ItemStatus.DELETED

    again = run_bot(config, account, delete=ITEM)  # the delete event replays too
    assert again.returncode == 0, again.stderr
    assert lines(again) == [
        {"feed": "crash", "delete": "Skipped"},
        {"feed": "crash", "posted": 0, "new": 0, "deleted": 0},
    ]
    assert in_repo(pds, account) == 0
    assert len(threads(tmp_path)) == 2


def test_a_deletion_is_one_commit_and_costs_a_point_a_record(
    pds: LocalPds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, account = setup(tmp_path, pds, "delete")
    records = post_and_count(pds, config, account)
    done = run_bot(config, account, delete=ITEM)
    assert done.returncode == 0, done.stderr
    assert lines(done)[0] == {"feed": "crash", "delete": "Deleted"}
    assert done.stderr.count(f"deleted account=bot item={ITEM} records={records}") == 1
    assert in_repo(pds, account) == 0
    monkeypatch.setenv("TEST_APP_PASSWORD", account.password)
    with State.open(tmp_path / "feedbot.db") as state:
        status = gather(load_config(config), state)
    (bot,) = status.accounts
    assert bot.points_last_hour == points(records) + points(0, records) == 4 * records


def test_with_ignore_a_deleted_document_leaves_its_thread_and_is_never_posted_again(
    pds: LocalPds, tmp_path: Path
) -> None:
    config, account = setup(tmp_path, pds, "ignore")
    records = post_and_count(pds, config, account)
    ignored = run_bot(config, account, delete=ITEM)
    assert ignored.returncode == 0, ignored.stderr
    assert lines(ignored) == [
        {"feed": "crash", "delete": "Skipped"},
        {"feed": "crash", "posted": 0, "new": 0, "deleted": 0},
    ]
    assert in_repo(pds, account) == records
    assert threads(tmp_path) == [(ThreadKind.POST, ThreadStatus.POSTED)]
    assert item_status(tmp_path) == ItemStatus.DELETED
    listed = feedbot(config, account, "items", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["status"] == "deleted" and row["thread"] is not None


def test_feedbot_delete_by_hand_with_a_dry_run_first(pds: LocalPds, tmp_path: Path) -> None:
    config, account = setup(tmp_path, pds, "ignore")
    records = post_and_count(pds, config, account)
    with State.open(tmp_path / "feedbot.db") as state:
        (thread,) = state.threads("crash", ITEM)
    link = post_link(thread.posts[0].uri)
    assert link is not None

    shown = feedbot(config, account, "delete", link, "--dry-run")
    assert shown.returncode == 0, shown.stderr
    assert f"would delete {records} records" in shown.stdout
    assert in_repo(pds, account) == records

    done = feedbot(config, account, "delete", link)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{link}: deleted {records} records"
    assert in_repo(pds, account) == 0
    assert item_status(tmp_path) == ItemStatus.SKIPPED  # its document still exists

    twice = feedbot(config, account, "delete", ITEM)
    assert twice.returncode == 1
    assert twice.stderr.strip().startswith("feedbot: item ") and "nothing deleted" in twice.stderr
    assert "Traceback" not in twice.stderr
    again = run_bot(config, account)
    assert lines(again)[-1]["posted"] == 0 and in_repo(pds, account) == 0


def test_a_record_already_deleted_by_hand_does_not_fail_the_deletion(
    pds: LocalPds, tmp_path: Path
) -> None:
    config, account = setup(tmp_path, pds, "delete")
    records = post_and_count(pds, config, account)
    # the owner deleted the postgate in an app: deleting it again would fail the commit
    (postgate,) = posts_in_repo(pds, account, GATES[1])
    pds.delete_record(account, postgate["uri"])
    done = run_bot(config, account, delete=ITEM)
    assert done.returncode == 0, done.stderr
    assert lines(done)[0] == {"feed": "crash", "delete": "Deleted"}
    assert f"records={records - 1}" in done.stderr
    assert in_repo(pds, account) == 0
    assert item_status(tmp_path) == ItemStatus.DELETED
