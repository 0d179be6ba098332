from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config, parse_duration
from bot.errors import ConfigError

GOOD = """\
state: {state}
defaults:
  interval: 30m
  backfill: 2
  summary:
    max_posts: 4
accounts:
  preview:
    type: preview
  me:
    type: bluesky
    handle: me.test
    app_password: ${{BSKY_PASSWORD}}
    pds: http://localhost:2583
feeds:
  - name: samples
    source: {{type: records, path: config/samples}}
    account: preview
  - name: blog
    source:
      type: feed
      url: https://example.com/feed.xml
    account: me
    interval: 1h
    summary:
      sentences: 4
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, env={} if env is None else env)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_the_shipped_default_config_is_valid() -> None:
    config = load_config("config/feeds.yaml", env={})
    assert config.feed_names() == ["samples"]
    assert config.accounts["preview"].type == "preview"


def test_defaults_are_merged_into_each_feed_and_feeds_override_them(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD.format(state="s.db")), env={"BSKY_PASSWORD": "pw"})
    samples, blog = config.feeds
    assert samples.interval == timedelta(minutes=30)
    assert blog.interval == timedelta(hours=1)
    assert samples.backfill == blog.backfill == 2
    assert blog.summary.max_posts == 4 and blog.summary.sentences == 4


def test_secrets_come_from_the_environment_and_are_not_shown(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, GOOD.format(state="s.db")), env={"BSKY_PASSWORD": "hunter22"}
    )
    account = config.accounts["me"]
    assert account.type == "bluesky"
    assert account.app_password.get_secret_value() == "hunter22"
    assert "hunter22" not in repr(config)


def test_a_missing_environment_variable_names_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(state="s.db"))
    assert error_of(path) == (
        f"{path}:13: accounts.me.app_password: environment variable BSKY_PASSWORD is not set"
    )


def test_a_bad_duration_names_file_line_and_key_path(tmp_path: Path) -> None:
    text = GOOD.format(state="s.db").replace("interval: 1h", "interval: soon")
    path = write(tmp_path, text)
    assert error_of(path, {"BSKY_PASSWORD": "x"}) == (
        f'{path}:24: feeds[1].interval: expected a duration like "15m"'
    )


def test_an_unknown_key_is_refused_with_its_line(tmp_path: Path) -> None:
    text = GOOD.format(state="s.db").replace(
        "    account: preview\n", "    account: preview\n    colour: red\n"
    )
    path = write(tmp_path, text)
    assert error_of(path, {"BSKY_PASSWORD": "x"}) == f"{path}:19: feeds[0].colour: unknown key"


def test_an_unknown_key_inside_a_source_is_refused(tmp_path: Path) -> None:
    text = GOOD.format(state="s.db").replace("url: https://example.com/feed.xml", "link: x")
    path = write(tmp_path, text)
    message = error_of(path, {"BSKY_PASSWORD": "x"})
    assert message == f"{path}:22: feeds[1].source.link: unknown key"


def test_a_feed_naming_an_unknown_account_is_refused(tmp_path: Path) -> None:
    text = GOOD.format(state="s.db").replace("account: me", "account: you")
    path = write(tmp_path, text)
    assert error_of(path, {"BSKY_PASSWORD": "x"}) == (
        f"{path}:23: feeds[1].account: unknown account 'you' (known: me, preview)"
    )


def test_a_wrong_type_is_refused(tmp_path: Path) -> None:
    text = GOOD.format(state="s.db").replace("backfill: 2", "backfill: lots")
    message = error_of(write(tmp_path, text), {"BSKY_PASSWORD": "x"})
    assert ":4: defaults.backfill:" in message


def test_invalid_yaml_is_one_line_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds: [\n  - name: x\n")
    assert error_of(path).startswith(f"{path}:")


def test_duplicate_feed_names_are_refused(tmp_path: Path) -> None:
    text = GOOD.format(state="s.db").replace("name: blog", "name: samples")
    assert "duplicate feed name 'samples'" in error_of(
        write(tmp_path, text), {"BSKY_PASSWORD": "x"}
    )


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), (60, 60)]
)
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "15", "m", "1x", "-5m", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_check_config_exits_2_with_one_line_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = GOOD.format(state="s.db").replace("interval: 1h", "interval: often")
    path = write(tmp_path, text)
    monkeypatch.setenv("BSKY_PASSWORD", "x")
    assert main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"{path}:24: feeds[1].interval:")


def test_check_config_reads_feedbot_config_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD.format(state="s.db"))
    monkeypatch.setenv("FEEDBOT_CONFIG", str(path))
    monkeypatch.setenv("BSKY_PASSWORD", "x")
    assert main(["check-config"]) == 0
    assert "feeds: samples, blog" in capsys.readouterr().out
