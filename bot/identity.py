"""AT Protocol identity: handle → DID → PDS, cached for a while.

A handle is resolved by DNS TXT ``_atproto.<handle>``, then
``https://<handle>/.well-known/atproto-did``, then ``com.atproto.identity.resolveHandle``
on a resolver service, first answer wins. A DID is resolved to its document
(``did:plc`` from a PLC directory whose URL is configurable, ``did:web`` from
``https://<host>/.well-known/did.json``), whose ``#atproto_pds`` service is the PDS.

Every HTTP request goes through the injected ``httpx.Client`` and DNS through an
injected lookup, so tests can count requests and never touch real DNS. Results are
kept in memory for ``ttl`` measured with the injected clock. Failures raise
``SourceError`` with one line naming what could not be resolved; ``IdentityNotFound``
(a subclass) when the answer itself says no, as opposed to the network failing, so a
caller can tell a bad reference inside one record from an outage.

Not done (yet): checking that a DID document's ``alsoKnownAs`` claims the handle back.
We only read public records from the DID's own repo, so a wrong claim can't make us
read someone else's repo under a name it doesn't own for long: the DID is what counts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import dns.exception
import dns.resolver
import httpx

from bot.clock import Clock, utcnow
from bot.errors import IdentityNotFound, SourceError
from bot.http import request_bounded
from bot.untrusted import parse_json

log = logging.getLogger("bot.identity")

TxtLookup = Callable[[str], Sequence[str]]

DNS_TIMEOUT = 3.0  # seconds; DNS is the first of three methods, so fail fast
MAX_WELL_KNOWN_BYTES = 2048
#: a DID document is a few hundred bytes; anything past this is not one
MAX_DID_DOCUMENT_BYTES = 64 * 1024
#: the whole request for a DID document, redirects and body included
DID_DOCUMENT_SECONDS = 10.0

_HANDLE = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
_DID_PLC = re.compile(r"^did:plc:[a-z2-7]{24}$")


def is_did(value: str) -> bool:
    return bool(_DID.match(value)) and len(value) <= 2048


def is_handle(value: str) -> bool:
    return bool(_HANDLE.match(value)) and len(value) <= 253


def dns_txt_lookup(name: str) -> list[str]:
    """TXT strings of ``name`` via dnspython; empty when there are none or DNS fails."""
    resolver = dns.resolver.Resolver()
    resolver.lifetime = DNS_TIMEOUT
    try:
        answer = resolver.resolve(name, "TXT")
    except dns.exception.DNSException as exc:
        log.debug("dns txt lookup failed name=%s error=%s", name, type(exc).__name__)
        return []
    texts = []
    for rdata in answer:
        parts: Sequence[bytes] = getattr(rdata, "strings", ())
        texts.append(b"".join(parts).decode("utf-8", "replace"))
    return texts


@dataclass(frozen=True)
class Identity:
    did: str
    pds: str  # base URL of the PDS hosting the repo, without a trailing slash
    handle: str | None = None  # only when the repo was named by handle


class IdentityResolver:
    """Resolves handles and DIDs to PDS endpoints, with an in-memory TTL cache."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        plc_url: str = "https://plc.directory",
        resolver_url: str | None = None,
        ttl: timedelta = timedelta(hours=1),
        clock: Clock = utcnow,
        txt_lookup: TxtLookup = dns_txt_lookup,
        content_client: httpx.Client | None = None,
    ) -> None:
        """``client`` asks the configured services (PLC directory, resolver, the
        configured handle's host); ``content_client`` (by default the same) fetches
        ``did:web`` documents, whose host comes from content."""
        self.client = client
        self.content_client = content_client or client
        self.plc_url = plc_url.rstrip("/")
        self.resolver_url = resolver_url.rstrip("/") if resolver_url else None
        self.ttl = ttl
        self.clock = clock
        self.txt_lookup = txt_lookup
        self._handles: dict[str, tuple[str, datetime]] = {}
        self._pds: dict[str, tuple[str, datetime]] = {}

    def resolve(self, repo: str) -> Identity:
        """A handle or DID → ``Identity``; raises ``SourceError`` when it can't."""
        if repo.startswith("did:"):
            return Identity(did=repo, pds=self.pds_for(repo))
        handle = repo.lower().removeprefix("@")
        did = self.did_for(handle)
        return Identity(did=did, pds=self.pds_for(did), handle=handle)

    # --- handle → DID ----------------------------------------------------------------

    def did_for(self, handle: str) -> str:
        cached = self._cached(self._handles, handle)
        if cached:
            return cached
        if not is_handle(handle):
            raise IdentityNotFound(f"{handle!r} is neither a DID nor a valid handle")
        for method in (self._did_by_dns, self._did_by_well_known, self._did_by_xrpc):
            did = method(handle)
            if did:
                log.debug("resolved handle=%s did=%s via=%s", handle, did, method.__name__)
                self._handles[handle] = (did, self.clock() + self.ttl)
                return did
        tried = "DNS, https" + (f", {self.resolver_url}" if self.resolver_url else "")
        raise IdentityNotFound(f"cannot resolve handle {handle} (tried {tried})")

    def _did_by_dns(self, handle: str) -> str | None:
        found = [
            text.removeprefix("did=")
            for text in self.txt_lookup(f"_atproto.{handle}")
            if text.startswith("did=")
        ]
        # more than one answer is ambiguous and must be ignored
        return found[0] if len(found) == 1 and is_did(found[0]) else None

    def _did_by_well_known(self, handle: str) -> str | None:
        try:
            response = self.client.get(f"https://{handle}/.well-known/atproto-did")
        except httpx.HTTPError as exc:
            log.debug("well-known lookup failed handle=%s error=%s", handle, exc)
            return None
        if response.status_code != 200 or len(response.content) > MAX_WELL_KNOWN_BYTES:
            return None
        did = response.text.strip()
        return did if is_did(did) else None

    def _did_by_xrpc(self, handle: str) -> str | None:
        if not self.resolver_url:
            return None
        url = f"{self.resolver_url}/xrpc/com.atproto.identity.resolveHandle"
        try:
            response = self.client.get(url, params={"handle": handle})
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot resolve handle {handle}: {url}: {exc}") from exc
        if response.status_code != 200:
            return None
        did = _json(response).get("did")
        return did if isinstance(did, str) and is_did(did) else None

    # --- DID → PDS -------------------------------------------------------------------

    def pds_for(self, did: str) -> str:
        cached = self._cached(self._pds, did)
        if cached:
            return cached
        pds = pds_endpoint(self.did_document(did))
        if pds is None:
            raise IdentityNotFound(f"DID document of {did} names no #atproto_pds service")
        self._pds[did] = (pds, self.clock() + self.ttl)
        return pds

    def did_document(self, did: str) -> dict[str, Any]:
        if _DID_PLC.match(did):
            url = f"{self.plc_url}/{did}"
        elif did.startswith("did:web:") and is_did(did):
            name = did.removeprefix("did:web:")
            if ":" in name:  # colons separate path segments; a port is written %3A
                raise IdentityNotFound(f"{did}: did:web with a path is not used by AT Protocol")
            url = f"https://{unquote(name)}/.well-known/did.json"
        else:
            raise IdentityNotFound(f"{did}: unsupported or malformed DID")
        client = self.client if url.startswith(self.plc_url) else self.content_client

        def fail(reason: str) -> SourceError:
            return SourceError(f"cannot resolve {did}: {reason}")

        response = request_bounded(
            client,
            "GET",
            url,
            max_bytes=MAX_DID_DOCUMENT_BYTES,
            seconds=DID_DOCUMENT_SECONDS,
            fail=fail,
        )
        status = response.status
        if status in (404, 410):
            raise IdentityNotFound(f"cannot resolve {did}: {url} answered HTTP {status}")
        if status != 200:
            raise SourceError(f"cannot resolve {did}: {url} answered HTTP {status}")
        doc = _json_object(response.body, url)
        if doc.get("id") != did:
            raise IdentityNotFound(f"cannot resolve {did}: {url} gave a document for another DID")
        return doc

    def _cached(self, cache: dict[str, tuple[str, datetime]], key: str) -> str | None:
        entry = cache.get(key)
        if entry is None:
            return None
        value, expires = entry
        if self.clock() >= expires:
            del cache[key]
            return None
        return value


def pds_endpoint(doc: dict[str, Any]) -> str | None:
    """The ``#atproto_pds`` service endpoint of a DID document, if it has a usable one."""
    did = doc.get("id")
    services = doc.get("service")
    if not isinstance(services, list):
        return None
    for service in services:
        if not isinstance(service, dict):
            continue
        if service.get("id") not in ("#atproto_pds", f"{did}#atproto_pds"):
            continue
        endpoint = service.get("serviceEndpoint")
        if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")):
            return endpoint.rstrip("/")
    return None


def _json_object(body: bytes, url: str) -> dict[str, Any]:
    try:
        data = parse_json(body)  # a bounded depth
    except ValueError as exc:
        raise SourceError(f"{url}: the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise SourceError(f"{url}: the answer is not a JSON object")
    return data


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise SourceError(f"{response.request.url}: the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise SourceError(f"{response.request.url}: the answer is not a JSON object")
    return data
