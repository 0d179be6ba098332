"""What can be read from the configuration without validating all of it: where the
file is, where the state file is, and durations as people write them.

Standard library and PyYAML only, so ``feedbot health`` (every minute, in a container)
starts without pydantic; ``bot.config`` builds on this for the full validation.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

DEFAULT_PATH = Path("config/feeds.yaml")
DEFAULT_STATE = Path("state/feedbot.db")
ENV_VAR = "FEEDBOT_CONFIG"

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

_DURATION = re.compile(r"(\d{1,12})\s*(d|h|m|s)")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
#: the longest duration any setting takes; anything longer is a typo (``99999999999d``
#: overflowed ``timedelta`` with a traceback)
MAX_DURATION = timedelta(days=365)


def parse_duration(value: Any) -> timedelta:
    """Accept "90s", "15m", "1h30m", "2d" or a number of seconds, up to a year."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:  # ``.inf`` overflowed timedelta
            raise ValueError('expected a duration like "15m"')
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError('expected a duration like "15m"')
        seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    else:
        raise ValueError('expected a duration like "15m"')
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"at most {MAX_DURATION.days}d")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The spelling ``parse_duration`` reads back: ``10s``, ``15m``, ``1h30m``, ``2d``."""
    seconds = max(0, int(value.total_seconds()))
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            out += f"{count}{unit}"
    return out


def config_path(path: Path | str | None, env: Mapping[str, str] | None = None) -> Path:
    """The file to read: the one named, else ``$FEEDBOT_CONFIG``, else the default
    (relative to the working directory)."""
    env = os.environ if env is None else env
    return Path(path) if path is not None else Path(env.get(ENV_VAR) or DEFAULT_PATH)


def state_path(path: Path, env: Mapping[str, str] | None = None) -> Path:
    """The ``state`` setting of the configuration file at ``path``, read without
    validating the rest; ``ConfigError`` when the file can't be read as YAML."""
    import yaml

    env = os.environ if env is None else env
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML (run feedbot check-config)") from exc
    value = raw.get("state") if isinstance(raw, dict) else None
    if not isinstance(value, str) or not value:
        return DEFAULT_STATE
    return Path(ENV_REF.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value))
