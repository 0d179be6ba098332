"""FeedSource against a real HTTP server on 127.0.0.1 serving real feed files."""

from __future__ import annotations

import gc
import gzip
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import Crash
from httpserver import LocalServer, Request, Response

from bot import config
from bot.errors import ConfigError, FeedGone, FeedThrottled, SourceError
from bot.http import USER_AGENT, make_client
from bot.model import Article, Poll
from bot.sources import feed
from bot.sources.concurrent import poll_each
from bot.sources.feed import FeedSource
from bot.sources.feed_text import first_sentence, html_to_text, iso639_1

FEEDS = Path(__file__).parent / "feeds"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
XML = {"Content-Type": "application/rss+xml; charset=utf-8"}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client() as c:
        yield c


def feed_source(
    server: LocalServer, client: httpx.Client, path: str, name: str = "test", **settings: Any
) -> FeedSource:
    cfg = config.FeedSourceSettings(type="feed", url=server.url + path, **settings)
    return FeedSource(name, cfg, client, clock=lambda: NOW)


def serve_file(
    server: LocalServer, filename: str, content_type: str = "application/xml", **headers: str
) -> str:
    path = "/" + filename
    server.routes[path] = Response(
        200, (FEEDS / filename).read_bytes(), {"Content-Type": content_type, **headers}
    )
    return path


def poll_file(
    server: LocalServer, client: httpx.Client, filename: str, content_type: str = "application/xml"
) -> dict[str, Article]:
    path = serve_file(server, filename, content_type)
    result = feed_source(server, client, path).poll({})
    assert result.problems == ()
    return {a.id: a for a in result.articles}


def rss(*items: str, title: str = "Generated") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://gen.example/</link>"
        f"<description>d</description>{''.join(items)}</channel></rss>"
    )


def item(n: int, body: str = "Body text.", extra: str = "") -> str:
    return (
        f"<item><title>Post {n}</title><link>https://gen.example/p/{n}</link>"
        f"<guid>gen-{n}</guid><pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate>"
        f"<description>{body}</description>{extra}</item>"
    )


# --- formats -----------------------------------------------------------------------------


def test_rss091_items_become_articles_with_absolute_links_and_decoded_entities(
    http_server: LocalServer, client: httpx.Client
) -> None:
    articles = poll_file(http_server, client, "rss091.xml")
    dredging = articles["http://harbour.example/notes/dredging-east-basin"]
    assert dredging.title == "Dredging the east basin: café closed"
    assert dredging.text.startswith("The east basin will be dredged in March.")
    assert dredging.site_name == "Harbour Notes"
    assert dredging.langs == ("en",)  # <language>en-gb</language>
    relative = articles[http_server.url + "/notes/tide-tables-2026"]
    assert relative.url == http_server.url + "/notes/tide-tables-2026"


def test_rss10_rdf_items_are_identified_by_rdf_about_and_dated_by_dc_date(
    http_server: LocalServer, client: httpx.Client
) -> None:
    articles = poll_file(http_server, client, "rss10.rdf", "application/rdf+xml")
    soil = articles["https://lab.example/journal/soil-cores"]
    assert soil.title == "Bodenproben aus dem Moor"
    assert soil.published == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # its only date
    assert soil.updated is None
    assert soil.tags == ("Moor",)
    assert soil.langs == ("de",)


def test_rss20_content_encoded_is_plain_text_with_paragraphs_and_no_script(
    http_server: LocalServer, client: httpx.Client
) -> None:
    river = poll_file(http_server, client, "rss20.xml")["longfield-essay-0042"]
    assert river.text.split("\n\n") == [
        "The river shifted forty metres in one winter. Nobody on the farm had seen anything "
        "like it.",
        "We walked the new bank in February and counted eleven willows that had fallen in.",
        "Fields lost: two",
        "Fields gained: one",
        "Next spring we plant a buffer strip.\nIt will take five years to grow.",
    ]
    assert "trackReader" not in river.text
    assert river.description == (
        "The river shifted forty metres in one winter. Here is what that did to the fields."
    )


def test_rss20_guid_not_permalink_is_the_id_and_the_link_is_the_url(
    http_server: LocalServer, client: httpx.Client
) -> None:
    articles = poll_file(http_server, client, "rss20.xml")
    river = articles["longfield-essay-0042"]
    assert river.url == (
        "https://longfield.example/essays/river-moved?utm_source=rss&utm_medium=feed"
    )
    assert articles["longfield-essay-0041"].url == (http_server.url + "/essays/counting-hedgehogs")
    # no guid at all: the link is the identity
    assert "https://longfield.example/essays/rainfall-february" in articles


def test_rss20_title_with_escaped_markup_is_decoded_to_plain_text(
    http_server: LocalServer, client: httpx.Client
) -> None:
    river = poll_file(http_server, client, "rss20.xml")["longfield-essay-0042"]
    assert river.title == "Why the river moved & what we learned"
    assert river.site_name == "The Long Field & Co"


def test_rss20_categories_become_tags_and_dates_are_utc_aware(
    http_server: LocalServer, client: httpx.Client
) -> None:
    river = poll_file(http_server, client, "rss20.xml")["longfield-essay-0042"]
    assert river.tags == ("Water", "Rivers", "Soil")
    assert river.published == datetime(2026, 3, 2, 7, 15, tzinfo=UTC)  # +0100 in the feed
    assert river.published is not None and river.published.utcoffset() == timedelta(0)
    assert river.langs == ("en",)


def test_cover_image_comes_from_media_content_thumbnail_or_image_enclosure(
    http_server: LocalServer, client: httpx.Client
) -> None:
    articles = poll_file(http_server, client, "rss20.xml")
    assert articles["longfield-essay-0042"].cover_url == (
        "https://cdn.longfield.example/img/river-1200.jpg"
    )
    assert articles["longfield-essay-0041"].cover_url == (
        http_server.url + "/img/hedgehog-thumb.jpg"  # relative media:thumbnail made absolute
    )
    rain = articles["https://longfield.example/essays/rainfall-february"]
    assert rain.cover_url == "https://longfield.example/img/rain.png"


def test_atom_html_content_dates_categories_and_xml_lang(
    http_server: LocalServer, client: httpx.Client
) -> None:
    articles = poll_file(http_server, client, "atom.xml", "application/atom+xml")
    galibier = articles["tag:carnets.example,2026:galibier"]
    assert galibier.title == "Le col du Galibier & la neige de mars"
    assert galibier.url == http_server.url + "/recits/galibier"
    assert galibier.text == (
        "Le col était encore fermé.\n\nNous avons poussé le vélo pendant trois jours dans la neige."
    )
    assert galibier.description == "Trois jours à pousser le vélo dans la neige."
    assert galibier.published == datetime(2026, 2, 28, 6, 0, tzinfo=UTC)
    assert galibier.updated == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert galibier.tags == ("montagne", "vélo")
    assert galibier.langs == ("fr",)  # xml:lang="fr-FR" on <feed>
    english = articles["tag:carnets.example,2026:note-en"]
    assert english.langs == ("en",)  # xml:lang on the entry wins
    assert english.text == "Some stories are better told twice.\n\nThis one is told in English."
    assert english.published == datetime(2026, 2, 20, 12, 0, tzinfo=UTC)  # its only date
    assert english.updated is None


def test_json_feed_11_items_with_html_text_image_tags_and_language(
    http_server: LocalServer, client: httpx.Client
) -> None:
    articles = poll_file(http_server, client, "jsonfeed11.json", "application/feed+json")
    oak = articles["https://workshop.example/log/planing-oak"]
    assert oak.title == "Planing oak by hand & by machine"
    assert oak.text == (
        "Oak is hard on blades.\n\nWe compared a hand plane with the thicknesser over forty boards."
    )
    assert oak.description == "A hand plane against a thicknesser, forty boards later."
    assert oak.cover_url == "https://workshop.example/img/oak.jpg"
    assert oak.published == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert oak.updated == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert oak.tags == ("woodwork", "tools")
    assert oak.langs == ("en",)
    assert oak.site_name == "Workshop Log"
    numbered = articles["1017"]  # a numeric id, as JSON Feed 1.0 producers sometimes write
    assert numbered.url == http_server.url + "/log/sharpening"
    assert numbered.cover_url == http_server.url + "/img/stones.jpg"  # banner_image
    assert numbered.published is None  # "not a date"
    assert numbered.langs == ("de",)
    assert numbered.text == "Sharpen before you think you need to.\n\nA dull blade tears the grain."


def test_json_feed_10_untitled_item_gets_its_first_sentence_as_title(
    http_server: LocalServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.sources.feed"):
        articles = poll_file(http_server, client, "jsonfeed10.json", "application/json")
    note = articles["ns-2026-03-01"]
    assert note.title == "Jupiter sits low in the west after sunset."
    assert note.published == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert "title taken from its first sentence" in caplog.text


def test_ukrainian_feed_keeps_cyrillic_and_declares_uk(
    http_server: LocalServer, client: httpx.Client
) -> None:
    articles = poll_file(http_server, client, "ukrainian.xml")
    funicular = articles["https://notatky.example/statti/funikuler"]
    assert funicular.title == "Як працює фунікулер"
    assert funicular.text == (
        "Фунікулер з'єднує Верхнє місто з Подолом з 1905 року.\n\nЩодня ним їздять тисячі киян."
    )
    assert funicular.tags == ("Місто",)
    assert funicular.langs == ("uk",)
    assert funicular.site_name == "Київські нотатки"


def test_invalid_utf8_is_decoded_leniently_without_mojibake(
    http_server: LocalServer, client: httpx.Client
) -> None:
    good = "Як працює".encode()
    body = (FEEDS / "ukrainian.xml").read_bytes().replace(good, good[:4] + b"\xff" + good[4:])
    assert b"\xff" in body
    http_server.routes["/bad-utf8.xml"] = Response(200, body, XML)
    result = feed_source(http_server, client, "/bad-utf8.xml").poll({})
    titles = {a.title for a in result.articles}
    assert "Як\ufffd працює фунікулер" in titles
    assert "Почему мосты разводят ночью" in titles


# --- entries with problems ----------------------------------------------------------------


def test_invalid_dates_become_none_and_the_entry_is_kept(
    http_server: LocalServer, client: httpx.Client
) -> None:
    path = serve_file(http_server, "messy.xml")
    result = feed_source(http_server, client, path).poll({})
    bad = {a.id: a for a in result.articles}["https://messy.example/posts/bad-date"]
    assert bad.published is None and bad.updated is None
    assert bad.title == "Bad date"


def test_entry_with_no_identity_is_skipped_with_a_logged_one_line_problem(
    http_server: LocalServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    path = serve_file(http_server, "messy.xml")
    with caplog.at_level(logging.WARNING, logger="bot.sources.feed"):
        result = feed_source(http_server, client, path, name="messy").poll({})
    assert result.problems == (
        "feed messy: entry #3 has no id, link, title or date; skipped",
        "feed messy: entry messy-empty has neither a title nor any text; skipped",
    )
    for problem in result.problems:
        assert problem in caplog.text
    assert len(result.articles) == 3


def test_identity_falls_back_to_link_then_to_a_hash_of_title_and_date(
    http_server: LocalServer, client: httpx.Client
) -> None:
    path = serve_file(http_server, "messy.xml")
    first = feed_source(http_server, client, path).poll({})
    ids = [a.id for a in first.articles]
    assert ids[:2] == [
        "https://messy.example/posts/bad-date",
        "https://messy.example/posts/untitled",
    ]
    assert ids[2].startswith("sha256:")
    again = feed_source(http_server, client, path).poll({})
    assert [a.id for a in again.articles] == ids  # the hash is stable
    hashed = first.articles[2]
    assert hashed.title == "Only a title and a date" and hashed.url == ""


def test_ids_do_not_depend_on_the_url_the_feed_was_fetched_from(
    http_server: LocalServer, client: httpx.Client
) -> None:
    body = rss(item(1), "<item><title>t</title><guid>relative/2</guid></item>")
    http_server.routes["/here.xml"] = Response(200, body, XML)
    http_server.routes["/a/b/there.xml"] = Response(200, body, XML)
    here = feed_source(http_server, client, "/here.xml").poll({})
    there = feed_source(http_server, client, "/a/b/there.xml").poll({})
    assert [a.id for a in here.articles] == ["gen-1", "relative/2"]
    assert [a.id for a in there.articles] == ["gen-1", "relative/2"]


def test_untitled_entry_gets_a_title_from_its_first_sentence(
    http_server: LocalServer, client: httpx.Client
) -> None:
    path = serve_file(http_server, "messy.xml")
    articles = {a.id: a for a in feed_source(http_server, client, path).poll({}).articles}
    untitled = articles["https://messy.example/posts/untitled"]
    assert untitled.title == "Untitled entries still deserve a title."
    assert untitled.text.endswith("The rest stays in the text.")


def test_repeated_ids_keep_the_first_entry_and_report_the_rest(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/dup.xml"] = Response(200, rss(item(1), item(1, "Other body")), XML)
    result = feed_source(http_server, client, "/dup.xml", name="dup").poll({})
    assert [a.text for a in result.articles] == ["Body text."]
    assert result.problems == ("feed dup: entry #2 repeats the id gen-1; skipped",)


def test_articles_are_identical_across_polls_so_content_hashes_do_not_churn(
    http_server: LocalServer, client: httpx.Client
) -> None:
    path = serve_file(http_server, "rss20.xml")
    first = feed_source(http_server, client, path).poll({})
    second = FeedSource(
        "test",
        config.FeedSourceSettings(type="feed", url=http_server.url + path),
        client,
        clock=lambda: NOW + timedelta(days=3),
    ).poll({})
    assert first.articles == second.articles
    assert [a.content_hash() for a in first.articles] == [a.content_hash() for a in second.articles]


# --- feeds that cannot be read --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            (FEEDS / "malformed.xml").read_bytes(),
            "application/xml",
            "malformed XML: mismatched tag",
        ),
        ((FEEDS / "not-a-feed.html").read_bytes(), "text/html", "got an HTML page, not a feed"),
        (b"", "application/xml", "empty response"),
        (b"   \n", "application/rss+xml", "empty response"),
        (b"{not json", "application/feed+json", "invalid JSON"),
        (b'{"items": []}', "application/json", "not a JSON Feed"),
        (b"just some text", "text/plain", "not an RSS, Atom or JSON feed"),
    ],
)
def test_unreadable_documents_raise_one_line_source_errors_naming_the_feed(
    http_server: LocalServer, client: httpx.Client, body: bytes, content_type: str, message: str
) -> None:
    http_server.routes["/bad"] = Response(200, body, {"Content-Type": content_type})
    with pytest.raises(SourceError) as info:
        feed_source(http_server, client, "/bad", name="broken").poll({})
    text = str(info.value)
    assert type(info.value) is SourceError
    assert text.startswith("feed broken: ") and message in text and "\n" not in text


def test_not_found_is_a_source_error(http_server: LocalServer, client: httpx.Client) -> None:
    with pytest.raises(SourceError, match=r"^feed nf: HTTP 404 Not Found at http://") as info:
        feed_source(http_server, client, "/missing.xml", name="nf").poll({})
    assert not isinstance(info.value, FeedGone)


def test_gone_is_feed_gone(http_server: LocalServer, client: httpx.Client) -> None:
    http_server.routes["/gone.xml"] = Response(410, b"gone")
    with pytest.raises(FeedGone, match=r"^feed old: gone for good \(HTTP 410\)"):
        feed_source(http_server, client, "/gone.xml", name="old").poll({})


def test_a_ten_megabyte_feed_is_aborted_at_max_bytes(
    http_server: LocalServer, client: httpx.Client
) -> None:
    huge = rss(*(item(i, "x" * 10_000) for i in range(1_000))).encode()
    assert len(huge) > 10_000_000
    http_server.routes["/huge.xml"] = Response(200, huge, XML)
    with pytest.raises(SourceError, match=r"^feed big: response from .* exceeds max_bytes=1000000"):
        feed_source(http_server, client, "/huge.xml", name="big", max_bytes=1_000_000).poll({})


def test_the_size_cap_counts_decoded_bytes_so_gzip_bombs_are_stopped(
    http_server: LocalServer, client: httpx.Client
) -> None:
    bomb = gzip.compress(rss(item(1, " " * 20_000_000)).encode())
    assert len(bomb) < 100_000
    http_server.routes["/bomb.xml"] = Response(200, bomb, {**XML, "Content-Encoding": "gzip"})
    with pytest.raises(SourceError, match="exceeds max_bytes=5000000"):
        feed_source(http_server, client, "/bomb.xml").poll({})


def test_a_slow_server_times_out_with_a_source_error(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/slow.xml"] = Response(200, rss(item(1)), XML, delay=2.0)
    with pytest.raises(SourceError, match=r"^feed slow: timed out after 0.3s fetching "):
        feed_source(http_server, client, "/slow.xml", name="slow", timeout=0.3).poll({})


def test_a_refused_connection_is_a_source_error(client: httpx.Client) -> None:
    cfg = config.FeedSourceSettings(type="feed", url="http://127.0.0.1:9/feed.xml")
    with pytest.raises(SourceError, match=r"^feed down: cannot fetch http://127.0.0.1:9/feed.xml"):
        FeedSource("down", cfg, client).poll({})


# --- polite and cheap polling ---------------------------------------------------------


def conditional(body: bytes, etag: str, last_modified: str) -> Any:
    def handler(request: Request) -> Response:
        headers = {"ETag": etag, "Last-Modified": last_modified, **XML}
        if request.headers.get("if-none-match") == etag:
            return Response(304, b"", {"ETag": etag})
        return Response(200, body, headers)

    return handler


def test_second_poll_sends_validators_and_a_304_is_not_modified(
    http_server: LocalServer, client: httpx.Client
) -> None:
    modified = "Mon, 02 Mar 2026 08:00:00 GMT"
    http_server.routes["/c.xml"] = conditional(rss(item(1)).encode(), '"v1"', modified)
    source = feed_source(http_server, client, "/c.xml")
    first = source.poll({})
    assert len(first.articles) == 1 and not first.not_modified
    assert first.cursor["etag"] == '"v1"' and first.cursor["last_modified"] == modified
    second = source.poll(first.cursor)
    sent = http_server.hits("/c.xml")[1].headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == modified
    assert second == Poll(cursor=first.cursor, not_modified=True)
    assert "if-none-match" not in http_server.hits("/c.xml")[0].headers


def test_an_identical_body_without_validators_is_not_modified_without_parsing(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/plain.xml"] = Response(200, rss(item(1)), XML)
    source = feed_source(http_server, client, "/plain.xml")
    first = source.poll({})
    second = source.poll(first.cursor)
    assert second.not_modified and second.articles == ()
    assert second.cursor == first.cursor


def test_an_identical_document_that_only_feedparser_reads_is_not_parsed_again(
    http_server: LocalServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    latin = rss(item(1, "Caf\u00e9")).replace("utf-8", "iso-8859-1").encode("latin-1")
    http_server.routes["/latin.xml"] = Response(200, latin, XML)
    source = feed_source(http_server, client, "/latin.xml")
    first = source.poll({})
    assert first.cursor["body_hash"] and [a.text for a in first.articles] == ["Café"]
    parses: list[str] = []
    monkeypatch.setattr(feed, "read_document", lambda *args: parses.append(args[0]))
    second = source.poll(first.cursor)
    assert second.not_modified and second.cursor == first.cursor and parses == []


def test_only_new_or_changed_entries_are_returned_once_the_cursor_knows_the_rest(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/grow.xml"] = Response(200, rss(item(1), item(2)), XML)
    source = feed_source(http_server, client, "/grow.xml")
    first = source.poll({})
    assert [a.id for a in first.articles] == ["gen-1", "gen-2"]
    http_server.routes["/grow.xml"] = Response(
        200, rss(item(3), item(1), item(2, "Edited body.")), XML
    )
    second = source.poll(first.cursor)
    assert not second.not_modified
    assert [(a.id, a.text) for a in second.articles] == [
        ("gen-3", "Body text."),
        ("gen-2", "Edited body."),
    ]
    assert source.poll({}).articles[1].id == "gen-1"  # an empty cursor gets everything


def test_editing_the_configured_url_starts_from_a_fresh_cursor(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/a.xml"] = conditional(rss(item(1)).encode(), '"a"', "")
    http_server.routes["/b.xml"] = Response(200, rss(item(1)), XML)
    cursor = feed_source(http_server, client, "/a.xml").poll({}).cursor
    moved = feed_source(http_server, client, "/b.xml").poll(cursor)
    assert "if-none-match" not in http_server.hits("/b.xml")[0].headers
    assert [a.id for a in moved.articles] == ["gen-1"]


@pytest.mark.parametrize("status", [301, 308])
def test_a_permanent_redirect_is_stored_logged_and_used_next_time(
    http_server: LocalServer,
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    http_server.routes["/old.xml"] = Response(status, b"", {"Location": "/new.xml"})
    http_server.routes["/new.xml"] = Response(200, rss(item(1)), XML)
    source = feed_source(http_server, client, "/old.xml", name="mover")
    with caplog.at_level(logging.WARNING, logger="bot.sources.feed"):
        first = source.poll({})
    assert first.cursor["url"] == http_server.url + "/new.xml"
    assert [a.id for a in first.articles] == ["gen-1"]
    assert "feed moved permanently feed=mover" in caplog.text
    source.poll(first.cursor)
    assert len(http_server.hits("/old.xml")) == 1
    assert len(http_server.hits("/new.xml")) == 2


@pytest.mark.parametrize("status", [302, 303, 307])
def test_a_temporary_redirect_is_followed_but_not_stored(
    http_server: LocalServer, client: httpx.Client, status: int
) -> None:
    http_server.routes["/tmp.xml"] = Response(status, b"", {"Location": "/elsewhere.xml"})
    http_server.routes["/elsewhere.xml"] = Response(200, rss(item(1)), XML)
    source = feed_source(http_server, client, "/tmp.xml")
    first = source.poll({})
    assert [a.id for a in first.articles] == ["gen-1"]
    assert "url" not in first.cursor
    source.poll(first.cursor)
    assert len(http_server.hits("/tmp.xml")) == 2


def test_a_permanent_redirect_through_a_temporary_one_is_not_stored(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/one.xml"] = Response(301, b"", {"Location": "/two.xml"})
    http_server.routes["/two.xml"] = Response(302, b"", {"Location": "/three.xml"})
    http_server.routes["/three.xml"] = Response(200, rss(item(1)), XML)
    assert "url" not in feed_source(http_server, client, "/one.xml").poll({}).cursor


def test_redirect_loops_stop_at_max_redirects(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/loop.xml"] = Response(302, b"", {"Location": "/loop.xml"})
    with pytest.raises(SourceError, match=r"^feed loop: more than 3 redirects"):
        feed_source(http_server, client, "/loop.xml", name="loop", max_redirects=3).poll({})
    assert len(http_server.hits("/loop.xml")) == 4


def test_gzip_responses_are_asked_for_and_decoded(
    http_server: LocalServer, client: httpx.Client
) -> None:
    body = gzip.compress((FEEDS / "ukrainian.xml").read_bytes())
    http_server.routes["/gz.xml"] = Response(200, body, {**XML, "Content-Encoding": "gzip"})
    result = feed_source(http_server, client, "/gz.xml").poll({})
    assert result.articles[0].title == "Як працює фунікулер"
    assert "gzip" in http_server.hits("/gz.xml")[0].headers["accept-encoding"]


def test_requests_carry_feedbots_user_agent(http_server: LocalServer, client: httpx.Client) -> None:
    http_server.routes["/ua.xml"] = Response(200, rss(item(1)), XML)
    feed_source(http_server, client, "/ua.xml").poll({})
    assert http_server.hits("/ua.xml")[0].headers["user-agent"] == USER_AGENT


def test_a_cookie_one_feed_sets_is_never_sent_to_another_feed_or_back(
    http_server: LocalServer, client: httpx.Client
) -> None:
    """Feeds share one client; its cookie jar must not carry one server's cookie to the
    next feed (or track the bot across polls)."""
    http_server.routes["/a.xml"] = Response(200, rss(item(1)), {**XML, "Set-Cookie": "s=1"})
    http_server.routes["/b.xml"] = Response(200, rss(item(2)), XML)
    feed_source(http_server, client, "/a.xml", name="a").poll({})
    feed_source(http_server, client, "/b.xml", name="b").poll({})
    feed_source(http_server, client, "/a.xml", name="a").poll({})
    asked = http_server.hits("/b.xml") + http_server.hits("/a.xml")
    assert [r.headers.get("cookie") for r in asked] == [None, None, None]
    assert all(r.headers["accept"].startswith("application/rss+xml") for r in asked)


@pytest.mark.parametrize("direct", [True, False], ids=["straight-to-transport", "client-send"])
def test_no_client_keeps_a_cookie_on_either_path(
    http_server: LocalServer, direct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server setting cookie after cookie must not grow a jar the bot keeps for
    months; ``client.send`` (taken with a proxy configured) would fill it."""
    cookies = {"Set-Cookie": "s=1; Path=/", "Set-Cookie2": "t=2"}
    http_server.routes["/c.xml"] = Response(200, rss(item(1)), {**XML, **cookies})
    with make_client() as client:
        if not direct:
            monkeypatch.setattr(client, "direct", None)
        assert feed_source(http_server, client, "/c.xml").poll({}).articles
        assert list(client.cookies.jar) == []


def test_a_proxy_in_the_environment_is_used_for_feeds(
    http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Going straight to the transport must not drop httpx's proxy support: with
    ``HTTP_PROXY`` set, a feed is asked for through the proxy (here the test server,
    which sees the absolute URL), not resolved and dialled by the bot."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", http_server.url)
    http_server.routes["http://feed.invalid/p.xml"] = Response(200, rss(item(1)), XML)
    with make_client() as client:
        cfg = config.FeedSourceSettings(type="feed", url="http://feed.invalid/p.xml")
        result = FeedSource("proxied", cfg, client, clock=lambda: NOW).poll({})
    assert [a.id for a in result.articles] == ["gen-1"]
    assert http_server.hits("http://feed.invalid/p.xml")


def test_retry_after_seconds_on_503_raises_throttled_with_next_poll(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/busy.xml"] = Response(503, b"busy", {"Retry-After": "120"})
    with pytest.raises(FeedThrottled, match=r"^feed busy: HTTP 503 Service Unavailable") as info:
        feed_source(http_server, client, "/busy.xml", name="busy").poll({})
    assert info.value.next_poll == NOW + timedelta(seconds=120)
    assert isinstance(info.value, SourceError)


def test_retry_after_as_an_http_date_on_429(http_server: LocalServer, client: httpx.Client) -> None:
    later = NOW + timedelta(hours=2)
    http_server.routes["/rl.xml"] = Response(
        429, b"", {"Retry-After": format_datetime(later, True)}
    )
    with pytest.raises(FeedThrottled) as info:
        feed_source(http_server, client, "/rl.xml").poll({})
    assert info.value.next_poll == later


def test_max_age_less_age_sets_next_poll_on_200_and_304(
    http_server: LocalServer, client: httpx.Client
) -> None:
    cache = {"Cache-Control": "public, max-age=900", "Age": "300", "ETag": '"m"'}

    def handler(request: Request) -> Response:
        if request.headers.get("if-none-match") == '"m"':
            return Response(304, b"", cache)
        return Response(200, rss(item(1)), {**XML, **cache})

    http_server.routes["/cached.xml"] = handler
    source = feed_source(http_server, client, "/cached.xml")
    first = source.poll({})
    assert first.next_poll == NOW + timedelta(seconds=600)
    second = source.poll(first.cursor)
    assert second.not_modified and second.next_poll == NOW + timedelta(seconds=600)


def test_retry_after_wins_over_max_age_and_waits_are_capped_at_a_day(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/both.xml"] = Response(
        200, rss(item(1)), {**XML, "Retry-After": "60", "Cache-Control": "max-age=600"}
    )
    http_server.routes["/year.xml"] = Response(
        200, rss(item(1)), {**XML, "Cache-Control": "max-age=31536000"}
    )
    http_server.routes["/none.xml"] = Response(200, rss(item(1)), XML)
    assert feed_source(http_server, client, "/both.xml").poll({}).next_poll == (
        NOW + timedelta(seconds=60)
    )
    assert feed_source(http_server, client, "/year.xml").poll({}).next_poll == (
        NOW + timedelta(days=1)
    )
    assert feed_source(http_server, client, "/none.xml").poll({}).next_poll is None


# --- full text ---------------------------------------------------------------------------


def excerpt_feed(server: LocalServer, page: str, extra: str = "") -> str:
    return rss(
        "<item><title>Why the river moved</title>"
        f"<link>{server.url}{page}</link><guid>river</guid>"
        "<description>The river shifted forty metres in one winter.</description>"
        f"{extra}</item>"
    )


def test_full_text_replaces_the_excerpt_and_og_image_becomes_the_cover(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/ex.xml"] = Response(200, excerpt_feed(http_server, "/river"), XML)
    serve_file(http_server, "article.html", "text/html; charset=utf-8")
    http_server.routes["/river"] = http_server.routes["/article.html"]
    article = feed_source(http_server, client, "/ex.xml", full_text=True).poll({}).articles[0]
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[2].startswith("The hydrologist from the county came out in March.")
    assert "Subscribe" not in article.text and "All rights reserved" not in article.text
    assert article.description == "The river shifted forty metres in one winter."
    assert article.cover_url == http_server.url + "/img/og/river-wide.jpg"
    assert http_server.hits("/river")[0].headers["user-agent"] == USER_AGENT


def test_full_text_keeps_the_feeds_own_image(
    http_server: LocalServer, client: httpx.Client
) -> None:
    media = '<enclosure url="https://img.example/own.jpg" type="image/jpeg" length="1"/>'
    http_server.routes["/ex.xml"] = Response(200, excerpt_feed(http_server, "/river", media), XML)
    http_server.routes["/river"] = Response(200, (FEEDS / "article.html").read_bytes())
    article = feed_source(http_server, client, "/ex.xml", full_text=True).poll({}).articles[0]
    assert "hydrologist" in article.text
    assert article.cover_url == "https://img.example/own.jpg"


def test_full_text_failure_keeps_the_excerpt_and_logs_why(
    http_server: LocalServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    http_server.routes["/ex.xml"] = Response(200, excerpt_feed(http_server, "/missing"), XML)
    with caplog.at_level(logging.WARNING, logger="bot.sources.feed"):
        result = feed_source(http_server, client, "/ex.xml", name="ft", full_text=True).poll({})
    assert result.articles[0].text == "The river shifted forty metres in one winter."
    assert result.articles[0].cover_url is None
    assert "full text failed feed=ft item=river reason=HTTP 404 Not Found" in caplog.text


def test_full_text_pages_are_fetched_once_per_new_or_changed_entry(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/ex.xml"] = Response(200, excerpt_feed(http_server, "/river"), XML)
    http_server.routes["/river"] = Response(200, (FEEDS / "article.html").read_bytes())
    source = feed_source(http_server, client, "/ex.xml", full_text=True)
    first = source.poll({})
    http_server.routes["/ex.xml"] = Response(
        200, excerpt_feed(http_server, "/river") + "<!-- rebuilt -->", XML
    )
    second = source.poll(first.cursor)
    assert second.articles == () and not second.not_modified
    assert len(http_server.hits("/river")) == 1


# --- many feeds -------------------------------------------------------------------------


def test_poll_each_keeps_one_bad_feed_from_hurting_the_good_ones(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/good.xml"] = Response(200, rss(item(1)), XML)
    http_server.routes["/gone.xml"] = Response(410, b"")
    http_server.routes["/html"] = Response(200, b"<html><body>hi</body></html>", {})
    sources = {
        name: feed_source(http_server, client, path, name=name)
        for name, path in [("good", "/good.xml"), ("gone", "/gone.xml"), ("html", "/html"),
                           ("missing", "/nope.xml")]
    }  # fmt: skip
    results = dict(poll_each(sources, {"good": {}}, workers=3))
    assert sorted(results) == ["gone", "good", "html", "missing"]
    good = results["good"]
    assert isinstance(good, Poll) and [a.id for a in good.articles] == ["gen-1"]
    assert isinstance(results["gone"], FeedGone)
    assert "got an HTML page" in str(results["html"])
    assert "HTTP 404" in str(results["missing"])


class _Slow:
    """A source whose poll takes a while and whose result can be watched being freed."""

    def __init__(self, started: list[str], name: str, crash: bool = False) -> None:
        self.started, self.name, self.crash = started, name, crash
        self.results: list[weakref.ref[Poll]] = []

    def poll(self, cursor: dict[str, Any]) -> Poll:
        self.started.append(self.name)
        time.sleep(0.02)
        if self.crash:
            raise Crash
        result = Poll(cursor={"n": 1})
        self.results.append(weakref.ref(result))
        return result


def test_poll_each_keeps_no_result_the_caller_is_done_with() -> None:
    """A thousand feeds' first polls are a thousand feeds' articles: only the one being
    handed over may be alive (a list of futures kept them all to the end of the pass)."""
    started: list[str] = []
    sources = {f"f{i}": _Slow(started, f"f{i}") for i in range(12)}
    handed: list[str] = []
    for name, result in poll_each(sources, {}, workers=3):
        assert isinstance(result, Poll) and result.cursor == {"n": 1}
        del result
        gc.collect()
        alive = [n for n in handed if sources[n].results[0]() is not None]
        assert alive == [], f"results of {alive} are still held"
        handed.append(name)
    assert sorted(handed) == sorted(sources)


def test_poll_each_stops_starting_polls_when_the_caller_stops() -> None:
    started: list[str] = []
    sources = {f"f{i}": _Slow(started, f"f{i}") for i in range(40)}
    polls = poll_each(sources, {}, workers=2)
    next(polls)
    polls.close()  # as a caller leaving its loop early does
    count = len(started)
    time.sleep(0.1)
    assert len(started) == count, "polls went on after the caller stopped"
    assert count <= 12, f"{count} of 40 polls ran for a caller that took one"


def test_poll_each_hands_a_workers_base_exception_to_the_caller() -> None:
    started: list[str] = []
    sources = {"ok": _Slow(started, "ok"), "dies": _Slow(started, "dies", crash=True)}
    with pytest.raises(Crash):
        dict(poll_each(sources, {}, workers=2))


def test_a_feed_in_a_legacy_encoding_still_reports_only_changed_entries(
    http_server: LocalServer, client: httpx.Client
) -> None:
    latin = rss(item(1, "Caf\u00e9"), item(2)).replace("utf-8", "iso-8859-1").encode("latin-1")
    http_server.routes["/latin.xml"] = Response(200, latin, XML | {"Content-Type": "text/xml"})
    source = feed_source(http_server, client, "/latin.xml")
    first = source.poll({})
    assert [a.text for a in first.articles] == ["Café", "Body text."]
    edited = rss(item(1, "Caf\u00e9"), item(2, "Edited."), item(3))
    http_server.routes["/latin.xml"] = Response(
        200, edited.replace("utf-8", "iso-8859-1").encode("latin-1"), {"Content-Type": "text/xml"}
    )
    second = source.poll(first.cursor)
    assert [(a.id, a.text) for a in second.articles] == [
        ("gen-2", "Edited."),
        ("gen-3", "Body text."),
    ]


def test_utf8_feed_served_as_text_xml_without_charset_keeps_its_characters(
    http_server: LocalServer, client: httpx.Client
) -> None:
    serve_file(http_server, "ukrainian.xml", "text/xml")
    result = feed_source(http_server, client, "/ukrainian.xml").poll({})
    assert result.articles[0].title == "Як працює фунікулер"


# --- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{type: feed, url: ftp://x.example/feed}", "feeds[0].source.url: expected an http"),
        ("{type: feed, url: 'https://x.example/f', timeout: 0}", "timeout: must be longer than 0s"),
        ("{type: feed, url: 'https://x.example/f', max_redirects: 50}", "max_redirects"),
        ("{type: feed, url: 'https://x.example/f', etag: x}", "source.etag: unknown key"),
    ],
)
def test_feed_settings_are_checked_with_one_line_errors(
    tmp_path: Path, source: str, message: str
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "accounts: {p: {type: preview}}\n"
        f"feeds:\n  - name: f\n    account: p\n    source: {source}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        config.load_config(path, env={})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_feed_settings_defaults() -> None:
    settings = config.FeedSourceSettings(type="feed", url=" https://x.example/feed.xml ")
    assert settings.url == "https://x.example/feed.xml"
    assert (settings.full_text, settings.max_bytes, settings.max_redirects) == (False, 5_000_000, 5)
    assert settings.timeout == timedelta(seconds=20)


def test_a_redirect_with_a_small_body_reuses_the_connection(client: httpx.Client) -> None:
    """Redirect bodies are drained so the next hop reuses the connection (one TCP
    connection, not two). The shared fixture cannot see connections, so this test
    runs its own server that records each request's client port."""
    ports: list[int] = []
    feed = rss(item(1)).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            ports.append(self.client_address[1])
            moved = self.path == "/a"
            body = b"<html>" + b"moved " * 200 + b"</html>" if moved else feed
            self.send_response(302 if moved else 200)
            if moved:
                self.send_header("Location", "/b")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        cfg = config.FeedSourceSettings(type="feed", url=f"http://127.0.0.1:{server.server_port}/a")
        result = FeedSource("t", cfg, client).poll({})
    finally:
        server.shutdown()
        server.server_close()
    assert [a.id for a in result.articles] == ["gen-1"]
    assert len(ports) == 2 and ports[0] == ports[1]


# --- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One</p><p>Two <b>bold</b></p>", "One\n\nTwo bold"),
        ("Line one<br>line two", "Line one\nline two"),
        ("<div><p>Nested <i>in</i></p>tail text</div>", "Nested in\n\ntail text"),
        ("<p>Broken <b>markup</p><p>still read", "Broken markup\n\nstill read"),
        ("Fish &amp; chips &mdash; &#8220;hot&#8221;", "Fish & chips — “hot”"),
        ("<style>p{}</style><p>Kept</p><!-- note --><script>x()</script>", "Kept"),
        ("<p>  lots \n of\t space\u00a0here </p>", "lots of space here"),
        ("<p>before<!-- a comment -->after</p>", "beforeafter"),
        ("<p>x<script>hidden()</script>y</p>", "xy"),
        ("<pre>line 1\n  line 2</pre><p>soft\nwrap</p>", "line 1\nline 2\n\nsoft wrap"),
        ("no markup at all", "no markup at all"),
        ("", ""),
        # a tokenizer, not a parser: the cases where that could go wrong
        ("<script>if (a<b) { s = '<script>' }</script><p>After</p>", "After"),
        ("<object><object>inner</object>still inside</object>out", "out"),
        ('<a title="1 > 0" href="/x">link</a> text', "link text"),
        ("<P>Upper</P><BR>case", "Upper\n\ncase"),
        ("<p>a<!-- <p>not a paragraph</p> -->b</p>", "ab"),
        ("<p>open comment<!-- never closed <p>gone", "open comment"),
        ("<!DOCTYPE html><?php echo 1 ?><p>Body</p>", "Body"),
        ("x < y and <notatag", "x < y and <notatag"),
        ("<pre>a\n<b>b\nc</b>\n</pre>d\ne", "a\nb\nc\n\nd e"),
        ("<p>zero\u200bwidth</p>", "zero width"),
        ("<ul><li>one</li><li>two<br></li></ul>tail", "one\n\ntwo\n\ntail"),
    ],
)
def test_html_to_text_keeps_paragraphs_and_drops_markup(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


def test_first_sentence_is_cut_at_a_word_when_long() -> None:
    assert first_sentence("Short one. Then more.") == "Short one."
    long = "word " * 60
    title = first_sentence(long)
    assert title.endswith("…") and len(title) <= 111 and " wor…" not in title


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en-US", "en"), ("ru_RU", "ru"), ("UK", "uk"), ("ukr", "uk"), ("deu", "de"),
     ("x-klingon", ""), ("", ""), ("english", "")],
)  # fmt: skip
def test_languages_are_reduced_to_iso_639_1(tag: str, code: str) -> None:
    assert iso639_1(tag) == code


def test_the_body_decides_the_format_when_the_content_type_is_wrong(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/rss-as-json"] = Response(
        200, rss(item(1)), {"Content-Type": "application/json"}
    )
    serve_file(http_server, "jsonfeed11.json", "text/html")
    assert [a.id for a in feed_source(http_server, client, "/rss-as-json").poll({}).articles] == [
        "gen-1"
    ]
    assert len(feed_source(http_server, client, "/jsonfeed11.json").poll({}).articles) == 2


def test_a_valid_feed_without_items_is_an_empty_poll_not_an_error(
    http_server: LocalServer, client: httpx.Client
) -> None:
    http_server.routes["/empty.xml"] = Response(200, rss(), XML)
    http_server.routes["/empty.json"] = Response(
        200, '{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}'
    )
    for path in ("/empty.xml", "/empty.json"):
        result = feed_source(http_server, client, path).poll({})
        assert result.articles == () and result.problems == () and not result.not_modified
