"""The README holds: every ``feedbot …`` command line in its code blocks parses, with
``--config`` before or after the command too; its tables are whole; its numbers are the
code's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bot.cli import parse_args
from bot.cli_summarize import DEFAULT_GRAPHEMES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: where a shell line stops being feedbot's arguments
SHELL_OPERATORS = {"<", ">", ">>", "|", "&&", "||", ";", "&"}


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^ *```[a-z]*\n(.*?)^ *```", text, flags=re.M | re.S)


def feedbot_commands(text: str) -> list[list[str]]:
    """feedbot's arguments on every line of the code blocks that runs it: ``feedbot …``,
    ``.venv/bin/feedbot …``, ``docker exec NAME feedbot …``, ``ExecStart=…/feedbot …``."""
    commands = []
    for block in code_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("#") or not re.search(r"(^|[\s/=])feedbot(\s|$)", line):
                continue
            words = shlex.split(line, comments=True)
            for i, word in enumerate(words):
                if word.rsplit("/", 1)[-1] != "feedbot" and not word.endswith("=feedbot"):
                    continue
                if i > 0 and words[i - 1] in ("--name", "-t"):
                    continue  # a container's or an image's name
                if words[:2] == ["docker", "exec"] and i == 2:
                    continue
                rest = words[i + 1 :]
                for j, arg in enumerate(rest):
                    if arg in SHELL_OPERATORS:
                        rest = rest[:j]
                        break
                if rest:
                    commands.append(rest)
                break
    return commands


COMMANDS = feedbot_commands(README)


def test_the_readme_shows_many_feedbot_commands() -> None:
    assert len(COMMANDS) >= 15
    shown = {argv[0] for argv in COMMANDS}
    assert {"run", "items", "repost", "status", "check-config", "summarize"} <= shown


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_every_command_in_the_readme_parses(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    if "--help" in argv or "--version" in argv:
        with pytest.raises(SystemExit) as info:
            parse_args(argv)
        assert info.value.code == 0 and capsys.readouterr().out.startswith(("usage:", "feedbot"))
        return
    args = parse_args(argv)
    assert args.command == argv[0]
    before = parse_args(["--config", "x.yaml", *argv])
    after = parse_args([*argv, "--config", "x.yaml"])
    assert before.config == after.config == Path("x.yaml")
    assert vars(before) == vars(after)


def test_a_command_the_parser_refuses_would_fail_the_suite() -> None:
    """The extraction finds commands in blocks, so a wrong one in the README is caught."""
    sample = "```sh\nfeedbot status --bogus   # a comment\nfeedbot items | head\n```\n"
    assert feedbot_commands(sample) == [["status", "--bogus"], ["items"]]
    with pytest.raises(SystemExit):
        parse_args(feedbot_commands(sample)[0])


def test_every_table_row_belongs_to_a_table() -> None:
    """A paragraph line between two rows splits a Markdown table: the rest renders as text."""
    lines = [line.strip() for line in README.splitlines()]
    for i, line in enumerate(lines):
        if not line.startswith("|") or i == 0:
            continue
        previous = lines[i - 1]
        if previous.startswith("|"):
            continue
        assert not previous, f"README.md:{i + 1}: a table row right after a paragraph line"
        header_rule = lines[i + 1] if i + 1 < len(lines) else ""
        assert re.fullmatch(r"\|[-|: ]+\|", header_rule), (
            f"README.md:{i + 1}: a table needs a header"
        )


def test_the_summarize_default_in_the_readme_is_the_code_s() -> None:
    assert f"fills {DEFAULT_GRAPHEMES} graphemes" in README
    assert f"fit {DEFAULT_GRAPHEMES} graphemes" in README
