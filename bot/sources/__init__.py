"""Sources read publication items from the outside world and return ``Article``.

Each kind of source lives in its own module and implements ``Source``. A source never
touches the state file: it gets its last ``cursor`` and returns a new one in ``Poll``.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.model import Poll


class Source(Protocol):
    def poll(self, cursor: dict[str, Any]) -> Poll:
        """Read what is new since ``cursor``.

        Raises ``SourceError`` when the whole feed fails; a single bad entry is
        skipped and reported in ``Poll.problems`` instead.
        """
        ...
