"""Benchmark the extractive summarizer against Lead-3 and sumy's LexRank and TextRank.

Run: ``.venv/bin/python bench/summarize.py [--eval-dir ../shared/eval] [--limit N]``
(needs the ``bench`` extra). Prints a markdown table: ROUGE-1/2/Lsum F1 (rouge-score with
a Unicode word tokenizer and a Snowball stemmer), CPU ms per article (median, p95: CPU
time, so that other work on the machine does not count), at 3
sentences and at the thread budget, plus how many budget summaries fit, whether any
sentence came out cut, the share of threads that say something twice (a sentence that
restates another, title included: ``repeats``) and how much of the thread's room the
summary fills (graphemes used / room, mean). Every method gets the same cleaned text and
sentence split, so the table compares scorers, not preprocessing.

Each development set is split in two fixed halves by a hash of the item id: A is the
half the summarizer's weights were tuned on, B was never looked at while tuning. A
change counts as an improvement only if it shows on both. A last table gives the
repeats and fill figures of the threads made from the sample records in config/samples.

At the thread budget feedbot gets the composer's budget for a typical 3-post article
(its sure budget plus the exact fit check), the lead baseline takes leading sentences
while the thread still holds them whole ("Lead (fill)"), and sumy gets the largest count
up to 3 whose sentences fit. Offline: sumy gets our tokenizer instead of nltk's punkt,
and stopwords-iso's Russian stopwords (it ships none).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
import snowballstemmer
from rouge_score import rouge_scorer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.compose import (  # noqa: E402
    ComposeOptions,
    compose,
    summary_budget,
    summary_fits,
    thread_budget,
    thread_lead,
)
from bot.labels import LINK_LABELS  # noqa: E402
from bot.lexicon import MAX_GRAPHEMES  # noqa: E402
from bot.model import Article, Summary, Thread  # noqa: E402
from bot.sources.records import RecordsSource  # noqa: E402
from bot.summarize import Budget  # noqa: E402
from bot.summarize.clean import clean_text  # noqa: E402
from bot.summarize.extractive import ExtractiveSummarizer  # noqa: E402
from bot.summarize.sentences import split_sentences  # noqa: E402
from bot.summarize.stopwords import stopwords  # noqa: E402
from bot.summarize.words import near_repeats  # noqa: E402
from bot.text import graphemes  # noqa: E402

SETS = {"cnndm-dev": "en", "gazeta-ru-dev": "ru"}
SUMY_LANG = {"en": "english", "ru": "russian"}
STEMMER = {"en": "porter", "ru": "russian"}
# The thread budget is what the composer says fits a 3-post thread for a typical article
# (a 70-grapheme title, a 60-grapheme URL, no description); "fits" composes the thread.
SHAPE = Article(
    feed="bench",
    id="shape",
    url="https://news.example.com/2026/11/22/a-typical-article-slug-here",
    title="A typical headline of about seventy graphemes for a news article here",
)
OPTIONS = ComposeOptions(max_posts=3)
THREAD_BUDGET = summary_budget(SHAPE, OPTIONS)
SAMPLES = REPO / "config" / "samples"


def half(item_id: str) -> str:
    """A or B, fixed for an id: the first bit of its SHA-256."""
    return "A" if hashlib.sha256(item_id.encode("utf-8")).digest()[0] < 128 else "B"


def says_twice(article: Article, thread: Thread, lang: str | None) -> bool:
    """Some sentence of the thread (the title in post 1 included) restates another; the
    link-back line and the hashtags are no sentences."""
    pieces: list[str] = []
    for post in thread.posts:
        for paragraph in post.text.split("\n\n"):
            if paragraph.startswith(("#", *LINK_LABELS.values())):
                continue
            pieces += split_sentences(paragraph, lang)
    return bool(near_repeats(pieces, lang))


def fill(article: Article, thread: Thread, options: ComposeOptions) -> float:
    """Graphemes the summary uses over the room the thread leaves it: the posts' limit
    less what the thread shows without any summary (title, lead, link back, tags)."""
    bare = compose(article, Summary((), None), options)
    frame = sum(graphemes(p.text) for p in bare.posts)
    used = sum(graphemes(p.text) for p in thread.posts) - frame
    return max(0, used) / max(1, options.max_posts * MAX_GRAPHEMES - frame)


def composes_whole(picked: Sequence[str], lang: str) -> bool:
    """Every chosen sentence appears whole in a thread of at most 3 posts."""
    return summary_fits(SHAPE, OPTIONS, picked, lang)


_WORD = regex.compile(r"[\p{L}\p{N}]+")


class UnicodeTokenizer:
    """rouge-score's default keeps only [a-z0-9]; this keeps every script and stems."""

    def __init__(self, lang: str) -> None:
        self.stemmer = snowballstemmer.stemmer(STEMMER[lang])

    def tokenize(self, text: str) -> list[str]:
        words = [w.lower() for w in _WORD.findall(text)]
        return list(self.stemmer.stemWords(words))


class SumyTokenizer:
    """Gives sumy words and sentences without nltk data."""

    def __init__(self, lang: str) -> None:
        self.language = SUMY_LANG[lang]
        self.lang = lang

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(split_sentences(paragraph, self.lang))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(_WORD.findall(sentence))


@dataclass
class Item:
    id: str
    text: str
    reference: str
    clean: str
    sentences: list[str]


Method = Callable[[Item, str, int | None, int], list[str]]


def feedbot(item: Item, lang: str, count: int | None, room: int) -> list[str]:
    if count is None:  # the thread budget, as the pipeline gives it
        article = Article(feed="bench", id=item.id, url=SHAPE.url, title="", text=item.text)
        budget = thread_budget(SHAPE, OPTIONS)
    else:
        article = Article(feed="bench", id=item.id, url="", title="", text=item.text)
        budget = Budget(room, count)
    return list(ExtractiveSummarizer().summarize(article, budget).sentences)


def lead(item: Item, lang: str, count: int | None, room: int) -> list[str]:
    out: list[str] = []
    used = 0
    for sentence in item.sentences:
        size = graphemes(sentence) + (1 if out else 0)
        if count is not None and (used + size > room or len(out) >= count):
            break
        if count is None and not composes_whole([*out, sentence], lang):
            break
        out.append(sentence)
        used += size
    return out


def sumy_method(kind: type[Any]) -> Method:
    cache: dict[str, tuple[Any, Any]] = {}

    def run(item: Item, lang: str, count: int | None, room: int) -> list[str]:
        if lang not in cache:
            summarizer = kind(Stemmer(SUMY_LANG[lang]))
            # sumy ships no Russian stop words: give it the ones feedbot uses
            summarizer.stop_words = (
                stopwords(lang) if lang == "ru" else get_stop_words(SUMY_LANG[lang])
            )
            cache[lang] = (summarizer, SumyTokenizer(lang))
        summarizer, tokenizer = cache[lang]
        doc = ObjectDocumentModel([Paragraph([Sentence(s, tokenizer) for s in item.sentences])])
        for k in range(count or 3, 0, -1):
            picked = [str(s) for s in summarizer(doc, k)]
            if graphemes(" ".join(picked)) <= room:
                return picked
        return []

    return run


METHODS: dict[str, Method] = {
    "feedbot": feedbot,
    "Lead-3": lead,
    "sumy LexRank": sumy_method(LexRankSummarizer),
    "sumy TextRank": sumy_method(TextRankSummarizer),
}


def load(path: Path, lang: str, limit: int | None) -> list[Item]:
    raw = json.loads(path.read_text(encoding="utf-8"))[:limit]
    items = []
    for row in raw:
        clean = clean_text(row["text"])
        items.append(
            Item(row["id"], row["text"], row["reference"], clean, split_sentences(clean, lang))
        )
    return items


def evaluate(
    items: Sequence[Item], lang: str, method: Method, count: int | None, room: int
) -> dict[str, float]:
    scorer = rouge_scorer.RougeScorer(
        ["rouge1", "rouge2", "rougeLsum"], tokenizer=UnicodeTokenizer(lang)
    )
    f1: dict[str, list[float]] = {"rouge1": [], "rouge2": [], "rougeLsum": []}
    times: list[float] = []
    fits = cut = twice = 0
    filled: list[float] = []
    for item in items:
        start = time.process_time()
        picked = method(item, lang, count, room)
        times.append((time.process_time() - start) * 1000)
        whole = set(item.sentences)
        cut += sum(1 for s in picked if s not in whole)
        fits += composes_whole(picked, lang)
        thread = compose(SHAPE, Summary(tuple(picked), lang), OPTIONS)
        twice += says_twice(SHAPE, thread, lang)
        filled.append(fill(SHAPE, thread, OPTIONS))
        reference = "\n".join(split_sentences(item.reference, lang))
        scores = scorer.score(reference, "\n".join(picked))
        for key in f1:
            f1[key].append(scores[key].fmeasure)
    times.sort()
    return {
        "r1": 100 * statistics.fmean(f1["rouge1"]),
        "r2": 100 * statistics.fmean(f1["rouge2"]),
        "rl": 100 * statistics.fmean(f1["rougeLsum"]),
        "median_ms": statistics.median(times),
        "p95_ms": times[min(len(times) - 1, int(0.95 * len(times)))],
        "fit": 100 * fits / len(items),
        "cut": float(cut),
        "twice": 100 * twice / len(items),
        "fill": 100 * statistics.fmean(filled),
    }


def sample_rows() -> list[str]:
    """Repeats and fill of the threads made from config/samples, as the pipeline makes them."""
    poll = RecordsSource("samples", SAMPLES).poll({})
    options = ComposeOptions(max_posts=3, hashtags=("feedbot",))
    rows = []
    for article in poll.articles:
        summary = ExtractiveSummarizer().summarize(article, thread_budget(article, options))
        thread = compose(article, summary, options)
        name = article.url.rsplit("/", 1)[-1][:40]
        lead = "description" if thread_lead(article) else "summary"
        rows.append(
            f"| {name} | {summary.lang} | {lead} | {len(thread.posts)} | "
            f"{'yes' if says_twice(article, thread, summary.lang) else 'no'} | "
            f"{100 * fill(article, thread, options):.0f}% |"
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=REPO / ".." / "shared" / "eval")
    parser.add_argument("--limit", type=int, default=None, help="items per set")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--halves", default="A,B", help="which halves to run (A: tuning)")
    args = parser.parse_args(argv)
    feedbot(Item("warm", "Warm up the language model once. " * 3, "", "", []), "en", 3, 999)
    print(
        "| set | half | setting | method | R-1 | R-2 | R-Lsum | ms median | ms p95 "
        "| fits 3 posts | cut | repeats | fill |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, lang in SETS.items():
        path = args.eval_dir / f"{name}.json"
        if not path.exists():
            print(f"skipping {name}: {path} not found", file=sys.stderr)
            continue
        everything = load(path, lang, args.limit)
        for setting, count, room in (
            ("3 sentences", 3, 10**9),
            ("thread budget", None, THREAD_BUDGET),
        ):
            for method in args.methods.split(","):
                for part in args.halves.split(","):
                    items = [i for i in everything if half(i.id) == part]
                    r = evaluate(items, lang, METHODS[method], count, room)
                    label = "Lead (fill)" if method == "Lead-3" and count is None else method
                    print(
                        f"| {name} | {part} ({len(items)}) | {setting} | {label} | "
                        f"{r['r1']:.1f} | {r['r2']:.1f} | {r['rl']:.1f} | "
                        f"{r['median_ms']:.2f} | {r['p95_ms']:.2f} | {r['fit']:.0f}% | "
                        f"{int(r['cut'])} | {r['twice']:.0f}% | {r['fill']:.0f}% |",
                        flush=True,
                    )
    print()
    print("| sample | lang | lead from | posts | says something twice | fill |")
    print("|---|---|---|---|---|---|")
    for row in sample_rows():
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
