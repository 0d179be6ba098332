"""Domain data shared by the core and the edges: plain frozen dataclasses.

Sources turn what they read into ``Article``; the summarizer turns an article into a
``Summary``; the composer turns both into a ``Thread`` of ``Post``; a publisher turns
that into a ``Plan`` (saved by the state before anything is written) and writes it.
Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class StrongRef:
    """A pointer to one version of an AT Protocol record (also where a written post
    ended up)."""

    uri: str
    cid: str

    def to_json(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


@dataclass(frozen=True)
class Article:
    """One publication item, whatever source it came from.

    ``id`` is the item's identity within its feed (an at-uri, a guid, a link);
    ``url`` is the canonical URL readers are sent to.
    """

    feed: str
    id: str
    url: str
    title: str
    text: str = ""
    description: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    cover_url: str | None = None
    site_name: str = ""
    author: str = ""  # the author's name, when the source gives one
    # strongRefs to the document (and its publication) for the link card's associatedRefs
    refs: tuple[StrongRef, ...] = ()
    # the author's own announcement post, quoted by the last post when present
    quote: StrongRef | None = None
    # the document's own self-labels (content warnings such as "graphic-media")
    labels: tuple[str, ...] = ()

    def content_hash(self) -> str:
        """A hash of what readers see; volatile fields (dates, refs' CIDs) excluded.

        Empty fields are dropped so that adding an optional field to the model
        does not make every stored item look edited.
        """
        content = {
            "title": self.title,
            "text": self.text,
            "description": self.description,
            "url": self.url,
            "tags": list(self.tags),
            "cover_url": self.cover_url,
        }
        canonical = json.dumps(
            {k: v for k, v in content.items() if v},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "text": self.text,
            "description": self.description,
            "published": self.published.isoformat() if self.published else None,
            "updated": self.updated.isoformat() if self.updated else None,
            "tags": list(self.tags),
            "langs": list(self.langs),
            "cover_url": self.cover_url,
            "site_name": self.site_name,
            "author": self.author,
            "refs": [r.to_json() for r in self.refs],
            "quote": self.quote.to_json() if self.quote else None,
            "labels": list(self.labels),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Article:
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            feed=data["feed"],
            id=data["id"],
            url=data["url"],
            title=data["title"],
            text=data.get("text", ""),
            description=data.get("description", ""),
            published=when(data.get("published")),
            updated=when(data.get("updated")),
            tags=tuple(data.get("tags", ())),
            langs=tuple(data.get("langs", ())),
            cover_url=data.get("cover_url"),
            site_name=data.get("site_name", ""),
            author=data.get("author", ""),
            refs=tuple(StrongRef(**r) for r in data.get("refs", ())),
            quote=StrongRef(**data["quote"]) if data.get("quote") else None,
            labels=tuple(data.get("labels", ())),
        )


@dataclass(frozen=True)
class Summary:
    """Whole sentences chosen for a thread, in document order, and their language."""

    sentences: tuple[str, ...]
    lang: str | None = None
    #: written by a model, not taken from the article: never used as a card description
    generated: bool = False


@dataclass(frozen=True)
class Facet:
    """A rich-text annotation over UTF-8 **byte** offsets ``[start, end)`` of a post's text."""

    start: int
    end: int
    kind: Literal["link", "tag"]
    value: str  # the URI for a link, the tag without '#' for a tag


@dataclass(frozen=True)
class LinkCard:
    """An ``app.bsky.embed.external`` card; ``thumb_url`` is fetched by the publisher."""

    uri: str
    title: str
    description: str
    thumb_url: str | None = None
    refs: tuple[StrongRef, ...] = ()


@dataclass(frozen=True)
class Post:
    text: str
    facets: tuple[Facet, ...] = ()
    card: LinkCard | None = None
    quote: StrongRef | None = None


ReplyRule = Literal["mentioned", "following", "followers"]


@dataclass(frozen=True)
class Gate:
    """Who may reply to and quote a thread, as the feed's owner decided.

    ``replies`` None lets everyone reply (no threadgate is written); an empty tuple lets
    nobody; otherwise the accounts matching any of the rules may.
    """

    replies: tuple[ReplyRule, ...] | None = None
    quotes: bool = True

    @property
    def open(self) -> bool:
        return self.replies is None and self.quotes


@dataclass(frozen=True)
class Thread:
    """Posts in order: the first is the root, each following one replies to the previous.

    ``labels`` are self-labels put on every post; ``gate`` applies to the whole thread.
    """

    posts: tuple[Post, ...]
    langs: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    gate: Gate = Gate()


@dataclass(frozen=True)
class Target:
    """What a plan is for: the feed, the item and its canonical URL."""

    feed: str
    item: str
    url: str


@dataclass(frozen=True)
class PlannedPost:
    rkey: str
    cid: str
    record: dict[str, Any]  # the app.bsky.feed.post record, in the lexicon's JSON form


@dataclass(frozen=True)
class Plan:
    """Every record of a thread, keys and CIDs chosen, saved before any is written."""

    feed: str
    item: str
    url: str
    account: str
    repo: str  # the account's DID; empty for the preview
    posts: tuple[PlannedPost, ...]  # app.bsky.feed.post records, or one repost record
    # threadgate/postgate records for the root, keyed by its rkey; written with the posts
    gates: tuple[PlannedPost, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "feed": self.feed,
            "item": self.item,
            "url": self.url,
            "account": self.account,
            "repo": self.repo,
            "posts": [_planned_json(p) for p in self.posts],
        }
        if self.gates:
            data["gates"] = [_planned_json(p) for p in self.gates]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            feed=data["feed"],
            item=data["item"],
            url=data["url"],
            account=data["account"],
            repo=data["repo"],
            posts=tuple(PlannedPost(**p) for p in data["posts"]),
            gates=tuple(PlannedPost(**p) for p in data.get("gates", ())),
        )


def _planned_json(planned: PlannedPost) -> dict[str, Any]:
    return {"rkey": planned.rkey, "cid": planned.cid, "record": planned.record}


@dataclass(frozen=True)
class RecordKey:
    """One record of a repo, by collection and record key: what a delete names."""

    collection: str
    rkey: str


@dataclass(frozen=True)
class Deletion:
    """Every record of some of an item's threads on one account (posts, gates, reposts),
    to be deleted in one commit; saved before any delete is written, like a ``Plan``."""

    feed: str
    item: str
    account: str
    repo: str  # the account's DID, from the threads' plans
    records: tuple[RecordKey, ...]
    threads: tuple[int, ...]  # the state file's thread ids these records belong to

    def to_json(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "item": self.item,
            "account": self.account,
            "repo": self.repo,
            "records": [{"collection": r.collection, "rkey": r.rkey} for r in self.records],
            "threads": list(self.threads),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deletion:
        return cls(
            feed=data["feed"],
            item=data["item"],
            account=data["account"],
            repo=data["repo"],
            records=tuple(RecordKey(r["collection"], r["rkey"]) for r in data["records"]),
            threads=tuple(int(t) for t in data["threads"]),
        )


@dataclass(frozen=True)
class Poll:
    """What one poll of a source returned.

    ``cursor`` is the source's own bookmark (JSON-able), stored by the state and handed
    back on the next poll: a newest record key, HTTP validators, a moved URL.
    ``problems`` are one-line reasons for entries that were skipped.
    """

    articles: tuple[Article, ...] = ()
    cursor: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    not_modified: bool = False
    next_poll: datetime | None = None
