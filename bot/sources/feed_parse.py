"""Feed documents (bytes) → entries → ``Article``: pure, no I/O, no clock.

RSS 0.9x/1.0/2.0 and Atom go through feedparser, which knows two decades of broken
feeds; JSON Feed is plain JSON and is read directly. Both end up as ``RawEntry`` so
that identity, titles, text, dates and images are decided in one place.

A document that is not a feed at all raises ``SourceError``; one bad entry raises
``RecordError`` from ``to_article`` and the caller skips it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
import lxml.etree

from bot.errors import RecordError, SourceError
from bot.model import Article
from bot.sources.feed_text import first_sentence, html_to_text, iso639_1, plain_text

#: bump when the mapping from entries to articles changes, so stored fingerprints expire
PARSER_VERSION = 1

_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)""")
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


# --- documents -------------------------------------------------------------------------


def parse_document(
    name: str, body: bytes, content_type: str, url: str, known: AbstractSet[str] = frozenset()
) -> ParsedFeed:
    """Parse a fetched document; ``url`` is where it was fetched from (the base for links).

    Entries whose key is in ``known`` (the keys of an earlier poll) are left out of
    ``entries`` and, where possible, never handed to feedparser at all.
    """
    if not body.strip():
        raise SourceError(f"feed {name}: empty response from {url}")
    # The body decides, not the Content-Type: servers label feeds wrongly all the time.
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{") or ("json" in content_type.lower() and not head.startswith(b"<")):
        return _parse_json_feed(name, body, url, known)
    body = _valid_utf8(body)
    fast = _parse_new_items(body, content_type, url, known)
    if fast is not None:
        return fast
    return _parse_xml_feed(name, body, content_type, url, known)


def _valid_utf8(body: bytes) -> bytes:
    """Replace invalid bytes in a UTF-8 document instead of letting the parser guess
    windows-1252 for the whole feed (which turns Cyrillic into mojibake)."""
    match = _XML_ENCODING.match(body)
    declared = match.group(1).decode("ascii").lower() if match else "utf-8"
    if declared not in ("utf-8", "utf8"):
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
        io.BytesIO(body),
        response_headers={"content-type": content_type or "application/xml"},
        resolve_relative_uris=False,
        sanitize_html=False,
    )


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


_ITEM_TAGS = (
    "item",  # RSS 0.9x and 2.0
    "{http://purl.org/rss/1.0/}item",
    "{http://my.netscape.com/rdf/simple/0.9/}item",
    "{http://www.w3.org/2005/Atom}entry",
    "{http://purl.org/atom/ns#}entry",  # Atom 0.3
)
_lxml = threading.local()  # lxml parsers must not be shared between threads


def _parse_new_items(
    body: bytes, content_type: str, url: str, known: AbstractSet[str]
) -> ParsedFeed | None:
    """The fast path: lxml (C) splits the document into items and hashes each as
    written; only items not ``known`` go through feedparser (pure Python, ~0.5 ms an
    item), and a feed whose items are all known skips it entirely.

    None when the shortcut does not apply (not UTF-8, not well-formed, no items, a
    surprise): the caller then parses the whole document the ordinary way.
    """
    charset = re.search(r"charset\s*=\s*\"?([\w.-]+)", content_type, re.IGNORECASE)
    if charset and charset.group(1).lower() not in ("utf-8", "utf8"):
        return None
    declared = _XML_ENCODING.match(body)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return None
    if not hasattr(_lxml, "parser"):
        _lxml.parser = lxml.etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, strip_cdata=False
        )
    try:
        root = lxml.etree.fromstring(body, _lxml.parser)
    except lxml.etree.XMLSyntaxError:
        return None
    items = [
        el
        for el in root.iter(*_ITEM_TAGS)
        if el.getparent() is root
        or (el.getparent() is not None and el.getparent().getparent() is root)
    ]
    if not items:
        return None
    keys = [
        hashlib.blake2b(lxml.etree.tostring(el, with_tail=False), digest_size=8).hexdigest()
        for el in items
    ]
    new = [(i, key) for i, key in enumerate(keys) if key not in known]
    if not new:
        return ParsedFeed("", "", "", (), tuple(keys))
    if len(new) < len(items):
        for el, key in zip(items, keys, strict=True):
            if key in known:
                parent = el.getparent()
                if parent is not None:
                    parent.remove(el)
        body = lxml.etree.tostring(root.getroottree(), encoding="utf-8", xml_declaration=True)
    result = _feedparser(body, content_type)
    entries = result.get("entries") or []
    if len(entries) != len(new) or result.get("bozo"):
        return None
    lang = _feed_lang(result)
    raw = tuple(
        replace(_raw_entry(i, e, lang, url), key=key)
        for (i, key), e in zip(new, entries, strict=True)
    )
    return _feed(result, raw, tuple(keys))


def _feed_lang(result: Any) -> str:
    return str((result.get("feed") or {}).get("language") or "")


def _feed(result: Any, entries: tuple[RawEntry, ...], keys: tuple[str, ...]) -> ParsedFeed:
    feed = result.get("feed") or {}
    return ParsedFeed(
        title=_text_of(feed.get("title_detail")) or str(feed.get("title") or ""),
        link=str(feed.get("link") or ""),
        lang=_feed_lang(result),
        entries=entries,
        keys=keys,
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


def _raw_entry(index: int, e: Any, feed_lang: str, base: str) -> RawEntry:
    content_html, content_is_html = "", False
    for part in e.get("content") or []:
        value = str(part.get("value") or "")
        if len(value) > len(content_html):
            content_html, content_is_html = value, _is_html(part.get("type"))
    summary = e.get("summary_detail") or {}
    title = e.get("title_detail") or {}
    lang = next(
        (
            str(d.get("language"))
            for d in (*(e.get("content") or []), summary, title)
            if d and d.get("language")
        ),
        feed_lang,
    )
    tags = tuple(str(t.get("term") or t.get("label") or "").strip() for t in e.get("tags") or [])
    return RawEntry(
        index=index,
        id=str(e.get("id") or "").strip(),
        link=_absolute(base, str(e.get("link") or "")),
        title=str((title.get("value") if title else e.get("title")) or ""),
        title_html=_is_html(title.get("type")) if title else False,
        content=content_html,
        content_html=content_is_html,
        summary=str(summary.get("value") or e.get("summary") or ""),
        summary_html=_is_html(summary.get("type")) if summary else True,
        published=_from_struct(e.get("published_parsed")),
        updated=_from_struct(dict.get(e, "updated_parsed")),  # no fallback to published
        date_raw=str(e.get("published") or e.get("updated") or ""),
        tags=tuple(dict.fromkeys(t for t in tags if t)),
        lang=lang,
        image=_absolute(base, _entry_image(e)),
    )


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
        doc = json.loads(body.decode("utf-8-sig", "replace"))
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
        digest = hashlib.sha256(f"{entry.title.strip()}\n{entry.date_raw.strip()}".encode())
        return "sha256:" + digest.hexdigest()[:32]
    raise RecordError(f"entry #{entry.index + 1} has no id, link, title or date")


def to_article(name: str, feed: ParsedFeed, entry: RawEntry, identity: str) -> Built:
    """Build the ``Article``; only what readers see goes in, never fetch-time data."""
    text = html_to_text(entry.content) if entry.content_html else plain_text(entry.content)
    summary = html_to_text(entry.summary) if entry.summary_html else plain_text(entry.summary)
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
    return Built(
        Article(
            feed=name,
            id=identity,
            url=entry.link or (identity if identity.startswith(("http://", "https://")) else ""),
            title=title,
            text=text,
            description=summary,
            published=entry.published,
            updated=entry.updated,
            tags=entry.tags,
            langs=(lang,) if lang else (),
            cover_url=entry.image or None,
            site_name=" ".join(feed.title.split()),
        ),
        titled_from_text,
    )


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
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _one_line(text: str) -> str:
    return " ".join(text.split())
