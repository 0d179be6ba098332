"""Markdown → the plain text a reader would see: for summaries and link cards, not for
rendering. Shared by the record parsers (markdown ``content``) and the text cleaner."""

from __future__ import annotations

import re

_WHITESPACE_RUNS = re.compile(r"[ \t]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")

# (substrings one of which must occur for the rule to apply, pattern, replacement): most
# texts carry little markdown, and a rule skipped by a substring test costs nothing
_MD_RULES: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    (("<!--",), re.compile(r"<!--.*?-->", re.S), ""),
    (("```",), re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M), r"\1"),  # code fences
    (("-", "*", "_"), re.compile(r"^ {0,3}(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rules
    (("#",), re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M), r"\1"),  # ATX headings
    (("=", "-"), re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$", re.M), ""),  # setext underlines
    ((">",), re.compile(r"^ {0,3}>[ \t]?", re.M), ""),  # blockquotes
    (
        ("- ", "* ", "+ ", ". ", ") ", "\t"),
        re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?", re.M),
        r"\1",
    ),  # list markers
    (("![",), re.compile(r"!\[[^\]]*\]\([^)]*\)[ \t]?"), ""),  # images: alt text is not prose
    (("](",), re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # inline links → their text
    (("][",), re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links
    (("]:",), re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]+\S+.*$", re.M), ""),  # link definitions
    (("<",), re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (("<",), re.compile(r"</?[a-zA-Z][^>\n]*>"), ""),  # inline HTML tags
    (("`",), re.compile(r"(`+)(.+?)\1", re.S), r"\2"),  # inline code
    (("**", "__"), re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S), r"\2"),  # strong
    (("*",), re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", re.S), r"\1"),  # emphasis
    (("_",), re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])", re.S), r"\1"),  # emphasis
    (("~~",), re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.S), r"\1"),  # strikethrough
    (("\\",), re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])"), r"\1"),  # escapes
)


def strip_markdown(text: str) -> str:
    """Markdown → the plain text a reader would see; good enough for summaries."""
    for marks, pattern, replacement in _MD_RULES:
        if any(mark in text for mark in marks):
            text = pattern.sub(replacement, text)
    return tidy(text)


def tidy(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _WHITESPACE_RUNS.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()
