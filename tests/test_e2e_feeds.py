"""The whole bot on a config mixing web feeds and standard.site records: each new
article is posted once per account (even when two sources carry it), an unchanged feed
costs one 304, and a broken feed is reported without stopping the others."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from httpserver import LocalServer, Request, Response

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
# the same article as the sample record vlast-kazakhstan-russia.json, with tracking noise
SHARED_URL = (
    "https://www.vlast.kz/english/69541-kazakhstan-and-russia-renew-friendship-vows.html"
    "?utm_source=rss&utm_medium=feed"
)
RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Example news</title><link>https://news.example/</link><language>en</language>
<item>
  <title>Harbour reopens after storm repairs</title>
  <link>https://news.example/harbour</link>
  <guid isPermaLink="false">news-1</guid>
  <pubDate>Mon, 01 Jun 2026 08:00:00 GMT</pubDate>
  <description>The harbour reopened on Monday after three weeks of repairs. Ferries
  resume their summer timetable on Friday. The council thanked the crews.</description>
</item>
<item>
  <title>Kazakhstan and Russia Renew Friendship Vows</title>
  <link>{SHARED_URL.replace("&", "&amp;")}</link>
  <guid isPermaLink="false">news-2</guid>
  <pubDate>Thu, 28 May 2026 12:00:00 GMT</pubDate>
  <description>Putin flew to Astana for talks. Both sides signed agreements.</description>
</item>
</channel></rss>"""


def feed_route(request: Request) -> Response:
    if request.headers.get("if-none-match") == '"v1"':
        return Response(304, b"", {"ETag": '"v1"'})
    return Response(200, RSS, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http_server: LocalServer) -> Path:
    shutil.copytree(ROOT / "config" / "samples", tmp_path / "samples")
    http_server.routes["/feed.xml"] = feed_route
    (tmp_path / "feeds.yaml").write_text(
        f"""state: {tmp_path / "feedbot.db"}
defaults:
  backfill: 10
accounts:
  preview: {{type: preview}}
feeds:
  - name: samples
    source: {{type: records, path: {tmp_path / "samples"}}}
    account: preview
  - name: news
    source: {{type: feed, url: "{http_server.url}/feed.xml"}}
    account: preview
  - name: broken
    source: {{type: feed, url: "{http_server.url}/missing.xml"}}
    account: preview
""",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["--config", "feeds.yaml", "run", "--once", "--json", *args])
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_mixed_sources_post_each_article_once_poll_cheaply_and_survive_a_broken_feed(
    project: Path, http_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, threads, err = run(capsys)
    assert code == 1, "a broken feed makes the pass fail"
    assert "broken: error: feed broken: HTTP 404" in err
    urls = [t["url"] for t in threads]
    documents = len([p for p in (ROOT / "config" / "samples").glob("*.json")]) - 1
    assert documents == 8  # every sample file but publications.json
    assert len(urls) == documents + 1  # the samples + the harbour story; the shared one once
    assert "https://news.example/harbour" in urls
    vlast = [u for u in urls if "vlast.kz" in u]
    assert len(vlast) == 1
    assert "samples: 8 new, 8 posted" in err
    assert "news: 2 new, 1 posted, 0 failed" in err

    code, threads, err = run(capsys)
    assert threads == []
    assert "news: not modified" in err
    assert "samples: nothing new" in err
    second = http_server.hits("/feed.xml")[-1]
    assert second.headers["if-none-match"] == '"v1"'
    assert "feedbot/" in second.headers["user-agent"]

    main(["--config", "feeds.yaml", "status", "--json"])
    status = {row["feed"]: row for row in json.loads(capsys.readouterr().out)["feeds"]}
    assert status["news"]["counts"] == {"posted": 1, "skipped": 1}
    assert status["broken"]["last_error"].startswith("feed broken: HTTP 404")
