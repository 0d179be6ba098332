"""Sources read publication items from the outside world and return ``Article``.

Each kind of source lives in its own module and implements ``Source``. A source never
touches the state file: it gets its last ``cursor`` and returns a new one in ``Poll``.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bot.errors import SourceError
from bot.model import Poll
from bot.untrusted import log_safe

log = logging.getLogger(__name__)


class Source(Protocol):
    def poll(self, cursor: dict[str, Any]) -> Poll:
        """Read what is new since ``cursor``.

        Raises ``SourceError`` when the whole feed fails; a single bad entry is
        skipped and reported in ``Poll.problems`` instead.
        """
        ...


def poll_guarded(name: str, source: Source, cursor: dict[str, Any]) -> Poll | SourceError:
    """``source.poll(cursor)``, or the ``SourceError`` that ended it.

    Sources turn what they expect into ``SourceError`` or skipped entries; this is the
    last line of the trust boundary, for input nobody foresaw: any other exception
    becomes this feed's one-line error too (the traceback is logged at DEBUG), so one
    feed never stops a pass or a daemon job, and ``status`` shows what happened.
    """
    try:
        return source.poll(cursor)
    except SourceError as exc:
        return exc
    except Exception as exc:
        log.debug("poll crashed feed=%s", name, exc_info=True)
        reason = log_safe(" ".join(str(exc).split()))[:200]
        error = SourceError(f"feed {name}: could not be read: {type(exc).__name__}: {reason}")
        error.__cause__ = exc
        return error
