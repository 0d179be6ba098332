"""Publishers write composed threads somewhere: Bluesky, or a preview on stdout.

Publishing happens in three steps so the state file can hold the plan before any post
exists: ``prepare`` turns a ``Thread`` into a ``Plan`` (record keys, records, CIDs;
uploading blobs is allowed because it is safe to repeat), the pipeline saves the plan,
then ``write`` writes it. After a crash, ``find`` tells whether a saved plan was
already written, so it is never written twice. Deleting an item's threads goes the same
way: the pipeline saves a ``Deletion`` first, then ``delete`` removes what is left of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.model import Deletion, Plan, StrongRef, Target, Thread


class Publisher(Protocol):
    def prepare(self, thread: Thread, target: Target, *, now: datetime) -> Plan:
        """Choose record keys and build the records. Must not create any post."""
        ...

    def find(self, plan: Plan) -> tuple[StrongRef, ...] | None:
        """The posts of ``plan`` if it was already written in full, else None."""
        ...

    def write(self, plan: Plan) -> tuple[StrongRef, ...]:
        """Write the whole thread, all or nothing."""
        ...

    def prepare_boost(self, root: StrongRef, target: Target, *, now: datetime) -> Plan:
        """A plan for a native repost of an earlier root post: one record, written and
        recovered like a thread."""
        ...

    def delete(self, deletion: Deletion) -> int:
        """Delete those of the records that still exist, all or nothing; return how many
        were deleted. Looks first, so it may be called again for the same deletion."""
        ...
