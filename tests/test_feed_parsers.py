"""The two ways an RSS or Atom document is read must agree.

Most documents take the fast path (feedparser-rs on the document cut down to its new
items); feedparser reads the rest. Whichever path a document takes, and whichever of
its items are already known, the articles must be the ones feedparser gives for the
whole document: otherwise a feed that turns odd for one poll would look edited.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
from collections.abc import Set as AbstractSet
from dataclasses import replace
from pathlib import Path

import pytest

from bot.errors import RecordError, SourceError
from bot.model import Article
from bot.sources.feed_parse import (
    ParsedFeed,
    _as_utf8,
    _item_spans,
    _parse_fast,
    _parse_xml_feed,
    entry_identity,
    parse_document,
    read_document,
    to_article,
)

FEEDS = Path(__file__).parent / "feeds"
SUITE = FEEDS / "feedparser"  # feedparser's own well-formed test feeds (see its README)
URL = "https://feeds.example/feed.xml"

#: where feedparser-rs still reads a document differently, and why that is tolerable;
#: ``test_the_known_differences_are_still_there`` says when one can go
KNOWN_DIFFERENCES = {
    "atom10/entry_content_text_plain_brackets.xml": "feedparser copies type='text' content "
    "into the summary as HTML and loses '<blink>'",
    "node_precedence/atom10_id.xml": "feedparser takes a foreign <image><id> over the entry's "
    "(never posted: no title or text)",
    "node_precedence/atom10_title.xml": "a foreign <image><title> beats the entry's",
    "rss/item_category_image.xml": "markup inside <category> is kept as text",
}


def articles_of(parsed: ParsedFeed) -> list[Article]:
    out = []
    for entry in parsed.entries:
        with contextlib.suppress(RecordError):  # both paths refuse the same entries
            out.append(to_article("t", parsed, entry, entry_identity(entry)).article)
    return out


def readings_of(parsed: ParsedFeed) -> list[object]:
    """Every entry, matched by position: its article, or for one that is refused (no id,
    link, title or date; no title or text) what it says, so that entries without ids
    are compared too."""
    out: list[object] = []
    for entry in parsed.entries:
        try:
            out.append(to_article("t", parsed, entry, entry_identity(entry)).article)
        except RecordError:
            try:
                out.append(to_article("t", parsed, entry, f"#{entry.index}").article)
            except RecordError:
                out.append(("nothing to read", entry.index, entry.link, entry.published))
    return out


def fast_path(
    body: bytes, content_type: str, url: str, known: AbstractSet[str]
) -> ParsedFeed | None:
    """The fast path as parse_document takes it: on the document in UTF-8."""
    utf8 = _as_utf8(body, content_type)
    return None if utf8 is None else _parse_fast(utf8, url, known)


def both(
    body: bytes, content_type: str = "application/xml"
) -> tuple[ParsedFeed | None, ParsedFeed]:
    """The fast path's reading, and feedparser's of the bytes as they came."""
    fast = fast_path(body, content_type, URL, known=frozenset())
    return fast, _parse_xml_feed("t", body, content_type, URL, known=frozenset())


def disagreement(fast: ParsedFeed, slow: ParsedFeed) -> str:
    if (fast.title, fast.link) != (slow.title, slow.link):
        return f"feed {(fast.title, fast.link)} != {(slow.title, slow.link)}"
    if len(fast.entries) != len(slow.entries):
        return f"{len(fast.entries)} entries != {len(slow.entries)}"
    a, b = readings_of(fast), readings_of(slow)
    if a != b:
        fields = {
            f
            for x, y in zip(a, b, strict=False)
            for f in Article.__dataclass_fields__
            if getattr(x, f, x) != getattr(y, f, y)
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
        partial = fast_path(body, "application/xml", URL, known={key})
        assert partial is not None and partial.keys == fast.keys
        rest = replace(full, entries=full.entries[:i] + full.entries[i + 1 :])
        assert articles_of(partial) == articles_of(rest)
        assert [e.index for e in partial.entries] == [e.index for e in rest.entries]
    everything = fast_path(body, "application/xml", URL, known=set(fast.keys))
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


def test_xml_lang_sends_rss_to_feedparser_only_where_the_fast_path_would_read_it() -> None:
    """feedparser-rs ignores xml:lang in RSS; feedparser applies it to the element's
    content. In a known item (cut out of the document) it changes nothing read."""
    tagged = item(2, '<content:encoded xml:lang="fr"><![CDATA[<p>Bonjour.</p>]]></content:encoded>')
    head = b' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    body = rss(item(1), tagged).replace(b'version="2.0"', b'version="2.0"' + head)
    assert fast_path(body, "application/xml", URL, known=frozenset()) is None
    full = _parse_xml_feed("t", body, "application/xml", URL, known=frozenset())
    assert [e.lang for e in full.entries] == ["", "fr"]
    two = rss(item(1), item(2))
    plain = fast_path(two, "application/xml", URL, known=frozenset())
    assert plain is not None and plain.keys == (_key_of(two, 0), _key_of(two, 1))
    partial = fast_path(body, "application/xml", URL, known=frozenset({_key_of(body, 1)}))
    assert partial is not None, "a known item's xml:lang sent the document to feedparser"
    assert articles_of(partial) == articles_of(replace(full, entries=full.entries[:1]))
    new_tagged = fast_path(body, "application/xml", URL, known=frozenset({_key_of(body, 0)}))
    assert new_tagged is None, "a new item's xml:lang was read by the fast path"


def _key_of(body: bytes, index: int) -> str:
    """The fast path's key of item ``index``: its bytes, hashed (checked above)."""
    return hashlib.sha1(body[slice(*_item_spans(body)[index])]).hexdigest()


def test_links_to_private_addresses_survive() -> None:
    """feedparser-rs empties them; a feed on a LAN must still link to its posts."""
    body = rss(
        item(1).replace("https://lab.example/1", "http://10.0.0.7/notes/1"),
        item(2, '<enclosure url="http://192.168.1.5/a.jpg" type="image/jpeg" length="1"/>'),
    )
    parsed = parse_document("t", body, "application/rss+xml", URL)
    assert [e.link for e in parsed.entries] == ["http://10.0.0.7/notes/1", "https://lab.example/2"]
    assert parsed.entries[1].image == "http://192.168.1.5/a.jpg"
    assert fast_path(body, "application/rss+xml", URL, frozenset()) is None


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
    assert fast_path(body, "application/rss+xml", URL, frozenset()) is None, why


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
    fast = fast_path(body, content_type, URL, frozenset())
    slow = _parse_xml_feed("t", body, content_type, URL, frozenset())
    assert fast is not None and disagreement(fast, slow) == ""
    assert articles_of(fast)[0].text == CYRILLIC + "."
    cut = fast_path(body, content_type, URL, known={fast.keys[1]})
    assert cut is not None and [a.text for a in articles_of(cut)] == [CYRILLIC + "."]


def test_an_http_charset_and_a_declaration_that_disagree_go_to_feedparser() -> None:
    body = rss(item(1)).replace(b"utf-8", b"windows-1251")
    assert fast_path(body, "text/xml; charset=koi8-r", URL, frozenset()) is None


def test_a_byte_order_mark_beats_the_http_charset() -> None:
    """As in the XML and HTML specs (feedparser lets HTTP win and gives mojibake)."""
    bom = codecs.BOM_UTF8 + rss(item(1, f"<description>{CYRILLIC}</description>"))
    for content_type in ("text/xml; charset=windows-1251", "text/xml"):
        fast = fast_path(bom, content_type, URL, frozenset())
        assert fast is not None and articles_of(fast)[0].text == CYRILLIC


def test_keys_do_not_depend_on_what_follows_an_item() -> None:
    one = fast_path(rss(item(2), item(1)), "", URL, frozenset())
    two = fast_path(rss(item(3), item(2)), "", URL, frozenset())
    assert one is not None and two is not None
    assert one.keys[0] == two.keys[1]  # item 2: first, then last in the document


def test_feedparser_gets_the_bytes_as_sent_when_http_names_another_charset() -> None:
    body = b'<rss version="2.0"><channel><title>Caf\xe9</title><item><guid>a</guid>'
    body += b"<title/></item><item><title>x</title></channel></rss>"  # broken: feedparser's
    parsed = parse_document("t", body, "text/xml; charset=windows-1252", URL)
    assert parsed.title == "Café"


# --- every encoding: the text feedparser reads when the encoding is declared -------------

FRENCH = (
    "Café crème à la gare: les trains régionaux reprennent lundi après trois semaines de "
    "travaux, annonce la société. Les usagers déçus réclament un dédommagement « équitable »."
)
RUSSIAN = (
    "Новости Киева: метро Лыбедская закрыто до пятницы, пишет газета. Пассажиров просят "
    "пользоваться автобусами, которые ходят каждые пять минут с утра до вечера."
)
UKRAINIAN = (
    "Київ: станцію метро «Либідська» закрито до п'ятниці. Пасажирів просять їздити "
    "автобусами, які ходять щоп'ятнадцять хвилин, повідомляє міська адміністрація."
)


def legacy_rss(text: str, encoding: str | None) -> bytes:
    """Two items in ``encoding``, declared so, or undeclared when None is given."""
    body = rss(item(1), item(2)).decode().replace("Note 1", text[:20])
    body = body.replace("<description>Text 1.</description>", f"<description>{text}</description>")
    declaration = '<?xml version="1.0" encoding="utf-8"?>'
    if encoding is None:
        return body.replace(declaration, "").encode()
    return body.replace(declaration, f'<?xml version="1.0" encoding="{encoding}"?>').encode(
        encoding
    )


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE),
        ("utf-8", codecs.BOM_UTF8),
    ],
)  # fmt: skip
@pytest.mark.parametrize("declared", [True, False])
def test_a_document_with_a_byte_order_mark_is_read_in_its_encoding(
    codec: str, bom: bytes, declared: bool
) -> None:
    """UTF-16 and UTF-32 were "not even XML" unless HTTP named them."""
    reference = legacy_rss(RUSSIAN, "utf-8")
    text = reference.decode()
    if declared:
        text = text.replace('encoding="utf-8"', f'encoding="{codec[:6]}"')
    else:
        text = text.replace(' encoding="utf-8"', "")
    body = bom + text.encode(codec)
    for content_type in ("application/rss+xml", "text/xml"):
        fast = fast_path(body, content_type, URL, frozenset())
        slow = _parse_xml_feed("t", reference, "application/xml", URL, frozenset())
        assert fast is not None and disagreement(fast, slow) == ""
        parsed = parse_document("t", body, content_type, URL)
        assert articles_of(parsed)[0].text == RUSSIAN


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(FRENCH, "windows-1252"), (RUSSIAN, "koi8-r"), (RUSSIAN, "windows-1251"),
     (UKRAINIAN, "windows-1251"), (FRENCH, "iso-8859-1")],
)  # fmt: skip
def test_an_undeclared_legacy_encoding_is_detected(text: str, encoding: str) -> None:
    """No charset in HTTP or XML, bytes that are not UTF-8: they came out as U+FFFD."""
    body = legacy_rss(text, None).decode().encode(encoding)
    reference = _parse_xml_feed("t", legacy_rss(text, encoding), "", URL, frozenset())
    assert articles_of(reference)[0].text == text
    fast = fast_path(body, "application/rss+xml", URL, frozenset())
    assert fast is not None and disagreement(fast, reference) == ""
    assert articles_of(parse_document("t", body, "application/rss+xml", URL))[0].text == text


def test_utf8_with_a_stray_byte_stays_utf8() -> None:
    """One bad byte in a UTF-8 feed is replaced; the rest is not read as windows-1252."""
    body = legacy_rss(RUSSIAN, None).replace("пишет".encode(), b"\xff")
    (article, _) = articles_of(parse_document("t", body, "", URL))
    assert article.text == RUSSIAN.replace("пишет", "\ufffd")


# --- the cases of issue 12, each as feedparser reads it --------------------------------

XHTML = ' xmlns:xhtml="http://www.w3.org/1999/xhtml"'
#: name → (document, the link and text feedparser gives its first entry)
ISSUE_CASES = {
    "xhtml body": (
        rss(item(1, "<xhtml:body><p>The whole story, told in full.</p></xhtml:body>")).replace(
            b'version="2.0"', b'version="2.0"' + XHTML.encode()
        ),
        "https://lab.example/1",
        "The whole story, told in full.",
    ),
    "fullitem": (
        rss(item(1, "<fullitem>&lt;p&gt;The whole story, told in full.&lt;/p&gt;</fullitem>")),
        "https://lab.example/1",
        "The whole story, told in full.",
    ),
    "bare content": (
        rss(item(1, "<content>The whole story, told in full.</content>")),
        "https://lab.example/1",
        "The whole story, told in full.",
    ),
    "bare summary after the description": (
        rss(item(1, "<summary>The whole story, told in full.</summary>")),
        "https://lab.example/1",
        "The whole story, told in full.",
    ),
    "invalid link": (
        rss(
            item(1).replace("https://lab.example/1", "http://[bad/").replace(">n1<", ">urn:n1<")
        ).replace(b'<rss version="2.0">', b'<rss version="2.0" xml:base="https://lab.example/">'),
        "",
        "Text 1.",
    ),
    "an image for a title": (
        rss(item(1).replace("Note 1", '&lt;img src="x.png"&gt;')),
        "https://lab.example/1",
        "Text 1.",
    ),
}


@pytest.mark.parametrize("case", sorted(ISSUE_CASES))
def test_each_case_of_the_issue_reads_as_feedparser_reads_it(case: str) -> None:
    body, link, text = ISSUE_CASES[case]
    fast, slow = both(body, "application/rss+xml")
    assert fast is None or disagreement(fast, slow) == ""
    parsed = parse_document("t", body, "application/rss+xml", URL)
    assert readings_of(parsed) == readings_of(slow)
    (article, *_) = articles_of(parsed)
    assert (article.url, article.text) == (link, text)
    assert article.title != '<img src="x.png">'


def test_an_entry_without_id_or_link_has_the_same_id_on_both_paths() -> None:
    """Hashed from its title's text and parsed date, not from how a parser wrote them."""
    odd = item(1).replace("<link>https://lab.example/1</link><guid>n1</guid>", "")
    odd = odd.replace("Note 1", "Fish &amp;amp; &lt;b&gt;chips&lt;/b&gt;")
    body = rss(odd, item(2))
    fast, slow = both(body)
    assert fast is not None and disagreement(fast, slow) == ""
    assert articles_of(fast)[0].id.startswith("sha256:")


def test_a_float_json_feed_id_is_its_string_form() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": ['
    body += b'{"id": 1.5, "title": "A", "content_text": "x"}, {"id": true, "title": "B"}]}'
    parsed = parse_document("t", body, "application/feed+json", URL)
    assert [e.id for e in parsed.entries] == ["1.5", ""]


def test_a_cdf_channel_without_items_is_an_empty_feed() -> None:
    body = b'<?xml version="1.0"?><CHANNEL HREF="https://lab.example/"><TITLE>Lab</TITLE></CHANNEL>'
    assert parse_document("t", body, "application/xml", URL).entries == ()


def test_no_feed_file_raises_anything_but_a_one_line_source_error() -> None:
    """Every file the tests hold, as any path reads it: a reading or a SourceError."""
    for path in sorted(FEEDS.rglob("*")):
        if not path.is_file():
            continue
        for content_type in ("application/xml", "text/xml; charset=utf-16"):
            try:
                read_document("t", path.read_bytes(), content_type, URL, frozenset())
            except SourceError as exc:
                assert "\n" not in str(exc), path


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_high_bit_date_in_a_feed_without_items_is_an_empty_feed(encoding: str) -> None:
    """Served as text/xml with no charset, feedparser took it for US-ASCII, complained,
    and the empty feed was reported as "malformed XML"."""
    body = rss(head="<lastBuildDate>Mon, 02 Mär 2026</lastBuildDate>").decode().encode(encoding)
    body = body.replace(b' encoding="utf-8"', b"")
    assert parse_document("t", body, "text/xml", URL).entries == ()


IMAGE = "<image><url>https://img.example/a.png</url><title>Logo</title><link>https://img.example/</link></image>"


@pytest.mark.parametrize("linked", [True, False])
def test_an_image_inside_an_item_lends_it_no_title_link_or_id(linked: bool) -> None:
    """feedparser took the image's <title> (and so the hashed id) for the item's."""
    entry = item(1).replace("<guid>n1</guid>", "").replace("</title>", "</title>" + IMAGE)
    if not linked:
        entry = entry.replace("<link>https://lab.example/1</link>", "")
    fast, slow = both(rss(entry, item(2)))
    assert fast is not None and disagreement(fast, slow) == ""
    (article, _) = articles_of(slow)
    assert article.title == "Note 1"
    assert article.url == ("https://lab.example/1" if linked else "")


def test_an_rss_1_item_with_a_guid_or_enclosure_goes_to_feedparser() -> None:
    """feedparser reads RSS 2.0's <guid> and <enclosure> in RSS 1.0; feedparser-rs not."""
    body = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>x</title></channel>'
        b"<item><title>T</title><guid>g</guid></item></rdf:RDF>"
    )
    assert fast_path(body, "", URL, frozenset()) is None
    assert [e.id for e in parse_document("t", body, "", URL).entries] == ["g"]
