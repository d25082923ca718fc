"""Posts that point at other posts or people: endorsements, proxies, tallies, replacements."""

from __future__ import annotations

import re
from typing import Protocol

from .letters import DASHES


class Posters(Protocol):
    """Earlier posters of the thread: `get(case-folded name)` is the name as written, or None."""

    def get(self, key: str, /) -> str | None: ...


_AGREE = re.compile(
    r"(?i)[ \t]*(?:(?:yep|yes|yeah|yup|ok|okay|oh)[ \t]*,?[ \t]*)?(?:"
    r"(?:i|we)?[ \t]*(?:also|too|fully|totally|completely)?[ \t]*"
    r"(?:second(?:ed)?|support|agree(?:d)?|endorse|back|vote[ \t]+for|concur)"
    r"(?:[ \t]+(?:with[ \t]+)?(?:this[ \t]+(?:vote|plan|ballot)|this|that|it|the[ \t]+above))?"
    r"(?:[ \t]+(?:too|as[ \t]+well|also|fully))?"
    r"|\+[ \t]?1|this|same(?:[ \t]+here)?|ditto|me[ \t]+too|seconded|thirded|agreed"
    r"|co-?signed"
    r")[ \t]*[.!]{0,3}"
)
_EXCEPT = re.compile(rf"(?i)[ \t]*[,;:{DASHES}]?[ \t]*(?:except|but|apart[ \t]+from|with)[ \t]*:?")
REPLACE = re.compile(
    r"(?i)\b(?:new[ \t]+vote|revised[ \t]+vote|updated[ \t]+vote|vote[ \t]+revised"
    r"|ignore[ \t]+my[ \t]+(?:last|previous|earlier|old|other)"
    r"|disregard[ \t]+my[ \t]+(?:last|previous|earlier|old|other)"
    r"|replac(?:e|es|ing)[ \t]+my[ \t]+(?:last[ \t]+|previous[ \t]+|earlier[ \t]+)?(?:vote|ballot)"
    r"|scratch[ \t]+my[ \t]+(?:last|previous|earlier|old))\b"
)
# Lower-case words one of which every REPLACE match holds ("vote revised" holds
# "revised"; not "vote", which most ballots hold).
_REPLACE_HINTS = ("new", "revised", "updated", "ignore", "disregard", "replac", "scratch")
_TALLY_MARK = re.compile(r"(?m)^[ \t]*(?:\[[^\]\n]{0,60}\][ \t]*){0,4}#####")
# A tally someone typed: a heading ("Unofficial tally", "Current tally", "Tally:",
# "Vote count") and at least two count lines ("A - 3 (x, y, z)", "1-B: 2", "(4)").
_TALLY_TITLE = re.compile(
    r"(?i)^\W{0,5}(?:(?:unofficial|current|updated|running|rough|quick|partial|latest|informal|adhoc|ad-hoc"
    r"|my|the|vote|votes)[ \t]+){0,3}(?:tally|vote[ \t]+count)\b"
)
_TALLY_COUNTS = re.compile(
    rf"(?im)(?:no\.?[ \t]+of[ \t]+votes|\(\d{{1,4}}\)|:[ \t]*\d{{1,4}}[ \t]*$"
    rf"|[{DASHES}=:][ \t]*\d{{1,4}}[ \t]*(?:votes?)?[ \t]*(?:\(|$)|\b\d{{1,4}}[ \t]+votes?\b)"
)
_PROXY = re.compile(
    r"(?i)[ \t]*(?:\[[xX]\][ \t]*(?P<pin>\^)?[ \t]*@?|voting[ \t]+with[ \t]+@?|same[ \t]+as[ \t]+@)"
    r"(?P<name>[^\n]{1,60}?)[ \t.!]*$"
)
_JOINS = re.compile(
    r"(?i)^(?:same[ \t]+as[ \t]+@?(?P<a>[^\n.,!]{1,60}?)|(?P<b>[^\n.,!]{1,60}?)['\u2019]s?"
    r"[ \t]+(?:idea|plan|proposal|write-?in))[ \t.!]*$"
)


def agreement(line: str) -> int | None:
    """End of a short agreement at the start of `line` ("I second this"), else None."""
    m = _AGREE.match(line)
    if m is None or m.end() == 0 or not line[: m.end()].strip():
        return None
    rest = line[m.end() :]
    if not rest.strip():
        return m.end()
    exc = _EXCEPT.match(rest)
    if exc and exc.end() > 0:
        return m.end() + exc.end()
    spaced = line[m.end() - 1 : m.end()] in (" ", "\t")  # "+1 Solid.": the space was matched
    if rest.lstrip()[:1] in (",", ";", ":", "-") or rest[:1] in (" ", "\t") or spaced:
        return m.end()  # the rest must then be answers, checked by the caller
    return None


def says_replacement(text: str) -> bool:
    # For ASCII text a case-insensitive match needs one of the hints in the lower-cased
    # text; substring tests cost far less than the pattern's word-boundary scan.
    if text.isascii():
        lower = text.lower()
        if not any(h in lower for h in _REPLACE_HINTS):
            return False
    return REPLACE.search(text) is not None


def is_tally(body: str, own_text: str) -> bool:
    if "#####" in body and _TALLY_MARK.search(body):
        return True
    first = own_text.lstrip()[:200]
    # One count line is enough under the heading: "Current tally\n1-A - 3 (Bob, Ann, Cy)".
    return bool(_TALLY_TITLE.match(first)) and _TALLY_COUNTS.search(own_text) is not None


def proxy(line: str, posters: Posters) -> tuple[str, bool] | None:
    """A whole line naming another poster to vote with: (their name, pinned)."""
    m = _PROXY.fullmatch(line)
    if m is None:
        return None
    name = posters.get(m.group("name").strip().casefold())
    return (name, bool(m.group("pin"))) if name else None


def proxy_named(line: str) -> str | None:
    """The name in a `[X] Name` or `Same as @Name` line, whoever it names."""
    m = _PROXY.fullmatch(line)
    if m is None or m.group(0).lstrip()[:1] not in "[sS":
        return None  # "Voting with the majority" is prose
    return m.group("name").strip()


def joins(text: str, posters: Posters) -> str | None:
    """The poster whose write-in this one names ("Same as X", "X's idea")."""
    m = _JOINS.match(text.strip())
    if m is None:
        return None
    return posters.get((m.group("a") or m.group("b") or "").strip().casefold())
