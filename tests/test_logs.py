from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Config
from bot.logs import MASK, RedactSecrets, setup_logging
from bot.wiring import secrets_of


def test_secrets_in_a_log_line_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", ["hunter2-app-pass", "sk-live-123456"])
    log = logging.getLogger("bot.test")
    log.warning("login failed for %s with %s", "me.test", "hunter2-app-pass")
    log.error("LLM said: invalid key sk-live-123456 (sk-live-123456)")
    err = capsys.readouterr().err
    assert "hunter2-app-pass" not in err and "sk-live-123456" not in err
    assert err.count(MASK) == 3
    assert "login failed for me.test with ***" in err


def test_short_or_empty_secrets_are_not_used_to_mask_everything() -> None:
    record = logging.LogRecord("x", logging.INFO, "", 0, "a b c", None, None)
    RedactSecrets(["", "a"]).filter(record)
    assert record.getMessage() == "a b c"


def test_every_secret_the_config_names_is_collected() -> None:
    config = Config.model_validate(
        {
            "accounts": {
                "me": {"type": "bluesky", "handle": "me.test", "app_password": "pw-1234"},
            },
            "feeds": [
                {
                    "name": "f",
                    "source": {"type": "records", "path": "x"},
                    "account": "me",
                    "summary": {
                        "backend": "llm",
                        "llm": {"base_url": "http://x", "model": "m", "api_key_env": "KEY"},
                    },
                }
            ],
        }
    )
    assert secrets_of(config, {"KEY": "sk-9999"}) == ["pw-1234", "sk-9999"]


def test_a_newline_in_a_logged_id_does_not_forge_a_log_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("INFO")
    logging.getLogger("bot.test").warning(
        "skipped feed=%s item=%s", "news", "x\n2026-01-01 ERROR fake=1 \x1b[2J\u202e"
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "item=x\\n2026-01-01 ERROR fake=1 \\x1b[2J\\u202e" in err


def test_log_lines_start_with_a_utc_time_that_names_its_offset(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("INFO")
    logging.getLogger("bot.test").info("hello")
    line = capsys.readouterr().err
    stamp = line.split(" ", 1)[0]
    when = datetime.fromisoformat(stamp)
    assert stamp.endswith("+00:00") and when.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=1)
    assert line.endswith(" INFO bot.test hello\n")


def _json_lines(err: str) -> list[dict[str, object]]:
    import json

    return [json.loads(line) for line in err.splitlines()]


def test_json_logs_are_one_object_a_line_with_event_and_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import datetime

    setup_logging("INFO", [], "json")
    log = logging.getLogger("bot.pipeline")
    log.info("posted feed=%s item=%s posts=%d", "news", "at://x/y/z", 3)
    log.info("waiting feed=%s until=%s (asked by the server)", "news", "2026-01-01")
    log.info("pass %s", "news: nothing new")
    log.warning("100%% done feed=%s", "news")
    first, second, third, fourth = _json_lines(capsys.readouterr().err)
    assert datetime.fromisoformat(str(first["time"])).utcoffset() is not None
    assert first["level"] == "INFO" and first["logger"] == "bot.pipeline"
    assert first["event"] == "posted"
    assert first["fields"] == {"feed": "news", "item": "at://x/y/z", "posts": 3}
    assert second["event"] == "waiting (asked by the server)"
    assert second["fields"] == {"feed": "news", "until": "2026-01-01"}
    assert third == {**third, "event": "pass news: nothing new", "fields": {}}
    assert fourth["event"] == "100% done" and fourth["level"] == "WARNING"


def test_json_logs_mask_secrets_like_the_text_format(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", ["hunter2-app-pass"], "json")
    log = logging.getLogger("bot.test")
    log.warning("login failed account=%s error=%s", "me", "bad hunter2-app-pass")
    try:
        raise RuntimeError("the server echoed hunter2-app-pass")
    except RuntimeError:
        log.exception("job crashed feed=%s", "news")
    err = capsys.readouterr().err
    assert "hunter2-app-pass" not in err
    masked, crashed = _json_lines(err)
    assert masked["event"] == f"login failed account=me error=bad {MASK}"
    assert crashed["fields"] == {"feed": "news"}
    assert f"the server echoed {MASK}" in str(crashed["exception"])
