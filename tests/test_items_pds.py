"""The newcomer's repost, for real: ``feedbot items`` finds a backfilled item, ``repost``
of its URL as copied from a browser posts it to the local PDS, and the thread's bsky.app
link that ``items`` then shows is accepted by ``repost`` in turn."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pds import LocalPds

from bot.cli import main

DOC = "site.standard.document"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
TEXT = (
    "The harbour reopened on Monday after a month of repairs. "
    "Ferries run every hour again, the port authority said. "
    "Fishing boats had moored at the old pier in the meantime."
)


def items(capsys: pytest.CaptureFixture[str], config: str, *args: str) -> list[dict[str, Any]]:
    assert main(["items", "--config", config, "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_backfilled_item_found_by_items_is_posted_by_its_browser_url(
    pds: LocalPds,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    author = pds.create_account("harbour")
    bot = pds.create_account("harbourbot")
    docs = [
        {
            "site": "https://harbour.example",
            "path": f"/news/{i}",
            "title": f"Harbour news {i}",
            "publishedAt": (T0 + timedelta(hours=i)).isoformat().replace("+00:00", "Z"),
            "textContent": TEXT,
        }
        for i in range(3)
    ]
    pds.create_records(author, DOC, docs)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""state: {tmp_path / "feedbot.db"}
accounts:
  bot:
    type: bluesky
    handle: {bot.handle}
    app_password: ${{ITEMS_APP_PASSWORD}}
    pds: {pds.pds_url}
feeds:
  - name: harbour
    source:
      type: atproto
      repo: {author.did}
      plc_url: {pds.plc_url}
      allow_private_addresses: true  # the local PDS is on 127.0.0.1
    account: bot
    backfill: 1
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("ITEMS_APP_PASSWORD", bot.password)

    assert main(["run", "--once", "--config", str(config)]) == 0
    assert "harbour: 1 new, 1 posted, 0 failed, 2 skipped" in capsys.readouterr().out
    (oldest,) = [
        i for i in items(capsys, str(config), "--status", "skipped") if i["url"].endswith("/0")
    ]
    assert oldest["url"] == "https://harbour.example/news/0" and oldest["thread"] is None

    copied = "https://harbour.example/news/0/?utm_source=x#top"
    assert main(["repost", copied, "--config", str(config)]) == 0
    assert capsys.readouterr().out == f"{copied}: posted\n"

    (posted,) = [i for i in items(capsys, str(config)) if i["id"] == oldest["id"]]
    assert posted["status"] == "posted"
    link = str(posted["thread"])
    prefix = f"https://bsky.app/profile/{bot.did}/post/"
    assert link.startswith(prefix)
    root = pds.get_record(f"at://{bot.did}/app.bsky.feed.post/{link.removeprefix(prefix)}")
    assert root["value"]["embed"]["external"]["uri"] == "https://harbour.example/news/0"

    assert main(["repost", link, "--boost", "--config", str(config)]) == 0
    assert capsys.readouterr().out == f"{link}: boosted\n"
