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
PARSER_VERSION = 2

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
    fast = _parse_fast(body, content_type, url, known)  # expat rejects invalid UTF-8
    if fast is not None:
        return fast
    return _parse_xml_feed(name, _valid_utf8(body, content_type), content_type, url, known)


def _valid_utf8(body: bytes, content_type: str = "") -> bytes:
    """Replace invalid bytes in a UTF-8 document instead of letting the parser guess
    windows-1252 for the whole feed (which turns Cyrillic into mojibake)."""
    if _codecs_named(body, content_type) not in (set(), {"utf-8"}):
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("utf-8", "replace").encode("utf-8")
    return body


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


def _parse_xml_feed(
    name: str, body: bytes, content_type: str, url: str, known: AbstractSet[str]
) -> ParsedFeed:
    """The whole document through feedparser; entries are keyed by what they say."""
    result = _feedparser(body, content_type)
    entries = result.get("entries") or []
    if not entries and (result.get("bozo") or not result.get("version")):
        raise SourceError(f"feed {name}: {_not_a_feed(body, content_type, result)} at {url}")
    raw = [_raw_entry(i, e, _feed_lang(result), url) for i, e in enumerate(entries)]
    raw = [replace(entry, key=entry.fingerprint()) for entry in raw]
    return _feed(result, tuple(e for e in raw if e.key not in known), tuple(e.key for e in raw))


#: feed formats the compiled parser reads like feedparser does (checked by
#: tests/test_feed_parsers.py); the rest (Atom 0.3's base64 text, CDF) go to feedparser
_FAST_VERSIONS = frozenset({"rss090", "rss091u", "rss091n", "rss092", "rss093", "rss094",
                            "rss20", "rss10", "atom10"})  # fmt: skip
#: items' start and end tags: ``<item>``, ``<item rdf:about=…>``, ``<entry>``, …
_ITEM_TAGS = tuple(
    (re.compile(rb"<" + name + rb"[\s/>]"), re.compile(rb"</" + name + rb"\s*>"))
    for name in (b"item", b"entry")
)


def _parse_fast(
    body: bytes, content_type: str, url: str, known: AbstractSet[str]
) -> ParsedFeed | None:
    """The common case, fast. Items are found by their tags' bytes and keyed by a hash
    of those bytes; known ones are cut out, and what is left (usually one new item, or
    none) goes through feedparser-rs: compiled, with feedparser's API, ~50× faster.

    None when anything is unusual (an unclear encoding, items not found where the parser
    finds them, not well-formed XML, internal DTD entities, a format or result the
    shortcut is not sure of): the caller then hands the document to feedparser, which
    has two decades of broken feeds behind it.
    """
    utf8 = _as_utf8(body, content_type)
    if utf8 is None:
        return None
    body = utf8
    spans = _item_spans(body)
    if not spans or body.find(b"<!ENTITY", 0, spans[0][0]) >= 0:  # a DTD comes first
        return None
    view = memoryview(body)
    keys = tuple([hashlib.sha1(view[a:b]).hexdigest() for a, b in spans])  # SHA-NI: fastest
    new = [i for i, key in enumerate(keys) if key not in known]
    if not new:
        return ParsedFeed("", "", "", (), keys, cheap_keys=True)
    document = body
    if len(new) < len(spans):  # the document as if it had only the new items
        document = b"".join(
            [view[: spans[0][0]], *(view[slice(*spans[i])] for i in new), view[spans[-1][1] :]]
        )
    if not _well_formed(document):
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


def _as_utf8(body: bytes, content_type: str) -> bytes | None:
    """The document in UTF-8 (declared so), or None when its encoding is not plain.

    Plain: the HTTP charset and the XML declaration name the same codec, or only one
    names one, and the bytes decode with it. A windows-1251 feed, common in Russian and
    Ukrainian, is thus read by the fast path too; a disagreement, a byte-order mark or
    bytes that do not decode are left to feedparser's rules.
    """
    names = _codecs_named(body, content_type)
    if names is None:
        return None
    if not names or names == {"utf-8"}:
        return body
    if len(names) > 1 or body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return None
    try:
        text = body.decode(names.pop())
    except UnicodeDecodeError:
        return None
    declared = _XML_ENCODING.match(body)
    if declared:  # an ASCII prefix: its byte offsets are character offsets
        text = text[: declared.start(1)] + "utf-8" + text[declared.end(1) :]
    return text.encode("utf-8")


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
        cheap_keys=cheap_keys,
    )


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
        date_raw="" if ident or link else str(e.get("published") or e.get("updated") or ""),
        tags=tuple(dict.fromkeys(t for t in tags if t)),
        lang=lang,
        image=_absolute(base, _entry_image(e)),
        key=key,
    )


def _updated(e: Any) -> Any:
    """feedparser's entries fall back to ``published`` when asked for ``updated``; a
    date the entry does not state is not an update."""
    return dict.get(e, "updated_parsed") if isinstance(e, dict) else e.get("updated_parsed")


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
        id=str(raw_id).strip() if isinstance(raw_id, str | int) and raw_id != "" else "",
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
    )


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
            problems.append(f"feed {name}: {exc}; skipped")
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
    """guid/id, else the link, else a hash of title + date; ``RecordError`` if none."""
    if entry.id:
        return entry.id
    if entry.link:
        return entry.link
    if entry.title.strip() or entry.date_raw.strip():
        text = f"{entry.title.strip()}\n{entry.date_raw.strip()}"
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))  # a lone one is text
        return "sha256:" + digest.hexdigest()[:32]
    raise RecordError(f"entry #{entry.index + 1} has no id, link, title or date")


def to_article(name: str, feed: ParsedFeed, entry: RawEntry, identity: str) -> Built:
    """Build the ``Article``; only what readers see goes in, never fetch-time data.
    Raw text is cut at ``MAX_RAW_CHARS`` first, and the article checked at the trust
    boundary (``bot.untrusted``) last."""
    content, summary_raw = entry.content[:MAX_RAW_CHARS], entry.summary[:MAX_RAW_CHARS]
    text = html_to_text(content) if entry.content_html else plain_text(content)
    summary = html_to_text(summary_raw) if entry.summary_html else plain_text(summary_raw)
    if not text:
        text = summary
    title = html_to_text(entry.title) if entry.title_html else plain_text(entry.title)
    title = " ".join(title.split())
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
    except ValueError:
        return link


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
