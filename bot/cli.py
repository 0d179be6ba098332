"""The ``feedbot`` command: wiring only. Library errors become one-line messages.

Exit codes: 0 success; 1 a feed or an item failed; 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import ENV_VAR, Config, load_config
from bot.errors import ConfigError, FeedbotError
from bot.logs import setup_logging
from bot.state import State
from bot.summarize.command import add_parser as add_summarize
from bot.wiring import build_pipeline, secrets_of

Command = Callable[[argparse.Namespace], int]


def _load(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    setup_logging(args.log_level, secrets_of(config, os.environ), args.log_format)
    return config


def _only(config: Config, names: Sequence[str] | None) -> Config:
    """The config cut down to ``--feed`` names; unknown names fail here."""
    if not names:
        return config
    for name in names:
        config.feed(name)
    return config.model_copy(update={"feeds": tuple(f for f in config.feeds if f.name in names)})


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _load(args)
    names = ", ".join(config.feed_names()) or "none"
    print(f"{args.config or os.environ.get(ENV_VAR) or 'config/feeds.yaml'}: ok")
    print(f"feeds: {names}; accounts: {', '.join(config.accounts) or 'none'}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    config = _only(_load(args), args.feed)
    if not args.once:
        if args.json:
            raise ConfigError("--json goes with --once")
        from bot.daemon import run_daemon

        return run_daemon(config, dry_run=args.dry_run, load=lambda: _only(_load(args), args.feed))
    state = State.open(config.state)
    try:
        pipeline = build_pipeline(config, state, dry_run=args.dry_run, as_json=args.json)
        reports = pipeline.run_once()
    finally:
        state.close()
    report_out = sys.stderr if args.json else sys.stdout
    for report in reports:
        print(report.line(), file=report_out)
    return 1 if any(r.error or r.failed for r in reports) else 0


def cmd_repost(args: argparse.Namespace) -> int:
    config = _load(args)
    state = State.open(config.state)
    try:
        pipeline = build_pipeline(config, state, dry_run=args.dry_run, as_json=args.json)
        outcome = pipeline.repost(args.item, feed=args.feed, boost=args.boost)
    finally:
        state.close()
    if not args.json:
        print(f"{args.item}: {outcome}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    config = _load(args)
    state = State.open(config.state)
    try:
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
                }
            )
    finally:
        state.close()
    if args.json:
        for row_json in rows:
            print(json.dumps(row_json, ensure_ascii=False))
        return 0
    for r in rows:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items())) or "no items"
        flag = "" if r["enabled"] else " (disabled)"
        print(f"{r['feed']}{flag}: {counts}")
        print(f"  last poll: {r['last_poll'] or 'never'}  {r['last_result'] or ''}".rstrip())
        if r["last_error"]:
            print(f"  last error: {r['last_error']}")
        for err in r["item_errors"]:
            print(f"  item {err['item']}: {err['kind']}: {err['error']}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    config = _load(args)
    state = State.open(config.state)
    try:
        size = state.backup(args.path)
    finally:
        state.close()
    print(f"{args.path}: backup of {config.state} written ({size} bytes)")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """For container health checks: is the daemon's heartbeat recent?"""
    from datetime import UTC, datetime

    from bot.config import parse_duration
    from bot.daemon import heartbeat_path, max_pass_age

    config = _load(args)
    path = heartbeat_path(config)
    limit = parse_duration(args.max_age) if args.max_age else max_pass_age(config)
    try:
        beat = datetime.fromisoformat(path.read_text().strip())
    except (OSError, ValueError):
        print(f"unhealthy: no heartbeat in {path}")
        return 1
    age = datetime.now(UTC) - beat
    if age > limit:
        print(f"unhealthy: last heartbeat {int(age.total_seconds())}s ago (limit {limit})")
        return 1
    print(f"healthy: last heartbeat {int(age.total_seconds())}s ago")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedbot",
        description="Turn long-form publications into Bluesky threads.",
    )
    parser.add_argument("--version", action="version", version=f"feedbot {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"configuration file (default: ${ENV_VAR} or config/feeds.yaml)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("FEEDBOT_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
        help="how much to log on stderr (default: INFO)",
    )
    parser.add_argument(
        "--log-format",
        default=os.environ.get("FEEDBOT_LOG_FORMAT", "text"),
        choices=["text", "json"],
        help="text lines, or one JSON object a line for log collectors (default: text)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="poll feeds and post new articles (a daemon unless --once)",
        description="Poll every enabled feed and post new articles as threads. Without "
        "--once it runs as a daemon, polling each feed at its interval; SIGTERM or "
        "SIGINT finish the item in hand and exit 0.",
    )
    run.add_argument("--once", action="store_true", help="one pass over all feeds, then exit")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="show the threads instead of posting them; nothing is recorded as posted",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="with --once: print each previewed thread as one JSON line on stdout",
    )
    run.add_argument("--feed", action="append", metavar="NAME", help="only this feed (repeatable)")
    run.set_defaults(func=cmd_run)

    repost = sub.add_parser(
        "repost",
        help="post one item again, even if it was posted before",
        description="Post one item again as a fresh thread. ITEM is its at-uri, URL or id, "
        "as shown by 'feedbot status'. The item must have been seen by a poll.",
    )
    repost.add_argument("item", metavar="ITEM", help="the item's at-uri, URL or id")
    repost.add_argument("--feed", metavar="NAME", help="the feed the item belongs to")
    repost.add_argument("--dry-run", action="store_true", help="show the thread, post nothing")
    repost.add_argument("--json", action="store_true", help="with --dry-run: JSON output")
    repost.add_argument(
        "--boost",
        action="store_true",
        help="make a native repost of the earlier thread's first post instead",
    )
    repost.set_defaults(func=cmd_repost)

    status = sub.add_parser(
        "status",
        help="per feed: items by status, last poll, last errors",
        description="Show, per feed, how many items are in each status, when it was last "
        "polled and what went wrong last. Never shows secrets.",
    )
    status.add_argument("--json", action="store_true", help="one JSON object per feed")
    status.set_defaults(func=cmd_status)

    check = sub.add_parser(
        "check-config",
        help="validate the configuration and exit",
        description="Validate the configuration: exit 0 if it is fine, else print one line "
        "naming the file, line and key, and exit 2.",
    )
    check.set_defaults(func=cmd_check_config)

    backup = sub.add_parser(
        "backup",
        help="write a consistent copy of the state file, even while the daemon runs",
        description="Copy the state file to PATH with SQLite's online backup API: the "
        "copy is consistent even while a daemon posts. It holds login sessions, so it is "
        "created readable by its owner only. Restore by stopping the daemon and putting "
        "the copy where 'state' points.",
    )
    backup.add_argument("path", metavar="PATH", type=Path, help="where to write the copy")
    backup.set_defaults(func=cmd_backup)

    health = sub.add_parser(
        "health",
        help="exit 0 if the daemon's heartbeat is recent (for container health checks)",
        description="Check the heartbeat the daemon writes beside the state file after "
        "every job. Healthy when it is younger than --max-age (default: twice the "
        "shortest feed interval).",
    )
    health.add_argument("--max-age", metavar="DURATION", help='e.g. "30m"')
    health.set_defaults(func=cmd_health)

    add_summarize(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except FeedbotError as exc:
        print(f"feedbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
