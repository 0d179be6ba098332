from __future__ import annotations

import pytest

from bot.summarize.lang import detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The president said on Monday that the talks with partners would go on.", "en"),
        ("Президент заявил в понедельник, что переговоры с партнерами продолжатся.", "ru"),
        ("Президент заявив у понеділок, що переговори з партнерами триватимуть.", "uk"),
        ("Der Präsident sagte am Montag, dass die Gespräche weitergehen würden.", "de"),
    ],
)
def test_detects_the_language_of_a_sentence(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_too_little_text_is_not_guessed() -> None:
    assert detect_language("ok 123") is None
    assert detect_language("") is None


def test_detection_is_deterministic() -> None:
    text = "Вона зазначила, що уряд ухвалив рішення."
    assert {detect_language(text) for _ in range(5)} == {"uk"}
