from __future__ import annotations

from collections.abc import Sequence

from bot.model import Article
from bot.summarize import Budget
from bot.summarize.extractive import ExtractiveSummarizer, keywords, select
from bot.summarize.sentences import split_sentences
from bot.text import graphemes

NEWS = (
    "The city council approved a new budget for public transport on Monday. "
    "The budget adds forty electric buses and two new tram lines by 2028. "
    "He added that the vote was close. "
    "Critics said the transport budget ignores the suburbs, where bus service is thin. "
    "The weather was mild and sunny all day in the city centre. "
    "Officials expect the first electric buses on the streets next spring."
)


def _article(text: str, title: str = "", description: str = "") -> Article:
    return Article(
        feed="f", id="1", url="https://x.org/1", title=title, text=text, description=description
    )


def test_summary_is_whole_sentences_of_the_text_in_document_order() -> None:
    summary = ExtractiveSummarizer().summarize(_article(NEWS), Budget(graphemes=1000, sentences=3))
    source = split_sentences(NEWS, "en")
    assert len(summary.sentences) == 3
    assert all(s in source for s in summary.sentences)
    positions = [source.index(s) for s in summary.sentences]
    assert positions == sorted(positions)
    assert summary.sentences[0] == source[0]  # the lead
    assert summary.lang == "en"


def test_summary_fits_the_grapheme_budget_counting_joining_spaces() -> None:
    for room in (60, 120, 200, 300):
        summary = ExtractiveSummarizer().summarize(_article(NEWS), Budget(graphemes=room))
        assert graphemes(" ".join(summary.sentences)) <= room
    sizes = [graphemes(s) for s in split_sentences(NEWS, "en")]
    exact = sizes[0] + 1 + sizes[1]
    summary = ExtractiveSummarizer().summarize(_article(NEWS), Budget(graphemes=exact, sentences=2))
    assert len(summary.sentences) == 2


def test_graphemes_count_user_perceived_characters() -> None:
    assert graphemes("e\u0301") == 1  # e + combining acute
    assert graphemes("👍🏽") == 1
    assert graphemes("👨‍👩‍👧") == 1


def test_no_sentence_is_cut_even_when_none_fits() -> None:
    summary = ExtractiveSummarizer().summarize(_article(NEWS), Budget(graphemes=20))
    assert summary.sentences == ()


def test_a_text_cut_mid_sentence_does_not_lend_its_fragment() -> None:
    text = (
        "First full sentence is here today. Second one is also complete now. "
        "And the third was cut off in the"
    )
    summary = ExtractiveSummarizer().summarize(_article(text), Budget(graphemes=1000, sentences=3))
    assert all(s.endswith(".") for s in summary.sentences)


def test_summary_never_opens_with_a_dangling_pronoun_or_attribution() -> None:
    texts = {
        "en": "He added that the plan would cost more than expected and take years to finish. "
        "The city council approved the transport plan on Monday after a long debate. "
        "She said the buses would arrive next year if the money came through.",
        "ru": "Он добавил, что план обойдется дороже и займет несколько лет работы. "
        "Городской совет утвердил транспортный план в понедельник после долгих споров. "
        "Она отметила, что автобусы появятся в следующем году.",
        "uk": "Вона зазначила, що план коштуватиме дорожче і триватиме кілька років. "
        "Міська рада затвердила транспортний план у понеділок після тривалих суперечок. "
        "Він додав, що автобуси з'являться наступного року.",
    }
    for lang, text in texts.items():
        summary = ExtractiveSummarizer().summarize(
            _article(text), Budget(graphemes=1000, sentences=2, lang=lang)
        )
        assert summary.sentences, lang
        first = summary.sentences[0]
        assert not first.startswith(("He ", "She ", "Он ", "Она ", "Він ", "Вона ")), (lang, first)


def test_redundant_sentences_are_not_both_chosen() -> None:
    text = (
        "The council approved forty electric buses for the city on Monday. "
        "On Monday the council approved forty electric buses for the city. "
        "Tram lines will be extended to the airport and the university campus. "
        "Ticket prices stay the same for pensioners and students next year."
    )
    summary = ExtractiveSummarizer().summarize(_article(text), Budget(graphemes=1000, sentences=2))
    assert not (
        "forty electric buses" in summary.sentences[0]
        and "forty electric buses" in summary.sentences[1]
    )


def test_a_strong_later_sentence_can_beat_a_weak_early_one() -> None:
    sentences = [
        "Hello and welcome back to my little blog about many different things.",
        "Solar panels on the roof now cover most of our solar electricity needs.",
        "Solar panels cost less than expected and the solar electricity bill fell.",
        "The cat slept on the sofa all afternoon while it rained outside today.",
        "Our solar electricity now powers the heat pump and the electric car too.",
    ]
    chosen = select(sentences, "Solar panels and our electricity", "en", Budget(1000, 2))
    assert sentences[3] not in chosen
    assert any("Solar" in s or "solar" in s for s in chosen)


def test_configured_language_wins_over_detection() -> None:
    summary = ExtractiveSummarizer().summarize(_article(NEWS), Budget(graphemes=500, lang="de"))
    assert summary.lang == "de"


def test_description_is_used_when_the_text_is_empty() -> None:
    article = _article("", description="A short description of the story, with enough words.")
    summary = ExtractiveSummarizer().summarize(article, Budget(graphemes=500))
    assert summary.sentences == ("A short description of the story, with enough words.",)


def test_summaries_are_deterministic() -> None:
    results = {ExtractiveSummarizer().summarize(_article(NEWS), Budget(300)) for _ in range(3)}
    assert len(results) == 1


def test_keywords_are_frequent_content_words_in_their_written_form() -> None:
    text = "Solar panels are cheap. Solar power is growing. Panels on roofs and solar farms."
    assert keywords(text, "en", 2) == ["Solar", "panels"]
    assert keywords(text, "en", 0) == []
    assert keywords("Санкции против России. Новые санкции. Санкций стало больше.", "ru", 1) == [
        "Санкции"
    ]


def test_a_time_phrase_is_not_a_dangling_opener() -> None:
    text = (
        "This week I finally planted the tomatoes in the garden behind the house. "
        "This is the third year I have grown them from seed."
    )
    summary = ExtractiveSummarizer().summarize(_article(text), Budget(graphemes=1000, sentences=1))
    assert summary.sentences == (
        "This week I finally planted the tomatoes in the garden behind the house.",
    )


def test_a_sentence_pointing_back_is_chosen_only_with_the_sentence_before_it() -> None:
    from bot.summarize import Budget
    from bot.summarize.extractive import select

    sentences = [
        "The mayor opened a new bridge across the river on Monday morning.",
        "Traffic in the old town is expected to fall by a third this year.",
        "The bridge cost twelve million euros and took three years to build.",
        "He said the bridge would carry trams from next spring onwards.",
    ]
    pointing_back = sentences[3]
    times_chosen = 0
    for room in range(60, 400, 7):
        chosen = select(sentences, "New bridge carries trams", "en", Budget(graphemes=room))
        if pointing_back in chosen:
            times_chosen += 1
            assert chosen[chosen.index(pointing_back) - 1] == sentences[2], (room, chosen)
    assert times_chosen > 0


def test_keywords_of_unspaced_text_are_none_rather_than_whole_phrases() -> None:
    text = "札幌市は1日、自動運転バスの試験運行を始めた。自動運転バスは雪道を走る。"
    assert keywords(text, "ja", 3) == []


def test_the_composers_fit_check_lets_the_summary_grow_past_the_sure_budget() -> None:
    sentences = split_sentences(NEWS, "en")
    sure = graphemes(sentences[0])
    checked: list[list[str]] = []

    def fits(picked: Sequence[str], lang: str | None) -> bool:
        checked.append(list(picked))
        return len(picked) <= 3  # the thread holds three of these sentences whole

    budget = Budget(graphemes=sure, fits=fits, room=10_000)
    chosen = select(sentences, "", "en", budget)
    assert len(chosen) == 3 and checked
    assert all(len(c) <= 4 for c in checked)
    assert select(sentences, "", "en", Budget(graphemes=sure)) == [sentences[0]]


def test_sentences_the_lead_already_says_are_not_chosen_again() -> None:
    sentences = split_sentences(NEWS, "en")
    said = ("City budget", sentences[0])
    chosen = select(sentences, said, "en", Budget(graphemes=1000, sentences=2))
    assert sentences[0] not in chosen and len(chosen) == 2
