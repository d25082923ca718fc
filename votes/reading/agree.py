"""Agreement with a voter named or adjacent, without a quote (rule 7, second form).

`what Anya said`, `seconding Boris's vote`, `+1 to Anya`, `I'm with @anya`,
`same as Vera Koval`, `^ this`, `^`, `same as above`: the post copies the
ballot of the named poster (their latest counted post before this one) or of
the post directly above, and what follows `but` / `except` (or on the lines
below) amends the copy. The reader resolves the target; this module only reads
the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import match_end

ABOVE = "\x00above"  # the target is the post directly above

# "^", "^ this", "^This.", "^ What they said."
_CARET = re.compile(
    r"(?i)[ \t]*\^+[ \t]*(?P<word>this(?:[ \t]+one)?|that|what[ \t]+they[ \t]+said)?"
)
_BARE_CARET_END = re.compile(r"[ \t.!]*(?:$|[,;:\-\u2013\u2014]?[ \t]*(?:but|except)\b)", re.I)
# "same as above", "Agree with the above", "Same as the post above", "+1 to the above"
_ABOVE = re.compile(
    r"(?i)[ \t]*(?:(?:i[ \t]+)?(?:also[ \t]+)?(?:same(?:[ \t]+vote)?[ \t]+as|agreed?[ \t]+with"
    r"|\+[ \t]?1[ \t]+(?:to|for)|seconding|ditto|voting[ \t]+the[ \t]+same[ \t]+as))"
    r"[ \t]+(?:the[ \t]+)?(?:post[ \t]+)?above"
)
# A phrase naming a voter, the name after it: "what NAME said" is handled apart.
_LEAD = re.compile(
    r"(?i)[ \t]*(?:(?:i[ \t]+)?(?:also[ \t]+)?(?:seconding|second(?:ed)?|backing|back"
    r"|copying|copy|agree(?:d)?[ \t]+with|\+[ \t]?1[ \t]+(?:to|for)|i'?m[ \t]+with|im[ \t]+with"
    r"|same(?:[ \t]+vote)?[ \t]+as|voting[ \t]+(?:the[ \t]+)?same[ \t]+as"
    r"|ditto|going[ \t]+with))[ \t]+"
)
_WHAT = re.compile(r"(?i)[ \t]*what[ \t]+")
_SAID = re.compile(r"(?i)[ \t]+said\b")
_POSSESSIVE = re.compile(r"(?:['\u2019]s?)?(?:[ \t]+(?:vote|ballot|plan|post|choices?))?")
_TAIL = re.compile(
    r"(?i)(?:[ \t]+on[ \t]+this(?:[ \t]+one)?|[ \t]+here|[ \t]+too|[ \t]+as[ \t]+well)?[ \t]*"
)
_AMEND = re.compile(r"(?i)[ \t]*[,;:.\-\u2013\u2014]?[ \t]*(?:but|except|apart[ \t]+from)[ \t]*:?")
# Words that make the agreement partial or uncertain: a moderator decides.
_HEDGE = re.compile(
    r"(?i)\b(?:mostly|partly|partially|roughly|kind[ \t]+of|sort[ \t]+of|maybe|probably"
    r"|whichever|or[ \t]+@?[A-Z]\w*|either)\b"
)
_WORD = re.compile(r"@?([^\W\d_][\w.\-]{0,30})")


@dataclass(frozen=True, slots=True)
class Agreement:
    target: str  # ABOVE, or the case-folded name as written (resolved by the reader)
    end: int  # where the agreement ends in the line (amendments read from here)
    amends_at: int | None  # start of "but 2-B" changes, if any
    hedged: bool  # "mostly", "or Boris": partial or uncertain
    known: bool  # target is ABOVE or a poster of the thread


# A bare agreement that is a post's whole text: "+1", "Ditto.", "Same.", "Seconded!",
# "This.", "Agreed". It names no one and quotes nothing, so what it seconds is a guess.
_BARE = re.compile(
    r"(?i)[ \t\n]*(?P<word>\+[ \t]?1(?:[ \t]+to[ \t]+this)?|ditto|same(?:[ \t]+here)?"
    r"|seconded|second(?:ing)?[ \t]+this|this|agreed?|i[ \t]+agree|me[ \t]+too)[ \t.!\n]*$"
)


def bare_agreement(text: str) -> str | None:
    """The word of a post that is only a bare agreement, else None."""
    m = _BARE.match(text) if len(text) <= 40 else None
    return m.group("word") if m is not None else None


def may_agree(line: str) -> bool:
    """False only when read_agreement cannot find an agreement (a cheap exact pre-check)."""
    return any(p.match(line) for p in (_CARET, _ABOVE, _WHAT, _LEAD)) and bool(line.strip())


def read_agreement(line: str, posters: list[str]) -> Agreement | None:
    """The agreement at the start of `line`, if it is one; posters are case-folded names."""
    m = _CARET.match(line)
    if m is not None and m.group("word") is None and not _BARE_CARET_END.match(line, m.end()):
        m = None  # "^ lol": a reaction to the post above, not a vote
    if m is None or m.end() == 0 or not line[: m.end()].strip():
        m = _ABOVE.match(line)
    if m is not None and m.end() > 0 and line[: m.end()].strip():
        return _finish(line, ABOVE, m.end(), known=True)
    what = _WHAT.match(line)
    lead = _LEAD.match(line) if what is None else what
    if lead is None:
        return None
    name, end, known = _name_at(line, lead.end(), posters)
    if name is None:
        return None
    if what is not None:
        said = _SAID.match(line, end)
        if said is None:
            return None
        end = said.end()
    else:
        end = match_end(_POSSESSIVE, line, end)
    return _finish(line, name, end, known=known)


def _name_at(line: str, at: int, posters: list[str]) -> tuple[str | None, int, bool]:
    """The poster named at `at` (longest match, spaces allowed), or the word there."""
    if line.startswith("@", at):
        at += 1
    rest = line[at : at + 64].casefold()
    best = ""
    for key in posters:
        if len(key) > len(best) and rest.startswith(key) and not _continues(rest, len(key)):
            best = key
    if best:
        return best, at + len(best), True
    word = _WORD.match(line, at)
    if word is None or not _looks_like_a_name(word.group(0)):
        return None, at, False  # "+1 for the map": no one is named
    return word.group(1).casefold(), word.end(), False


def _looks_like_a_name(word: str) -> bool:
    """A word no poster has: a name only if written as one (`@yuri`, `Yuri`, `x_99`)."""
    return word[0] == "@" or word[0].isupper() or any(c.isdigit() or c == "_" for c in word)


def _continues(rest: str, n: int) -> bool:
    """The name runs on past n (`Anyas`): not a match, unless it is a possessive `s`."""
    if n >= len(rest):
        return False
    nxt = rest[n]
    return nxt.isalnum() or nxt == "_"


def _finish(line: str, target: str, end: int, *, known: bool) -> Agreement:
    end = match_end(_TAIL, line, end)
    amend = _AMEND.match(line, end)
    amends_at = amend.end() if amend and amend.end() > end and line[amend.end() :].strip() else None
    hedged = _HEDGE.search(line, end) is not None and amends_at is None
    return Agreement(target, end, amends_at, hedged, known)
