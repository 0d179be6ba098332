"""The local PDS harness itself: accounts, writes, reads, blobs and identity work."""

from __future__ import annotations

import httpx
import pytest
from pds import LocalPds, XrpcError

DOC = "site.standard.document"


def test_account_record_round_trip(pds: LocalPds) -> None:
    account = pds.create_account("harness")
    assert account.did.startswith("did:plc:")
    assert account.handle.endswith(".test")

    record = {
        "site": "https://example.com",
        "title": "Привет 👋🏽",
        "publishedAt": "2026-01-02T03:04:05.000Z",
    }
    uri, cid = pds.put_record(account, DOC, record)

    assert uri.startswith(f"at://{account.did}/{DOC}/")
    got = pds.get_record(uri)
    assert got["cid"] == cid
    assert got["value"] == {"$type": DOC, **record}


def test_put_record_with_rkey_and_without_validation(pds: LocalPds) -> None:
    account = pds.create_account("novalid")
    uri, _ = pds.put_record(account, DOC, {"title": 42}, rkey="3lbrokenrecord", validate=False)
    assert uri.endswith("/3lbrokenrecord")
    assert pds.get_record(uri)["value"]["title"] == 42


def test_pds_validates_known_lexicons(pds: LocalPds) -> None:
    account = pds.create_account("strict")
    with pytest.raises(XrpcError) as info:
        pds.put_record(
            account, DOC, {"site": "https://example.com", "title": "x", "publishedAt": "yesterday"}
        )
    assert info.value.status == 400


def test_create_records_batches_over_two_hundred(pds: LocalPds) -> None:
    account = pds.create_account("batch")
    records = [
        {"site": "https://example.com", "title": f"n{i}", "publishedAt": "2026-01-01T00:00:00Z"}
        for i in range(205)
    ]
    refs = pds.create_records(account, DOC, records)
    assert len(refs) == 205
    page = pds.query("com.atproto.repo.listRecords", repo=account.did, collection=DOC, limit=100)
    assert len(page["records"]) == 100
    assert page["cursor"]


def test_uploaded_blob_is_served_by_get_blob(pds: LocalPds) -> None:
    account = pds.create_account("blob")
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    blob = pds.upload_blob(account, data, "image/png")
    assert blob["$type"] == "blob" and blob["size"] == len(data)
    # a blob is only kept once a record references it
    pds.put_record(
        account,
        DOC,
        {
            "site": "https://example.com",
            "title": "c",
            "publishedAt": "2026-01-01T00:00:00Z",
            "coverImage": blob,
        },
    )
    response = httpx.get(
        f"{pds.pds_url}/xrpc/com.atproto.sync.getBlob",
        params={"did": account.did, "cid": blob["ref"]["$link"]},
    )
    assert response.status_code == 200
    assert response.content == data


def test_handle_and_did_resolve_through_the_local_network(pds: LocalPds) -> None:
    account = pds.create_account("ident")
    resolved = pds.query("com.atproto.identity.resolveHandle", handle=account.handle)
    assert resolved["did"] == account.did

    doc = httpx.get(f"{pds.plc_url}/{account.did}").json()
    services = {s["id"]: s["serviceEndpoint"] for s in doc["service"]}
    assert services["#atproto_pds"] == pds.pds_url
    assert f"at://{account.handle}" in doc["alsoKnownAs"]
