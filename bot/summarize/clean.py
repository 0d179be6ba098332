"""Strip page furniture from article text before it is summarized.

Scraped and syndicated text carries lines that are not the article: language switchers,
newsletter prompts, source lists, bylines, photo credits, share buttons, cross-links to
other stories, and the title again (sometimes glued to a caption). A summarizer that
scores by position would happily pick them, so they go first. Patterns cover English,
Russian and Ukrainian; the work is line by line so real sentences and quotes are never
cut in the middle.
"""

from __future__ import annotations

import re

from bot.markdown import strip_markdown


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


_I = re.IGNORECASE

_LANG_CODES = r"ua|uk|ukr|en|eng|ru|rus|de|fr|es|pl|kz|kk|by|be|укр|ua|рус|ру|eng|англ|қаз|каз|бел"
_LANGUAGE_SWITCHER = re.compile(rf"^(?:(?:{_LANG_CODES})\b[\s|/·•,]*){{2,}}$", _I)

# Whole lines (after markdown emphasis is removed) that are furniture.
_FURNITURE = re.compile(
    r"^(?:"
    # newsletters and subscriptions
    r"(?:sign up|subscribe|join)\b.{0,120}"
    r"(?:newsletter|updates|channel|telegram|inbox|email|mailing list).{0,60}"
    r"|(?:follow us|find us)\b.{0,80}"
    r"|(?:подпишитесь|подписывайтесь|подписаться|підпишіться|підписуйтесь|підписатися)"
    r"\b.{0,160}"
    r"|(?:читайте|следите|стежте|слідкуйте)\b.{0,60}(?:telegram|телеграм|facebook|instagram"
    r"|viber|twitter|youtube|в соцсетях|у соцмережах|дзен)\b.{0,60}"
    # sources, credits
    r"|sources? used in (?:preparing|the preparation of) this (?:material|article)\b.*"
    r"|при подготовке (?:материала|статьи|публикации) использован\w*.*"
    r"|при підготовці (?:матеріалу|статті|публікації) використан\w*.*"
    r"|(?:sources?|источники?|джерела?|джерело)\s*:.{0,300}"
    r"|(?:автор|авторы|текст|редактор|автори|записал[аи]?|підготував|підготувала)"
    r"\s*[:—–-]\s*.{0,100}"
    r"|(?:photo|photos|image|picture|photograph|credit|image credit|image source|"
    r"image caption|video|illustration|cover photo|фото|фотография|иллюстрация|"
    r"изображение|ілюстрація|зображення|відео|видео)"
    r"(?:\s*[:|]|\s+[-–—]\s|\s+by\s|\s+(?:via|courtesy)\s).{0,200}"
    r"|©.{0,120}|\(?(?:photo|фото)\)?|(?:getty images|reuters|afp|ap|epa|shutterstock)"
    # share and read-more
    r"|(?:share|поделиться|поділитися)(?:\s+(?:this|the|on|via|in|article|story|post|page|"
    r"facebook|twitter|x|whatsapp|telegram|viber|email|linkedin|reddit|в|у|соцсетях|"
    r"соцмережах))*\s*:?"
    r"|(?:read more|read also|also read|see also|click here|"
    r"читайте также|читайте також|читайте еще|читайте ще|смотрите также|дивіться також)"
    r"\b.{0,200}"
    r"|(?:related|related (?:articles?|stories|news)|more on this|по теме|на тему|по темі)"
    r"\s*(?::.{0,200})?"
    r")$",
    _I,
)
# "By Jane Doe", "By Jane Doe and John Roe | Reuters": names are capitalised.
_BYLINE = re.compile(
    r"^(?:[Bb]y|Written by|Reporting by|Words by|Text by)\s+"
    r"(?:[A-Z][\w.'’-]*\s*){1,4}(?:(?:and|&|,)\s*(?:[A-Z][\w.'’-]*\s*){1,4})*"
    r"(?:\s*[|•·—–-]\s*.{0,80})?$"
)

# Paragraphs that point at other stories rather than telling this one.
_CROSS_LINK = re.compile(
    r"^(?:(?:previously|earlier)(?: today| this week| this month)?,?\s+we\s+(?:have\s+)?"
    r"(?:reported|wrote|told)|as we (?:have |previously )?reported)"
    r"|^(?:ранее|раньше)\s*,?\s*(?:мы\s+)?(?:сообщали|писали|рассказывали)"
    r"|^ранее\s+«?[\w.]+»?\s+(?:сообщал|писал)"
    r"|^(?:раніше|нагадаємо,?\s*раніше)\s*,?\s*(?:ми\s+)?(?:повідомляли|писали|розповідали)",
    _I,
)

_CREDIT_INLINE = re.compile(
    r"\s*[(\[](?:photo|фото|image|credit|getty images|reuters|ap|afp|epa)\b[^)\]]{0,80}[)\]]", _I
)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_TERMINAL_END = re.compile(r"[.!?…:;][\"'»”’)\]]*$")

# "community.Dr Venter": a period glued to a capitalised word.
_GLUED_UPPER = re.compile(r"(?<=[^\W\d_]{2})([.!?])(?=[A-ZА-ЯЁІЇЄҐ][a-zа-яёіїєґ'])")
# "evasion.total": only when neither side looks like a domain, file or code.
_GLUED_LOWER = re.compile(r"(?<![\w./@:-])([^\W\d_]{3,})\.([^\W\d_]{3,})(?![\w./@-])")
_NOT_GLUED = _words(
    "com org net edu gov info biz io ai app dev ru ua kz by uk de fr eu us html htm php "
    "asp aspx json xml pdf jpg jpeg png gif svg txt csv py js ts md yaml yml exe zip"
)


def clean_text(text: str, title: str | None = None) -> str:
    """The article's own prose: furniture lines gone, paragraphs kept (blank lines).

    ``title``, when known, is removed where the body repeats it; without it the first
    heading-like line is taken for the title.
    """
    paragraphs: list[list[str]] = []
    for raw in re.split(r"\n\s*\n", _prepare(text)):
        lines = _unwrap([line for line in _normalise(raw) if not _is_furniture(line)])
        if lines:
            paragraphs.append(lines)
    has_sentences = any(_TERMINAL_END.search(line) for p in paragraphs for line in p)
    if title is None and len(paragraphs) > 1 and not _is_prose(paragraphs[0][0]):
        title = paragraphs[0][0]
    title_key = _key(title) if title else ""
    kept: list[str] = []
    for lines in paragraphs:
        lines = [_strip_title(line, title_key) for line in lines]
        lines = [line for line in lines if line]
        if has_sentences:
            lines = [line for line in lines if _is_prose(line)]
        if not lines or _CROSS_LINK.match(lines[0]):
            continue
        kept.append(_mend("\n".join(lines)))
    return "\n\n".join(kept)


def _prepare(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    # tags part words ("a<br>b"); then markdown's marks go, keeping what a reader sees
    return strip_markdown(_HTML_TAG.sub(" ", text))


def _normalise(paragraph: str) -> list[str]:
    lines = []
    for raw in paragraph.split("\n"):
        line = _CREDIT_INLINE.sub("", raw)
        line = re.sub(r"[ \t]+", " ", line).strip()
        if line:
            lines.append(line)
    return lines


def _unwrap(lines: list[str]) -> list[str]:
    """Hard-wrapped prose (plain-text feeds, newsletters) as whole lines: a line that
    does not end a sentence continues on the next when that one opens in lowercase or
    with a digit, so the prose filter below judges sentences, not their wrapped tails."""
    out: list[str] = []
    for line in lines:
        head = line[:1]
        if out and not _TERMINAL_END.search(out[-1]) and (head.islower() or head.isdigit()):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _is_furniture(line: str) -> bool:
    bare = line.strip(" *_-–—|•·")
    return bool(_LANGUAGE_SWITCHER.match(bare) or _FURNITURE.match(bare) or _BYLINE.match(bare))


def _is_prose(line: str) -> bool:
    """A line that ends like a sentence, or is long enough to be a paragraph anyway;
    short unpunctuated lines are headings, captions and credits."""
    return bool(_TERMINAL_END.search(line)) or len(line.split()) > 25


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _strip_title(line: str, title_key: str) -> str:
    """Drop the title repeated in the body; a line that is the title glued to a caption
    or byline goes whole, a line that is the title glued to a real sentence keeps it."""
    if not title_key:
        return line
    key = _key(line)
    if key == title_key:
        return ""
    if not key.startswith(title_key + " "):
        return line
    # find where the title ends in the original line: after as many words as it has
    words = len(title_key.split())
    found = re.match(rf"\W*(?:\w+\W+){{{words}}}", line)
    rest = line[found.end() :].strip() if found else ""
    if rest[:1].isupper():
        # glued to a sentence: keep the sentence; to a caption or byline: drop it all
        return rest if _TERMINAL_END.search(rest) else ""
    return line  # a sentence that merely opens with the title's words


def _mend(paragraph: str) -> str:
    paragraph = _GLUED_UPPER.sub(r"\1 ", paragraph)

    def lower(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        if right.casefold() in _NOT_GLUED or left.casefold() in _NOT_GLUED:
            return match.group()
        return f"{left}.\n{right}"

    return _GLUED_LOWER.sub(lower, paragraph)
