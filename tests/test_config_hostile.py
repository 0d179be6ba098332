"""The configuration refuses nonsense: each case is one ``file:line: key: message``
line from ``feedbot check-config`` and exit code 2, never a traceback or a silent yes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config

BASE = """\
state: s.db
defaults:
  interval: 30m
accounts:
  preview:
    type: preview
  me:
    type: bluesky
    handle: me.test
    app_password: secret-app-password
    pds: https://pds.example
feeds:
  - name: blog
    source:
      type: feed
      url: https://example.com/feed.xml
    account: preview
    langs: [en]
    summary:
      backend: extractive
"""

#: (name, what replaces what in BASE or bytes appended, the line and key the error names)
CASES = [
    ("infinite interval", ("interval: 30m", "interval: .inf"), 3, "defaults.interval"),
    ("huge interval", ("interval: 30m", "interval: 99999999999d"), 3, "defaults.interval"),
    ("zero interval", ("interval: 30m", "interval: 0s"), 3, "defaults.interval"),
    ("interval under a minute", ("interval: 30m", "interval: 59s"), 3, "defaults.interval"),
    ("numeric infinite interval", ("interval: 30m", "interval: 1e400"), 3, "defaults.interval"),
    ("bad language", ("langs: [en]", "langs: ['not a lang!!']"), 18, "feeds[0].langs"),
    ("javascript pds", ("https://pds.example", "'javascript:alert(1)'"), 11, "accounts.me.pds"),
    (
        "file base_url",
        (
            "backend: extractive",
            "backend: llm\n      llm: {base_url: 'file:///etc/passwd', model: m}",
        ),
        21,
        "feeds[0].summary.llm.base_url",
    ),
    ("blank feed name", ("name: blog", "name: '   '"), 13, "feeds[0].name"),
    ("feed name with a newline", ("name: blog", 'name: "blog\\nlevel=ERROR"'), 13, "feeds[0].name"),
    (
        "boolean backfill",
        ("interval: 30m", "interval: 30m\n  backfill: true"),
        4,
        "defaults.backfill",
    ),
    ("numeric enabled", ("interval: 30m", "interval: 30m\n  enabled: 1"), 4, "defaults.enabled"),
    ("merge key", ("  interval: 30m", "  <<: {interval: 30m}"), 3, "defaults"),
    ("complex key", ("  interval: 30m", "  ? [a, b]\n  : 1"), 3, "defaults"),
    ("custom tag", ("interval: 30m", "interval: !pwn 30m"), 3, ""),
    ("python tag", ("interval: 30m", "interval: !!python/object:os.system x"), 3, ""),
    ("feed url with a space", ("feed.xml", "feed .xml"), 16, "feeds[0].source.url"),
]


def _check(tmp_path: Path, text: str | bytes, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "feeds.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    code = main(["--config", str(path), "check-config"])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err.strip().removeprefix(f"{path}:")


def test_the_base_config_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE)
    assert load_config(path, env={}).feed_names() == ["blog"]


@pytest.mark.parametrize(("name", "change", "line", "key"), CASES, ids=[c[0] for c in CASES])
def test_nonsense_in_the_config_is_one_located_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    change: tuple[str, str],
    line: int,
    key: str,
) -> None:
    old, new = change
    assert old in BASE
    message = _check(tmp_path, BASE.replace(old, new, 1), capsys)
    assert message.startswith(f"{line}: {key}: " if key else f"{line}: "), message


def test_a_non_utf8_byte_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = BASE.encode().replace(b"name: blog", b"name: bl\xffog")
    assert _check(tmp_path, text, capsys) == "13: not UTF-8 text (byte 0xff)"


def test_very_deep_nesting_is_refused_quickly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "x: " + "[" * 100_000 + "]" * 100_000 + "\n"
    message = _check(tmp_path, BASE + deep, capsys)
    assert re.fullmatch(r"\d+: nested deeper than 32 levels", message), message


@pytest.mark.timeout(60)  # a hang guard, not a timing: expanded, this bomb takes minutes
def test_an_alias_bomb_is_refused_without_expanding_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = ['a0: &a0 ["lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        bomb.append(f"a{level}: &a{level} [{refs}]")
    text = BASE.replace("state: s.db", "state: s.db\nx:\n  " + "\n  ".join(bomb))
    message = _check(tmp_path, text, capsys)
    assert "more than 10000 values once aliases are expanded" in message


def test_the_minimum_interval_can_be_lowered_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE.replace("interval: 30m", "interval: 1s"))
    config = load_config(path, env={"FEEDBOT_MIN_INTERVAL": "1s"})
    assert config.feeds[0].interval.total_seconds() == 1


def test_numbers_from_the_environment_still_count_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE.replace("interval: 30m", "interval: 30m\n  backfill: ${N}"))
    assert load_config(path, env={"N": "5"}).feeds[0].backfill == 5


@pytest.mark.parametrize("lang", ["en", "pt-BR", "zh-Hant-TW", "sr-Latn", "es-419", "x-klingon"])
def test_well_formed_language_tags_are_accepted(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE.replace("langs: [en]", f"langs: [{lang}]"))
    assert load_config(path, env={}).feeds[0].langs == (lang,)
