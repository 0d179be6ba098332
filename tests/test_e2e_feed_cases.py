"""The cases of issue 12 end to end: each feed served over HTTP and read through
``feedbot run --once --dry-run --json`` posts the text and link feedparser gives it."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from httpserver import LocalServer, Response
from test_feed_parsers import ISSUE_CASES, RUSSIAN, legacy_rss

from bot.cli import main

EMBEDDED = (
    "<p>Before the video.</p><embed src='v.swf'><p>The council met on Monday.</p>"
    "<iframe src='https://v.example/'><p>After the frame, the vote passed.</p>"
)
#: path → (body, content type, the link and a sentence its thread must carry)
FEEDS: dict[str, tuple[bytes, str, str, str]] = {
    "utf16": (
        codecs.BOM_UTF16_LE + legacy_rss(RUSSIAN, None).decode().encode("utf-16-le"),
        "application/rss+xml",
        "https://lab.example/1",
        "Новости Киева",
    ),
    "koi8": (
        legacy_rss(RUSSIAN, None).decode().encode("koi8-r"),
        "text/xml",
        "https://lab.example/1",
        "Новости Киева",
    ),
    "xhtml": (
        *ISSUE_CASES["xhtml body"][:1],
        "application/rss+xml",
        *ISSUE_CASES["xhtml body"][1:],
    ),
    "fullitem": (*ISSUE_CASES["fullitem"][:1], "application/rss+xml", *ISSUE_CASES["fullitem"][1:]),
    "embed": (
        legacy_rss("x", "utf-8").replace(
            b"<description>x</description>",
            b"<description>" + EMBEDDED.replace("<", "&lt;").encode() + b"</description>",
        ),
        "application/rss+xml",
        "https://lab.example/1",
        "the vote passed",
    ),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http_server: LocalServer) -> Path:
    feeds = []
    for path, (body, kind, _, _) in FEEDS.items():
        http_server.routes[f"/{path}"] = Response(200, body, {"Content-Type": kind})
        feeds.append(
            f'  - name: {path}\n    source: {{type: feed, url: "{http_server.url}/{path}"}}\n'
            "    account: preview\n"
        )
    (tmp_path / "feeds.yaml").write_text(
        f"state: {tmp_path / 'feedbot.db'}\ndefaults:\n  backfill: 1\n"
        "accounts:\n  preview: {type: preview}\nfeeds:\n" + "".join(feeds),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_each_case_posts_the_text_and_link_feedparser_gives_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--config", "feeds.yaml", "run", "--once", "--dry-run", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    threads = {t["feed"]: t for t in map(json.loads, captured.out.splitlines())}
    assert sorted(threads) == sorted(FEEDS)
    for name, (_, _, link, sentence) in FEEDS.items():
        thread = threads[name]
        text = "\n".join(post["text"] for post in thread["posts"])
        assert thread["url"] == link, name
        assert sentence in text, (name, text)
        assert "\ufffd" not in text and "<" not in text, (name, text)
