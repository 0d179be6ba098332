"""Threads that read well: realistic items of each shape, composed as the pipeline does.

Every thread is checked for what a reader notices: a sentence said twice (or nearly, the
title and lead included), a sentence cut short, a summary with nothing in it, room left
unused while the article had more to say.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.compose import ComposeOptions, compose, thread_budget
from bot.lexicon import MAX_GRAPHEMES
from bot.model import Article, Thread
from bot.sources.records import RecordsSource
from bot.summarize.extractive import ExtractiveSummarizer
from bot.summarize.sentences import split_sentences
from bot.summarize.words import near_repeats
from bot.text import ELLIPSIS, graphemes, squash

SAMPLES = Path(__file__).resolve().parents[1] / "config" / "samples"
OPTIONS = ComposeOptions(max_posts=3, hashtags=("news",))
URL = "https://news.example.org/2026/12/01/story"

DESCRIPTION_SENTENCES = [
    "A landslide closed the mountain road to Hallstatt on Tuesday morning.",
    "No one was hurt, but forty cars were stuck for three hours behind the debris.",
    "The tourist office said buses will run on the lake road until Friday.",
    "Engineers expect to reopen one lane by the weekend after checking the slope.",
    "The same road was closed for a week in 2021 after heavy rain.",
]

LONG_ARTICLE = """
The city of Graz will close its coal-fired heating plant in March, two years earlier
than planned, the utility Energie Graz said on Monday. The plant supplies heat to about
40,000 homes.

Heat will instead come from a new 80-megawatt heat pump on the Mur river and from waste
heat of a steel mill in Donawitz, carried through a 28-kilometre pipeline that was
finished in October.

"We can switch off coal for good, and the bills will not go up," said the utility's
chief executive, Maria Hofer. She added that prices are fixed until the end of 2027.

The project cost 210 million euros, a third of it paid by the federal climate fund.
Environmental groups welcomed the decision but asked the city to publish the plant's
emissions for the last five years.

The closure means the end of 120 jobs at the plant. The utility said 90 workers will
move to the heat pump and the pipeline, and the rest will retire early.

Graz is the second Austrian city after Linz to end coal heating. Vienna plans to follow
in 2030 with a geothermal plant in Aspern that is still being drilled.

The heating plant itself will be demolished in 2027, and the site on the river will be
turned into housing for 1,500 people, the city said.
"""

QUOTES = """
“We did not expect this many people,” said Ana Lima, who runs the market on Rua Augusta.
“On Saturday we sold out by noon.”

The weekly food market opened in September with twelve stalls and now has thirty-four.
“The farmers come from as far as Évora,” Lima said. “They bring what the supermarkets
do not sell: old apple varieties, goat cheese, bread baked in wood ovens.”

City councillor Rui Santos said the council will close the street to cars on Saturdays
from January. “It is the busiest market in the district now,” he said.

Some neighbours complain about noise from 6 a.m., when the stalls are set up. “I love
the market, but not at six in the morning,” said one resident, Teresa Costa.
"""

LIST_LIKE = """
The new timetable starts on Sunday, December 14. Here is what changes for commuters.

- Trains to the airport run every 10 minutes instead of every 15.
- The last train to Zug leaves at 0:45, half an hour later than now.
- Line S9 no longer stops at Wiedikon; passengers change at Hardbrücke.
- Night buses N1 and N4 get two more runs on Fridays and Saturdays.

Tickets and prices stay the same. The rail company says the changes follow a survey of
8,000 passengers in the spring.
"""

NOTE = (
    "I moved the newsletter to a new server this week. "
    "If you get this twice, reply and I will fix it. "
    "Next issue is about the winter garden, with photos."
)


def thread_of(article: Article, options: ComposeOptions = OPTIONS) -> tuple[Thread, str | None]:
    """The thread the pipeline would post: the summary sized by the composer's budget."""
    summary = ExtractiveSummarizer().summarize(article, thread_budget(article, options))
    return compose(article, summary, options), summary.lang


def item(*, text: str = "", description: str = "", title: str = "Mountain road closed") -> Article:
    return Article(
        feed="f", id="1", url=URL, title=title, text=text.strip(), description=description
    )


def shown_sentences(thread: Thread, lang: str | None) -> list[str]:
    """Sentences the reader sees, title included; the link-back and tag lines left out."""
    out: list[str] = []
    for post in thread.posts:
        for paragraph in post.text.split("\n\n"):
            if URL in paragraph or paragraph.startswith("#"):
                continue
            out += split_sentences(paragraph, lang)
    return out


def assert_reads_well(article: Article, thread: Thread, lang: str | None) -> None:
    shown = shown_sentences(thread, lang)
    pairs = near_repeats(shown, lang)
    assert not pairs, f"said twice: {[(shown[i], shown[j]) for i, j in pairs]}"
    source = squash(" ".join([article.title, article.description, article.text]))
    for sentence in shown:
        assert ELLIPSIS not in sentence, f"cut: {sentence!r}"
        assert squash(sentence) in source, f"not a whole sentence of the item: {sentence!r}"
    for post in thread.posts:
        assert graphemes(post.text) <= MAX_GRAPHEMES


def body_of(thread: Thread) -> str:
    """What the posts between the first and the link-back say."""
    parts = [p.text for p in thread.posts[1:]]
    last = parts[-1].split("\n\n")
    parts[-1] = "\n\n".join(p for p in last if URL not in p and not p.startswith("#"))
    return "\n\n".join(parts).strip()


# --- description-only RSS items ----------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_a_description_only_item_splits_between_lead_and_summary_without_overlap(
    n: int,
) -> None:
    sentences = DESCRIPTION_SENTENCES[:n]
    article = item(description=" ".join(sentences))
    thread, lang = thread_of(article)
    assert_reads_well(article, thread, lang)
    shown = " ".join(p.text for p in thread.posts)
    for sentence in sentences:  # short enough that every sentence has room, once
        assert shown.count(sentence) == 1, sentence
    if n == 1:
        assert len(thread.posts) == 2 and not body_of(thread)  # a short thread, not a repeat


def test_a_long_description_leads_with_whole_sentences_never_a_cut_one() -> None:
    long = [s.replace(".", ", the regional broadcaster reported.") for s in DESCRIPTION_SENTENCES]
    article = item(description=" ".join(long[:4]))
    thread, lang = thread_of(article)
    assert_reads_well(article, thread, lang)
    head = thread.posts[0].text.split("\n\n", 1)[1]
    assert head.startswith(long[0]) and ELLIPSIS not in head
    assert body_of(thread), "the sentences the lead had no room for go in the summary"


def test_a_description_in_russian_is_not_repeated_either() -> None:
    description = (
        "В Иркутске закрыли мост через Ангару на ремонт. Движение транспорта пустят "
        "в объезд по плотине ГЭС. Ремонт продлится до конца мая, сообщили в мэрии."
    )
    article = item(title="Мост через Ангару закрыли", description=description)
    thread, lang = thread_of(article)
    assert lang == "ru"
    assert_reads_well(article, thread, lang)
    shown = " ".join(p.text for p in thread.posts)
    for sentence in split_sentences(description, "ru"):
        assert shown.count(sentence) == 1, sentence


# --- other shapes ------------------------------------------------------------------


def test_a_long_article_fills_the_thread_with_its_news() -> None:
    article = item(title="Graz ends coal heating two years early", text=LONG_ARTICLE)
    thread, lang = thread_of(article)
    assert_reads_well(article, thread, lang)
    assert len(thread.posts) == OPTIONS.max_posts
    body = graphemes(body_of(thread))
    assert body >= 300, f"only {body} graphemes of summary in a {OPTIONS.max_posts}-post thread"
    text = " ".join(p.text for p in thread.posts)
    assert "40,000 homes" in text or "210 million euros" in text  # facts, not filler


def test_a_short_note_makes_a_short_thread_with_every_sentence_once() -> None:
    article = item(title="Newsletter moved", text=NOTE)
    thread, lang = thread_of(article)
    assert_reads_well(article, thread, lang)
    shown = " ".join(p.text for p in thread.posts)
    for sentence in split_sentences(NOTE, "en"):
        assert shown.count(sentence) == 1


def test_a_quote_heavy_piece_keeps_quotes_whole_and_never_opens_with_he_said() -> None:
    article = item(title="Rua Augusta's market outgrows its street", text=QUOTES)
    thread, lang = thread_of(article)
    assert_reads_well(article, thread, lang)
    assert body_of(thread)
    for post in thread.posts[1:]:
        assert not post.text.lower().startswith(("he said", "she said", "lima said"))


def test_a_list_like_text_gives_whole_items_and_no_bare_bullets() -> None:
    article = item(title="What the new timetable changes", text=LIST_LIKE)
    thread, lang = thread_of(article)
    assert_reads_well(article, thread, lang)
    assert body_of(thread)
    for sentence in shown_sentences(thread, lang):
        assert any(c.isalpha() for c in sentence), sentence


def test_the_four_sentence_example_gives_a_summary_in_english_and_russian() -> None:
    for text in (
        "Putin arrived in Astana. This is the fifth meeting. He added that all is well. "
        "It was warm.",
        "Путин прибыл в Астану. Это пятая встреча. Он добавил, что всё хорошо. Было тепло.",
    ):
        article = item(title="", text=text)
        thread, lang = thread_of(article)
        assert_reads_well(article, thread, lang)
        assert body_of(thread) or len(thread.posts[0].text) > 30


# --- the samples -------------------------------------------------------------------


def sample_threads() -> list[tuple[Article, Thread, str | None]]:
    poll = RecordsSource("samples", SAMPLES).poll({})
    assert poll.problems == ()
    return [(a, *thread_of(a)) for a in poll.articles]


def test_no_sample_thread_says_anything_twice_or_cuts_a_sentence() -> None:
    threads = sample_threads()
    assert len(threads) >= 8
    for article, thread, lang in threads:
        shown = shown_sentences(thread, lang)
        assert not near_repeats(shown, lang), article.url
        assert all(ELLIPSIS not in s for s in shown), article.url
        assert body_of(thread), article.url


@pytest.mark.parametrize(
    ("slug", "lang", "label"),
    [
        ("sapporo-jidou-unten", "ja", "記事の全文を読む："),
        ("curitiba-onibus-eletricos", "pt", "Leia o artigo completo:"),
    ],
)
def test_japanese_and_portuguese_samples_make_clean_threads(
    slug: str, lang: str, label: str
) -> None:
    ((_article, thread, detected),) = [t for t in sample_threads() if t[0].url.endswith(slug)]
    assert detected == lang and thread.langs == (lang,)
    assert label in thread.posts[-1].text
    assert len(thread.posts) == 3
    if lang == "ja":  # no spaces are put between Japanese sentences
        assert "。 " not in "".join(p.text for p in thread.posts)
    assert graphemes(body_of(thread)) >= 250


def test_the_seed_threads_carry_their_news() -> None:
    threads = {a.url.rsplit("/", 1)[-1]: t for a, t, _lang in sample_threads()}
    scraped = " ".join(p.text for p in threads["putin-arrived-in-kazakhstan"].posts)
    assert "first nuclear power plant in Kazakhstan" in scraped
    vlast = " ".join(
        p.text for p in threads["69541-kazakhstan-and-russia-renew-friendship-vows.html"].posts
    )
    assert "$30 billion" in vlast
