"""Hostile feeds and records, end to end through ``feedbot run --once``: each bad item
is one skipped item, each bad feed one feed error, and the good items of the same and
other feeds are still posted; nothing prints a traceback, nothing unsafe is posted."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from httpserver import LocalServer, Response

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def good_item(n: int) -> dict[str, Any]:
    return {
        "id": f"good-{n}",
        "url": f"https://good.example/{n}",
        "title": f"Good article {n}",
        "content_text": "The council met on Monday. It approved the new harbour plan. "
        "Work starts in spring.",
        "date_published": "2026-05-01T12:00:00Z",
    }


def json_feed(*items: dict[str, Any]) -> str:
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": list(items)}
    )


RSS_ITEM = """<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>
<pubDate>Fri, 01 May 2026 12:00:00 GMT</pubDate><description>{text}</description></item>"""


def rss(*items: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>R</title><link>https://rss.example/</link>{''.join(items)}</channel></rss>"
    )


TEXT = "The harbour reopened on Monday. Ferries resume on Friday. The crews were thanked."

#: (path, body, content type) served by the local server
FEEDS = {
    # a lone surrogate in a title and a date whose offset leaves the calendar
    "/surrogate.json": json_feed(
        {**good_item(1), "id": "bad-surrogate", "title": "Lone \ud800 surrogate"},
        {**good_item(2), "id": "bad-date", "date_published": "0001-01-01T00:00:00+23:59"},
        {**good_item(3), "id": "bad-future", "date_published": "9999-12-31T23:59:59-23:59"},
        {**good_item(4), "id": "bad-url", "url": "https://x.example/a b\n\nINJECTED"},
        {**good_item(5), "id": "bad-creds", "url": "https://a.example@127.0.0.1/"},
        {**good_item(6), "id": "bad-scheme", "url": "javascript:alert(1)"},
        good_item(7),
    ),
    # nested 100,000 deep: RecursionError in json before
    "/deep.json": '{"version": "https://jsonfeed.org/version/1", "items": [], "x": '
    + "[" * 100_000
    + "]" * 100_000
    + "}",
    "/bad.rss": rss(
        RSS_ITEM.format(
            title="Bad &#xD800; title", link="https://rss.example/1", guid="r1", text=TEXT
        ),
        RSS_ITEM.format(
            title="Escape \x1b[31mred\x1b[0m &#x202E;reversed&#x2066;",
            link="https://rss.example/2",
            guid="r2\nlevel=ERROR fake=1",
            text="NUL&#0; and &#x9b;CSI. " + TEXT,
        ),
        RSS_ITEM.format(title="Good RSS", link="https://rss.example/3", guid="r3", text=TEXT),
    ),
}


def record(rkey: str, **value: Any) -> dict[str, Any]:
    return {
        "uri": f"at://did:plc:hostiletest/site.standard.document/{rkey}",
        "value": {
            "$type": "site.standard.document",
            "site": "https://records.example",
            "path": f"/{rkey}",
            "title": f"Record {rkey}",
            "publishedAt": "2026-05-01T12:00:00.000Z",
            "textContent": TEXT,
            **value,
        },
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http_server: LocalServer) -> Path:
    for path, body in FEEDS.items():
        kind = "application/feed+json" if path.endswith(".json") else "application/rss+xml"
        http_server.routes[path] = Response(
            200, body.encode("utf-8", "surrogatepass"), {"Content-Type": kind}
        )
    records = tmp_path / "records"
    records.mkdir()
    bad = [
        record("3aaaaaaaaaaa2", publishedAt="9999-12-31T23:59:59-23:59"),
        record("3aaaaaaaaaaa3", site="https://x.example/a b\n\nINJECTED"),
        record("3aaaaaaaaaaa4", title="\u202eevil\u2066 \x00title\x1b[2J"),
        record("3aaaaaaaaaaa5", textContent="x" * 5_000_000 + ". The end."),
    ]
    (records / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    (records / "deep.json").write_text(
        '{"uri": "at://did:plc:hostiletest/site.standard.document/3aaaaaaaaaaa6", "value": '
        + "[" * 100_000
        + "]" * 100_000
        + "}"
    )
    (records / "good.json").write_text(json.dumps(record("3aaaaaaaaaaa7")), encoding="utf-8")
    shutil.copy(ROOT / "config" / "samples" / "en-short-note.json", records / "sample.json")
    shutil.copy(ROOT / "config" / "samples" / "publications.json", records / "publications.json")
    feeds = "".join(
        f"""  - name: {name}
    source: {{type: feed, url: "{http_server.url}{path}"}}
    account: preview
"""
        for name, path in (("surrogate", "/surrogate.json"), ("deep", "/deep.json"),
                           ("badrss", "/bad.rss"))
    )  # fmt: skip
    (tmp_path / "feeds.yaml").write_text(
        f"""state: {tmp_path / "feedbot.db"}
defaults:
  backfill: 100
accounts:
  preview: {{type: preview}}
feeds:
{feeds}  - name: records
    source: {{type: records, path: {records}}}
    account: preview
""",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_hostile_items_are_skipped_and_everything_good_is_posted(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--config", "feeds.yaml", "run", "--once", "--json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert code == 1  # the deep feed failed; the pass went on
    threads = [json.loads(line) for line in captured.out.splitlines()]
    posted = {t["item"] for t in threads}
    # a lone surrogate or a bad character reference is removed; the item is posted
    assert {"good-7", "bad-surrogate", "r1", "r3", "r2 level=ERROR fake=1"} <= posted
    assert {"at://did:plc:hostiletest/site.standard.document/3aaaaaaaaaaa7"} <= posted
    assert not posted & {"bad-date", "bad-future", "bad-url", "bad-creds"}
    assert "bad-scheme" not in posted
    for thread in threads:
        for record_ in thread["posts"]:
            assert not UNSAFE.search(json.dumps(record_, ensure_ascii=False)), record_
            for facet in record_.get("facets", []):
                for feature in facet["features"]:
                    uri = feature.get("uri")
                    if uri is not None:
                        assert re.fullmatch(r"https?://\S+", uri), uri
    # a newline in an id does not start a log line of its own
    assert not any(line.startswith("level=ERROR") for line in captured.err.splitlines())

    main(["--config", "feeds.yaml", "status", "--json"])
    status = {row["feed"]: row for row in json.loads(capsys.readouterr().out)["feeds"]}
    assert all(row["last_poll"] for row in status.values())
    assert "nested deeper than 100 levels" in status["deep"]["last_error"]
    assert "bad entries" in status["surrogate"]["last_result"]
    assert "bad entries" in status["records"]["last_result"]


def test_the_terminal_preview_prints_no_escape_bytes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--config", "feeds.yaml", "run", "--once", "--feed", "badrss"])
    out = capsys.readouterr().out
    assert "red" in out
    assert not UNSAFE.search(out.replace("\t", " "))
