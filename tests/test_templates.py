"""Templates for post 1 and the link-back post: named placeholders, errors at load that
name the line, and every post limit kept whatever the values (exact facets included)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compose import ComposeOptions, compose
from bot.config import load_config
from bot.errors import ConfigError
from bot.labels import LINK_LABELS
from bot.lexicon import MAX_BYTES, MAX_GRAPHEMES, check_post_record, post_record
from bot.model import Article, Summary, Thread
from bot.templates import Template, TemplateError
from bot.text import graphemes, utf8_len

NOW = datetime(2026, 3, 1, tzinfo=UTC)
URL = "https://ledger.example/2026/budget"
SENTENCES = (
    "The council approved the library budget on Tuesday.",
    "It adds evening hours in five districts.",
    "The changes take effect in March.",
)


def article(**fields: object) -> Article:
    values: dict[str, object] = {
        "feed": "f",
        "id": "item",
        "url": URL,
        "title": "Library budget passed",
        "text": " ".join(SENTENCES),
        "site_name": "The Ledger",
        "author": "Ana Ruiz",
        "tags": ("libraries", "city budget"),
        **fields,
    }
    return Article(**values)  # type: ignore[arg-type]


def thread(art: Article, first: str | None = None, last: str | None = None) -> Thread:
    options = ComposeOptions(
        max_posts=4,
        hashtags=("feedbot",),
        first=Template.parse(first) if first else None,
        last=Template.parse(last) if last else None,
    )
    return compose(art, Summary(SENTENCES, "en"), options)


def check(t: Thread) -> None:
    for post in t.posts:
        assert graphemes(post.text) <= MAX_GRAPHEMES and utf8_len(post.text) <= MAX_BYTES
        record = post_record(post, langs=t.langs, created_at=NOW)
        assert check_post_record(record) == []
        data = post.text.encode()
        for facet in post.facets:
            span = data[facet.start : facet.end].decode()
            assert span == ("#" + facet.value if facet.kind == "tag" else span)
            if facet.kind == "link":
                assert facet.value.startswith(span.rstrip("…"))


def test_the_first_post_as_the_template_says_and_the_card_unchanged() -> None:
    t = thread(article(), first="{title} — {publication}")
    assert t.posts[0].text == "Library budget passed — The Ledger"
    assert t.posts[0].card is not None and t.posts[0].card.uri == URL
    assert t.posts[1].text.startswith(SENTENCES[0]), "no lead: the summary keeps its start"
    check(t)


def test_the_last_post_with_link_tags_author_and_the_label() -> None:
    t = thread(article(), last="{read_more} {url}\nby {author} {tags}")
    last = t.posts[-1]
    assert last.text.endswith(
        f"{LINK_LABELS['en']} {URL}\nby Ana Ruiz #libraries #cityBudget #feedbot"
    )
    kinds = [(f.kind, f.value) for f in last.facets]
    assert kinds == [("link", URL), ("tag", "libraries"), ("tag", "cityBudget"),
                     ("tag", "feedbot")]  # fmt: skip
    check(t)


def test_long_values_give_way_but_the_url_and_label_stay_whole() -> None:
    long = article(title="Budget " * 80, site_name="Ledger " * 60, author="Ana " * 90)
    t = thread(long, first="{title} | {publication} | {author} | {url}")
    head = t.posts[0].text
    assert head.endswith(f" | {URL}")
    assert graphemes(head) <= MAX_GRAPHEMES
    assert head.startswith("Budget Budget")  # the title gave way last
    check(t)


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(min_size=1, max_size=400),
    site=st.text(max_size=400),
    tags=st.lists(st.text(min_size=1, max_size=30), max_size=12),
)
def test_any_values_keep_the_limits(title: str, site: str, tags: list[str]) -> None:
    art = article(title=title or "x", site_name=site, tags=tuple(tags))
    check(thread(art, first="{title}\n\n{lead}\n{publication}", last="{tags} {read_more}: {url}"))


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{title} by {writer}", "unknown placeholder {writer}"),
        ("{title:>40}", "takes no format"),
        ("{title!r}", "takes no format"),
        ("{title", "bad template"),
        ("x" * 250 + "{url}", "leaves no room"),
        ("é" * 301, "leaves no room"),
    ],
)
def test_a_bad_template_is_refused(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("{", r"\{").replace("}", r"\}")):
        Template.parse(template)


def test_literal_braces() -> None:
    t = thread(article(), first="{{{title}}}")
    assert t.posts[0].text == "{Library budget passed}"


def test_a_bad_template_in_the_config_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        """accounts:
  p: {type: preview}
defaults:
  template:
    last: "{read_more} {url}"
feeds:
  - name: a
    source: {type: records, path: config/samples}
    account: p
    template:
      first: "{title} from {blog}"
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}:11: feeds[0].template.first: unknown placeholder")
    path.write_text(path.read_text().replace("{blog}", "{publication}"), encoding="utf-8")
    feed = load_config(path, env={}).feeds[0]
    first, last = feed.template.parsed()
    assert first is not None and last is not None  # merged with the defaults'
    assert last.source == "{read_more} {url}"
