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
    "script", "style", "noscript", "template", "iframe", "object", "svg", "head", "form", "title",
})  # fmt: skip
#: skipped elements whose text is raw (``<b>`` in a script is not a tag), and of those
#: the ones whose text runs to the end of the markup when unclosed, as in a browser;
#: any other unclosed element loses only its start tag
_RAW_TEXT = frozenset({"script", "style", "title"})
_RUNS_TO_END = frozenset({"script", "style"})

#: attributes, quoted values kept whole; no value reaches past a ``<``, so a failed
#: match costs no more than the way to the next ``<`` (which keeps the whole linear)
_ATTRS = r"""(?:[\s/](?:[^<>"']|"[^"<]*"|'[^'<]*')*+)?"""
#: a comment, CDATA, doctype or PI (no name), or a tag: (end?) (name) attributes
_TAG = re.compile(
    r"<!--.*?(?:-->|$)|<!\[CDATA\[.*?(?:\]\]>|$)|<[!?][^>]*>?"
    rf"|<(/?)([A-Za-z][A-Za-z0-9:_.-]*+){_ATTRS}>",
    re.DOTALL,
)
#: the start of a tag the pattern above did not take (an unbalanced quote, a ``<`` in a
#: value): as in a browser, it ends at the next ``>``
_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:_.-]*)")
_SKIP_TAGS = {
    name: re.compile(rf"<(/?){name}{_ATTRS}>", re.IGNORECASE | re.DOTALL) for name in _SKIP
}


def html_to_text(markup: str) -> str:
    """Plain text with paragraphs kept (blank-line separated), entities decoded,
    scripts and styles dropped.

    A tokenizer, not a parser: feeds hold fragments whose tree does not matter, only
    where blocks start and end. (lxml was as fast alone, but it lets go of the GIL while
    parsing, and with a hundred feeds polled by threads each let-go cost a queue.)
    Linear in the markup's length, however it is broken.
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

    tags = _Tags(markup)
    in_pre = 0
    at = 0  # where the text not taken yet starts
    while (tag := tags.next(at)) is not None:
        start, end, closing, name = tag
        if start > at:
            add(markup[at:start])
        at = end
        if not name:
            continue  # a comment, a doctype, a processing instruction
        if closing:
            if name in _BLOCK and name != "br":
                flush()
            in_pre -= name == "pre" and in_pre > 0
        elif name in _SKIP and not markup.endswith("/>", start, end):
            at = tags.skip(name, start, end)
        elif name == "br":
            pieces.append("\n")
        elif name in _BLOCK:
            flush()
            in_pre += name == "pre"
    add(markup[at:])
    flush()
    return "\n\n".join(paragraphs)


class _Tags:
    """The tags of one piece of markup, found left to right, and where the skipped
    elements end. Every search remembers enough that no stretch is read twice over."""

    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.gt = 0  # the next ">" at or after the last position asked about; -1: none
        self.ends: dict[str, dict[int, int]] = {}  # name → start tag's start → end

    def next(self, at: int) -> tuple[int, int, bool, str] | None:
        """The first tag at or after ``at``: (start, end, closing?, lower-case name);
        the name is "" for comments, doctypes and processing instructions."""
        markup = self.markup
        while (start := markup.find("<", at)) >= 0:
            match = _TAG.match(markup, start)
            if match:
                closing, name = match.group(1, 2)
                return start, match.end(), bool(closing), (name or "").lower()
            loose = _TAG_START.match(markup, start)
            if loose and (gt := self._gt(loose.end())) >= 0:
                return start, gt + 1, bool(loose.group(1)), loose.group(2).lower()
            at = start + 1
        return None

    def _gt(self, at: int) -> int:
        if self.gt >= at or self.gt < 0:
            return self.gt
        self.gt = self.markup.find(">", at)
        return self.gt

    def skip(self, name: str, start: int, end: int) -> int:
        """Where the element whose start tag spans ``start:end`` ends: after its end
        tag (nested ones of the same name counted, except in raw text). Unclosed, it
        is its start tag alone, or for a script or style the rest of the markup."""
        ends = self.ends.get(name)
        if ends is None:
            ends = self.ends[name] = self._pair(name)
        if start in ends:
            return ends[start]
        return len(self.markup) if name in _RUNS_TO_END else end

    def _pair(self, name: str) -> dict[int, int]:
        """Start tags of ``name`` → the end of their end tags, in one pass: the nearest
        end tag for raw text, else paired like brackets (a stack)."""
        pairs: dict[int, int] = {}
        open_: list[int] = []
        for match in _SKIP_TAGS[name].finditer(self.markup):
            if not match.group(1):
                if name not in _RAW_TEXT or not open_:
                    open_.append(match.start())
            elif open_:
                if name in _RAW_TEXT:
                    pairs.update(dict.fromkeys(open_, match.end()))
                    open_.clear()
                else:
                    pairs[open_.pop()] = match.end()
        return pairs


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
