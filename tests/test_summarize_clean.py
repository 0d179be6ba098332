from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.summarize.clean import clean_text

SEEDS = Path(__file__).resolve().parent / "data" / "seeds"  # the repository's copies

SCRAPED = """ua en ru

Putin arrived in Kazakhstan, trying to restore friendship

Putin arrived in Kazakhstan, trying to restore friendship Russian dictator Vladimir Putin

Russian dictator Vladimir Putin has arrived in Kazakhstan. This will be the fifth meeting.

Sources used in preparing this material include: The Moscow Times, TASS, Kursiv Novyny.

"As part of the visit, the leaders will hold negotiations. They will discuss the issues," \
as stated on the official website.

Position of Kazakhstan

Following the war, the President of Kazakhstan shifted his position on Russia.

Previously, we reported that Central Asian countries expressed their readiness."""

DOCUMENT = (
    "Russia’s President Vladimir Putin flew to Astana on May 27 to carry out talks.\n\n"
    "“The bulk of Kazakhstan's oil exports passes through Russia. Russian oil, in turn, "
    "is pumped to China,” Putin said.\n\n"
    "Tokayev said this agreement was “of paramount importance.”\n\n"
    "**Sign up for our English-language newsletter.**"
)


def _seed(name: str) -> str:
    """A seed document; missing is a failure (FileNotFoundError), never a skip."""
    return (SEEDS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "title", [None, "Putin arrived in Kazakhstan, trying to restore friendship"]
)
def test_scraped_article_loses_its_furniture_and_keeps_its_sentences(title: str | None) -> None:
    out = clean_text(SCRAPED, title)
    for furniture in (
        "ua en ru",
        "trying to restore friendship",
        "Sources used",
        "Position of Kazakhstan",
        "Previously, we reported",
    ):
        assert furniture not in out
    assert out.startswith("Russian dictator Vladimir Putin has arrived in Kazakhstan.")
    assert "This will be the fifth meeting." in out
    assert (
        '"As part of the visit, the leaders will hold negotiations. They will discuss the '
        'issues," as stated on the official website.'
    ) in out
    assert "Following the war, the President of Kazakhstan shifted his position" in out


def test_document_text_loses_the_newsletter_prompt_and_keeps_quotes_whole() -> None:
    out = clean_text(DOCUMENT, "Kazakhstan and Russia Renew Friendship Vows")
    assert "Sign up" not in out and "newsletter" not in out and "**" not in out
    assert (
        "“The bulk of Kazakhstan's oil exports passes through Russia. Russian oil, in turn, "
        "is pumped to China,” Putin said."
    ) in out
    assert out.endswith("Tokayev said this agreement was “of paramount importance.”")


def test_the_seed_files_come_out_clean() -> None:
    scraped = _seed("scraped-article.txt")
    document = _seed("standard-site-document.json")
    out = clean_text(scraped)
    assert "ua en ru" not in out and "Sources used" not in out and "Previously" not in out
    assert "friendship Russian dictator" not in out
    assert "Rosatom is ready to develop the corresponding project" in out
    record = json.loads(document)
    out = clean_text(record["textContent"], record["title"])
    assert "Sign up" not in out
    assert "first unit should be commissioned by the end of 2034." in out


@pytest.mark.parametrize(
    "line",
    [
        "By Jane Doe | Reuters",
        "Photo: Getty Images",
        "Фото: РИА Новости",
        "Фото: Укрінформ",
        "Читайте также: В Москве прошел митинг",
        "Читайте також: Що відомо про вибухи",
        "Подписывайтесь на наш Telegram-канал",
        "Підписуйтесь на наш канал у Telegram",
        "Share this article",
        "Read more: Why markets fell",
        "При подготовке материала использованы источники: ТАСС, Интерфакс.",
        "При підготовці матеріалу використано джерела: Укрінформ.",
        "Ранее мы сообщали, что власти закрыли мост.",
        "Раніше ми повідомляли, що уряд ухвалив рішення.",
        "© 2026 Example Media",
    ],
)
def test_furniture_lines_in_each_language_are_removed(line: str) -> None:
    text = f"The council met on Monday. It approved the budget.\n\n{line}\n\nThe vote was close."
    out = clean_text(text)
    assert line.split()[0] not in out.split()
    assert out == "The council met on Monday. It approved the budget.\n\nThe vote was close."


@pytest.mark.parametrize(
    "sentence",
    [
        "By Tuesday, the markets had recovered.",
        "Share prices fell sharply on Monday.",
        "Photo-sharing app Instagram said it would change its feed.",
        "Подписание договора состоится в пятницу.",
        "Earlier this year, the company cut its forecast.",
        "Related charges were filed against two officials.",
    ],
)
def test_sentences_that_resemble_furniture_stay(sentence: str) -> None:
    text = f"The council met on Monday.\n\n{sentence}"
    assert clean_text(text).endswith(sentence)


def test_glued_sentences_are_mended_but_domains_are_not() -> None:
    out = clean_text(
        "He thanked the community.Dr Venter agreed. Visit example.com for tax evasion.total"
    )
    assert "community. Dr Venter agreed." in out
    assert "example.com" in out
    assert "evasion.\ntotal" in out


def test_title_glued_to_a_sentence_keeps_the_sentence() -> None:
    out = clean_text("Storm hits coast Heavy rain flooded the town.", "Storm hits coast")
    assert out == "Heavy rain flooded the town."


def test_a_sentence_that_opens_with_the_title_words_is_kept() -> None:
    text = "Storm hits coast on Monday, flooding the town."
    assert clean_text(text, "Storm hits coast") == text


def test_markdown_links_and_images_become_plain_text() -> None:
    out = clean_text("See ![cover](a.png)the [full report](https://x.org/r) today.")
    assert out == "See the full report today."


def test_hard_wrapped_prose_keeps_every_line() -> None:
    text = (
        "The city will close its coal-fired heating plant in March, two years earlier\n"
        "than planned, the utility said on Monday. The plant supplies heat to about\n"
        "40,000 homes.\n\n"
        "Heat will instead come from a new heat pump on the river and from waste\n"
        "heat of a steel mill, carried through a pipeline that was\n"
        "finished in October."
    )
    cleaned = clean_text(text)
    assert " ".join(cleaned.split()) == " ".join(text.split())
