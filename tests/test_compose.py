from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compose import (
    URL_SHOW_MAX,
    ComposeOptions,
    compose,
    display_url,
    summary_budget,
)
from bot.labels import LINK_LABELS
from bot.lexicon import MAX_BYTES, MAX_GRAPHEMES, check_post_record, post_record
from bot.model import Article, StrongRef, Summary, Thread
from bot.summarize.words import near_repeats
from bot.text import ELLIPSIS, graphemes, split_graphemes, utf8_len

URL = "https://vlast.kz/english/69541-kazakhstan-and-russia-renew-friendship-vows.html"
QUOTE = StrongRef("at://did:plc:abc/app.bsky.feed.post/3mmvxdvqc3qj2", "bafyquote")
REF = StrongRef("at://did:plc:abc/site.standard.document/3mmvxd4hxnk2s", "bafydoc")
FAMILY = "👩\u200d👩\u200d👧\u200d👦"
PIECES = [
    "a",
    "Q",
    "ж",
    "ї",
    "e\u0301",
    "🙂",
    "👍🏽",
    FAMILY,
    "🇰🇿",
    "漢",
    "字",
    "ب",
    "ש",
    "7",
    ",",
    "'",
]


def article(**overrides: object) -> Article:
    fields: dict[str, object] = {
        "feed": "vlast",
        "id": "at://did:plc:abc/site.standard.document/3mmvxd4hxnk2s",
        "url": URL,
        "title": "Kazakhstan and Russia renew friendship vows",
        "description": "Putin flew to Astana for talks and a Eurasian Economic Union summit.",
        "tags": ("Vlast English",),
        "refs": (REF,),
        "cover_url": "https://vlast.kz/cover.jpg",
    }
    fields.update(overrides)
    return Article(**fields)  # type: ignore[arg-type]


def sentences(n: int, length: int = 120) -> tuple[str, ...]:
    out = []
    for i in range(n):
        # distinct words in each, so that no sentence restates another
        base = f"Sentence {i} says something about the talks"
        filler = "".join(f" fact{i}x{k}" for k in range(length // 6))
        out.append((base + filler)[: length - 1].rstrip() + ".")
    return tuple(out)


def texts(thread: Thread) -> list[str]:
    return [post.text for post in thread.posts]


def slice_of(text: str, start: int, end: int) -> str:
    return text.encode("utf-8")[start:end].decode("utf-8")


def assert_well_formed(thread: Thread, art: Article, options: ComposeOptions) -> None:
    """The invariants every thread must satisfy, whatever went in."""
    assert 2 <= len(thread.posts) <= options.max_posts
    assert len(thread.langs) <= 3
    for post in thread.posts:
        assert graphemes(post.text) <= MAX_GRAPHEMES
        assert utf8_len(post.text) <= MAX_BYTES
        for facet in post.facets:
            shown = slice_of(post.text, facet.start, facet.end)
            if facet.kind == "tag":
                assert shown == "#" + facet.value
            else:
                assert shown == display_url(facet.value)
    first, last = thread.posts[0], thread.posts[-1]
    assert first.card is not None and first.card.uri == art.url
    assert all(post.card is None for post in thread.posts[1:])
    assert [f.value for f in last.facets if f.kind == "link"] == [art.url]
    assert last.quote == art.quote
    assert all(post.quote is None for post in thread.posts[:-1])

    root = parent = StrongRef("at://did:plc:abc/app.bsky.feed.post/3aaa", "bafyroot")
    when = datetime(2026, 5, 28, 12, 0, tzinfo=UTC)
    for n, post in enumerate(thread.posts):
        record = post_record(
            post, langs=thread.langs, created_at=when, reply=(root, parent) if n else None
        )
        assert check_post_record(record) == []


def assert_words_from_input(thread: Thread, art: Article, summary: Summary) -> None:
    """Every word shown comes from the input, whole or cut between clusters at its end;
    the only other things shown are the link label, the URL and the tags (facets)."""
    source_words = set()
    for piece in (art.title, art.description, *summary.sentences, *LINK_LABELS.values()):
        source_words.update(piece.split())
    for post in thread.posts:
        data = post.text.encode("utf-8")
        for facet in sorted(post.facets, key=lambda f: -f.start):
            data = data[: facet.start] + b" " + data[facet.end :]
        for word in data.decode("utf-8").split():
            word = word.removesuffix(ELLIPSIS)
            if not word:
                continue
            clusters = split_graphemes(word)
            assert any(
                split_graphemes(source)[: len(clusters)] == clusters for source in source_words
            ), f"{word!r} is not a word of the input or a clean cut of one"


# --- layout ----------------------------------------------------------------------


def test_first_post_has_title_then_description_and_the_card() -> None:
    art = article()
    thread = compose(art, Summary(sentences(2), "en"), ComposeOptions())
    first = thread.posts[0]
    assert first.text == f"{art.title}\n\n{art.description}"
    assert first.card is not None
    assert first.card.uri == URL
    assert first.card.title == art.title
    assert first.card.description == art.description
    assert first.card.thumb_url == art.cover_url
    assert first.card.refs == (REF,)
    assert first.facets == ()


def test_first_summary_sentence_is_the_lead_when_description_repeats_the_title() -> None:
    art = article(description="Kazakhstan and Russia renew friendship vows!")
    summary = Summary(sentences(3), "en")
    thread = compose(art, summary, ComposeOptions(max_posts=5))
    assert thread.posts[0].text == f"{art.title}\n\n{summary.sentences[0]}"
    assert thread.posts[0].card is not None
    assert thread.posts[0].card.description == summary.sentences[0]
    later = " ".join(texts(thread)[1:])
    assert summary.sentences[0] not in later
    assert all(s in later for s in summary.sentences[1:])


def test_sentences_are_packed_whole_and_in_order() -> None:
    summary = Summary(sentences(4, 140), "en")
    thread = compose(article(), summary, ComposeOptions(max_posts=5))
    assert texts(thread)[1] == " ".join(summary.sentences[:2])
    assert texts(thread)[2].startswith(" ".join(summary.sentences[2:]))


def test_last_post_links_back_with_tags_and_quotes_the_announcement() -> None:
    art = article(quote=QUOTE, tags=("Vlast English", "politics"))
    thread = compose(art, Summary(sentences(1), "en"), ComposeOptions(hashtags=("feedbot",)))
    last = thread.posts[-1]
    assert last.text.endswith(f"Read the full article: {URL}\n\n#VlastEnglish #politics #feedbot")
    assert [f.kind for f in last.facets] == ["link", "tag", "tag", "tag"]
    assert [f.value for f in last.facets] == [URL, "VlastEnglish", "politics", "feedbot"]
    assert last.quote == QUOTE
    assert_well_formed(thread, art, ComposeOptions())


def test_link_back_shares_the_last_post_with_summary_text_when_it_fits() -> None:
    summary = Summary(sentences(1, 100), "en")
    thread = compose(article(), summary, ComposeOptions())
    assert len(thread.posts) == 2
    assert thread.posts[1].text.startswith(summary.sentences[0] + "\n\nRead the full article:")


def test_link_back_gets_its_own_post_with_an_empty_summary() -> None:
    thread = compose(article(description=""), Summary((), None), ComposeOptions())
    assert texts(thread) == [
        "Kazakhstan and Russia renew friendship vows",
        f"Read the full article: {URL}\n\n#VlastEnglish",
    ]


@pytest.mark.parametrize(
    ("lang", "label"),
    [("en", "Read the full article:"), ("ru", "Читать статью полностью:"), ("uk-UA", "Читати")],
)
def test_link_back_label_follows_the_thread_language(lang: str, label: str) -> None:
    thread = compose(article(), Summary(sentences(1), lang), ComposeOptions())
    assert label in thread.posts[-1].text


BLUESKY_LANGUAGES = ("en", "ja", "pt", "de", "es", "fr", "ko", "ru", "uk", "it", "pl", "nl", "tr")


def test_every_large_bluesky_language_has_its_own_link_label() -> None:
    labels = {lang: LINK_LABELS[lang] for lang in BLUESKY_LANGUAGES}
    assert len(set(labels.values())) == len(BLUESKY_LANGUAGES)
    for lang, label in labels.items():
        thread = compose(article(), Summary(sentences(1), lang), ComposeOptions())
        assert thread.langs == (lang,)
        assert label + " " in thread.posts[-1].text


def test_summary_budget_leaves_room_for_the_longest_label() -> None:
    longest = max(LINK_LABELS, key=lambda lang: graphemes(LINK_LABELS[lang]))
    art = article(description="")
    options = ComposeOptions(max_posts=2)
    budget = summary_budget(art, options)
    body = sentences(1, budget)
    assert graphemes(body[0]) == budget
    thread = compose(art, Summary(body, longest), options)
    assert all(s in " ".join(texts(thread)) for s in body)


def test_unknown_language_falls_back_to_english_label() -> None:
    thread = compose(article(), Summary(sentences(1), "kk"), ComposeOptions())
    assert "Read the full article:" in thread.posts[-1].text


def test_max_posts_drops_trailing_sentences_but_keeps_head_and_link_back() -> None:
    summary = Summary(sentences(10, 150), "en")
    for max_posts in (2, 3, 4):
        options = ComposeOptions(max_posts=max_posts)
        thread = compose(article(quote=QUOTE), summary, options)
        assert len(thread.posts) == max_posts
        assert_well_formed(thread, article(quote=QUOTE), options)
        kept = [s for s in summary.sentences if any(s in t for t in texts(thread))]
        assert list(summary.sentences[: len(kept)]) == kept, "dropped from the middle"


def test_hashtags_are_dropped_before_any_sentence() -> None:
    # Two posts after the head: one sentence each, the link-back shares the last one,
    # so there is room for the link but not for a long line of tags.
    summary = Summary(sentences(2, 150), "en")
    tags = tuple(f"tag{n}{'x' * 20}" for n in range(6))
    thread = compose(article(tags=tags), summary, ComposeOptions(max_posts=3))
    shown = " ".join(texts(thread))
    assert all(s in shown for s in summary.sentences)
    assert 0 < sum(f.kind == "tag" for f in thread.posts[-1].facets) < len(tags) + 1
    assert_well_formed(thread, article(tags=tags), ComposeOptions(max_posts=3))


def test_tags_are_normalised_and_deduplicated() -> None:
    art = article(tags=("#Vlast English", "vlastenglish", "C++", "2024", "космос"))
    thread = compose(art, Summary((), "en"), ComposeOptions(hashtags=("Космос", "feedbot")))
    tags = [f.value for f in thread.posts[-1].facets if f.kind == "tag"]
    assert tags == ["VlastEnglish", "C", "космос", "feedbot"]


def test_long_url_is_shown_shortened_but_linked_in_full() -> None:
    url = "https://example.com/articles/" + "very-long-slug-" * 150
    art = article(url=url)
    thread = compose(art, Summary(sentences(1), "en"), ComposeOptions())
    link = next(f for f in thread.posts[-1].facets if f.kind == "link")
    assert link.value == url
    shown = slice_of(thread.posts[-1].text, link.start, link.end)
    assert shown.startswith("example.com/articles/very-long-slug-")
    assert shown.endswith(ELLIPSIS)
    assert graphemes(shown) < URL_SHOW_MAX
    assert_well_formed(thread, art, ComposeOptions())


def test_long_title_is_shortened_and_leaves_room_for_the_lead() -> None:
    art = article(title="Word " * 200)
    thread = compose(art, Summary(sentences(1), "en"), ComposeOptions())
    first = thread.posts[0].text
    assert first.endswith("\n\n" + art.description)
    assert first.split("\n\n")[0].endswith(ELLIPSIS)
    assert_well_formed(thread, art, ComposeOptions())


def test_overlong_sentence_is_shortened_at_a_word_boundary() -> None:
    long = "word " * 100 + "end."
    options = ComposeOptions(max_posts=4)
    thread = compose(article(), Summary(("Short first.", long), "en"), options)
    assert any(t.startswith("Short first.") for t in texts(thread))
    assert any(t.startswith("word word") and ELLIPSIS in t for t in texts(thread))


@pytest.mark.parametrize(
    ("options_langs", "summary_lang", "article_langs", "expected"),
    [
        (("uk", "en"), "ru", ("en",), ("uk", "en")),
        ((), "ru", ("en",), ("ru",)),
        ((), None, ("en", "kk", "ru", "uk"), ("en", "kk", "ru")),
        ((), None, (), ()),
    ],
)
def test_thread_langs_prefer_config_then_summary_then_article(
    options_langs: tuple[str, ...],
    summary_lang: str | None,
    article_langs: tuple[str, ...],
    expected: tuple[str, ...],
) -> None:
    thread = compose(
        article(langs=article_langs),
        Summary(sentences(1), summary_lang),
        ComposeOptions(langs=options_langs),
    )
    assert thread.langs == expected


def test_compose_options_refuse_fewer_than_two_posts() -> None:
    with pytest.raises(ValueError):
        ComposeOptions(max_posts=1)


# --- properties ------------------------------------------------------------------

word = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map("".join)
phrase = st.lists(word, min_size=0, max_size=60).map(" ".join)
sentence = st.lists(word, min_size=1, max_size=40).map(" ".join)
raw_tag = st.one_of(
    st.sampled_from(["Vlast English", "#космос", "C++", "2024", "rock'n'roll", "відкриті дані"]),
    st.text(max_size=80),
)
url = st.one_of(
    st.just(URL),
    st.integers(1, 2000).map(lambda n: "https://example.com/" + "p" * n),
    st.builds(lambda s: "https://пример.рф/" + s.replace(" ", "-"), phrase),
)


@settings(max_examples=60, deadline=None)
@given(
    title=phrase,
    description=phrase,
    body=st.lists(sentence, max_size=12),
    tags=st.lists(raw_tag, max_size=25),
    hashtags=st.lists(raw_tag, max_size=5),
    link=url,
    max_posts=st.integers(2, 6),
    quoted=st.booleans(),
    lang=st.sampled_from([None, "en", "ru", "uk", "ar", "he", "zh"]),
)
def test_any_input_makes_a_well_formed_thread(
    title: str,
    description: str,
    body: list[str],
    tags: list[str],
    hashtags: list[str],
    link: str,
    max_posts: int,
    quoted: bool,
    lang: str | None,
) -> None:
    art = article(
        title=title,
        description=description,
        tags=tuple(tags),
        url=link,
        quote=QUOTE if quoted else None,
    )
    summary = Summary(tuple(body), lang)
    options = ComposeOptions(max_posts=max_posts, hashtags=tuple(hashtags))
    thread = compose(art, summary, options)
    assert_well_formed(thread, art, options)
    assert_words_from_input(thread, art, summary)


# --- the budget ------------------------------------------------------------------

TYPICAL = ["a", "b", "c", "ж", "ї", "漢", "ب", "ש", "🙂", "🇰🇿", "e\u0301"]


@st.composite
def typical_sentence(draw: st.DrawFn) -> str:
    """A sentence of 60..200 graphemes; lengths near the packing worst cases are likely."""
    length = draw(st.sampled_from([60, 99, 100, 101, 150, 151, 199, 200]) | st.integers(60, 200))
    rnd = draw(st.randoms(use_true_random=False))
    letters = [rnd.choice(TYPICAL) for _ in range(length)]
    for gap in range(2, length - 2, rnd.randint(3, 12)):
        letters[gap] = " "
    letters[-1] = "."
    text = "".join(letters)
    assert graphemes(text) == length
    return text


@settings(max_examples=80, deadline=None)
@given(
    pool=st.lists(typical_sentence(), min_size=1, max_size=30),
    max_posts=st.integers(2, 8),
    has_description=st.booleans(),
    tags=st.lists(st.sampled_from(["Vlast English", "politics", "космос", "x" * 60]), max_size=8),
    link=url,
)
def test_a_summary_within_the_budget_always_fits_whole(
    pool: list[str], max_posts: int, has_description: bool, tags: list[str], link: str
) -> None:
    art = article(
        description=article().description if has_description else "",
        tags=tuple(tags),
        url=link,
    )
    options = ComposeOptions(max_posts=max_posts, hashtags=("feedbot",))
    budget = summary_budget(art, options)
    chosen: list[str] = []
    for n, s in enumerate(pool):
        s = f"{n:03d}" + "".join(split_graphemes(s)[3:])  # distinct, same length
        if graphemes(" ".join([*chosen, s])) > budget:
            break
        chosen.append(s)
    thread = compose(art, Summary(tuple(chosen), "en"), options)
    shown = "\n".join(texts(thread)[1:])
    body = chosen if has_description else chosen[1:]
    # a sentence restating the title, the lead or an earlier one is left out on purpose
    said = [art.title, art.description if has_description else (chosen or [""])[0]]
    restated = {j for _i, j in near_repeats([*said, *body], "en")}
    kept = [s for j, s in enumerate(body, start=len(said)) if j not in restated]
    assert all(s in shown for s in kept), "a sentence within the budget was dropped"
    assert_well_formed(thread, art, options)


def test_budget_is_not_uselessly_small() -> None:
    assert summary_budget(article(), ComposeOptions(max_posts=2)) >= 150
    assert summary_budget(article(), ComposeOptions(max_posts=3)) >= 250
    assert summary_budget(article(), ComposeOptions(max_posts=6)) >= 700


def test_budget_grows_with_max_posts() -> None:
    budgets = [summary_budget(article(), ComposeOptions(max_posts=n)) for n in range(2, 10)]
    assert budgets == sorted(budgets)
    assert len(set(budgets)) == len(budgets)


def test_display_url_survives_malformed_long_urls() -> None:
    shown = display_url("http://[::1" + "x" * 200)
    assert shown.startswith("[::1x") and shown.endswith(ELLIPSIS)
    assert display_url("x" * 300) == "x" * 47 + ELLIPSIS


def test_sentences_repeating_title_or_lead_are_skipped_but_emoji_only_ones_kept() -> None:
    art = article(title="🚀🚀", description="")
    summary = Summary(("Lead sentence here.", "🚀🚀", "🙂🙂🙂", "Lead sentence here!"), "en")
    thread = compose(art, summary, ComposeOptions(max_posts=4))
    assert thread.posts[0].text == "🚀🚀\n\nLead sentence here."
    assert thread.posts[1].text.startswith("🙂🙂🙂\n\nRead the full article:")


# --- sentences that point back ---------------------------------------------------------


def test_a_sentence_pointing_back_at_the_lead_stays_with_it_in_post_1() -> None:
    article = Article(feed="f", id="x", url="https://example.com/a", title="Library opens")
    summary = Summary(
        (
            "A library opened in Lviv on Monday.",
            "It stays open around the clock.",
            "Readers register through the city app before borrowing books.",
        ),
        "en",
    )
    thread = compose(article, summary, ComposeOptions(max_posts=3))
    assert thread.posts[0].text.endswith(
        "A library opened in Lviv on Monday. It stays open around the clock."
    )
    assert thread.posts[1].text.startswith("Readers register")


def test_a_sentence_pointing_back_does_not_open_a_post_when_it_can_take_its_antecedent() -> None:
    sentences = (
        "The city held its annual budget meeting on Tuesday evening in the old town hall.",
        "The council approved the budget after a long debate about roads, schools, new bicycle"
        " lanes downtown and the future of the tram depot near the central station.",
        "Officials expect the works to start in spring next year across the whole region.",
        "He added that the schedule could still change if the weather turns bad in March.",
        "Residents can comment on the plan until the end of the month online.",
    )
    article = Article(feed="f", id="x", url="https://example.com/b", title="Budget")
    thread = compose(article, Summary(sentences, "en"), ComposeOptions(max_posts=4))
    texts = [p.text for p in thread.posts]
    assert any("He added" in t for t in texts)
    for text in texts[1:]:
        assert not text.startswith("He added"), texts
    holder = next(t for t in texts if "He added" in t)
    assert "Officials expect the works" in holder
