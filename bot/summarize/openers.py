"""Sentences that point back at something before them ("He added…", "Он добавил…",
"Ele disse…", "Er sagte…"), in the languages the link-back label speaks.

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
    # pt, es, fr, de, it, pl, nl, tr: pronouns and connectives that need what came
    # before, leaving out words another language opens sentences with ("O", "On", "Il")
    r"|(?:ele|ela|eles|elas|mas|porém|além disso|segundo ele|segundo ela)\b"
    r"|(?:él|ella|ellos|ellas|pero|sin embargo|además|según él|según ella)\b"
    r"|(?:elle|ils|elles|mais|cependant|selon lui|selon elle)\b"  # "il" is Italian's "the"
    r"|(?:er|aber|jedoch|außerdem|zudem|laut ihm)\b"
    r"|(?:lui|lei|loro|ma|però|inoltre|secondo lui|secondo lei)\b"
    r"|(?:ona|oni|ale|jednak|ponadto|według niego|według niej)\b"
    r"|(?:hij|zij|maar|echter|bovendien|volgens hem|volgens haar)\b"
    r"|(?:ancak|fakat|ama|ayrıca)\b"
    r")",
    re.IGNORECASE,
)


def dangles(sentence: str) -> bool:
    """True if the sentence opens with a pronoun, attribution or connective."""
    return bool(_DANGLING.match(sentence))
