"""HTML to text on broken markup: what a browser would show, in linear time."""

from __future__ import annotations

import pytest

from bot.sources.feed_text import html_to_text


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        # a void <embed> and unclosed <object>/<iframe> lose their tag, not the text after
        ('<p>before</p><embed src="x.swf"><p>after</p>', "before\n\nafter"),
        ('<p>before</p><object data="x"><p>after</p>', "before\n\nafter"),
        ('<p>before</p><iframe src="x"><p>after</p>', "before\n\nafter"),
        ("<object>A<object>B</object>C", "AC"),  # the inner one closed, the outer not
        ('<iframe src="x">fallback</iframe><p>after</p>', "after"),
        # an unbalanced quote: the tag ends at the next ">", as in a browser
        ('<a href=http://example.com/">example</a> text', "example text"),
        ("<a title='it\"s'>quoted</a>", "quoted"),
        ('<a title="x<y">less</a> than', "less than"),
        # an unclosed script or style still hides the rest: it is code, not prose
        ("<p>x</p><script>never()", "x"),
        ('<img src="x.png">', ""),
    ],
)
def test_broken_markup_reads_as_a_browser_shows_it(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@pytest.mark.parametrize(
    ("unit", "whole"),
    [("<a b", True), ('<a b="', True), ("<iframe", True), ("<object>", False), ("<a b='x>", False)],
)
def test_a_long_run_of_unfinished_tags_reads_right(unit: str, whole: bool) -> None:
    """70 KB of it took 10 s when each ``<`` was read to the end of the markup
    (bench/html_text.py shows the time growing linearly now). With no ">" after them
    they are text; a tag that does end is dropped; a later ">" ends them all at once."""
    markup = unit * (70_000 // len(unit))
    assert html_to_text(markup) == (markup if whole else "")
    assert html_to_text(markup + "</b>tail") == "tail"
