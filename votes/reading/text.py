"""Small text helpers shared by the reading rules: comparing text the way people do."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .types import OptionSpec, PromptSpec

_NON_WORD = re.compile(r"[\W_]+")
_WORD = re.compile(r"[^\W_]+")
# For ASCII text, casefold is lower, NFKD changes nothing and [^\W_] is [A-Za-z0-9]:
# the same results without the Unicode work.
_ASCII_NON_WORD = re.compile(r"[^a-z0-9]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_SPACE = re.compile(r"[ \t\u00a0]+")

_STOPWORD_TEXT = (
    "a an the and or of to in on for with by at from as is are be was were it its this "
    "that these those we our us i my me you your he she they them their his her should "
    "would could will shall can do does did not no yes but if so than then there here have "
    "has had been being into onto over under about up down out all any some more most such "
    "very also just only other which who whom what when where why how each both "
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def bare(text: str) -> str:
    """Text compared whole: case, punctuation, white space and accents ignored."""
    if text.isascii():
        return _ASCII_NON_WORD.sub("", text.lower())
    text = unicodedata.normalize("NFKD", text.casefold())
    return _NON_WORD.sub("", text)


def words(text: str) -> list[str]:
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    return _WORD.findall(text.casefold())


def stem(word: str) -> str:
    # A crude stem is enough to match "Korean" with "Korea" and "punished" with
    # "punish"; anything it gets wrong only changes a suggestion, never a count.
    return word[:5]


def content_stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 2)


def match_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where `pattern` stops matching at `pos`: for patterns that match the empty string too."""
    m = pattern.match(text, pos)
    if m is None:
        raise ValueError(f"{pattern.pattern!r} must also match the empty string")
    return m.end()


def search_start(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where `pattern` is first found from `pos`: for patterns that end `|$`, found in any text."""
    m = pattern.search(text, pos)
    if m is None:
        raise ValueError(f"{pattern.pattern!r} must also match at the end of the text")
    return m.start()


def collapse_spaces(text: str) -> str:
    lines = [_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


@lru_cache(maxsize=4096)
def _option_words(text: str) -> tuple[str, ...]:
    return tuple(words(text))


def match_option(text: str, prompt: PromptSpec) -> tuple[str, OptionSpec | None]:
    """How option text typed in an answer's place matches one option (rule 4).

    A long text (a whole line in an answer's place) is matched once per line and
    prompt, however many readings of the line ask (a 60,000-character line is
    asked three times); a short one, as most are, is quicker matched again.
    """
    if len(text) > _LONG_TYPED:
        return _match_long(text, prompt)
    return _match_option(text, prompt)


_LONG_TYPED = 400


@lru_cache(maxsize=16)
def _match_long(text: str, prompt: PromptSpec) -> tuple[str, OptionSpec | None]:
    return _match_option(text, prompt)


def _match_option(text: str, prompt: PromptSpec) -> tuple[str, OptionSpec | None]:
    """match_option, uncached.

    Returns ("whole", option), ("first", option), ("loose", option) or ("none", None).
    A whole-text match wins over a first-words match; a first-words match counts
    only when exactly one option starts with those words; anything looser is only
    a suggestion.
    """
    typed = tuple(words(text))
    if not typed or not prompt.options:
        return "none", None
    whole = [o for o in prompt.options if _option_words(o.text) == typed]
    if len(whole) == 1:
        return "whole", whole[0]
    first = [o for o in prompt.options if _option_words(o.text)[: len(typed)] == typed]
    if len(first) == 1:
        return "first", first[0]
    if len(first) > 1:
        return "none", None
    typed_stems = content_stems(text)
    if not typed_stems:
        return "none", None
    scored = []
    for o in prompt.options:
        opt_stems = content_stems(o.text)
        if opt_stems & typed_stems:
            scored.append((len(opt_stems & typed_stems) / len(typed_stems), o))
    scored.sort(key=lambda t: -t[0])
    if scored and scored[0][0] >= 0.5 and (len(scored) == 1 or scored[1][0] < scored[0][0]):
        return "loose", scored[0][1]
    return "none", None


def closest_option(text: str, prompt: PromptSpec) -> OptionSpec | None:
    """The one option sharing the most content words with the text, if there is one."""
    said = tuple(words(text))
    # "Yes we should": the whole of one option, then more words.
    leading = [
        o for o in prompt.options if said[: len(_option_words(o.text))] == _option_words(o.text)
    ]
    if len(leading) == 1:
        return leading[0]
    typed = content_stems(text)
    shared = sorted(
        ((len(content_stems(o.text) & typed), o) for o in prompt.options),
        key=lambda t: -t[0],
    )
    if not shared or shared[0][0] == 0 or (len(shared) > 1 and shared[1][0] == shared[0][0]):
        return None
    return shared[0][1]


def has_stem(low: str, s: str) -> bool:
    """Whether a word of `low` (ASCII, lower case) counts with stem `s` (four or five letters).

    The same as `s in {stem(w) for w in words(low) if w not in STOPWORDS and len(w) > 3}`
    without splitting the text: a word has the stem when it is `s` (four letters)
    or starts with it (five); `s` is found with `str.find`, at memory speed.
    """
    at = low.find(s)
    while at != -1:
        if at == 0 or low[at - 1] not in _ALNUM:
            word = _ASCII_WORD.match(low, at).group(0)  # type: ignore[union-attr]  # s is there
            if stem(word) == s and len(word) > 3 and word not in STOPWORDS:
                return True
        at = low.find(s, at + 1)
    return False


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


# What ends a statement's clause, and the words that make it a supposition.
_CLAUSE_STOP = re.compile(r"[.!?;,\n]")
# Up to three words between ("if I vote for"), none across a comma: "If not, I vote B" states.
_SUPPOSING = re.compile(
    r"(?i)\b(?:if|whether|unless|suppose|supposing)[ \t]+(?:[^\s,;.]+[ \t]+){0,3}$"
)


def asked(text: str, start: int, end: int) -> bool:
    """Whether the voting statement at text[start:end] is asked or supposed, not stated.

    "What happens if we pick A on 2?", "Would it be crazy if I vote A on 2?",
    "If we pick B on 1 the MGB will hate us": its clause ends in a question
    mark, or it follows "if" or "whether". "I vote B on 1, why not?" states
    it: the question is a clause of its own.
    """
    stop = _CLAUSE_STOP.search(text, end)
    if stop is not None and stop.group() == "?":
        return True
    return _SUPPOSING.search(text, max(0, start - 24), start) is not None
