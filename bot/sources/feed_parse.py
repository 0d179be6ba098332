"""Feed documents (bytes) → entries → ``Article``: pure, no I/O, no clock.

RSS 0.9x/1.0/2.0 and Atom: a well-formed UTF-8 document, cut down to its new items,
goes through feedparser-rs (compiled, feedparser's API); anything odd goes through
feedparser, which knows two decades of broken feeds. JSON Feed is plain JSON and is
read directly. All end up as ``RawEntry`` so that identity, titles, text, dates and
images are decided in one place; tests/test_feed_parsers.py keeps the two XML paths
giving the same articles.

A document that is not a feed at all raises ``SourceError``; one bad entry raises
``RecordError`` from ``to_article`` and the caller skips it.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import itertools
import json
import pyexpat
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
import feedparser_rs

from bot.errors import RecordError, SourceError
from bot.model import Article
from bot.sources.feed_text import first_sentence, html_to_text, iso639_1, plain_text
from bot.untrusted import MAX_RAW_CHARS, checked_article, log_safe, parse_json, to_utc

#: bump when the mapping from entries to articles changes, so stored fingerprints expire
PARSER_VERSION = 3

_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)""")
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.-]+)", re.IGNORECASE)
_IMAGE_EXT = re.compile(r"\.(jpe?g|png|gif|webp|avif)(\?|$)", re.IGNORECASE)


@dataclass(frozen=True)
class RawEntry:
    """One entry as the document states it, before any clean-up."""

    index: int
    id: str
    link: str
    title: str
    title_html: bool
    content: str
    content_html: bool
    summary: str
    summary_html: bool
    published: datetime | None
    updated: datetime | None
    date_raw: str  # the date as written, for identity when nothing else identifies it
    tags: tuple[str, ...]
    lang: str
    image: str
    #: what the cursor remembers: a hash of the item as written (or of what it says)
    key: str = ""
    author: str = ""  # the author's name as the entry gives it

    def fingerprint(self) -> str:
        """A short hash of everything the entry says, for documents without a raw-item key."""
        data = repr(
            (
                self.id, self.link, self.title, self.content, self.summary, self.date_raw,
                self.published, self.updated, self.tags, self.lang, self.image,
            )
        )  # fmt: skip
        return hashlib.blake2b(data.encode("utf-8", "replace"), digest_size=8).hexdigest()


@dataclass(frozen=True)
class ParsedFeed:
    """The feed's own fields, the entries not ``known`` yet, and every entry's key."""

    title: str
    link: str
    lang: str
    entries: tuple[RawEntry, ...]
    keys: tuple[str, ...] = ()
    #: the feed's author: an entry without its own has this one (Atom's rule)
    author: str = ""
    #: keys are hashes of the items as written (the shortcut read it); else of what
    #: each entry says, which costs a whole parse to learn
    cheap_keys: bool = False


# --- documents -------------------------------------------------------------------------


def parse_document(
    name: str, body: bytes, content_type: str, url: str, known: AbstractSet[str] = frozenset()
) -> ParsedFeed:
    """Parse a fetched document; ``url`` is where it was fetched from (the base for links).

    Entries whose key is in ``known`` (the keys of an earlier poll) are left out of
    ``entries`` and, where possible, never handed to feedparser at all.
    """
    if not body or body.isspace():
        raise SourceError(f"feed {name}: empty response from {url}")
    # The body decides, not the Content-Type: servers label feeds wrongly all the time.
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{") or ("json" in content_type.lower() and not head.startswith(b"<")):
        return _parse_json_feed(name, body, url, known)
    utf8 = _as_utf8(body, content_type)
    if utf8 is None:  # declarations that disagree or lie: feedparser's rules decide
        return _parse_xml_feed(name, body, content_type, url, known)
    fast = _parse_fast(utf8, url, known)
    if fast is not None:
        return fast
    # UTF-8 now, and said so: text/xml without a charset would be US-ASCII to feedparser
    # (RFC 3023), and one high-bit byte in a date made an empty feed "malformed XML"
    media = content_type.split(";", 1)[0].strip() or "application/xml"
    return _parse_xml_feed(name, utf8, f"{media}; charset=utf-8", url, known)


def _feedparser(body: bytes, content_type: str) -> Any:
    # A stream, never bytes or str: given those, feedparser may open a file or a URL.
    # No content-location either: feedparser would resolve a bare <guid> against it, and
    # ids must not change when the feed moves. Links are made absolute by _absolute.
    return feedparser.parse(
        io.BytesIO(_no_bad_char_refs(body)),
        response_headers={"content-type": content_type or "application/xml"},
        resolve_relative_uris=False,
        sanitize_html=False,
    )


_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _no_bad_char_refs(body: bytes) -> bytes:
    """Character references to surrogates, NUL or past U+10FFFF (``&#xD800;``) made
    U+FFFD: feedparser's lenient parser raises on them, losing the whole document."""
    if b"&#" not in body:
        return body

    def fix(match: re.Match[bytes]) -> bytes:
        hex_digits, digits = match.groups()
        point = int(hex_digits, 16) if hex_digits else int(digits)
        bad = point == 0 or 0xD800 <= point <= 0xDFFF or point > 0x10FFFF
        return b"&#xFFFD;" if bad else match.group()

    return _CHAR_REF.sub(fix, body)


#: a Channel Definition Format document's root (after any prolog)
_CDF_ROOT = re.compile(rb"(?:\s|<\?[^>]*>|<!--.*?-->|<!DOCTYPE[^>]*>)*<channel[\s>]", re.I | re.S)


def _parse_xml_feed(
    name: str, body: bytes, content_type: str, url: str, known: AbstractSet[str]
) -> ParsedFeed:
    """The whole document through feedparser; entries are keyed by what they say."""
    result = _feedparser(_without_item_images(body), content_type)
    entries = result.get("entries") or []
    empty_cdf = not result.get("bozo") and _CDF_ROOT.match(body)  # CDF has no version
    if not entries and (result.get("bozo") or not result.get("version")) and not empty_cdf:
        raise SourceError(f"feed {name}: {_not_a_feed(body, content_type, result)} at {url}")
    raw = [_raw_entry(i, e, _feed_lang(result), url) for i, e in enumerate(entries)]
    raw = [replace(entry, key=entry.fingerprint()) for entry in raw]
    return _feed(result, tuple(e for e in raw if e.key not in known), tuple(e.key for e in raw))


_IMAGE_TAG = re.compile(rb"<(/?)image(?:\s[^<>]*?)?(/?)>")


def _without_item_images(body: bytes) -> bytes:
    """The document without the ``<image>`` elements inside RSS items: feedparser takes
    their <title>, <link> and <url> for the item's own (feedparser-rs does not), and no
    entry field is read from them. One pass over the image tags; a document whose
    images do not pair up is left as it is."""
    if b"<image" not in body or b"<item" not in body:
        return body
    cut: list[tuple[int, int]] = []
    depth_start = -1
    for match in _IMAGE_TAG.finditer(body):
        closing, empty = match.group(1, 2)
        if empty:
            continue
        if not closing:
            if depth_start >= 0:
                return body  # nested images: not a shape worth guessing at
            depth_start = match.start()
        elif depth_start < 0:
            return body
        else:
            cut.append((depth_start, match.end()))
            depth_start = -1
    spans = _item_spans(body)
    inside = [(a, b) for a, b in cut if any(s <= a and b <= e for s, e in spans)]
    if not inside or depth_start >= 0:
        return body
    view = memoryview(body)
    pieces, at = [], 0
    for a, b in inside:
        pieces.append(view[at:a])
        at = b
    pieces.append(view[at:])
    return b"".join(pieces)


#: feed formats the compiled parser reads like feedparser does (checked by
#: tests/test_feed_parsers.py); the rest (Atom 0.3's base64 text, CDF) go to feedparser
_FAST_VERSIONS = frozenset({"rss090", "rss091u", "rss091n", "rss092", "rss093", "rss094",
                            "rss20", "rss10", "atom10"})  # fmt: skip
#: items' start and end tags: ``<item>``, ``<item rdf:about=…>``, ``<entry>``, …
_ITEM_TAGS = tuple(
    (re.compile(rb"<" + name + rb"[\s/>]"), re.compile(rb"</" + name + rb"\s*>"))
    for name in (b"item", b"entry")
)


#: what feedparser-rs does not read in an item or entry, but feedparser does: RSS's
#: <xhtml:body>, <body>, <fullitem>, bare <content> and <summary> (and xml:lang, looked
#: for in what it is given, the known items cut out); in RSS 1.0 also RSS 2.0's <guid>
#: and <enclosure>; Atom 0.3's base64 and other non-text types. Each starts with "<",
#: which regex scans fast.
_UNREAD_RSS = re.compile(rb"<(?:xhtml:body|body|fullitem|content|summary)[\s/>]")
_UNREAD_RDF = re.compile(rb"<(?:xhtml:body|body|fullitem|content|summary|guid|enclosure)[\s/>]")
_UNREAD_ATOM = re.compile(
    rb"<(?:content|summary|title)\s[^>]*(?:type=[\"'](?!(?:text|html|xhtml)[\"'])|mode=)"
)


def _parse_fast(body: bytes, url: str, known: AbstractSet[str]) -> ParsedFeed | None:
    """The common case, fast. Items are found by their tags' bytes and keyed by a hash
    of those bytes; known ones are cut out, and what is left (usually one new item, or
    none) goes through feedparser-rs: compiled, with feedparser's API, ~50× faster.

    ``body`` is UTF-8 (see ``_as_utf8``). None when anything is unusual (items not found
    where the parser finds them, not well-formed XML, internal DTD entities, elements it
    does not read, a format or result the shortcut is not sure of): the caller then
    hands the document to feedparser, which has two decades of broken feeds behind it.
    """
    spans = _item_spans(body)
    if not spans or body.find(b"<!ENTITY", 0, spans[0][0]) >= 0:  # a DTD comes first
        return None
    view = memoryview(body)
    keys = tuple([hashlib.sha1(view[a:b]).hexdigest() for a, b in spans])  # SHA-NI: fastest
    new = [i for i, key in enumerate(keys) if key not in known]
    if not new:
        return ParsedFeed("", "", "", (), keys, cheap_keys=True)
    rss = body.startswith(b"<item", spans[0][0])
    unread = _UNREAD_ATOM
    if rss:
        rdf = body.find(b"rdf:RDF", 0, spans[0][0]) >= 0
        unread = _UNREAD_RDF if rdf else _UNREAD_RSS
    if any(unread.search(body, *spans[i]) for i in new):
        return None
    document = body
    if len(new) < len(spans):  # the document as if it had only the new items
        document = b"".join(
            [view[: spans[0][0]], *(view[slice(*spans[i])] for i in new), view[spans[-1][1] :]]
        )
    if (rss and document.find(b"xml:lang") >= 0) or not _well_formed(document):
        return None
    # its default limits (100 MB, 10,000 entries) suffice: past them entries go missing,
    # and a count that does not match sends the document to feedparser
    result = feedparser_rs.parse(document, sanitize_html=False, resolve_relative_uris=False)
    entries = result.get("entries") or []
    if result.get("bozo") or result.get("version") not in _FAST_VERSIONS:
        return None
    if len(entries) != len(new) or any(map(_blanked, (result.get("feed") or {}, *entries))):
        return None
    lang = _feed_lang(result)
    raw = tuple(
        _raw_entry(i, entry, lang, url, key=keys[i]) for i, entry in zip(new, entries, strict=True)
    )
    if any(e.published is None and body.find(b"dcterms:", *spans[e.index]) >= 0 for e in raw):
        return None  # dcterms:issued, :modified, …: feedparser reads them, feedparser-rs not
    return _feed(result, raw, keys, cheap_keys=True)


#: byte-order marks, longest first (UTF-32 LE's starts with UTF-16 LE's)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)  # fmt: skip
_XML_ENCODING_TEXT = re.compile(r"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)""")
#: the least coherence (charset-normalizer's measure of reading as a language) for a
#: detected encoding to beat windows-1252, feedparser's own guess
_COHERENT = 0.1
#: how much of a document the detector reads (it samples within that): its time stays
#: bounded however large ``max_bytes`` allows a feed to be
DETECT_BYTES = 64 * 1024


def _as_utf8(body: bytes, content_type: str) -> bytes | None:
    """The document in UTF-8 (declared so, no byte-order mark), so that both paths read
    the same text; None when its declarations disagree or lie (feedparser's rules then).

    A byte-order mark decides first (UTF-8/16/32), as in feedparser; then the HTTP charset
    and the XML declaration, when they name one codec and the bytes decode with it.
    Undeclared bytes that are not UTF-8 are mostly UTF-8 with a stray byte (replaced:
    guessing windows-1252 for the whole feed would turn Cyrillic into mojibake) or a
    legacy encoding, which is detected.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _recoded(body[len(bom) :], codec)
    names = _codecs_named(body, content_type)
    if names is None or len(names) > 1:
        return None
    if names and names != {"utf-8"}:
        return _recoded(body, names.pop())
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
        stray = text.count("\ufffd") - body.count("\ufffd".encode())
        multibyte = len(text) - len(text.encode("ascii", "ignore")) - stray
        if names or multibyte > stray:
            return text.encode("utf-8")
        return _recoded(body, _detect(body))
    return body


def _recoded(body: bytes, codec: str) -> bytes | None:
    """``body`` decoded with ``codec`` and written as UTF-8, its declaration saying so."""
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    declared = _XML_ENCODING_TEXT.match(text)
    if declared:
        text = text[: declared.start(1)] + "utf-8" + text[declared.end(1) :]
    return text.encode("utf-8")


def _detect(body: bytes) -> str:
    """The legacy encoding of undeclared bytes: charset-normalizer's most coherent
    reading, unless none reads as a language (short texts), when feedparser's
    windows-1252 stays; an equally coherent windows-1252 reading wins too."""
    import charset_normalizer  # only odd documents pay for it

    best, score = "cp1252", _COHERENT
    for match in charset_normalizer.from_bytes(body[:DETECT_BYTES]):
        could_be = {codecs.lookup(name).name for name in match.could_be_from_charset}
        if match.coherence > score or (match.coherence == score and "cp1252" in could_be):
            best, score = ("cp1252" if "cp1252" in could_be else match.encoding), match.coherence
    return best


def _codecs_named(body: bytes, content_type: str) -> set[str] | None:
    """The codecs the HTTP charset and the XML declaration name (none, one, or two
    that disagree); None when a name is no codec Python knows."""
    charset = _CHARSET.search(content_type)
    declared = _XML_ENCODING.match(body)
    labels = {charset.group(1) if charset else "", declared.group(1).decode() if declared else ""}
    try:
        return {codecs.lookup(label).name for label in labels if label}
    except LookupError:
        return None


def _blanked(thing: Any) -> bool:
    """feedparser-rs empties links to private and loopback hosts (its guard for callers
    that fetch them); feedparser keeps them, and so must we: a feed on a LAN is a feed."""
    links = (*(thing.get("links") or ()), *(thing.get("enclosures") or ()))
    return any(not link.get("href") for link in links)


def _item_spans(body: bytes) -> list[tuple[int, int]]:
    """Where each ``<item>`` (RSS) or ``<entry>`` (Atom) starts and ends, in document
    order; [] if there are none or their end tags are not where they should be.

    Prefixed tags like ``<atom:entry>`` are not found, and such feeds take the
    ordinary path; so does an item whose text mentions its own end tag.
    """
    for tags in _ITEM_TAGS:
        starts = list(map(re.Match.start, tags[0].finditer(body)))
        if starts:
            break
    else:
        return []
    ends = list(map(re.Match.end, tags[1].finditer(body)))
    if len(ends) != len(starts):
        return []
    spans = list(zip(starts, ends, strict=True))
    flat = list(itertools.chain.from_iterable(spans))
    if flat != sorted(flat):  # each item ends before the next one starts
        return []
    return spans


def _well_formed(body: bytes) -> bool:
    parser = pyexpat.ParserCreate()
    try:
        parser.Parse(body, True)
    except (pyexpat.ExpatError, LookupError, ValueError):
        return False
    return True


def _feed_lang(result: Any) -> str:
    return str((result.get("feed") or {}).get("language") or "")


def _feed(
    result: Any, entries: tuple[RawEntry, ...], keys: tuple[str, ...], cheap_keys: bool = False
) -> ParsedFeed:
    feed = result.get("feed") or {}
    return ParsedFeed(
        title=_text_of(feed.get("title_detail")) or str(feed.get("title") or ""),
        link=str(feed.get("link") or ""),
        lang=_feed_lang(result),
        entries=entries,
        keys=keys,
        author=_author_name(feed),
        cheap_keys=cheap_keys,
    )


def _author_name(node: Any) -> str:
    """An entry's or a feed's author as feedparser (and feedparser-rs) give it."""
    return str((node.get("author_detail") or {}).get("name") or node.get("author") or "")


def _not_a_feed(body: bytes, content_type: str, result: Any) -> str:
    head = body[:2048].lower()
    if "html" in content_type.lower() or b"<html" in head or b"<!doctype html" in head:
        return "got an HTML page, not a feed"
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "not an RSS, Atom or JSON feed (not even XML)"
    error = result.get("bozo_exception")
    if error is not None:
        line = getattr(error, "getLineNumber", None)
        where = f" (line {line()})" if callable(line) else ""
        message = error.getMessage() if hasattr(error, "getMessage") else str(error)
        return f"malformed XML: {_one_line(str(message))}{where}"
    return "not an RSS, Atom or JSON feed"


def _raw_entry(index: int, e: Any, feed_lang: str, base: str, key: str = "") -> RawEntry:
    content_html, content_is_html = "", False
    contents = e.get("content") or []
    for part in contents:
        value = str(part.get("value") or "")
        if len(value) > len(content_html):
            content_html, content_is_html = value, _is_html(part.get("type"))
    summary = e.get("summary_detail") or {}
    title = e.get("title_detail") or {}
    lang = next(
        (str(d.get("language")) for d in (*contents, summary, title) if d and d.get("language")),
        feed_lang,
    )
    tags = tuple(str(t.get("term") or t.get("label") or "").strip() for t in e.get("tags") or [])
    # The only date becomes ``published`` and ``updated`` means a later one: the parsers
    # disagree on where RSS 1.0's dc:date goes, and feedparser-rs copies published
    # into updated.
    published, updated = _from_struct(e.get("published_parsed")), _from_struct(_updated(e))
    ident, link = str(e.get("id") or "").strip(), _absolute(base, str(e.get("link") or ""))
    return RawEntry(
        index=index,
        id=ident,
        link=link,
        title=str((title.get("value") if title else e.get("title")) or ""),
        title_html=_is_html(title.get("type")) if title else False,
        content=content_html,
        content_html=content_is_html,
        summary=str(summary.get("value") or e.get("summary") or ""),
        summary_html=_is_html(summary.get("type")) if summary else True,
        published=published or updated,
        updated=updated if published and updated != published else None,
        # only an entry with neither id nor link needs it (see entry_identity)
        date_raw="" if ident or link else str(e.get("published") or _raw_updated(e) or ""),
        tags=tuple(dict.fromkeys(t for t in tags if t)),
        lang=lang,
        image=_absolute(base, _entry_image(e)),
        key=key,
        author=_author_name(e),
    )


def _updated(e: Any) -> Any:
    """feedparser's entries fall back to ``published`` when asked for ``updated``; a
    date the entry does not state is not an update."""
    return dict.get(e, "updated_parsed") if isinstance(e, dict) else e.get("updated_parsed")


def _raw_updated(e: Any) -> Any:
    """The entry's own ``updated`` text, without feedparser's (deprecated, warning)
    fallback to ``published``."""
    return dict.get(e, "updated") if isinstance(e, dict) else e.get("updated")


def _entry_image(e: Any) -> str:
    for media in e.get("media_content") or []:
        url = str(media.get("url") or "")
        kind = str(media.get("medium") or media.get("type") or "")
        if url and (kind == "image" or kind.startswith("image/") or
                    (not kind and _IMAGE_EXT.search(url))):  # fmt: skip
            return url
    for thumb in e.get("media_thumbnail") or []:
        if thumb.get("url"):
            return str(thumb["url"])
    for enclosure in e.get("enclosures") or []:
        if str(enclosure.get("type") or "").startswith("image/") and enclosure.get("href"):
            return str(enclosure["href"])
    return ""


def _parse_json_feed(name: str, body: bytes, url: str, known: AbstractSet[str]) -> ParsedFeed:
    try:
        doc = parse_json(body.decode("utf-8-sig", "replace"))
    except ValueError as exc:
        raise SourceError(f"feed {name}: invalid JSON ({exc}) at {url}") from exc
    version = str(doc.get("version") or "") if isinstance(doc, dict) else ""
    if not version.startswith(("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")):
        raise SourceError(f"feed {name}: JSON but not a JSON Feed (no jsonfeed.org version) "
                          f"at {url}")  # fmt: skip
    items = doc.get("items")
    if not isinstance(items, list):
        raise SourceError(f"feed {name}: JSON Feed without an items list at {url}")
    feed_lang = _str(doc.get("language"))
    keys = [
        hashlib.blake2b(
            json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8", "replace"),
            digest_size=8,
        ).hexdigest()
        for item in items
    ]
    return ParsedFeed(
        title=_str(doc.get("title")),
        link=_str(doc.get("home_page_url")),
        lang=feed_lang,
        author=_json_author(doc),
        entries=tuple(
            replace(_json_entry(i, item, feed_lang, url), key=key)
            for i, (item, key) in enumerate(zip(items, keys, strict=True))
            if key not in known
        ),
        keys=tuple(keys),
    )


def _json_entry(index: int, item: Any, feed_lang: str, base: str) -> RawEntry:
    if not isinstance(item, dict):
        item = {}
    raw_id = item.get("id")
    content, is_html = _str(item.get("content_html")), True
    if not content:
        content, is_html = _str(item.get("content_text")), False
    published_raw = _str(item.get("date_published"))
    updated_raw = _str(item.get("date_modified"))
    tags = item.get("tags")
    return RawEntry(
        index=index,
        id=_json_id(raw_id),
        link=_absolute(base, _str(item.get("url")) or _str(item.get("external_url"))),
        title=_str(item.get("title")),
        title_html=False,
        content=content,
        content_html=is_html,
        summary=_str(item.get("summary")),
        summary_html=False,
        published=_from_iso(published_raw),
        updated=_from_iso(updated_raw),
        date_raw=published_raw or updated_raw,
        tags=tuple(dict.fromkeys(t.strip() for t in tags if isinstance(t, str) and t.strip()))
        if isinstance(tags, list)
        else (),
        lang=_str(item.get("language")) or feed_lang,
        image=_absolute(base, _str(item.get("image")) or _str(item.get("banner_image"))),
        author=_json_author(item),
    )


def _json_author(item: dict[str, Any]) -> str:
    """The first author's name of an item or a feed: ``authors`` (JSON Feed 1.1) or
    ``author`` (1.0)."""
    authors = item.get("authors")
    first = authors[0] if isinstance(authors, list) and authors else item.get("author")
    return _str(first.get("name")) if isinstance(first, dict) else ""


def _json_id(value: Any) -> str:
    """A JSON Feed id as a string: "1.5" for 1.5 (the spec says string; feeds send
    numbers), "" for anything else (the link or a hash then identifies the item)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value).strip()


# --- entries → articles ------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What a fetched document holds that was not ``known``: its articles, one line per
    entry that could not be used, the ids titled from their text, and every entry's key
    (for the next poll's ``known``). Logging is left to the caller."""

    articles: tuple[Article, ...]
    problems: tuple[str, ...]
    untitled: tuple[str, ...]
    keys: tuple[str, ...]
    cheap_keys: bool = False  # see ParsedFeed


def read_document(
    name: str, body: bytes, content_type: str, url: str, known: AbstractSet[str]
) -> Reading:
    """Parse a document and build an ``Article`` for each new entry; a bad entry
    becomes a problem (once: its key is remembered like the others')."""
    parsed = parse_document(name, body, content_type, url, known=known)
    articles: list[Article] = []
    problems: list[str] = []
    untitled: list[str] = []
    ids: set[str] = set()
    for entry in parsed.entries:
        try:
            identity = entry_identity(entry)
            if identity in ids:
                raise RecordError(f"entry #{entry.index + 1} repeats the id {identity}")
            ids.add(identity)
            built = to_article(name, parsed, entry, identity)
        except RecordError as exc:
            problems.append(log_safe(f"feed {name}: {exc}; skipped"))  # shown by status
            continue
        articles.append(built.article)
        if built.titled_from_text:
            untitled.append(identity)
    return Reading(
        tuple(articles), tuple(problems), tuple(untitled), parsed.keys, parsed.cheap_keys
    )


@dataclass(frozen=True)
class Built:
    article: Article
    titled_from_text: bool


def entry_identity(entry: RawEntry) -> str:
    """guid/id, else the link, else a hash of title + date; ``RecordError`` if none.

    The hash is of what the entry says, not how it is written (the title's text, the
    date as parsed when it parses), so that either parser gives the same id."""
    if entry.id:
        return entry.id
    if entry.link:
        return entry.link
    title = _title_text(entry)
    date = entry.published.isoformat() if entry.published else entry.date_raw.strip()
    if title or date:
        # a lone surrogate is text too: it must hash, not raise
        digest = hashlib.sha256(f"{title}\n{date}".encode("utf-8", "surrogatepass"))
        return "sha256:" + digest.hexdigest()[:32]
    raise RecordError(f"entry #{entry.index + 1} has no id, link, title or date")


def _title_text(entry: RawEntry) -> str:
    """The title as plain text on one line; "" when it is only markup (an image)."""
    title = html_to_text(entry.title) if entry.title_html else plain_text(entry.title)
    if not entry.title_html and "<" in title and not html_to_text(title):
        return ""  # "<img src=…>": feedparser calls it text, feedparser-rs HTML
    return " ".join(title.split())


def to_article(name: str, feed: ParsedFeed, entry: RawEntry, identity: str) -> Built:
    """Build the ``Article``; only what readers see goes in, never fetch-time data.
    Raw text is cut at ``MAX_RAW_CHARS`` first, and the article checked at the trust
    boundary (``bot.untrusted``) last."""
    content, summary_raw = entry.content[:MAX_RAW_CHARS], entry.summary[:MAX_RAW_CHARS]
    text = html_to_text(content) if entry.content_html else plain_text(content)
    summary = html_to_text(summary_raw) if entry.summary_html else plain_text(summary_raw)
    if not text:
        text = summary
    title = _title_text(entry)
    titled_from_text = False
    if not title:
        if not text:
            raise RecordError(f"entry {identity} has neither a title nor any text")
        title, titled_from_text = first_sentence(text), True
    lang = iso639_1(entry.lang)
    try:
        checked = checked_article(
            Article(
                feed=name,
                id=identity,
                url=entry.link
                or (identity if identity.startswith(("http://", "https://")) else ""),
                title=title,
                text=text,
                description=summary,
                published=entry.published,
                updated=entry.updated,
                tags=entry.tags,
                langs=(lang,) if lang else (),
                cover_url=entry.image or None,
                site_name=" ".join(feed.title.split()),
                author=" ".join(plain_text(entry.author or feed.author).split()),
            )
        )
    except RecordError as exc:
        raise RecordError(f"{log_safe(identity)}: {exc}") from None
    return Built(checked, titled_from_text)


# --- small helpers -----------------------------------------------------------------------


def _is_html(kind: Any) -> bool:
    return str(kind or "") in ("text/html", "application/xhtml+xml", "html", "xhtml")


def _text_of(detail: Any) -> str:
    if not detail:
        return ""
    value = str(detail.get("value") or "")
    return html_to_text(value) if _is_html(detail.get("type")) else plain_text(value)


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _absolute(base: str, link: str) -> str:
    link = link.strip()
    if not link:
        return ""
    try:
        return urljoin(base, link)
    except ValueError:  # "http://[bad/": feedparser drops it too
        return ""


def _from_struct(value: Any) -> datetime | None:
    try:
        if not value:
            return None
        year, month, day, hour, minute, second = (int(v) for v in value[:6])
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _from_iso(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return to_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _one_line(text: str) -> str:
    return " ".join(text.split())
