"""``feedbot summarize``: the extractive summarizer on a file, stdin or JSON lines.

Useful to see what a thread would say about a text, and to batch-summarize a corpus
(``--jsonl``: lines of ``{"id", "text"}`` in, lines of ``{"id", "summary", "lang"}`` out,
in order). A malformed input line is a one-line error naming its number, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from bot.cli_summarize import DEFAULT_GRAPHEMES
from bot.progress import Task
from bot.summarize import Budget, Summarizer

#: with --sentences the grapheme budget stops mattering
_UNLIMITED = 10**9


def run(args: argparse.Namespace) -> int:
    """Run the command; 0 on success, 2 on unreadable or malformed input."""
    budget = Budget(
        graphemes=_UNLIMITED if args.sentences else DEFAULT_GRAPHEMES,
        sentences=args.sentences,
        lang=args.lang,
    )
    try:
        if args.file == "-":
            return _run(sys.stdin, args.jsonl, budget)
        with open(args.file, encoding="utf-8") as stream:
            return _run(stream, args.jsonl, budget)
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"error: {args.file} is not UTF-8 text", file=sys.stderr)
        return 2


def _run(stream: TextIO, jsonl: bool, budget: Budget) -> int:
    # imported when used: the parser is built for every command, health included
    from bot.model import Article
    from bot.summarize.extractive import ExtractiveSummarizer
    from bot.untrusted import clean_text

    summarizer = ExtractiveSummarizer()
    if not jsonl:
        # capped like every article at the trust boundary: a 5 MB file takes a second
        article = Article(feed="cli", id="-", url="", title="", text=clean_text(stream.read()))
        for sentence in summarizer.summarize(article, budget).sentences:
            print(sentence)
        return 0
    from bot.progress import progress_on

    with progress_on(sys.stderr) as progress:
        task = progress.task("summarizing")
        return _each_line(stream, summarizer, budget, task)


def _each_line(stream: TextIO, summarizer: Summarizer, budget: Budget, task: Task) -> int:
    from bot.model import Article
    from bot.untrusted import clean_text, parse_json

    for number, line in enumerate(stream, start=1):
        task.advance()
        if not line.strip():
            continue
        try:
            item = parse_json(line)
        except ValueError as exc:  # invalid, or nested too deep
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            print(f"error: line {number}: invalid JSON: {reason}", file=sys.stderr)
            return 2
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            print(f'error: line {number}: expected an object with a "text" string', file=sys.stderr)
            return 2
        article = Article(
            feed="cli",
            id=str(item.get("id", number)),
            url="",
            title="",
            text=clean_text(item["text"]),
        )
        summary = summarizer.summarize(article, budget)
        out = {"id": item.get("id"), "summary": "\n".join(summary.sentences), "lang": summary.lang}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0
