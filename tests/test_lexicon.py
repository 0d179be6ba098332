from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.lexicon import check_post_record, format_datetime, post_record
from bot.model import Facet, LinkCard, Post, StrongRef

WHEN = datetime(2026, 5, 28, 11, 45, 3, 123456, tzinfo=UTC)
ROOT = StrongRef("at://did:plc:abc/app.bsky.feed.post/3root", "bafyroot")
PARENT = StrongRef("at://did:plc:abc/app.bsky.feed.post/3parent", "bafyparent")
QUOTE = StrongRef("at://did:plc:xyz/app.bsky.feed.post/3quote", "bafyquote")
DOC = StrongRef("at://did:plc:xyz/site.standard.document/3doc", "bafydoc")
CARD = LinkCard(uri="https://example.com/a", title="Title", description="Desc", refs=(DOC,))
THUMB = {
    "$type": "blob",
    "ref": {"$link": "bafkreibjxmwqhh6jiqr3z4oh66i5ut2ru7w4qx6mbmzmi44psluzs4qm7i"},
    "mimeType": "image/jpeg",
    "size": 712641,
}
TEXT = "Читать: example.com/a… #космос #feedbot"


def facets_for(text: str) -> tuple[Facet, ...]:
    data = text.encode("utf-8")
    link = "example.com/a…".encode()
    start = data.index(link)
    tag1 = data.index("#космос".encode())
    tag2 = data.index(b"#feedbot")
    return (
        Facet(tag2, tag2 + len(b"#feedbot"), "tag", "feedbot"),
        Facet(start, start + len(link), "link", "https://example.com/a"),
        Facet(tag1, tag1 + len("#космос".encode()), "tag", "космос"),
    )


def good_record() -> dict[str, Any]:
    post = Post(TEXT, facets_for(TEXT), card=CARD, quote=QUOTE)
    return post_record(
        post, langs=["ru"], created_at=WHEN, reply=(ROOT, PARENT), thumb=copy.deepcopy(THUMB)
    )


# --- building records ------------------------------------------------------------


def test_plain_post_record_has_only_what_is_set() -> None:
    record = post_record(Post("hello"), langs=[], created_at=WHEN)
    assert record == {
        "$type": "app.bsky.feed.post",
        "text": "hello",
        "createdAt": "2026-05-28T11:45:03.123Z",
    }


def test_created_at_is_utc_with_milliseconds_and_z() -> None:
    plus5 = timezone(timedelta(hours=5))
    assert format_datetime(datetime(2026, 1, 1, 5, 0, tzinfo=plus5)) == "2026-01-01T00:00:00.000Z"
    with pytest.raises(ValueError):
        format_datetime(datetime(2026, 1, 1))


def test_facets_are_sorted_and_in_lexicon_form() -> None:
    record = good_record()
    assert [f["index"]["byteStart"] for f in record["facets"]] == sorted(
        f["index"]["byteStart"] for f in record["facets"]
    )
    link = record["facets"][0]
    assert link["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a"}
    ]
    assert record["facets"][1]["features"] == [
        {"$type": "app.bsky.richtext.facet#tag", "tag": "космос"}
    ]


def test_reply_names_root_then_parent() -> None:
    record = post_record(Post("x"), langs=["en"], created_at=WHEN, reply=(ROOT, PARENT))
    assert list(record["reply"]) == ["root", "parent"]
    assert record["reply"]["root"] == {"uri": ROOT.uri, "cid": ROOT.cid}
    assert record["reply"]["parent"] == {"uri": PARENT.uri, "cid": PARENT.cid}
    assert record["langs"] == ["en"]


def test_card_becomes_an_external_embed_with_thumb_and_associated_refs() -> None:
    record = post_record(Post("x", card=CARD), langs=[], created_at=WHEN, thumb=THUMB)
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": CARD.uri,
            "title": CARD.title,
            "description": CARD.description,
            "thumb": THUMB,
            "associatedRefs": [{"uri": DOC.uri, "cid": DOC.cid}],
        },
    }


def test_card_without_refs_or_thumb_has_neither_key() -> None:
    card = LinkCard(uri="https://example.com/a", title="T", description="")
    external = post_record(Post("x", card=card), langs=[], created_at=WHEN)["embed"]["external"]
    assert set(external) == {"uri", "title", "description"}


def test_quote_becomes_a_record_embed() -> None:
    record = post_record(Post("x", quote=QUOTE), langs=[], created_at=WHEN)
    assert record["embed"] == {
        "$type": "app.bsky.embed.record",
        "record": {"uri": QUOTE.uri, "cid": QUOTE.cid},
    }


def test_card_and_quote_together_become_record_with_media() -> None:
    embed = good_record()["embed"]
    assert embed["$type"] == "app.bsky.embed.recordWithMedia"
    assert embed["record"] == {
        "$type": "app.bsky.embed.record",
        "record": {"uri": QUOTE.uri, "cid": QUOTE.cid},
    }
    assert embed["media"]["$type"] == "app.bsky.embed.external"
    assert embed["media"]["external"]["thumb"] == THUMB


def test_thumb_without_a_card_is_a_caller_error() -> None:
    with pytest.raises(ValueError):
        post_record(Post("x"), langs=[], created_at=WHEN, thumb=THUMB)


# --- checking records ------------------------------------------------------------


def test_good_record_has_no_problems() -> None:
    assert check_post_record(good_record()) == []


def test_text_of_exactly_300_graphemes_and_3000_bytes_is_fine() -> None:
    record = post_record(Post("ж" * 300), langs=[], created_at=WHEN)
    assert check_post_record(record) == []
    record = post_record(Post("漢" * 300), langs=[], created_at=WHEN)
    assert check_post_record(record) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(record: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = record
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is _DELETE:
            del target[last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


_DELETE = object()
FAMILY = "👩\u200d👩\u200d👧\u200d👦"

BAD: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "wrong type": (_set("$type", "app.bsky.feed.like"), "$type"),
    "unknown key": (_set("extra", 1), "unknown keys"),
    "no text": (_set("text", _DELETE), "text is missing"),
    "301 graphemes": (_set("text", "a" * 301), "301 graphemes"),
    "over 3000 bytes": (_set("text", FAMILY * 200), "bytes"),
    "no createdAt": (_set("createdAt", _DELETE), "createdAt is missing"),
    "bad createdAt": (_set("createdAt", "yesterday"), "createdAt"),
    "naive createdAt": (_set("createdAt", "2026-05-28T11:45:03"), "createdAt"),
    "four langs": (_set("langs", ["en", "ru", "uk", "kk"]), "4 langs"),
    "bad lang": (_set("langs", ["english language"]), "not a language tag"),
    "facet past the end": (_set("facets/0/index/byteEnd", 10_000), "outside"),
    "empty facet": (_set("facets/0/index/byteEnd", 0), "empty"),
    "negative facet": (_set("facets/0/index/byteStart", -1), "outside"),
    "facet inside a character": (_set("facets/1/index/byteEnd", 33), "boundaries"),
    "non-integer offset": (_set("facets/0/index/byteStart", "0"), "integers"),
    "overlapping facets": (_set("facets/2/index/byteStart", 0), "overlap"),
    "facet without features": (_set("facets/0/features", []), "no features"),
    "unknown feature": (_set("facets/0/features/0/$type", "x#y"), "unknown feature"),
    "link not http": (_set("facets/0/features/0/uri", "javascript:alert(1)"), "http(s)"),
    "tag slice mismatch": (_set("facets/2/features/0/tag", "другое"), "expected"),
    "tag too long": (_set("facets/2/features/0/tag", "a" * 65), "64 graphemes"),
    "tag with space": (_set("facets/2/features/0/tag", "feed bot"), "whitespace"),
    "tag with hash": (_set("facets/2/features/0/tag", "#feedbot"), "starts with '#'"),
    "empty tag": (_set("facets/2/features/0/tag", ""), "empty"),
    "reply without root": (_set("reply/root", _DELETE), "reply.root"),
    "reply parent not at-uri": (_set("reply/parent/uri", "https://x"), "reply.parent.uri"),
    "reply without cid": (_set("reply/root/cid", ""), "cid"),
    "unsupported embed": (_set("embed/$type", "app.bsky.embed.images"), "unsupported"),
    "card uri not http": (_set("embed/media/external/uri", "ftp://x"), "http(s)"),
    "card without title": (_set("embed/media/external/title", _DELETE), "title"),
    "thumb too big": (_set("embed/media/external/thumb/size", 2_000_000), "size"),
    "thumb not image": (_set("embed/media/external/thumb/mimeType", "text/html"), "image"),
    "thumb not a blob": (_set("embed/media/external/thumb", {"x": 1}), "not a blob"),
    "bad associated ref": (
        _set("embed/media/external/associatedRefs/0", {"uri": "x"}),
        "associatedRefs[0]",
    ),
    "quote without cid": (_set("embed/record/record/cid", _DELETE), "cid"),
    "media not external": (_set("embed/media/$type", "app.bsky.embed.images"), "media"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_check_post_record_catches(case: str) -> None:
    mutate, expected = BAD[case]
    record = good_record()
    mutate(record)
    problems = check_post_record(record)
    assert problems, f"{case} went unnoticed"
    assert any(expected in p for p in problems), problems


# --- properties ------------------------------------------------------------------

PIECES = ["a", "ж", "e\u0301", "🙂", "👍🏽", FAMILY, "🇰🇿", "漢", "ب", "ש", " ", "#"]


@settings(max_examples=100)
@given(
    text=st.lists(st.sampled_from(PIECES), max_size=120).map("".join),
    cuts=st.lists(st.integers(0, 400), max_size=6),
)
def test_checker_accepts_exactly_facets_on_character_boundaries(text: str, cuts: list[int]) -> None:
    """A link facet over any byte span is accepted iff the span is non-empty, inside
    the text, on character boundaries and not overlapping another."""
    data = text.encode("utf-8")
    points = sorted(set(cuts))
    spans = list(zip(points[::2], points[1::2], strict=False))
    facets = tuple(Facet(s, e, "link", "https://example.com") for s, e in spans)
    record = post_record(Post(text, facets), langs=["en"], created_at=WHEN)
    problems = check_post_record(record)

    def boundary(i: int) -> bool:
        return i <= len(data) and (i == len(data) or data[i] & 0xC0 != 0x80)

    valid = all(s < e <= len(data) and boundary(s) and boundary(e) for s, e in spans)
    assert (problems == []) == valid, problems
