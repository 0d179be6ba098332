"""The words a thread adds of its own, in the languages Bluesky's users post in.

One table, one home: the composer labels the link back with it and sizes its budget by
the longest entry. Keys are ISO 639-1 codes; anything else reads English.
"""

from __future__ import annotations

from collections.abc import Sequence

LINK_LABELS: dict[str, str] = {
    "en": "Read the full article:",
    "ja": "記事の全文を読む：",
    "pt": "Leia o artigo completo:",
    "de": "Den ganzen Artikel lesen:",
    "es": "Lee el artículo completo:",
    "fr": "Lire l’article complet\u00a0:",
    "ko": "기사 전문 읽기:",
    "ru": "Читать статью полностью:",
    "uk": "Читати статтю повністю:",
    "it": "Leggi l’articolo completo:",
    "pl": "Przeczytaj cały artykuł:",
    "nl": "Lees het hele artikel:",
    "tr": "Yazının tamamını okuyun:",
    "zh": "阅读全文：",
}
DEFAULT_LABEL_LANG = "en"


def link_label(langs: Sequence[str]) -> str:
    """The label of the first of ``langs`` that has one, else English."""
    for lang in langs:
        primary = lang.split("-")[0].lower()
        if primary in LINK_LABELS:
            return LINK_LABELS[primary]
    return LINK_LABELS[DEFAULT_LABEL_LANG]
