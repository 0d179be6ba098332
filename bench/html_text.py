"""html_to_text on broken markup at doubling sizes: the time must double, not quadruple.

    .venv/bin/python bench/html_text.py [--max-kb 1024] [--repeat 3]

Each row is the best of ``--repeat`` runs; the last column is the time over the time
at half the size (about 2 when linear, about 4 when quadratic).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.sources.feed_text import html_to_text

UNITS = {
    "unfinished tags": "<a b",
    "open quotes": '<a b="',
    "unclosed iframes": "<iframe>",
    "article": "<p>Some <b>text</b> with <a href='https://x.example/'>a link</a>.</p>\n",
}


def best(markup: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        html_to_text(markup)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--max-kb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = []
    kb = 64
    while kb <= args.max_kb:
        sizes.append(kb)
        kb *= 2
    print(f"{'markup':<18}{'KB':>7}{'ms':>10}{'×prev':>8}")
    for label, unit in UNITS.items():
        previous = 0.0
        for size in sizes:
            markup = unit * (size * 1024 // len(unit))
            seconds = best(markup, args.repeat)
            ratio = f"{seconds / previous:.2f}" if previous else ""
            print(f"{label:<18}{size:>7}{seconds * 1000:>10.1f}{ratio:>8}")
            previous = seconds


if __name__ == "__main__":
    main()
