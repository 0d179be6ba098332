"""Summarizers choose what a thread says about an article.

``Summarizer`` is the interface the pipeline calls; ``Budget`` says how much room the
thread has. The default backend is offline and extractive; an LLM backend is optional.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.errors import ConfigError

if TYPE_CHECKING:  # annotations only: ``feedbot --help`` imports this package
    from bot.config import SummarySettings
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


#: room for a summary when no thread is being composed (the CLI): about three posts
DEFAULT_GRAPHEMES = 560


def make_summarizer(settings: SummarySettings, env: Mapping[str, str]) -> Summarizer:
    """The feed's summarizer: extractive, or an LLM that falls back to extractive."""
    from bot.summarize.extractive import ExtractiveSummarizer

    extractive = ExtractiveSummarizer()
    if settings.backend == "extractive":
        return extractive
    if settings.llm is None:
        raise ConfigError("summary backend llm needs an llm section")
    from bot.summarize.llm import LlmSummarizer

    return LlmSummarizer(settings.llm, extractive, env=env)
