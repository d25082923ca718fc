"""Cheap necessary conditions checked before the safety net's regular expressions.

Most posts a reader sees are discussion: they hold none of the words of
changing a vote, agreeing, pointing up the thread or choosing. Python's `re`
tries a pattern that starts with a look-behind, `\\b` or a case-insensitive
alternation at every position of the text; `substring in text` runs at memory
speed. Each hint list here is a necessary condition of its pattern (every
match contains one of the hints, in lower case), so a text without any hint
cannot match and the pattern is not run. The result is always what the pattern
alone would give; the hints only decide how fast.

Hints hold for ASCII text; other text (where `lower` and the pattern's case
folding may differ) always runs the pattern.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

# Each tuple: lower-case substrings one of which every match of the pattern holds.
CHOOSING = (
    "vot", "ballot", "switch", "pick", "choos", "chose", "go ", "go\t", "going", "support",
    "back", "prefer", "favo", "count", "put", "i'm", "im ", "im\t", "best", "right", "way",
)  # fmt: skip
AGREEING = ("said", "+", "with", "same", "second", "agree", "ditto", "me too", "this")
POINTING = ("^", "above", "thread", "previous")
CHANGING = ("chang", "switch", "scratch", "revis", "second", "make", "vote")
VOTE_WORD = ("vot", "ballot")
NEGATIVE = (  # grammar._NEGATIVE
    "no", "never", "against", "disaster", "terrible", "awful", "bad", "wors", "mistake",
    "stupid", "dumb", "hate", "oppose", "horrible", "suicide", "insane", "dangerous", "n't",
)  # fmt: skip
DOUBT = (
    "maybe", "perhaps", "sure", "leaning", "convinced", "either", "whichever", "undecided",
    "possibly", "decide",
)  # fmt: skip  # and "or" before a digit: revise.doubted checks that itself


def any_of(lowered: str, hints: tuple[str, ...]) -> bool:
    return any(h in lowered for h in hints)


def search(
    pattern: re.Pattern[str], text: str, lowered: str, hints: tuple[str, ...]
) -> re.Match[str] | None:
    """`pattern.search(text)`, skipped when `text` holds none of `hints`."""
    if text.isascii() and not any_of(lowered, hints):
        return None
    return pattern.search(text)


# Every VOTING_ANYWHERE match (grammar.py) ends with one of these words, then
# `[ \t]*:?[ \t]*` and an optional "option ", right before a digit. Written reversed
# so the search is led by the digit (the regex engine skips to digits in C; prose
# has few); only used on ASCII text, where \d is [0-9].
_VOTING_END_REVERSED = re.compile(
    r"[0-9](?:[ \t]+noitpo)?[ \t]*:?[ \t]*(?:etov|gnitov|esoohc|gnisoohc|kcip|gnikcip|og|gniog"
    r"|troppus|kcab|referp|tceles|yas|rof|htiw|ot|si|era|eb)"
)


def may_vote_inside(line: str) -> bool:
    """False only when grammar.VOTING_ANYWHERE cannot match the line."""
    if not line.isascii():
        return True  # (?i) lets some non-ASCII letters match: leave it to the pattern
    return _VOTING_END_REVERSED.search(line.lower()[::-1]) is not None


# A prompt number is one or two digits, never part of a longer number: every
# pattern grammar.read_line tries after a line's lead (an answer `(\d{1,2})(?![\d,])`
# at a position, `B on 2`, `I vote 2-B`, a mention `(?<![\w.-/#])\d{1,2}`) needs
# such a run, or an ordinal (`B on the second`).
_DIGIT_RUN = re.compile(r"[0-9]+")  # led by a character class: the engine skips to digits
_DIGIT_RUN_ANY = re.compile(r"\d+")  # other scripts' digits too
ORDINALS = ("first", "second", "third", "fourth", "fifth")


def may_answer(line: str) -> bool:
    """False only when no answer can be read on the line: its numbers are all
    three digits or longer (years, sums) and it names no prompt by ordinal."""
    runs = (_DIGIT_RUN if line.isascii() else _DIGIT_RUN_ANY).finditer(line)
    if any(run.end() - run.start() <= 2 for run in runs):
        return True
    lower = line.lower()
    return any(word in lower for word in ORDINALS)


def per_object[T, R](fn: Callable[[T], R]) -> Callable[[T], R]:
    """`fn(obj)` computed once per object, by identity.

    For facts of a vote or a prompt asked for on every line: a frozen
    dataclass's hash walks all its fields on every call, which an `lru_cache`
    keyed by the object pays each time. The object is kept with its value, so
    its id is not reused while cached; 64 objects at most.
    """
    cache: dict[int, tuple[T, R]] = {}

    def cached(obj: T) -> R:
        hit = cache.get(id(obj))
        if hit is None:
            if len(cache) >= 64:
                cache.clear()
            hit = cache[id(obj)] = (obj, fn(obj))
        return hit[1]

    return functools.update_wrapper(cached, fn)
