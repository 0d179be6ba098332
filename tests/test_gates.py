"""Reply and quote controls and self-labels as records: the config's ``replies`` and
``quotes``, the threadgate/postgate records they become, the ``bot`` profile label merged
into an existing profile, and the check of a post's labels."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.errors import ConfigError
from bot.lexicon import check_post_record, gate_records, post_record, with_bot_label
from bot.model import Gate, Post, Target, Thread
from bot.publish.preview import PreviewPublisher

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROOT = "at://did:plc:bot/app.bsky.feed.post/3root"
CONFIG = """\
accounts:
  p: {{type: preview}}
defaults:
  quotes: false
feeds:
  - name: a
    source: {{type: records, path: config/samples}}
    account: p
{extra}"""


def load(tmp_path: Path, extra: str) -> Gate:
    path = tmp_path / "feeds.yaml"
    path.write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return load_config(path, env={}).feeds[0].gate


def test_replies_and_quotes_from_the_config(tmp_path: Path) -> None:
    assert load(tmp_path, "") == Gate(None, quotes=False)  # quotes from defaults
    assert load(tmp_path, "    replies: nobody\n") == Gate((), quotes=False)
    assert load(tmp_path, "    replies: [mentioned, followers]\n    quotes: true\n") == Gate(
        ("mentioned", "followers"), quotes=True
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    replies: [mentioned, friends]\n", "expected"),
        ("    replies: []\n", "expected"),
        ("    replies: some\n", "expected"),
        ("    replies: [following, following]\n", "a rule is listed twice"),
        ("    quotes: maybe\n", "quotes"),
    ],
)
def test_a_wrong_reply_rule_is_a_file_line_error(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, extra)
    text = str(info.value)
    assert text.startswith(f"{tmp_path / 'feeds.yaml'}:9: feeds[0].")
    assert message in text


def test_an_open_thread_needs_no_gate_record() -> None:
    assert gate_records(ROOT, Gate(), created_at=NOW) == []


def test_gates_become_a_threadgate_and_a_postgate_for_the_root() -> None:
    threadgate, postgate = gate_records(
        ROOT, Gate(("mentioned", "following", "followers"), quotes=False), created_at=NOW
    )
    assert threadgate == {
        "$type": "app.bsky.feed.threadgate",
        "post": ROOT,
        "allow": [
            {"$type": "app.bsky.feed.threadgate#mentionRule"},
            {"$type": "app.bsky.feed.threadgate#followingRule"},
            {"$type": "app.bsky.feed.threadgate#followerRule"},
        ],
        "createdAt": "2026-03-01T12:00:00.000Z",
    }
    assert postgate == {
        "$type": "app.bsky.feed.postgate",
        "post": ROOT,
        "embeddingRules": [{"$type": "app.bsky.feed.postgate#disableRule"}],
        "createdAt": "2026-03-01T12:00:00.000Z",
    }
    (nobody,) = gate_records(ROOT, Gate((), quotes=True), created_at=NOW)
    assert nobody["allow"] == []  # an empty allow list: nobody may reply


def test_the_bot_label_is_merged_into_the_profile_keeping_every_field() -> None:
    profile: dict[str, Any] = {
        "$type": "app.bsky.actor.profile",
        "displayName": "News",
        "avatar": {"$type": "blob", "ref": {"$link": "bafyavatar"}, "mimeType": "image/png"},
        "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "porn"}]},
    }
    merged = with_bot_label(profile)
    assert merged == {
        **profile,
        "labels": {
            "$type": "com.atproto.label.defs#selfLabels",
            "values": [{"val": "porn"}, {"val": "bot"}],
        },
    }
    assert profile["labels"]["values"] == [{"val": "porn"}], "the input is not changed"
    assert with_bot_label(merged) is None, "already labelled: nothing to write"
    assert with_bot_label(None) == {
        "$type": "app.bsky.actor.profile",
        "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "bot"}]},
    }


def test_a_post_carries_the_documents_self_labels() -> None:
    record = post_record(Post("Photos."), langs=(), created_at=NOW, labels=("graphic-media",))
    assert record["labels"] == {
        "$type": "com.atproto.label.defs#selfLabels",
        "values": [{"val": "graphic-media"}],
    }
    assert check_post_record(record) == []
    assert "labels" not in post_record(Post("Plain."), langs=(), created_at=NOW)
    bad = {**record, "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": []}}
    assert check_post_record(bad) == ["labels has no values"]


def test_the_preview_shows_the_gates_and_labels() -> None:
    out = io.StringIO()
    preview = PreviewPublisher(out)
    thread = Thread(
        (Post("One."), Post("Two.")),
        labels=("graphic-media",),
        gate=Gate(("mentioned",), quotes=False),
    )
    plan = preview.prepare(thread, Target("f", "item-1", "https://x.example/1"), now=NOW)
    assert [g.record["$type"] for g in plan.gates] == [
        "app.bsky.feed.threadgate",
        "app.bsky.feed.postgate",
    ]
    assert all(g.rkey == plan.posts[0].rkey for g in plan.gates)
    preview.write(plan)
    shown = out.getvalue()
    assert shown.count("labels: graphic-media") == 2
    assert "replies: mentioned" in shown and "quotes: disabled" in shown
