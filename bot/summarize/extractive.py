"""The default summarizer: whole sentences picked from the article, offline.

News puts the point first, so position carries most of the score (Lead-3 is famously
hard to beat); centrality (how much a sentence shares with the rest of the text) and
overlap with the title let a strong later sentence displace a weak early one, which also
suits blogs and notes that warm up before they get to the point; new numbers and names
earn a little more, as news is facts. A thread says each thing once: sentences that
restate the title, the lead or an earlier sentence are dropped before scoring, and
selection is greedy MMR (score minus redundancy with everything the thread says so far)
under the grapheme and sentence budget. The result is in document order and never opens
with a dangling "He said" unless nothing else is left. Deterministic: ties break on
position.
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
from bot.summarize.stopwords import stopwords
from bot.summarize.words import STEM, repeats, tokens
from bot.text import graphemes

_TOKEN = regex.compile(r"[\p{L}\p{N}]+(?:['’][\p{L}]+)?")
_TERMINAL = re.compile(r"[.!?…。！？][\"'»”’)\]」』）]*$")
# Facts a sentence can bring: numbers, and capitalised words past the first (names).
_NUMBER = regex.compile(r"\p{N}[\p{N},.]*")
_NAME = regex.compile(r"(?<=[\s(«“„\"'])\p{Lu}[\p{L}\p{M}’'-]+")

LEAD_WEIGHT = 1.0
LEAD_DECAY = 0.5  # position score is (1 + index) ** -LEAD_DECAY
CENTRALITY_WEIGHT = 0.3
TITLE_WEIGHT = 0.4
FACT_WEIGHT = 0.1  # new numbers and names, scaled to [0, 1] by the most in a sentence
REDUNDANCY = 1.0  # MMR: how much overlap with the thread so far costs
MIN_WORDS = 5  # shorter sentences in a longer text are usually captions or asides
SHORT_PENALTY = 0.5
#: Exact fit checks per pick, when the composer offers them (each composes a thread).
MAX_FIT_CHECKS = 6


@dataclass(frozen=True)
class _Candidate:
    index: int
    text: str
    size: int  # graphemes
    bag: Counter[str]
    facts: frozenset[str]
    dangling: bool
    short: bool


class ExtractiveSummarizer:
    """Lead-biased, centrality-aware extractive summarizer; see the module docstring."""

    def summarize(self, article: Article, budget: Budget) -> Summary:
        text = clean_text(article.text or article.description, article.title or None)
        if not text.strip() and article.text and article.description:
            text = clean_text(article.description, article.title or None)
        lang = budget.lang or detect_language(text) or (article.langs[0] if article.langs else None)
        sentences = split_sentences(text, lang)
        said = (article.title, *budget.said)
        chosen = select(sentences, said, lang, budget)
        return Summary(tuple(chosen), lang)


def select(
    sentences: Sequence[str], said: str | Sequence[str], lang: str | None, budget: Budget
) -> list[str]:
    """Pick whole sentences within ``budget`` that add to ``said`` (the title, or the
    title and lead); returned in document order."""
    said_texts = [said] if isinstance(said, str) else list(said)
    said_bags = [set(tokens(t, lang)) for t in said_texts if t]
    said_facts = frozenset().union(*(_facts(t, lang) for t in said_texts))
    candidates, visible = _candidates(sentences, lang, said_bags, budget)
    if not candidates:
        return []
    title = tokens(said_texts[0], lang) if said_texts else []
    scores = _scores(candidates, title)
    limit = budget.sentences if budget.sentences is not None else len(candidates)
    pool = sorted(candidates, key=lambda c: c.index)
    top_facts = max((len(c.facts) for c in pool), default=0) or 1
    thread_bags = [Counter(b) for b in said_bags]
    redundancy = {c.index: max((_cosine(c.bag, b) for b in thread_bags), default=0.0) for c in pool}
    seen_facts = set(said_facts)
    chosen: list[_Candidate] = []
    used = 0
    strict = True  # a sentence pointing back needs its antecedent, unless nothing else fits
    while pool and len(chosen) < limit:
        ranked = []
        for pos, cand in enumerate(pool):
            if strict and cand.dangling and cand.index - 1 not in visible:
                continue  # it points back at a sentence the reader would not see
            new = len(cand.facts - seen_facts) / top_facts
            value = (
                scores[cand.index]
                + FACT_WEIGHT * new
                - REDUNDANCY * redundancy[cand.index]
                - (SHORT_PENALTY if cand.short else 0.0)
            )
            ranked.append((-value, cand.index, pos))
        ranked.sort()
        picked_pos = _first_fitting(ranked, pool, chosen, used, budget, lang)
        if picked_pos is None:
            if strict and not chosen:
                strict = False
                continue
            break
        picked = pool.pop(picked_pos)
        used += picked.size + (1 if chosen else 0)
        chosen.append(picked)
        visible.add(picked.index)
        seen_facts |= picked.facts
        for cand in pool:
            redundancy[cand.index] = max(redundancy[cand.index], _cosine(cand.bag, picked.bag))
    return [c.text for c in sorted(chosen, key=lambda c: c.index)]


def _first_fitting(
    ranked: Sequence[tuple[float, int, int]],
    pool: Sequence[_Candidate],
    chosen: Sequence[_Candidate],
    used: int,
    budget: Budget,
    lang: str | None,
) -> int | None:
    """The pool position of the best-ranked candidate that fits: within the sure
    budget, or (with the composer's check) within ``room`` and checked whole."""
    checks = 0
    failed_at = math.inf  # a longer sentence than one that did not fit is not tried
    room = budget.room if budget.room is not None else budget.graphemes
    for _value, _index, pos in ranked:
        cand = pool[pos]
        total = used + cand.size + (1 if chosen else 0)
        if total <= budget.graphemes:
            return pos
        if budget.fits is None or total > room or cand.size >= failed_at:
            continue
        if checks >= MAX_FIT_CHECKS:
            break
        checks += 1
        texts = [c.text for c in sorted([*chosen, cand], key=lambda c: c.index)]
        if budget.fits(texts, lang):
            return pos
        failed_at = cand.size
    return None


def _candidates(
    sentences: Sequence[str], lang: str | None, said: Sequence[set[str]], budget: Budget
) -> tuple[list[_Candidate], set[int]]:
    """Sentences that could go in the summary, and the indexes the reader sees anyway
    (sentences the title or lead already says). A sentence that restates what is said,
    or an earlier sentence, is no candidate: a thread says each thing once."""
    out: list[_Candidate] = []
    visible: set[int] = set()
    kept: list[set[str]] = []
    last = len(sentences) - 1
    room = max(budget.graphemes, budget.room or 0)
    for i, sentence in enumerate(sentences):
        words = tokens(sentence, lang)
        bag = set(words)
        if repeats(bag, said):
            visible.add(i)
            continue
        if repeats(bag, kept):
            continue
        finished = bool(_TERMINAL.search(sentence))
        if i == last and not finished and last > 0:
            continue  # the text was cut mid-sentence
        size = graphemes(sentence)
        if size > room:
            continue
        kept.append(bag)
        short = len(sentence.split()) < MIN_WORDS and len(sentences) > 3 and not _unspaced(lang)
        out.append(
            _Candidate(
                i, sentence, size, Counter(words), _facts(sentence, lang), dangles(sentence), short
            )
        )
    return out, visible


def _unspaced(lang: str | None) -> bool:
    return (lang or "") in {"ja", "zh", "th"}


def _facts(text: str, lang: str | None) -> frozenset[str]:
    """Numbers and names in ``text``, normalised so a repeat is recognised."""
    found = {n.rstrip(",.") for n in _NUMBER.findall(text)}
    stop = stopwords(lang)
    found |= {w.lower()[:STEM] for w in _NAME.findall(text) if w.lower() not in stop}
    return frozenset(found)


def _scores(candidates: Sequence[_Candidate], title: Sequence[str]) -> dict[int, float]:
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
    go to the word seen first. Numbers and words under four letters are skipped; Japanese,
    Chinese and Thai get none (a run between punctuation is a phrase, not a word).
    """
    if n <= 0 or _unspaced(lang):
        return []  # without spaces there are no words to count, only runs of text
    stop = stopwords(lang)
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
