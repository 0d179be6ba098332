"""One pass of the flow: poll → decide → summarize → compose → plan → publish.

The daemon calls ``Pipeline.run_feed`` on a schedule; the CLI calls ``run_once`` for
one pass and ``repost`` for one item. The order of side effects is what makes posting
exactly-once: claim the item, save the plan, write, mark posted. A crash between any
two of them leaves a row that ``recover`` finishes on the next start.

Deleting an item's threads when its document is deleted at the source (``delete_item``,
``deletions: delete``) or by hand (``delete``) takes the same four steps, with a
``Deletion`` for a plan.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.clock import Clock, utcnow
from bot.compose import ComposeOptions, compose, thread_budget
from bot.config import AtprotoSourceSettings, Config, FeedSettings
from bot.decide import Policy, decide
from bot.deletions import Written, plan_deletions
from bot.errors import (
    DeleteFailed,
    DeleteRefused,
    FeedbotError,
    FeedGone,
    FeedThrottled,
    InvalidThread,
    LoginUnavailable,
    PublishError,
    RejectedError,
    RepostFailed,
    RepostRefused,
    SourceError,
    TransientError,
)
from bot.links import parse_post_link
from bot.model import Article, Deletion, Plan, Poll, StrongRef, Target, Thread
from bot.observe import NO_OBSERVER, Observer, PollResult
from bot.outcomes import (
    Claimed,
    Deleted,
    DeleteOutcome,
    ErrorKind,
    Failed,
    ItemStatus,
    Outcome,
    Posted,
    Shown,
    Skipped,
    ThreadKind,
    ThreadStatus,
)
from bot.progress import NO_PROGRESS, Progress, Task
from bot.publish import Publisher
from bot.sources import Source, StreamedSource
from bot.sources.concurrent import poll_each, poll_one
from bot.state import Edits, Item, ItemRows, State, ThreadRow
from bot.streams import Batch
from bot.summarize import Summarizer
from bot.summarize.clean import clean_text
from bot.summarize.extractive import keywords
from bot.urls import normalize_url

log = logging.getLogger(__name__)

#: transient failures an item may have before it waits for a manual repost
MAX_ATTEMPTS = 8
#: tries cut short by a crash (claimed, never planned): bounded apart, so crashes never
#: use up an item's failures, yet an item that kills the process every time stops
MAX_INTERRUPTED = 20
#: the window ``max_per_hour`` counts over
CAP_WINDOW = timedelta(hours=1)


class FeedLocks:
    """One lock per feed, so a poll job and a stream batch never handle the same feed
    at once: deciding reads what is known, then writes; publishing recovers the feed's
    in-flight threads, which would be the other's. Shared across reloads."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}

    @contextmanager
    def hold(self, names: Iterable[str]) -> Iterator[None]:
        """Hold the feeds' locks, taken in name order (two holders never deadlock)."""
        with self._guard:
            locks = [self._locks.setdefault(n, threading.RLock()) for n in sorted(set(names))]
        with ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            yield


@dataclass(frozen=True)
class Decided:
    """What deciding a feed's articles produced, for the state to store."""

    rows: ItemRows
    edits: Edits
    capped: frozenset[tuple[str, str]]  # (feed, id) of rows skipped for max_per_hour


@dataclass
class FeedReport:
    feed: str
    new: int = 0
    posted: int = 0
    failed: int = 0
    skipped: int = 0
    shown: int = 0  # dry run: threads previewed, nothing recorded
    deleted: int = 0  # items whose threads were deleted (deleted at the source)
    not_modified: bool = False
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    def line(self) -> str:
        if self.error:
            return f"{self.feed}: error: {self.error}"
        if self.not_modified:
            return f"{self.feed}: not modified"
        if not (self.new or self.posted or self.failed or self.shown or self.deleted):
            text = f"{self.feed}: nothing new"
        elif self.shown:
            text = f"{self.feed}: {self.new} new, {self.shown} shown (dry run)"
        else:
            text = f"{self.feed}: {self.new} new, {self.posted} posted, {self.failed} failed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        if self.deleted:
            text += f", {self.deleted} deleted"
        if self.problems:
            text += f", {len(self.problems)} bad entries"
        return text


class Pipeline:
    """One pass of the flow over the configured feeds. As a context manager it closes
    what wiring opened for it (the HTTP client, the publishers) on leaving."""

    def __init__(
        self,
        config: Config,
        state: State,
        *,
        sources: Mapping[str, Source],
        publishers: Mapping[str, Publisher],
        summarizers: Mapping[str, Summarizer],
        dry_run: bool = False,
        clock: Clock = utcnow,
        stop: threading.Event | None = None,
        workers: int = 8,
        observer: Observer = NO_OBSERVER,
        progress: Progress = NO_PROGRESS,
        closing: ExitStack | None = None,
    ) -> None:
        self.config = config
        self.state = state
        self.sources = sources
        self.publishers = publishers
        self.summarizers = summarizers
        self.dry_run = dry_run
        self.clock = clock
        self.stop = stop or threading.Event()
        self.workers = workers  # feeds fetched at once by run_once
        self.observer = observer
        self.progress = progress
        self.paused_until: dict[str, float] = {}  # account → epoch seconds (HTTP 429)
        #: dry run: (feed, item) already previewed by this process, so a daemon shows each once
        self.shown: set[tuple[str, str]] = set()
        self.feed_locks = FeedLocks()
        self._closing = closing or ExitStack()

    def close(self) -> None:
        self._closing.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- a whole pass ----------------------------------------------------------------

    def run_once(self) -> list[FeedReport]:
        """Fetch every enabled feed concurrently, recording each poll as it comes in (so
        a thousand feeds' articles are never all held at once), then publish feed by
        feed in the config's order; afterwards finish leftovers of feeds no longer
        configured. A stop ends fetching too: polls under way finish, no new one starts."""
        feeds = [f for f in self.config.feeds if f.enabled]
        rows = {f.name: self.state.feed(f.name) for f in feeds}
        by_name = {f.name: f for f in feeds if not rows[f.name].disabled}
        live = {name: self.sources[name] for name in by_name}
        applied: dict[str, FeedReport] = {}
        for name, fetched in poll_each(live, {n: rows[n].cursor for n in live}, self.workers):
            if self.stop.is_set():
                break
            applied[name] = self._apply(by_name[name], fetched)
        reports = []
        for feed in feeds:
            if self.stop.is_set():
                break
            if feed.name in applied:
                report = applied[feed.name]
            else:
                report = FeedReport(feed.name, error=f"disabled: {rows[feed.name].disabled}")
            if report.error is None or not self.dry_run:
                self.publish_pending(feed, report)
            reports.append(report)
        if not self.dry_run and not self.stop.is_set():
            self.recover(skip={r.feed for r in reports})
        return reports

    def run_feed(self, feed: FeedSettings) -> FeedReport:
        report = self.poll(feed)
        if report.error is None or not self.dry_run:
            self.publish_pending(feed, report)
        return report

    def publish_only(self, feed: FeedSettings) -> FeedReport:
        """Retry what is pending without polling (the server asked us to wait)."""
        report = FeedReport(feed.name, not_modified=True)
        self.publish_pending(feed, report)
        return report

    # --- polling ---------------------------------------------------------------------

    def poll(self, feed: FeedSettings) -> FeedReport:
        row = self.state.feed(feed.name)
        if row.disabled:
            return FeedReport(feed.name, error=f"disabled: {row.disabled}")
        started = time.monotonic()
        fetched = poll_one(self.sources[feed.name], row.cursor, feed=feed.name)
        return self._apply(feed, fetched, seconds=time.monotonic() - started)

    def _apply(
        self, feed: FeedSettings, poll: Poll | SourceError, *, seconds: float | None = None
    ) -> FeedReport:
        """The state half of a poll: record the outcome and the items it brought."""
        with self.feed_locks.hold([feed.name]):
            report = self._record(feed, poll)
        self.observer.polled(feed.name, _poll_result(poll), seconds)
        if isinstance(poll, Poll) and not poll.not_modified:
            self.observer.items(
                feed.name, seen=len(poll.articles), new=report.new, skipped=report.skipped
            )
        return report

    def _record(self, feed: FeedSettings, poll: Poll | SourceError) -> FeedReport:
        if isinstance(poll, SourceError):
            return self._poll_failed(feed, poll)
        report = FeedReport(feed.name, problems=list(poll.problems))
        if poll.not_modified:
            report.not_modified = True
            self.state.record_poll(
                feed.name, result="not modified", cursor=poll.cursor, next_poll=poll.next_poll
            )
            return report
        self._store_items(feed, poll.articles, report)
        result = f"ok: {report.new} new"
        if poll.problems:
            result += f", {len(poll.problems)} bad entries (last: {poll.problems[-1]})"
        self.state.record_poll(
            feed.name, result=result, cursor=poll.cursor, next_poll=poll.next_poll
        )
        log.info(
            "polled feed=%s new=%d skipped=%d problems=%d",
            feed.name,
            report.new,
            report.skipped,
            len(poll.problems),
        )
        return report

    def _poll_failed(self, feed: FeedSettings, error: SourceError) -> FeedReport:
        """Record a failed poll: a gone feed is disabled, a throttled one waits."""
        if isinstance(error, FeedGone):
            log.error("feed gone feed=%s error=%s (disabled)", feed.name, error)
            self.state.record_poll(feed.name, result="gone", error=str(error), disabled=str(error))
        else:
            log.error("poll failed feed=%s error=%s", feed.name, error)
            wait = error.next_poll if isinstance(error, FeedThrottled) else None
            self.state.record_poll(feed.name, result="error", error=str(error), next_poll=wait)
        return FeedReport(feed.name, error=str(error))

    def _store_items(
        self, feed: FeedSettings, articles: Sequence[Article], report: FeedReport
    ) -> None:
        """Decide what the articles mean and store them: new, skipped, or edited."""
        got = self._decide(feed, articles, report, first=not self.state.has_history(feed.name))
        self.state.store(got.rows, got.edits, norm=normalize_url, capped=got.capped)

    def _decide(
        self,
        feed: FeedSettings,
        articles: Sequence[Article],
        report: FeedReport,
        *,
        first: bool,
        updated: Set[str] = frozenset(),
    ) -> Decided:
        """What the articles mean, as rows to store: new, skipped (with the reason) or
        edited. ``updated`` are ids that came from a stream's update events: an update of
        a document never seen created is not news, and is skipped."""
        known = self.state.known(feed.name, [a.id for a in articles])
        admitted = 0
        if feed.max_per_hour is not None:
            admitted = self.state.admitted_since(feed.name, self.clock() - CAP_WINDOW)
        policy = Policy(
            feed.backfill,
            feed.max_age,
            feed.edits,
            feed.filter.build(),
            max_per_hour=feed.max_per_hour,
            admitted=admitted,
        )
        unseen_updates = [a for a in articles if a.id in updated and a.id not in known]
        fresh = [a for a in articles if not (a.id in updated and a.id not in known)]
        decisions = decide(fresh, known, first_poll=first, policy=policy, now=self.clock())
        # network-wide feeds see every document on the network: only what concerns the
        # owner (posted, capped) is kept, not every filtered stranger's document
        wide = _network_wide(feed)
        rows: ItemRows = []
        if not wide:
            note = "updated, but never seen created (published before it was followed)"
            rows += [(a, ItemStatus.SKIPPED, note) for a in unseen_updates]
            report.skipped += len(unseen_updates)
        edits: Edits = []
        capped: set[tuple[str, str]] = set()
        for decision in decisions:
            if decision.action == "publish":
                rows.append((decision.article, ItemStatus.NEW, decision.note))
                report.new += 1
            elif decision.action in ("seen", "too-old", "no-link", "filtered", "capped"):
                report.skipped += 1
                if not (wide and decision.action != "capped"):
                    rows.append((decision.article, ItemStatus.SKIPPED, decision.note))
                if decision.action == "capped":
                    capped.add((feed.name, decision.article.id))
                    log.warning(
                        "skipped feed=%s item=%s reason=%s",
                        feed.name,
                        decision.article.id,
                        decision.note,
                    )
            elif decision.action == "edited":
                edits.append((decision.article, decision.note or "edited"))
        return Decided(rows, edits, frozenset(capped))

    # --- following a stream ----------------------------------------------------------

    def apply_batch(
        self, endpoint: str, batch: Batch, feeds: Sequence[FeedSettings]
    ) -> list[FeedReport]:
        """Apply one stream batch to the feeds that follow ``endpoint``: decide, then
        store every feed's items and the stream's cursor in one transaction; then
        publish at once what became pending (a stream is for speed).

        A repo feed's events wait for its first listing (the daemon's catch-up): until
        then the listing, not the stream, decides what the back catalogue is. Deletions
        go to ``delete_item`` before the cursor moves (at least once; it is idempotent).
        """
        reports: list[FeedReport] = []
        rows: ItemRows = []
        edits: Edits = []
        capped: set[tuple[str, str]] = set()
        with self.feed_locks.hold(f.name for f in feeds):
            for feed in feeds:
                source = self.sources.get(feed.name)
                if not isinstance(source, StreamedSource) or not feed.enabled:
                    continue
                if not _network_wide(feed) and not self.state.has_history(feed.name):
                    log.info("stream waits for the first listing feed=%s", feed.name)
                    continue
                report = FeedReport(feed.name)
                reports.append(report)
                try:
                    read = source.read_events(batch.events)
                except SourceError as exc:  # its repo can't be resolved now: the poll
                    # backstop finds its records later; the other feeds carry on
                    log.error("stream batch failed feed=%s error=%s", feed.name, exc)
                    report.error = str(exc)
                    continue
                report.problems = list(read.problems)
                if read.articles:
                    got = self._decide(
                        feed, read.articles, report, first=False, updated=read.updated
                    )
                    rows += got.rows
                    edits += got.edits
                    capped |= got.capped
                for item_id in read.deleted:  # never posted again; threads per deletions:
                    self.delete_item(feed, item_id)
            self.state.store(
                rows,
                edits,
                norm=normalize_url,
                stream=(endpoint, batch.cursor),
                capped=capped,
            )
        by_name = {f.name: f for f in feeds}
        for report in reports:
            if report.new:
                self.publish_pending(by_name[report.feed], report)
            if report.new or report.problems or report.skipped:
                log.info("stream %s", report.line())
        return reports

    # --- publishing ------------------------------------------------------------------

    def publish_pending(self, feed: FeedSettings, report: FeedReport) -> None:
        with self.feed_locks.hold([feed.name]):
            if not self.dry_run:
                report.posted += self.recover(feed.name, report=report)
            pending = self.state.pending(
                feed.name, max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED
            )
            task = self.progress.task(f"posting {feed.name}", total=len(pending))
            try:
                self._publish_each(feed, report, pending, task)
            finally:
                task.done()
            if not self.dry_run and feed.deletions == "delete":
                report.deleted += self.delete_pending(feed)

    def _publish_each(
        self, feed: FeedSettings, report: FeedReport, pending: list[Item], task: Task
    ) -> None:
        for item in pending:
            if self.stop.is_set():
                return
            task.advance()
            if self.dry_run and (feed.name, item.id) in self.shown:
                continue
            outcome = self.publish(item, feed)
            if isinstance(outcome, Posted):
                report.posted += 1
            elif isinstance(outcome, Failed):
                report.failed += 1
            elif isinstance(outcome, Shown):
                self.shown.add((feed.name, item.id))
                report.shown += 1

    def thread_for(self, article: Article, feed: FeedSettings) -> Thread:
        first, last = feed.template.parsed()
        options = ComposeOptions(
            max_posts=feed.summary.max_posts,
            hashtags=feed.hashtags,
            langs=feed.langs,
            first=first,
            last=last,
        )
        budget = thread_budget(
            article,
            options,
            sentences=feed.summary.sentences,
            lang=feed.langs[0] if feed.langs else None,
        )
        summary = self.summarizers[feed.name].summarize(article, budget)
        if feed.summary.keywords:
            text = clean_text(article.text or article.description, article.title)
            extra = keywords(text, summary.lang, feed.summary.keywords)
            options = replace(options, hashtags=(*options.hashtags, *extra))
        thread = compose(article, summary, options)
        return replace(thread, labels=article.labels, gate=feed.gate)

    def publish(
        self,
        item: Item,
        feed: FeedSettings,
        *,
        kind: ThreadKind = ThreadKind.POST,
        root: StrongRef | None = None,
    ) -> Outcome:
        """Post one item (or, with ``root``, boost its earlier thread)."""
        publisher = self.publishers[feed.account]
        target = Target(feed.name, item.id, item.url)

        def plan() -> Plan:
            if root is not None:
                return publisher.prepare_boost(root, target, now=self.clock())
            try:
                thread = self.thread_for(item.article, feed)
            except FeedbotError:
                raise
            except Exception as exc:  # whatever an article nobody foresaw makes them do,
                # the summarizer and composer fail this one item, not the pass
                log.debug("compose crashed feed=%s item=%s", feed.name, item.id, exc_info=True)
                reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
                raise InvalidThread(f"could not compose a thread: {reason}") from exc
            return publisher.prepare(thread, target, now=self.clock())

        if self.dry_run:
            try:
                publisher.write(plan())
            except FeedbotError as exc:  # shown as it would fail, the pass goes on
                log.warning("cannot show feed=%s item=%s error=%s", feed.name, item.id, exc)
                return Failed(str(exc), transient=False)
            return Shown()
        if self._paused(feed.account):
            return Skipped(f"account {feed.account} is rate limited")
        started = time.monotonic()
        outcome = self._publish(item, feed, publisher, plan, kind)
        seconds = time.monotonic() - started
        self.observer.published(feed.name, feed.account, outcome, seconds=seconds)
        return outcome

    def _publish(
        self,
        item: Item,
        feed: FeedSettings,
        publisher: Publisher,
        plan: Callable[[], Plan],
        kind: ThreadKind,
    ) -> Outcome:
        """Claim, plan, save the plan, write, mark posted: the order that makes posting
        exactly-once."""
        claim = self.state.claim(item, feed.account, norm_url=normalize_url(item.url), kind=kind)
        if not isinstance(claim, Claimed):
            log.info("not posting feed=%s item=%s reason=%s", feed.name, item.id, claim.reason)
            return Skipped(claim.reason)
        try:
            planned = plan()
        except FeedbotError as exc:
            return self._failed(claim.thread_id, item, feed.account, exc, maybe_written=False)
        self.state.save_plan(claim.thread_id, planned)
        try:
            posts = publisher.write(planned)
        except PublishError as exc:
            return self._failed(claim.thread_id, item, feed.account, exc, maybe_written=True)
        self.state.mark_posted(claim.thread_id, posts)
        log.info("posted feed=%s item=%s posts=%d", feed.name, item.id, len(posts))
        return Posted(posts)

    def _paused(self, account: str) -> bool:
        until = self.paused_until.get(account)
        return until is not None and until > self.clock().timestamp()

    def _failed(
        self, thread_id: int, item: Item, account: str, exc: FeedbotError, *, maybe_written: bool
    ) -> Failed:
        kind = _error_kind(exc)
        if isinstance(exc, TransientError) and exc.retry_at:
            self.paused_until[account] = exc.retry_at
            self.state.record_pause(account, datetime.fromtimestamp(exc.retry_at, UTC), str(exc))
            self.observer.paused(account, exc.retry_at)
        # a rejected write never reached the repo; anything else might have
        written = maybe_written and kind == ErrorKind.TRANSIENT
        # an account that can't log in is not the item's failure: its tries are kept
        charge = not isinstance(exc, LoginUnavailable)
        self.state.fail(thread_id, str(exc), kind=kind, maybe_written=written, charge=charge)
        log.warning(
            "publish failed feed=%s item=%s kind=%s error=%s", item.feed, item.id, kind, exc
        )
        return Failed(str(exc), transient=kind == ErrorKind.TRANSIENT)

    # --- crash recovery --------------------------------------------------------------

    def recover(
        self,
        feed: str | None = None,
        *,
        skip: Set[str] = frozenset(),
        report: FeedReport | None = None,
    ) -> int:
        """Finish threads (and deletions) a crash or an unclear failure left behind: look
        before writing, never write twice. Returns the threads posted; deletions finished
        are counted in ``report``."""
        done = 0
        for row in self.state.in_flight(feed=feed):
            if row.feed in skip:
                continue
            self.state.adopt(row.id)
            if row.deletion is not None:
                finished = self._finish_deletion(row, row.deletion)
                if report is not None:
                    report.deleted += finished
                continue
            if row.plan is None:
                # claimed but never planned: nothing can have been written
                self.state.fail(
                    row.id,
                    "interrupted before planning",
                    kind=ErrorKind.TRANSIENT,
                    interrupted=True,
                )
                continue
            done += self._finish(row)
        return done

    def _finish(self, row: ThreadRow) -> int:
        assert row.plan is not None
        publisher = self.publishers.get(row.account)
        if publisher is None:
            log.warning("cannot recover thread=%d: account %s is gone", row.id, row.account)
            return 0
        try:
            found = publisher.find(row.plan)
            if found is None and self.state.gone(row.feed, row.item):
                # deleted at the source while the thread waited: never written now
                self.state.fail(row.id, "deleted at the source", kind=ErrorKind.REJECTED)
                self.state.settle_gone(row.feed, row.item)
                log.info("not recovering feed=%s item=%s: deleted", row.feed, row.item)
                return 0
            posts = found if found is not None else publisher.write(row.plan)
        except PublishError as exc:
            kind = _error_kind(exc)
            self.state.fail(row.id, str(exc), kind=kind, maybe_written=kind == ErrorKind.TRANSIENT)
            log.warning("recovery failed thread=%d item=%s error=%s", row.id, row.item, exc)
            return 0
        self.state.mark_posted(row.id, posts)
        log.info(
            "recovered feed=%s item=%s %s",
            row.feed,
            row.item,
            "found already written" if found is not None else "written now",
        )
        return 1

    def _finish_deletion(self, row: ThreadRow, deletion: Deletion) -> int:
        """Finish a deletion a crash left planned (``delete`` looks before it deletes):
        1 when done."""
        publisher = self.publishers.get(row.account)
        if publisher is None:
            log.warning("cannot recover deletion=%d: account %s is gone", row.id, row.account)
            return 0
        try:
            deleted = publisher.delete(deletion)
        except PublishError as exc:
            kind = _error_kind(exc)
            self.state.fail(row.id, str(exc), kind=kind, maybe_written=kind == ErrorKind.TRANSIENT)
            log.warning("recovery failed deletion=%d item=%s error=%s", row.id, row.item, exc)
            return 0
        self.state.mark_deleted(row.id)
        log.info("recovered deletion feed=%s item=%s records=%d", row.feed, row.item, deleted)
        return 1

    # --- deleted at the source -------------------------------------------------------

    def delete_item(self, feed: FeedSettings, item_id: str) -> DeleteOutcome:
        """The source says the document behind an item is deleted (a stream's delete).

        The item is marked deleted, so it is never posted again, whatever replays; with
        ``deletions: delete`` every thread feedbot posted for it (threads, reposts,
        boosts, and their gates) is deleted from the account now, planned in the state
        file first, and retried on later passes if that fails. ``item_id`` is the id the
        source gave the item: for an atproto document its at-uri (``RecordEvent.uri``).
        Calling it again for the same item does nothing more.
        """
        delete = feed.deletions == "delete"
        if self.dry_run:  # nothing recorded: show what would be deleted
            item = self.state.item(feed.name, item_id)
            if item is None or not delete:
                return Skipped("unknown item" if item is None else "deletions: ignore")
            return self._delete_threads(item)
        status = self.state.mark_gone(feed.name, item_id, delete=delete)
        if status is None:
            log.info("delete of an unknown item feed=%s item=%s", feed.name, item_id)
            return Skipped("unknown item")
        log.info("deleted at the source feed=%s item=%s status=%s", feed.name, item_id, status)
        item = self.state.item(feed.name, item_id)
        if status != ItemStatus.DELETING or item is None:
            return Skipped("nothing to delete" if delete else "deletions: ignore")
        return self._delete_threads(item)

    def delete_pending(self, feed: FeedSettings) -> int:
        """Retry deletions that did not finish (a failure, a thread still in flight):
        the number of items whose threads are gone now."""
        done = 0
        for item in self.state.pending_deletions(feed.name, max_attempts=MAX_ATTEMPTS):
            if self.stop.is_set():
                break
            done += isinstance(self._delete_threads(item), Deleted)
        return done

    def _delete_threads(self, item: Item) -> DeleteOutcome:
        """Delete every thread of the item still on an account, one planned commit per
        account (more only past 200 records)."""
        written = [
            Written(t.id, t.account, t.plan)
            for t in self.state.threads(item.feed, item.id)
            if t.status == ThreadStatus.POSTED and t.plan is not None
        ]
        if not written:
            if not self.dry_run and self.state.settle_gone(item.feed, item.id):
                return Deleted(0)
            return Skipped("none of its threads is on an account")
        deleted = 0
        for deletion in plan_deletions(item.feed, item.id, written):
            outcome = self._delete(item, deletion)
            if isinstance(outcome, Shown):
                continue
            if not isinstance(outcome, Deleted):
                return outcome
            deleted += outcome.records
        return Shown() if self.dry_run else Deleted(deleted)

    def _delete(self, item: Item, deletion: Deletion) -> DeleteOutcome:
        """Claim, save the plan, delete, mark deleted: the order of a post."""
        publisher = self.publishers.get(deletion.account)
        if publisher is None:
            error = f"account {deletion.account} is not configured"
            log.warning("cannot delete feed=%s item=%s: %s", item.feed, item.id, error)
            return Failed(error, transient=False)
        if self.dry_run:
            publisher.delete(deletion)
            return Shown()
        if self._paused(deletion.account):
            return Skipped(f"account {deletion.account} is rate limited")
        claim = self.state.claim(
            item, deletion.account, norm_url=normalize_url(item.url), kind=ThreadKind.DELETION
        )
        if not isinstance(claim, Claimed):
            log.info("not deleting feed=%s item=%s reason=%s", item.feed, item.id, claim.reason)
            return Skipped(claim.reason)
        self.state.save_plan(claim.thread_id, deletion)
        try:
            records = publisher.delete(deletion)
        except PublishError as exc:
            return self._failed(claim.thread_id, item, deletion.account, exc, maybe_written=True)
        self.state.mark_deleted(claim.thread_id)
        log.info("deleted threads feed=%s item=%s records=%d", item.feed, item.id, records)
        return Deleted(records)

    def delete(self, ref: str, *, feed: str | None = None) -> str:
        """Delete an item's threads by hand (whatever ``deletions:`` says): "deleted N
        records" or "shown" (dry run); ``DeleteError`` when it can't be done. ``ref`` is
        anything ``repost`` takes. An item whose document still exists is then skipped:
        never posted again unless reposted by hand."""
        item = self.find(ref, feed=feed)
        outcome = self._delete_threads(item)
        if isinstance(outcome, Skipped):
            raise DeleteRefused(f"item {item.id!r}: nothing deleted: {outcome.reason}")
        if isinstance(outcome, Failed):
            raise DeleteFailed(f"deleting the threads of {item.id!r} failed: {outcome.error}")
        if isinstance(outcome, Deleted):
            return f"deleted {outcome.records} records"
        return "shown"

    # --- manual repost ---------------------------------------------------------------

    def repost(self, ref: str, *, feed: str | None = None, boost: bool = False) -> str:
        """Post an item again, even if it was posted before: "posted", "boosted" or
        "shown" (dry run); ``RepostError`` when it can't be done. ``ref`` is its id, its
        at-uri, any spelling of its URL, or the bsky.app link of a thread posted for it."""
        item = self.find(ref, feed=feed)
        settings = self.config.feed(item.feed)
        if boost:
            return self._boost(item, settings)
        if not self.dry_run and self._paused(settings.account):
            until = datetime.fromtimestamp(self.paused_until[settings.account], UTC)
            raise RepostRefused(
                f"account {settings.account} is rate limited until {until:%H:%M} UTC"
            )
        outcome = self.publish(item, settings, kind=ThreadKind.REPOST)
        return _done(outcome, item, "posted", "can't be posted now", "repost")

    def find(self, ref: str, *, feed: str | None = None) -> Item:
        link = parse_post_link(ref)
        if link is not None:
            found = self.state.item_of_post(*link)
            if found is not None and feed in (None, found[0]):
                return self.state.find_item(found[1], feed=found[0])
        return self.state.find_item(ref, feed=feed, norm_url=normalize_url(ref))

    def _boost(self, item: Item, feed: FeedSettings) -> str:
        posted = [
            t
            for t in self.state.threads(item.feed, item.id)
            if t.posts and t.kind != ThreadKind.BOOST
        ]
        if not posted:
            raise RepostRefused(f"item {item.id!r} has no earlier thread to boost")
        root = posted[-1].posts[0]
        outcome = self.publish(item, feed, kind=ThreadKind.BOOST, root=root)
        return _done(outcome, item, "boosted", "can't be boosted now", "boost")


def _network_wide(feed: FeedSettings) -> bool:
    return isinstance(feed.source, AtprotoSourceSettings) and feed.source.network_wide


def _error_kind(exc: FeedbotError) -> ErrorKind:
    """Refusals (the server's or our own checks') wait for a person; the rest is retried."""
    if isinstance(exc, RejectedError | InvalidThread):
        return ErrorKind.REJECTED
    return ErrorKind.TRANSIENT


def _done(outcome: Outcome, item: Item, posted: str, refused: str, what: str) -> str:
    """A manual repost's outcome as the CLI's word, or the ``RepostError`` it amounts to."""
    if isinstance(outcome, Skipped):
        raise RepostRefused(f"item {item.id!r} {refused}: {outcome.reason}")
    if isinstance(outcome, Failed):
        raise RepostFailed(f"{what} of {item.id!r} failed: {outcome.error}")
    return posted if isinstance(outcome, Posted) else "shown"


def _poll_result(poll: Poll | SourceError) -> PollResult:
    if isinstance(poll, FeedGone):
        return PollResult.GONE
    if isinstance(poll, SourceError):
        return PollResult.ERROR
    return PollResult.NOT_MODIFIED if poll.not_modified else PollResult.OK
