"""Identity resolution: order of methods, DID documents, what counts as 'not found'.

The local PLC + PDS answers for real accounts; a local HTTP server stands in for a PLC
directory that answers oddly. The transport refuses every non-local host, so nothing
here leaves the machine; DNS is an injected lookup.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from httpserver import LocalServer, Response
from pds import LocalPds

from bot.errors import IdentityNotFound, SourceError
from bot.http import make_client
from bot.identity import IdentityResolver, is_handle, pds_endpoint

DID = "did:plc:abcdefghijklmnopqrstuvwx"


class LocalOnly(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.urls: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        if request.url.host not in ("localhost", "127.0.0.1"):
            raise httpx.ConnectError("local only", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def transport() -> Iterator[LocalOnly]:
    t = LocalOnly()
    yield t
    t.close()


def resolver(
    transport: LocalOnly,
    txt: dict[str, list[str]] | None = None,
    plc_url: str = "https://plc.invalid",
    resolver_url: str | None = None,
) -> IdentityResolver:
    answers = txt or {}
    return IdentityResolver(
        make_client(transport=transport),
        plc_url=plc_url,
        resolver_url=resolver_url,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        txt_lookup=lambda name: answers.get(name, []),
    )


def test_dns_answer_wins_and_the_other_methods_are_not_tried(
    pds: LocalPds, transport: LocalOnly
) -> None:
    account = pds.create_account("dns")
    txt = {f"_atproto.{account.handle}": [f"did={account.did}", "unrelated=1"]}
    ident = resolver(transport, txt, plc_url=pds.plc_url, resolver_url=pds.pds_url).resolve(
        account.handle
    )
    assert (ident.did, ident.pds, ident.handle) == (account.did, pds.pds_url, account.handle)
    assert transport.urls == [f"{pds.plc_url}/{account.did}"]


def test_ambiguous_dns_answers_are_ignored(pds: LocalPds, transport: LocalOnly) -> None:
    account = pds.create_account("ambig")
    txt = {f"_atproto.{account.handle}": [f"did={account.did}", f"did={DID}"]}
    r = resolver(transport, txt, plc_url=pds.plc_url, resolver_url=pds.pds_url)
    assert r.resolve(account.handle).did == account.did
    assert any("resolveHandle" in u for u in transport.urls)


def test_handles_are_case_insensitive_and_may_carry_an_at_sign(
    pds: LocalPds, transport: LocalOnly
) -> None:
    account = pds.create_account("case")
    r = resolver(transport, plc_url=pds.plc_url, resolver_url=pds.pds_url)
    assert r.resolve("@" + account.handle.upper()).did == account.did


def test_invalid_handle_is_refused_without_any_request(transport: LocalOnly) -> None:
    with pytest.raises(IdentityNotFound, match="neither a DID nor a valid handle"):
        resolver(transport).resolve("not a handle")
    assert transport.urls == []


def test_did_web_document_comes_from_its_well_known_did_json(transport: LocalOnly) -> None:
    with pytest.raises(SourceError) as info:
        resolver(transport).resolve("did:web:blog.example.com")
    assert transport.urls == ["https://blog.example.com/.well-known/did.json"]
    assert not isinstance(info.value, IdentityNotFound)  # a network failure, not an answer
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_did_web_with_a_path_is_refused(transport: LocalOnly) -> None:
    with pytest.raises(IdentityNotFound, match="with a path"):
        resolver(transport).resolve("did:web:example.com:users:alice")
    assert transport.urls == []


def plc(server: LocalServer, doc: dict[str, object] | None, status: int = 200) -> None:
    server.routes[f"/{DID}"] = Response(status, json.dumps(doc) if doc else "not found")


def test_unknown_did_is_not_found(http_server: LocalServer, transport: LocalOnly) -> None:
    plc(http_server, None, status=404)
    with pytest.raises(IdentityNotFound, match="HTTP 404"):
        resolver(transport, plc_url=http_server.url).pds_for(DID)


def test_plc_server_error_is_an_outage_not_an_answer(
    http_server: LocalServer, transport: LocalOnly
) -> None:
    plc(http_server, None, status=503)
    with pytest.raises(SourceError, match="HTTP 503") as info:
        resolver(transport, plc_url=http_server.url).pds_for(DID)
    assert not isinstance(info.value, IdentityNotFound)


def test_document_for_another_did_is_refused(
    http_server: LocalServer, transport: LocalOnly
) -> None:
    plc(http_server, {"id": "did:plc:zzzzzzzzzzzzzzzzzzzzzzzz", "service": []})
    with pytest.raises(IdentityNotFound, match="another DID"):
        resolver(transport, plc_url=http_server.url).pds_for(DID)


def test_document_without_pds_service_is_refused(
    http_server: LocalServer, transport: LocalOnly
) -> None:
    plc(http_server, {"id": DID, "service": [{"id": "#bsky_fg", "serviceEndpoint": "https://x"}]})
    with pytest.raises(IdentityNotFound, match="no #atproto_pds"):
        resolver(transport, plc_url=http_server.url).pds_for(DID)


def test_pds_endpoint_accepts_short_and_full_service_ids() -> None:
    def doc(sid: str, endpoint: object) -> dict[str, object]:
        return {"id": DID, "service": [{"id": sid, "serviceEndpoint": endpoint}]}

    assert pds_endpoint(doc("#atproto_pds", "https://pds.example/")) == "https://pds.example"
    assert pds_endpoint(doc(f"{DID}#atproto_pds", "https://p.example")) == "https://p.example"
    assert pds_endpoint(doc("#atproto_pds", "ftp://p.example")) is None
    assert pds_endpoint(doc("#atproto_pds", {"uri": "https://p"})) is None
    assert pds_endpoint({"id": DID}) is None


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("alice.bsky.social", True),
        ("xn--ls8h.test", True),
        ("a-b.c-d.example", True),
        ("nodot", False),
        ("-bad.example", False),
        ("bad-.example", False),
        ("alice.123", False),
        ("alice..example", False),
    ],
)
def test_handle_syntax(value: str, ok: bool) -> None:
    assert is_handle(value) is ok
