from __future__ import annotations

import pytest

from bot.summarize.sentences import split_sentences


def test_english_abbreviations_do_not_end_sentences() -> None:
    text = "The U.S. economy grew. Mr. Smith met Dr. Jones at 5 p.m. on Friday. It rained."
    assert split_sentences(text, "en") == [
        "The U.S. economy grew.",
        "Mr. Smith met Dr. Jones at 5 p.m. on Friday.",
        "It rained.",
    ]


def test_us_before_a_name_joins_but_before_a_pronoun_splits() -> None:
    text = "He moved to the U.S. He was five. U.S. President Joe Biden spoke."
    assert split_sentences(text, "en") == [
        "He moved to the U.S.",
        "He was five.",
        "U.S. President Joe Biden spoke.",
    ]


def test_russian_initials_stay_with_the_surname() -> None:
    text = "В. Путин прибыл в Астану. Об этом сообщил Д. С. Песков."
    assert split_sentences(text, "ru") == [
        "В. Путин прибыл в Астану.",
        "Об этом сообщил Д. С. Песков.",
    ]


def test_russian_dates_and_abbreviations_stay_together() -> None:
    text = (
        "Встреча прошла 5 янв. 2024 г. в Кремле. Это, т.е. визит, важно. "
        "Всё было в 2024 г. Потом нет."
    )
    assert split_sentences(text, "ru") == [
        "Встреча прошла 5 янв. 2024 г. в Кремле.",
        "Это, т.е. визит, важно.",
        "Всё было в 2024 г.",
        "Потом нет.",
    ]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("«Мы готовы. Мы ждём», — сказал он. Потом ушёл.", "«Мы готовы. Мы ждём», — сказал он."),
        (
            "Вона сказала: «Ми готові. Ми чекаємо». Потім пішла.",
            "Вона сказала: «Ми готові. Ми чекаємо».",
        ),
        ("He said: “We are ready. We wait.” Then he left.", "He said: “We are ready. We wait.”"),
        ('He said: "We are ready. We wait." Then he left.', 'He said: "We are ready. We wait."'),
    ],
)
def test_multi_sentence_quotes_stay_whole(text: str, first: str) -> None:
    parts = split_sentences(text, None)
    assert parts[0] == first
    assert len(parts) == 2


def test_an_unclosed_quote_does_not_swallow_the_paragraph() -> None:
    text = "He said: “We are ready. Then he left. Nobody followed."
    assert len(split_sentences(text, "en")) == 3


def test_paragraph_breaks_are_always_boundaries() -> None:
    text = "A heading without a stop\n\nthe next paragraph starts lowercase"
    assert split_sentences(text, "en") == [
        "A heading without a stop",
        "the next paragraph starts lowercase",
    ]


def test_wrapped_lines_are_joined_but_finished_lines_are_not() -> None:
    text = "A line that wraps\nin the middle. Another one.\nNew sentence here."
    assert split_sentences(text, "en") == [
        "A line that wraps in the middle.",
        "Another one.",
        "New sentence here.",
    ]


def test_question_exclamation_and_cjk_marks_split() -> None:
    assert split_sentences("Why? Because! Done… Next.", "en") == [
        "Why?",
        "Because!",
        "Done…",
        "Next.",
    ]
    assert split_sentences("今天下雨。明天晴天！", "zh") == ["今天下雨。", "明天晴天！"]


def test_german_and_ukrainian_abbreviations() -> None:
    assert split_sentences("Dr. Müller kam z. B. gestern. Er ging.", "de") == [
        "Dr. Müller kam z. B. gestern.",
        "Er ging.",
    ]
    assert split_sentences("Зустріч на вул. Хрещатик була 5 січ. 2024 р. Вона тривала.", "uk") == [
        "Зустріч на вул. Хрещатик була 5 січ. 2024 р.",
        "Вона тривала.",
    ]


def test_whitespace_is_normalised_and_nothing_is_lost() -> None:
    text = "One  sentence\there.   Two sentences."
    parts = split_sentences(text, "en")
    assert parts == ["One sentence here.", "Two sentences."]
