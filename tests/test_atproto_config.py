"""The ``atproto`` source's settings: defaults, limits and one-line errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import AtprotoSourceSettings, load_config
from bot.errors import ConfigError

FEED = """\
accounts:
  preview: {{type: preview}}
feeds:
  - name: blog
    account: preview
    source:
      type: atproto
      repo: {repo}
{extra}"""


def load(tmp_path: Path, repo: str = "alice.example.com", extra: str = "") -> AtprotoSourceSettings:
    path = tmp_path / "feeds.yaml"
    path.write_text(FEED.format(repo=repo, extra=extra), encoding="utf-8")
    source = load_config(path, env={}).feeds[0].source
    assert isinstance(source, AtprotoSourceSettings)
    return source


def test_defaults_follow_standard_site_with_full_pages(tmp_path: Path) -> None:
    source = load(tmp_path)
    assert source.collections == ("site.standard.document",)
    assert (source.page_limit, source.max_records) == (100, 1000)
    assert source.identity_ttl == timedelta(hours=1)


def test_all_keys_are_read(tmp_path: Path) -> None:
    extra = (
        "      collections: [site.standard.document, com.whtwnd.blog.entry]\n"
        "      plc_url: http://localhost:2582\n"
        "      resolver_url: https://bsky.social\n"
        "      page_limit: 50\n"
        "      max_records: 200\n"
        "      identity_ttl: 30m\n"
    )
    source = load(tmp_path, repo="'@did:plc:abcdefghijklmnopqrstuvwx'", extra=extra)
    assert source.repo == "did:plc:abcdefghijklmnopqrstuvwx"
    assert source.collections == ("site.standard.document", "com.whtwnd.blog.entry")
    assert (source.page_limit, source.max_records) == (50, 200)
    assert source.identity_ttl == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("repo", "extra", "message"),
    [
        ("alice.example.com", "      page_limit: 101\n", r":9: feeds\[0\]\.source\.page_limit: "),
        (
            "alice.example.com",
            "      collections: [app.bsky.feed.post]\n",
            "unsupported collection",
        ),
        ("alice.example.com", "      collections: []\n", "at least one collection"),
        ("alice.example.com", "      identity_ttl: soon\n", "expected a duration"),
        ("not a handle", "", r"feeds\[0\]\.source\.repo: expected a handle"),
        ("'*'", "", r':8: feeds\[0\]\.source\.repo: "\*" needs follow: jetstream or firehose'),
        (
            "'*'",
            "      follow: firehose\n",
            r'feeds\[0\]\.source\.repo: "\*" with follow: firehose needs service:',
        ),
        ("alice.example.com", "      follow: always\n", r"feeds\[0\]\.source\.follow: "),
        (
            "alice.example.com",
            "      follow: jetstream\n      jetstream: jetstream.example\n",
            r"feeds\[0\]\.source\.jetstream: expected a wss://",
        ),
        (
            "alice.example.com",
            "      follow: firehose\n      service: ftp://relay.example\n",
            r"feeds\[0\]\.source\.service: expected a wss://",
        ),
    ],
)
def test_bad_settings_are_one_line_errors(
    tmp_path: Path, repo: str, extra: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load(tmp_path, repo=repo, extra=extra)
    assert "\n" not in str(info.value)


def test_stream_keys_default_to_polling_and_bluesky_s_public_jetstream(tmp_path: Path) -> None:
    source = load(tmp_path)
    assert (source.follow, source.service) == ("poll", None)
    assert source.jetstream == "wss://jetstream.us-east.bsky.network/xrpc"
    wide = load(
        tmp_path,
        repo="'*'",
        extra="      follow: firehose\n      service: wss://relay.example/\n",
    )
    assert (wide.network_wide, wide.follow, wide.service) == (
        True,
        "firehose",
        "wss://relay.example",
    )


def test_max_per_hour_is_a_positive_count_on_a_feed(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        FEED.format(repo="'*'", extra="      follow: jetstream\n") + "    max_per_hour: 4\n"
    )
    assert load_config(path, env={}).feeds[0].max_per_hour == 4
    path.write_text(FEED.format(repo="a.example.com", extra="") + "    max_per_hour: 0\n")
    with pytest.raises(
        ConfigError, match=r":9: feeds\[0\]\.max_per_hour: .*greater than or equal to 1"
    ):
        load_config(path, env={})
