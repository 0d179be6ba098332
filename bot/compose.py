"""Article + summary → Thread: the layout of a thread, within Bluesky's limits. Pure.

Post 1 carries the title, a lead and the link card; the summary's sentences follow,
packed whole into as few posts as they need; the last post links back to the article
and carries the hashtags and the quote of the author's own announcement. When the
thread would exceed ``max_posts``, hashtags go first, then trailing sentences; the
first post and the link-back always stay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial

import regex

from bot.labels import LINK_LABELS, link_label
from bot.lexicon import MAX_BYTES, MAX_GRAPHEMES, MAX_LANGS
from bot.model import Article, Facet, LinkCard, Post, StrongRef, Summary, Thread
from bot.summarize import Budget
from bot.summarize.openers import dangles
from bot.summarize.sentences import split_sentences
from bot.summarize.words import repeats, tokens
from bot.templates import Template, Values
from bot.text import (
    ELLIPSIS,
    cut_graphemes,
    dedupe_tags,
    fits,
    graphemes,
    join_sentences,
    shorten,
    squash,
    utf8_len,
)
from bot.untrusted import MAX_TEXT_CHARS, clean_line

#: URLs longer than this are shown shortened; the link facet keeps the full URL.
URL_SHOW_MAX = 100
#: Graphemes of a shortened URL as shown, "…" included.
URL_SHORT = 48
#: Bytes of a URL as shown; keeps the link-back far below the post's byte limit.
URL_SHOW_BYTES = 1000
#: Card descriptions are cut here; Bluesky's app shows only a few lines anyway.
CARD_DESCRIPTION_MAX = 300
#: The sentence lengths ``summary_budget`` plans for (see its docstring).
TYPICAL_SENTENCE_MIN = 60
TYPICAL_SENTENCE_MAX = 200
_NEVER = 1 << 30
#: Room ``summary_budget`` keeps for hashtags; tags beyond it may be dropped.
TAG_ROOM = 100

PARAGRAPH = "\n\n"

_NOT_WORD = regex.compile(r"[^\p{L}\p{N}]+")


@dataclass(frozen=True)
class ComposeOptions:
    """Per-feed choices: ``hashtags`` add to the article's tags, ``langs`` override
    whatever language the summarizer detected."""

    max_posts: int = 3
    hashtags: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    #: the owner's wording of post 1 and of the link-back post (bot/templates.py)
    first: Template | None = None
    last: Template | None = None

    def __post_init__(self) -> None:
        if self.max_posts < 2:
            raise ValueError("a thread needs at least 2 posts: the title and the link back")


@dataclass(frozen=True)
class _Block:
    """Text with facets whose byte offsets are relative to the block's start."""

    text: str
    facets: tuple[Facet, ...] = ()

    def __add__(self, other: _Block) -> _Block:
        shift = utf8_len(self.text)
        moved = tuple(Facet(f.start + shift, f.end + shift, f.kind, f.value) for f in other.facets)
        return _Block(self.text + other.text, self.facets + moved)

    def then(self, other: _Block, sep: str = PARAGRAPH) -> _Block:
        """``self`` and ``other`` separated by ``sep``, skipping empty sides."""
        if not self.text:
            return other
        if not other.text:
            return self
        return self + _Block(sep) + other

    def fits(self) -> bool:
        return fits(self.text, MAX_GRAPHEMES, MAX_BYTES)

    def post(self, card: LinkCard | None = None, quote: StrongRef | None = None) -> Post:
        return Post(text=self.text, facets=self.facets, card=card, quote=quote)


def compose(article: Article, summary: Summary, options: ComposeOptions) -> Thread:
    langs = thread_langs(article, summary, options)
    lang = summary.lang or (langs[0] if langs else None)
    title = squash(article.title)
    lead = thread_lead(article)
    lead_is_article = True
    # a summary may be a model's answer, not the article's text: cleaned like one
    sentences = [s for s in (clean_line(s, MAX_TEXT_CHARS) for s in summary.sentences) if s]

    if (
        not lead
        and (options.first is None or "lead" in options.first.fields)
        and sentences
        and fits(f"{title}{PARAGRAPH}{sentences[0]}", MAX_GRAPHEMES, MAX_BYTES)
    ):
        lead = sentences.pop(0)
        # a sentence pointing back at the lead stays with it rather than open post 2
        while sentences and dangles(sentences[0]):
            longer = join_sentences([lead, sentences[0]])
            if not fits(f"{title}{PARAGRAPH}{longer}", MAX_GRAPHEMES, MAX_BYTES):
                break
            lead = longer
            sentences.pop(0)
        lead_is_article = not summary.generated
    # a summary sentence is never shortened to fit beside the title: then lead is ""
    body = _new_sentences(sentences, (title, lead), lang)

    head = _Block(_head_text(title, lead))
    card = LinkCard(
        uri=article.url,
        title=shorten(title, MAX_GRAPHEMES),
        # a model's words never describe the article's card
        description=shorten(
            lead if lead_is_article else squash(article.text), CARD_DESCRIPTION_MAX
        ),
        thumb_url=article.cover_url,
        refs=article.refs,
    )
    link = _link_block(article.url, link_label(langs))
    tags = [_tag_block(t) for t in dedupe_tags(article.tags + options.hashtags)]
    if options.first is not None or options.last is not None:
        values = Values(
            title=title,
            lead=lead,
            url=article.url,
            shown_url=display_url(article.url),
            publication=squash(article.site_name),
            author=squash(article.author),
            tags=dedupe_tags(article.tags + options.hashtags),
            read_more=link_label(langs),
        )
        if options.first is not None:
            head = _Block(*options.first.render(values))
        if options.last is not None:
            link, tags = _Block(*options.last.render(values)), []  # {tags} is the template's

    rest = _fill(body, link, tags, options.max_posts - 1)
    posts = [head.post(card=card)]
    posts += [block.post() for block in rest[:-1]]
    posts.append(rest[-1].post(quote=article.quote))
    return Thread(posts=tuple(posts), langs=langs)


def thread_lead(article: Article) -> str:
    """What post 1 says from the description beside the title: all of it when it fits,
    else its leading whole sentences; "" when the description adds nothing to the title
    (then the summary's first sentence leads). A description-only item's summary is
    made of the rest, so the two split the text without overlap."""
    title, description = squash(article.title), squash(article.description)
    if not description or _repeats(description, title):
        return ""
    if fits(f"{title}{PARAGRAPH}{description}", MAX_GRAPHEMES, MAX_BYTES):
        return description
    lang = article.langs[0] if article.langs else None
    lead = ""
    for sentence in split_sentences(description, lang):
        longer = join_sentences([lead, sentence]) if lead else sentence
        if not fits(f"{title}{PARAGRAPH}{longer}", MAX_GRAPHEMES, MAX_BYTES):
            break
        lead = longer
    return lead or description  # a first sentence too long to fit is shortened


def thread_budget(
    article: Article,
    options: ComposeOptions,
    *,
    sentences: int | None = None,
    lang: str | None = None,
) -> Budget:
    """The summarizer's room in this article's thread: what surely fits, what post 1
    says already, and an exact check that lets it fill the posts up to their limit."""
    lead = thread_lead(article)
    said = tuple(t for t in (squash(article.title), lead) if t)
    posts = options.max_posts - (1 if lead else 0)  # without a lead, post 1 has room too
    return Budget(
        graphemes=summary_budget(article, options),
        sentences=sentences,
        lang=lang,
        said=said,
        fits=partial(summary_fits, article, options),
        room=posts * MAX_GRAPHEMES,
    )


def summary_fits(
    article: Article, options: ComposeOptions, sentences: Sequence[str], lang: str | None
) -> bool:
    """Every one of ``sentences`` appears whole in the thread composed from them."""
    thread = compose(article, Summary(tuple(sentences), lang), options)
    texts = [squash(post.text) for post in thread.posts]
    return all(any(squash(s) in text for text in texts) for s in sentences)


def _new_sentences(sentences: Sequence[str], said: Sequence[str], lang: str | None) -> list[str]:
    """``sentences`` without those that restate ``said`` or an earlier one."""
    seen = {_key(t) for t in said} - {""}
    bags = [set(tokens(t, lang)) for t in said if t]
    out: list[str] = []
    for sentence in sentences:
        bag = set(tokens(sentence, lang))
        if _key(sentence) in seen or repeats(bag, bags):
            continue
        seen.add(_key(sentence))
        bags.append(bag)
        out.append(sentence)
    return out


def summary_budget(article: Article, options: ComposeOptions) -> int:
    """Graphemes of summary sentences, joined by single spaces, that surely fit.

    Sentences never split across posts, so a post can close with most of a sentence's
    length unused; how much is lost depends on the lengths. This returns one less than
    the shortest summary, made of sentences of ``TYPICAL_SENTENCE_MIN`` to
    ``TYPICAL_SENTENCE_MAX`` graphemes, that the composer would have to cut: computed
    exactly for the posts after the first, the last one holding the link-back and up to
    ``TAG_ROOM`` graphemes of hashtags. When the article has no description of its own,
    the lead is the summary's first sentence, so post 1's room beside the title counts
    too (up to one typical sentence).
    """
    label = max(LINK_LABELS.values(), key=graphemes)
    tail = _link_block(article.url, label)
    tag_line = _Block("")
    for tag in dedupe_tags(article.tags + options.hashtags):
        longer = tag_line.then(_tag_block(tag), " ")
        if graphemes(longer.text) > TAG_ROOM:
            break
        tag_line = longer
    tail = tail.then(tag_line)
    last = MAX_GRAPHEMES - graphemes(tail.text) - graphemes(PARAGRAPH)
    rest = max(0, _first_overflow(options.max_posts - 2, last) - 1)
    if thread_lead(article):
        return rest
    title = squash(article.title)
    beside_title = MAX_GRAPHEMES - graphemes(PARAGRAPH) - graphemes(title) - 1
    return rest + max(0, min(beside_title, TYPICAL_SENTENCE_MIN))


def _first_overflow(full_posts: int, last: int) -> int:
    """The shortest joined length of typical sentences that does not fit in
    ``full_posts`` posts followed by one with room for ``last`` graphemes.

    The greedy packer fills each post in turn, so it fails exactly when what is left
    after the full posts is longer than ``last``.
    """
    lo = TYPICAL_SENTENCE_MIN
    # left[r] = shortest total whose leftover (joined, after the full posts) is r long
    left = [_NEVER] * (max(last, 0) + 1)
    shortest = _NEVER
    for size, total in enumerate(_leftover_starts(full_posts), start=lo):
        if size > last:
            shortest = min(shortest, total)
        else:
            left[size] = min(left[size], total)
    for r in range(1, len(left)):
        if left[r] == _NEVER:
            continue
        for size in range(lo, TYPICAL_SENTENCE_MAX + 1):
            grown, total = r + 1 + size, left[r] + 1 + size
            if grown > last:  # longer sentences only cost more
                shortest = min(shortest, total)
                break
            left[grown] = min(left[grown], total)
    return shortest


@cache
def _leftover_starts(full_posts: int) -> tuple[int, ...]:
    """For each sentence length, the shortest total (joined) at which the leftover after
    ``full_posts`` greedily filled posts starts with a sentence of that length."""
    lo, hi = TYPICAL_SENTENCE_MIN, TYPICAL_SENTENCE_MAX
    if full_posts == 0:
        return tuple(range(lo, hi + 1))
    starts = _leftover_starts(full_posts - 1)
    fill = [_NEVER] * (MAX_GRAPHEMES + 1)
    for size, total in enumerate(starts, start=lo):
        fill[size] = min(fill[size], total)
    out = [_NEVER] * (hi - lo + 1)
    for used in range(1, MAX_GRAPHEMES + 1):
        if fill[used] == _NEVER:
            continue
        for size in range(lo, hi + 1):
            total = fill[used] + 1 + size
            if used + 1 + size <= MAX_GRAPHEMES:
                fill[used + 1 + size] = min(fill[used + 1 + size], total)
            else:
                out[size - lo] = min(out[size - lo], total)
    return tuple(out)


def thread_langs(article: Article, summary: Summary, options: ComposeOptions) -> tuple[str, ...]:
    """Configured languages win, then the summary's, then what the source declared."""
    if options.langs:
        langs = options.langs
    elif summary.lang:
        langs = (summary.lang,)
    else:
        langs = article.langs
    return tuple(dict.fromkeys(lang for lang in langs if lang))[:MAX_LANGS]


def display_url(url: str) -> str:
    """The URL as shown in a post: whole when short, else host + start of path + "…"."""
    if graphemes(url) <= URL_SHOW_MAX and utf8_len(url) <= URL_SHOW_BYTES:
        return url
    shown = url.split("://", 1)[1] if "://" in url else url
    return cut_graphemes(shown, URL_SHORT - 1, URL_SHOW_BYTES) + ELLIPSIS


# --- building blocks -----------------------------------------------------------------


def _key(text: str) -> str:
    """What two texts compare by when deciding one repeats the other: letters and
    digits only, or the whole text when it has none (an emoji-only title)."""
    folded = text.casefold()
    return _NOT_WORD.sub("", folded) or folded


def _repeats(description: str, title: str) -> bool:
    """The description adds nothing: it is the title, or the title's beginning."""
    d, t = _key(description), _key(title)
    return not d or t.startswith(d)


def _head_text(title: str, lead: str) -> str:
    """Title and lead in one post; a long title gives way, but leaves the lead some room."""
    if not lead:
        return shorten(title, MAX_GRAPHEMES, MAX_BYTES)
    if not title:
        return shorten(lead, MAX_GRAPHEMES, MAX_BYTES)
    sep = len(PARAGRAPH)
    keep_for_lead = min(graphemes(lead), 100)
    title = shorten(title, MAX_GRAPHEMES - sep - keep_for_lead, MAX_BYTES // 2)
    lead = shorten(
        lead,
        MAX_GRAPHEMES - sep - graphemes(title),
        MAX_BYTES - sep - utf8_len(title),
    )
    return title + PARAGRAPH + lead if lead else title


def _link_block(url: str, label: str) -> _Block:
    shown = display_url(url)
    head = label + " "
    if not url.startswith(("https://", "http://")):
        return _Block(head + shown)  # a link facet must be http(s); show it as text
    start = utf8_len(head)
    return _Block(head + shown, (Facet(start, start + utf8_len(shown), "link", url),))


def _tag_block(tag: str) -> _Block:
    text = "#" + tag
    return _Block(text, (Facet(0, utf8_len(text), "tag", tag),))


def _pack(sentences: Sequence[str]) -> list[_Block]:
    """Whole sentences, in order, greedily into posts; an oversized one is shortened.

    A sentence that points back ("He added…") does not open a post when it can take
    the sentence before it along.
    """
    groups: list[list[str]] = []
    for raw in sentences:
        sentence = shorten(raw, MAX_GRAPHEMES, MAX_BYTES)
        if groups and _Block(join_sentences([*groups[-1], sentence])).fits():
            groups[-1].append(sentence)
        elif (
            groups
            and len(groups[-1]) > 1
            and dangles(sentence)
            and _Block(join_sentences([groups[-1][-1], sentence])).fits()
        ):
            groups.append([groups[-1].pop(), sentence])
        else:
            groups.append([sentence])
    return [_Block(join_sentences(group)) for group in groups]


def _layout(sentences: Sequence[str], tail: _Block) -> list[_Block] | None:
    """Posts after the first for these sentences and this tail, or None if the tail
    cannot fit in a post at all."""
    if not tail.fits():
        return None
    chunks = _pack(sentences)
    if chunks:
        shared = chunks[-1].then(tail)
        if shared.fits():
            return [*chunks[:-1], shared]
    return [*chunks, tail]


def _fill(body: Sequence[str], link: _Block, tags: Sequence[_Block], room: int) -> list[_Block]:
    """The longest run of sentences that fits in ``room`` posts, then as many tags as fit.

    Sentences matter more than tags, so the sentence count is settled with no tags at
    all. Both searches are binary: adding a sentence or a tag never saves a post.
    """

    def layout(count: int, kept: int) -> list[_Block] | None:
        line = _Block("")
        for tag in tags[:kept]:
            line = line.then(tag, " ")
        posts = _layout(body[:count], link.then(line))
        return posts if posts is not None and len(posts) <= room else None

    count = _largest(len(body), lambda n: layout(n, 0) is not None)
    kept = _largest(len(tags), lambda k: layout(count, k) is not None)
    posts = layout(count, kept)
    assert posts is not None, "the link-back alone always fits in one post"
    return posts


def _largest(high: int, ok: Callable[[int], bool]) -> int:
    """The largest n in [0, high] with ok(n), for ok true at 0 and monotone."""
    low = 0
    while low < high:
        mid = (low + high + 1) // 2
        if ok(mid):
            low = mid
        else:
            high = mid - 1
    return low
