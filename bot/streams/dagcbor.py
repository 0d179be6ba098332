"""Firehose commit blocks (a CAR file of DAG-CBOR) → records in ``listRecords``' JSON.

libipld, which the SDK decodes frames with, gives a CID link and a byte string alike as
``bytes``; ``listRecords`` tells them apart (``{"$link": …}`` and ``{"$bytes": …}``), and
so must we, or the record readers would see two shapes of one record. So the CAR file is
split here (varint-framed sections, a few lines) and each wanted block is decoded with
cbor2, which keeps tag 42 (a link) apart from plain bytes.

A block is trusted only as far as it is checked: its CID must be the DAG-CBOR SHA-256
CID of its bytes (so a relay can't swap a record under an op's CID), it is at most
``MAX_RECORD_BYTES``, nested at most ``MAX_JSON_DEPTH`` deep, and holds only what the
AT Protocol data model allows (no floats, no other tags, string keys). Anything else is
a ``RecordError`` with a short reason; the transport drops that one event.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import cbor2
import libipld

from bot.errors import RecordError
from bot.untrusted import MAX_JSON_DEPTH

#: a record block past this is refused (the PDS's own limit is 1 MiB per record)
MAX_RECORD_BYTES = 2 * 1024 * 1024
#: CIDv1, dag-cbor, sha2-256, 32 bytes: the only kind of CID a record has
DAG_CBOR_SHA256 = bytes([0x01, 0x71, 0x12, 0x20])
_CID_LINK_TAG = 42


def car_blocks(car: bytes) -> dict[bytes, bytes]:
    """The blocks of a CAR (v1) file: raw CID bytes → raw block bytes.

    ``RecordError`` when the file is truncated or malformed.
    """
    blocks: dict[bytes, bytes] = {}
    header_len, pos = _varint(car, 0)
    pos += header_len
    if pos > len(car):
        raise RecordError("the CAR header is cut short")
    while pos < len(car):
        length, pos = _varint(car, pos)
        end = pos + length
        if end > len(car) or length == 0:
            raise RecordError("a CAR section is cut short")
        cid_len = _cid_length(car, pos, end)
        blocks[car[pos : pos + cid_len]] = car[pos + cid_len : end]
        pos = end
    return blocks


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 varint at ``pos``: (value, the position after it)."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 56:
            raise RecordError("a varint in the CAR file is cut short or too long")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _cid_length(data: bytes, start: int, end: int) -> int:
    """The length of the CIDv1 at ``start`` (version, codec, hash code, digest)."""
    pos = start
    for _ in range(3):  # version, codec, multihash code
        _, pos = _varint(data, pos)
    size, pos = _varint(data, pos)
    if pos + size > end:
        raise RecordError("a CID in the CAR file is cut short")
    return pos + size - start


def record_json(cid: bytes, block: bytes) -> dict[str, Any]:
    """The record in ``block``, checked against ``cid``, as ``listRecords`` shows it."""
    if len(block) > MAX_RECORD_BYTES:
        raise RecordError(f"the record is larger than {MAX_RECORD_BYTES} bytes")
    if cid != DAG_CBOR_SHA256 + hashlib.sha256(block).digest():
        raise RecordError("the record's block does not match its CID")
    try:
        value = cbor2.loads(block)
    except (cbor2.CBORError, ValueError, RecursionError, MemoryError) as exc:
        raise RecordError(f"the record is not DAG-CBOR ({type(exc).__name__})") from None
    record = _json(value, 0)
    if not isinstance(record, dict):
        raise RecordError("the record is not a map")
    return record


def cid_text(raw: bytes) -> str:
    """Raw CID bytes as the CID string (``bafy…``); ``RecordError`` if they are not one."""
    try:
        return str(libipld.encode_cid(raw))
    except ValueError:
        raise RecordError("a CID is malformed") from None


def _json(value: Any, depth: int) -> Any:
    """DAG-CBOR as decoded by cbor2 → lexicon JSON (``$link``, ``$bytes``)."""
    if isinstance(value, str | bool) or value is None:
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise RecordError("the record holds an integer past 64 bits")
        return value
    if depth >= MAX_JSON_DEPTH:
        raise RecordError(f"the record is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise RecordError("the record has a map key that is not a string")
            out[key] = _json(item, depth + 1)
        return out
    if isinstance(value, list):
        return [_json(item, depth + 1) for item in value]
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii").rstrip("=")}
    if isinstance(value, cbor2.CBORTag) and value.tag == _CID_LINK_TAG:
        raw = value.value
        if not isinstance(raw, bytes) or not raw.startswith(b"\x00"):
            raise RecordError("the record has a malformed CID link")
        return {"$link": cid_text(raw[1:])}
    if isinstance(value, float):
        raise RecordError("the record holds a float, which AT Protocol records may not")
    raise RecordError(f"the record holds a {type(value).__name__}, not a JSON value")
