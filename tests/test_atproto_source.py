"""The atproto source against a real local PLC + PDS (see tests/pds.py).

Requests are observed at the transport, the one seam all HTTP goes through: it records
every request and refuses any host but the local network, so ``.well-known`` lookups of
``.test`` handles fail fast instead of leaving the machine. DNS is an injected lookup
that records what it was asked and knows nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pds import LocalPds

from bot.config import AtprotoSourceSettings
from bot.errors import SourceError
from bot.http import make_client
from bot.model import StrongRef
from bot.progress import NO_PROGRESS, Progress
from bot.sources.atproto import AtprotoSource
from bot.untrusted import MAX_TEXT_CHARS

DOC = "site.standard.document"
PUB = "site.standard.publication"
LOCAL_HOSTS = ("localhost", "127.0.0.1")


class RecordingTransport(httpx.BaseTransport):
    """Records requests; refuses non-local hosts; can fail chosen XRPC methods."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []
        self.fail: dict[str, Callable[[httpx.Request], Exception]] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host not in LOCAL_HOSTS:
            raise httpx.ConnectError("tests reach only the local network", request=request)
        for method, make_error in self.fail.items():
            if request.url.path.endswith(f"/xrpc/{method}"):
                raise make_error(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def count(self, needle: str) -> int:
        return sum(needle in str(r.url) for r in self.requests)

    def reset(self) -> None:
        self.requests.clear()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Dns:
    """A TXT lookup that knows no names and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, name: str) -> list[str]:
        self.asked.append(name)
        return []


class Harness:
    def __init__(self, pds: LocalPds) -> None:
        self.pds = pds
        self.transport = RecordingTransport()
        self.client = make_client(transport=self.transport)
        self.clock = Clock()
        self.dns = Dns()

    def source(self, repo: str, progress: Progress = NO_PROGRESS, **settings: Any) -> AtprotoSource:
        config = AtprotoSourceSettings(
            type="atproto",
            repo=repo,
            plc_url=settings.pop("plc_url", self.pds.plc_url),
            resolver_url=settings.pop("resolver_url", self.pds.pds_url),
            **settings,
        )
        return AtprotoSource(
            "news", config, self.client, self.clock, txt_lookup=self.dns, progress=progress
        )


@dataclass
class Bar:
    """One bar a ``Bars`` was asked for: what it said and how far it got."""

    description: str
    total: int | None
    advanced: int = 0
    finished: bool = False

    def advance(self, amount: int = 1) -> None:
        self.advanced += amount

    def done(self) -> None:
        self.finished = True


class Bars:
    """A ``Progress`` that remembers each bar it drew."""

    def __init__(self) -> None:
        self.bars: list[Bar] = []

    def task(self, description: str, total: int | None = None) -> Bar:
        self.bars.append(Bar(description, total))
        return self.bars[-1]


@pytest.fixture
def h(pds: LocalPds) -> Iterator[Harness]:
    harness = Harness(pds)
    yield harness
    harness.client.close()


def doc(title: str, n: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "site": "https://news.example.com",
        "path": f"/{n}",
        "title": title,
        "publishedAt": f"2026-05-{1 + n % 28:02d}T10:00:00.000Z",
        "textContent": f"Body of {title}.",
        **fields,
    }


def test_first_poll_reads_every_page_and_next_poll_only_the_new_record(
    h: Harness, pds: LocalPds
) -> None:
    account = pds.create_account("paging")
    created = pds.create_records(account, DOC, [doc(f"Doc {i}", i) for i in range(160)])
    bars = Bars()
    source = h.source(account.did, progress=bars)

    first = source.poll({})
    assert bars.bars == [Bar(f"listing news {DOC}", None, 160, True)]  # a bar on a terminal

    assert {a.id for a in first.articles} == {uri for uri, _ in created}
    assert len(first.articles) == 160
    assert first.articles[0].id == created[-1][0]  # newest first
    assert h.transport.count("listRecords") == 2  # 100 + 60
    assert first.problems == ()

    new_uri, new_cid = pds.put_record(account, DOC, doc("Fresh", 200))
    h.transport.reset()
    second = source.poll(first.cursor)

    assert [a.id for a in second.articles] == [new_uri]
    assert second.articles[0].refs == (StrongRef(new_uri, new_cid),)
    assert h.transport.count("listRecords") == 1
    assert second.cursor["newest"][DOC] == new_uri.rsplit("/", 1)[1]

    third = source.poll(second.cursor)
    assert third.articles == ()
    assert third.cursor == second.cursor


def test_first_poll_is_bounded_by_max_records(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("bounded")
    created = pds.create_records(account, DOC, [doc(f"Doc {i}", i) for i in range(45)])
    source = h.source(account.did, page_limit=20, max_records=30)

    poll = source.poll({})

    assert [a.id for a in poll.articles] == [uri for uri, _ in reversed(created)][:30]
    assert h.transport.count("listRecords") == 2
    assert "limit=20" in str(h.transport.requests[-1].url)


def test_cursor_of_another_did_is_ignored(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("moved")
    pds.create_records(account, DOC, [doc("One", 1), doc("Two", 2)])
    stale = {"did": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "newest": {DOC: "zzzzzzzzzzzzz"}}

    poll = h.source(account.did).poll(stale)

    assert len(poll.articles) == 2
    assert poll.cursor["did"] == account.did


def test_publication_site_and_https_site_give_canonical_urls_and_refs(
    h: Harness, pds: LocalPds
) -> None:
    account = pds.create_account("sites")
    pub_uri, pub_cid = pds.put_record(
        account, PUB, {"url": "https://blog.example.org/", "name": "Example Blog"}
    )
    in_pub = [
        pds.put_record(account, DOC, doc("In publication", 1, site=pub_uri, path="/a"))
        for _ in range(2)
    ]
    plain_uri, plain_cid = pds.put_record(account, DOC, doc("Plain", 2, path="/posts/plain"))

    poll = h.source(account.did).poll({})
    by_id = {a.id: a for a in poll.articles}

    for uri, cid in in_pub:
        got = by_id[uri]
        assert got.url == "https://blog.example.org/a"
        assert got.site_name == "Example Blog"
        assert got.refs == (StrongRef(uri, cid), StrongRef(pub_uri, pub_cid))
    plain = by_id[plain_uri]
    assert plain.url == "https://news.example.com/posts/plain"
    assert plain.refs == (StrongRef(plain_uri, plain_cid),)
    assert h.transport.count("getRecord") == 1  # the publication is cached


def test_cover_url_serves_the_uploaded_bytes(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("cover")
    image = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 64 + b"\xff\xd9"
    blob = pds.upload_blob(account, image, "image/jpeg")
    uri, _ = pds.put_record(account, DOC, doc("With cover", coverImage=blob))

    (got,) = h.source(account.did).poll({}).articles

    assert got.id == uri
    assert got.cover_url is not None
    assert got.cover_url.startswith(f"{pds.pds_url}/xrpc/com.atproto.sync.getBlob?")
    response = h.client.get(got.cover_url)
    assert response.status_code == 200
    assert response.content == image


def test_malformed_record_is_skipped_with_its_uri_and_the_rest_goes_on(
    h: Harness, pds: LocalPds, caplog: pytest.LogCaptureFixture
) -> None:
    account = pds.create_account("broken")
    good_old, _ = pds.put_record(account, DOC, doc("Good old", 1))
    bad, _ = pds.put_record(account, DOC, doc("Bad", 2, publishedAt="last Tuesday"), validate=False)
    untitled, _ = pds.put_record(account, DOC, {"site": "https://x.example"}, validate=False)
    good_new, _ = pds.put_record(account, DOC, doc("Good new", 3))

    with caplog.at_level(logging.WARNING, logger="bot.sources.atproto"):
        poll = h.source(account.did).poll({})

    assert [a.id for a in poll.articles] == [good_new, good_old]
    assert len(poll.problems) == 2
    assert poll.problems[0].startswith(f"{untitled}: missing title")
    assert poll.problems[1].startswith(f"{bad}: publishedAt is not an RFC 3339 date-time")
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.sources.atproto"]
    assert any(bad in m for m in logged)
    assert any(untitled in m for m in logged)


def test_malformed_newest_record_still_moves_the_cursor(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("badtop")
    pds.put_record(account, DOC, doc("Good", 1))
    bad, _ = pds.put_record(account, DOC, {"title": 5}, validate=False)
    source = h.source(account.did)

    first = source.poll({})
    second = source.poll(first.cursor)

    assert first.cursor["newest"][DOC] == bad.rsplit("/", 1)[1]
    assert second.articles == () and second.problems == ()


def test_very_long_text_content_arrives_whole_up_to_the_cap(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("long")
    paragraph = "Байкал — самое глубокое озеро на планете. " * 40 + "🌊\n\n"
    text = (paragraph * (MAX_TEXT_CHARS // len(paragraph))).strip()  # 190 KB of UTF-8
    assert len(text) > MAX_TEXT_CHARS * 0.95
    longer = (paragraph * 120).strip()  # 200,000 characters: cut at the cap, between words
    pds.put_record(account, DOC, doc("Long", textContent=text))
    pds.put_record(account, DOC, doc("Longer", 1, textContent=longer))

    got = {a.title: a.text for a in h.source(account.did).poll({}).articles}

    assert got["Long"] == text
    assert len(got["Longer"]) <= MAX_TEXT_CHARS and longer.startswith(got["Longer"])
    assert longer[len(got["Longer"])] in " \n"


def test_titles_with_emoji_combining_marks_and_cyrillic_are_kept_exactly(
    h: Harness, pds: LocalPds
) -> None:
    account = pds.create_account("unicode")
    titles = [
        "Запуск «Прогресса» 🚀 прошёл штатно",
        "Family 👨‍👩‍👧‍👦 and flags 🇺🇦🇰🇿, skin 👋🏽",
        "Cafe\u0301 de\u0301ja\u0300 vu — Z\u0335\u0327a\u0336l\u0334g\u0338o",
        "Бібліотека працює вночі: ґанок, їжак, є",
    ]
    for i, title in enumerate(titles):
        pds.put_record(account, DOC, doc(title, i))

    poll = h.source(account.did).poll({})

    assert sorted(a.title for a in poll.articles) == sorted(titles)


def test_handle_resolves_via_resolve_handle_and_local_plc(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("byhandle")
    uri, _ = pds.put_record(account, DOC, doc("Hello", 1))

    poll = h.source(account.handle).poll({})

    assert [a.id for a in poll.articles] == [uri]
    assert poll.cursor["did"] == account.did
    assert h.dns.asked == [f"_atproto.{account.handle}"]
    assert h.transport.count(f"https://{account.handle}/.well-known/atproto-did") == 1
    assert h.transport.count("com.atproto.identity.resolveHandle") == 1
    assert h.transport.count(f"{pds.plc_url}/{account.did}") == 1


def test_second_poll_makes_no_resolution_requests_until_the_ttl_passes(
    h: Harness, pds: LocalPds
) -> None:
    account = pds.create_account("cached")
    pub_uri, _ = pds.put_record(account, PUB, {"url": "https://c.example", "name": "C"})
    pds.put_record(account, DOC, doc("Hello", 1, site=pub_uri))
    source = h.source(account.handle, identity_ttl="10m")
    first = source.poll({})
    resolution = ("resolveHandle", "/.well-known/", pds.plc_url, "getRecord")

    h.transport.reset()
    h.dns.asked.clear()
    pds.put_record(account, DOC, doc("Again", 2, site=pub_uri))
    second = source.poll({})  # a fresh cursor: the publication is needed again

    assert len(second.articles) == 2
    assert [str(r.url) for r in h.transport.requests if "listRecords" not in str(r.url)] == []
    assert h.dns.asked == []
    assert all(h.transport.count(n) == 0 for n in resolution)

    h.clock.now += timedelta(minutes=11)
    source.poll(first.cursor)
    assert h.dns.asked == [f"_atproto.{account.handle}"]
    assert h.transport.count("resolveHandle") == 1
    assert h.transport.count(pds.plc_url) == 1


def test_a_did_needs_no_handle_resolution(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("bydid")
    h.source(account.did).poll({})
    assert h.dns.asked == []
    assert h.transport.count("resolveHandle") == 0
    assert h.transport.count(pds.plc_url) == 1


def test_unresolvable_handle_is_a_source_error(h: Harness, pds: LocalPds) -> None:
    with pytest.raises(SourceError, match=r"cannot resolve handle nobody-here\.test"):
        h.source("nobody-here.test").poll({})


def test_unreachable_plc_is_a_source_error_naming_the_did(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("noplc")
    with pytest.raises(SourceError, match=account.did) as info:
        h.source(account.did, plc_url="http://127.0.0.1:9").poll({})
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_list_records_timeout_is_a_source_error_naming_the_repo(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("timeout")
    h.transport.fail["com.atproto.repo.listRecords"] = lambda r: httpx.ReadTimeout(
        "slow", request=r
    )

    with pytest.raises(SourceError) as info:
        h.source(account.handle).poll({})

    assert account.handle in str(info.value)
    assert "listRecords" in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


def test_deactivated_repo_is_a_source_error_with_the_pds_reason(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("deact")
    pds.procedure("com.atproto.server.deactivateAccount", {}, account)

    with pytest.raises(
        SourceError, match=r"listRecords answered HTTP 400 \(InvalidRequest: Could not find repo"
    ):
        h.source(account.did).poll({})


def test_leaflet_and_whtwnd_collections_are_followed_on_request(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("multi")
    leaf_pub, leaf_pub_cid = pds.put_record(
        account,
        "pub.leaflet.publication",
        {"name": "Leafy", "base_path": "leafy.leaflet.pub"},
        validate=False,
    )
    page = {
        "$type": "pub.leaflet.pages.linearDocument",
        "blocks": [
            {"block": {"$type": "pub.leaflet.blocks.header", "plaintext": "Heading"}},
            {"block": {"$type": "pub.leaflet.blocks.text", "plaintext": "Leaf body."}},
        ],
    }
    leaf_uri, _ = pds.put_record(
        account,
        "pub.leaflet.document",
        {
            "title": "Leaf",
            "author": account.did,
            "publication": leaf_pub,
            "pages": [page],
            "publishedAt": "2026-05-01T00:00:00Z",
        },
        validate=False,
    )
    wind_uri, _ = pds.put_record(
        account,
        "com.whtwnd.blog.entry",
        {"title": "Wind", "content": "Some *markdown*.", "visibility": "public"},
        validate=False,
    )
    pds.put_record(
        account,
        "com.whtwnd.blog.entry",
        {"title": "Draft", "content": "x", "visibility": "author"},
        validate=False,
    )
    std_uri, _ = pds.put_record(account, DOC, doc("Std", 1))
    source = h.source(
        account.handle,
        collections=["site.standard.document", "pub.leaflet.document", "com.whtwnd.blog.entry"],
    )

    poll = source.poll({})

    by_id = {a.id: a for a in poll.articles}
    assert set(by_id) == {std_uri, leaf_uri, wind_uri}  # the draft is left out quietly
    assert poll.problems == ()
    assert by_id[leaf_uri].url == f"https://leafy.leaflet.pub/{leaf_uri.rsplit('/', 1)[1]}"
    assert by_id[leaf_uri].text == "Heading\n\nLeaf body."
    assert by_id[leaf_uri].refs[1] == StrongRef(leaf_pub, leaf_pub_cid)
    assert (
        by_id[wind_uri].url == f"https://whtwnd.com/{account.handle}/{wind_uri.rsplit('/', 1)[1]}"
    )
    assert by_id[wind_uri].text == "Some markdown."
    assert set(poll.cursor["newest"]) == {
        "site.standard.document",
        "pub.leaflet.document",
        "com.whtwnd.blog.entry",
    }


def test_missing_publication_skips_only_its_documents(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("nopub")
    good, _ = pds.put_record(account, DOC, doc("Good", 1))
    gone_pub = f"at://{account.did}/{PUB}/3lgonegonego2"
    orphan, _ = pds.put_record(account, DOC, doc("Orphan", 2, site=gone_pub))
    stranger = f"at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/{PUB}/3lgonegonego2"
    lost, _ = pds.put_record(account, DOC, doc("Lost", 3, site=stranger))

    poll = h.source(account.did).poll({})

    assert [a.id for a in poll.articles] == [good]
    assert poll.problems[0].startswith(f"{lost}: publication {stranger}: cannot resolve")
    assert poll.problems[1].startswith(f"{orphan}: publication {gone_pub} not found (HTTP 400")


def test_more_new_records_than_max_records_is_reported(h: Harness, pds: LocalPds) -> None:
    account = pds.create_account("flood")
    source = h.source(account.did, page_limit=10, max_records=10)
    pds.put_record(account, DOC, doc("First", 0))
    first = source.poll({})
    pds.create_records(account, DOC, [doc(f"Doc {i}", i) for i in range(12)])

    second = source.poll(first.cursor)

    assert len(second.articles) == 10
    assert second.problems == (
        f"{DOC}: more than 10 new records since the last poll; older ones were not read",
    )
