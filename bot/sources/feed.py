"""RSS, Atom and JSON Feed over HTTP, polled politely and cheaply.

Polite: conditional GET (ETag / Last-Modified kept in the cursor), the server's
``Retry-After`` and ``Cache-Control: max-age`` turned into ``Poll.next_poll``, a
permanent redirect remembered so the old URL is not hit forever, feedbot's User-Agent.
Cheap: a 304, or a 200 whose items are byte-identical to the last ones, is
``not_modified``; entries whose key is unchanged since the last poll are not parsed or
converted again and not returned (the cursor remembers them), so a feed that gained one
post costs one article downstream. A document only feedparser reads is hashed whole,
so that an identical one is not parsed again. Pass ``{}`` to get every entry.

Safe: bodies are streamed and aborted past ``max_bytes`` (after gzip decoding), each
poll has a deadline, redirects are capped, and every failure of the whole feed is a
``SourceError`` with a one-line message naming the feed.

Cursor keys (JSON): ``config_url``, ``url`` (after a permanent redirect), ``etag``,
``last_modified``, ``body_hash`` (documents feedparser read), ``seen`` (keys of the
entries in the last document), ``seen_with`` (parser version and settings the keys
were made with).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from bot import config
from bot.clock import Clock, utcnow
from bot.errors import FeedGone, FeedThrottled, SourceError
from bot.http import Deadline, open_get, read_bounded, translated_errors
from bot.model import Article, Poll
from bot.sources.feed_parse import PARSER_VERSION, Reading, read_document

log = logging.getLogger("bot.sources.feed")

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/json;q=0.8, application/xml;q=0.8, "
    "text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
#: the longest wait a server can ask for; a year-long max-age must not silence a feed
MAX_WAIT = timedelta(days=1)
_DRAIN_LIMIT = 64 * 1024
#: parsed URLs a source keeps (its feed's, and where that moved); pages are not kept
_PARSED_URLS = 4
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Fetched:
    """One finished HTTP exchange after redirects."""

    status: int
    reason: str
    url: str  # where the answer came from
    headers: dict[str, str]  # names in lower case; a repeated header's values joined
    body: bytes
    moved_to: str | None  # set when every redirect on the way was permanent


class FeedSource:
    """One configured feed. Thread-safe as long as the shared client is (httpx's is)."""

    def __init__(
        self,
        name: str,
        settings: config.FeedSourceSettings,
        client: httpx.Client,
        clock: Clock = utcnow,
        *,
        content_client: httpx.Client | None = None,
    ) -> None:
        """``client`` fetches the configured URL; ``content_client`` (by default the
        same) fetches everything else: redirect targets and article pages."""
        self.name = name
        self.settings = settings
        self.client = client
        self.content_client = content_client or client
        self._trusted = _origin(settings.url)
        self.clock = clock
        self._seconds = settings.timeout.total_seconds()
        self._urls: dict[str, httpx.URL] = {}

    # --- the Source protocol ---------------------------------------------------------

    def poll(self, cursor: dict[str, Any]) -> Poll:
        """Articles for entries that are new or changed since ``cursor`` (all of them for
        ``{}``). Raises ``FeedGone`` (410), ``FeedThrottled`` (429/503) or ``SourceError``.

        Four phases: fetch (a conditional GET) → interpret the answer (status, caching
        headers, the next cursor's HTTP part) → parse (only what is new) → articles."""
        if cursor.get("config_url") != self.settings.url:
            cursor = {}  # a new feed, or the configured URL was edited: start afresh
        fetched = self._fetch_feed(cursor)
        new, next_poll = self._interpret(fetched, cursor)
        if fetched.status == 304:
            return Poll(cursor=new, not_modified=True, next_poll=next_poll)
        reading = self._parse(fetched, cursor, new)
        if reading is None:
            return Poll(cursor=new, not_modified=True, next_poll=next_poll)
        return self._to_poll(reading, self._known(cursor), new, next_poll)

    def _fetch_feed(self, cursor: dict[str, Any]) -> Fetched:
        """Phase 1: GET the feed where it now lives, conditional on what the cursor holds."""
        headers = {"Accept": FEED_ACCEPT}
        if cursor.get("etag"):
            headers["If-None-Match"] = str(cursor["etag"])
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = str(cursor["last_modified"])
        return self.fetch(self._url(cursor), headers, self.settings.max_bytes)

    def _url(self, cursor: dict[str, Any]) -> str:
        return str(cursor.get("url") or self.settings.url)

    def _interpret(
        self, fetched: Fetched, cursor: dict[str, Any]
    ) -> tuple[dict[str, Any], datetime | None]:
        """Phase 2: the answer's status → an error, or the next cursor (caching headers,
        a permanent move) and when the server wants to be asked again."""
        next_poll = self._next_poll(fetched.headers)
        status = fetched.status
        if status == 410:
            raise FeedGone(f"feed {self.name}: gone for good (HTTP 410) at {fetched.url}")
        if status in (429, 503):
            when = f"; retry after {next_poll.isoformat()}" if next_poll else ""
            raise FeedThrottled(
                f"feed {self.name}: HTTP {status} {fetched.reason} at {fetched.url}{when}",
                next_poll=next_poll,
            )
        if status not in (200, 304):
            raise SourceError(f"feed {self.name}: HTTP {status} {fetched.reason} at {fetched.url}")
        new = {k: v for k, v in cursor.items() if k not in ("etag", "last_modified")}
        new["config_url"] = self.settings.url
        if fetched.moved_to and fetched.moved_to != cursor.get("url"):
            log.warning(
                "feed moved permanently feed=%s from=%s to=%s",
                self.name,
                self._url(cursor),
                fetched.moved_to,
            )
            new["url"] = fetched.moved_to
        for header, key in (("etag", "etag"), ("last-modified", "last_modified")):
            value = fetched.headers.get(header) or (cursor.get(key) if status == 304 else None)
            if value:
                new[key] = value
        return new, next_poll

    def _signature(self) -> str:
        """What the cursor's keys were made with: they expire when it changes."""
        return f"{PARSER_VERSION}:{int(self.settings.full_text)}"

    def _known(self, cursor: dict[str, Any]) -> list[str] | None:
        """The keys of the last poll's entries, if made the way they are made now."""
        known = cursor.get("seen") if cursor.get("seen_with") == self._signature() else None
        return list(known) if known is not None else None

    def _parse(
        self, fetched: Fetched, cursor: dict[str, Any], new: dict[str, Any]
    ) -> Reading | None:
        """Phase 3: the document → its entries not seen last time (``new`` gets their
        keys); None when it is byte-identical to the last one feedparser read whole."""
        known = self._known(cursor)
        new.pop("body_hash", None)
        body_hash = ""
        if known is not None and cursor.get("body_hash"):  # the last one cost a whole parse
            body_hash = _digest(fetched.body)
            if body_hash == cursor["body_hash"]:
                new["body_hash"] = body_hash
                return None
        reading = read_document(
            self.name,
            fetched.body,
            fetched.headers.get("content-type", ""),
            fetched.url,
            frozenset(known or ()),
        )
        new.update(seen=list(reading.keys), seen_with=self._signature())
        if not reading.cheap_keys:  # next time, a byte-identical body is not parsed at all
            new["body_hash"] = body_hash or _digest(fetched.body)
        return reading

    def _to_poll(
        self,
        reading: Reading,
        known: list[str] | None,
        new: dict[str, Any],
        next_poll: datetime | None,
    ) -> Poll:
        """Phase 4: what the reading found, logged; the articles (with their pages' full
        text when configured); "not modified" when nothing at all changed."""
        for problem in reading.problems:
            log.warning("%s", problem)
        for identity in reading.untitled:
            log.info(
                "untitled entry feed=%s item=%s: title taken from its first sentence",
                self.name,
                identity,
            )
        articles = reading.articles
        if self.settings.full_text:
            articles = tuple(self._full_text(a) if a.url else a for a in articles)
        same = reading.cheap_keys and not articles and list(reading.keys) == known
        return Poll(
            articles=articles,
            cursor=new,
            problems=reading.problems,
            next_poll=next_poll,
            not_modified=same and not reading.problems,
        )

    # --- full text -------------------------------------------------------------------

    def _full_text(self, article: Article) -> Article:
        """The article page's main text (and og:image) instead of the feed's excerpt;
        on any failure the excerpt stays and the reason is logged."""
        try:
            page = self.fetch(article.url, {"Accept": PAGE_ACCEPT}, self.settings.max_bytes)
            if page.status != 200:
                raise SourceError(f"HTTP {page.status} {page.reason}")
            text, image = extract_page(page.body, page.url)
        except SourceError as exc:
            log.warning("full text failed feed=%s item=%s reason=%s", self.name, article.id, exc)
            return article
        first, _, rest = text.partition("\n\n")
        if rest and first.casefold() == article.title.casefold():
            text = rest  # the page's own <h1>; the title is posted separately
        if len(text) <= len(article.text):
            log.info("full text not longer than the feed's feed=%s item=%s", self.name, article.id)
            text = article.text
        cover = article.cover_url or (urljoin(page.url, image) if image else None)
        return replace(article, text=text, cover_url=cover)

    # --- HTTP ------------------------------------------------------------------------

    def fetch(self, url: str, headers: dict[str, str], max_bytes: int) -> Fetched:
        """GET with redirects followed by hand (capped), a deadline for the whole
        exchange and a streamed, size-capped body (read only for a 200). Only the
        configured URL's origin is fetched with the trusted client; every other URL
        (a redirect hop, an article page) goes through the content client, which
        refuses private addresses unless the source allows them."""
        deadline = Deadline(self._seconds)
        moved_to: str | None = None
        all_permanent = True

        def fail(reason: str) -> SourceError:
            return SourceError(f"feed {self.name}: {reason}")

        for _hop in range(self.settings.max_redirects + 1):
            if urlsplit(url).scheme not in ("http", "https"):
                raise SourceError(f"feed {self.name}: refusing to fetch non-HTTP URL {url}")
            client = self.client if _origin(url) == self._trusted else self.content_client
            with (
                translated_errors(url, deadline, fail),
                open_get(client, self._parsed(url), headers, deadline) as response,
            ):
                answer = dict(response.headers.items())  # httpx's Headers.get is slow
                location = answer.get("location")
                if response.status_code != 200:
                    self._drain(response, answer)
                if response.status_code in _REDIRECTS and location:
                    target = urljoin(str(response.url), location.strip())
                    all_permanent = all_permanent and response.status_code in _PERMANENT
                    moved_to = target if all_permanent else None
                    url = target
                    continue
                body = b""
                if response.status_code == 200:
                    body = read_bounded(
                        response, url=url, limit=max_bytes, deadline=deadline, fail=fail
                    )
                return Fetched(
                    status=response.status_code,
                    reason=response.reason_phrase,
                    url=url,  # what was asked for: str(response.url) costs more
                    headers=answer,
                    body=body,
                    moved_to=moved_to,
                )
        raise SourceError(
            f"feed {self.name}: more than {self.settings.max_redirects} redirects, last to {url}"
        )

    def _parsed(self, url: str) -> httpx.URL:
        """``url`` parsed once: the feed's own URL is asked for on every poll."""
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = httpx.URL(url)
            if len(self._urls) < _PARSED_URLS:  # the feed's URL and where it moved
                self._urls[url] = parsed
        return parsed

    @staticmethod
    def _drain(response: httpx.Response, headers: dict[str, str]) -> None:
        """Read a small unwanted body (a redirect's, an error page) so the connection
        goes back to the pool instead of being closed; large ones are not worth it."""
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) <= _DRAIN_LIMIT:
            response.read()

    def _next_poll(self, headers: dict[str, str]) -> datetime | None:
        """When the server wants to be asked again: Retry-After, else max-age (less Age);
        never later than ``MAX_WAIT`` from now, never in the past."""
        now = self.clock()
        when = retry_after(headers.get("retry-after", ""), now)
        if when is None:
            match = _MAX_AGE.search(headers.get("cache-control", ""))
            if match and "no-store" not in headers.get("cache-control", "").lower():
                age = headers.get("age", "0").strip()
                seconds = int(match.group(1)) - (int(age) if age.isdigit() else 0)
                when = now + timedelta(seconds=max(seconds, 0))
        if when is None or when <= now:
            return None
        return min(when, now + MAX_WAIT)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port)


def _digest(body: bytes) -> str:
    # change detection, not security: sha1 is the quickest digest hashlib has here
    return hashlib.sha1(body, usedforsecurity=False).hexdigest()


def retry_after(value: str, now: datetime) -> datetime | None:
    """``Retry-After`` as seconds ("120") or an HTTP date; anything else → None."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def extract_page(body: bytes, url: str) -> tuple[str, str]:
    """Main text (paragraphs blank-line separated) and og:image of an article page.

    trafilatura is imported here so feeds without ``full_text`` never pay for it.
    """
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            body, url=url, with_metadata=True, include_comments=False, include_tables=False
        )
    except (ValueError, TypeError, LookupError) as exc:  # its parser's failures
        raise SourceError(f"cannot extract the page: {exc}") from exc
    text = str(getattr(doc, "text", None) or "") if doc is not None else ""
    image = str(getattr(doc, "image", None) or "") if doc is not None else ""
    if not text.strip():
        raise SourceError("no main text found on the page")
    paragraphs = (" ".join(line.split()) for line in text.splitlines())
    return "\n\n".join(p for p in paragraphs if p), image.strip()
