"""Logging to stderr as ``time level logger message``, with secrets masked.

Code never logs secrets on purpose; masking is the second line of defence, for a secret
that sneaks into an exception message from a library. The formatter masks the whole
formatted line, the traceback of ``log.exception`` included (``bot.redact``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from bot import redact

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


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted record: message, traceback and stack."""

    def format(self, record: logging.LogRecord) -> str:
        return redact.mask(super().format(record))


def setup_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    redact.remember(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        MaskingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
