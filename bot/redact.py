"""Secrets never leave the process: one masking function for everything feedbot writes
or shows (log lines and tracebacks, exception text, ``status``, the state file's text
columns).

The configured secrets (app passwords, the LLM key) are registered once at start-up;
anything shaped like a JWT (a session's access or refresh token) is masked whether
registered or not.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

MASK = "***"
#: three base64url parts, the first one a JSON header ("eyJ" is how ``{"`` encodes)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
#: shorter strings would mask ordinary words
MIN_SECRET = 4

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def remember(secrets: Iterable[str]) -> None:
    """Add secrets to mask from now on (longest first, so none is half-masked)."""
    global _secrets
    with _lock:
        known = {*_secrets, *(s for s in secrets if s and len(s) >= MIN_SECRET)}
        _secrets = tuple(sorted(known, key=len, reverse=True))


def secrets() -> tuple[str, ...]:
    return _secrets


def mask(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and ``extra``) and every JWT masked."""
    for secret in (*_secrets, *(s for s in extra if s and len(s) >= MIN_SECRET)):
        if secret in text:
            text = text.replace(secret, MASK)
    if "eyJ" in text:
        text = _JWT.sub(MASK, text)
    return text


def masked(value: Any) -> Any:
    """``value`` (JSON-shaped data) with every string in it masked."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


def contains_secret(text: str, extra: Iterable[str] = ()) -> bool:
    return mask(text, extra) != text
