"""Feed HTML and text → the plain text an ``Article`` carries.

Paragraphs survive as blank lines (sentence and paragraph breaks matter to the
summarizer and the composer), entities are
decoded, scripts and styles are dropped. Deterministic: the same input gives the
same text, so content hashes do not churn.
"""

from __future__ import annotations

import html
import re

import lxml.etree
import lxml.html

_TITLE_MAX = 110
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")

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
})  # fmt: skip


def html_to_text(markup: str) -> str:
    """Plain text with paragraphs kept (blank-line separated), entities decoded,
    scripts and styles dropped."""
    if "<" not in markup and "&" not in markup:
        return plain_text(markup)
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return plain_text(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
    paragraphs: list[str] = []
    pieces: list[str] = []

    def flush() -> None:
        lines = (" ".join(_SPACES.sub(" ", line).split()) for line in "".join(pieces).split("\n"))
        block = "\n".join(line for line in lines if line)
        if block:
            paragraphs.append(block)
        pieces.clear()

    def add(text: str | None) -> None:
        if text:  # a newline in HTML source is a space, except inside <pre>
            pieces.append(text if in_pre else text.replace("\n", " "))

    in_pre = 0
    # comments and PIs must be asked for, or their tails (real text) are never seen
    walker = lxml.etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, element in walker:
        if event in ("comment", "pi"):
            add(element.tail)
            continue
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.rpartition("}")[2].lower()
        if event == "start":
            if tag in _SKIP:
                walker.skip_subtree()
                continue
            if tag == "br":
                pieces.append("\n")
            elif tag in _BLOCK:
                flush()
            in_pre += tag == "pre"
            add(element.text)
        else:
            if tag in _BLOCK and tag != "br":
                flush()
            in_pre -= tag == "pre"
            if element is not root:
                add(element.tail)
    flush()
    return "\n\n".join(paragraphs)


def plain_text(text: str) -> str:
    """Plain text from a feed: decode stray (double-escaped) entities, tidy whitespace,
    keep paragraphs."""
    if _ENTITY.search(text):
        text = html.unescape(text)
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    out = (
        "\n".join(" ".join(_SPACES.sub(" ", ln).split()) for ln in p.split("\n"))
        for p in paragraphs
    )
    return "\n\n".join(p.strip("\n") for p in out if p.strip())


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
