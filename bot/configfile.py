"""What can be read from the configuration without validating all of it: where the
file is, where the state file is, and durations as people write them.

Standard library and PyYAML only, so ``feedbot health`` (every minute, in a container)
starts without pydantic; ``bot.config`` builds on this for the full validation.
"""

from __future__ import annotations

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

_DURATION = re.compile(r"(\d+)\s*(d|h|m|s)")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: Any) -> timedelta:
    """Accept "90s", "15m", "1h30m", "2d" or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        parts = _DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))
    raise ValueError('expected a duration like "15m"')


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
