"""The one place HTTP clients are made, so every request names the bot and has timeouts."""

from __future__ import annotations

from typing import Any

import httpx

from bot import __version__

USER_AGENT = f"feedbot/{__version__} (+https://github.com/feedbot/feedbot)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


def make_client(**kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` with feedbot's User-Agent and timeouts; kwargs override."""
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    kwargs.setdefault("follow_redirects", False)
    return httpx.Client(headers=headers, **kwargs)
