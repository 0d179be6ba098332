from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.markdown import _MD_RULES, _drop_comments, _unfence, strip_markdown, tidy

MARKUP = st.sampled_from(
    [
        "*",
        "**",
        "_",
        "__",
        "`",
        "```\n",
        "# ",
        "> ",
        "- ",
        "1. ",
        "[",
        "]",
        "(",
        ")",
        "![",
        "<",
        ">",
        "<!--",
        "-->",
        "~~",
        "\\",
        "=",
        "---",
        "\n",
        "\n\n",
        " ",
        "\t",
        "word",
        "Ёж",
    ]
)


def every_rule(text: str) -> str:
    text = _unfence(_drop_comments(text))
    for _marks, pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return tidy(text)


@settings(max_examples=300)
@given(st.lists(MARKUP, max_size=30).map("".join))
def test_skipping_rules_whose_marks_are_absent_changes_nothing(text: str) -> None:
    assert strip_markdown(text) == every_rule(text)


def test_what_a_reader_sees() -> None:
    text = "# Title\n\nSome **bold** and _em_ with a [link](https://x.org) ![img](a.png)here."
    assert strip_markdown(text) == "Title\n\nSome bold and em with a link here."


# --- bounded work ------------------------------------------------------------------------

#: marks left open, each repeated until the text is 200 KB: before the patterns were made
#: linear, each of these cost one scan per mark (``<a b``: minutes; now well under 1 s)
UNCLOSED = [
    "<a b", "<!-- x", "`a ``b ```c ", "**a ", "__a ", "*a ", "_a ", "~~a ", "```py\n",
    "[a](", "[a", "![a](", "<http://a", " ", "# a ", "[a]: ", "[a](b(c",
]  # fmt: skip


@pytest.mark.timeout(20)
@pytest.mark.parametrize("unit", UNCLOSED)
def test_unclosed_marks_repeated_cost_one_scan(unit: str) -> None:
    text = unit * (200_000 // len(unit))
    assert len(strip_markdown(text)) <= len(text)


@pytest.mark.timeout(20)
def test_tidy_is_linear_in_a_run_of_spaces() -> None:
    assert tidy(" " * 200_000 + "x\n") == "x"


OLD_COMMENT = re.compile(r"<!--.*?-->", re.S)
OLD_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


@settings(max_examples=300)
@given(st.lists(MARKUP, max_size=30).map("".join))
def test_comments_and_fences_are_paired_as_the_old_patterns_did(text: str) -> None:
    assert _drop_comments(text) == OLD_COMMENT.sub("", text)
    assert _unfence(text) == OLD_FENCE.sub(r"\1", text)
