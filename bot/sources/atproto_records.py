"""Long-form AT Protocol records → ``Article``: pure parsing, no I/O.

Records come from other people's repos and are only as valid as the PDS that stored
them made them, so every field is checked here. A record that can't become an article
raises ``RecordError`` with a short reason; the caller skips it and reports the reason
next to the record's at-uri. Publications (needed for the canonical URL) are looked up
through a callback, so this module stays free of the network.

Supported collections:

- ``site.standard.document``: URL = publication ``url`` (or ``site`` when it is an
  https URL) + ``path``; text = ``textContent``, else ``description``, else the text the
  ``content`` union carries.
- ``pub.leaflet.document``: URL = ``https://<publication base_path>/<rkey>``; text from
  the pages' text, header and blockquote blocks.
- ``com.whtwnd.blog.entry``: public entries only; markdown ``content``; URL
  ``https://whtwnd.com/<handle or DID>/<rkey>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from bot.errors import NotPublic, RecordError
from bot.markdown import strip_markdown, tidy
from bot.model import Article, StrongRef
from bot.nsids import (
    LEAFLET_DOCUMENT,
    LEAFLET_PUBLICATION,
    STANDARD_DOCUMENT,
    STANDARD_PUBLICATION,
    WHTWND_ENTRY,
)
from bot.untrusted import MAX_JSON_DEPTH, MAX_RAW_CHARS, checked_article, json_depth, to_utc

_AT_URI = re.compile(
    r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/([a-zA-Z0-9.-]+)/([A-Za-z0-9._:~-]{1,512})$"
)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Repo:
    """The repo a record was read from."""

    did: str
    pds: str | None  # None for records read from files: blobs can't be fetched
    handle: str | None = None


@dataclass(frozen=True)
class Publication:
    """A publication record reduced to what an article needs."""

    uri: str
    cid: str | None
    url: str  # https base URL, without a trailing slash
    name: str


PublicationLookup = Callable[[str], Publication]


@dataclass(frozen=True)
class AtUri:
    did: str
    collection: str
    rkey: str

    @classmethod
    def parse(cls, value: Any) -> AtUri:
        match = _AT_URI.match(value) if isinstance(value, str) else None
        if match is None:
            raise RecordError(f"not an at-uri of a record: {value!r}")
        return cls(*match.groups())


# --- field access ------------------------------------------------------------------


def _text(record: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = record.get(key)
    if value is None:
        if required:
            raise RecordError(f"missing {key}")
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{key} is {type(value).__name__}, not a string")
    value = value[:MAX_RAW_CHARS].strip()  # past the cap it would be cut anyway
    if required and not value:
        raise RecordError(f"empty {key}")
    return value


def parse_datetime(value: str) -> datetime:
    """An RFC 3339 date-time with a timezone → an aware UTC datetime."""
    if not _DATETIME.match(value):
        raise ValueError(value)
    head, dot, tail = value.partition(".")
    if dot:  # Python takes at most 6 fractional digits
        digits = re.match(r"\d+", tail)
        assert digits is not None
        tail = digits.group()[:6] + tail[digits.end() :]
        value = f"{head}.{tail}"
    return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _when(record: dict[str, Any], key: str, *, required: bool = False) -> datetime | None:
    value = _text(record, key, required=required)
    if not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise RecordError(f"{key} is not an RFC 3339 date-time: {value[:40]!r}") from None


def _tags(record: dict[str, Any]) -> tuple[str, ...]:
    value = record.get("tags")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise RecordError("tags is not a list of strings")
    tags = (t.strip().lstrip("#").strip() for t in value)
    return tuple(dict.fromkeys(t for t in tags if t))


_MAX_LABELS = 10  # what com.atproto.label.defs#selfLabels allows
_MAX_LABEL_BYTES = 128


def _labels(record: dict[str, Any]) -> tuple[str, ...]:
    """The record's self-labels (``com.atproto.label.defs#selfLabels``). A malformed one
    refuses the record: posting it without its content warning would be worse."""
    value = record.get("labels")
    if value is None:
        return ()
    values = value.get("values") if isinstance(value, dict) else None
    if not isinstance(values, list) or len(values) > _MAX_LABELS:
        raise RecordError(f"labels is not a selfLabels object of at most {_MAX_LABELS} values")
    out = []
    for item in values:
        val = item.get("val") if isinstance(item, dict) else None
        if not isinstance(val, str) or not val.strip() or len(val.encode()) > _MAX_LABEL_BYTES:
            raise RecordError("labels has a value that is not a short string")
        out.append(val.strip())
    return tuple(dict.fromkeys(out))


def _strong_ref(record: dict[str, Any], key: str) -> StrongRef | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(f"{key} is not a strongRef")
    uri, cid = value.get("uri"), value.get("cid")
    if not isinstance(cid, str) or not cid:
        raise RecordError(f"{key} has no cid")
    AtUri.parse(uri)
    assert isinstance(uri, str)
    return StrongRef(uri, cid)


def blob_url(repo: Repo, blob: Any, key: str = "coverImage") -> str | None:
    """``com.atproto.sync.getBlob`` URL of a blob field (new or legacy shape), if any."""
    if blob is None or repo.pds is None:
        return None
    if not isinstance(blob, dict):
        raise RecordError(f"{key} is not a blob")
    ref = blob.get("ref")
    cid = ref.get("$link") if isinstance(ref, dict) else blob.get("cid")
    if not isinstance(cid, str) or not cid:
        raise RecordError(f"{key} has no CID")
    query = urlencode({"did": repo.did, "cid": cid})
    return f"{repo.pds}/xrpc/com.atproto.sync.getBlob?{query}"


def _https_base(value: str, what: str) -> str:
    if not re.match(r"^https://[^/\s?#]+", value):
        raise RecordError(f"{what} is not an https URL: {value[:80]!r}")
    return value.rstrip("/")


# --- text ------------------------------------------------------------------------------

_LEAFLET_TEXT_BLOCKS = (
    "pub.leaflet.blocks.text",
    "pub.leaflet.blocks.header",
    "pub.leaflet.blocks.blockquote",
)


def leaflet_text(pages: Any) -> str:
    """Plain text of Leaflet pages: their text, header and blockquote blocks in order."""
    if not isinstance(pages, list):
        raise RecordError("pages is not a list")
    paragraphs: list[str] = []
    for page in pages:
        blocks = page.get("blocks") if isinstance(page, dict) else None
        if not isinstance(blocks, list):
            continue  # other page kinds (canvas) carry no linear text
        for item in blocks:
            block = item.get("block") if isinstance(item, dict) else None
            if not isinstance(block, dict) or block.get("$type") not in _LEAFLET_TEXT_BLOCKS:
                continue
            plaintext = block.get("plaintext")
            if isinstance(plaintext, str) and plaintext.strip():
                paragraphs.append(plaintext.strip())
    return tidy("\n\n".join(paragraphs))


def content_text(content: Any) -> str:
    """Whatever plain or markdown text the open ``content`` union of a document carries."""
    if isinstance(content, str):
        return strip_markdown(content)
    if not isinstance(content, dict):
        return ""
    for key in ("textContent", "plaintext", "text"):
        if isinstance(content.get(key), str) and content[key].strip():
            return tidy(content[key])
    for key in ("markdown", "content"):
        if isinstance(content.get(key), str) and content[key].strip():
            return strip_markdown(content[key])
    if isinstance(content.get("pages"), list):
        return leaflet_text(content["pages"])
    return ""


# --- publications ----------------------------------------------------------------------


def publication(uri: str, cid: str | None, value: Any) -> Publication:
    """A ``site.standard.publication`` or ``pub.leaflet.publication`` record → ``Publication``."""
    if not isinstance(value, dict):
        raise RecordError(f"publication {uri} is not an object")
    collection = AtUri.parse(uri).collection
    name = _text(value, "name")
    if collection == STANDARD_PUBLICATION:
        url = _https_base(_text(value, "url", required=True), f"publication {uri} url")
    elif collection == LEAFLET_PUBLICATION:
        base = _text(value, "base_path", required=True).removeprefix("https://")
        url = _https_base(f"https://{base}", f"publication {uri} base_path")
    else:
        raise RecordError(f"{uri} is not a publication")
    return Publication(uri=uri, cid=cid, url=url, name=name)


# --- records → articles -------------------------------------------------------------


def article(
    feed: str,
    repo: Repo,
    uri: str,
    cid: str | None,
    value: Any,
    publications: PublicationLookup,
) -> Article:
    """One record of a supported collection → ``Article``; ``RecordError`` if unusable.

    ``cid`` may be None for records kept in files; the link card then has no
    ``associatedRefs``, which need the current CIDs. The article is checked at the
    trust boundary (``bot.untrusted``) before it is returned.
    """
    at = AtUri.parse(uri)
    if not isinstance(value, dict):
        raise RecordError("the record is not an object")
    if json_depth(value) > MAX_JSON_DEPTH:
        raise RecordError(f"the record nests deeper than {MAX_JSON_DEPTH} levels")
    if at.collection == STANDARD_DOCUMENT:
        made = standard_document(feed, repo, uri, cid, value, publications)
    elif at.collection == LEAFLET_DOCUMENT:
        made = leaflet_document(feed, repo, uri, cid, value, publications)
    elif at.collection == WHTWND_ENTRY:
        made = whtwnd_entry(feed, repo, uri, cid, value)
    else:
        raise RecordError(f"unsupported collection {at.collection}")
    return checked_article(made)


def standard_document(
    feed: str,
    repo: Repo,
    uri: str,
    cid: str | None,
    value: dict[str, Any],
    publications: PublicationLookup,
) -> Article:
    title = _text(value, "title", required=True)
    site = _text(value, "site", required=True)
    published = _when(value, "publishedAt", required=True)
    updated = _when(value, "updatedAt")
    path = _text(value, "path")
    description = _text(value, "description")
    pub: Publication | None = None
    if site.startswith("at://"):
        pub = publications(site)
        base, site_name = pub.url, pub.name
    elif site.startswith("https://"):
        base, site_name = _https_base(site, "site"), ""
    else:
        raise RecordError(f"site is neither an at:// publication nor an https URL: {site[:80]!r}")
    if path and not path.startswith("/"):
        path = "/" + path
    text = tidy(_text(value, "textContent")) or description or content_text(value.get("content"))
    return Article(
        feed=feed,
        id=uri,
        url=base + path if path else base,
        title=title,
        text=text,
        description=description,
        published=published,
        updated=updated,
        tags=_tags(value),
        cover_url=blob_url(repo, value.get("coverImage")),
        site_name=site_name,
        refs=_refs(uri, cid, pub),
        quote=_strong_ref(value, "bskyPostRef"),
        labels=_labels(value),
    )


def leaflet_document(
    feed: str,
    repo: Repo,
    uri: str,
    cid: str | None,
    value: dict[str, Any],
    publications: PublicationLookup,
) -> Article:
    title = _text(value, "title", required=True)
    pub_uri = _text(value, "publication", required=True)
    if AtUri.parse(pub_uri).collection != LEAFLET_PUBLICATION:
        raise RecordError(f"publication is not a {LEAFLET_PUBLICATION}: {pub_uri[:120]!r}")
    pub = publications(pub_uri)
    description = _text(value, "description")
    text = leaflet_text(value.get("pages", [])) or description
    return Article(
        feed=feed,
        id=uri,
        url=f"{pub.url}/{AtUri.parse(uri).rkey}",
        title=title,
        text=text,
        description=description,
        published=_when(value, "publishedAt"),
        tags=_tags(value),
        cover_url=blob_url(repo, value.get("coverImage")),
        site_name=pub.name,
        refs=_refs(uri, cid, pub),
        quote=_strong_ref(value, "postRef"),
    )


def _refs(uri: str, cid: str | None, pub: Publication | None = None) -> tuple[StrongRef, ...]:
    """strongRefs for the card's associatedRefs: only with current CIDs."""
    if not cid:
        return ()
    if pub is None or not pub.cid:
        return (StrongRef(uri, cid),)
    return (StrongRef(uri, cid), StrongRef(pub.uri, pub.cid))


def whtwnd_entry(
    feed: str, repo: Repo, uri: str, cid: str | None, value: dict[str, Any]
) -> Article:
    visibility = _text(value, "visibility") or "public"
    if visibility != "public":
        raise NotPublic(f"visibility is {visibility!r}, not public")
    text = strip_markdown(_text(value, "content", required=True))
    # the title is optional in this lexicon: fall back to the first line of the text
    title = _text(value, "title") or (text.splitlines()[0][:200] if text else "")
    if not title:
        raise RecordError("no title and no text")
    ogp = value.get("ogp")
    cover = ogp.get("url") if isinstance(ogp, dict) else None
    return Article(
        feed=feed,
        id=uri,
        url=f"https://whtwnd.com/{repo.handle or repo.did}/{AtUri.parse(uri).rkey}",
        title=title,
        text=text,
        published=_when(value, "createdAt"),
        cover_url=cover if isinstance(cover, str) and cover.startswith("https://") else None,
        site_name="WhiteWind",
        refs=_refs(uri, cid),
    )
