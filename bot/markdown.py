"""Markdown → the plain text a reader would see: for summaries and link cards, not for
rendering. Shared by the record parsers (markdown ``content``) and the text cleaner."""

from __future__ import annotations

import re

_WHITESPACE_RUNS = re.compile(r"(?<![ \t])[ \t]+\n")  # from a run's start only: linear
_BLANK_RUNS = re.compile(r"\n{3,}")

# Every pattern is linear in its input: a repeated part never passes over the mark that
# starts a match, so an unclosed mark repeated 100,000 times costs one scan, not one
# scan per mark (``</?[a-zA-Z][^>\n]*>`` took 25 s on 100 KB of ``<a b``). Comments and
# code fences, whose ends may be far away, are paired by ``_drop_comments`` and
# ``_unfence`` instead.
#
# (substrings one of which must occur for the rule to apply, pattern, replacement): most
# texts carry little markdown, and a rule skipped by a substring test costs nothing
_MD_RULES: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    (("-", "*", "_"), re.compile(r"^ {0,3}(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rules
    (("#",), re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M), r"\1"),  # ATX headings
    (("=", "-"), re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$", re.M), ""),  # setext underlines
    ((">",), re.compile(r"^ {0,3}>[ \t]?", re.M), ""),  # blockquotes
    (
        ("- ", "* ", "+ ", ". ", ") ", "\t"),
        re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?", re.M),
        r"\1",
    ),  # list markers
    (("![",), re.compile(r"!\[[^\[\]]*\]\((?:[^()]|\([^()]*\))*\)[ \t]?"), ""),  # images
    (("](",), re.compile(r"\[([^\[\]]+)\]\((?:[^()]|\([^()]*\))*\)"), r"\1"),  # links
    (("][",), re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]"), r"\1"),  # reference links
    (("]:",), re.compile(r"^ {0,3}\[[^\[\]\n]+\]:[ \t]+\S+.*$", re.M), ""),  # definitions
    (("<",), re.compile(r"<(https?://[^<>\s]+)>"), r"\1"),  # autolinks
    (("<",), re.compile(r"</?[a-zA-Z][^<>\n]*>"), ""),  # inline HTML tags
    (("`",), re.compile(r"(`+)(.+?)\1", re.S), r"\2"),  # inline code
    (("**",), re.compile(r"\*\*(?=\S)((?:[^*]|\*(?!\*))+?)(?<=\S)\*\*"), r"\1"),  # strong
    (("__",), re.compile(r"__(?=\S)((?:[^_]|_(?!_))+?)(?<=\S)__"), r"\1"),  # strong
    (("*",), re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # emphasis
    (("_",), re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])"), r"\1"),  # emphasis
    (("~~",), re.compile(r"~~(?=\S)((?:[^~]|~(?!~))+?)(?<=\S)~~"), r"\1"),  # strikethrough
    (("\\",), re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])"), r"\1"),  # escapes
)
_FENCE = re.compile(r"^```[^\n]*$", re.M)
_FENCE_END = re.compile(r"```[ \t]*")


def strip_markdown(text: str) -> str:
    """Markdown → the plain text a reader would see; good enough for summaries."""
    text = _unfence(_drop_comments(text))
    for marks, pattern, replacement in _MD_RULES:
        if any(mark in text for mark in marks):
            text = pattern.sub(replacement, text)
    return tidy(text)


def _drop_comments(text: str) -> str:
    """``<!-- … -->`` removed; after an unclosed one, nothing can close, so stop."""
    out: list[str] = []
    at = 0
    while (start := text.find("<!--", at)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[at:start])
        at = end + 3
    out.append(text[at:])
    return "".join(out)


def _unfence(text: str) -> str:
    """Code fences (a line starting with three backticks, up to a line of just three
    backticks) replaced by the code they hold; an unclosed fence stays as it is."""
    if "```" not in text:
        return text
    out: list[str] = []
    at = 0
    opener: re.Match[str] | None = None
    for line in _FENCE.finditer(text):
        if opener is None:
            opener = line
        elif _FENCE_END.fullmatch(line.group()):
            out += (text[at : opener.start()], text[opener.end() + 1 : line.start()])
            at, opener = line.end(), None
    out.append(text[at:])
    return "".join(out)


def tidy(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _WHITESPACE_RUNS.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()
