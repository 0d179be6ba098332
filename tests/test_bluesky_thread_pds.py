"""A composed thread published on the real local PDS: card with thumbnail and
associatedRefs, summary, link back quoting the author's announcement, tags and langs."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from bluesky_fakes import MemorySessions
from httpserver import LocalServer, Response
from pds import Account, LocalPds
from PIL import Image
from test_bluesky_pds import CountingTransport, account_settings

from bot.model import Facet, LinkCard, Post, StrongRef, Target, Thread
from bot.publish.bluesky import BlueskyPublisher

URL = "https://example.com/posts/baikal"
NOW = datetime(2026, 3, 14, 8, 0, tzinfo=UTC)


def big_cover() -> bytes:
    """A 3000×2000 noisy JPEG of several megabytes: must be shrunk to fit."""
    image = Image.frombytes("RGB", (3000, 2000), os.urandom(3000 * 2000 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def facet_for(text: str, needle: str, kind: str, value: str) -> Facet:
    start = len(text[: text.index(needle)].encode())
    return Facet(start, start + len(needle.encode()), kind, value)  # type: ignore[arg-type]


def make_thread(cover_url: str, refs: tuple[StrongRef, ...], quote: StrongRef) -> Thread:
    first = "Байкал теряет лёд 🧊 #климат #наука"
    last = f"Читать целиком: {URL}"
    return Thread(
        posts=(
            Post(
                first,
                facets=(
                    facet_for(first, "#климат", "tag", "климат"),
                    facet_for(first, "#наука", "tag", "наука"),
                ),
                card=LinkCard(URL, "Байкал теряет лёд", "Лёд встал позже.", cover_url, refs),
            ),
            Post("Лёд на Байкале этой зимой встал на три недели позже обычного."),
            Post(last, facets=(facet_for(last, URL, "link", URL),), quote=quote),
        ),
        langs=("ru",),
    )


def setup_author(pds: LocalPds) -> tuple[tuple[StrongRef, ...], StrongRef]:
    author = pds.create_account("author")
    pub_uri, pub_cid = pds.put_record(
        author, "site.standard.publication", {"url": "https://example.com", "name": "Example"}
    )
    doc_uri, doc_cid = pds.put_record(
        author,
        "site.standard.document",
        {
            "site": pub_uri,
            "path": "/posts/baikal",
            "title": "Байкал",
            "publishedAt": "2026-03-14T08:00:00.000Z",
        },
    )
    ann_uri, ann_cid = pds.put_record(
        author, "app.bsky.feed.post", {"text": "New piece!", "createdAt": "2026-03-14T08:00:00Z"}
    )
    return (StrongRef(doc_uri, doc_cid), StrongRef(pub_uri, pub_cid)), StrongRef(ann_uri, ann_cid)


def publish(
    pds: LocalPds, bot: Account, thread: Thread, transport: CountingTransport
) -> list[dict[str, Any]]:
    """prepare → write → find, as the pipeline does; the posts as the PDS stored them."""
    settings = account_settings(pds, bot)
    pub = BlueskyPublisher(
        "me",
        settings,
        MemorySessions(),
        transport=transport,
        sleep=lambda _: None,
        private_ok={"feed"},  # the cover is served on 127.0.0.1
    )
    try:
        plan = pub.prepare(thread, Target("feed", "item", URL), now=NOW)
        refs = pub.write(plan)
        assert pub.find(plan) == refs
    finally:
        pub.close()
    assert [r.cid for r in refs] == [p.cid for p in plan.posts]
    return [pds.get_record(r.uri) for r in refs]


def test_thread_with_card_thumbnail_quote_tags_and_langs(
    pds: LocalPds, http_server: LocalServer
) -> None:
    cover = big_cover()
    assert len(cover) > 1_000_000
    http_server.routes["/cover.jpg"] = Response(200, cover, {"Content-Type": "image/jpeg"})
    refs, quote = setup_author(pds)
    bot = pds.create_account("poster")
    transport = CountingTransport()
    thread = make_thread(f"{http_server.url}/cover.jpg", refs, quote)

    got = publish(pds, bot, thread, transport)

    assert transport.calls["com.atproto.repo.uploadBlob"] == 1
    assert transport.calls["com.atproto.repo.applyWrites"] == 1
    first, second, third = (g["value"] for g in got)

    # every post: the CID the PDS computed is the one we planned (checked in publish), langs
    assert all(v["langs"] == ["ru"] for v in (first, second, third))
    # facets slice exactly their #tag / URL out of the UTF-8 text
    for value, post in zip((first, second, third), thread.posts, strict=True):
        raw = value["text"].encode()
        for facet, mine in zip(value.get("facets", []), post.facets, strict=True):
            piece = raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()
            feature = facet["features"][0]
            if feature["$type"].endswith("#tag"):
                assert piece == "#" + feature["tag"] == "#" + mine.value
            else:
                assert piece == feature["uri"] == URL
    # replies chain: root is post 1, parents step one by one
    root = {"uri": got[0]["uri"], "cid": got[0]["cid"]}
    assert "reply" not in first
    assert second["reply"] == {"root": root, "parent": root}
    assert third["reply"] == {"root": root, "parent": {"uri": got[1]["uri"], "cid": got[1]["cid"]}}
    # the card: canonical URL, associatedRefs, a shrunk thumbnail blob on the PDS
    external = first["embed"]["external"]
    assert external["uri"] == URL
    assert external["associatedRefs"] == [r.to_json() for r in refs]
    thumb = external["thumb"]
    assert thumb["mimeType"] == "image/jpeg"
    assert thumb["size"] <= 1_000_000
    blob = pds.http.get(
        "/xrpc/com.atproto.sync.getBlob", params={"did": bot.did, "cid": thumb["ref"]["$link"]}
    )
    assert blob.status_code == 200
    assert len(blob.content) == thumb["size"]
    assert max(Image.open(io.BytesIO(blob.content)).size) <= 2000
    # the last post quotes the author's announcement
    assert third["embed"] == {"$type": "app.bsky.embed.record", "record": quote.to_json()}


@pytest.mark.parametrize(
    "cover",
    [
        Response(404, "gone"),
        Response(200, b"<html>not an image</html>", {"Content-Type": "image/jpeg"}),
        Response(200, b"\xff\xd8\xff\xe0" + b"\x00" * 100, {"Content-Type": "image/jpeg"}),
    ],
    ids=["missing", "not-an-image", "truncated"],
)
def test_a_bad_cover_gives_a_card_without_thumbnail_not_a_failed_post(
    pds: LocalPds, http_server: LocalServer, cover: Response
) -> None:
    http_server.routes["/cover.jpg"] = cover
    refs, quote = setup_author(pds)
    bot = pds.create_account("nocover")
    transport = CountingTransport()

    got = publish(pds, bot, make_thread(f"{http_server.url}/cover.jpg", refs, quote), transport)

    external = got[0]["value"]["embed"]["external"]
    assert "thumb" not in external
    assert external["uri"] == URL
    assert transport.calls["com.atproto.repo.uploadBlob"] == 0
    assert len(got) == 3


def test_an_unreachable_cover_host_does_not_fail_the_post(pds: LocalPds) -> None:
    refs, quote = setup_author(pds)
    bot = pds.create_account("nohost")
    transport = CountingTransport()
    # a closed port on loopback: connection refused
    got = publish(pds, bot, make_thread("http://127.0.0.1:9/cover.jpg", refs, quote), transport)

    assert "thumb" not in got[0]["value"]["embed"]["external"]
