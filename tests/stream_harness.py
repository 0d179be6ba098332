"""Runs a ``Stream`` on a thread for a test and collects what it delivers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.streams import Batch, RecordEvent, Stream


class Running:
    """``stream.run(cursor, …)`` on a thread; ``close`` stops it and checks it stopped."""

    def __init__(self, stream: Stream, cursor: int | None = None) -> None:
        self.stream = stream
        self.batches: list[Batch] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, args=(cursor,), daemon=True)
        self.thread.start()

    def _run(self, cursor: int | None) -> None:
        try:
            self.stream.run(cursor, self._deliver, self.stop)
        except BaseException as exc:  # reported to the test
            self.error = exc

    def _deliver(self, batch: Batch) -> None:
        with self._lock:
            self.batches.append(batch)

    @property
    def events(self) -> list[RecordEvent]:
        with self._lock:
            return [event for batch in self.batches for event in batch.events]

    @property
    def cursor(self) -> int | None:
        with self._lock:
            return self.batches[-1].cursor if self.batches else None

    def wait_for(self, check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if self.error is not None:
                raise AssertionError(f"the stream failed: {self.error!r}") from self.error
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or check}; got {self.events}")
            time.sleep(0.02)

    def wait_events(self, count: int, timeout: float = 30.0) -> list[RecordEvent]:
        self.wait_for(lambda: len(self.events) >= count, timeout, f"{count} events")
        return self.events

    def wait_ended(self, timeout: float = 30.0) -> BaseException | None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the stream did not end"
        return self.error

    def close(self, within: float = 5.0) -> float:
        """Stop the stream; returns how long ``run`` took to return."""
        started = time.monotonic()
        self.stop.set()
        self.thread.join(within)
        assert not self.thread.is_alive(), f"the stream did not stop within {within}s"
        return time.monotonic() - started

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread.is_alive():
            self.close()
