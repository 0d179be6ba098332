"""What a reader's app shows of the bot's threads: the whole bot (`feedbot run --once`)
posts to a local PDS, and the posts are read back through Bluesky's own AppView with
``getPostThread``, ``getPosts`` and ``getProfile`` (sent to the PDS with a reader's token,
which forwards them, as the Bluesky app does)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from appview import AppView
from pds import Account, XrpcError
from PIL import Image

from bot.cli import main
from bot.state import State

DOC = "site.standard.document"
PUB = "site.standard.publication"
POST = "app.bsky.feed.post"
PROFILE = "app.bsky.actor.profile"
THREADGATE = "app.bsky.feed.threadgate"
POSTGATE = "app.bsky.feed.postgate"
SELF_LABELS = "com.atproto.label.defs#selfLabels"
T0 = datetime(2026, 2, 1, tzinfo=UTC)
TEXT = (
    "The city council approved a new budget for public libraries on Tuesday. "
    "It adds evening hours in five districts and hires twelve librarians. "
    "Residents had asked for longer opening hours in a survey last spring. "
    "The changes take effect in March, the council said in a statement. "
) * 4


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1600, 1000), (200, 80, 40)).save(out, "JPEG", quality=90)
    return out.getvalue()


def write_config(path: Path, author: Account, bot: Account, av: AppView, extra: str = "") -> None:
    path.write_text(
        f"""state: {path.parent / "feedbot.db"}
accounts:
  bot:
    type: bluesky
    handle: {bot.handle}
    app_password: ${{APPVIEW_APP_PASSWORD}}
    pds: {av.pds.pds_url}
feeds:
  - name: author
    source:
      type: atproto
      repo: {author.did}
      plc_url: {av.pds.plc_url}
      allow_private_addresses: true  # the local network is on 127.0.0.1
    account: bot
    backfill: 5
    summary:
      max_posts: 4
{extra}""",
        encoding="utf-8",
    )


def posted(state_path: Path) -> dict[str, list[str]]:
    """item → the URIs of its posted thread, root first."""
    state = State.open(state_path)
    try:
        rows = state.conn.execute(
            "SELECT DISTINCT feed, item FROM threads WHERE status = 'posted'"
        ).fetchall()
        return {item: [p.uri for p in state.threads(feed, item)[0].posts] for feed, item in rows}
    finally:
        state.close()


def chain(thread: dict[str, Any]) -> list[dict[str, Any]]:
    """The posts of a getPostThread view from the root down its first replies."""
    out = [thread["post"]]
    node = thread
    while node.get("replies"):
        node = node["replies"][0]
        out.append(node["post"])
    return out


@pytest.fixture
def world(appview: AppView, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    pds = appview.pds
    author = pds.create_account("author")
    bot = pds.create_account("poster")
    reader = pds.create_account("reader")
    pub_uri, _ = pds.put_record(author, PUB, {"url": "https://author.example", "name": "Ledger"})
    ann_uri, ann_cid = pds.put_record(author, POST, {"text": "New post!", "createdAt": iso(T0)})
    cover = pds.upload_blob(author, jpeg(), "image/jpeg")
    docs = pds.create_records(
        author,
        DOC,
        [
            {
                "site": pub_uri,
                "path": "/budget",
                "title": "The library budget passed",
                "publishedAt": iso(T0 + timedelta(hours=1)),
                "textContent": TEXT,
                "tags": ["libraries"],
                "coverImage": cover,
                "bskyPostRef": {"uri": ann_uri, "cid": ann_cid},
            }
        ],
    )
    config = tmp_path / "feeds.yaml"
    write_config(config, author, bot, appview)
    monkeypatch.setenv("APPVIEW_APP_PASSWORD", bot.password)
    return {
        "pds": pds,
        "author": author,
        "bot": bot,
        "reader": reader,
        "config": str(config),
        "state": tmp_path / "feedbot.db",
        "docs": docs,
        "quote": (ann_uri, ann_cid),
    }


def test_a_thread_reads_whole_in_the_appview_with_its_card_and_quote(
    appview: AppView, world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    pds = world["pds"]
    assert main(["--config", world["config"], "run", "--once"]) == 0
    assert "author: 1 new, 1 posted" in capsys.readouterr().out
    ((item, uris),) = posted(world["state"]).items()
    assert item == world["docs"][0][0]
    assert len(uris) >= 2
    appview.sync()

    view = pds.query("app.bsky.feed.getPostThread", auth=world["reader"], uri=uris[0], depth=10)[
        "thread"
    ]
    assert view["$type"] == "app.bsky.feed.defs#threadViewPost"
    shown = chain(view)
    assert [p["uri"] for p in shown] == uris, "the whole reply chain, in order"
    assert all(p["author"]["did"] == world["bot"].did for p in shown)

    root = shown[0]
    card = root["embed"]
    assert card["$type"] == "app.bsky.embed.external#view"
    assert card["external"]["uri"] == "https://author.example/budget"
    assert card["external"]["title"] == "The library budget passed"
    thumb = card["external"]["thumb"]
    blob_cid = root["record"]["embed"]["external"]["thumb"]["ref"]["$link"]
    assert thumb.startswith("http") and blob_cid in thumb, "the thumbnail is rendered"

    last = shown[-1]
    assert last["embed"]["$type"] == "app.bsky.embed.record#view"
    quoted = last["embed"]["record"]
    assert quoted["$type"] == "app.bsky.embed.record#viewRecord"
    assert (quoted["uri"], quoted["cid"]) == world["quote"]
    assert quoted["value"]["text"] == "New post!"
    assert quoted["author"]["did"] == world["author"].did

    got = pds.query("app.bsky.feed.getPosts", auth=world["reader"], uris=uris)["posts"]
    assert [p["uri"] for p in got] == uris
    for post in got[1:]:
        assert post["record"]["reply"]["root"]["uri"] == uris[0]


def test_replies_and_quotes_disabled_labels_kept_and_the_profile_says_bot(
    appview: AppView, world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    pds = world["pds"]
    bot, reader = world["bot"], world["reader"]
    # the owner's own profile: every field must survive the label being added
    pds.put_record(bot, PROFILE, {"displayName": "Ledger bot", "description": "Posts."}, "self")
    pds.create_records(
        world["author"],
        DOC,
        [
            {
                "site": "https://author.example",
                "path": "/warning",
                "title": "Photos from the flood",
                "publishedAt": iso(T0 + timedelta(hours=2)),
                "textContent": TEXT,
                "labels": {"$type": SELF_LABELS, "values": [{"val": "graphic-media"}]},
            },
            {
                "site": "https://author.example",
                "path": "/match",
                "title": "Match report",
                "publishedAt": iso(T0 + timedelta(hours=3)),
                "textContent": "The home team won the final on Sunday evening. " * 5,
            },
        ],
    )
    config = Path(world["config"])
    config.write_text(
        config.read_text(encoding="utf-8")
        # the issue's "done" example
        + "    filter: {include: [budget]}\n"
        + '    template: {first: "{title} — {publication}"}\n'
        + "    replies: nobody\n    quotes: false\n",
        encoding="utf-8",
    )
    assert main(["--config", str(config), "run", "--once"]) == 0
    assert "author: 2 new, 2 posted, 0 failed, 1 skipped" in capsys.readouterr().out
    threads = posted(world["state"])
    assert len(threads) == 2, "the match report has no 'budget': not posted"
    appview.sync()
    first = pds.query("app.bsky.feed.getPosts", auth=reader, uris=[threads[world["docs"][0][0]][0]])
    assert first["posts"][0]["record"]["text"] == "The library budget passed — Ledger"

    for uris in threads.values():
        view = pds.query("app.bsky.feed.getPostThread", auth=reader, uri=uris[0])["thread"]
        shown = chain(view)
        assert [p["uri"] for p in shown] == uris
        root = shown[0]
        assert root["threadgate"]["uri"] == uris[0].replace(POST, THREADGATE)
        assert root["threadgate"]["record"]["allow"] == []
        for post in shown:
            assert post["viewer"]["replyDisabled"] is True, "nobody may reply"
        assert root["viewer"]["embeddingDisabled"] is True, "nobody may quote"
        rkey = uris[0].rsplit("/", 1)[1]
        postgate = pds.get_record(f"at://{bot.did}/{POSTGATE}/{rkey}")["value"]
        assert postgate["post"] == uris[0]
        assert postgate["embeddingRules"] == [{"$type": f"{POSTGATE}#disableRule"}]

    warned = threads[next(i for i in threads if i != world["docs"][0][0])]
    got = pds.query("app.bsky.feed.getPosts", auth=reader, uris=warned)["posts"]
    for post in got:
        assert {(lab["val"], lab["src"]) for lab in post["labels"]} == {("graphic-media", bot.did)}

    profile = pds.query("app.bsky.actor.getProfile", auth=reader, actor=bot.did)
    assert {(lab["val"], lab["src"]) for lab in profile["labels"]} == {("bot", bot.did)}
    assert profile["displayName"] == "Ledger bot"
    assert profile["description"] == "Posts."


def test_a_document_deleted_at_the_source_takes_its_thread_out_of_the_appview(
    appview: AppView, world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.config import load_config
    from bot.outcomes import Deleted
    from bot.wiring import build_pipeline

    pds = world["pds"]
    config = Path(world["config"])
    config.write_text(
        config.read_text(encoding="utf-8") + "    deletions: delete\n    replies: nobody\n",
        encoding="utf-8",
    )
    assert main(["--config", str(config), "run", "--once"]) == 0
    ((item, uris),) = posted(world["state"]).items()
    appview.sync()
    view = pds.query("app.bsky.feed.getPostThread", auth=world["reader"], uri=uris[0])
    assert [p["uri"] for p in chain(view["thread"])] == uris

    pds.delete_record(world["author"], item)  # the author deletes the document
    settings = load_config(config)
    with State.open(world["state"]) as state, build_pipeline(settings, state) as pipeline:
        # what the stream's delete event hands the pipeline
        outcome = pipeline.delete_item(settings.feed("author"), item)
    assert isinstance(outcome, Deleted) and outcome.records == len(uris) + 1  # + threadgate
    appview.sync()
    for uri in uris:
        with pytest.raises(XrpcError) as gone:
            pds.query("app.bsky.feed.getPostThread", auth=world["reader"], uri=uri)
        assert "NotFound" in gone.value.body
    assert pds.query("app.bsky.feed.getPosts", auth=world["reader"], uris=uris)["posts"] == []
