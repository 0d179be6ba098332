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
        ("大統領は月曜日、関係国との協議を続けると述べた。", "ja"),
        (
            "O presidente disse na segunda-feira que as conversas com os parceiros vão continuar.",
            "pt",
        ),
        ("El presidente dijo el lunes que las conversaciones con los socios continuarán.", "es"),
        (
            "Le président a déclaré lundi que les discussions avec les partenaires continueront.",
            "fr",
        ),
        ("대통령은 월요일 협력국들과의 대화를 계속하겠다고 말했다.", "ko"),
        ("Il presidente ha detto lunedì che i colloqui con i partner andranno avanti.", "it"),
        ("Prezydent powiedział w poniedziałek, że rozmowy z partnerami będą kontynuowane.", "pl"),
        ("De president zei maandag dat de gesprekken met de partners doorgaan.", "nl"),
        ("Cumhurbaşkanı pazartesi günü ortaklarla görüşmelerin süreceğini söyledi.", "tr"),
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
