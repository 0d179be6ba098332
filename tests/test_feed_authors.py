"""Authors' names from feeds, for the templates' ``{author}``: the entry's own, else the
feed's (Atom's rule), the same on both XML paths and in JSON Feed; cleaned like any
one-line field."""

from __future__ import annotations

import json
import re
from typing import Any

import feedparser
import pytest

from bot.sources.feed_parse import read_document

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Notes</title><link>https://notes.example/</link><description>d</description>
<item><title>One</title><link>https://notes.example/1</link><guid>n1</guid>
<dc:creator>Aigerim Sadykova</dc:creator><description>First text.</description></item>
<item><title>Two</title><link>https://notes.example/2</link><guid>n2</guid>
<description>Second text.</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Log</title><id>urn:log</id>
<updated>2026-11-30T10:00:00Z</updated><author><name>Team Log</name></author>
<entry><title>Own</title><id>urn:log:1</id><link href="https://log.example/1"/>
<updated>2026-11-30T10:00:00Z</updated><author><name>Dana \xe2\x80\xae Evil
Line</name></author><summary>Own author.</summary></entry>
<entry><title>Inherited</title><id>urn:log:2</id><link href="https://log.example/2"/>
<updated>2026-11-30T09:00:00Z</updated><summary>The feed's author.</summary></entry>
</feed>"""


def authors(body: bytes, content_type: str) -> dict[str, str]:
    reading = read_document("t", body, content_type, "https://x.example/feed", frozenset())
    return {a.title: a.author for a in reading.articles}


def test_an_rss_item_has_its_creator_and_one_without_has_none() -> None:
    assert authors(RSS, "application/rss+xml") == {"One": "Aigerim Sadykova", "Two": ""}


def test_an_atom_entry_without_an_author_takes_the_feeds_and_names_are_one_clean_line() -> None:
    assert authors(ATOM, "application/atom+xml") == {
        "Own": "Dana Evil Line",
        "Inherited": "Team Log",
    }


def test_feedparsers_path_agrees() -> None:
    # prefixed tags (<a:entry>) always go to feedparser; the names must not change
    prefixed = re.sub(rb"<(/?)(?=[a-z])", rb"<\1a:", ATOM.split(b"?>", 1)[1])
    prefixed = prefixed.replace(b'xmlns="', b'xmlns:a="', 1)
    calls: list[int] = []
    real = feedparser.parse

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(feedparser, "parse", counting)
        got = authors(prefixed, "application/atom+xml")
    assert calls, "the prefixed document took the fast path"
    assert got == authors(ATOM, "application/atom+xml")


def test_json_feed_authors_of_items_and_of_the_feed() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "authors": [{"name": "Feed Person"}],
        "items": [
            {
                "id": "1",
                "url": "https://j.example/1",
                "title": "A",
                "content_text": "x.",
                "authors": [{"name": "Item Person"}, {"name": "Second"}],
            },
            {
                "id": "2",
                "url": "https://j.example/2",
                "title": "B",
                "content_text": "y.",
                "author": {"name": "Old Style"},
            },
            {"id": "3", "url": "https://j.example/3", "title": "C", "content_text": "z."},
        ],
    }
    got = authors(json.dumps(doc).encode(), "application/feed+json")
    assert got == {"A": "Item Person", "B": "Old Style", "C": "Feed Person"}
