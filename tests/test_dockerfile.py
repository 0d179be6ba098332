"""No Docker engine runs here, so the Dockerfile is checked by doing what it says:
its install command in a fresh virtual environment, then its CMD must be a command
that exists there and runs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from bot.configfile import parse_duration

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


def test_the_image_is_pinned_runs_as_a_non_root_user_and_bakes_in_no_config_volume() -> None:
    steps = dict(instructions())
    assert re.fullmatch(r"python:3\.11\.\d+-slim", steps["FROM"]), "a patch version"
    assert steps["USER"] == "10001"  # the uid the README tells owners of state/ to use
    assert json.loads(steps["VOLUME"]) == ["/app/state"]  # config is mounted read-only
    assert json.loads(steps["CMD"]) == ["feedbot", "run"]


def test_the_health_check_runs_every_minute_after_a_start_period() -> None:
    options = dict(
        re.findall(r"--([a-z-]+)=(\S+)", dict(instructions())["HEALTHCHECK"].split("CMD")[0])
    )
    assert timedelta(seconds=30) <= parse_duration(options["interval"]) <= timedelta(minutes=2)
    assert parse_duration(options["start-period"]) >= timedelta(minutes=1)
    assert "timeout" in options


def test_dependencies_install_from_the_lock_in_a_layer_before_the_code() -> None:
    steps = instructions()
    lock_install = steps.index(("RUN", "pip install --no-cache-dir -r requirements.lock"))
    code_copy = steps.index(("COPY", "bot ./bot"))
    assert steps.index(("COPY", "requirements.lock ./")) < lock_install < code_copy
    assert ("RUN", "pip install --no-cache-dir --no-deps .") in steps[code_copy:]


def locked(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[\w.+!]+", version), f"{path.name}: {line!r} is not exact"
            pins[canonical(name)] = version
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    return {canonical(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}


def test_the_lock_files_pin_every_dependency_exactly() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = locked(ROOT / "requirements.lock")
    dev = locked(ROOT / "requirements-dev.lock")
    assert requirement_names(project["dependencies"]) <= set(runtime)
    assert requirement_names(project["optional-dependencies"]["dev"]) <= set(dev)
    assert {name: dev[name] for name in runtime} == runtime, "the two locks agree"
    assert runtime["atproto"] == "0.0.73"


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_build_context_leaves_out_caches_state_and_the_virtualenv() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (
        ".git",
        ".venv",
        ".cache",
        "state",
        "**/*.db",
        "**/*.db-*",
        "**/__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        "tests",
    ):
        assert pattern in ignored, pattern
    for keyword, rest in instructions():
        if keyword == "COPY":
            *sources, _dest = shlex.split(rest)
            assert not set(sources) & ignored, f"the image needs {sources}"


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
    assert len(pip_runs) == 2, "the lock's dependencies, then the package"

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
