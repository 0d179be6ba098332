"""Function words per language: they carry no topic, so scoring and keywords ignore them.

The lists are stopwords-iso's (the ``stopwordsiso`` package, MIT: one curated list for
each of ~60 ISO 639-1 languages) rather than hand-made ones. Numbers are taken out of
them: in news a number is a fact, never filler.
"""

from __future__ import annotations

from functools import cache

import stopwordsiso


@cache
def stopwords(lang: str | None) -> frozenset[str]:
    """The stopwords of ``lang`` (lowercase), empty for an unknown or missing language."""
    primary = (lang or "").split("-")[0].lower()
    if not primary or not stopwordsiso.has_lang(primary):
        return frozenset()
    words = stopwordsiso.stopwords(primary)
    return frozenset(w.lower() for w in words if not any(c.isdigit() for c in w))
