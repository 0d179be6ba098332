"""How long ``feedbot`` takes to start, beside a bare ``python -c pass`` (the floor).

    .venv/bin/python bench/startup.py [--runs 30] [--warmup 3]

Like hyperfine: each command runs ``--warmup`` times untimed, then ``--runs`` times,
each in a fresh process; the table shows the wall-clock median, the fastest, the
slowest and the median's distance from the floor, in milliseconds, and the median CPU
time (user + system) of the process, which a busy machine inflates far less than the
wall clock: on a quiet machine the two are close. ``health`` runs against the shipped
configuration (copied to a temporary folder) with a fresh heartbeat of this process, so
it does its whole job; ``check-config`` is there to show what loading pydantic costs.
Bounded: at most ``--runs`` + ``--warmup`` processes per command, 60 s each.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.heartbeat import write_beat  # noqa: E402


def feedbot() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m bot``."""
    script = Path(sys.executable).with_name("feedbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path, runs: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each timed run."""
    env = dict(os.environ)
    env.pop("FEEDBOT_CONFIG", None)
    wall, cpu = [], []
    for i in range(warmup + runs):
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        # no timeout: with one, Popen.wait polls in sleeps of up to 50 ms, and every
        # figure came out rounded up to a 50 ms step
        subprocess.run(
            argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            check=False,
        )  # fmt: skip
        if i >= warmup:
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((cpu_seconds() - cpu_start) * 1000)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        shutil.copytree(ROOT / "config", cwd / "config")
        (cwd / "state").mkdir()
        write_beat(cwd / "state" / "feedbot.heartbeat", timedelta(hours=1))
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("feedbot --help", [*feedbot(), "--help"]),
            ("feedbot health", [*feedbot(), "health"]),
            ("feedbot check-config", [*feedbot(), "check-config"]),
        ]
        results = [(name, timed(argv, cwd, args.runs, args.warmup)) for name, argv in rows]

    floor = statistics.median(results[0][1][0])
    print(
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}, "
        f"{args.runs} runs each"
    )
    print()
    print("| command | median ms | min ms | max ms | median − floor ms | CPU ms (median) |")
    print("|---|---|---|---|---|---|")
    for name, (times, cpu) in results:
        median = statistics.median(times)
        print(
            f"| `{name}` | {median:.0f} | {min(times):.0f} | {max(times):.0f} "
            f"| {median - floor:.0f} | {statistics.median(cpu):.0f} |"
        )


if __name__ == "__main__":
    main()
