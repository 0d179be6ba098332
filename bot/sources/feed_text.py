"""Feed HTML and text → the plain text an ``Article`` carries.

Paragraphs survive as blank lines (sentence and paragraph breaks matter to the
summarizer and the composer), entities are
decoded, scripts and styles are dropped. Deterministic: the same input gives the
same text, so content hashes do not churn.
"""

from __future__ import annotations

import html
import re

_TITLE_MAX = 110
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_BLANK_LINE = re.compile(r"\n\s*\n")

_ISO639_2 = {
    "eng": "en", "rus": "ru", "ukr": "uk", "deu": "de", "ger": "de", "fra": "fr",
    "fre": "fr", "spa": "es", "ita": "it", "por": "pt", "pol": "pl", "nld": "nl",
    "dut": "nl", "jpn": "ja", "zho": "zh", "chi": "zh", "bel": "be", "ces": "cs",
    "cze": "cs", "swe": "sv", "fin": "fi", "tur": "tr", "ara": "ar", "kor": "ko",
}  # fmt: skip


# elements that end a paragraph (br ends a line), and elements whose text is never prose
_BLOCK = frozenset({
    "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "tr", "section", "article", "header", "footer", "aside",
    "figure", "figcaption", "hr", "main", "nav", "address", "details", "summary",
})  # fmt: skip
_SKIP = frozenset({
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head", "form",
    "title",
})  # fmt: skip


#: a comment, CDATA, doctype or PI (no name), or a tag: (end?) (name) attributes
_TAG = re.compile(
    r"<!--.*?(?:-->|$)|<!\[CDATA\[.*?(?:\]\]>|$)|<[!?][^>]*>?"
    r"|<(/?)([A-Za-z][A-Za-z0-9:_.-]*)(?:\s(?:\"[^\"]*\"|'[^']*'|[^'\">])*)?/?\s*>",
    re.DOTALL,
)
_RAW_TEXT = frozenset({"script", "style", "title"})  # the skipped elements whose text is raw
_SKIP_TAGS = {
    name: re.compile(rf"<(/?){name}(?:\s(?:\"[^\"]*\"|'[^']*'|[^'\">])*)?/?\s*>", re.IGNORECASE)
    for name in _SKIP
}


def html_to_text(markup: str) -> str:
    """Plain text with paragraphs kept (blank-line separated), entities decoded,
    scripts and styles dropped.

    A tokenizer, not a parser: feeds hold fragments whose tree does not matter, only
    where blocks start and end. (lxml was as fast alone, but it lets go of the GIL while
    parsing, and with a hundred feeds polled by threads each let-go cost a queue.)
    """
    if "<" not in markup and "&" not in markup:
        return plain_text(markup)
    paragraphs: list[str] = []
    pieces: list[str] = []

    def flush() -> None:
        block = _tidy_lines("".join(pieces))
        if block:
            paragraphs.append(block)
        pieces.clear()

    def add(text: str) -> None:  # a newline in HTML source is a space, except in <pre>
        text = html.unescape(text) if "&" in text else text
        pieces.append(text if in_pre else text.replace("\n", " "))

    in_pre = 0
    at = 0  # where the text not taken yet starts
    for match in _TAG.finditer(markup):
        start = match.start()
        if start < at:
            continue  # inside an element skipped whole
        if start > at:
            add(markup[at:start])
        at = match.end()
        closing, name = match.group(1, 2)
        if not name:
            continue  # a comment, a doctype, a processing instruction
        name = name.lower()
        if closing:
            if name in _BLOCK and name != "br":
                flush()
            in_pre -= name == "pre" and in_pre > 0
        elif name in _SKIP and not match.group(0).endswith("/>"):
            at = _skip(markup, at, name)
        elif name == "br":
            pieces.append("\n")
        elif name in _BLOCK:
            flush()
            in_pre += name == "pre"
    add(markup[at:])
    flush()
    return "\n\n".join(paragraphs)


def _skip(markup: str, at: int, name: str) -> int:
    """Where the element opened just before ``at`` ends (after its end tag; nested ones
    of the same name counted, except in raw text), or the end of the markup."""
    depth = 1
    for match in _SKIP_TAGS[name].finditer(markup, at):
        if name in _RAW_TEXT:  # its text is not markup: "<script>" in a script is text
            depth = 0 if match.group(1) else 1
        else:
            depth += -1 if match.group(1) else 1
        if depth == 0:
            return match.end()
    return len(markup)


def plain_text(text: str) -> str:
    """Plain text from a feed: decode stray (double-escaped) entities, tidy whitespace,
    keep paragraphs."""
    if _ENTITY.search(text):
        text = html.unescape(text)
    paragraphs = _BLANK_LINE.split(text.replace("\r\n", "\n"))
    return "\n\n".join(block for block in map(_tidy_lines, paragraphs) if block)


def _tidy_lines(text: str) -> str:
    """Each line's whitespace runs made one space, empty lines dropped. (str.split
    knows every Unicode space but the zero-width one, which is text's most common
    stowaway; a regex did the same at five times the cost.)"""
    if "\u200b" in text:
        text = text.replace("\u200b", " ")
    if "\n" not in text:
        return " ".join(text.split())
    return "\n".join(line for line in (" ".join(ln.split()) for ln in text.split("\n")) if line)


def first_sentence(text: str) -> str:
    """A title for an untitled entry: its first sentence, cut at a word if long."""
    first = _SENTENCE_END.split(text.split("\n", 1)[0].strip(), maxsplit=1)[0]
    if len(first) <= _TITLE_MAX:
        return first
    cut = first[:_TITLE_MAX].rsplit(" ", 1)[0].rstrip(",;:—- ")
    return cut + "…"


def iso639_1(tag: str) -> str:
    """``en-US``/``ru_RU``/``EN``/``ukr`` → ``en``/``ru``/``en``/``uk``; unknown → ""."""
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    if re.fullmatch(r"[a-z]{2}", primary):
        return primary
    return _ISO639_2.get(primary, "")
