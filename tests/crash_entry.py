"""Test-only bot entry: ``feedbot run --once``, except that the Bluesky publisher is
wrapped so the process SIGKILLs itself at one of the two dangerous moments of a post
(``before-write``, ``after-write``) or of a deletion (``before-delete``, ``after-delete``).

    python tests/crash_entry.py CONFIG --kill {none,before-write,...} [--delete ITEM]

With ``--delete ITEM`` it first tells the pipeline that ITEM's document was deleted at the
source (``Pipeline.delete_item``, as a stream's delete event does), then runs the pass.

Everything else is the real bot: config loading, the state file, the records source, the
summarizer, the composer, the pipeline (crash recovery included) and ``BlueskyPublisher``.
Prints one JSON line per feed report.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_config
from bot.logs import setup_logging
from bot.model import Deletion, Plan, StrongRef, Target, Thread
from bot.publish import Publisher
from bot.publish.preview import PreviewPublisher
from bot.state import State
from bot.wiring import build_pipeline

T = TypeVar("T")


class KillingPublisher:
    """The real publisher, except that this process dies around ``write`` or ``delete``
    when asked."""

    def __init__(self, inner: Publisher, kill: str) -> None:
        self.inner = inner
        self.kill = kill

    def prepare(self, thread: Thread, target: Target, *, now: datetime) -> Plan:
        return self.inner.prepare(thread, target, now=now)

    def find(self, plan: Plan) -> tuple[StrongRef, ...] | None:
        return self.inner.find(plan)

    def _around(self, step: str, run: Callable[[], T]) -> T:
        """``run`` the write or delete; die just before or just after it when asked (the
        plan is saved then, and after it the state doesn't know yet)."""
        if self.kill == f"before-{step}":
            os.kill(os.getpid(), signal.SIGKILL)
        done = run()
        if self.kill == f"after-{step}":
            os.kill(os.getpid(), signal.SIGKILL)
        return done

    def write(self, plan: Plan) -> tuple[StrongRef, ...]:
        return self._around("write", lambda: self.inner.write(plan))

    def prepare_boost(self, root: StrongRef, target: Target, *, now: datetime) -> Plan:
        return self.inner.prepare_boost(root, target, now=now)

    def delete(self, deletion: Deletion) -> int:
        return self._around("delete", lambda: self.inner.delete(deletion))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    kills = ("none", "before-write", "after-write", "before-delete", "after-delete")
    parser.add_argument("--kill", choices=kills, default="none")
    parser.add_argument("--delete", metavar="ITEM", help="the item deleted at the source")
    args = parser.parse_args()

    # no secrets handed to the log filter: the publisher itself must not log them
    setup_logging("INFO")
    config = load_config(args.config)
    state = State.open(config.state)
    pipeline = build_pipeline(config, state)
    pipeline.publishers = {
        name: p if isinstance(p, PreviewPublisher) else KillingPublisher(p, args.kill)
        for name, p in pipeline.publishers.items()
    }
    if args.delete:
        for feed in config.feeds:
            outcome = pipeline.delete_item(feed, args.delete)
            print(json.dumps({"feed": feed.name, "delete": type(outcome).__name__}))
    for report in pipeline.run_once():
        line = {"feed": report.feed, "posted": report.posted, "new": report.new}
        print(json.dumps({**line, "deleted": report.deleted}))
    state.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
