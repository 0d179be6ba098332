"""The ``feedbot`` command: argument parsing and wiring only. Library errors become
one-line messages.

Start-up time matters (``feedbot health`` runs every minute in a container), so this
module imports only the standard library: each command imports what it needs when it
runs. A test checks that ``--help`` and ``health`` load no numpy, SDK or pydantic.

Global options (``--config``, ``--log-level``) come from one parent parser shared by the
top-level parser and every subcommand, with suppressed defaults, so they are accepted
before or after the command (the later one wins) and listed in every ``--help``.

Exit codes: 0 success; 1 a feed or an item failed, or ``health`` found the daemon
unhealthy; 2 bad configuration or usage; 130 interrupted. A closed stdout (``| head``)
ends the command quietly.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from bot import __version__

if TYPE_CHECKING:
    from bot.config import Config
    from bot.pipeline import Pipeline
    from bot.state import State

Command = Callable[[argparse.Namespace], int]


def _print(text: object, file: TextIO | None = None) -> None:
    """Every line the CLI shows, with secrets and JWT-shaped tokens masked."""
    from bot.redact import mask

    print(mask(str(text)), file=file)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_LEVEL_ENV = "FEEDBOT_LOG_LEVEL"
#: the global options' values when given neither before nor after the command
GLOBAL_DEFAULTS: dict[str, Any] = {"config": None, "log_level": None}


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (and exit 2), not usage plus error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def global_options() -> Parser:
    """The options every command takes, before or after its name."""
    parent = Parser(add_help=False)
    group = parent.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="configuration file (default: $FEEDBOT_CONFIG, else config/feeds.yaml "
        "in the working directory)",
    )
    group.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=argparse.SUPPRESS,
        help=f"how much to log on stderr (default: ${LOG_LEVEL_ENV}, else INFO)",
    )
    return parent


def _log_level(args: argparse.Namespace) -> str:
    level: str | None = args.log_level
    if level is None:
        level = os.environ.get(LOG_LEVEL_ENV, "INFO").upper()
        if level not in LOG_LEVELS:
            raise _usage(f"${LOG_LEVEL_ENV}: expected one of {', '.join(LOG_LEVELS)}")
    return level


def _usage(message: str) -> Exception:
    from bot.errors import ConfigError

    return ConfigError(f"feedbot: error: {message}")


def _load(args: argparse.Namespace) -> Config:
    from bot.config import load_config
    from bot.logs import setup_logging
    from bot.wiring import secrets_of

    level = _log_level(args)
    config = load_config(args.config)
    setup_logging(level, secrets_of(config, os.environ))
    return config


def _open_state(config: Config) -> State:
    from bot.state import State

    return State.open(config.state)


def _pipeline(config: Config, state: State, args: argparse.Namespace) -> Pipeline:
    from bot.wiring import build_pipeline

    return build_pipeline(config, state, dry_run=args.dry_run, as_json=args.json)


# --- commands ------------------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace) -> int:
    from bot.config import offline_problems
    from bot.configfile import config_path

    config = _load(args)
    where = config_path(args.config)
    problems = offline_problems(config, os.environ)
    for problem in problems:
        _print(f"{where}: {problem}", file=sys.stderr)
    if problems:
        return 2
    names = ", ".join(config.feed_names()) or "none"
    _print(f"{where}: ok")
    _print(f"feeds: {names}; accounts: {', '.join(config.accounts) or 'none'}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.feed:
        for name in args.feed:
            config.feed(name)  # unknown names fail here, before anything runs
        config = config.model_copy(
            update={"feeds": tuple(f for f in config.feeds if f.name in args.feed)}
        )
    if not args.once:
        if args.json:
            raise _usage("--json goes with --once")
        from bot.daemon import run_daemon

        return run_daemon(config, dry_run=args.dry_run)
    with _open_state(config) as state, _pipeline(config, state, args) as pipeline:
        reports = pipeline.run_once()
    report_out = sys.stderr if args.json else sys.stdout
    for report in reports:
        _print(report.line(), file=report_out)
    return 1 if any(r.error or r.failed for r in reports) else 0


def cmd_repost(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.feed is not None:
        config.feed(args.feed)  # "unknown feed", not "unknown item"
    with _open_state(config) as state, _pipeline(config, state, args) as pipeline:
        outcome = pipeline.repost(args.item, feed=args.feed, boost=args.boost)
    if not args.json:
        _print(f"{args.item}: {outcome}")
    return 0


def cmd_items(args: argparse.Namespace) -> int:
    import json

    from bot.links import post_link
    from bot.outcomes import ItemStatus

    statuses = [str(s) for s in ItemStatus]
    if args.status is not None and args.status not in statuses:
        raise _usage(f"argument --status: expected one of {', '.join(statuses)}")
    status = ItemStatus(args.status) if args.status is not None else None
    config = _load(args)
    if args.feed is not None:
        config.feed(args.feed)
    with _open_state(config) as state:
        rows = state.listing(feed=args.feed, status=status, limit=args.limit)
    for item, posts in rows:
        links = [link for link in (post_link(p.uri) for p in posts[:1]) if link]
        seen = item.first_seen.isoformat(timespec="seconds")
        if args.json:
            line = {
                "feed": item.feed,
                "id": item.id,
                "url": item.url,
                "title": item.article.title,
                "status": item.status,
                "note": item.note,
                "first_seen": seen,
                "thread": links[0] if links else None,
            }
            _print(json.dumps(line, ensure_ascii=False))
        else:
            fields = [item.feed, item.id, item.url, item.article.title, item.status, seen]
            _print("\t".join(_one_line(f) for f in (*fields, *links)))
    return 0


def _one_line(text: str) -> str:
    """A field for a tab-separated line: no tabs or line breaks from a feed's title."""
    return " ".join(text.split())


def cmd_status(args: argparse.Namespace) -> int:
    import json

    config = _load(args)
    from bot.pipeline import MAX_ATTEMPTS
    from bot.redact import masked

    with _open_state(config) as state:
        damage = state.check()
        if damage is not None:
            _print(
                f"feedbot: {config.state}: the state file is corrupt ({damage}); stop feedbot "
                "and restore it from a backup",
                file=sys.stderr,
            )
            return 1
        rows: list[dict[str, Any]] = []
        for feed in config.feeds:
            row = state.feed(feed.name)
            rows.append(
                {
                    "feed": feed.name,
                    "enabled": feed.enabled and not row.disabled,
                    "counts": state.counts(feed.name),
                    "last_poll": row.last_poll_at.isoformat() if row.last_poll_at else None,
                    "last_result": row.last_result,
                    "last_error": row.last_error,
                    "disabled": row.disabled,
                    "item_errors": [
                        {"item": i, "kind": k, "error": e} for i, k, e in state.errors(feed.name)
                    ],
                    "given_up": [
                        {"item": i, "attempts": n}
                        for i, n in state.given_up(feed.name, max_attempts=MAX_ATTEMPTS)
                    ],
                }
            )
        logins = _login_lines(config, state)
    if args.json:
        for row_json in rows:
            _print(json.dumps(masked(row_json), ensure_ascii=False))
        for account, line in logins:
            _print(json.dumps(masked({"account": account, "login": line}), ensure_ascii=False))
        return 0
    for r in rows:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items())) or "no items"
        flag = "" if r["enabled"] else " (disabled)"
        _print(f"{r['feed']}{flag}: {counts}")
        _print(f"  last poll: {r['last_poll'] or 'never'}  {r['last_result'] or ''}".rstrip())
        if r["last_error"]:
            _print(f"  last error: {r['last_error']}")
        for err in r["item_errors"]:
            _print(f"  item {err['item']}: {err['kind']}: {err['error']}")
        for gave in r["given_up"]:
            _print(
                f"  item {gave['item']}: gave up after {gave['attempts']} tries, not retried "
                f"automatically; 'feedbot repost {gave['item']}' tries again"
            )
    for account, line in logins:
        _print(f"account {account}: {line}")
    return 0


def _login_lines(config: Config, state: State) -> list[tuple[str, str]]:
    """Accounts whose logins are held back, for ``status``: a 401 or a backoff."""
    import time

    from bot.config import BlueskyAccount
    from bot.publish.session import login_key

    out = []
    for name, account in config.accounts.items():
        gate = state.load_login(name)
        if gate is None or not isinstance(account, BlueskyAccount):
            continue
        key = login_key(account.handle, account.app_password.get_secret_value(), account.pds)
        why = gate.blocked(key, time.time())
        if why is not None:
            out.append((name, f"{why}; last error: {gate.last_error}"))
    return out


def cmd_health(args: argparse.Namespace) -> int:
    """For container health checks: is the daemon alive, and its heartbeat recent?

    Reads only the ``state`` setting and the heartbeat file, so it starts fast."""
    from datetime import UTC, datetime

    from bot.configfile import config_path, format_duration, state_path
    from bot.heartbeat import heartbeat_path, read_beat, verdict

    _log_level(args)
    path = heartbeat_path(state_path(config_path(args.config)))
    beat = read_beat(path)
    now = datetime.now(UTC)
    problem = verdict(beat, now=now, where=path, limit=args.max_age)
    if problem is not None or beat is None:
        _print(f"unhealthy: {problem}")
        return 1
    _print(f"healthy: last heartbeat {format_duration(now - beat.at)} ago (pid {beat.pid})")
    return 0


def _duration(value: str) -> Any:
    from bot.configfile import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number


# --- the parser ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = global_options()
    parser = Parser(
        prog="feedbot",
        description="Turn long-form publications into Bluesky threads.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"feedbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Command, **kwargs: Any) -> argparse.ArgumentParser:
        made: argparse.ArgumentParser = sub.add_parser(name, parents=[common], **kwargs)
        made.set_defaults(func=func)
        return made

    run = command(
        "run",
        cmd_run,
        help="poll feeds and post new articles (a daemon unless --once)",
        description="Poll every enabled feed and post new articles as threads. Without "
        "--once it runs as a daemon, polling each feed at its interval; SIGTERM or "
        "SIGINT finish the item in hand and exit 0.",
    )
    run.add_argument("--once", action="store_true", help="one pass over all feeds, then exit")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="show the threads instead of posting them; nothing is recorded as posted "
        "(the daemon shows each pending thread once)",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="with --once: print each previewed thread as one JSON line on stdout",
    )
    run.add_argument("--feed", action="append", metavar="NAME", help="only this feed (repeatable)")

    items = command(
        "items",
        cmd_items,
        help="list the items the bot has seen, newest first",
        description="One line per item, newest first: feed, id, URL, title, status, first "
        "seen and, for posted ones, the thread's bsky.app link (tab-separated). Any of "
        "id, URL or link can be given to 'feedbot repost'.",
    )
    items.add_argument("--feed", metavar="NAME", help="only this feed's items")
    items.add_argument("--status", metavar="STATUS", help="only items in this status")
    items.add_argument("--limit", type=_positive, metavar="N", help="at most N items")
    items.add_argument("--json", action="store_true", help="one JSON object per item")

    repost = command(
        "repost",
        cmd_repost,
        help="post one item again, even if it was posted before",
        description="Post one item again as a fresh thread. ITEM is its id or at-uri, its "
        "URL (any spelling that normalises to the same page: tracking parameters, a "
        "fragment, a trailing slash) or the bsky.app link of its thread, as shown by "
        "'feedbot items'. The item must have been seen by a poll.",
    )
    repost.add_argument("item", metavar="ITEM", help="the item's id, at-uri, URL or thread link")
    repost.add_argument("--feed", metavar="NAME", help="the feed the item belongs to")
    repost.add_argument("--dry-run", action="store_true", help="show the thread, post nothing")
    repost.add_argument("--json", action="store_true", help="with --dry-run: JSON output")
    repost.add_argument(
        "--boost",
        action="store_true",
        help="make a native repost of the earlier thread's first post instead",
    )

    status = command(
        "status",
        cmd_status,
        help="per feed: items by status, last poll, last errors",
        description="Show, per feed, how many items are in each status, when it was last "
        "polled and what went wrong last. Never shows secrets. 'feedbot items' lists "
        "the items themselves.",
    )
    status.add_argument("--json", action="store_true", help="one JSON object per feed")

    command(
        "check-config",
        cmd_check_config,
        help="validate the configuration and exit",
        description="Validate the configuration and check what can be checked offline "
        "(records paths exist, LLM keys are set): exit 0 if it is fine, else print one "
        "line per problem naming the file and key, and exit 2.",
    )

    health = command(
        "health",
        cmd_health,
        help="exit 0 if the daemon is running and its heartbeat is recent",
        description="Check the heartbeat the daemon writes beside the state file: "
        "unhealthy (exit 1) when there is none, when the daemon stopped or its process "
        "is gone, or when it is older than --max-age (default: the daemon's own limit, "
        "two of its shortest feed intervals plus a minute).",
    )
    health.add_argument("--max-age", type=_duration, metavar="DURATION", help='e.g. "30m"')

    from bot.summarize.command import add_parser as add_summarize

    add_summarize(sub, parents=[common])
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse a command line; the global options' defaults filled in."""
    args = build_parser().parse_args(argv)
    for name, default in GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from bot.errors import ConfigError, FeedbotError

    try:
        args = parse_args(argv)
        func: Command = args.func
        return func(args)
    except ConfigError as exc:
        _print(exc, file=sys.stderr)
        return 2
    except FeedbotError as exc:
        _print(f"feedbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a process a closed pipe ended
    except Exception as exc:  # a bug: still one line, never a traceback for the user
        logging.getLogger("bot.cli").debug("crashed", exc_info=True)
        reason = " ".join(str(exc).split())[:300]
        print(
            f"feedbot: internal error: {type(exc).__name__}: {reason}"
            " (--log-level DEBUG shows the traceback)",
            file=sys.stderr,
        )
        return 1


def _quiet_stdout() -> None:
    """The reader went away: point stdout at /dev/null so the interpreter's last flush
    doesn't complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
