"""Summarizers choose what a thread says about an article.

``Summarizer`` is the interface the pipeline calls; ``Budget`` says how much room the
thread has. The default backend is offline and extractive; an LLM backend is optional.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.errors import ConfigError

if TYPE_CHECKING:  # annotations only: ``feedbot --help`` imports this package
    from bot.config import SummarySettings
    from bot.model import Article, Summary


#: Whether these sentences, in this language, all fit whole in the thread being composed.
FitCheck = Callable[[Sequence[str], "str | None"], bool]


@dataclass(frozen=True)
class Budget:
    """Room for the summary: ``graphemes`` in all, at most ``sentences`` sentences.

    ``lang`` is the feed's configured language; when set it wins over detection.
    ``said`` is what the thread already says without the summary (title, lead): the
    summary adds to it rather than repeating it. ``graphemes`` is what surely fits;
    when the composer gives a ``fits`` check, more may be taken, up to ``room``
    graphemes, as long as ``fits`` says every chosen sentence still fits whole.
    """

    graphemes: int
    sentences: int | None = None
    lang: str | None = None
    said: tuple[str, ...] = ()
    fits: FitCheck | None = None
    room: int | None = None


class Summarizer(Protocol):
    def summarize(self, article: Article, budget: Budget) -> Summary: ...


def make_summarizer(
    settings: SummarySettings, env: Mapping[str, str], secrets: Iterable[str] = ()
) -> Summarizer:
    """The feed's summarizer: extractive, or an LLM that falls back to extractive;
    ``secrets`` must never appear in an LLM's answer."""
    from bot.summarize.extractive import ExtractiveSummarizer

    extractive = ExtractiveSummarizer()
    if settings.backend == "extractive":
        return extractive
    if settings.llm is None:
        raise ConfigError("summary backend llm needs an llm section")
    from bot.summarize.llm import LlmSummarizer

    return LlmSummarizer(settings.llm, extractive, env=env, secrets=secrets)
