"""Summarizers choose what a thread says about an article.

``Summarizer`` is the interface the pipeline calls; ``Budget`` says how much room the
thread has. The default backend is offline and extractive; an LLM backend is optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.model import Article, Summary


@dataclass(frozen=True)
class Budget:
    """Room for the summary: at most ``graphemes`` in all, at most ``sentences`` sentences.

    ``lang`` is the feed's configured language; when set it wins over detection.
    """

    graphemes: int
    sentences: int | None = None
    lang: str | None = None


class Summarizer(Protocol):
    def summarize(self, article: Article, budget: Budget) -> Summary: ...
