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
    from bot.progress import Progress
    from bot.state import State

Command = Callable[[argparse.Namespace], int]


def _print(text: object, file: TextIO | None = None, end: str = "\n") -> None:
    """Every line the CLI shows, with secrets and JWT-shaped tokens masked."""
    from bot.redact import mask

    print(mask(str(text)), file=file, end=end)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_LEVEL_ENV = "FEEDBOT_LOG_LEVEL"
#: the global options' values when given neither before nor after the command
LOG_FORMATS = ("text", "json")
LOG_FORMAT_ENV = "FEEDBOT_LOG_FORMAT"
GLOBAL_DEFAULTS: dict[str, Any] = {"config": None, "log_level": None, "log_format": None}


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
    group.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=argparse.SUPPRESS,
        help="text lines, or one JSON object a line for log collectors "
        f"(default: ${LOG_FORMAT_ENV}, else text)",
    )
    return parent


def _chosen(given: str | None, variable: str, default: str, choices: Sequence[str]) -> str:
    """A global option's value: given on the command line, else from ``variable``."""
    if given is not None:
        return given
    value = os.environ.get(variable, default)
    value = value.upper() if choices == LOG_LEVELS else value.lower()
    if value not in choices:
        raise _usage(f"${variable}: expected one of {', '.join(choices)}")
    return value


def _log_level(args: argparse.Namespace) -> str:
    return _chosen(args.log_level, LOG_LEVEL_ENV, "INFO", LOG_LEVELS)


def _log_format(args: argparse.Namespace) -> Any:
    return _chosen(args.log_format, LOG_FORMAT_ENV, "text", LOG_FORMATS)


def _usage(message: str) -> Exception:
    from bot.errors import ConfigError

    return ConfigError(f"feedbot: error: {message}")


def _load(args: argparse.Namespace) -> Config:
    from bot.config import load_config
    from bot.logs import setup_logging
    from bot.wiring import secrets_of

    level = _log_level(args)
    config = load_config(args.config)
    setup_logging(level, secrets_of(config, os.environ), _log_format(args))
    return config


def _only(config: Config, names: Sequence[str] | None) -> Config:
    """The config cut down to ``--feed`` names; unknown names fail here."""
    if not names:
        return config
    for name in names:
        config.feed(name)
    return config.model_copy(update={"feeds": tuple(f for f in config.feeds if f.name in names)})


def _open_state(config: Config) -> State:
    from bot.state import State

    return State.open(config.state)


def _pipeline(
    config: Config, state: State, args: argparse.Namespace, progress: Progress | None = None
) -> Pipeline:
    from bot.progress import NO_PROGRESS
    from bot.wiring import build_pipeline

    return build_pipeline(
        config, state, dry_run=args.dry_run, as_json=args.json, progress=progress or NO_PROGRESS
    )


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
    config = _only(_load(args), args.feed)
    if not args.once:
        if args.json:
            raise _usage("--json goes with --once")
        from bot.daemon import run_daemon

        return run_daemon(config, dry_run=args.dry_run, load=lambda: _only(_load(args), args.feed))
    from bot.progress import progress_on

    with (
        _open_state(config) as state,
        progress_on(sys.stderr) as progress,  # bars only on a terminal
        _pipeline(config, state, args, progress) as pipeline,
    ):
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


def cmd_delete(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.feed is not None:
        config.feed(args.feed)  # "unknown feed", not "unknown item"
    with _open_state(config) as state, _pipeline(config, state, args) as pipeline:
        outcome = pipeline.delete(args.item, feed=args.feed)
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

    from bot.status import gather, render

    config = _load(args)
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
        status = gather(config, state)
        now = state.clock()
    if args.json:
        _print(json.dumps(masked(status.to_json()), ensure_ascii=False))
    else:
        _print(render(status, terminal=sys.stdout.isatty(), now=now), end="")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    config = _load(args)
    with _open_state(config) as state:
        size = state.backup(args.path)
    _print(f"{args.path}: backup of {config.state} written ({size} bytes)")
    return 0


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

    delete = command(
        "delete",
        cmd_delete,
        help="delete the threads posted for one item from the account",
        description="Delete every thread feedbot posted for one item (its posts, reposts "
        "and boosts, with their reply and quote gates) in one commit per account, planned "
        "in the state file first like a post, whatever the feed's 'deletions' says. ITEM "
        "is anything 'feedbot repost' takes. An item whose document still exists is then "
        "skipped: never posted again unless reposted by hand.",
    )
    delete.add_argument("item", metavar="ITEM", help="the item's id, at-uri, URL or thread link")
    delete.add_argument("--feed", metavar="NAME", help="the feed the item belongs to")
    delete.add_argument(
        "--dry-run", action="store_true", help="show what would be deleted, delete nothing"
    )
    delete.add_argument("--json", action="store_true", help="with --dry-run: JSON output")

    status = command(
        "status",
        cmd_status,
        help="a table per feed and per account: polls, items by status, budgets, pauses",
        description="Show, per feed, whether it is enabled, its last poll and result, "
        "its next poll, how many items are in each status and the last error; per "
        "account, the write points spent in the last hour and day and any rate-limit "
        "pause. Never shows secrets. 'feedbot items' lists the items themselves.",
    )
    status.add_argument(
        "--json", action="store_true", help='one JSON object: {"feeds": [...], "accounts": [...]}'
    )

    command(
        "check-config",
        cmd_check_config,
        help="validate the configuration and exit",
        description="Validate the configuration and check what can be checked offline "
        "(records paths exist, LLM keys are set): exit 0 if it is fine, else print one "
        "line per problem naming the file and key, and exit 2.",
    )

    backup = command(
        "backup",
        cmd_backup,
        help="write a consistent copy of the state file, even while the daemon runs",
        description="Copy the state file to PATH with SQLite's online backup API: the "
        "copy is consistent even while a daemon posts. It holds login sessions, so it is "
        "created readable by its owner only. Restore by stopping the daemon and putting "
        "the copy where 'state' points.",
    )
    backup.add_argument("path", metavar="PATH", type=Path, help="where to write the copy")

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

    from bot.cli_summarize import add_parser as add_summarize

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
