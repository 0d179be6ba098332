"""The largest hostile inputs feedbot's edge handles, timed, with peak memory.

    .venv/bin/python bench/hostile.py [--case NAME]

Each case runs in a fresh process, so the peak RSS in its row is its own (``baseline``
is the interpreter with feedbot's modules imported and nothing done); times leave the
imports out, and the rows that summarize are timed after a first small summary, whose
one-off cost (loading models) has its own row. Every case must
end in its expected outcome: an article, a one-line refusal, or a skipped item; a row
saying ``UNEXPECTED`` is a bug. Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MB = 1_000_000
SENTENCE = "The council met on Monday and approved the harbour plan after a long debate. "


def _summarize(text: str) -> str:
    from bot.model import Article
    from bot.summarize import DEFAULT_GRAPHEMES, Budget
    from bot.summarize.extractive import ExtractiveSummarizer

    article = Article(feed="b", id="x", url="https://b.example/", title="T", text=text)
    summary = ExtractiveSummarizer().summarize(article, Budget(graphemes=DEFAULT_GRAPHEMES))
    return f"summary of {len(summary.sentences)} sentences from {len(text):,} chars"


def baseline() -> str:
    import bot.config
    import bot.sources.feed_parse
    import bot.summarize.extractive  # noqa: F401

    return "imports only"


def first_summary() -> str:
    """What the first summary in a process costs whatever its size (models loaded once);
    the other summarizing rows are measured after it."""
    return _summarize(SENTENCE * 10)


def record_5mb() -> str:
    from bot.sources import atproto_records as records

    value = {
        "$type": "site.standard.document",
        "site": "https://b.example",
        "title": "Huge",
        "publishedAt": "2026-05-01T12:00:00Z",
        "textContent": SENTENCE * (5 * MB // len(SENTENCE)),
    }
    article = records.article(
        "b",
        records.Repo("did:plc:b", None),
        "at://did:plc:b/site.standard.document/3abc",
        None,
        value,
        lambda uri: (_ for _ in ()).throw(AssertionError(uri)),
    )
    return _summarize(article.text)


def json_feed_5mb() -> str:
    from bot.sources.feed_parse import read_document

    item = {"id": "1", "url": "https://b.example/1", "title": "Huge",
            "content_html": "<p>" + SENTENCE * (5 * MB // len(SENTENCE)) + "</p>"}  # fmt: skip
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [item]})
    reading = read_document("b", body.encode(), "application/feed+json", "https://b.example/",
                            frozenset())  # fmt: skip
    return _summarize(reading.articles[0].text)


def json_feed_deep() -> str:
    from bot.errors import SourceError
    from bot.sources.feed_parse import read_document

    body = '{"version": "https://jsonfeed.org/version/1", "items": [], "x": '
    body += "[" * 100_000 + "]" * 100_000 + "}"
    try:
        read_document("b", body.encode(), "application/feed+json", "https://b.example/",
                      frozenset())  # fmt: skip
    except SourceError as exc:
        return f"feed error: {str(exc)[:60]}"
    raise AssertionError("UNEXPECTED: accepted")


def record_deep() -> str:
    from bot.untrusted import parse_json

    try:
        parse_json('{"value": ' + "[" * 100_000 + "]" * 100_000 + "}")
    except ValueError as exc:
        return f"skipped: {exc}"
    raise AssertionError("UNEXPECTED: accepted")


def rss_surrogates() -> str:
    from bot.sources.feed_parse import read_document

    items = "".join(
        f"<item><title>T{i} &#xD800;</title><link>https://b.example/{i}</link>"
        f"<description>{'x &#xD800; ' * 1000}</description></item>"
        for i in range(500)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'
    reading = read_document("b", body.encode(), "application/rss+xml", "https://b.example/",
                            frozenset())  # fmt: skip
    return f"{len(reading.articles)} articles from {len(body) / MB:.1f} MB"


def _markdown(unit: str) -> Callable[[], str]:
    def case() -> str:
        from bot.markdown import strip_markdown

        text = unit * (400_000 // len(unit))
        return f"{len(strip_markdown(text)):,} chars left of {len(text):,}"

    return case


def _config(text: str) -> Callable[[], str]:
    def case() -> str:
        from bot.config import load_config
        from bot.errors import ConfigError

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "feeds.yaml"
            path.write_text(text)
            try:
                load_config(path, env={})
            except ConfigError as exc:
                return f"refused: {str(exc).split(': ', 1)[1][:50]}"
        raise AssertionError("UNEXPECTED: accepted")

    return case


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


CASES: dict[str, Callable[[], str]] = {
    "baseline": baseline,
    "first summary in a process, 1 KB": first_summary,
    "record, 5 MB textContent → article → summary": record_5mb,
    "JSON Feed, 5 MB content_html → article → summary": json_feed_5mb,
    "JSON Feed nested 100,000 deep": json_feed_deep,
    "record JSON nested 100,000 deep": record_deep,
    "RSS 5 MB, 500 items full of &#xD800;": rss_surrogates,
    "markdown: 400 KB of unclosed '<a b'": _markdown("<a b"),
    "markdown: 400 KB of unclosed '**a '": _markdown("**a "),
    "markdown: 400 KB of unclosed '<!-- x'": _markdown("<!-- x"),
    "markdown: 400 KB of unclosed '```py' fences": _markdown("```py\n"),
    "YAML alias bomb, 9 levels x 9 aliases": _config(_alias_bomb()),
    "YAML nested 100,000 deep": _config("x: " + "[" * 100_000 + "]" * 100_000 + "\n"),
}


def run_case(name: str) -> None:
    if name != "baseline":
        baseline()  # imports are start-up time, not the input's cost
    if "summary" in name and name != "first summary in a process, 1 KB":
        first_summary()  # paid once per process, shown in its own row
    started = time.perf_counter()
    try:
        outcome = CASES[name]()
    except AssertionError as exc:
        outcome = f"UNEXPECTED: {exc}"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "outcome": outcome}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=list(CASES), help="run one case in this process")
    args = parser.parse_args()
    if args.case:
        run_case(args.case)
        return
    print(f"{'case':50} {'seconds':>8} {'peak MiB':>9}  outcome")
    for name in CASES:
        done = subprocess.run(
            [sys.executable, __file__, "--case", name],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            print(f"{name:50} {'-':>8} {'-':>9}  UNEXPECTED: exit {done.returncode}")
            print(done.stderr[-2000:], file=sys.stderr)
            continue
        row = json.loads(done.stdout.splitlines()[-1])
        print(f"{name:50} {row['seconds']:8.2f} {row['peak_mib']:9.0f}  {row['outcome']}")


if __name__ == "__main__":
    main()
