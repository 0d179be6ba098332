"""Where a Bluesky login session is kept between runs (the state file, in the daemon).

Bluesky allows few logins a day (``createSession``: 30 per 5 minutes, 300 a day), so a
session is exported once, reused on every run and refreshed; the store holds the SDK's
session string, which contains tokens: it must never be logged or shown.
"""

from __future__ import annotations

from typing import Protocol


class SessionStore(Protocol):
    def load_session(self, account: str) -> str | None: ...

    def save_session(self, account: str, session: str) -> None: ...
