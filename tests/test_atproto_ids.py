"""TIDs and locally computed CIDs: what lets a thread be planned before it is written."""

from __future__ import annotations

from typing import Any

import libipld
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.atproto_ids import TidClock, encode_record, encode_tid, is_tid, record_cid

SORTABLE_BASE32 = "234567abcdefghijklmnopqrstuvwxyz"


def decode_tid(tid: str) -> tuple[int, int]:
    """The test's own reading of a TID, per the spec: ``(micros, clock_id)``."""
    value = 0
    for char in tid:
        value = (value << 5) | SORTABLE_BASE32.index(char)
    return value >> 10, value & 1023


POST = {
    "$type": "app.bsky.feed.post",
    "text": "Hello",
    "createdAt": "2026-01-01T00:00:00.000Z",
}


@given(st.integers(0, (1 << 53) - 1), st.integers(0, 1023))
def test_tids_round_trip_and_are_valid(micros: int, clock_id: int) -> None:
    tid = encode_tid(micros, clock_id)
    assert len(tid) == 13
    assert is_tid(tid)
    assert decode_tid(tid) == (micros, clock_id)


@given(st.integers(0, (1 << 53) - 2), st.integers(0, 1023), st.integers(0, 1023))
def test_tids_sort_as_strings_like_their_timestamps(a: int, c1: int, c2: int) -> None:
    assert encode_tid(a, c1) < encode_tid(a + 1, c2)


def test_tid_encoding_is_pinned() -> None:
    # 2023-11-14T22:13:20Z, clock id 0: the spec's layout (0 bit, 53 bits µs, 10 bits clock)
    assert encode_tid(1_700_000_000_000_000, 0) == "3ke6kg3wk2222"


def test_clock_is_strictly_monotonic_even_when_time_stands_still_or_goes_back() -> None:
    times = iter([100.0, 100.0, 100.0, 99.0, 101.0])
    clock = TidClock(lambda: next(times), clock_id=7)

    tids = [clock.next() for _ in range(5)]

    assert tids == sorted(tids)
    assert len(set(tids)) == 5
    assert all(decode_tid(t)[1] == 7 for t in tids)


def test_invalid_tids_are_rejected() -> None:
    assert not is_tid("3ke6kg3wk222")  # 12 chars
    assert not is_tid("zke6kg3wk2222")  # top bit set
    assert not is_tid("3KE6KG3WK2222")  # upper case
    with pytest.raises(ValueError):
        encode_tid(-1, 0)
    with pytest.raises(ValueError):
        TidClock(clock_id=1024)


def test_record_cid_is_a_dag_cbor_sha256_cidv1() -> None:
    cid = record_cid(POST)
    decoded = libipld.decode_cid(cid)

    assert cid.startswith("bafyrei")
    assert decoded["version"] == 1
    assert decoded["codec"] == 0x71
    assert decoded["hash"]["code"] == 0x12


def test_record_cid_ignores_key_order_and_sees_every_change() -> None:
    reordered = dict(reversed(list(POST.items())))
    assert record_cid(reordered) == record_cid(POST)
    assert record_cid({**POST, "text": "Hello!"}) != record_cid(POST)


def test_blob_links_are_hashed_as_cid_links_not_strings() -> None:
    link = "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"
    thumb = {"$type": "blob", "ref": {"$link": link}, "mimeType": "image/jpeg", "size": 10}
    record: dict[str, Any] = {
        **POST,
        "embed": {
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": "https://example.com/",
                "title": "t",
                "description": "d",
                "thumb": thumb,
            },
        },
    }

    block = encode_record(record)
    cid = record_cid(record)

    # a CID link is CBOR tag 42 (d8 2a) over the raw CID with a 0x00 prefix
    assert bytes.fromhex("d82a582500") + libipld.decode_multibase(link)[1] in block
    assert link.encode() not in block
    assert cid != record_cid(
        {
            **record,
            "embed": {
                **record["embed"],
                "external": {**record["embed"]["external"], "thumb": {**thumb, "ref": link}},
            },
        }
    )


def test_record_without_type_is_refused() -> None:
    with pytest.raises(ValueError):
        record_cid({"text": "x"})
