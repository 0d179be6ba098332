"""Logging to stderr as ``time level logger message`` or one JSON object a line, with
secrets masked the same way in both.

The time is UTC in ISO 8601 with its offset (``2026-05-28T11:45:00+00:00``), the same
spelling ``status`` and the state file use.

Code never logs secrets on purpose; masking is the second line of defence, for a secret
that sneaks into an exception message from a library. The formatter masks the whole
formatted line, the traceback of ``log.exception`` included (``bot.redact``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from bot import redact
from bot.untrusted import log_safe

LogFormat = Literal["text", "json"]

MASK = redact.MASK


class RedactSecrets(logging.Filter):
    """Masks a record's message for handlers that format it themselves."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= redact.MIN_SECRET)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact.mask(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class OneLine(logging.Filter):
    """Each message on one line: newlines and control characters that a feed's ids,
    titles or errors carry are escaped, so no input can forge a log line of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = log_safe(message)
        if safe != message:
            record.msg, record.args = safe, None
        return True


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted record: message, traceback and stack."""

    def format(self, record: logging.LogRecord) -> str:
        return redact.mask(super().format(record))


#: a printf placeholder, and a ``key=`` just before one (a field of the event)
_SPEC = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
_KEY = re.compile(r"(\w+)=$")


def _value(value: Any) -> Any:
    return value if isinstance(value, bool | int | float | None) else str(value)


def event_fields(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    """Split ``"posted feed=%s posts=%d"`` and its args into the event ("posted") and
    its fields ({"feed": …, "posts": 3}), reading the code's format string, never the
    rendered text. Anything else is all event."""
    msg, args = record.msg, record.args
    if not isinstance(msg, str) or not isinstance(args, tuple) or not args:
        return record.getMessage(), {}
    fields: dict[str, Any] = {}
    pieces: list[str] = []
    pos = used = 0
    try:
        for match in _SPEC.finditer(msg):
            before = msg[pos : match.start()]
            pos = match.end()
            if match.group() == "%%":
                pieces.append(before + "%")
                continue
            value = args[used]
            used += 1
            key = _KEY.search(before)
            if key is not None:
                pieces.append(before[: key.start()])
                fields[key.group(1)] = _value(value)
            else:
                pieces.append(before + match.group() % (value,))
        if used != len(args):
            return record.getMessage(), {}
    except (IndexError, TypeError, ValueError):
        return record.getMessage(), {}
    pieces.append(msg[pos:])
    return " ".join("".join(pieces).split()), fields


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, with its offset), level, logger, event, fields."""

    def format(self, record: logging.LogRecord) -> str:
        event, fields = event_fields(record)
        when = datetime.fromtimestamp(record.created, UTC)
        out: dict[str, Any] = {
            "time": when.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": redact.mask(event),
            "fields": redact.masked(fields),
        }
        if record.exc_info:
            out["exception"] = redact.mask(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time, so logs go above progress bars
    (which wrap it) instead of through them."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup_logging(
    level: str = "INFO", secrets: Iterable[str] = (), log_format: LogFormat = "text"
) -> None:
    redact.remember(secrets)
    handler = StderrHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        formatter = MaskingFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S+00:00"
        )
        formatter.converter = time.gmtime  # the offset in the format is only true in UTC
        handler.setFormatter(formatter)
    handler.addFilter(RedactSecrets(secrets))
    if log_format == "text":  # JSON escapes newlines and control characters itself
        handler.addFilter(OneLine())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
