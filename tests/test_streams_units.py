"""The pure parts of the stream transports: event checks, CAR and DAG-CBOR decoding, the
SSRF dial's address checks."""

from __future__ import annotations

import base64
import datetime
import hashlib
import socket
import threading
from typing import Any

import cbor2
import libipld
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.atproto_ids import encode_record
from bot.errors import RecordError
from bot.nsids import STANDARD_DOCUMENT
from bot.streams import Op, RecordEvent, Subscription
from bot.streams.checks import checked_event, checked_seq, is_nsid, is_rkey, wanted
from bot.streams.dagcbor import (
    DAG_CBOR_SHA256,
    MAX_RECORD_BYTES,
    car_blocks,
    cid_text,
    record_json,
)
from bot.streams.dial import PrivateAddressRefused, public_socket
from bot.streams.reconnect import Pump, Tuning

DID = "did:plc:abcdefghijklmnopqrstuvwx"
CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


def _cid(block: bytes) -> bytes:
    return DAG_CBOR_SHA256 + hashlib.sha256(block).digest()


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _car(blocks: list[bytes]) -> bytes:
    header = bytes(libipld.encode_dag_cbor({"version": 1, "roots": []}))
    out = _varint(len(header)) + header
    for block in blocks:
        out += _varint(len(_cid(block)) + len(block)) + _cid(block) + block
    return out


# --- event checks -----------------------------------------------------------------------


def test_a_well_formed_create_and_delete_pass() -> None:
    record = {"$type": STANDARD_DOCUMENT, "title": "t"}
    event = checked_event(7, DID, STANDARD_DOCUMENT, "3kabc", "create", CID, record)
    assert (event.op, event.cid, event.record, event.uri) == (
        Op.CREATE,
        CID,
        record,
        f"at://{DID}/{STANDARD_DOCUMENT}/3kabc",
    )
    gone = checked_event(8, DID, STANDARD_DOCUMENT, "3kabc", "delete", "ignored", "ignored")
    assert (gone.op, gone.cid, gone.record) == (Op.DELETE, None, None)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"did": "did:plc:"}, "not a DID"),
        ({"did": 5}, "not a DID"),
        ({"collection": "document"}, "not a collection NSID"),
        ({"collection": "a." * 200 + "b"}, "not a collection NSID"),
        ({"rkey": "."}, "not a record key"),
        ({"rkey": "x" * 513}, "not a record key"),
        ({"rkey": "a b"}, "not a record key"),
        ({"op": "upsert"}, "not a create"),
        ({"cid": "no"}, "without a valid CID"),
        ({"record": "text"}, "not a JSON object"),
        ({"record": {"big": "x" * (MAX_RECORD_BYTES + 1)}}, "larger than"),
        ({"record": {"when": datetime.date(2026, 1, 1)}}, "not JSON"),
    ],
)
def test_malformed_events_are_refused_with_a_reason(fields: dict[str, Any], reason: str) -> None:
    base: dict[str, Any] = {
        "did": DID,
        "collection": STANDARD_DOCUMENT,
        "rkey": "3kabc",
        "op": "update",
        "cid": CID,
        "record": {"title": "t"},
    }
    base.update(fields)
    with pytest.raises(RecordError, match=reason):
        checked_event(1, **base)


@pytest.mark.parametrize("value", [0, -1, 2**63, True, "5", None, 1.5])
def test_a_seq_is_a_positive_64_bit_integer(value: object) -> None:
    with pytest.raises(RecordError):
        checked_seq(value)
    assert checked_seq(2**63 - 1) == 2**63 - 1


def test_syntax_of_nsids_and_record_keys() -> None:
    assert is_nsid("site.standard.document") and is_nsid("com.whtwnd.blog.entry")
    assert not is_nsid("site") and not is_nsid("site..doc") and not is_nsid("site.standard.1doc")
    assert is_rkey("3kabc") and is_rkey("self") and is_rkey("a:b~c_d-e.f")
    assert not is_rkey("..") and not is_rkey("") and not is_rkey("a/b")


def test_wanted_honours_collections_and_dids() -> None:
    some = Subscription(frozenset({STANDARD_DOCUMENT}), frozenset({DID}))
    assert wanted(some, DID, STANDARD_DOCUMENT)
    assert not wanted(some, "did:plc:other", STANDARD_DOCUMENT)
    assert not wanted(some, DID, "app.bsky.feed.post")
    everyone = Subscription(frozenset({STANDARD_DOCUMENT}), None)
    assert wanted(everyone, "did:plc:other", STANDARD_DOCUMENT)


# --- CAR and DAG-CBOR -------------------------------------------------------------------


def test_car_blocks_are_split_by_cid() -> None:
    one, two = (bytes(libipld.encode_dag_cbor({"n": n})) for n in (1, 2))
    assert car_blocks(_car([one, two])) == {_cid(one): one, _cid(two): two}


@pytest.mark.parametrize(
    "car",
    [
        b"",
        b"\x80",  # a varint that never ends
        b"\xff" * 12,  # a varint too long
        b"\x05\x00",  # a header longer than the file
        _car([]) + b"\x00",  # an empty section
        _car([]) + b"\x30" + DAG_CBOR_SHA256,  # a section longer than the file
        _car([]) + b"\x06\x01\x71\x12\x20\x00\x00",  # a CID cut short
    ],
)
def test_malformed_car_files_are_refused(car: bytes) -> None:
    with pytest.raises(RecordError):
        car_blocks(car)


def _link(text: str) -> bytes:
    return libipld.decode_multibase(text)[1]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([1, 2], "not a map"),
        ({1: "x"}, "not a string"),
        ({"t": cbor2.CBORTag(42, "not bytes")}, "malformed CID link"),
        ({"t": cbor2.CBORTag(42, b"\x01\x71")}, "malformed CID link"),  # no 0x00 prefix
        ({"t": cbor2.CBORTag(42, b"\x00\x01\x02")}, "CID is malformed"),
        ({"t": cbor2.CBORTag(7, b"")}, "CBORTag"),
        ({"t": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)}, "datetime"),
        ({"t": 2**64}, "past 64 bits"),
        ({"t": 0.5}, "float"),
    ],
)
def test_records_outside_the_data_model_are_refused(value: Any, reason: str) -> None:
    block = cbor2.dumps(value, datetime_as_timestamp=False, timezone=datetime.UTC)
    with pytest.raises(RecordError, match=reason):
        record_json(_cid(block), block)


def test_a_record_must_match_its_cid_and_fit_its_cap() -> None:
    block = bytes(libipld.encode_dag_cbor({"a": 1}))
    with pytest.raises(RecordError, match="does not match"):
        record_json(_cid(b"other"), block)
    with pytest.raises(RecordError, match="larger than"):
        big = b"\x00" * (MAX_RECORD_BYTES + 1)
        record_json(_cid(big), big)
    with pytest.raises(RecordError, match="not DAG-CBOR"):
        record_json(_cid(b"\xff"), b"\xff")


def test_a_cid_that_is_not_one_is_refused() -> None:
    with pytest.raises(RecordError):
        cid_text(b"\x01\x02")


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=20),
)
_special = st.one_of(
    st.just({"$link": CID}),
    st.binary(min_size=1, max_size=40)
    .filter(lambda b: b[:1] != b"\x01")  # not CID-shaped: libipld would encode a link
    .map(lambda b: {"$bytes": base64.b64encode(b).decode().rstrip("=")}),
)
_values = st.recursive(
    st.one_of(_json_scalars, _special),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.text(max_size=8).filter(lambda k: not k.startswith("$")), inner, max_size=4
        ),
    ),
    max_leaves=20,
)


@given(
    st.dictionaries(
        st.text(max_size=8).filter(lambda k: not k.startswith("$")), _values, max_size=6
    )
)
def test_records_read_back_as_the_json_they_were_written_from(record: dict[str, Any]) -> None:
    record = {"$type": STANDARD_DOCUMENT, **record}
    block = encode_record(record)  # the project's own lexicon JSON → DAG-CBOR
    assert record_json(_cid(block), block) == record


# --- the SSRF dial ----------------------------------------------------------------------


def test_a_socket_whose_peer_is_private_is_closed_and_refused() -> None:
    """A public name whose connection lands on loopback (a rebinding trick, a proxy)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        opened: list[socket.socket] = []

        def connect(address: tuple[str, int], timeout: float) -> socket.socket:
            assert address == ("93.184.215.14", port)  # only the checked address is dialled
            sock = socket.create_connection(("127.0.0.1", port), timeout)
            opened.append(sock)
            return sock

        with pytest.raises(PrivateAddressRefused, match=r"connected to 127\.0\.0\.1"):
            public_socket("pds.example.com", port, lambda h, p: ["93.184.215.14"], 1.0, connect)
        assert opened and opened[0].fileno() == -1  # closed


def test_unreachable_public_addresses_are_an_oserror_to_retry() -> None:
    tried: list[str] = []

    def connect(address: tuple[str, int], timeout: float) -> socket.socket:
        tried.append(address[0])
        raise ConnectionRefusedError("refused")

    addresses = ["10.0.0.1", "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    with pytest.raises(ConnectionRefusedError):
        public_socket("pds.example.com", 443, lambda h, p: addresses, 1.0, connect)
    assert tried == addresses[1:]  # the private one never


# --- the pump's bounds ------------------------------------------------------------------


def _event(seq: int) -> RecordEvent:
    return checked_event(seq, DID, STANDARD_DOCUMENT, f"3k{seq:03d}", "create", CID, {"n": seq})


def test_the_reading_thread_waits_while_undelivered_frames_hold_too_many_bytes() -> None:
    pump = Pump("firehose test", Tuning(max_queued_bytes=1000, batch_window=0.0))
    pump.put(1, [_event(1)], 700)  # one frame always fits, however large
    second_in = threading.Event()

    def reader() -> None:
        pump.put(2, [_event(2)], 700)  # 1400 > 1000: waits for the first to go
        second_in.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    assert not second_in.wait(0.5)
    events, cursor, ended = pump.gather()
    assert [e.seq for e in events] == [1] and cursor == 1 and ended is None
    assert second_in.wait(5)
    pump.put(3, [], 10**9)  # a frame without events costs nothing
    events, cursor, _ = pump.gather()
    assert [e.seq for e in events] == [2] and cursor == 3
    thread.join(5)


def test_a_waiting_reader_gives_up_when_the_stream_closes() -> None:
    pump = Pump("firehose test", Tuning(max_queued_bytes=10))
    pump.put(1, [_event(1)], 10)
    done = threading.Event()

    def reader() -> None:
        pump.put(2, [_event(2)], 10)
        done.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    assert not done.wait(0.3)
    pump.closing.set()
    assert done.wait(2)
