"""Parsing long-form records into articles: hand-written records, no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.errors import NotPublic, RecordError
from bot.markdown import strip_markdown
from bot.model import StrongRef
from bot.sources.atproto_records import (
    Publication,
    Repo,
    article,
    content_text,
    leaflet_text,
    parse_datetime,
    publication,
)

DID = "did:plc:abcdefghijklmnopqrstuvwx"
REPO = Repo(did=DID, pds="https://pds.example.com", handle="alice.example.com")
DOC_URI = f"at://{DID}/site.standard.document/3lkdoc2aaaa22"
PUB_URI = f"at://{DID}/site.standard.publication/3lkpub2aaaa22"
LEAFLET_PUB_URI = f"at://{DID}/pub.leaflet.publication/3lkpub2bbbb22"
SEED = Path(__file__).resolve().parent / "data" / "seeds" / "standard-site-document.json"

PUBLICATIONS = {
    PUB_URI: Publication(PUB_URI, "bafypub", "https://blog.example.com", "Example Blog"),
    LEAFLET_PUB_URI: Publication(LEAFLET_PUB_URI, "bafyleaf", "https://notes.leaflet.pub", "Notes"),
}


def lookup(uri: str) -> Publication:
    try:
        return PUBLICATIONS[uri]
    except KeyError:
        raise RecordError(f"publication {uri} not found") from None


def doc(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "$type": "site.standard.document",
        "site": "https://example.com",
        "title": "A title",
        "publishedAt": "2026-05-28T11:45:00.000Z",
    }
    return {k: v for k, v in {**base, **fields}.items() if v is not None}


def parse(value: Any, uri: str = DOC_URI) -> Any:
    return article("feed", REPO, uri, "bafydoc", value, lookup)


def test_real_seed_record_becomes_a_complete_article() -> None:
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    got = parse(seed)
    assert (
        got.url == "https://vlast.kz/english/69541-kazakhstan-and-russia-renew-friendship-vows.html"
    )
    assert got.title == "Kazakhstan and Russia Renew Friendship Vows"
    assert got.text.startswith("Russia’s President Vladimir Putin flew to Astana")
    assert got.published == datetime(2026, 5, 28, 11, 45, tzinfo=UTC)
    assert got.tags == ("Vlast English",)
    assert got.cover_url == (
        "https://pds.example.com/xrpc/com.atproto.sync.getBlob?did=did%3Aplc%3Aabcdefghijklmnopqrstuvwx"
        "&cid=bafkreibjxmwqhh6jiqr3z4oh66i5ut2ru7w4qx6mbmzmi44psluzs4qm7i"
    )
    assert got.refs == (StrongRef(DOC_URI, "bafydoc"),)  # an https site has no publication
    assert got.quote == StrongRef(
        "at://did:plc:av64nrsc7sczp26nmabnikse/app.bsky.feed.post/3mmvxdvqc3qj2",
        "bafyreihoi2luzfyyurzqgw3kxjyfngh2cyuh5dazzsmk3t4vux7qjpkaei",
    )


def test_publication_site_gives_url_name_and_both_refs() -> None:
    got = parse(doc(site=PUB_URI, path="/2026/hello"))
    assert got.url == "https://blog.example.com/2026/hello"
    assert got.site_name == "Example Blog"
    assert got.refs == (StrongRef(DOC_URI, "bafydoc"), StrongRef(PUB_URI, "bafypub"))


def test_https_site_trailing_slash_and_path_without_slash_join_cleanly() -> None:
    assert parse(doc(site="https://example.com/", path="post")).url == "https://example.com/post"
    assert parse(doc(site="https://example.com/")).url == "https://example.com"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": None}, "missing title"),
        ({"title": "   "}, "empty title"),
        ({"title": 7}, "title is int"),
        ({"publishedAt": "yesterday"}, "publishedAt is not an RFC 3339"),
        ({"publishedAt": "2026-05-28T11:45:00"}, "publishedAt is not an RFC 3339"),  # no zone
        ({"publishedAt": None}, "missing publishedAt"),
        ({"site": "http://example.com"}, "neither an at:// publication nor an https URL"),
        ({"site": "ftp://x"}, "neither"),
        ({"site": f"at://{DID}/site.standard.publication/missing"}, "not found"),
        ({"tags": "news"}, "tags is not a list"),
        ({"coverImage": "cover.jpg"}, "coverImage is not a blob"),
        ({"bskyPostRef": {"uri": "https://bsky.app/x"}}, "has no cid"),
        ({"updatedAt": "soon"}, "updatedAt"),
    ],
)
def test_malformed_document_is_refused_with_a_reason(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        parse(doc(**fields))


def test_record_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(RecordError, match="not an object"):
        parse(["title"])


def test_text_prefers_text_content_then_description_then_content() -> None:
    full = doc(textContent="Plain body.", description="Short.", content={"markdown": "# Md"})
    assert parse(full).text == "Plain body."
    assert parse(doc(description="Short.", content={"markdown": "**Md**"})).text == "Short."
    assert (
        parse(doc(content={"$type": "x.y.markdown", "markdown": "**Md** text"})).text == "Md text"
    )
    assert parse(doc()).text == ""


def test_dates_become_utc_aware_whatever_their_offset_and_precision() -> None:
    assert parse_datetime("2026-01-02T03:04:05.123456789+02:00") == datetime(
        2026, 1, 2, 1, 4, 5, 123456, tzinfo=UTC
    )
    got = parse(doc(publishedAt="2026-01-02T05:00:00+05:00", updatedAt="2026-01-03T00:00:00Z"))
    assert got.published == datetime(2026, 1, 2, 0, 0, tzinfo=UTC)
    assert got.updated == datetime(2026, 1, 3, tzinfo=UTC)


def test_tags_lose_leading_hash_blanks_and_duplicates() -> None:
    assert parse(doc(tags=["#news", "news", " ", "Байкал"])).tags == ("news", "Байкал")


def test_unicode_titles_are_kept_exactly() -> None:
    title = "Запуск 🚀👩🏽‍🚀 — e\u0301te\u0301 Ṩ"
    assert parse(doc(title=title)).title == title


def test_markdown_is_stripped_to_what_a_reader_sees() -> None:
    md = (
        "# Heading #\n\nSome **bold**, *em*, _also em_, ~~gone~~ and `code`.\n\n"
        "> quoted line\n\n- item one\n- [x] item two\n1. first\n\n"
        "A [link](https://example.com) and ![alt text](img.png) and <https://x.org>.\n\n"
        "```python\nprint('hi')\n```\n\n---\n\n[ref]: https://example.com\n"
        "snake_case_name and 2*3*4 stay.<br>"
    )
    assert strip_markdown(md) == (
        "Heading\n\nSome bold, em, also em, gone and code.\n\nquoted line\n\n"
        "item one\nitem two\nfirst\n\nA link and and https://x.org.\n\n"
        "print('hi')\n\nsnake_case_name and 2*3*4 stay."
    )


def test_content_union_shapes() -> None:
    assert content_text("## Title\ntext") == "Title\ntext"
    assert content_text({"plaintext": " a\r\nb "}) == "a\nb"
    assert content_text({"$type": "pub.leaflet.content", "pages": [_leaflet_page("Hi")]}) == "Hi"
    assert content_text({"$type": "unknown.blob"}) == ""
    assert content_text(42) == ""


def _leaflet_page(*texts: str, kind: str = "pub.leaflet.blocks.text") -> dict[str, Any]:
    return {
        "$type": "pub.leaflet.pages.linearDocument",
        "blocks": [
            {
                "$type": "pub.leaflet.pages.linearDocument#block",
                "block": {"$type": kind, "plaintext": t},
            }
            for t in texts
        ],
    }


def test_leaflet_text_takes_text_header_and_blockquote_blocks_in_order() -> None:
    pages = [
        _leaflet_page("Title", kind="pub.leaflet.blocks.header"),
        _leaflet_page("Para one.", "  "),
        {"blocks": [{"block": {"$type": "pub.leaflet.blocks.image", "plaintext": "no"}}]},
        _leaflet_page("Said.", kind="pub.leaflet.blocks.blockquote"),
        {"$type": "pub.leaflet.pages.canvas"},
    ]
    assert leaflet_text(pages) == "Title\n\nPara one.\n\nSaid."


def test_leaflet_document_url_is_base_path_plus_rkey() -> None:
    uri = f"at://{DID}/pub.leaflet.document/3lkleaf2cccc2"
    value = {
        "$type": "pub.leaflet.document",
        "title": "Leaf",
        "author": DID,
        "publication": LEAFLET_PUB_URI,
        "pages": [_leaflet_page("Body.")],
        "publishedAt": "2026-02-03T04:05:06Z",
        "postRef": {"uri": f"at://{DID}/app.bsky.feed.post/3lkpost", "cid": "bafypost"},
    }
    got = article("feed", REPO, uri, "bafyleafdoc", value, lookup)
    assert got.url == "https://notes.leaflet.pub/3lkleaf2cccc2"
    assert got.text == "Body."
    assert got.site_name == "Notes"
    assert got.refs[1] == StrongRef(LEAFLET_PUB_URI, "bafyleaf")
    assert got.quote == StrongRef(f"at://{DID}/app.bsky.feed.post/3lkpost", "bafypost")


def test_leaflet_document_must_point_at_a_leaflet_publication() -> None:
    uri = f"at://{DID}/pub.leaflet.document/3lkleaf2cccc2"
    value = {"title": "Leaf", "author": DID, "publication": PUB_URI, "pages": []}
    with pytest.raises(RecordError, match=r"not a pub\.leaflet\.publication"):
        article("feed", REPO, uri, "bafy", value, lookup)


def test_publication_records_need_an_https_base() -> None:
    std = publication(PUB_URI, "c", {"url": "https://a.example/", "name": "A"})
    assert std.url == "https://a.example"
    leaf = publication(LEAFLET_PUB_URI, "c", {"base_path": "me.leaflet.pub", "name": "L"})
    assert leaf.url == "https://me.leaflet.pub"
    with pytest.raises(RecordError, match="not an https URL"):
        publication(PUB_URI, "c", {"url": "javascript:alert(1)", "name": "A"})
    with pytest.raises(RecordError, match="missing url"):
        publication(PUB_URI, "c", {"name": "A"})


WHTWND_URI = f"at://{DID}/com.whtwnd.blog.entry/3lkwind2dddd2"


def test_whtwnd_public_entry_is_markdown_with_whtwnd_url() -> None:
    value = {
        "content": "## Intro\n\nHello **world**.",
        "title": "Wind",
        "createdAt": "2026-03-04T05:06:07Z",
        "ogp": {"url": "https://img.example/og.png"},
    }
    got = article("feed", REPO, WHTWND_URI, "bafywind", value, lookup)
    assert got.url == "https://whtwnd.com/alice.example.com/3lkwind2dddd2"
    assert got.text == "Intro\n\nHello world."
    assert got.cover_url == "https://img.example/og.png"
    assert got.published == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_whtwnd_entry_without_title_takes_its_first_line_and_did_url() -> None:
    repo = Repo(did=DID, pds="https://pds.example.com")
    got = article("feed", repo, WHTWND_URI, "c", {"content": "# First line\n\nrest"}, lookup)
    assert got.title == "First line"
    assert got.url == f"https://whtwnd.com/{DID}/3lkwind2dddd2"


@pytest.mark.parametrize("visibility", ["url", "author"])
def test_whtwnd_non_public_entries_are_skipped(visibility: str) -> None:
    with pytest.raises(NotPublic, match="not public"):
        article("feed", REPO, WHTWND_URI, "c", {"content": "x", "visibility": visibility}, lookup)
