"""Jetstream v2's wire, for the local bridge: firehose messages in, ``xrpc.v1.json`` frames out.

Everything here is pure: the upstream ``com.atproto.sync.subscribeRepos`` message bodies
(DAG-CBOR already decoded by the SDK) become ``network.bsky.jetstream.subscribeEvents``
payloads as its lexicon describes them, and the subscription's query parameters are
validated the way the lexicon says (HTTP 400 ``InvalidRequest`` before the upgrade).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import libipld

NSID = "network.bsky.jetstream.subscribeEvents"
DICTIONARY_NSID = "network.bsky.jetstream.getZstdDictionary"
SUBPROTOCOL = "xrpc.v1.json"
KINDS = ("commit", "identity", "account", "sync")
TIMESTAMP_CURSOR = 10**15  # the lexicon: a cursor at or above this is unix microseconds
OPS_PER_COMMIT = 1000  # seq = upstream seq x this + the op's index (a commit has <= 200 ops)

MAX_COLLECTIONS = 100  # the lexicon's maxLength for each list parameter
MAX_DIDS = 10_000
MAX_MESSAGE_SIZE = 4_294_967_295

_NSID = re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+$")
_PREFIX = re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)*\.\*$")
_DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
# libipld decodes both a CID link and a byte string to ``bytes``; a CIDv1 (dag-cbor or
# raw, sha2-256) has this exact shape, which no byte string in a record we serve has
_CID_PREFIXES = (b"\x01\x71\x12\x20", b"\x01\x55\x12\x20")
_CID_LENGTH = 36


class InvalidRequest(ValueError):
    """A query parameter the lexicon refuses; answered with HTTP 400 before the upgrade."""

    def __init__(self, message: str, error: str = "InvalidRequest") -> None:
        super().__init__(message)
        self.error = error


@dataclass(frozen=True)
class Params:
    """One subscription's validated ``subscribeEvents`` parameters."""

    collections: frozenset[str]  # exact NSIDs; empty with no prefixes: every collection
    prefixes: tuple[str, ...]  # "app.bsky." for "app.bsky.*"
    dids: frozenset[str]  # empty: every repo
    kinds: frozenset[str]  # empty: every kind
    cursor: int | None
    max_message_size: int  # 0: no limit
    zstd_dictionary: int | None

    def wants(self, kind: str, did: str, collection: str | None) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        if self.dids and did not in self.dids:
            return False
        if kind != "commit" or not (self.collections or self.prefixes):
            return True
        assert collection is not None
        return collection in self.collections or collection.startswith(self.prefixes)


def parse_params(query: Mapping[str, Sequence[str]]) -> Params:
    """The lexicon's checks on ``subscribeEvents``'s parameters (``parse_qs`` form)."""
    collections = list(query.get("collections", ()))
    dids = list(query.get("dids", ()))
    kinds = list(query.get("kinds", ()))
    if len(collections) > MAX_COLLECTIONS:
        raise InvalidRequest(f"collections: at most {MAX_COLLECTIONS}")
    if len(dids) > MAX_DIDS:
        raise InvalidRequest(f"dids: at most {MAX_DIDS}")
    if len(kinds) > len(KINDS):
        raise InvalidRequest(f"kinds: at most {len(KINDS)}")
    exact: set[str] = set()
    prefixes: list[str] = []
    for collection in collections:
        if _PREFIX.match(collection):
            prefixes.append(collection[:-1])
        elif _NSID.match(collection):
            exact.add(collection)
        else:
            raise InvalidRequest(f"collections: not an NSID or <prefix>.*: {collection!r}")
    for did in dids:
        if not _DID.match(did):
            raise InvalidRequest(f"dids: not a DID: {did!r}")
    for kind in kinds:
        if kind not in KINDS:
            raise InvalidRequest(f"kinds: unknown kind {kind!r}")
    if collections and kinds and "commit" not in kinds:
        raise InvalidRequest("collections applies to commits only, but kinds excludes commit")
    return Params(
        collections=frozenset(exact),
        prefixes=tuple(prefixes),
        dids=frozenset(dids),
        kinds=frozenset(kinds),
        cursor=_integer(query, "cursor", 0, None),
        max_message_size=_integer(query, "maxMessageSizeBytes", 0, MAX_MESSAGE_SIZE) or 0,
        zstd_dictionary=_integer(query, "zstdDictionary", 1, None),
    )


def _integer(
    query: Mapping[str, Sequence[str]], name: str, low: int, high: int | None
) -> int | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest(f"{name}: given more than once")
    try:
        value = int(values[0])
    except ValueError:
        raise InvalidRequest(f"{name}: not an integer: {values[0]!r}") from None
    if value < low or (high is not None and value > high):
        raise InvalidRequest(f"{name}: out of range: {value}")
    return value


# --- firehose → Jetstream ----------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One Jetstream event: what filters need, and its frame's text."""

    seq: int
    witnessed_us: int
    kind: str
    did: str
    collection: str | None
    frame: bytes  # the uncompressed xrpc.v1.json text frame, UTF-8


def timestamp(micros: int) -> str:
    """A lexicon datetime with microsecond precision."""
    moment = datetime.fromtimestamp(micros // 1_000_000, UTC).replace(
        microsecond=micros % 1_000_000
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message_frame(payload: dict[str, Any]) -> bytes:
    return json.dumps({"$type": "message", "payload": payload}, separators=(",", ":")).encode()


def error_frame(error: str, message: str) -> bytes:
    return json.dumps({"$type": "error", "error": error, "message": message}).encode()


def info_frame(name: str, message: str) -> bytes:
    return message_frame({"$type": f"{NSID}#info", "name": name, "message": message})


def to_json(value: Any) -> Any:
    """The IPLD data model → lexicon JSON, as ``listRecords`` shows it (``$link``, ``$bytes``)."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, bytes):
        if len(value) == _CID_LENGTH and value.startswith(_CID_PREFIXES):
            return {"$link": libipld.encode_cid(value)}
        return {"$bytes": base64.b64encode(value).decode().rstrip("=")}
    return value


def _verbatim(body: dict[str, Any]) -> dict[str, Any]:
    """An upstream event as Jetstream (Go's ``encoding/json``) wraps it: bytes as base64."""
    return {
        key: base64.b64encode(value).decode() if isinstance(value, bytes) else value
        for key, value in body.items()
    }


def convert(kind: str, body: dict[str, Any], witnessed_us: int) -> Iterator[Event]:
    """One upstream message (``#commit``, ``#identity``, ``#account``, ``#sync``) → events.

    A commit gives one event per op; the others wrap the upstream event verbatim. The seq
    is derived from the upstream seq, so a restarted bridge numbering the same upstream
    history again gives every event the seq it had (as Jetstream's stored seqs do).
    """
    upstream_seq = body["seq"]
    when = timestamp(witnessed_us)
    if kind == "commit":
        yield from _commit_events(body, upstream_seq, witnessed_us, when)
        return
    if kind not in KINDS:
        return
    wrapped = {"$type": f"com.atproto.sync.subscribeRepos#{kind}", **_verbatim(body)}
    did = body["did"]
    payload = {
        "$type": f"{NSID}#{kind}",
        "seq": upstream_seq * OPS_PER_COMMIT,
        "did": did,
        "time": when,
        "witnessedAt": when,
        kind: wrapped,
    }
    yield Event(payload["seq"], witnessed_us, kind, did, None, message_frame(payload))


def _commit_events(
    body: dict[str, Any], upstream_seq: int, witnessed_us: int, when: str
) -> Iterator[Event]:
    did = body["repo"]
    blocks: dict[bytes, Any] = {}
    if body.get("blocks"):
        _, blocks = libipld.decode_car(body["blocks"])
    for index, op in enumerate(body.get("ops") or ()):
        if index >= OPS_PER_COMMIT:
            break
        collection, _, rkey = op["path"].partition("/")
        payload: dict[str, Any] = {
            "$type": f"{NSID}#commit",
            "seq": upstream_seq * OPS_PER_COMMIT + index,
            "did": did,
            "time": when,
            "witnessedAt": when,
            "rev": body["rev"],
            "operation": op["action"],
            "collection": collection,
            "rkey": rkey,
        }
        cid = op.get("cid")
        if op["action"] != "delete" and cid is not None:
            record = blocks.get(cid)
            if record is None:
                continue  # a tooBig commit without its blocks: nothing to show
            payload["cid"] = libipld.encode_cid(cid)
            payload["record"] = to_json(record)
        yield Event(payload["seq"], witnessed_us, "commit", did, collection, message_frame(payload))
