"""The trust boundary of event streams: one event's fields checked once, where it enters.

A stream's server (a PDS, a relay, a Jetstream) is a stranger: every event it sends is
checked here before it becomes a ``RecordEvent``: the DID, the collection's NSID and the
record key have their AT Protocol syntax, the seq is a positive 64-bit integer, a
create or update carries a CID and a record that is a JSON object nested at most
``MAX_JSON_DEPTH`` deep and at most ``MAX_RECORD_BYTES`` long. A failing event raises
``RecordError`` with a short reason: the transport logs it on one line and drops that
event only.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.errors import RecordError
from bot.identity import is_did
from bot.streams import Op, RecordEvent, Subscription
from bot.streams.dagcbor import MAX_RECORD_BYTES
from bot.untrusted import MAX_JSON_DEPTH, json_depth, log_safe

#: an NSID: a reversed domain of at least two segments, then a name (lexicon spec)
_NSID = re.compile(
    r"^[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+"
    r"\.[a-zA-Z](?:[a-zA-Z0-9]{0,62})$"
)
_MAX_NSID_CHARS = 317
#: a record key: 1-512 of these characters, and neither "." nor ".."
_RKEY = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
_CID = re.compile(r"^[a-zA-Z0-9+/=_-]{8,256}$")
_MAX_SEQ = 2**63 - 1


def is_nsid(value: str) -> bool:
    return len(value) <= _MAX_NSID_CHARS and bool(_NSID.match(value))


def is_rkey(value: str) -> bool:
    return value not in (".", "..") and bool(_RKEY.match(value))


def wanted(subscription: Subscription, did: str, collection: str) -> bool:
    """Whether the subscription asks for this repo's collection."""
    if collection not in subscription.collections:
        return False
    return subscription.dids is None or did in subscription.dids


def checked_seq(value: Any) -> int:
    """A stream position: a positive integer that fits in 64 bits."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_SEQ:
        raise RecordError(f"seq is not a positive integer: {log_safe(repr(value)[:40])}")
    return value


def checked_event(
    seq: int,
    did: Any,
    collection: Any,
    rkey: Any,
    op: Any,
    cid: Any,
    record: Any,
    *,
    record_bytes: int | None = None,
) -> RecordEvent:
    """The event, or ``RecordError`` naming the first field that is wrong.

    ``record_bytes`` is the record's encoded size when the transport knows it (a
    firehose block); otherwise its JSON is measured.
    """
    if not isinstance(did, str) or not is_did(did):
        raise RecordError(f"not a DID: {_shown(did)}")
    if not isinstance(collection, str) or not is_nsid(collection):
        raise RecordError(f"not a collection NSID: {_shown(collection)}")
    if not isinstance(rkey, str) or not is_rkey(rkey):
        raise RecordError(f"not a record key: {_shown(rkey)}")
    try:
        action = Op(op)
    except ValueError:
        raise RecordError(f"not a create, update or delete: {_shown(op)}") from None
    if action is Op.DELETE:
        return RecordEvent(seq, did, collection, rkey, action, None, None)
    if not isinstance(cid, str) or not _CID.match(cid):
        raise RecordError(f"a {action} without a valid CID: {_shown(cid)}")
    if not isinstance(record, dict):
        raise RecordError(f"a {action} whose record is not a JSON object")
    if json_depth(record, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise RecordError(f"the record is nested deeper than {MAX_JSON_DEPTH} levels")
    if record_bytes is None:
        try:
            record_bytes = len(json.dumps(record, ensure_ascii=False).encode("utf-8", "replace"))
        except (TypeError, ValueError):
            raise RecordError("the record is not JSON") from None
    if record_bytes > MAX_RECORD_BYTES:
        raise RecordError(f"the record is larger than {MAX_RECORD_BYTES} bytes")
    return RecordEvent(seq, did, collection, rkey, action, cid, record)


def _shown(value: Any) -> str:
    return log_safe(repr(value)[:80])
