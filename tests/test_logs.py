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
