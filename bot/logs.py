"""Logging to stderr as ``time level logger message``, with secrets masked.

The time is UTC in ISO 8601 with its offset (``2026-05-28T11:45:00+00:00``), the same
spelling ``status`` and the state file use.

Code never logs secrets on purpose; masking is the second line of defence, for a secret
that sneaks into an exception message from a library. The formatter masks the whole
formatted line, the traceback of ``log.exception`` included (``bot.redact``).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable

from bot import redact
from bot.untrusted import log_safe

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


def setup_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    redact.remember(secrets)
    handler = logging.StreamHandler(sys.stderr)
    formatter = MaskingFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S+00:00"
    )
    formatter.converter = time.gmtime  # the offset in the format is only true in UTC
    handler.setFormatter(formatter)
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(OneLine())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
