"""The daemon: one APScheduler job per feed, signals, and a heartbeat file.

Each feed's job runs at the feed's interval with jitter, never overlapping itself
(``max_instances=1``) and collapsing missed runs into one (``coalesce``). SIGTERM and
SIGINT set the stop event: jobs finish the item in hand, then the process exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import UTC, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock, utcnow
from bot.config import Config, FeedSettings
from bot.heartbeat import Phase, write_beat
from bot.heartbeat import heartbeat_path as beside_state
from bot.pipeline import Pipeline
from bot.state import State
from bot.wiring import build_pipeline

log = logging.getLogger(__name__)

MAX_WORKERS = 4


def heartbeat_path(config: Config) -> Path:
    return beside_state(config.state)


def heartbeat_limit(feeds: list[FeedSettings]) -> timedelta:
    """How old the heartbeat may get while all is well: a job may run late by its
    jitter, so two of the shortest intervals and a minute."""
    return 2 * min((f.interval for f in feeds), default=timedelta(minutes=15)) + timedelta(
        minutes=1
    )


def _job(pipeline: Pipeline, feed: FeedSettings, heartbeat: Path, limit: timedelta) -> None:
    try:
        now = pipeline.clock()
        row = pipeline.state.feed(feed.name)
        if row.next_poll_at is not None and row.next_poll_at > now:
            log.info("waiting feed=%s until=%s (asked by the server)", feed.name, row.next_poll_at)
            report = pipeline.publish_only(feed)
        else:
            report = pipeline.run_feed(feed)
        log.info("pass %s", report.line())
    except Exception as exc:  # the daemon must outlive any one feed's bug
        # one line for the operator; the traceback only when asked for (DEBUG)
        log.error("job crashed feed=%s error=%s: %s", feed.name, type(exc).__name__, exc)
        log.debug("job crashed feed=%s", feed.name, exc_info=True)
    write_beat(heartbeat, limit)


def run_daemon(config: Config, *, dry_run: bool = False, clock: Clock = utcnow) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on %s: finishing the item in hand", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    with (
        State.open(config.state) as state,
        build_pipeline(config, state, dry_run=dry_run, stop=stop, clock=clock) as pipeline,
    ):
        _serve(config, pipeline, stop)
    log.info("daemon stopped")
    return 0


def _serve(config: Config, pipeline: Pipeline, stop: threading.Event) -> None:
    """Schedule every enabled feed's job and run them until ``stop`` is set."""
    if not pipeline.dry_run:
        pipeline.recover()
    heartbeat = heartbeat_path(config)
    feeds = [f for f in config.feeds if f.enabled]
    limit = heartbeat_limit(feeds)
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max(1, min(MAX_WORKERS, len(feeds))))},
        timezone=UTC,
    )
    start = pipeline.clock()
    for feed in feeds:
        seconds = max(1, int(feed.interval.total_seconds()))
        scheduler.add_job(
            _job,
            IntervalTrigger(seconds=seconds, jitter=min(60, seconds // 10) or None, timezone=UTC),
            args=(pipeline, feed, heartbeat, limit),
            id=feed.name,
            name=f"poll {feed.name}",
            max_instances=1,
            coalesce=True,
            next_run_time=start,
            misfire_grace_time=seconds,
        )
    log.info("daemon started feeds=%d pid=%d", len(feeds), os.getpid())
    write_beat(heartbeat, limit)
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
    write_beat(heartbeat, limit, Phase.STOPPED)  # a clean exit: health says so at once
