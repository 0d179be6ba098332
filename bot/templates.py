"""The owner's wording of a thread's first and last posts: ``template: {first, last}``.

A template is text with named placeholders, ``{title} — {publication}``; ``{{`` and ``}}``
are literal braces. Parsed once at config load: an unknown placeholder, a format spec or
a conversion is an error there, and so is fixed text that leaves no room for a URL.
Rendering is pure and keeps every limit whatever an article brings: the URL and the
"Read the full article" label are never cut, the other values are shortened at word
boundaries, in the order of ``_SHORTEN_ORDER``, until the post fits; ``{url}`` becomes a
link facet and ``{tags}`` tag facets, with exact byte offsets.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.lexicon import MAX_BYTES, MAX_GRAPHEMES
from bot.model import Facet
from bot.text import ELLIPSIS, graphemes, shorten, utf8_len

PLACEHOLDERS = ("title", "lead", "url", "publication", "author", "tags", "read_more")
#: what a shown URL may take at most (compose.URL_SHOW_MAX graphemes, few bytes each)
URL_ROOM_GRAPHEMES = 100
URL_ROOM_BYTES = 1000
#: which values give way first when a post is too long (the URL and label never do)
_SHORTEN_ORDER = ("tags", "lead", "author", "publication", "title")


class TemplateError(ValueError):
    """A template that can't be used; the message says why."""


@dataclass(frozen=True)
class Piece:
    """Fixed text (``field`` None) or one placeholder."""

    text: str = ""
    field: str | None = None


@dataclass(frozen=True)
class Values:
    """What an article gives the placeholders; ``tags`` without '#'."""

    title: str = ""
    lead: str = ""
    url: str = ""  # the canonical URL (the link facet's target)
    shown_url: str = ""  # as shown in the text
    publication: str = ""
    author: str = ""
    tags: tuple[str, ...] = ()
    read_more: str = ""


@dataclass(frozen=True)
class Template:
    source: str
    pieces: tuple[Piece, ...]

    @classmethod
    def parse(cls, source: str) -> Template:
        pieces: list[Piece] = []
        try:
            parsed = list(string.Formatter().parse(source))
        except ValueError as exc:
            raise TemplateError(f"bad template: {exc}") from None
        for literal, field, spec, conversion in parsed:
            if literal:
                pieces.append(Piece(literal))
            if field is None:
                continue
            if field not in PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                raise TemplateError(f"unknown placeholder {{{field}}} (known: {known})")
            if spec or conversion:
                raise TemplateError(f"placeholder {{{field}}} takes no format or conversion")
            pieces.append(Piece(field=field))
        template = cls(source, tuple(pieces))
        fixed = template.fixed_text()
        urls = sum(1 for p in pieces if p.field == "url")
        if graphemes(fixed) + urls * URL_ROOM_GRAPHEMES > MAX_GRAPHEMES or (
            utf8_len(fixed) + urls * URL_ROOM_BYTES > MAX_BYTES
        ):
            raise TemplateError(
                f"its fixed text ({graphemes(fixed)} graphemes) leaves no room in a "
                f"{MAX_GRAPHEMES}-grapheme post" + (" for the URL" if urls else "")
            )
        if not fixed.strip() and not pieces:
            raise TemplateError("an empty template")
        return template

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(p.field for p in self.pieces if p.field)

    def fixed_text(self) -> str:
        return "".join(p.text for p in self.pieces if p.field is None)

    def render(self, values: Values) -> tuple[str, tuple[Facet, ...]]:
        """The post's text and facets; always within the post limits."""
        texts: dict[str, str] = {
            "title": values.title,
            "lead": values.lead,
            "publication": values.publication,
            "author": values.author,
            "read_more": values.read_more,
            "url": values.shown_url,
        }
        tags = list(values.tags)
        texts["tags"] = _tags_text(tags)
        for name in _SHORTEN_ORDER:
            if self._fits(texts):
                break
            if name not in self.fields:
                continue
            if name == "tags":
                while tags and not self._fits(texts):
                    tags.pop()
                    texts["tags"] = _tags_text(tags)
                continue
            texts[name] = ""
            room_g, room_b = self._room(texts)
            texts[name] = shorten(
                {"title": values.title, "lead": values.lead, "author": values.author,
                 "publication": values.publication}[name],
                max(room_g, 0),
                max(room_b, 0),
            )  # fmt: skip
        return self._assemble(texts, values, tags)

    def _count(self, texts: Mapping[str, str]) -> tuple[int, int]:
        text = "".join(p.text if p.field is None else texts[p.field] for p in self.pieces)
        return graphemes(text), utf8_len(text)

    def _fits(self, texts: Mapping[str, str]) -> bool:
        g, b = self._count(texts)
        return g <= MAX_GRAPHEMES and b <= MAX_BYTES

    def _room(self, texts: Mapping[str, str]) -> tuple[int, int]:
        """Graphemes and bytes left for a value that occurs once, given the others.
        A placeholder used several times takes its share each time."""
        g, b = self._count(texts)
        return MAX_GRAPHEMES - g, MAX_BYTES - b

    def _assemble(
        self, texts: Mapping[str, str], values: Values, tags: Sequence[str]
    ) -> tuple[str, tuple[Facet, ...]]:
        out = ""
        facets: list[Facet] = []
        for piece in self.pieces:
            if piece.field is None:
                out += piece.text
                continue
            start = utf8_len(out)
            if piece.field == "url" and values.url.startswith(("https://", "http://")):
                facets.append(Facet(start, start + utf8_len(texts["url"]), "link", values.url))
            elif piece.field == "tags":
                offset = start
                for i, tag in enumerate(tags):
                    shown = "#" + tag
                    facets.append(Facet(offset, offset + utf8_len(shown), "tag", tag))
                    offset += utf8_len(shown) + (1 if i < len(tags) - 1 else 0)
            out += texts[piece.field]
        if graphemes(out) > MAX_GRAPHEMES or utf8_len(out) > MAX_BYTES:
            # a placeholder used several times: the last resort keeps the limits
            out = shorten(out, MAX_GRAPHEMES, MAX_BYTES)
            end = utf8_len(out.removesuffix(ELLIPSIS))
            facets = [f for f in facets if f.end <= end]
        return out, tuple(facets)


def _tags_text(tags: Sequence[str]) -> str:
    return " ".join("#" + t for t in tags)
