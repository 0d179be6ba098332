"""``feedbot --help`` and ``feedbot health`` start fast because they import only what
they need: checked by what is in ``sys.modules`` afterwards, not by a clock (timings are
bench/startup.py's job)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: what a start-up must not pay for: the SDK, numpy (via the summarizer), pydantic,
#: sqlite_utils, the HTTP client, the scheduler, the summarizer's own modules
HEAVY = (
    "atproto",
    "numpy",
    "pydantic",
    "sqlite_utils",
    "sqlite3",
    "httpx",
    "apscheduler",
    "regex",
    "py3langid",
    "bot.summarize",  # the package itself: its dataclasses cost a sixth of --help
    "bot.config",
    "bot.state",
    "bot.pipeline",
)

PROBE = """
import json, sys
from bot.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = json.loads({heavy!r})
loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))
print(json.dumps({{"code": code, "loaded": loaded}}), file=sys.stderr)
"""


def loaded_after(argv: list[str], cwd: Path) -> tuple[object, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FEEDBOT_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=json.dumps(HEAVY)), *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["code"], report["loaded"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path


@pytest.mark.parametrize(
    "argv", [["--help"], ["health", "--help"], ["run", "--help"], ["--version"]]
)
def test_help_imports_nothing_heavy(argv: list[str], project: Path) -> None:
    code, loaded = loaded_after(argv, project)
    assert code == 0
    assert loaded == []


def test_health_imports_nothing_heavy(project: Path) -> None:
    code, loaded = loaded_after(["health"], project)
    assert code == 1  # no daemon has run here: unhealthy, and still nothing heavy
    assert loaded == []


def test_the_probe_sees_heavy_imports_when_a_command_needs_them(project: Path) -> None:
    """The check can fail: ``status`` loads the configuration (pydantic) and the state."""
    code, loaded = loaded_after(["status"], project)
    assert code == 0
    assert "pydantic" in loaded and "sqlite_utils" in loaded and "bot.config" in loaded
