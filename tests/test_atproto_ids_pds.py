"""Locally computed CIDs and TIDs agree with a real PDS (the local one from the harness)."""

from __future__ import annotations

import io
from typing import Any

from pds import Account, LocalPds
from PIL import Image

from bot.atproto_ids import TidClock, record_cid

POST = "app.bsky.feed.post"


def create(pds: LocalPds, account: Account, rkey: str, record: dict[str, Any]) -> dict[str, Any]:
    (result,) = pds.apply_writes(
        account,
        [
            {
                "$type": "com.atproto.repo.applyWrites#create",
                "collection": POST,
                "rkey": rkey,
                "value": record,
            }
        ],
    )
    return result


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def test_local_cids_equal_the_pds_for_plain_blob_quote_and_reply_posts(pds: LocalPds) -> None:
    account = pds.create_account("cids")
    tids = TidClock()
    text = "Привет, мир 🌍 #тест https://example.com/a"
    tag_start = len("Привет, мир 🌍 ".encode())
    link_start = len("Привет, мир 🌍 #тест ".encode())
    plain = {
        "$type": POST,
        "text": text,
        "langs": ["ru", "en"],
        "createdAt": "2026-01-02T03:04:05.678Z",
        "facets": [
            {
                "index": {"byteStart": tag_start, "byteEnd": tag_start + len("#тест".encode())},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "тест"}],
            },
            {
                "index": {"byteStart": link_start, "byteEnd": len(text.encode())},
                "features": [
                    {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a"}
                ],
            },
        ],
    }
    first = create(pds, account, tids.next(), plain)
    assert first["cid"] == record_cid(plain)

    blob = pds.upload_blob(account, jpeg(), "image/jpeg")
    assert "$link" in blob["ref"]
    card = {
        "$type": POST,
        "text": "card",
        "createdAt": "2026-01-02T03:04:05.679Z",
        "embed": {
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": "https://example.com/a",
                "title": "Title",
                "description": "Description",
                "thumb": blob,
            },
        },
    }
    assert create(pds, account, tids.next(), card)["cid"] == record_cid(card)

    strong = {"uri": first["uri"], "cid": first["cid"]}
    quote = {
        "$type": POST,
        "text": "quote and reply",
        "createdAt": "2026-01-02T03:04:05.680Z",
        "reply": {"root": strong, "parent": strong},
        "embed": {"$type": "app.bsky.embed.record", "record": strong},
    }
    result = create(pds, account, tids.next(), quote)
    assert result["cid"] == record_cid(quote)
    assert pds.get_record(result["uri"])["cid"] == record_cid(quote)


def test_the_pds_accepts_our_tids_as_post_record_keys(pds: LocalPds) -> None:
    account = pds.create_account("tids")
    tids = TidClock()
    rkeys = [tids.next() for _ in range(3)]
    for i, rkey in enumerate(rkeys):
        record = {"$type": POST, "text": f"{i}", "createdAt": "2026-01-02T03:04:05.000Z"}
        assert create(pds, account, rkey, record)["uri"].endswith(f"/{rkey}")
