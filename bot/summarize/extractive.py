"""The default summarizer: whole sentences picked from the article, offline.

News puts the point first, so position carries most of the score (Lead-3 is famously
hard to beat); centrality (how much a sentence shares with the rest of the text) and
overlap with the title let a strong later sentence displace a weak early one, which also
suits blogs and notes that warm up before they get to the point. Selection is greedy
MMR (score minus redundancy with what is already chosen) under the grapheme and sentence
budget; the result is in document order and never opens with a dangling "He said".
Everything is deterministic: ties break on position.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import regex

from bot.model import Article, Summary
from bot.summarize import Budget
from bot.summarize.clean import clean_text
from bot.summarize.lang import detect_language
from bot.summarize.openers import dangles
from bot.summarize.sentences import split_sentences
from bot.summarize.stopwords import STOPWORDS

_GRAPHEME = regex.compile(r"\X")
_JOINING = regex.compile(
    r"[\p{M}\p{Cf}\r\ufe00-\ufe0f\U0001F1E6-\U0001F1FF\U0001F3FB-\U0001F3FF"
    r"\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\U000E0000-\U000E007F]"
)
_TOKEN = regex.compile(r"[\p{L}\p{N}]+(?:['’][\p{L}]+)?")
_TERMINAL = re.compile(r"[.!?…。！？][\"'»”’)\]]*$")

LEAD_WEIGHT = 1.0
LEAD_DECAY = 0.5  # position score is (1 + index) ** -LEAD_DECAY
CENTRALITY_WEIGHT = 0.5
TITLE_WEIGHT = 0.4
REDUNDANCY = 1.0  # MMR: how much overlap with chosen sentences costs
MIN_WORDS = 5


def graphemes(text: str) -> int:
    """User-perceived characters, the unit Bluesky limits posts in.

    Text with nothing that can join code points (marks, joiners, variation selectors,
    emoji modifiers, flags, jamo) is counted by code points, ~10x faster than ``\\X``.
    """
    if (text.isascii() and "\r" not in text) or not _JOINING.search(text):
        return len(text)
    return len(_GRAPHEME.findall(text))


def tokens(text: str, lang: str | None) -> list[str]:
    """Content words, lowercased and crudely stemmed (a 6-letter prefix: enough to match
    Russian and Ukrainian inflections without a stemmer dependency)."""
    stop = STOPWORDS.get(lang or "", frozenset())
    words = (w.lower() for w in _TOKEN.findall(text))
    return [w[:6] for w in words if len(w) > 1 and w not in stop]


@dataclass(frozen=True)
class _Candidate:
    index: int
    text: str
    size: int  # graphemes
    bag: Counter[str]
    dangling: bool


class ExtractiveSummarizer:
    """Lead-biased, centrality-aware extractive summarizer; see the module docstring."""

    def summarize(self, article: Article, budget: Budget) -> Summary:
        text = clean_text(article.text or article.description, article.title or None)
        if not text.strip() and article.text and article.description:
            text = clean_text(article.description, article.title or None)
        lang = budget.lang or detect_language(text) or (article.langs[0] if article.langs else None)
        sentences = split_sentences(text, lang)
        chosen = select(sentences, article.title, lang, budget)
        return Summary(tuple(chosen), lang)


def select(sentences: Sequence[str], title: str, lang: str | None, budget: Budget) -> list[str]:
    """Pick whole sentences within ``budget``; returned in document order."""
    candidates = _candidates(sentences, lang, budget.graphemes)
    if not candidates:
        return []
    scores = _scores(candidates, tokens(title, lang))
    limit = budget.sentences if budget.sentences is not None else len(candidates)
    chosen: list[_Candidate] = []
    used = 0
    picked_at: set[int] = set()  # document indexes of chosen sentences
    pool = sorted(candidates, key=lambda c: c.index)
    redundancy = dict.fromkeys((c.index for c in pool), 0.0)  # max cosine to chosen
    while pool and len(chosen) < limit:
        best: tuple[float, int] | None = None
        for pos, cand in enumerate(pool):
            extra = cand.size + (1 if chosen else 0)
            if used + extra > budget.graphemes:
                continue
            if cand.dangling and cand.index - 1 not in picked_at:
                continue  # it points back at a sentence the reader would not see
            value = scores[cand.index] - REDUNDANCY * redundancy[cand.index]
            if best is None or value > best[0]:
                best = (value, pos)
        if best is None:
            break
        picked = pool.pop(best[1])
        used += picked.size + (1 if chosen else 0)
        chosen.append(picked)
        picked_at.add(picked.index)
        for cand in pool:
            redundancy[cand.index] = max(redundancy[cand.index], _cosine(cand.bag, picked.bag))
    return [c.text for c in sorted(chosen, key=lambda c: c.index)]


def _candidates(sentences: Sequence[str], lang: str | None, room: int) -> list[_Candidate]:
    out: list[_Candidate] = []
    last = len(sentences) - 1
    for i, sentence in enumerate(sentences):
        finished = bool(_TERMINAL.search(sentence))
        if i == last and not finished and last > 0:
            continue  # the text was cut mid-sentence
        if len(sentence.split()) < MIN_WORDS and len(sentences) > 3:
            continue
        size = graphemes(sentence)
        if size > room:
            continue
        bag = Counter(tokens(sentence, lang))
        out.append(_Candidate(i, sentence, size, bag, dangles(sentence)))
    return out


def _scores(candidates: Sequence[_Candidate], title: list[str]) -> dict[int, float]:
    """Position, centrality and title overlap, the last two scaled to [0, 1].

    Centrality is the idf-weighted cosine between a sentence and all the others; with
    the document vector summed once it costs O(words in the sentence).
    """
    df: Counter[str] = Counter()
    for cand in candidates:
        df.update(cand.bag.keys())
    n = len(candidates)
    idf = {w: math.log((1 + n) / (1 + d)) + 1.0 for w, d in df.items()}
    doc: dict[str, float] = {}
    for cand in candidates:
        for w, c in cand.bag.items():
            doc[w] = doc.get(w, 0.0) + c * idf[w]
    doc_sq = sum(v * v for v in doc.values())
    title_vec = {w: c * idf.get(w, 1.0) for w, c in Counter(title).items()}
    title_norm = math.sqrt(sum(v * v for v in title_vec.values()))
    raw_central: dict[int, float] = {}
    raw_title: dict[int, float] = {}
    for cand in candidates:
        vec = {w: c * idf[w] for w, c in cand.bag.items()}
        own_sq = sum(v * v for v in vec.values())
        with_doc = sum(v * doc[w] for w, v in vec.items())
        rest_sq = doc_sq - 2 * with_doc + own_sq
        dot = with_doc - own_sq
        denom = math.sqrt(own_sq * rest_sq) if own_sq > 0 and rest_sq > 1e-9 else 0.0
        raw_central[cand.index] = dot / denom if denom else 0.0
        if title_norm and own_sq:
            hit = sum(v * title_vec[w] for w, v in vec.items() if w in title_vec)
            raw_title[cand.index] = hit / (title_norm * math.sqrt(own_sq))
        else:
            raw_title[cand.index] = 0.0
    central = _scaled(raw_central)
    titled = _scaled(raw_title)
    out: dict[int, float] = {}
    for cand in candidates:
        lead = (1.0 + cand.index) ** -LEAD_DECAY
        out[cand.index] = (
            LEAD_WEIGHT * lead
            + CENTRALITY_WEIGHT * central[cand.index]
            + TITLE_WEIGHT * titled[cand.index]
        )
    return out


def _scaled(values: dict[int, float]) -> dict[int, float]:
    top = max(values.values(), default=0.0)
    return {k: (v / top if top > 0 else 0.0) for k, v in values.items()}


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    """Plain cosine of two bags of words (redundancy between sentences)."""
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(count * b[w] for w, count in a.items() if w in b)
    if dot == 0:
        return 0.0
    norm_a = math.sqrt(sum(c * c for c in a.values()))
    norm_b = math.sqrt(sum(c * c for c in b.values()))
    return dot / (norm_a * norm_b)


def keywords(text: str, lang: str | None, n: int) -> list[str]:
    """The ``n`` most frequent content words (as most often written), for hashtags.

    Words are grouped by their stem so "sanction" and "sanctions" count together; ties
    go to the word seen first. Numbers and words under four letters are skipped.
    """
    if n <= 0:
        return []
    stop = STOPWORDS.get(lang or "", frozenset())
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    first: dict[str, int] = {}
    for pos, word in enumerate(_TOKEN.findall(text)):
        low = word.lower()
        if len(word) < 4 or low in stop or not word.isalpha():
            continue
        stem = low[:6]
        counts[stem] += 1
        forms.setdefault(stem, Counter())[word] += 1
        first.setdefault(stem, pos)
    ranked = sorted(counts, key=lambda s: (-counts[s], first[s]))[:n]
    return [forms[s].most_common(1)[0][0] for s in ranked]
