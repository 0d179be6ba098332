"""The CLI as a newcomer meets it: options anywhere, items to find, URLs as copied from a
browser, one-line errors, quiet pipes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main, parse_args
from bot.model import Plan, PlannedPost, StrongRef
from bot.outcomes import Claimed, ThreadKind
from bot.state import State

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = 8
THREADS_URL = "https://eurasia-notes.example/notes/threads"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped config/ in a fresh working directory, as after a clone."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDBOT_CONFIG", raising=False)
    monkeypatch.delenv("FEEDBOT_LOG_LEVEL", raising=False)
    return tmp_path


def backfill_only(project: Path, count: int) -> None:
    config = project / "config" / "feeds.yaml"
    config.write_text(config.read_text().replace("backfill: 10", f"backfill: {count}"))


def items(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["items", "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# --- global options ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "x.yaml", "--log-level", "debug", "status"],
        ["status", "--config", "x.yaml", "--log-level", "DEBUG"],
        ["--log-level", "ERROR", "status", "--config", "x.yaml", "--log-level", "debug"],
        ["--config", "y.yaml", "run", "--once", "--config", "x.yaml", "--log-level", "DEBUG"],
    ],
)
def test_global_options_go_before_or_after_the_command_and_the_later_wins(
    argv: list[str],
) -> None:
    args = parse_args(argv)
    assert args.config == Path("x.yaml")
    assert args.log_level == "DEBUG"


def test_global_options_default_when_given_nowhere() -> None:
    args = parse_args(["status"])
    assert args.config is None and args.log_level is None


@pytest.mark.parametrize(
    "command", ["run", "items", "repost", "status", "check-config", "health", "summarize"]
)
def test_every_help_lists_the_global_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "global options" in out and "--config PATH" in out and "--log-level" in out


def test_config_after_the_command_is_used(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "config" / "feeds.yaml").rename(project / "elsewhere.yaml")
    assert main(["check-config", "--config", "elsewhere.yaml"]) == 0
    assert capsys.readouterr().out.startswith("elsewhere.yaml: ok\n")


# --- items and repost ----------------------------------------------------------------


def test_items_finds_a_backfilled_item_and_repost_of_its_browser_url_posts_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backfill_only(project, 1)
    assert main(["run", "--once"]) == 0
    assert "1 posted" in capsys.readouterr().out
    skipped = items(capsys, "--status", "skipped")
    assert len(skipped) == SAMPLES - 1
    backfilled = next(i for i in skipped if i["url"] == THREADS_URL)
    assert backfilled["feed"] == "samples" and backfilled["thread"] is None
    assert str(backfilled["id"]).startswith("at://")
    assert backfilled["title"] and str(backfilled["first_seen"]).endswith("+00:00")

    assert main(["repost", THREADS_URL + "/?utm_source=x#top"]) == 0
    out = capsys.readouterr().out
    assert out.count("── samples · at://") == 1
    assert out.endswith(": posted\n")
    (again,) = [i for i in items(capsys) if i["url"] == THREADS_URL]
    assert again["status"] == "posted"


def test_items_lines_carry_id_url_title_status_and_first_seen(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--once"])
    capsys.readouterr()
    assert main(["items", "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line in lines:
        feed, item_id, url, title, status, seen = line.split("\t")
        assert feed == "samples" and item_id.startswith("at://") and url.startswith("https://")
        assert title and status == "posted" and seen.startswith("20")


def test_items_filters_by_feed_and_status_and_rejects_unknown_ones(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--once"])
    capsys.readouterr()
    assert len(items(capsys, "--feed", "samples", "--status", "posted")) == SAMPLES
    assert items(capsys, "--status", "new") == []
    assert main(["items", "--feed", "nosuch"]) == 2
    assert capsys.readouterr().err.startswith("unknown feed 'nosuch'")
    assert main(["items", "--status", "bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--status: expected one of new, skipped" in err


def posted_thread(state_file: Path, item_id: str, uri: str) -> None:
    """Record a thread as the Bluesky publisher would after writing it."""
    state = State.open(state_file)
    try:
        item = state.find_item(item_id, feed="samples")
        claim = state.claim(item, "preview", norm_url=item.url, kind=ThreadKind.REPOST)
        assert isinstance(claim, Claimed)
        posts = (PlannedPost("3lbotpost22aa", "", {}),)
        plan = Plan("samples", item_id, item.url, "preview", "did:plc:botbotbotbot", posts)
        state.save_plan(claim.thread_id, plan)
        state.mark_posted(claim.thread_id, (StrongRef(uri, "bafy"),))
    finally:
        state.close()


def test_items_links_a_posted_thread_and_repost_takes_that_link_back(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--once"])
    capsys.readouterr()
    (first, *_) = items(capsys)
    uri = "at://did:plc:botbotbotbot/app.bsky.feed.post/3lbotpost22aa"
    posted_thread(project / "state" / "feedbot.db", str(first["id"]), uri)
    (listed,) = [i for i in items(capsys) if i["id"] == first["id"]]
    link = "https://bsky.app/profile/did:plc:botbotbotbot/post/3lbotpost22aa"
    assert listed["thread"] == link
    assert main(["repost", link, "--dry-run"]) == 0
    assert f"── samples · {first['id']}" in capsys.readouterr().out
    by_handle = "https://bsky.app/profile/bot.example.com/post/3lbotpost22aa"
    assert main(["repost", by_handle, "--dry-run"]) == 0
    assert f"── samples · {first['id']}" in capsys.readouterr().out


def test_repost_with_an_unknown_feed_says_unknown_feed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--once"])
    capsys.readouterr()
    assert main(["repost", THREADS_URL, "--feed", "nosuch"]) == 2
    assert capsys.readouterr().err == "unknown feed 'nosuch' (known: samples)\n"


# --- errors, pipes, check-config, dry run --------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["health", "--max-age", "bogus"], 'argument --max-age: expected a duration like "15m"'),
        (["items", "--limit", "0"], "argument --limit: expected a whole number of at least 1"),
        (["status", "--log-level", "LOUD"], "argument --log-level: invalid choice: 'LOUD'"),
        (["nosuch"], "argument COMMAND: invalid choice: 'nosuch'"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err


def test_a_bad_log_level_in_the_environment_is_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDBOT_LOG_LEVEL", "LOUD")
    assert main(["status"]) == 2
    assert capsys.readouterr().err == (
        "feedbot: error: $FEEDBOT_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR\n"
    )


def test_a_closed_pipe_ends_quietly(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--once", "--dry-run", "--json"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # what `| head -n 1` reads, then it goes away
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(timeout=120)
    assert json.loads(first)["feed"] == "samples"
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141


def test_check_config_finds_a_records_path_that_does_not_exist(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "config" / "feeds.yaml"
    config.write_text(config.read_text().replace("path: config/samples", "path: config/nope"))
    assert main(["check-config"]) == 2
    assert capsys.readouterr().err == (
        "config/feeds.yaml: feeds[0].source.path: config/nope does not exist\n"
    )


def test_a_second_dry_run_says_what_it_showed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        assert main(["run", "--once", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert out.count("── samples · at://") == SAMPLES
        assert "nothing new" not in out
        assert out.rstrip().endswith(f"{SAMPLES} shown (dry run)")


def test_the_dry_run_daemon_shows_each_pending_thread_once(project: Path) -> None:
    from bot.config import load_config
    from bot.wiring import build_pipeline

    config = load_config()
    state = State.open(config.state)
    try:
        with open(os.devnull, "w") as out:
            pipeline = build_pipeline(config, state, dry_run=True, out=out)
            feed = config.feed("samples")
            first = pipeline.run_feed(feed)
            second = pipeline.run_feed(feed)
    finally:
        state.close()
    assert first.shown == SAMPLES
    assert second.shown == 0 and second.line() == "samples: nothing new"
