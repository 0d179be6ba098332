from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from bot.cli_summarize import add_parser

TEXT = (
    "The city council approved a new budget for public transport on Monday. "
    "The budget adds forty electric buses and two new tram lines by 2028. "
    "Critics said the plan ignores the suburbs, where bus service is thin. "
    "Officials expect the first electric buses on the streets next spring."
)


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> int:
    parser = argparse.ArgumentParser(prog="feedbot")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["summarize", *argv])
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code: int = args.func(args)
    return code


def test_summarizes_stdin_one_sentence_per_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["--sentences", "2"], TEXT, monkeypatch) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0] == "The city council approved a new budget for public transport on Monday."


def test_summarizes_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    assert _run([str(path), "--sentences", "1"], "ignored stdin", monkeypatch) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line in TEXT and line.endswith(".")


def test_jsonl_writes_one_summary_per_line_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ru = "Городской совет утвердил новый бюджет. Он добавит сорок электробусов к 2028 году."
    stdin = (
        json.dumps({"id": "a", "text": TEXT})
        + "\n\n"
        + json.dumps({"id": 7, "text": ru}, ensure_ascii=False)
        + "\n"
    )
    assert _run(["--jsonl", "--sentences", "2"], stdin, monkeypatch) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a", 7]
    assert rows[0]["lang"] == "en" and rows[1]["lang"] == "ru"
    assert rows[0]["summary"].split("\n")[0].startswith("The city council")
    assert len(rows[0]["summary"].split("\n")) == 2


def test_lang_option_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["--jsonl", "--lang", "en"], json.dumps({"id": 1, "text": TEXT}), monkeypatch) == 0
    assert json.loads(capsys.readouterr().out)["lang"] == "en"


def test_a_bad_json_line_is_a_one_line_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = json.dumps({"id": 1, "text": TEXT}) + "\n{oops\n"
    assert _run(["--jsonl"], stdin, monkeypatch) == 2
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1  # the good line was written
    assert captured.err.count("\n") == 1 and "line 2" in captured.err


def test_a_line_without_text_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["--jsonl"], '{"id": 1}\n', monkeypatch) == 2
    assert "line 1" in capsys.readouterr().err


def test_a_missing_file_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run([str(tmp_path / "nope.txt")], "", monkeypatch) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_help_describes_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="feedbot")
    add_parser(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["summarize", "--help"])
    out = capsys.readouterr().out
    assert "--jsonl" in out and "--sentences" in out and "--lang" in out


def test_a_huge_input_is_cut_at_the_article_cap(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = (TEXT + " ") * 20_000  # 5.5 MB: took tens of seconds before the cap
    assert _run(["--sentences", "2"], huge, monkeypatch) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_a_json_line_nested_too_deep_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["--jsonl"], "[" * 100_000 + "]" * 100_000 + "\n", monkeypatch) == 2
    assert capsys.readouterr().err == (
        "error: line 1: invalid JSON: nested deeper than 100 levels\n"
    )
