"""Property tests of the trust boundary: hostile text, URLs, dates and JSON shapes fed
to the sources (JSON Feed, RSS, records) and the composer. Whatever comes in, a source
either skips the entry or makes an ``Article`` the core may trust, and every post the
composer makes is within Bluesky's limits, free of control and bidi characters, with
every link facet a valid http(s) URI without whitespace."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.compose import ComposeOptions, compose
from bot.errors import RecordError, SourceError
from bot.lexicon import MAX_BYTES, MAX_GRAPHEMES
from bot.model import Article, Summary
from bot.sources import atproto_records as records
from bot.sources.feed_parse import read_document
from bot.text import graphemes, utf8_len
from bot.untrusted import EARLIEST, FUTURE_SLACK, MAX_JSON_DEPTH, checked_article, parse_json

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

NASTY = [
    "\x00", "\x1b", "\x1b[31m", "\x07", "\x7f", "\x85", "\x9b", "\r", "\n", "\t", "\u202e",
    "\u202a", "\u2066", "\u2069", "\ud800", "\udfff", "\ufeff", "\u200b", "👍🏽", "é", "#",
    "@", "https://", " ", "<", "&", "]]>",
]  # fmt: skip
#: text an attacker would write: ordinary words with control, bidi and surrogate bits
HOSTILE_TEXT = st.lists(
    st.one_of(st.sampled_from(NASTY), st.text(st.characters(), max_size=8)), max_size=12
).map("".join)
HOSTILE_URL = st.one_of(
    st.sampled_from(
        [
            "https://ok.example/post",
            "http://ok.example:8080/a?b=c#d",
            "https://x.example/a b\n\nINJECTED",
            "https://a.example@127.0.0.1/",
            "https://user:pw@x.example/",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://x.example\\@evil.example/",
            "https://[::1]/",
            "https://x.example:99999/",
            "https:///nohost",
            "//x.example/relative",
            "https://x.example/\u202eevil",
            "https://\ud800.example/",
            "",
        ]
    ),
    st.builds(lambda a, b: f"https://{a}/{b}", HOSTILE_TEXT, HOSTILE_TEXT),
)
HOSTILE_DATE = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59-23:59",
            "1970-01-01T00:00:00Z",
            "2026-05-01T12:00:00Z",
            "2026-05-01T12:00:00.123456789+05:30",
            "2100-01-01T00:00:00Z",
            "not a date",
            "",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
#: JSON shapes: scalars, and lists and objects nested up to 6 deep
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=12,
)


def assert_trustworthy(article: Article) -> None:
    """What the core relies on once an article has crossed the boundary."""
    for line in (article.id, article.title, article.site_name, *article.tags, *article.langs):
        assert not UNSAFE_LINE.search(line), line
    for text in (article.text, article.description):
        assert not UNSAFE.search(text), text
    for url in (article.url, article.cover_url or ""):
        if url:
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https") and parts.hostname, url
            assert not re.search(r"\s", url) and "@" not in parts.netloc, url
    now = datetime.now(UTC)
    for when in (article.published, article.updated):
        if when is not None:
            assert EARLIEST <= when <= now + FUTURE_SLACK
    assert article.title


# --- sources ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "id": st.one_of(HOSTILE_TEXT, st.integers()),
                "url": HOSTILE_URL,
                "title": HOSTILE_TEXT,
                "content_text": HOSTILE_TEXT,
                "content_html": HOSTILE_TEXT,
                "summary": HOSTILE_TEXT,
                "date_published": HOSTILE_DATE,
                "date_modified": HOSTILE_DATE,
                "tags": st.lists(HOSTILE_TEXT, max_size=3),
                "image": HOSTILE_URL,
                "language": HOSTILE_TEXT,
                "extra": JSON,
            },
        ),
        max_size=4,
    )
)
def test_json_feed_entries_are_skipped_or_trustworthy(items: list[dict[str, Any]]) -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})
    reading = read_document("hostile", body.encode(), "application/feed+json",
                            "https://feed.example/feed.json", frozenset())  # fmt: skip
    assert len(reading.articles) + len(reading.problems) <= len(items)
    for article in reading.articles:
        assert_trustworthy(article)
    for problem in reading.problems:
        assert "\n" not in problem


def _xml(text: str) -> str:
    """Text as a feed would carry it: escaped, the characters XML can't hold as
    character references (which is how hostile feeds smuggle them in)."""
    out = []
    for char in escape(text):
        point = ord(char)
        ok = point in (9, 10, 13) or 0x20 <= point <= 0xD7FF or 0xE000 <= point <= 0xFFFD
        out.append(char if ok or point > 0xFFFF else f"&#x{point:X};")
    return "".join(out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(HOSTILE_TEXT, HOSTILE_URL, HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_DATE),
        min_size=1,
        max_size=3,
    )
)
def test_rss_items_are_skipped_or_trustworthy(items: list[tuple[str, ...]]) -> None:
    body = "".join(
        f"<item><title>{_xml(title)}</title><link>{_xml(link)}</link><guid>{_xml(guid)}</guid>"
        f"<description>{_xml(text)}</description><pubDate>{_xml(date)}</pubDate></item>"
        for title, link, guid, text, date in items
    )
    document = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{body}'
    document += "</channel></rss>"
    data = document.encode("utf-8", "surrogatepass")
    try:
        reading = read_document("hostile", data, "application/rss+xml",
                                "https://feed.example/rss", frozenset())  # fmt: skip
    except SourceError as exc:  # the whole document refused, in one line
        assert "\n" not in str(exc)
        return
    for article in reading.articles:
        assert_trustworthy(article)


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {"$type": st.just("site.standard.document")},
        optional={
            "title": st.one_of(HOSTILE_TEXT, JSON),
            "site": st.one_of(HOSTILE_URL, JSON),
            "path": st.one_of(HOSTILE_TEXT, JSON),
            "publishedAt": st.one_of(HOSTILE_DATE, JSON),
            "updatedAt": HOSTILE_DATE,
            "textContent": st.one_of(HOSTILE_TEXT, JSON),
            "description": HOSTILE_TEXT,
            "tags": st.one_of(st.lists(HOSTILE_TEXT, max_size=3), JSON),
            "content": JSON,
            "bskyPostRef": JSON,
        },
    )
)
def test_records_are_skipped_or_trustworthy(value: dict[str, Any]) -> None:
    repo = records.Repo(did="did:plc:hostile", pds=None)

    def no_publication(uri: str) -> records.Publication:
        raise RecordError("no publications here")

    try:
        article = records.article(
            "hostile",
            repo,
            "at://did:plc:hostile/site.standard.document/3abc",
            None,
            value,
            no_publication,
        )
    except RecordError as exc:
        assert "\n" not in str(exc)
        return
    assert_trustworthy(article)


@given(st.integers(min_value=MAX_JSON_DEPTH + 1, max_value=200_000))
@settings(max_examples=10, deadline=None)
def test_json_nested_too_deep_is_a_value_error_not_a_recursion_error(depth: int) -> None:
    try:
        parse_json("[" * depth + "]" * depth)
    except ValueError as exc:
        assert str(exc) == f"nested deeper than {MAX_JSON_DEPTH} levels"
    else:
        raise AssertionError("accepted")


# --- the composer ----------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=HOSTILE_TEXT,
    text=HOSTILE_TEXT,
    description=HOSTILE_TEXT,
    url=HOSTILE_URL,
    tags=st.lists(HOSTILE_TEXT, max_size=4),
    sentences=st.lists(HOSTILE_TEXT, max_size=5),
    max_posts=st.integers(min_value=2, max_value=5),
)
def test_every_post_is_within_limits_clean_and_links_to_valid_uris(
    title: str,
    text: str,
    description: str,
    url: str,
    tags: list[str],
    sentences: list[str],
    max_posts: int,
) -> None:
    raw = Article(
        feed="hostile",
        id="x",
        url=url,
        title=title or "t",
        text=text,
        description=description,
        tags=tuple(tags),
    )
    try:
        article = checked_article(raw)
    except RecordError:
        return
    # what a summarizer hands over: sentences taken from the (clean) article, or worse
    summary = Summary(tuple(s for s in (*article.text.split(". "), *sentences) if s))
    options = ComposeOptions(max_posts=max_posts, hashtags=("news",))
    thread = compose(checked_article(raw), summary, options)
    assert 1 <= len(thread.posts) <= max_posts
    for post in thread.posts:
        assert graphemes(post.text) <= MAX_GRAPHEMES and utf8_len(post.text) <= MAX_BYTES
        assert not UNSAFE.search(post.text), post.text
        size = utf8_len(post.text)
        for facet in post.facets:
            assert 0 <= facet.start < facet.end <= size
            if facet.kind == "link":
                assert re.fullmatch(r"https?://[^\s]+", facet.value), facet.value
        if post.card is not None:
            for field in (post.card.title, post.card.description):
                assert not UNSAFE.search(field), field
