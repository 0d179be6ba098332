from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.markdown import _MD_RULES, strip_markdown, tidy

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
