"""The whole bot against a real local PDS: `feedbot run --once` follows a publisher's
standard.site documents and posts well-formed threads, nothing the second time, and a new
document alone the third time. Written records are read back with getRecord."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pds import Account, LocalPds
from PIL import Image

from bot.cli import main
from bot.lexicon import check_post_record
from bot.state import State

DOC = "site.standard.document"
PUB = "site.standard.publication"
POST = "app.bsky.feed.post"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
MIXED_TITLE = "Бюджет библиотек 📚 утверждён — e\u0301te\u0301 👩‍👩‍👧‍👦"
SENTENCES = (
    "The city council approved a new budget for public libraries on Tuesday. "
    "It adds evening hours in five districts and hires twelve librarians. "
    "Residents had asked for longer opening hours in a survey last spring. "
    "The changes take effect in March, the council said in a statement."
)


def doc(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "site": extra.pop("site"),
        "path": f"/posts/{i}",
        "title": f"Library budget, part {i}",
        "publishedAt": (T0 + timedelta(hours=i)).isoformat().replace("+00:00", "Z"),
        "textContent": SENTENCES,
        "tags": ["libraries", "city budget"],
        **extra,
    }


def jpeg(size: tuple[int, int] = (2400, 1600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.fixture
def world(pds: LocalPds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    author = pds.create_account("author")
    bot = pds.create_account("poster")
    pub_uri, pub_cid = pds.put_record(author, PUB, {"url": "https://author.example", "name": "A"})
    ann_uri, ann_cid = pds.put_record(
        author, POST, {"text": "New post!", "createdAt": T0.isoformat().replace("+00:00", "Z")}
    )
    docs = [doc(i, site=pub_uri) for i in range(150)]
    created = pds.create_records(author, DOC, docs)
    cover = pds.upload_blob(author, jpeg(), "image/jpeg")
    special = [
        doc(150, site="https://plain.example", coverImage=cover),
        doc(151, site=pub_uri, bskyPostRef={"uri": ann_uri, "cid": ann_cid}),
        doc(
            152,
            site=pub_uri,
            title=MIXED_TITLE,
            textContent=("Совет утвердил бюджет библиотек. " * 300).strip(),
        ),
    ]
    created += pds.create_records(author, DOC, special)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""state: {tmp_path / "feedbot.db"}
accounts:
  bot:
    type: bluesky
    handle: {bot.handle}
    app_password: ${{E2E_APP_PASSWORD}}
    pds: {pds.pds_url}
feeds:
  - name: author
    source:
      type: atproto
      repo: {author.did}
      plc_url: {pds.plc_url}
      allow_private_addresses: true  # the local PDS and its blobs are on 127.0.0.1
    account: bot
    backfill: 3
    hashtags: [feedbot]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("E2E_APP_PASSWORD", bot.password)
    return {
        "author": author,
        "bot": bot,
        "config": str(config),
        "state": tmp_path / "feedbot.db",
        "pub": (pub_uri, pub_cid),
        "docs": created,
        "quote": (ann_uri, ann_cid),
        "pds": pds,
    }


def posted_threads(state_path: Path) -> dict[str, list[Any]]:
    state = State.open(state_path)
    try:
        rows = state.conn.execute(
            "SELECT DISTINCT feed, item FROM threads WHERE status = 'posted'"
        ).fetchall()
        return {item: state.threads(feed, item) for feed, item in rows}
    finally:
        state.close()


def repo_posts(pds: LocalPds, account: Account) -> list[dict[str, Any]]:
    page = pds.query("com.atproto.repo.listRecords", repo=account.did, collection=POST, limit=100)
    return list(page["records"])


def check_thread(pds: LocalPds, thread: Any, world: dict[str, Any]) -> list[dict[str, Any]]:
    """Read each post back and check it is exactly what was planned and well formed."""
    assert thread.plan is not None
    values = []
    for planned, ref in zip(thread.plan.posts, thread.posts, strict=True):
        got = pds.get_record(ref.uri)
        assert got["cid"] == planned.cid == ref.cid, "the locally computed CID is the PDS's"
        assert got["value"] == planned.record
        assert check_post_record(got["value"]) == []
        text = got["value"]["text"].encode()
        for facet in got["value"].get("facets", []):
            span = text[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()
            feature = facet["features"][0]
            if "tag" in feature:
                assert span == "#" + feature["tag"]
            else:
                assert feature["uri"].startswith(span.rstrip("…"))
        values.append(got["value"])
    root = thread.posts[0]
    assert "reply" not in values[0]
    for parent, value in zip(thread.posts, values[1:], strict=False):
        assert value["reply"]["root"] == {"uri": root.uri, "cid": root.cid}
        assert value["reply"]["parent"] == {"uri": parent.uri, "cid": parent.cid}
    return values


def test_run_once_posts_the_backfill_then_nothing_then_one_new_document(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    pds: LocalPds = world["pds"]
    config = world["config"]

    assert main(["--config", config, "run", "--once"]) == 0
    assert "author: 3 new, 3 posted, 0 failed, 150 skipped" in capsys.readouterr().out
    threads = posted_threads(world["state"])
    uri_of = {i: uri for i, (uri, _) in enumerate(world["docs"])}
    assert set(threads) == {uri_of[150], uri_of[151], uri_of[152]}

    by_doc = {item: check_thread(pds, t[0], world) for item, t in threads.items()}
    total_posts = sum(len(v) for v in by_doc.values())
    assert len(repo_posts(pds, world["bot"])) == total_posts

    # a plain https site, with the cover as a thumbnail within Bluesky's limits
    card = by_doc[uri_of[150]][0]["embed"]["external"]
    assert card["uri"] == "https://plain.example/posts/150"
    assert card["thumb"]["mimeType"] == "image/jpeg"
    assert card["thumb"]["size"] <= 1_000_000
    assert card["associatedRefs"] == [{"uri": uri_of[150], "cid": world["docs"][150][1]}]

    # a publication site: canonical URL through the publication, refs to both records
    first = by_doc[uri_of[151]][0]["embed"]["external"]
    assert first["uri"] == "https://author.example/posts/151"
    assert first["associatedRefs"] == [
        {"uri": uri_of[151], "cid": world["docs"][151][1]},
        {"uri": world["pub"][0], "cid": world["pub"][1]},
    ]
    last = by_doc[uri_of[151]][-1]
    assert last["embed"] == {
        "$type": "app.bsky.embed.record",
        "record": {"uri": world["quote"][0], "cid": world["quote"][1]},
    }
    assert any(
        f["features"][0].get("uri") == "https://author.example/posts/151" for f in last["facets"]
    ), "the last post links back to the original"
    tags = {f["features"][0].get("tag") for f in last["facets"]} - {None}
    assert tags == {"libraries", "cityBudget", "feedbot"}

    # emoji, combining marks and Cyrillic in the title; a very long text; Russian langs
    cyrillic = by_doc[uri_of[152]]
    assert cyrillic[0]["text"].startswith(
        "Бюджет библиотек 📚 утверждён — e\u0301te\u0301 👩‍👩‍👧‍👦"
    )
    assert cyrillic[0]["langs"] == ["ru"]
    assert len(cyrillic) <= 3

    # second pass: nothing new, nothing written
    assert main(["--config", config, "run", "--once"]) == 0
    assert capsys.readouterr().out.strip() == "author: nothing new"
    assert len(repo_posts(pds, world["bot"])) == total_posts

    # one new document is posted alone
    ((new_uri, _),) = pds.create_records(world["author"], DOC, [doc(153, site=world["pub"][0])])
    assert main(["--config", config, "run", "--once"]) == 0
    assert "author: 1 new, 1 posted" in capsys.readouterr().out
    threads = posted_threads(world["state"])
    assert len(threads) == 4 and new_uri in threads
    check_thread(pds, threads[new_uri][0], world)

    assert main(["--config", config, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    (feed,) = status["feeds"]
    assert feed["counts"] == {"posted": 4, "skipped": 150}
    assert world["bot"].password not in json.dumps(status)
