"""Poll many sources at once with a bounded number of threads.

Polling is network-bound, so threads sharing one ``httpx.Client`` (and its connection
pool) are enough; the bound keeps a config with hundreds of feeds from opening hundreds
of connections. One feed's ``SourceError`` is its own result and never stops the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.errors import SourceError
from bot.model import Poll
from bot.sources import Source


def poll_all(
    sources: Mapping[str, Source],
    cursors: Mapping[str, dict[str, Any]],
    workers: int = 8,
) -> dict[str, Poll | SourceError]:
    """Poll every source (``cursors`` keyed by the same names; missing means ``{}``).

    Returns each name's ``Poll`` or the ``SourceError`` it raised, in the order of
    ``sources``. Any other exception is a bug and propagates once all polls are done.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")

    def one(name: str) -> Poll | SourceError:
        try:
            return sources[name].poll(dict(cursors.get(name) or {}))
        except SourceError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(workers, max(len(sources), 1))) as pool:
        futures = {name: pool.submit(one, name) for name in sources}
    return {name: future.result() for name, future in futures.items()}
