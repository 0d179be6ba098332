"""``feedbot status``: what the state file says about each feed and each account.

``gather`` reads the state into plain rows (``--json`` prints them whole); ``render``
draws them as two tables with rich, imported only here so other commands start fast.
"""

from __future__ import annotations

import io
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.config import BlueskyAccount, Config
from bot.configfile import format_duration
from bot.pipeline import CAP_WINDOW, MAX_ATTEMPTS, MAX_INTERRUPTED
from bot.publish.pacing import points
from bot.publish.session import login_key
from bot.state import State


@dataclass(frozen=True)
class ItemError:
    item: str
    kind: str
    error: str


@dataclass(frozen=True)
class GivenUp:
    """An item whose transient failures reached the bound: only a repost retries it."""

    item: str
    attempts: int  # failed tries
    interrupted: int  # tries a crash cut short


@dataclass(frozen=True)
class FeedStatus:
    feed: str
    enabled: bool
    counts: dict[str, int]
    last_poll: datetime | None
    last_result: str | None
    #: the server's "not before", else the last poll plus the interval (jitter aside)
    next_poll: datetime | None
    last_error: str | None
    disabled: str | None
    item_errors: list[ItemError] = field(default_factory=list)
    given_up: list[GivenUp] = field(default_factory=list)
    #: ``max_per_hour`` and how many items it held back (skipped) in the last hour
    max_per_hour: int | None = None
    capped_last_hour: int = 0


@dataclass(frozen=True)
class StreamState:
    """An event stream's saved position (the daemon's live view is ``/healthz``)."""

    endpoint: str
    cursor: int
    last_batch: datetime


@dataclass(frozen=True)
class AccountStatus:
    account: str
    type: str
    #: points written in the last hour and the last 24 hours (a create costs 3, a delete 1)
    points_last_hour: int | None
    points_last_day: int | None
    points_per_hour: int | None
    burst_points: int | None
    points_per_day: int | None
    paused_until: datetime | None
    pause_reason: str | None
    #: why logins are held back (a 401, a backoff), with the last error
    login: str | None = None


@dataclass(frozen=True)
class Status:
    feeds: list[FeedStatus]
    accounts: list[AccountStatus]
    streams: list[StreamState] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        return {
            "feeds": [plain(asdict(f)) for f in self.feeds],
            "accounts": [plain(asdict(a)) for a in self.accounts],
            "streams": [plain(asdict(s)) for s in self.streams],
        }


def gather(config: Config, state: State) -> Status:
    now = state.clock()
    feeds = []
    for feed in config.feeds:
        row = state.feed(feed.name)
        enabled = feed.enabled and not row.disabled
        next_poll = None
        if enabled and row.last_poll_at is not None:
            next_poll = max(row.last_poll_at + feed.interval, row.next_poll_at or now)
        feeds.append(
            FeedStatus(
                feed=feed.name,
                enabled=enabled,
                counts={str(k): v for k, v in sorted(state.counts(feed.name).items())},
                last_poll=row.last_poll_at,
                last_result=row.last_result,
                next_poll=next_poll,
                last_error=row.last_error,
                disabled=row.disabled,
                item_errors=[ItemError(i, k, e) for i, k, e in state.errors(feed.name)],
                given_up=[
                    GivenUp(*row)
                    for row in state.given_up(
                        feed.name, max_attempts=MAX_ATTEMPTS, max_interrupted=MAX_INTERRUPTED
                    )
                ],
                max_per_hour=feed.max_per_hour,
                capped_last_hour=state.capped_since(feed.name, now - CAP_WINDOW),
            )
        )
    accounts = []
    for name, account in config.accounts.items():
        pause = state.pause(name)
        if isinstance(account, BlueskyAccount):
            day = state.writes(name, since=now - timedelta(days=1))
            hour_start = (now - timedelta(hours=1)).timestamp()
            accounts.append(
                AccountStatus(
                    account=name,
                    type=account.type,
                    points_last_hour=sum(points(c, d) for t, c, d in day if t >= hour_start),
                    points_last_day=sum(points(c, d) for _, c, d in day),
                    points_per_hour=account.points_per_hour,
                    burst_points=account.burst_points,
                    points_per_day=account.points_per_day,
                    paused_until=pause[0] if pause else None,
                    pause_reason=pause[1] if pause else None,
                    login=_login_held(name, account, state),
                )
            )
        else:
            accounts.append(
                AccountStatus(name, account.type, None, None, None, None, None, None, None)
            )
    streams = [StreamState(r.endpoint, r.cursor, r.updated_at) for r in state.streams()]
    return Status(feeds, accounts, streams)


def _login_held(name: str, account: BlueskyAccount, state: State) -> str | None:
    """Why the account's logins are held back (a 401 or a backoff), if they are."""
    gate = state.load_login(name)
    if gate is None:
        return None
    key = login_key(account.handle, account.app_password.get_secret_value(), account.pds)
    why = gate.blocked(key, time.time())
    return None if why is None else f"{why}; last error: {gate.last_error}"


def _next(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "-"
    text = value.isoformat(timespec="seconds")
    return f"{text} (due)" if value <= now else text


def render(status: Status, *, terminal: bool, now: datetime) -> str:
    """The tables as text: a terminal's width and colours, else long plain lines."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    # a terminal gets its width; a pipe gets long lines rather than wrapped cells
    console = Console(
        file=io.StringIO(), width=None if terminal else 200, highlight=False, record=True
    )
    feeds = Table(box=box.SIMPLE, title="feeds", title_justify="left")
    for column in ("feed", "enabled", "last poll", "result", "next poll", "items", "last error"):
        feeds.add_column(column, overflow="fold")
    for f in status.feeds:
        counts = ", ".join(f"{k} {v}" for k, v in f.counts.items()) or "no items"
        feeds.add_row(
            f.feed,
            "yes" if f.enabled else f"no{': ' + f.disabled if f.disabled else ''}",
            f.last_poll.isoformat(timespec="seconds") if f.last_poll else "never",
            f.last_result or "-",
            _next(f.next_poll, now) if f.enabled else "-",
            counts,
            f.last_error or "-",
        )
    console.print(feeds, markup=False)
    accounts = Table(box=box.SIMPLE, title="accounts", title_justify="left")
    for column in ("account", "type", "points, last hour", "points, last 24 h", "paused"):
        accounts.add_column(column, overflow="fold")
    for a in status.accounts:
        hour = day = "-"
        if a.points_last_hour is not None:
            hour = f"{a.points_last_hour} (pace {a.points_per_hour}/h, burst {a.burst_points})"
            day = f"{a.points_last_day} of {a.points_per_day}"
        paused = "no"
        if a.paused_until is not None:
            paused = f"until {a.paused_until.isoformat(timespec='seconds')}: {a.pause_reason}"
        accounts.add_row(a.account, a.type, hour, day, paused)
    console.print(accounts, markup=False)
    errors = [(f.feed, e) for f in status.feeds for e in f.item_errors]
    for feed, e in errors:
        console.print(f"{feed} item {e.item}: {e.kind}: {e.error}", markup=False)
    for f in status.feeds:
        for gave in f.given_up:
            console.print(
                f"{f.feed} item {gave.item}: gave up after {gave.attempts} failed and "
                f"{gave.interrupted} interrupted tries, not retried "
                f"automatically; 'feedbot repost {gave.item}' tries again",
                markup=False,
            )
    for f in status.feeds:
        if f.capped_last_hour:
            console.print(
                f"{f.feed}: {f.capped_last_hour} items skipped in the last hour, over"
                f" max_per_hour {f.max_per_hour}",
                markup=False,
            )
    for s in status.streams:
        age = format_duration(max(now - s.last_batch, timedelta(0)))
        console.print(f"stream {s.endpoint}: cursor {s.cursor}, last batch {age} ago", markup=False)
    for a in status.accounts:
        if a.login is not None:  # long: a line of its own, not a cell
            console.print(f"account {a.account}: {a.login}", markup=False)
    text = console.export_text(styles=terminal)
    return "".join(line.rstrip() + "\n" for line in text.splitlines())
