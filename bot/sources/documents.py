"""Long-form AT Protocol records → ``Article``: pure, shared by every source that reads them.

A ``site.standard.document`` names its ``site`` either as an https URL or as the
at-uri of a ``site.standard.publication``; the canonical URL is the publication's
``url`` (or the site itself) followed by the document's ``path``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.errors import RecordError
from bot.model import Article, StrongRef

DOCUMENT = "site.standard.document"
PUBLICATION = "site.standard.publication"


@dataclass(frozen=True)
class Publication:
    uri: str
    cid: str | None
    url: str
    name: str


def parse_datetime(value: Any) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime; naive ones are taken as UTC."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    when = datetime.fromisoformat(text)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def publication_from_record(uri: str, cid: str | None, value: Mapping[str, Any]) -> Publication:
    url = value.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise RecordError(f"{uri}: publication has no valid url")
    name = value.get("name")
    return Publication(uri, cid, url.rstrip("/"), name if isinstance(name, str) else "")


_MD_NOISE = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their text
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),  # headings
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),  # quotes
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),  # inline code
]


def markdown_to_text(markdown: str) -> str:
    """Plain text from markdown, enough for summarizing: markup gone, paragraphs kept."""
    text = markdown
    for pattern, repl in _MD_NOISE:
        text = pattern.sub(repl, text)
    return text.strip()


def _content_text(content: Any) -> str:
    """Best effort over the open ``content`` union: any plain or markdown text it carries."""
    if isinstance(content, str):
        return markdown_to_text(content)
    if isinstance(content, Mapping):
        for key in ("markdown", "text", "plaintext", "textContent"):
            if isinstance(content.get(key), str):
                return markdown_to_text(content[key])
        parts = [_content_text(v) for k, v in content.items() if k != "$type"]
        return "\n\n".join(p for p in parts if p)
    if isinstance(content, list):
        return "\n\n".join(p for p in (_content_text(v) for v in content) if p)
    return ""


def document_site(value: Mapping[str, Any]) -> str | None:
    """The publication at-uri a document points to, if its site is one."""
    site = value.get("site")
    return site if isinstance(site, str) and site.startswith("at://") else None


def document_to_article(
    feed: str,
    uri: str,
    cid: str | None,
    value: Mapping[str, Any],
    *,
    publication: Publication | None = None,
    blob_url: Callable[[str], str] | None = None,
) -> Article:
    """Convert one ``site.standard.document``; a malformed one raises ``RecordError``."""
    title = value.get("title")
    if not isinstance(title, str) or not title.strip():
        raise RecordError(f"{uri}: document has no title")
    try:
        published = parse_datetime(value.get("publishedAt"))
    except ValueError as exc:
        raise RecordError(f"{uri}: publishedAt is not a valid timestamp") from exc
    site = value.get("site")
    if not isinstance(site, str):
        raise RecordError(f"{uri}: document has no site")
    if site.startswith("at://"):
        if publication is None:
            raise RecordError(f"{uri}: its publication {site} could not be found")
        base, site_name = publication.url, publication.name
    elif site.startswith(("https://", "http://")):
        base, site_name = site.rstrip("/"), ""
    else:
        raise RecordError(f"{uri}: site must be an at:// or https:// URI")
    path = value.get("path")
    if path is not None and not (isinstance(path, str) and path.startswith("/")):
        raise RecordError(f"{uri}: path must start with '/'")

    description = value.get("description")
    description = description.strip() if isinstance(description, str) else ""
    text = value.get("textContent")
    if not isinstance(text, str) or not text.strip():
        text = description or _content_text(value.get("content"))
    tags = value.get("tags")
    tags = tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()

    cover_url = None
    cover = value.get("coverImage")
    if blob_url is not None and isinstance(cover, Mapping):
        ref = cover.get("ref")
        link = ref.get("$link") if isinstance(ref, Mapping) else None
        if isinstance(link, str):
            cover_url = blob_url(link)

    refs: list[StrongRef] = []
    if cid:
        refs.append(StrongRef(uri, cid))
        if publication is not None and publication.cid:
            refs.append(StrongRef(publication.uri, publication.cid))
    quote = None
    post_ref = value.get("bskyPostRef")
    if (
        isinstance(post_ref, Mapping)
        and isinstance(post_ref.get("uri"), str)
        and isinstance(post_ref.get("cid"), str)
    ):
        quote = StrongRef(post_ref["uri"], post_ref["cid"])
    updated = None
    if value.get("updatedAt") is not None:
        try:
            updated = parse_datetime(value.get("updatedAt"))
        except ValueError:
            updated = None  # cosmetic; not worth dropping the document for

    return Article(
        feed=feed,
        id=uri,
        url=base + (path or ""),
        title=title.strip(),
        text=text.strip(),
        description=description,
        published=published,
        updated=updated,
        tags=tags,
        cover_url=cover_url,
        site_name=site_name,
        refs=tuple(refs),
        quote=quote,
    )
