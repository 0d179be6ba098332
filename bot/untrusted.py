"""The trust boundary: what strangers' feeds and records say, made safe to post.

Everything a source reads is untrusted; the config and the environment are trusted.
Every ``Article`` is checked here once, where a source makes it (``checked_article``),
so that the core can trust it afterwards:

- text loses C0 controls but tab and newline, C1 controls, bidi embeddings, overrides
  and isolates (U+202A–202E, U+2066–2069: they make a post read differently from what
  it says) and lone surrogates (they can't be encoded at all); single-line fields (id,
  title, site name, tags, languages) lose tabs and newlines too;
- text is cut at ``MAX_TEXT_CHARS`` (a summary never needs more, and summarizing is
  then bounded whatever the feed sends), titles and descriptions at their own caps;
- the article's URL must be an absolute http(s) URL without whitespace, control
  characters, backslashes or credentials (``https://a.example@127.0.0.1/`` reads as one
  host and goes to another) that survives a parse/unparse round trip unchanged; a
  cover URL failing the same test is dropped, as a cover is optional;
- dates lie between ``EARLIEST`` and ``FUTURE_SLACK`` after now.

A value that fails raises ``RecordError`` with a short reason: the source skips that
one item and reports it, and the rest of the feed carries on. ``parse_json`` bounds the
nesting of JSON documents, and ``log_safe`` escapes untrusted text for one-line logs.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bot.errors import RecordError
from bot.model import Article

#: an article's text is cut here (about 15,000 words, far more than a summary reads)
MAX_TEXT_CHARS = 100_000
#: raw markup or markdown is cut here before it is converted to text
MAX_RAW_CHARS = 4 * MAX_TEXT_CHARS
MAX_TITLE_CHARS = 1_000
MAX_DESCRIPTION_CHARS = 10_000
#: ids and URLs longer than this are not ids or URLs anyone meant
MAX_ID_CHARS = 2_048
MAX_URL_CHARS = 2_048
MAX_TAGS = 100
MAX_TAG_CHARS = 640  # Bluesky's own limit for a tag, in bytes
#: JSON nested deeper than this is refused before anything walks it
MAX_JSON_DEPTH = 100
#: the web's first pages are from 1990-91: an earlier date is a wrong date
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
#: how far in the future a date may be: time zones (±14h) and clock skew, with room;
#: a later date would pin the item as newest and defeat ``max_age``
FUTURE_SLACK = timedelta(days=2)

_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
#: what may not stand in a one-line field or a log line (newlines included)
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_CR = re.compile(r"\r\n?")
_URL_REFUSED = re.compile(f"[\\s\\\\\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_HOST = re.compile(r"[^\s/?#@:\[\]%\\]+|\[[0-9A-Fa-f:.]+\]")


def clean_text(value: str, cap: int = MAX_TEXT_CHARS) -> str:
    """Multi-line text without unsafe characters, Unix newlines, at most ``cap`` chars
    (cut at the last space before the cap, so no word is halved)."""
    if "\r" in value:
        value = _CR.sub("\n", value)
    value = _UNSAFE.sub("", value)
    return _cap(value, cap).strip()


def clean_line(value: str, cap: int = MAX_TITLE_CHARS) -> str:
    """One line of text: unsafe characters gone, whitespace runs one space, capped."""
    value = _UNSAFE_LINE.sub(" ", value) if _UNSAFE_LINE.search(value) else value
    return _cap(" ".join(value.split()), cap)


def _cap(value: str, cap: int) -> str:
    if len(value) <= cap:
        return value
    cut = value.rfind(" ", cap // 2, cap)
    return value[: cut if cut > 0 else cap].rstrip()


def checked_url(value: str, what: str = "url") -> str:
    """``value`` if it is a safe absolute http(s) URL, else ``RecordError`` saying why."""
    shown = log_safe(value[:80])
    if not value:
        raise RecordError(f"no {what}")
    if len(value) > MAX_URL_CHARS:
        raise RecordError(f"{what} is longer than {MAX_URL_CHARS} characters")
    if _URL_REFUSED.search(value):
        raise RecordError(f"{what} contains whitespace or control characters: {shown}")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises for a port that is not a number in range
    except ValueError as exc:
        raise RecordError(f"{what} is not a URL ({exc}): {shown}") from None
    if parts.scheme not in ("http", "https"):
        raise RecordError(f"{what} is not an http(s) URL: {shown}")
    if "@" in parts.netloc:
        raise RecordError(f"{what} carries credentials: {shown}")
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    if not host or not _HOST.fullmatch(host):
        raise RecordError(f"{what} has no valid host: {shown}")
    if urlunsplit(parts) != value.rstrip("?#"):
        raise RecordError(f"{what} does not read back the same once parsed: {shown}")
    return value


def checked_date(value: datetime | None, what: str, now: datetime) -> datetime | None:
    """``value`` in UTC if it lies in [``EARLIEST``, now + ``FUTURE_SLACK``]."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise RecordError(f"{what} has no time zone")
    if value < EARLIEST:
        raise RecordError(f"{what} {value.date().isoformat()} is before {EARLIEST.year}")
    if value > now + FUTURE_SLACK:
        raise RecordError(f"{what} {value.date().isoformat()} is in the future")
    return value.astimezone(UTC)


def to_utc(value: datetime) -> datetime:
    """An aware datetime in UTC, naive ones taken as UTC; a date whose offset pushes it
    past year 1 or 9999 (``0001-01-01T00:00:00+23:59``) comes back as ``datetime.min``
    or ``datetime.max`` in UTC, which ``checked_date`` then refuses with a reason."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if value.year < 5000 else datetime.max
        return edge.replace(tzinfo=UTC)


def checked_article(article: Article, now: datetime | None = None) -> Article:
    """The article with safe text, URL and dates; ``RecordError`` naming what failed."""
    now = now or datetime.now(UTC)
    ident = clean_line(article.id, MAX_ID_CHARS + 1)
    if not ident:
        raise RecordError("the id is empty once control characters are removed")
    if len(ident) > MAX_ID_CHARS:
        raise RecordError(f"the id is longer than {MAX_ID_CHARS} characters")
    title = clean_line(article.title, MAX_TITLE_CHARS)
    if not title:
        raise RecordError("the title is empty once cleaned")
    cover = article.cover_url
    if cover is not None:
        try:
            cover = checked_url(cover, "cover")
        except RecordError:
            cover = None
    url = checked_url(article.url) if article.url else ""
    published = checked_date(article.published, "published date", now)
    updated = checked_date(article.updated, "updated date", now)
    tags = tuple(
        dict.fromkeys(t for t in (clean_line(t, MAX_TAG_CHARS) for t in article.tags) if t)
    )
    return replace(
        article,
        id=ident,
        url=url,
        title=title,
        text=clean_text(article.text),
        description=clean_text(article.description, MAX_DESCRIPTION_CHARS),
        published=published,
        updated=updated,
        tags=tags[:MAX_TAGS],
        langs=tuple(lang for lang in (clean_line(x, 64) for x in article.langs) if lang),
        cover_url=cover,
        site_name=clean_line(article.site_name, MAX_TITLE_CHARS),
        author=clean_line(article.author, MAX_TITLE_CHARS),
    )


def parse_json(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses documents nested deeper than ``max_depth`` with a
    ``ValueError`` (as it does invalid JSON) instead of a ``RecursionError``."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError(f"nested deeper than {max_depth} levels") from None
    if json_depth(value, max_depth) > max_depth:
        raise ValueError(f"nested deeper than {max_depth} levels")
    return value


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep ``value`` nests (a scalar is 0), counted without recursion and only up
    to ``limit + 1``, so the walk costs nothing past the limit."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def log_safe(value: object) -> str:
    """``value`` as one printable line: control, bidi and surrogate characters escaped
    (``\\n``, ``\\x1b``, ``\\u202e``), so a hostile id can't forge a log line."""
    text = str(value)
    if not _UNSAFE_LINE.search(text):
        return text
    return _UNSAFE_LINE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
