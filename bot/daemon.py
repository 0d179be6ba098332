"""The daemon: one APScheduler job per feed, signals, health, and live reload.

Each feed's job runs at the feed's interval with jitter, never overlapping itself
(``max_instances=1``) and collapsing missed runs into one (``coalesce``). SIGTERM and
SIGINT set the stop event: jobs finish the item in hand, then the process exits 0.
SIGHUP re-reads the configuration: a valid one adds, removes and reschedules jobs and
rebuilds the publishers of changed accounts; an invalid one is refused in one line and
the old one keeps running. Only one daemon runs per state file (``bot.daemon_lock``).

Feeds that ``follow`` an event stream also get one ``StreamRunner`` per endpoint
(``bot.follow``), started before the first polls so that the catch-up listing and the
live stream overlap instead of leaving a gap; their interval poll stays as a backstop.
A reload, and a check every minute, restart the streams whose feeds or subscription
changed.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING, STATE_STOPPED
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock, utcnow
from bot.config import Config, FeedSettings, load_config
from bot.configfile import format_duration
from bot.daemon_lock import DaemonLock
from bot.errors import ConfigError
from bot.follow import StreamFactory, StreamRunner, StreamStatus, plan_streams
from bot.heartbeat import Phase, write_beat
from bot.heartbeat import heartbeat_path as beside_state
from bot.observe import NO_OBSERVER, Observer
from bot.pipeline import Pipeline
from bot.publish import Publisher
from bot.publish.pacing import WriteBudget
from bot.state import State
from bot.streams import Batch
from bot.wiring import build_pipeline, make_stream

log = logging.getLogger(__name__)

MAX_WORKERS = 4
#: how often the daemon checks that every stream it should follow is running
STREAM_CHECK_SECONDS = 60
#: a stream without a cursor is listed again this long after it started
CATCH_UP_SETTLE = timedelta(seconds=10)


def heartbeat_path(config: Config) -> Path:
    return beside_state(config.state)


def heartbeat_limit(feeds: list[FeedSettings]) -> timedelta:
    """How old the heartbeat may get while all is well: a job may run late by its
    jitter, so two of the shortest intervals and a minute."""
    return 2 * min((f.interval for f in feeds), default=timedelta(minutes=15)) + timedelta(
        minutes=1
    )


def _trigger(feed: FeedSettings) -> IntervalTrigger:
    seconds = max(1, int(feed.interval.total_seconds()))
    return IntervalTrigger(seconds=seconds, jitter=min(60, seconds // 10) or None, timezone=UTC)


class Daemon:
    """The scheduler, the pipeline it drives and the optional HTTP listener.

    ``load`` re-reads the configuration on reload; ``pipeline`` and ``config`` are
    swapped whole, so a job always sees one consistent pair.
    """

    def __init__(
        self,
        config: Config,
        *,
        load: Callable[[], Config],
        dry_run: bool = False,
        clock: Clock = utcnow,
        streams: StreamFactory = make_stream,
    ) -> None:
        self.config = config
        self.make_stream = streams
        #: endpoint → its running stream
        self.runners: dict[str, StreamRunner] = {}
        self._stream_problems: set[str] = set()
        self._streams_lock = threading.Lock()
        self.clock = clock
        self.load = load
        self.dry_run = dry_run
        self.stop = threading.Event()
        self._wake = threading.Event()
        self._reload_wanted = False
        self.started = self.last_pass = clock()
        #: pipelines replaced by a reload: their jobs may still run; closed at the end
        self._retired: list[Pipeline] = []
        self.heartbeat = heartbeat_path(config)
        self.state = State.open(config.state)
        self.observer: Observer = NO_OBSERVER
        self.listener = None
        if config.metrics is not None:
            from bot.listener import Listener
            from bot.metrics import Metrics

            metrics = Metrics(budgets=self._budgets)
            self.observer = metrics
            self.listener = Listener(config.metrics.listen, metrics.registry, self.health)
        self.pipeline = self._build(config)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(MAX_WORKERS)}, timezone=UTC
        )

    def _build(self, config: Config, keep: Mapping[str, Publisher] | None = None) -> Pipeline:
        return build_pipeline(
            config,
            self.state,
            dry_run=self.dry_run,
            stop=self.stop,
            observer=self.observer,
            keep=keep,
            clock=self.clock,
        )

    def _budgets(self) -> dict[str, WriteBudget]:
        out = {}
        for name, publisher in self.pipeline.publishers.items():
            budget = getattr(publisher, "budget", None)
            if isinstance(budget, WriteBudget):
                out[name] = budget
        return out

    # --- running -----------------------------------------------------------------------

    def start(self) -> None:
        if not self.dry_run:
            self.pipeline.recover()
        feeds = self._enabled()
        # streams connect before the first polls list the repos: no gap between the two
        self.check_streams()
        for feed in feeds:
            self._add_job(feed)
        self.scheduler.add_job(
            self.check_streams,
            IntervalTrigger(seconds=STREAM_CHECK_SECONDS, timezone=UTC),
            id="\x00streams",  # not a feed name (names can't hold control characters)
            name="check streams",
            max_instances=1,
            coalesce=True,
        )
        log.info(
            "daemon started feeds=%d streams=%d pid=%d", len(feeds), len(self.runners), os.getpid()
        )
        write_beat(self.heartbeat, heartbeat_limit(feeds))
        self.scheduler.start()
        if self.listener is not None:
            self.listener.start()

    def _add_job(self, feed: FeedSettings) -> None:
        seconds = max(1, int(feed.interval.total_seconds()))
        self.scheduler.add_job(
            self._job,
            _trigger(feed),
            args=(feed.name,),
            id=feed.name,
            name=f"poll {feed.name}",
            max_instances=1,
            coalesce=True,
            next_run_time=self.clock(),
            misfire_grace_time=seconds,
        )

    def _job(self, name: str) -> None:
        pipeline, config = self.pipeline, self.config
        try:
            feed = config.feed(name)
            now = pipeline.clock()
            row = pipeline.state.feed(feed.name)
            if row.next_poll_at is not None and row.next_poll_at > now:
                log.info("waiting feed=%s until=%s (asked by the server)", name, row.next_poll_at)
                report = pipeline.publish_only(feed)
            else:
                report = pipeline.run_feed(feed)
            log.info("pass %s", report.line())
        except Exception as exc:  # the daemon must outlive any one feed's bug
            # one line for the operator; the traceback only when asked for (DEBUG)
            log.error("job crashed feed=%s error=%s: %s", name, type(exc).__name__, exc)
            log.debug("job crashed feed=%s", name, exc_info=True)
        self.last_pass = self.clock()
        try:
            write_beat(self.heartbeat, heartbeat_limit(self._enabled()))
        except OSError as exc:  # a full disk: health will say the beat is late
            log.error("heartbeat not written path=%s error=%s", self.heartbeat, exc)

    # --- streams -----------------------------------------------------------------------

    def check_streams(self) -> None:
        """Run exactly the streams the configuration asks for: start missing ones, and
        restart those whose feeds or subscription changed (a reload, a repo resolved)."""
        if self.stop.is_set():
            return
        with self._streams_lock:
            try:
                plan = plan_streams(self.config, self.pipeline.sources)
            except Exception as exc:  # never the scheduler's problem
                log.error("stream check failed error=%s: %s", type(exc).__name__, exc)
                return
            for problem in sorted(set(plan.problems) - self._stream_problems):
                log.error("stream not started: %s", problem)
            self._stream_problems = set(plan.problems)
            for endpoint in sorted(self.runners):
                runner = self.runners[endpoint]
                spec = plan.specs.get(endpoint)
                if spec == runner.spec and plan.feeds[endpoint] == runner.feeds:
                    continue
                if plan.unresolved & set(runner.feeds):
                    continue  # a resolver hiccup is no reason to drop a running stream
                log.info("stream stopping endpoint=%s (its feeds changed)", endpoint)
                runner.close()
                del self.runners[endpoint]
            for endpoint, spec in plan.specs.items():
                if endpoint in self.runners or self.stop.is_set():
                    continue
                try:
                    stream = self.make_stream(spec)
                except Exception as exc:  # a bad endpoint is one line, the feed is polled
                    log.error("stream not started endpoint=%s error=%s", endpoint, exc)
                    continue
                runner = StreamRunner(
                    spec,
                    plan.feeds[endpoint],
                    stream,
                    self.state,
                    apply=self._apply_batch,
                    catch_up=self._catch_up,
                    clock=self.clock,
                )
                self.runners[endpoint] = runner
                fresh = self.state.stream_cursor(endpoint) is None
                runner.start()
                log.info("stream started endpoint=%s feeds=%s", endpoint, ",".join(runner.feeds))
                if fresh:  # no cursor: the stream starts at the live tip, wherever that is
                    self._list_again(runner.feeds)

    def _apply_batch(self, endpoint: str, batch: Batch) -> None:
        pipeline, config = self.pipeline, self.config  # one consistent pair
        runner = self.runners.get(endpoint)
        names = runner.feeds if runner is not None else ()
        feeds = [f for f in config.feeds if f.name in names]
        pipeline.apply_batch(endpoint, batch, feeds)

    def _catch_up(self, names: Sequence[str]) -> None:
        """List the feeds' repos now (their stream lost its place), and once more when
        the stream has surely connected again."""
        for name in names:
            if self.scheduler.get_job(name) is not None:
                self.scheduler.modify_job(name, next_run_time=self.clock())
        self._list_again(names)

    def _list_again(self, names: Sequence[str]) -> None:
        """One more listing of each feed ``CATCH_UP_SETTLE`` from now. A stream without a
        cursor starts at the live tip when it connects, which may be just after the first
        listing; the second one closes that gap (what both see is deduplicated)."""
        when = self.clock() + CATCH_UP_SETTLE
        for name in names:
            self.scheduler.add_job(
                self._job,
                DateTrigger(run_date=when, timezone=UTC),
                args=(name,),
                id=f"\x00catch-up {name}",
                name=f"catch up {name}",
                replace_existing=True,
                misfire_grace_time=int(CATCH_UP_SETTLE.total_seconds()),
            )

    def stream_statuses(self) -> list[StreamStatus]:
        return [r.status() for _, r in sorted(self.runners.items())]

    def _enabled(self) -> list[FeedSettings]:
        return [f for f in self.config.feeds if f.enabled]

    def serve(self) -> None:
        """Wait for a stop, handling reloads in this (the main) thread meanwhile."""
        while not self.stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._reload_wanted and not self.stop.is_set():
                self._reload_wanted = False
                self.reload()

    def request_stop(self) -> None:
        self.stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        self._reload_wanted = True
        self._wake.set()

    def close(self) -> None:
        self.stop.set()
        for runner in list(self.runners.values()):
            runner.close()
        if self.scheduler.state != STATE_STOPPED:
            self.scheduler.shutdown(wait=True)
        if self.listener is not None:
            self.listener.close()
        for pipeline in (self.pipeline, *reversed(self._retired)):
            pipeline.close()
        self.state.close()
        # a clean exit: health says so at once
        write_beat(self.heartbeat, heartbeat_limit(self._enabled()), Phase.STOPPED)

    # --- health ------------------------------------------------------------------------

    def health(self) -> tuple[bool, str]:
        """For ``/healthz``: the scheduler runs and the last pass is recent."""
        if self.stop.is_set() or self.scheduler.state != STATE_RUNNING:
            return False, "the scheduler is stopped"
        age = self.clock() - max(self.last_pass, self.started)
        limit = heartbeat_limit(self._enabled())
        streams = "".join(f"; stream {s.line(self.clock())}" for s in self.stream_statuses())
        if age > limit:
            limits = f"(limit {format_duration(limit)})"
            return False, f"last pass {format_duration(age)} ago {limits}{streams}"
        return True, f"last pass {format_duration(age)} ago{streams}"

    # --- reload ------------------------------------------------------------------------

    def reload(self) -> bool:
        """Apply a re-read configuration, or keep the old one and say why in one line."""
        try:
            new = self.load()
        except ConfigError as exc:
            log.error("reload refused, the old configuration keeps running: %s", exc)
            return False
        old = self.config
        if new.state.resolve() != old.state.resolve():
            log.error(
                "reload refused, the old configuration keeps running: state can't change "
                "from %s to %s without a restart",
                old.state,
                new.state,
            )
            return False
        if new.metrics != old.metrics:
            log.warning("metrics.listen changes take effect at the next restart")
        keep = {
            name: publisher
            for name, publisher in self.pipeline.publishers.items()
            if name in new.accounts and new.accounts[name] == old.accounts.get(name)
        }
        rebuilt = sorted(a for a in new.accounts if a not in keep)
        pipeline = self._build(new, keep)
        pipeline.paused_until.update(
            {a: t for a, t in self.pipeline.paused_until.items() if a in keep}
        )
        pipeline.feed_locks = self.pipeline.feed_locks  # a job of the old one may still run
        # the old pipeline also closes the kept publishers, so it is closed last, at exit
        self._retired.append(self.pipeline)
        self.pipeline, self.config = pipeline, new

        wanted = {f.name: f for f in new.feeds if f.enabled}
        jobs = {job.id for job in self.scheduler.get_jobs() if job.id in old.feed_names()}
        removed = sorted(jobs - wanted.keys())
        for name in removed:
            self.scheduler.remove_job(name)
        added, rescheduled = [], []
        for name, feed in wanted.items():
            if name not in jobs:
                self._add_job(feed)
                added.append(name)
            elif feed.interval != old.feed(name).interval:
                self.scheduler.reschedule_job(name, trigger=_trigger(feed))
                rescheduled.append(name)
        log.info(
            "reloaded feeds=%d added=%s removed=%s rescheduled=%s accounts_rebuilt=%s",
            len(wanted),
            ",".join(added) or "-",
            ",".join(removed) or "-",
            ",".join(rescheduled) or "-",
            ",".join(rebuilt) or "-",
        )
        self.check_streams()
        return True


def run_daemon(
    config: Config,
    *,
    dry_run: bool = False,
    load: Callable[[], Config] = load_config,
    clock: Clock = utcnow,
) -> int:
    lock = DaemonLock(config.state)
    lock.acquire()  # a second daemon stops here, naming the first one's pid
    try:
        daemon = Daemon(config, load=load, dry_run=dry_run, clock=clock)

        def on_stop(signum: int, frame: FrameType | None) -> None:
            log.info("stopping on %s: finishing the item in hand", signal.Signals(signum).name)
            daemon.request_stop()

        def on_reload(signum: int, frame: FrameType | None) -> None:
            log.info("reloading the configuration on SIGHUP")
            daemon.request_reload()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_reload)
        try:
            daemon.start()
            daemon.serve()
        finally:
            daemon.close()
        log.info("daemon stopped")
        return 0
    finally:
        lock.release()
