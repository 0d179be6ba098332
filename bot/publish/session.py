"""Where a Bluesky login session is kept between runs (the state file, in the daemon).

Bluesky allows few logins a day (``createSession``: 30 per 5 minutes, 300 a day), so a
session is exported once, reused on every run and refreshed; the store holds the SDK's
session string, which contains tokens: it must never be logged or shown.

Logins are gated (``LoginGate``): one attempt per account per backoff window, shared by
every item and feed and kept in the state file, so an outage can't turn into a login
storm, and a 401 stops logins with those credentials until the config changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Protocol


class SessionStore(Protocol):
    def load_session(self, account: str) -> str | None: ...

    def save_session(self, account: str, session: str) -> None: ...

    def load_login(self, account: str) -> LoginGate | None:
        """How the account's last logins went (None: no failure on record)."""
        ...

    def save_login(self, account: str, gate: LoginGate | None) -> None:
        """Remember a failed login, or (None) that the last one worked."""
        ...


# --- logins that can't lock the account out -------------------------------------------

#: the first wait after a failed login; it doubles with each failure in a row
LOGIN_BACKOFF = 60.0
#: the longest wait between two logins: at most ~24 failed logins a day (Bluesky: 300)
LOGIN_BACKOFF_MAX = 3600.0


@dataclass(frozen=True)
class LoginGate:
    """How the last logins of an account went, kept across passes and restarts.

    ``key`` names the credentials tried (``login_key``): a changed handle, password or
    PDS in the config opens the gate again. ``refused`` is the server's word that the
    credentials are wrong (HTTP 401): no more logins with them at all.
    """

    key: str
    failures: int = 0
    next_at: float | None = None  # epoch seconds before which no login is tried
    refused: str | None = None
    last_error: str = ""

    def blocked(self, key: str, now: float) -> str | None:
        """Why no login may be tried now with ``key``, or None."""
        if key != self.key:
            return None
        if self.refused is not None:
            return (
                f"login refused ({self.refused}); not tried again until the handle or "
                "app_password in the config changes"
            )
        if self.next_at is not None and now < self.next_at:
            wait = int(self.next_at - now)
            return f"login backing off for {wait}s after {self.failures} failed logins"
        return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoginGate:
        return cls(
            key=str(data["key"]),
            failures=int(data.get("failures", 0)),
            next_at=float(data["next_at"]) if data.get("next_at") is not None else None,
            refused=str(data["refused"]) if data.get("refused") is not None else None,
            last_error=str(data.get("last_error", "")),
        )


def login_key(handle: str, password: str, pds: str) -> str:
    """A digest of the credentials, so the state file never holds the password."""
    raw = "\0".join((handle.lower(), password, pds.rstrip("/"))).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def after_failure(
    gate: LoginGate | None,
    key: str,
    now: float,
    error: str,
    *,
    refused: bool = False,
    not_before: float | None = None,
) -> LoginGate:
    """The gate after one more failed login: exponential backoff, or shut on a 401."""
    failures = (gate.failures if gate is not None and gate.key == key else 0) + 1
    wait = min(LOGIN_BACKOFF * 2 ** (failures - 1), LOGIN_BACKOFF_MAX)
    next_at = max(now + wait, not_before or 0.0)
    return LoginGate(
        key=key,
        failures=failures,
        next_at=next_at,
        refused=error if refused else None,
        last_error=error,
    )
