"""The preview publisher: shows threads instead of posting them.

Human form: each post with its grapheme and byte counts, facets and link card.
``--json`` form: one JSON object per thread per line, holding the exact
``app.bsky.feed.post`` records that would be written (reply references are added by
the Bluesky publisher at write time, once record keys and CIDs are chosen).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any, TextIO

from bot.lexicon import REPLY_RULES, REPOST, THREADGATE, gate_records, post_record, repost_record
from bot.model import Deletion, Plan, PlannedPost, StrongRef, Target, Thread
from bot.text import graphemes, utf8_len
from bot.untrusted import log_safe


class PreviewPublisher:
    def __init__(self, out: TextIO, *, as_json: bool = False) -> None:
        self.out = out
        self.as_json = as_json
        self._lock = threading.Lock()  # feeds may be polled from several threads

    def prepare(self, thread: Thread, target: Target, *, now: datetime) -> Plan:
        stamp = now.strftime("%Y%m%d%H%M%S")
        posts = tuple(
            PlannedPost(
                rkey=f"preview-{stamp}-{i}",
                cid="",
                record=post_record(post, langs=thread.langs, created_at=now, labels=thread.labels),
            )
            for i, post in enumerate(thread.posts)
        )
        gates = tuple(
            PlannedPost(posts[0].rkey, "", gate)
            for gate in gate_records(f"preview:{target.item}", thread.gate, created_at=now)
        )
        return Plan(target.feed, target.item, target.url, "preview", "", posts, gates)

    def find(self, plan: Plan) -> tuple[StrongRef, ...] | None:
        return None  # nothing a preview shows is ever "already there"

    def write(self, plan: Plan) -> tuple[StrongRef, ...]:
        with self._lock:
            if self.as_json:
                self.out.write(json.dumps(_json(plan), ensure_ascii=False) + "\n")
            else:
                self.out.write(render(plan))
            self.out.flush()
        return tuple(StrongRef(f"preview:{plan.item}#{p.rkey}", "") for p in plan.posts)

    def prepare_boost(self, root: StrongRef, target: Target, *, now: datetime) -> Plan:
        record = repost_record(root, created_at=now)
        planned = PlannedPost(f"preview-{now:%Y%m%d%H%M%S}-boost", "", record)
        return Plan(target.feed, target.item, target.url, "preview", "", (planned,))

    def delete(self, deletion: Deletion) -> int:
        """Show what would be deleted; nothing is."""
        records = [{"collection": r.collection, "rkey": r.rkey} for r in deletion.records]
        with self._lock:
            if self.as_json:
                line = {"feed": deletion.feed, "item": deletion.item, "delete": records}
                self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
            else:
                head = f"── {deletion.feed} · {deletion.item}: would delete {len(records)} records"
                repo = f"at://{deletion.repo}/" if deletion.repo else ""  # a preview's own
                uris = [f"{repo}{r.collection}/{r.rkey}" for r in deletion.records]
                lines = [head, *(f"   ✕ {uri}" for uri in uris)]
                self.out.write("\n".join(map(log_safe, lines)) + "\n\n")
            self.out.flush()
        return 0


def _json(plan: Plan) -> dict[str, Any]:
    data: dict[str, Any] = {
        "feed": plan.feed,
        "item": plan.item,
        "url": plan.url,
        "posts": [p.record for p in plan.posts],
    }
    if plan.gates:
        data["gates"] = [p.record for p in plan.gates]
    return data


def render(plan: Plan) -> str:
    """A thread as a person would read it, with the numbers that matter for limits."""
    lines = [f"── {plan.feed} · {plan.item}", f"   {plan.url}"]
    total = len(plan.posts)
    for i, planned in enumerate(plan.posts, 1):
        record = planned.record
        if record.get("$type") == REPOST:
            lines.append(f"   [{i}/{total}] repost of {record['subject']['uri']}")
            continue
        text = record["text"]
        langs = ",".join(record.get("langs", ())) or "-"
        lines.append(
            f"   [{i}/{total}] {graphemes(text)} graphemes, {utf8_len(text)} bytes, langs {langs}"
        )
        lines.extend("   │ " + line for line in text.split("\n"))
        for facet in record.get("facets", ()):
            feature = facet["features"][0]
            what = feature.get("uri") or "#" + feature.get("tag", "")
            index = facet["index"]
            lines.append(f"   │   facet {index['byteStart']}–{index['byteEnd']}: {what}")
        embed = record.get("embed")
        if embed:
            lines.extend("   " + line for line in _render_embed(embed))
        if record.get("labels"):
            values = ", ".join(v["val"] for v in record["labels"]["values"])
            lines.append(f"   │   labels: {values}")
    lines.extend("   " + _render_gate(gate.record) for gate in plan.gates)
    # what a feed said reaches a terminal: no raw ESC, no bidi override, one line a line
    return "\n".join(map(log_safe, lines)) + "\n\n"


def _render_gate(record: dict[str, Any]) -> str:
    if record["$type"] == THREADGATE:
        names = {rule: name for name, rule in REPLY_RULES.items()}
        rules = [names.get(rule["$type"], rule["$type"]) for rule in record["allow"]]
        return f"⛔ replies: {', '.join(rules) if rules else 'nobody'}"
    return "⛔ quotes: disabled"


def _render_embed(embed: dict[str, Any]) -> list[str]:
    kind = embed.get("$type", "")
    if kind == "app.bsky.embed.external":
        card = embed["external"]
        out = [f"┌ card: {card['title']}", f"│ {card['description']}", f"└ {card['uri']}"]
        if card.get("thumb"):
            out.insert(2, "│ (with thumbnail)")
        return out
    if kind == "app.bsky.embed.record":
        return [f"» quotes {embed['record']['uri']}"]
    if kind == "app.bsky.embed.recordWithMedia":
        return _render_embed(embed["media"]) + _render_embed(
            {"$type": "app.bsky.embed.record", "record": embed["record"]["record"]}
        )
    return [f"embed {kind}"]
