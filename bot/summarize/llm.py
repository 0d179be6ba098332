"""An optional summarizer that asks an OpenAI-compatible chat-completions endpoint.

LLM output is checked before it is trusted: it must be non-empty, fit the budget as
whole sentences, and be in the article's language. Any failure (network, timeout, HTTP
status, malformed JSON, a bad answer) is logged in one line without secrets and the
extractive summary is used instead, so a flaky endpoint never stops a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from bot.config import LlmSettings
from bot.errors import SummarizeError
from bot.http import make_client
from bot.model import Article, Summary
from bot.summarize import Budget, Summarizer
from bot.summarize.clean import clean_text
from bot.summarize.lang import detect_language
from bot.summarize.sentences import split_sentences
from bot.text import graphemes

log = logging.getLogger("bot.summarize")

#: characters of article text sent; enough for any news story, bounded for cost
MAX_INPUT_CHARS = 12_000

_LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Russian",
    "uk": "Ukrainian",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "pl": "Polish",
}

_PROMPTS = {
    "en": (
        "You summarize an article for a social media thread. Write at most {sentences} "
        "complete sentences, {graphemes} characters in total at most, in {language}. "
        "Plain text only: no title, no lists, no hashtags, no emoji, no preamble."
    ),
    "ru": (
        "Ты пишешь краткое изложение статьи для треда в соцсети. Не больше {sentences} "
        "законченных предложений и не больше {graphemes} символов, на языке: {language}. "
        "Только текст: без заголовка, списков, хэштегов, эмодзи и вступлений."
    ),
    "uk": (
        "Ти пишеш стислий виклад статті для треду в соцмережі. Не більше {sentences} "
        "завершених речень і не більше {graphemes} символів, мовою: {language}. "
        "Лише текст: без заголовка, списків, хештегів, емодзі та вступів."
    ),
}
DEFAULT_SENTENCES = 3


class LlmSummarizer:
    """Summaries from an LLM, with ``fallback`` used whenever the answer is unusable."""

    def __init__(
        self,
        settings: LlmSettings,
        fallback: Summarizer,
        *,
        env: Mapping[str, str],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.fallback = fallback
        self._env = env
        self._transport = transport

    def summarize(self, article: Article, budget: Budget) -> Summary:
        try:
            return self._ask(article, budget)
        except SummarizeError as exc:
            log.warning(
                "llm summary failed feed=%s item=%s reason=%s; using extractive",
                article.feed,
                article.id,
                exc,
            )
            return self.fallback.summarize(article, budget)

    def _ask(self, article: Article, budget: Budget) -> Summary:
        text = clean_text(article.text or article.description, article.title or None)
        if not text:
            raise SummarizeError("the article has no text")
        lang = budget.lang or detect_language(text)
        content = self._complete(self._messages(article.title, text, lang, budget))
        return _checked(content, lang, budget)

    def _messages(
        self, title: str, text: str, lang: str | None, budget: Budget
    ) -> list[dict[str, str]]:
        prompt_lang = self.settings.prompt_lang or lang or "en"
        template = _PROMPTS.get(prompt_lang, _PROMPTS["en"])
        system = template.format(
            sentences=budget.sentences or DEFAULT_SENTENCES,
            graphemes=budget.graphemes,
            language=_LANGUAGE_NAMES.get(lang or "", lang or "the article's language"),
        )
        body = f"{title}\n\n{text[:MAX_INPUT_CHARS]}" if title else text[:MAX_INPUT_CHARS]
        return [{"role": "system", "content": system}, {"role": "user", "content": body}]

    def _complete(self, messages: list[dict[str, str]]) -> str:
        headers = {}
        if self.settings.api_key_env:
            key = self._env.get(self.settings.api_key_env)
            if not key:
                raise SummarizeError(f"environment variable {self.settings.api_key_env} is not set")
            headers["Authorization"] = f"Bearer {key}"
        url = self.settings.base_url.rstrip("/") + "/chat/completions"
        seconds = self.settings.timeout.total_seconds()
        payload = {"model": self.settings.model, "messages": messages, "temperature": 0}
        try:
            with make_client(
                transport=self._transport, timeout=httpx.Timeout(seconds), headers=headers
            ) as client:
                response = client.post(url, json=payload)
        except httpx.TimeoutException as exc:
            raise SummarizeError(f"timed out after {seconds:g}s") from exc
        except httpx.HTTPError as exc:
            raise SummarizeError(f"request failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise SummarizeError(f"HTTP {response.status_code}")
        try:
            data: Any = response.json()
            content = data["choices"][0]["message"]["content"]
        except ValueError as exc:
            raise SummarizeError("the answer is not JSON") from exc
        except (KeyError, IndexError, TypeError) as exc:
            raise SummarizeError("the answer has no choices[0].message.content") from exc
        if not isinstance(content, str):
            raise SummarizeError("the answer's content is not text")
        return content


def _checked(content: str, lang: str | None, budget: Budget) -> Summary:
    """Whole sentences of the answer that fit the budget, in the expected language."""
    text = content.strip()
    if not text:
        raise SummarizeError("empty answer")
    found = detect_language(text)
    if lang and found and found != lang:
        raise SummarizeError(f"answer in {found}, expected {lang}")
    lines = [line.strip().lstrip("-*• ").strip() for line in text.splitlines()]
    sentences = split_sentences("\n".join(line for line in lines if line), lang)
    if budget.sentences is not None:
        sentences = sentences[: budget.sentences]
    kept: list[str] = []
    for sentence in sentences:
        if graphemes(" ".join([*kept, sentence])) > budget.graphemes:
            break
        kept.append(sentence)
    if not kept:
        raise SummarizeError(f"answer too long ({graphemes(text)} graphemes > {budget.graphemes})")
    return Summary(tuple(kept), lang or found)
