"""The two ways an RSS or Atom document is read must agree.

Most documents take the fast path (feedparser-rs on the document cut down to its new
items); feedparser reads the rest. Whichever path a document takes, and whichever of
its items are already known, the articles must be the ones feedparser gives for the
whole document: otherwise a feed that turns odd for one poll would look edited.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import pytest

from bot.errors import RecordError
from bot.model import Article
from bot.sources.feed_parse import (
    ParsedFeed,
    _parse_fast,
    _parse_xml_feed,
    _valid_utf8,
    entry_identity,
    parse_document,
    to_article,
)

FEEDS = Path(__file__).parent / "feeds"
SUITE = FEEDS / "feedparser"  # feedparser's own well-formed test feeds (see its README)
URL = "https://feeds.example/feed.xml"

#: where feedparser-rs still reads a document differently, and why that is tolerable;
#: ``test_the_known_differences_are_still_there`` says when one can go
KNOWN_DIFFERENCES = {
    "amp/attr04.xml": "untitled, unlinked entry (never posted): its hashed id differs",
    "amp/attr06.xml": "untitled, unlinked entry (never posted): its hashed id differs",
    "atom10/entry_title_base64.xml": "mode='base64' is Atom 0.3's; it stays encoded",
    "atom10/entry_title_base64_2.xml": "mode='base64' is Atom 0.3's; it stays encoded",
    "node_precedence/atom10_title.xml": "a foreign <image><title> beats the entry's",
    "rss/item_category_image.xml": "markup inside <category> is kept as text",
}


def articles_of(parsed: ParsedFeed) -> list[Article]:
    out = []
    for entry in parsed.entries:
        with contextlib.suppress(RecordError):  # both paths refuse the same entries
            out.append(to_article("t", parsed, entry, entry_identity(entry)).article)
    return out


def both(body: bytes) -> tuple[ParsedFeed | None, ParsedFeed]:
    body = _valid_utf8(body)
    fast = _parse_fast(body, "application/xml", URL, known=frozenset())
    return fast, _parse_xml_feed("t", body, "application/xml", URL, known=frozenset())


def disagreement(fast: ParsedFeed, slow: ParsedFeed) -> str:
    if (fast.title, fast.link) != (slow.title, slow.link):
        return f"feed {(fast.title, fast.link)} != {(slow.title, slow.link)}"
    if len(fast.entries) != len(slow.entries):
        return f"{len(fast.entries)} entries != {len(slow.entries)}"
    a, b = articles_of(fast), articles_of(slow)
    if a != b:
        fields = {
            f
            for x, y in zip(a, b, strict=False)
            for f in Article.__dataclass_fields__
            if getattr(x, f) != getattr(y, f)
        }
        return f"articles differ in {sorted(fields) or 'number'}"
    return ""


SUITE_FILES = sorted(str(p.relative_to(SUITE)) for p in SUITE.rglob("*.xml"))


def test_the_suite_is_here_and_the_fast_path_takes_most_of_it() -> None:
    assert len(SUITE_FILES) > 500
    taken = [name for name in SUITE_FILES if both((SUITE / name).read_bytes())[0] is not None]
    assert len(taken) > 300  # the rest: Atom 0.3, CDF, other encodings, DTD entities, …


def test_both_paths_give_the_same_articles_on_feedparsers_own_test_feeds() -> None:
    problems = {}
    for name in SUITE_FILES:
        if name in KNOWN_DIFFERENCES:
            continue
        fast, slow = both((SUITE / name).read_bytes())
        if fast is not None and (problem := disagreement(fast, slow)):
            problems[name] = problem
    assert problems == {}


@pytest.mark.parametrize("name", sorted(KNOWN_DIFFERENCES))
def test_the_known_differences_are_still_there(name: str) -> None:
    fast, slow = both((SUITE / name).read_bytes())
    assert fast is not None and disagreement(fast, slow), "fixed upstream: drop it from the list"


XML_FIXTURES = ["rss091.xml", "rss10.rdf", "rss20.xml", "atom.xml", "ukrainian.xml", "messy.xml"]


@pytest.mark.parametrize("filename", XML_FIXTURES)
def test_the_fast_path_gives_feedparsers_articles_for_any_set_of_known_items(
    filename: str,
) -> None:
    body = (FEEDS / filename).read_bytes()
    fast, full = both(body)
    assert fast is not None and disagreement(fast, full) == ""  # rss091.xml is ISO-8859-1
    assert len(fast.keys) == len(full.entries) >= 2
    for i, key in enumerate(fast.keys):  # one item known: the document is cut
        partial = _parse_fast(body, "application/xml", URL, known={key})
        assert partial is not None and partial.keys == fast.keys
        rest = replace(full, entries=full.entries[:i] + full.entries[i + 1 :])
        assert articles_of(partial) == articles_of(rest)
        assert [e.index for e in partial.entries] == [e.index for e in rest.entries]
    everything = _parse_fast(body, "application/xml", URL, known=set(fast.keys))
    assert everything is not None and everything.entries == ()


def rss(*items: str, head: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Lab</title><link>https://lab.example/</link>{head}{''.join(items)}"
        "</channel></rss>"
    ).encode()


def item(n: int, extra: str = "", date: str = "Mon, 02 Mar 2026 10:00:00 GMT") -> str:
    return (
        f"<item><title>Note {n}</title><link>https://lab.example/{n}</link>"
        f"<guid>n{n}</guid><pubDate>{date}</pubDate><description>Text {n}.</description>"
        f"{extra}</item>"
    )


def test_links_to_private_addresses_survive() -> None:
    """feedparser-rs empties them; a feed on a LAN must still link to its posts."""
    body = rss(
        item(1).replace("https://lab.example/1", "http://10.0.0.7/notes/1"),
        item(2, '<enclosure url="http://192.168.1.5/a.jpg" type="image/jpeg" length="1"/>'),
    )
    parsed = parse_document("t", body, "application/rss+xml", URL)
    assert [e.link for e in parsed.entries] == ["http://10.0.0.7/notes/1", "https://lab.example/2"]
    assert parsed.entries[1].image == "http://192.168.1.5/a.jpg"
    assert _parse_fast(body, "application/rss+xml", URL, frozenset()) is None


def test_an_entry_dated_only_by_dcterms_is_still_dated() -> None:
    body = rss(
        item(1)
        .replace("<pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>", "")
        .replace("</item>", "<dcterms:modified>2026-03-01T09:00:00Z</dcterms:modified></item>"),
        head="",
    ).replace(
        b'<rss version="2.0">', b'<rss version="2.0" xmlns:dcterms="http://purl.org/dc/terms/">'
    )
    parsed = parse_document("t", body, "application/rss+xml", URL)
    assert parsed.entries[0].published is not None
    assert parsed.entries[0].published.isoformat() == "2026-03-01T09:00:00+00:00"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (rss(item(1)).replace(b"utf-8", b"no-such-codec"), "an unknown encoding"),
        (
            rss(item(1, "<title>\u0416</title>")).replace(b"utf-8", b"ascii"),
            "bytes that don't decode",
        ),
        (rss(item(1)).replace(b"</channel>", b"<channel>"), "not well-formed"),
        (b'<!DOCTYPE rss [<!ENTITY me "x">]>' + rss(item(1), item(2)), "DTD entities"),
        (rss(item(1), "<item><title>x</title><guid>y</guid>"), "an unclosed item"),
        (rss(item(1, "<description><![CDATA[</item>]]></description>")), "its end tag as text"),
    ],
)
def test_odd_documents_go_to_feedparser(body: bytes, why: str) -> None:
    assert _parse_fast(body, "application/rss+xml", URL, frozenset()) is None, why


CYRILLIC = "Новости Киева: метро Лыбедская закрыто до пятницы, пишет ЁЖ"


@pytest.mark.parametrize(
    ("encoding", "content_type", "declare"),
    [
        ("windows-1251", "application/rss+xml", True),
        ("koi8-r", "text/xml; charset=KOI8-R", True),
        ("windows-1251", "text/xml; charset=windows-1251", False),  # only HTTP says it
        ("iso-8859-5", "application/xml", True),
    ],
)
def test_a_legacy_encoding_is_read_by_the_fast_path_as_feedparser_reads_it(
    encoding: str, content_type: str, declare: bool
) -> None:
    text = rss(item(1, f"<description>{CYRILLIC}.</description>"), item(2)).decode()
    text = text.replace('<?xml version="1.0" encoding="utf-8"?>', "")
    if declare:
        text = f'<?xml version="1.0" encoding="{encoding}"?>' + text
    body = text.replace("<description>Text 1.</description>", "").encode(encoding)
    fast = _parse_fast(body, content_type, URL, frozenset())
    slow = _parse_xml_feed("t", body, content_type, URL, frozenset())
    assert fast is not None and disagreement(fast, slow) == ""
    assert articles_of(fast)[0].text == CYRILLIC + "."
    cut = _parse_fast(body, content_type, URL, known={fast.keys[1]})
    assert cut is not None and [a.text for a in articles_of(cut)] == [CYRILLIC + "."]


def test_an_http_charset_and_a_declaration_or_bom_that_disagree_go_to_feedparser() -> None:
    body = rss(item(1)).replace(b"utf-8", b"windows-1251")
    assert _parse_fast(body, "text/xml; charset=koi8-r", URL, frozenset()) is None
    bom = b"\xef\xbb\xbf" + rss(item(1))
    assert _parse_fast(bom, "text/xml; charset=windows-1251", URL, frozenset()) is None
    assert _parse_fast(bom, "text/xml", URL, frozenset()) is not None


def test_keys_do_not_depend_on_what_follows_an_item() -> None:
    one = _parse_fast(rss(item(2), item(1)), "", URL, frozenset())
    two = _parse_fast(rss(item(3), item(2)), "", URL, frozenset())
    assert one is not None and two is not None
    assert one.keys[0] == two.keys[1]  # item 2: first, then last in the document


def test_feedparser_gets_the_bytes_as_sent_when_http_names_another_charset() -> None:
    body = b'<rss version="2.0"><channel><title>Caf\xe9</title><item><guid>a</guid>'
    body += b"<title/></item><item><title>x</title></channel></rss>"  # broken: feedparser's
    parsed = parse_document("t", body, "text/xml; charset=windows-1252", URL)
    assert parsed.title == "Café"
