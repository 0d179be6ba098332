"""Posts as ``app.bsky.feed.post`` records in the lexicon's JSON form, and a strict check.

The publisher writes these dicts as they are and ``feedbot run --json`` shows them, so
this is the one place that knows the record's shape. ``check_post_record`` re-derives
every rule Bluesky enforces (and a few it would only render badly), because the
SDK's models do not check grapheme limits or facet offsets. Pure, no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import regex

from bot.model import Gate, LinkCard, Post, StrongRef
from bot.text import TAG_MAX_BYTES, TAG_MAX_GRAPHEMES, graphemes, utf8_len

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"
MENTION = "app.bsky.richtext.facet#mention"
EXTERNAL = "app.bsky.embed.external"
RECORD = "app.bsky.embed.record"
RECORD_WITH_MEDIA = "app.bsky.embed.recordWithMedia"
SELF_LABELS = "com.atproto.label.defs#selfLabels"
THREADGATE = "app.bsky.feed.threadgate"
POSTGATE = "app.bsky.feed.postgate"
PROFILE = "app.bsky.actor.profile"
BOT_LABEL = "bot"
REPLY_RULES = {
    "mentioned": f"{THREADGATE}#mentionRule",
    "following": f"{THREADGATE}#followingRule",
    "followers": f"{THREADGATE}#followerRule",
}
MAX_SELF_LABELS = 10  # com.atproto.label.defs#selfLabels allows 10 values
MAX_LABEL_BYTES = 128

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_LANGS = 3
THUMB_MAX_BYTES = 1_000_000

_KNOWN_KEYS = {
    "$type",
    "text",
    "entities",
    "facets",
    "reply",
    "embed",
    "langs",
    "labels",
    "tags",
    "createdAt",
}
_LANG = regex.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
_DATETIME = regex.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_HTTP = regex.compile(r"^https?://[^\s/?#]+[^\s]*$")
_AT_URI = regex.compile(r"^at://[^\s/]+(/[^\s]*)?$")


def repost_record(subject: StrongRef, *, created_at: datetime) -> dict[str, Any]:
    """A native repost of ``subject`` (a boost), for the Bluesky and preview publishers."""
    return {"$type": REPOST, "subject": subject.to_json(), "createdAt": format_datetime(created_at)}


def post_record(
    post: Post,
    *,
    langs: Sequence[str],
    created_at: datetime,
    reply: tuple[StrongRef, StrongRef] | None = None,
    thumb: dict[str, Any] | None = None,
    labels: Sequence[str] = (),
) -> dict[str, Any]:
    """The record for ``post``; ``reply`` is (root, parent), ``thumb`` an uploaded blob,
    ``labels`` self-labels (a content warning the source document carries)."""
    record: dict[str, Any] = {
        "$type": POST,
        "text": post.text,
        "createdAt": format_datetime(created_at),
    }
    if langs:
        record["langs"] = list(langs)
    if post.facets:
        record["facets"] = [
            {
                "index": {"byteStart": f.start, "byteEnd": f.end},
                "features": [
                    {"$type": LINK, "uri": f.value}
                    if f.kind == "link"
                    else {"$type": TAG, "tag": f.value}
                ],
            }
            for f in sorted(post.facets, key=lambda f: (f.start, f.end))
        ]
    if reply is not None:
        root, parent = reply
        record["reply"] = {"root": root.to_json(), "parent": parent.to_json()}
    if thumb is not None and post.card is None:
        raise ValueError("a thumb was given for a post without a link card")
    embed = _embed(post.card, post.quote, thumb)
    if embed is not None:
        record["embed"] = embed
    if labels:
        record["labels"] = self_labels(labels)
    return record


def self_labels(values: Sequence[str]) -> dict[str, Any]:
    """A ``selfLabels`` object, as posts and profiles carry them."""
    return {"$type": SELF_LABELS, "values": [{"val": v} for v in values]}


def gate_records(root_uri: str, gate: Gate, *, created_at: datetime) -> list[dict[str, Any]]:
    """The threadgate and postgate records ``gate`` needs for the thread rooted at
    ``root_uri`` (none for an open thread); each is written with the root's record key."""
    records: list[dict[str, Any]] = []
    if gate.replies is not None:
        records.append(
            {
                "$type": THREADGATE,
                "post": root_uri,
                "allow": [{"$type": REPLY_RULES[rule]} for rule in gate.replies],
                "createdAt": format_datetime(created_at),
            }
        )
    if not gate.quotes:
        records.append(
            {
                "$type": POSTGATE,
                "post": root_uri,
                "embeddingRules": [{"$type": f"{POSTGATE}#disableRule"}],
                "createdAt": format_datetime(created_at),
            }
        )
    return records


def with_bot_label(profile: dict[str, Any] | None) -> dict[str, Any] | None:
    """The profile record with the ``bot`` self-label added, every other field kept;
    None when it carries the label already."""
    record = dict(profile or {})
    record["$type"] = PROFILE
    labels = record.get("labels")
    if isinstance(labels, dict) and labels.get("$type") == SELF_LABELS:
        values = [v for v in labels.get("values", []) if isinstance(v, dict)]
        if any(v.get("val") == BOT_LABEL for v in values):
            return None
        record["labels"] = {**labels, "values": [*values, {"val": BOT_LABEL}]}
    else:
        # no self-labels yet (another kind of labels union member would be replaced)
        record["labels"] = self_labels([BOT_LABEL])
    return record


def format_datetime(when: datetime) -> str:
    """UTC with milliseconds and "Z", the form Bluesky's own app writes."""
    if when.tzinfo is None:
        raise ValueError("createdAt needs a timezone-aware datetime")
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _external(card: LinkCard, thumb: dict[str, Any] | None) -> dict[str, Any]:
    external: dict[str, Any] = {
        "uri": card.uri,
        "title": card.title,
        "description": card.description,
    }
    if thumb is not None:
        external["thumb"] = thumb
    if card.refs:
        external["associatedRefs"] = [ref.to_json() for ref in card.refs]
    return {"$type": EXTERNAL, "external": external}


def _embed(
    card: LinkCard | None, quote: StrongRef | None, thumb: dict[str, Any] | None
) -> dict[str, Any] | None:
    if quote is not None:
        quoted = {"$type": RECORD, "record": quote.to_json()}
        if card is None:
            return quoted
        return {"$type": RECORD_WITH_MEDIA, "record": quoted, "media": _external(card, thumb)}
    if card is not None:
        return _external(card, thumb)
    return None


# --- the check -----------------------------------------------------------------------


def check_post_record(record: dict[str, Any]) -> list[str]:
    """Every reason Bluesky would refuse or mis-render ``record``; empty when it is fine."""
    problems: list[str] = []
    if record.get("$type") != POST:
        problems.append(f"$type is {record.get('$type')!r}, expected {POST!r}")
    unknown = sorted(set(record) - _KNOWN_KEYS)
    if unknown:
        problems.append(f"unknown keys: {', '.join(unknown)}")

    text = record.get("text")
    if not isinstance(text, str):
        problems.append("text is missing or not a string")
        text = ""
    else:
        if graphemes(text) > MAX_GRAPHEMES:
            problems.append(f"text is {graphemes(text)} graphemes, over {MAX_GRAPHEMES}")
        if utf8_len(text) > MAX_BYTES:
            problems.append(f"text is {utf8_len(text)} bytes, over {MAX_BYTES}")

    created = record.get("createdAt")
    if created is None:
        problems.append("createdAt is missing")
    elif not _is_datetime(created):
        problems.append(f"createdAt {created!r} is not an ISO 8601 datetime with a timezone")

    if "langs" in record:
        problems += _check_langs(record["langs"])
    if "labels" in record:
        problems += _check_labels(record["labels"])
    if "facets" in record:
        problems += _check_facets(record["facets"], text.encode("utf-8"))
    if "reply" in record:
        problems += _check_reply(record["reply"])
    if "embed" in record:
        problems += _check_embed(record["embed"])
    return problems


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str) or not _DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_http(value: object) -> bool:
    return isinstance(value, str) and bool(_HTTP.match(value))


def _check_langs(langs: object) -> list[str]:
    if not isinstance(langs, list):
        return ["langs is not a list"]
    problems = []
    if len(langs) > MAX_LANGS:
        problems.append(f"{len(langs)} langs, at most {MAX_LANGS} allowed")
    for lang in langs:
        if not isinstance(lang, str) or not _LANG.match(lang):
            problems.append(f"langs: {lang!r} is not a language tag")
    return problems


def _check_labels(labels: object) -> list[str]:
    if not isinstance(labels, dict) or labels.get("$type") != SELF_LABELS:
        return ["labels is not a selfLabels object"]
    values = labels.get("values")
    if not isinstance(values, list) or not values:
        return ["labels has no values"]
    problems = []
    if len(values) > MAX_SELF_LABELS:
        problems.append(f"{len(values)} labels, at most {MAX_SELF_LABELS} allowed")
    for value in values:
        val = value.get("val") if isinstance(value, dict) else None
        if not isinstance(val, str) or not val or utf8_len(val) > MAX_LABEL_BYTES:
            problems.append(f"labels: {val!r} is not a label value")
    return problems


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_facets(facets: object, data: bytes) -> list[str]:
    if not isinstance(facets, list):
        return ["facets is not a list"]
    problems: list[str] = []
    spans: list[tuple[int, int]] = []
    for n, facet in enumerate(facets):
        where = f"facets[{n}]"
        index = facet.get("index") if isinstance(facet, dict) else None
        if not isinstance(index, dict):
            problems.append(f"{where}: no index")
            continue
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (_int(start) and _int(end)):
            problems.append(f"{where}: byteStart and byteEnd must be integers")
            continue
        assert isinstance(start, int) and isinstance(end, int)
        if not 0 <= start < end <= len(data):
            problems.append(
                f"{where}: [{start}, {end}) is empty or outside the text's {len(data)} bytes"
            )
            continue
        if not (_char_boundary(data, start) and _char_boundary(data, end)):
            problems.append(f"{where}: [{start}, {end}) is not on UTF-8 character boundaries")
            continue
        spans.append((start, end))
        features = facet.get("features")
        if not isinstance(features, list) or not features:
            problems.append(f"{where}: no features")
            continue
        piece = data[start:end].decode("utf-8")
        for feature in features:
            problems += _check_feature(where, feature, piece)
    spans.sort()
    for (s1, e1), (s2, e2) in itertools.pairwise(spans):
        if s2 < e1:
            problems.append(f"facets [{s1}, {e1}) and [{s2}, {e2}) overlap")
    return problems


def _char_boundary(data: bytes, offset: int) -> bool:
    """Offsets may not point into the middle of a multi-byte character."""
    return offset == len(data) or (data[offset] & 0xC0) != 0x80


def _check_feature(where: str, feature: object, piece: str) -> list[str]:
    if not isinstance(feature, dict):
        return [f"{where}: a feature is not an object"]
    kind = feature.get("$type")
    if kind == LINK:
        uri = feature.get("uri")
        if not _is_http(uri):
            return [f"{where}: link uri {uri!r} is not an http(s) URL"]
        return []
    if kind == TAG:
        tag = feature.get("tag")
        if not isinstance(tag, str) or not tag:
            return [f"{where}: tag is missing or empty"]
        problems = []
        if graphemes(tag) > TAG_MAX_GRAPHEMES or utf8_len(tag) > TAG_MAX_BYTES:
            problems.append(f"{where}: tag {tag!r} is longer than {TAG_MAX_GRAPHEMES} graphemes")
        if regex.search(r"\s", tag):
            problems.append(f"{where}: tag {tag!r} contains whitespace")
        if tag.startswith(("#", "＃")):
            problems.append(f"{where}: tag {tag!r} starts with '#'")
        if piece != "#" + tag:
            problems.append(f"{where}: covers {piece!r}, expected {'#' + tag!r}")
        return problems
    if kind == MENTION:
        did = feature.get("did")
        if not (isinstance(did, str) and did.startswith("did:")):
            return [f"{where}: mention did {did!r} is not a DID"]
        return []
    return [f"{where}: unknown feature type {kind!r}"]


def _check_ref(where: str, ref: object) -> list[str]:
    if not isinstance(ref, dict):
        return [f"{where} is not a strongRef"]
    problems = []
    uri, cid = ref.get("uri"), ref.get("cid")
    if not (isinstance(uri, str) and _AT_URI.match(uri)):
        problems.append(f"{where}.uri {uri!r} is not an at:// URI")
    if not (isinstance(cid, str) and cid):
        problems.append(f"{where}.cid is missing")
    return problems


def _check_reply(reply: object) -> list[str]:
    if not isinstance(reply, dict):
        return ["reply is not an object"]
    return _check_ref("reply.root", reply.get("root")) + _check_ref(
        "reply.parent", reply.get("parent")
    )


def _check_embed(embed: object, where: str = "embed") -> list[str]:
    if not isinstance(embed, dict):
        return [f"{where} is not an object"]
    kind = embed.get("$type")
    if kind == EXTERNAL:
        return _check_external(embed.get("external"), f"{where}.external")
    if kind == RECORD:
        return _check_ref(f"{where}.record", embed.get("record"))
    if kind == RECORD_WITH_MEDIA:
        record = embed.get("record")
        problems = []
        if not (isinstance(record, dict) and record.get("$type") == RECORD):
            problems.append(f"{where}.record is not an {RECORD}")
        else:
            problems += _check_embed(record, f"{where}.record")
        media = embed.get("media")
        if not (isinstance(media, dict) and media.get("$type") == EXTERNAL):
            problems.append(f"{where}.media is not an {EXTERNAL}")
        else:
            problems += _check_embed(media, f"{where}.media")
        return problems
    return [f"{where}: unsupported type {kind!r}"]


def _check_external(external: object, where: str) -> list[str]:
    if not isinstance(external, dict):
        return [f"{where} is missing"]
    problems = []
    if not _is_http(external.get("uri")):
        problems.append(f"{where}.uri {external.get('uri')!r} is not an http(s) URL")
    for key in ("title", "description"):
        if not isinstance(external.get(key), str):
            problems.append(f"{where}.{key} is missing or not a string")
    if "thumb" in external:
        problems += _check_blob(f"{where}.thumb", external["thumb"])
    refs = external.get("associatedRefs", [])
    if not isinstance(refs, list):
        problems.append(f"{where}.associatedRefs is not a list")
    else:
        for n, ref in enumerate(refs):
            problems += _check_ref(f"{where}.associatedRefs[{n}]", ref)
    return problems


def _check_blob(where: str, blob: object) -> list[str]:
    if not isinstance(blob, dict) or blob.get("$type") != "blob":
        return [f"{where} is not a blob"]
    problems = []
    ref = blob.get("ref")
    if not (isinstance(ref, dict) and isinstance(ref.get("$link"), str) and ref["$link"]):
        problems.append(f"{where}.ref has no $link")
    mime = blob.get("mimeType")
    if not (isinstance(mime, str) and mime.startswith("image/")):
        problems.append(f"{where}.mimeType {mime!r} is not an image type")
    size = blob.get("size")
    if not (_int(size) and isinstance(size, int) and 0 < size <= THUMB_MAX_BYTES):
        problems.append(f"{where}.size {size!r} is not within 1..{THUMB_MAX_BYTES} bytes")
    return problems
