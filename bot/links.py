"""Where a posted thread can be seen: ``https://bsky.app`` links to and from at-uris.

One home for the link's shape, so ``items`` prints what ``repost`` accepts back. Pure.
"""

from __future__ import annotations

import re

POST_COLLECTION = "app.bsky.feed.post"

_AT_POST = re.compile(r"^at://([^/]+)/app\.bsky\.feed\.post/([A-Za-z0-9._~:-]+)$")
_BSKY_POST = re.compile(
    r"^https?://(?:www\.)?bsky\.app/profile/([^/?#]+)/post/([A-Za-z0-9._~:-]+)/?(?:[?#].*)?$"
)


def post_link(uri: str) -> str | None:
    """The bsky.app page of a post's at-uri; None for anything else (a preview)."""
    match = _AT_POST.match(uri)
    if match is None:
        return None
    return f"https://bsky.app/profile/{match[1]}/post/{match[2]}"


def parse_post_link(url: str) -> tuple[str, str] | None:
    """``(did or handle, record key)`` of a bsky.app post link; None if it is not one."""
    match = _BSKY_POST.match(url.strip())
    return (match[1], match[2]) if match else None
