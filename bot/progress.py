"""Progress on long work (a first poll of a big repo, a large backfill, a long
``summarize --jsonl``), drawn on stderr by rich only when stderr is a terminal.

The pipeline and sources see the small ``Progress`` interface; ``NO_PROGRESS`` draws
nothing, so logs and pipes get no extra bytes. rich is imported only for a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO


class Task(Protocol):
    def advance(self, amount: int = 1) -> None: ...

    def done(self) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: int | None = None) -> Task:
        """A bar for one piece of work; ``total`` None when unknown."""
        ...


class _NoTask:
    def advance(self, amount: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


class _Silent:
    def task(self, description: str, total: int | None = None) -> Task:
        return _NoTask()


NO_PROGRESS: Progress = _Silent()


class _RichTask:
    def __init__(self, progress: Any, task_id: Any) -> None:
        self._progress, self._id = progress, task_id

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._id, amount)

    def done(self) -> None:
        self._progress.remove_task(self._id)


class _RichProgress:
    def __init__(self, progress: Any) -> None:
        self._progress = progress

    def task(self, description: str, total: int | None = None) -> Task:
        return _RichTask(self._progress, self._progress.add_task(description, total=total))


@contextmanager
def progress_on(stream: TextIO) -> Iterator[Progress]:
    """Bars on ``stream`` while the block runs, if it is a terminal; else nothing.

    While bars show, writes to ``sys.stderr`` (logs included) and to a terminal
    ``sys.stdout`` are printed above them, so build what writes inside the block."""
    if not stream.isatty():
        yield NO_PROGRESS
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import (
        Progress as RichProgress,
    )

    bars = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=stream),
        transient=True,
        # stdout on the same screen is printed above the bars; a piped stdout is left alone
        redirect_stdout=sys.stdout.isatty(),
    )
    with bars:
        yield _RichProgress(bars)
