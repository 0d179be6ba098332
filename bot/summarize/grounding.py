"""An LLM's answer is a suggestion checked against the article, never text to post as is.

Pure functions: ``plain`` strips markdown and HTML from an answer; ``ungrounded`` names
the first thing in it the article does not support (a URL or domain, a @mention, a
#hashtag, a number) or a secret it must not repeat, so the caller falls back to the
extractive summary.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from bot.markdown import strip_markdown
from bot.redact import contains_secret

_TAG = re.compile(r"<[^<>]{0,2000}>")
_HIDDEN = re.compile(r"<(script|style)\b[^>]{0,2000}>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_DOMAIN = re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s]*)?", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w.])@[\w.-]*\w")
_HASHTAG = re.compile(r"(?<![\w&])#\w+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TRAILING = ".,;:!?)]}'\""


def plain(answer: str) -> str:
    """The answer as plain text: markdown marks, HTML tags and entities removed."""
    text = _HIDDEN.sub("", answer)
    text = _TAG.sub("", text)
    text = strip_markdown(text)
    text = html.unescape(text)
    text = text.replace("**", "").replace("__", "").replace("`", "")
    return text


def _numbers(text: str) -> set[str]:
    return {re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text)}


def ungrounded(answer: str, article: str, secrets: Iterable[str] = ()) -> str | None:
    """Why ``answer`` can't be posted for ``article``, or None when it is grounded."""
    if contains_secret(answer, secrets):
        return "the answer contains a secret"
    source = article.casefold()
    for pattern, kind in ((_URL, "URL"), (_MENTION, "mention"), (_DOMAIN, "domain")):
        for found in pattern.findall(answer):
            token = found.rstrip(_TRAILING)
            if token.casefold() not in source:
                return f"{kind} {token[:80]!r} is not in the article"
    for tag in _HASHTAG.findall(answer):
        if tag.casefold() not in source:
            return f"hashtag {tag[:80]!r} is not in the article"
    known = _numbers(article)
    for number in _NUMBER.findall(answer):
        if re.sub(r"[.,]", "", number) not in known:
            return f"number {number[:40]!r} is not in the article"
    return None
