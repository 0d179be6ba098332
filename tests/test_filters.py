"""The owner's filters: words and /regex/ over title, text and tags, tags, languages and a
minimum length; config errors that name the line; filtered items recorded as skipped
with their reason, never posted automatically, and still postable with ``repost``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.decide import Policy, decide
from bot.errors import ConfigError
from bot.filters import ItemFilter
from bot.model import Article

NOW = datetime(2026, 3, 1, tzinfo=UTC)
BUDGET = "The council approved the library budget on Tuesday after a long debate."
RUSSIAN = "Городской совет утвердил бюджет библиотек во вторник после долгих споров."


def article(i: int = 1, **fields: object) -> Article:
    values: dict[str, object] = {
        "feed": "f",
        "id": f"item-{i}",
        "url": f"https://blog.example/{i}",
        "title": f"Post {i}",
        "text": BUDGET,
        "published": NOW - timedelta(hours=i),
        **fields,
    }
    return Article(**values)  # type: ignore[arg-type]


def test_include_words_match_whole_words_in_any_case_in_title_text_or_tags() -> None:
    only = ItemFilter.build(include=["Budget"])
    assert only.reason(article()) is None
    assert only.reason(article(text="Budgetary matters.", title="Council")) is not None
    assert only.reason(article(text="Nothing here.", tags=("budget",))) is None
    assert only.reason(article(text="Nothing.", title="BUDGET day")) is None
    assert only.reason(article(text="Nothing here.")) == "filtered: matches no include pattern"
    phrase = ItemFilter.build(include=["library  budget"])
    assert phrase.reason(article()) is None
    assert phrase.reason(article(text="A budget for the library.")) is not None


def test_exclude_wins_and_regexes_are_case_insensitive() -> None:
    both = ItemFilter.build(include=["/budg(et|ets)/"], exclude=["/\\bsponsored\\b/"])
    assert both.reason(article(text="BUDGETS for all.")) is None
    assert both.reason(article(title="Sponsored: budget tips")) == (
        "filtered: matches exclude '/\\\\bsponsored\\\\b/'"
    )


def test_tags_langs_and_min_words() -> None:
    tagged = ItemFilter.build(tags=["#City Budget"])
    assert tagged.reason(article(tags=("city budget",))) is None
    assert tagged.reason(article(tags=("sports",))) == "filtered: none of the tags city budget"
    russian = ItemFilter.build(langs=["ru"])
    assert russian.reason(article(text=RUSSIAN, title="Бюджет")) is None  # detected
    assert russian.reason(article()) == "filtered: language en not in ru"
    assert russian.reason(article(langs=("ru-RU",))) is None  # declared wins
    long_only = ItemFilter.build(min_words=12)
    assert long_only.reason(article()) is None
    assert long_only.reason(article(text="Too short.")) == "filtered: 2 words, fewer than 12"


def test_a_catastrophic_regex_is_bounded_in_time() -> None:
    slow = ItemFilter.build(exclude=["/(a+)+$/"])
    started = datetime.now(UTC)
    assert slow.reason(article(text="a" * 50_000 + "!")) is None  # timed out: no match
    assert datetime.now(UTC) - started < timedelta(seconds=5)


def test_filtered_items_are_skipped_and_use_no_backfill() -> None:
    policy = Policy(backfill=2, max_age=None, edits="ignore", filter=ItemFilter.build(
        exclude=["sports"]
    ))  # fmt: skip
    items = [article(1, text="Sports news."), article(2), article(3, text="More sports."),
             article(4), article(5)]  # fmt: skip
    decisions = decide(items, {}, first_poll=True, policy=policy, now=NOW)
    by_id = {d.article.id: (d.action, d.note) for d in decisions}
    assert by_id == {
        "item-1": ("filtered", "filtered: matches exclude 'sports'"),
        "item-2": ("publish", None),
        "item-3": ("filtered", "filtered: matches exclude 'sports'"),
        "item-4": ("publish", None),
        "item-5": ("seen", "first poll: beyond backfill"),
    }


CONFIG = """\
accounts:
  p: {{type: preview}}
defaults:
  filter:
    min_words: 3
feeds:
  - name: a
    source: {{type: records, path: {records}}}
    account: p
    filter:
{filter}"""


def write(tmp_path: Path, filter_lines: str) -> Path:
    records = tmp_path / "records"
    records.mkdir(exist_ok=True)
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"state: {tmp_path / 'feedbot.db'}\n" + CONFIG.format(records=records, filter=filter_lines),
        encoding="utf-8",
    )
    return path


def test_filter_settings_merge_with_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "      include: [budget, '/lib(rary)?/']\n"), env={})
    built = config.feeds[0].filter.build()
    assert [p.source for p in built.include] == ["budget", "/lib(rary)?/"]
    assert built.min_words == 3


@pytest.mark.parametrize(
    ("lines", "where", "message"),
    [
        ("      include: [budget, /(unclosed/]\n", "12: feeds[0].filter.include[1]",
         "bad regular expression /(unclosed/"),
        ("      exclude: ['  ']\n", "12: feeds[0].filter.exclude[0]", "an empty pattern"),
        ("      langs: [en_US]\n", "12: feeds[0].filter.langs", "not a BCP-47"),
        ("      min_words: -1\n", "12: feeds[0].filter.min_words", "greater than or equal"),
        ("      keywords: [x]\n", "12: feeds[0].filter.keywords", "unknown key"),
    ],
)  # fmt: skip
def test_a_bad_filter_is_a_file_line_error(
    tmp_path: Path, lines: str, where: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, lines), env={})
    assert str(info.value).startswith(f"{tmp_path / 'feeds.yaml'}:{where}: ")
    assert message in str(info.value)


def record(rkey: str, title: str, text: str) -> dict[str, object]:
    return {
        "uri": f"at://did:plc:filters/site.standard.document/{rkey}",
        "value": {
            "$type": "site.standard.document",
            "site": "https://blog.example",
            "path": f"/{rkey}",
            "title": title,
            "publishedAt": "2026-02-01T10:00:00Z",
            "textContent": text,
        },
    }


def test_run_posts_only_matching_items_status_shows_why_and_repost_still_posts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "      include: [budget]\n")
    (tmp_path / "records" / "docs.json").write_text(
        json.dumps(
            [
                record("3a", "Budget passed", BUDGET),
                record("3b", "Match report", "The home team won the final on Sunday evening."),
            ]
        ),
        encoding="utf-8",
    )
    assert main(["--config", str(config), "run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "a: 1 new, 1 posted, 0 failed, 1 skipped" in out
    assert out.count("── a · at://") == 1 and "Budget passed" in out

    assert main(["--config", str(config), "items", "--json"]) == 0
    items = {i["url"]: i for i in map(json.loads, capsys.readouterr().out.splitlines())}
    assert items["https://blog.example/3b"]["status"] == "skipped"
    assert items["https://blog.example/3b"]["note"] == "filtered: matches no include pattern"

    assert main(["--config", str(config), "run", "--once"]) == 0
    assert capsys.readouterr().out.strip() == "a: nothing new"

    assert main(["--config", str(config), "repost", "https://blog.example/3b"]) == 0
    assert "Match report" in capsys.readouterr().out
