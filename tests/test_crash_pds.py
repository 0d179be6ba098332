"""Exactly once across crashes: the real bot (a subprocess running the pipeline against
the local PDS) is SIGKILLed after the plan is saved and before the write, and after the
write and before the state knows; after a restart exactly one whole thread exists, and
for a gated feed exactly one threadgate and one postgate, keyed by the root's rkey."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pds import Account, LocalPds

from bot.state import State

ROOT = Path(__file__).resolve().parent.parent
ENTRY = Path(__file__).with_name("crash_entry.py")
POST = "app.bsky.feed.post"
GATES = ("app.bsky.feed.threadgate", "app.bsky.feed.postgate")
SAMPLE = "en-short-note.json"


def write_config(tmp: Path, pds: LocalPds, account: Account, gated: bool = False) -> Path:
    records = tmp / "records"
    records.mkdir()
    for name in (SAMPLE, "publications.json"):
        shutil.copy(ROOT / "config" / "samples" / name, records / name)
    config = tmp / "feeds.yaml"
    config.write_text(
        f"""state: {tmp / "feedbot.db"}
accounts:
  bot:
    type: bluesky
    handle: {account.handle}
    app_password: ${{TEST_APP_PASSWORD}}
    pds: {pds.pds_url}
feeds:
  - name: crash
    source: {{type: records, path: {records}}}
    account: bot
"""
        + ("    replies: [mentioned]\n    quotes: false\n" if gated else ""),
        encoding="utf-8",
    )
    return config


def run_bot(config: Path, account: Account, kill: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ENTRY), str(config), "--kill", kill],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TEST_APP_PASSWORD": account.password},
    )


def posts_in_repo(pds: LocalPds, account: Account, collection: str = POST) -> list[dict[str, Any]]:
    page = pds.query(
        "com.atproto.repo.listRecords", repo=account.did, collection=collection, limit=100
    )
    return list(page["records"])


def the_thread(tmp: Path) -> Any:
    state = State.open(tmp / "feedbot.db")
    try:
        rows = state.conn.execute("SELECT feed, item FROM threads").fetchall()
        ((feed, item_id),) = set(rows)
        (thread,) = state.threads(feed, item_id)
        return thread
    finally:
        state.close()


@pytest.mark.parametrize("gated", [False, True], ids=["open", "gated"])
@pytest.mark.parametrize("kill", ["before-write", "after-write"])
def test_killed_around_the_write_the_restart_leaves_exactly_one_thread(
    pds: LocalPds, tmp_path: Path, kill: str, gated: bool
) -> None:
    account = pds.create_account("crash")
    config = write_config(tmp_path, pds, account, gated)

    crashed = run_bot(config, account, kill)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    planned = the_thread(tmp_path)
    assert planned.status == "planned" and planned.plan is not None
    n = len(planned.plan.posts)
    assert n >= 2
    assert len(posts_in_repo(pds, account)) == (0 if kill == "before-write" else n)
    assert len(planned.plan.gates) == (2 if gated else 0)
    for collection in GATES:
        written = 1 if gated and kill == "after-write" else 0
        assert len(posts_in_repo(pds, account, collection)) == written

    restarted = run_bot(config, account, "none")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout.splitlines()[-1])["posted"] == 1
    assert ("found already written" if kill == "after-write" else "written now") in (
        restarted.stderr
    )

    records = posts_in_repo(pds, account)
    assert len(records) == n
    thread = the_thread(tmp_path)
    assert thread.status == "posted"
    assert thread.plan == planned.plan  # the same rkeys: recovered, not re-planned
    assert sorted((p.uri, p.cid) for p in thread.posts) == sorted(
        (r["uri"], r["cid"]) for r in records
    )
    by_uri = {r["uri"]: r["value"] for r in records}
    root = thread.posts[0]
    assert "reply" not in by_uri[root.uri]
    for parent, child in zip(thread.posts, thread.posts[1:], strict=False):
        reply = by_uri[child.uri]["reply"]
        assert reply["root"] == {"uri": root.uri, "cid": root.cid}
        assert reply["parent"] == {"uri": parent.uri, "cid": parent.cid}

    root_rkey = root.uri.rsplit("/", 1)[1]
    for collection in GATES:
        gates = posts_in_repo(pds, account, collection)
        assert [g["uri"].rsplit("/", 1)[1] for g in gates] == ([root_rkey] if gated else [])
        assert all(g["value"]["post"] == root.uri for g in gates)

    again = run_bot(config, account, "none")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1])["posted"] == 0
    assert len(posts_in_repo(pds, account)) == n
    for collection in GATES:
        assert len(posts_in_repo(pds, account, collection)) == (1 if gated else 0)
    # logged in once in all three runs: the session lives in the state file
    logins = [r.stderr.count("logging in account=bot") for r in (crashed, restarted, again)]
    assert sum(logins) == 1
    assert account.password not in crashed.stderr + restarted.stderr + again.stderr
