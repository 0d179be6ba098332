"""Sentences that point back at something before them ("He added…", "Он добавил…").

Such a sentence must not open a summary or a post: the reader has not seen what it
points to. Pure, and shared by the summarizer and the composer.
"""

from __future__ import annotations

import re

_DANGLING = re.compile(
    r"^[\"'«“‘]?(?:"
    # "It is known that…", "It was announced…" introduce news rather than point back
    r"(?:it\b(?!\s+(?:is|was|has\s+been)\s+(?:also\s+)?(?:known|reported|expected|understood|"
    r"believed|likely|unclear|announced|planned|possible)\b))"
    r"|(?:he|she|they|his|her|its|their|him|them)\b"
    # "This is", "That means", but not "This week" or "That morning"
    r"|(?:this|that|these|those)(?:[’']s\b|,|\s+(?:is|was|are|were|will|would|has|had|have|"
    r"means|meant|comes|came|could|can|may|might|should|shows|showed|makes|made|includes|"
    r"follows|followed|leads|led)\b)"
    r"|(?:but|and|so|also|however|meanwhile|still|yet|then|instead|moreover|furthermore)\b"
    r"|(?:according to (?:him|her|them))\b"
    r"|(?:он|она|оно|они|его|ее|её|их|ему|ей|им|это|этот|эта|эти|этого|этой|там|тогда|также|"
    r"кроме того|при этом|однако|но|и|а|зато|поэтому|впрочем)\b"
    r"|(?:по (?:его|ее|её|их) (?:словам|мнению|данным))"
    r"|(?:він|вона|воно|вони|його|її|їх|йому|це|цей|ця|ці|цього|цієї|там|тоді|також|"
    r"крім того|при цьому|однак|проте|але|і|й|а|тому)\b"
    r"|(?:за (?:його|її|їхніми) (?:словами|даними))"
    r")",
    re.IGNORECASE,
)


def dangles(sentence: str) -> bool:
    """True if the sentence opens with a pronoun, attribution or connective."""
    return bool(_DANGLING.match(sentence))
