"""Content words of a sentence, and when one sentence says what another already did.

Words are lowercased and crudely stemmed (a 6-letter prefix: enough to match English,
Romance, German and Slavic inflections without a stemmer per language); stopwords are
dropped. Scripts written without spaces (Chinese, Japanese kana and kanji) have no
words to find, so their runs count as overlapping character pairs, the usual unit for
comparing CJK text. Pure, and shared by the summarizer, the composer and the benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import regex

from bot.summarize.stopwords import stopwords

STEM = 6
#: A sentence repeats another when this share of its content words is in the other.
REPEAT_SHARE = 0.7
#: ... and it has at least this many content words (else only an exact match counts).
REPEAT_MIN_WORDS = 3

_TOKEN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}ー]+|[\p{L}\p{N}]+(?:['’][\p{L}]+)?")
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}ー]")
# Kana runs of one or two characters are mostly particles and endings (は, が, して).
_KANA = regex.compile(r"^[\p{Hiragana}ー]+$")


@lru_cache(maxsize=4096)
def tokens(text: str, lang: str | None) -> tuple[str, ...]:
    """Content words of ``text``, stemmed; character pairs for unspaced scripts.

    Cached: the composer's fit checks compare the same sentences many times over.
    """
    stop = stopwords(lang)
    out: list[str] = []
    for word in _TOKEN.findall(text):
        low = word.lower()
        if _UNSPACED.match(low):
            out.extend(_pairs(low, stop))
        elif len(low) > 1 and low not in stop:
            out.append(low[:STEM])
    return tuple(out)


def _pairs(run: str, stop: frozenset[str]) -> list[str]:
    if len(run) == 1:
        return [] if _KANA.match(run) or run in stop else [run]
    pairs = [run[i : i + 2] for i in range(len(run) - 1)]
    return [p for p in pairs if not _KANA.match(p) and p not in stop]


def repeats(words: set[str], said: Iterable[set[str]]) -> bool:
    """True when a sentence with content ``words`` restates one of ``said``: most of its
    words (after stemming) are in one earlier text, or it is exactly one of them."""
    if not words:
        return False
    for other in said:
        if words == other:
            return True
        if len(words) >= REPEAT_MIN_WORDS and len(words & other) >= REPEAT_SHARE * len(words):
            return True
    return False


def near_repeats(texts: Iterable[str], lang: str | None) -> list[tuple[int, int]]:
    """Pairs (earlier, later) of ``texts`` where the later restates the earlier: the
    reader learns nothing new from it. A later text that expands an earlier one (a lead
    that opens with the title's words) adds to it and is no repeat."""
    bags = [set(tokens(t, lang)) for t in texts]
    return [(i, j) for j, later in enumerate(bags) for i in range(j) if repeats(later, [bags[i]])]
