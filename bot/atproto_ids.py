"""Record keys and content ids computed locally, so a whole thread can be planned offline.

A reply must name its parent's CID before the parent exists, and a plan must hold its
record keys before anything is written; both come from here. Pure: no I/O, time injected.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import libipld

#: base32-sortable: the characters sort in the same order as the values they stand for
_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_CLOCK_ID_BITS = 10
_MAX_MICROS = (1 << 53) - 1

# CIDv1, dag-cbor codec, sha2-256 multihash of 32 bytes
_CID_PREFIX = bytes([0x01, 0x71, 0x12, 0x20])


def encode_tid(micros: int, clock_id: int) -> str:
    """The 13-character TID for a timestamp in microseconds since the epoch and a clock id."""
    if not 0 <= micros <= _MAX_MICROS:
        raise ValueError(f"timestamp out of range: {micros}")
    if not 0 <= clock_id < (1 << _CLOCK_ID_BITS):
        raise ValueError(f"clock id out of range: {clock_id}")
    value = (micros << _CLOCK_ID_BITS) | clock_id
    chars = []
    for _ in range(13):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_tid(value: str) -> bool:
    return bool(TID_RE.match(value))


class TidClock:
    """Makes TIDs that strictly increase within this process, even if the clock stalls
    or steps back (two posts planned in the same microsecond still get distinct keys).

    ``now`` returns seconds since the epoch (``time.time`` by default); ``clock_id`` is
    random per process by default, so two processes planning at once do not collide.
    """

    def __init__(self, now: Callable[[], float] = time.time, clock_id: int | None = None) -> None:
        self._now = now
        self._clock_id = random.randrange(1 << _CLOCK_ID_BITS) if clock_id is None else clock_id
        if not 0 <= self._clock_id < (1 << _CLOCK_ID_BITS):
            raise ValueError(f"clock id out of range: {self._clock_id}")
        self._last = -1
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            micros = max(int(self._now() * 1_000_000), self._last + 1)
            self._last = micros
            return encode_tid(micros, self._clock_id)


def _to_ipld(value: Any) -> Any:
    """Lexicon JSON → the IPLD data model: ``{"$link"}`` → CID link, ``{"$bytes"}`` → bytes."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("$link"), str):
            _, raw = libipld.decode_multibase(value["$link"])
            return raw  # libipld encodes bytes that parse as a CID as a tag-42 link
        if len(value) == 1 and isinstance(value.get("$bytes"), str):
            encoded = value["$bytes"]
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        return {key: _to_ipld(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_ipld(item) for item in value]
    if isinstance(value, float):
        raise ValueError("floats are not allowed in AT Protocol records")
    return value


def encode_record(record: dict[str, Any]) -> bytes:
    """The DAG-CBOR block of a record given in lexicon JSON form."""
    return bytes(libipld.encode_dag_cbor(_to_ipld(record)))


def record_cid(record: dict[str, Any]) -> str:
    """The CID the PDS will give ``record`` (which must carry its ``$type``)."""
    if "$type" not in record:
        raise ValueError("a record needs its $type to have the PDS's CID")
    block = encode_record(record)
    digest = hashlib.sha256(block).digest()
    return libipld.encode_cid(_CID_PREFIX + digest)
