"""The repository is complete on its own: no test reads files from beside it."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent

#: ways a test has reached outside the repository before: ../shared, /work/…, ROOT.parent
OUTSIDE = re.compile(r"""\.\./shared|/work/|["']shared["']|ROOT\.parent\b|parents\[2\]""")


def test_no_test_reads_files_from_outside_the_repository() -> None:
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_the_seed_documents_are_in_the_repository() -> None:
    seeds = TESTS / "data" / "seeds"
    assert (seeds / "standard-site-document.json").stat().st_size > 1000
    assert (seeds / "scraped-article.txt").stat().st_size > 1000
