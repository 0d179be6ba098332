"""The owner's filters: which new items of a feed may be posted automatically. Pure.

A filter is built once from the feed's ``filter:`` settings (patterns compiled at config
load, so a bad regex is a config error) and asked about each article; the answer is
None (post it) or the one-line reason it is skipped, which the state keeps and
``status`` shows. ``repost`` bypasses filters: the owner asked for that item by name.

Patterns are words or phrases, matched case-insensitively as whole words, or
``/regular expressions/`` (case-insensitive), over the title, the text and the tags.
Matching untrusted text against a configured regex is bounded in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import regex

from bot.model import Article
from bot.summarize.lang import detect_language

#: seconds one pattern may take over one article's text (a catastrophic regex)
MATCH_TIMEOUT = 0.25
#: characters of an article's text the patterns see (whole articles, but capped)
MAX_TEXT = 200_000
_WORDS = regex.compile(r"\w+")


class PatternError(ValueError):
    """A ``/regex/`` that does not compile; the message names it."""


@dataclass(frozen=True)
class Pattern:
    source: str  # as written in the config
    compiled: regex.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> Pattern:
        text = text.strip()
        if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
            try:
                return cls(text, regex.compile(text[1:-1], regex.IGNORECASE | regex.V0))
            except regex.error as exc:
                raise PatternError(f"bad regular expression {text}: {exc}") from None
        if not text:
            raise PatternError("an empty pattern")
        # a word or phrase: whole words, any run of spaces between them
        words = r"\s+".join(regex.escape(w) for w in text.split())
        return cls(text, regex.compile(rf"(?<!\w){words}(?!\w)", regex.IGNORECASE))

    def search(self, text: str) -> bool:
        try:
            return self.compiled.search(text, timeout=MATCH_TIMEOUT) is not None
        except TimeoutError:
            return False  # counts as no match: an include then skips, an exclude lets pass


@dataclass(frozen=True)
class ItemFilter:
    include: tuple[Pattern, ...] = ()
    exclude: tuple[Pattern, ...] = ()
    tags: tuple[str, ...] = ()  # lower-cased, without '#'
    langs: tuple[str, ...] = ()  # lower-cased primary subtags
    min_words: int = 0

    @classmethod
    def build(
        cls,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        tags: Sequence[str] = (),
        langs: Sequence[str] = (),
        min_words: int = 0,
    ) -> ItemFilter:
        return cls(
            include=tuple(Pattern.parse(p) for p in include),
            exclude=tuple(Pattern.parse(p) for p in exclude),
            tags=tuple(_tag(t) for t in tags),
            langs=tuple(_primary(lang) for lang in langs),
            min_words=min_words,
        )

    @property
    def empty(self) -> bool:
        return not (self.include or self.exclude or self.tags or self.langs or self.min_words)

    def reason(self, article: Article) -> str | None:
        """Why ``article`` must not be posted automatically, or None when it may be."""
        if self.empty:
            return None
        text = article.text or article.description
        haystack = "\n".join((article.title, text[:MAX_TEXT], *article.tags))
        for pattern in self.exclude:
            if pattern.search(haystack):
                return f"filtered: matches exclude {pattern.source!r}"
        if self.include and not any(p.search(haystack) for p in self.include):
            return "filtered: matches no include pattern"
        if self.tags:
            have = {_tag(t) for t in article.tags}
            if not have.intersection(self.tags):
                return f"filtered: none of the tags {', '.join(self.tags)}"
        if self.langs:
            lang = _language(article, text)
            if lang not in self.langs:
                return f"filtered: language {lang or 'unknown'} not in {', '.join(self.langs)}"
        if self.min_words:
            words = len(_WORDS.findall(text[:MAX_TEXT]))
            if words < self.min_words:
                return f"filtered: {words} words, fewer than {self.min_words}"
        return None


def _tag(tag: str) -> str:
    return tag.strip().lstrip("#").strip().casefold()


def _primary(lang: str) -> str:
    return lang.strip().split("-")[0].lower()


def _language(article: Article, text: str) -> str | None:
    """The declared language when the source gave one, else the detected one."""
    if article.langs:
        return _primary(article.langs[0])
    return detect_language(f"{article.title}\n{text}")
