"""The ``summarize`` command's arguments, apart from the summarizer: ``feedbot --help``
and ``feedbot health`` build every command's parser, and importing the ``bot.summarize``
package for that cost a sixth of their start-up."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

#: room for a summary when no thread is being composed (the CLI): about three posts
DEFAULT_GRAPHEMES = 560


def add_parser(
    subparsers: argparse._SubParsersAction[Any], parents: Sequence[argparse.ArgumentParser] = ()
) -> None:
    """Register ``summarize`` on the CLI's subcommands (``parents``: the global options)."""
    parser = subparsers.add_parser(
        "summarize",
        parents=list(parents),
        help="summarize a text file or stdin with the offline summarizer",
        description=(
            "Print the summary sentences of FILE (or stdin), one per line. Without "
            f"--sentences the summary fits {DEFAULT_GRAPHEMES} graphemes. (In a thread "
            "the room depends on the article's title, URL and tags: the composer "
            "computes it per article.)"
        ),
    )
    parser.add_argument("file", nargs="?", default="-", metavar="FILE|-", help="default: stdin")
    parser.add_argument("--lang", help="the text's language (ISO 639-1); default: detected")
    parser.add_argument("--sentences", type=_positive, help="at most N sentences")
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help='read lines of {"id","text"}, write lines of {"id","summary","lang"}',
    )
    parser.set_defaults(func=_run)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _run(args: argparse.Namespace) -> int:
    from bot.summarize.command import run

    return run(args)
