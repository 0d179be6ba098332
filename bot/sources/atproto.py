"""The ``atproto`` source: long-form records read from one repo over plain XRPC.

A poll resolves the repo (handle → DID → PDS, cached), then pages through
``com.atproto.repo.listRecords`` of each followed collection, newest record key first,
and stops at the newest key the previous poll saw (record keys are TIDs, which sort by
time). With no cursor it reads everything up to ``max_records``: the pipeline, not the
source, decides how much of the back catalogue to post.

The cursor is ``{"did": ..., "newest": {collection: rkey}}``. If the name now points at
another DID, the old keys mean nothing and the poll starts over.

Followed by an event stream (``follow: jetstream | firehose``), ``read_events`` turns a
batch's events into articles through the same path: the repo of each event (any repo
for ``repo: "*"``) and each document's publication are resolved and cached.

Each record becomes an ``Article`` (``atproto_records``); a malformed one is skipped with
a reason naming its at-uri, logged and returned in ``Poll.problems``. Network failures
raise ``SourceError`` naming the repo. The ``atproto`` SDK is deliberately not used: its
typed helpers fail a whole page on one bad record and drop CIDs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from bot.clock import Clock, utcnow
from bot.config import ANY_REPO, AtprotoSourceSettings
from bot.errors import IdentityNotFound, NotPublic, RecordError, SourceError
from bot.http import request_bounded
from bot.identity import Identity, IdentityResolver, TxtLookup, dns_txt_lookup
from bot.model import Article, Poll
from bot.nsids import PUBLICATION_COLLECTIONS
from bot.progress import NO_PROGRESS, Progress, Task
from bot.sources import EventRead
from bot.sources import atproto_records as records
from bot.streams import Op, RecordEvent, Subscription
from bot.untrusted import parse_json

log = logging.getLogger("bot.sources.atproto")

#: one XRPC answer (a page of at most 100 records) past this is refused
MAX_XRPC_BYTES = 20_000_000
#: the whole XRPC request, body included
XRPC_SECONDS = 30.0


class AtprotoSource:
    """Polls one repo's long-form collections; keeps identity and publication caches."""

    def __init__(
        self,
        feed: str,
        settings: AtprotoSourceSettings,
        client: httpx.Client,
        clock: Clock = utcnow,
        *,
        txt_lookup: TxtLookup = dns_txt_lookup,
        content_client: httpx.Client | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        """``client`` asks the configured PLC directory and resolver; ``content_client``
        (by default the same) asks the PDSes that DID documents name."""
        self.feed = feed
        self.settings = settings
        self.client = content_client or client
        self.clock = clock
        self.progress = progress  # a first listing of a big repo takes a while
        self.identity = IdentityResolver(
            client,
            content_client=self.client,
            plc_url=settings.plc_url,
            resolver_url=settings.resolver_url,
            ttl=settings.identity_ttl,
            clock=clock,
            txt_lookup=txt_lookup,
        )
        self._publications: dict[str, tuple[records.Publication, datetime]] = {}

    def poll(self, cursor: dict[str, Any]) -> Poll:
        repo_name = self.settings.repo
        if repo_name == ANY_REPO:
            # the whole network can't be listed: only the daemon's stream follows it
            log.info("nothing to poll feed=%s repo=* (followed by stream only)", self.feed)
            return Poll(cursor=cursor)
        identity = self._identity()
        repo = records.Repo(did=identity.did, pds=identity.pds, handle=identity.handle)
        known: dict[str, str] = {}
        if cursor.get("did") == identity.did and isinstance(cursor.get("newest"), dict):
            known = {k: v for k, v in cursor["newest"].items() if isinstance(v, str)}
        newest = dict(known)
        articles: list[Article] = []
        problems: list[str] = []
        for collection in self.settings.collections:
            stop_at = known.get(collection)
            page, truncated = self._new_records(identity, collection, stop_at)
            if truncated and stop_at is not None:
                problems.append(
                    f"{collection}: more than {self.settings.max_records} new records since"
                    " the last poll; older ones were not read"
                )
            if page:
                newest[collection] = _rkey(page[0])
            for item in page:
                made = self._article(repo, item["uri"], item["cid"], item["value"], problems)
                if made is not None:
                    articles.append(made)
        log.info(
            "polled feed=%s repo=%s did=%s articles=%d skipped=%d",
            self.feed,
            repo_name,
            identity.did,
            len(articles),
            len(problems),
        )
        return Poll(
            articles=tuple(articles),
            cursor={"did": identity.did, "newest": newest},
            problems=tuple(problems),
        )

    def _identity(self) -> Identity:
        """The configured repo's identity (cached by the resolver)."""
        try:
            return self.identity.resolve(self.settings.repo)
        except SourceError as exc:  # same kind, the feed's name first, the root cause kept
            raise type(exc)(f"atproto repo {self.settings.repo}: {exc}") from (exc.__cause__ or exc)

    def _article(
        self, repo: records.Repo, uri: str, cid: Any, value: Any, problems: list[str]
    ) -> Article | None:
        """One record as an article, or None: a draft quietly, a bad record with its
        reason added to ``problems``."""
        try:
            return records.article(self.feed, repo, uri, cid, value, self._publication)
        except NotPublic as exc:
            log.debug("skipped record feed=%s uri=%s reason=%s", self.feed, uri, exc)
        except RecordError as exc:
            problems.append(f"{uri}: {exc}")
            log.warning("skipped record feed=%s uri=%s reason=%s", self.feed, uri, exc)
        return None

    # --- following a stream ------------------------------------------------------------

    def subscription(self) -> Subscription:
        """The collections followed, and the repo's DID (every repo for ``"*"``)."""
        collections = frozenset(self.settings.collections)
        if self.settings.network_wide:
            return Subscription(collections, None)
        return Subscription(collections, frozenset({self._identity().did}))

    def home_pds(self) -> str:
        """The repo's PDS from its DID document (the firehose to follow by default)."""
        return self._identity().pds

    def read_events(self, events: Sequence[RecordEvent]) -> EventRead:
        """This feed's events of a batch → articles (creates and updates) and deleted
        item ids; other repos' and collections' events are ignored."""
        wanted = self.subscription()
        articles: list[Article] = []
        updated: set[str] = set()
        deleted: list[str] = []
        problems: list[str] = []
        for event in events:
            if event.collection not in wanted.collections:
                continue
            if wanted.dids is not None and event.did not in wanted.dids:
                continue
            if event.op == Op.DELETE:
                deleted.append(event.uri)
                # created (or edited) and deleted within one batch: gone, not to be posted
                articles = [a for a in articles if a.id != event.uri]
                updated.discard(event.uri)
                continue
            repo = self._event_repo(event, problems)
            if repo is None:
                continue
            try:
                made = self._article(repo, event.uri, event.cid, event.record, problems)
            except SourceError as exc:  # its publication's PDS is down: this record only
                # (a repo feed's interval poll finds it again later)
                problems.append(f"{event.uri}: {exc}")
                log.warning("skipped record feed=%s uri=%s reason=%s", self.feed, event.uri, exc)
                continue
            if made is not None:
                articles.append(made)
                if event.op == Op.UPDATE:
                    updated.add(made.id)
        return EventRead(tuple(articles), frozenset(updated), tuple(deleted), tuple(problems))

    def _event_repo(self, event: RecordEvent, problems: list[str]) -> records.Repo | None:
        """The repo an event's record lives in (its PDS serves the cover image)."""
        if not self.settings.network_wide:
            identity = self._identity()
            return records.Repo(did=identity.did, pds=identity.pds, handle=identity.handle)
        try:
            return records.Repo(did=event.did, pds=self.identity.pds_for(event.did))
        except SourceError as exc:  # one unknown author never stops the others
            problems.append(f"{event.uri}: {exc}")
            log.warning("skipped record feed=%s uri=%s reason=%s", self.feed, event.uri, exc)
            return None

    # --- listing ---------------------------------------------------------------------

    def _new_records(
        self, identity: Identity, collection: str, stop_at: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Records newer than ``stop_at``, newest first, at most ``max_records``, and
        whether that bound cut the listing short.

        Envelopes (``uri``, ``cid``, ``value``) must be well-formed or the PDS is
        broken; the value itself is checked later, record by record.
        """
        task = self.progress.task(f"listing {self.feed} {collection}")
        try:
            return self._list(identity, collection, stop_at, task)
        finally:
            task.done()

    def _list(
        self, identity: Identity, collection: str, stop_at: str | None, task: Task
    ) -> tuple[list[dict[str, Any]], bool]:
        out: list[dict[str, Any]] = []
        page_cursor: str | None = None
        while True:
            params: dict[str, Any] = {
                "repo": identity.did,
                "collection": collection,
                "limit": self.settings.page_limit,
            }
            if page_cursor:
                params["cursor"] = page_cursor
            data = self._xrpc(identity.pds, "com.atproto.repo.listRecords", params)
            items = data.get("records")
            if not isinstance(items, list):
                raise SourceError(f"{self.settings.repo}: listRecords answered without records")
            task.advance(len(items))
            for item in items:
                if not _is_envelope(item):
                    raise SourceError(f"{self.settings.repo}: listRecords answered a bad entry")
                if stop_at is not None and _rkey(item) <= stop_at:
                    return out, False
                out.append(item)
                if len(out) >= self.settings.max_records:
                    log.info(
                        "stopped listing feed=%s collection=%s at max_records=%d",
                        self.feed,
                        collection,
                        self.settings.max_records,
                    )
                    return out, True
            next_cursor = data.get("cursor")
            # a short page is the last one: the PDS still sends a cursor after it
            if len(items) < self.settings.page_limit or not isinstance(next_cursor, str):
                return out, False
            if next_cursor == page_cursor:  # a PDS that repeats itself would loop forever
                return out, False
            page_cursor = next_cursor

    # --- publications ------------------------------------------------------------------

    def _publication(self, uri: str) -> records.Publication:
        """The publication record at ``uri``, cached like identities.

        ``RecordError`` when it is missing or malformed (the document is skipped),
        ``SourceError`` when the network fails (the poll is retried later).
        """
        cached = self._publications.get(uri)
        if cached is not None and self.clock() < cached[1]:
            return cached[0]
        at = records.AtUri.parse(uri)
        if at.collection not in PUBLICATION_COLLECTIONS:
            raise RecordError(f"site is not a publication: {uri}")
        try:
            pds = self.identity.pds_for(at.did)
        except IdentityNotFound as exc:
            raise RecordError(f"publication {uri}: {exc}") from exc
        params = {"repo": at.did, "collection": at.collection, "rkey": at.rkey}
        data = self._xrpc(pds, "com.atproto.repo.getRecord", params, refused_ok=True)
        if "refused" in data:
            raise RecordError(f"publication {uri} not found ({data['refused']})")
        pub = records.publication(uri, str(data.get("cid") or ""), data.get("value"))
        if not pub.cid:
            raise RecordError(f"publication {uri} has no CID")
        self._publications[uri] = (pub, self.clock() + self.settings.identity_ttl)
        return pub

    # --- XRPC ----------------------------------------------------------------------------

    def _xrpc(
        self, pds: str, method: str, params: dict[str, Any], *, refused_ok: bool = False
    ) -> dict[str, Any]:
        """GET an XRPC query; errors become ``SourceError`` naming the repo.

        With ``refused_ok``, a 4xx answer (record or repo not found) comes back as
        ``{"refused": reason}``: it is about the one record that pointed there, and
        must not stop the whole feed the way a network failure or a 5xx does.
        """
        where = f"atproto repo {self.settings.repo}: {method}"

        def fail(reason: str) -> SourceError:
            return SourceError(f"{where} failed: {reason}")

        response = request_bounded(
            self.client,
            "GET",
            f"{pds}/xrpc/{method}",
            params=params,
            max_bytes=MAX_XRPC_BYTES,
            seconds=XRPC_SECONDS,
            fail=fail,
            read_status=lambda status: True,
        )
        try:
            data = parse_json(response.body)  # a bounded depth, unlike json.loads
        except ValueError:
            data = None
        if response.status != 200:
            error = data.get("error") if isinstance(data, dict) else None
            text = response.body.decode("utf-8", "replace")
            detail = f"{error}: {data.get('message', '')}" if error and data else text
            detail = " ".join(str(detail).split())[:200]
            if refused_ok and 400 <= response.status < 500 and response.status != 429:
                return {"refused": f"HTTP {response.status}: {detail}"}
            raise SourceError(f"{where} answered HTTP {response.status} ({detail})")
        if not isinstance(data, dict):
            raise SourceError(f"{where} answered something that is not a JSON object")
        return data


def _is_envelope(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("uri"), str)
        and item["uri"].startswith("at://")
        and "value" in item
        and "cid" in item
    )


def _rkey(item: dict[str, Any]) -> str:
    rkey: str = item["uri"].rsplit("/", 1)[-1]
    return rkey
