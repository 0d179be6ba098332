"""The CLI end to end on the shipped default: sample records, preview publisher."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.lexicon import check_post_record

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DOCUMENTS = 8


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped config/ in a fresh working directory, as after a clone."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDBOT_CONFIG", raising=False)
    return tmp_path


def test_the_demo_prints_a_thread_for_every_sample_then_nothing_new(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--once"]) == 0
    out = capsys.readouterr().out
    assert out.count("── samples · at://") == SAMPLE_DOCUMENTS
    assert f"samples: {SAMPLE_DOCUMENTS} new, {SAMPLE_DOCUMENTS} posted, 0 failed" in out
    assert (project / "state" / "feedbot.db").exists()

    assert main(["run", "--once"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "samples: nothing new"


def test_dry_run_json_is_one_machine_checkable_thread_per_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--once", "--dry-run", "--json"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == SAMPLE_DOCUMENTS
    for line in lines:
        thread = json.loads(line)
        assert set(thread) == {"feed", "item", "url", "posts"}
        assert thread["item"].startswith("at://") and thread["url"].startswith("https://")
        assert 2 <= len(thread["posts"]) <= 3
        for record in thread["posts"]:
            assert record["$type"] == "app.bsky.feed.post"
            assert check_post_record(record) == []
        assert thread["posts"][0]["embed"]["$type"] == "app.bsky.embed.external"
        assert thread["posts"][0]["embed"]["external"]["uri"] == thread["url"]
        last = thread["posts"][-1]
        assert any(f["features"][0].get("uri") == thread["url"] for f in last.get("facets", [])), (
            "the last post links back to the original"
        )
    # the report goes to stderr with --json
    assert f"samples: {SAMPLE_DOCUMENTS} new" in captured.err


def test_dry_run_records_nothing_as_posted(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--once", "--dry-run"])
    main(["run", "--once", "--dry-run"])
    out = capsys.readouterr().out
    assert out.count("── samples · at://") == 2 * SAMPLE_DOCUMENTS
    main(["status", "--json"])
    status = json.loads(capsys.readouterr().out)
    assert status["feeds"][0]["counts"] == {"new": SAMPLE_DOCUMENTS}


def test_status_shows_counts_and_last_poll(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--once"])
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    row = next(line.split() for line in out.splitlines() if line.startswith("  samples"))
    assert row[:3] == ["samples", "yes", row[2]] and row[2].startswith("20")
    assert f"posted {SAMPLE_DOCUMENTS}" in out


def test_repost_posts_an_item_again_by_url(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--once"])
    capsys.readouterr()
    url = "https://eurasia-notes.example/notes/threads"
    assert main(["repost", url]) == 0
    out = capsys.readouterr().out
    assert out.count("── samples · at://") == 1
    assert "Quick note" in out


def test_repost_of_an_unknown_item_is_a_one_line_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["repost", "https://nowhere.example/x"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "feedbot: unknown item 'https://nowhere.example/x': it has not been seen by any poll\n"
    )


def test_a_broken_config_is_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "config" / "feeds.yaml"
    config.write_text(config.read_text().replace("interval: 15m", "interval: fortnightly"))
    assert main(["run", "--once"]) == 2
    err = capsys.readouterr().err
    assert err == 'config/feeds.yaml:6: defaults.interval: expected a duration like "15m"\n'


def test_run_once_fails_when_a_feed_fails_but_processes_the_others(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "config" / "feeds.yaml"
    config.write_text(
        config.read_text()
        + "  - name: missing\n    source: {type: records, path: config/nope}\n"
        + "    account: preview\n"
    )
    assert main(["run", "--once"]) == 1
    out = capsys.readouterr().out
    assert f"samples: {SAMPLE_DOCUMENTS} new, {SAMPLE_DOCUMENTS} posted" in out
    assert "missing: error: feed missing: config/nope does not exist" in out


@pytest.mark.parametrize(
    "command", ["run", "repost", "status", "check-config", "health", "summarize"]
)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: feedbot " + command)
    assert len(out.splitlines()) > 3


def test_the_parser_lists_every_command() -> None:
    text = build_parser().format_help()
    for command in ("run", "repost", "status", "check-config", "health"):
        assert command in text


def test_repost_boost_shows_a_repost_of_the_earlier_first_post(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--once"])
    capsys.readouterr()
    assert main(["repost", "https://eurasia-notes.example/notes/threads", "--boost"]) == 0
    out = capsys.readouterr().out
    assert "[1/1] repost of preview:at://" in out
    assert out.endswith(": boosted\n")
