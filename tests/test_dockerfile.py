"""No Docker engine runs here, so the Dockerfile is checked by doing what it says:
its install command in a fresh virtual environment, then its CMD must be a command
that exists there and runs."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_the_image_runs_as_a_non_root_user_with_config_and_state_volumes() -> None:
    steps = dict(instructions())
    assert steps["FROM"].startswith("python:3.11-slim")
    assert steps["USER"] not in ("root", "0")
    assert set(json.loads(steps["VOLUME"])) == {"/app/config", "/app/state"}
    assert json.loads(steps["CMD"]) == ["feedbot", "run"]


@pytest.mark.timeout(600)
def test_the_install_steps_work_and_cmd_names_a_real_command(tmp_path: Path) -> None:
    context = tmp_path / "app"
    context.mkdir()
    pip_runs = []
    for keyword, rest in instructions():
        if keyword == "COPY":
            *sources, _dest = shlex.split(rest)
            for source in sources:
                src = ROOT / source
                dst = context / source
                if src.is_dir():
                    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(src, dst)
        elif keyword == "RUN" and rest.startswith("pip install"):
            pip_runs.append(shlex.split(rest))
    assert pip_runs, "the Dockerfile installs the package with pip"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for argv in pip_runs:
        argv = [str(venv / "bin" / "pip"), *argv[1:]]
        subprocess.run(argv, cwd=context, check=True, capture_output=True, timeout=540)

    cmd = json.loads(dict(instructions())["CMD"])
    health = json.loads(dict(instructions())["HEALTHCHECK"].split("CMD", 1)[1])
    for argv in (cmd, health):
        program = venv / "bin" / argv[0]
        assert program.exists(), f"{argv[0]} is not installed by the Dockerfile's steps"
        result = subprocess.run(
            [str(program), *argv[1:], "--help"], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: feedbot {argv[1]}")
