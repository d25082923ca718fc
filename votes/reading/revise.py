"""A change of mind or a doubt inside one post: `scratch that, 1-B`, `1-A or maybe 1-B`.

The later answer replaces the post's earlier answer to that prompt. The words
people use: scratch that, actually (no), on second thought, wait (no), make
that / make it, never mind, changed my mind (on 1), hmm no, on reflection, I
mean, edit. What follows is read as numbered answers; a lone letter (`actually
no, B`) answers the prompt the post answered last; `changed my mind on 1,
going B` names the prompt.
"""

from __future__ import annotations

import re
from dataclasses import replace

from . import grammar, hints
from .grammar import LineRead
from .letters import Hit, check_letters
from .types import VoteSpec

_PHRASE = (
    r"(?:scratch[ \t]+that|on[ \t]+second[ \t]+thoughts?|on[ \t]+reflection|never[ \t]?mind|nvm"
    r"|chang(?:e|ed)[ \t]+my[ \t]+mind|(?:no[ \t]*,?[ \t]*)?wait(?:[ \t]*,?[ \t]*no)?"
    r"|actually(?:[ \t]*,?[ \t]*no)?|hmm+[ \t]*,?[ \t]*no|make[ \t]+(?:that|it)|i[ \t]+mean"
    r"|correction|edit(?:ed)?)"
    r"(?:[ \t]*[,:.!\-]+[ \t]*|[ \t]+)"
    r"(?:(?:make[ \t]+(?:that|it)|change[ \t]+(?:that|it)[ \t]+to|(?:i'?m[ \t]+)?going"
    r"(?:[ \t]+with)?|i[ \t]+vote)[ \t]+)?"
)
_REVISION = re.compile(rf"(?i)(?<![\w'\u2019]){_PHRASE}")
_LONE_LETTER = re.compile(rf"(?i)[ \t]*{_PHRASE}([A-Za-z])[ \t.!]*$")
_NAMED = re.compile(
    r"(?i)on[ \t]+(\d{1,2})[ \t]*,?[ \t]*(?:(?:i'?m[ \t]+)?going(?:[ \t]+with)?[ \t]+|to[ \t]+)?"
    r"([A-Za-z])(?![\w'\u2019])"
)
_HINTS: tuple[str, ...] = ("scratch", "thought", "reflection", "mind", "nvm", "wait", "actually")
_HINTS += ("hmm", "make", "mean", "correction", "edit")


def lone_letter(line: str) -> str | None:
    """`actually no, B` on a line of its own: the letter, for the prompt answered last."""
    lower = line.lower()
    if not any(h in lower for h in _HINTS):
        return None
    m = _LONE_LETTER.match(line)
    return m.group(1).upper() if m else None


def with_revisions(read: LineRead, line: str, vote: VoteSpec) -> LineRead:
    """`read` plus the answers a revision later in the line gives, marked as revising."""
    lower = line.lower()
    if not any(h in lower for h in _HINTS):
        return read
    after = max((h.end for h in read.hits), default=0)
    for m in _REVISION.finditer(line, after):
        revised = _answers_after(line, m.end(), vote)
        if revised:
            hits = (*read.hits, *(replace(h, revises=True) for h in revised))
            return replace(read, hits=hits, mentions=())
    return read


def _answers_after(line: str, at: int, vote: VoteSpec) -> tuple[Hit, ...]:
    named = _NAMED.match(line, at)
    if named is not None:
        prompt = grammar.prompt_of(vote, int(named.group(1)))
        if prompt is None:
            return ()
        hit = Hit(prompt.number, at, named.end(), letters=(named.group(2).upper(),))
        return (check_letters(replace(hit, how="revised answer"), prompt),)
    hits = grammar.read_line(line[at:], vote).hits
    return tuple(
        replace(h, start=h.start + at, end=h.end + at, text_at=h.text_at + at) for h in hits
    )


_RETRACT = re.compile(
    r"(?i)[ \t]*(?:scratch[ \t]+that|never[ \t]?mind|nvm|ignore[ \t]+that|disregard[ \t]+that"
    r"|forget[ \t]+that|strike[ \t]+that)[ \t.!]*$"
)
# Doubt on a line with answers: they wait for a moderator instead of counting.
_DOUBT = re.compile(
    r"(?i)\b(?:maybe|perhaps|not[ \t]+sure|unsure|leaning|could[ \t]+be[ \t]+convinced|either"
    r"|whichever|undecided|possibly|can'?t[ \t]+decide)\b|\bor[ \t]+(?:maybe[ \t]+)?\d"
)


_DOUBT_WORD = re.compile(_DOUBT.pattern.split("|\\bor")[0])
# In lower-case ASCII: "or" is a literal, which `re` finds at memory speed.
_OR_DIGIT = re.compile(r"or[ \t]+(?:maybe[ \t]+)?[0-9]")


def _doubt(line: str) -> re.Match[str] | None:
    """_DOUBT.search(line), found faster in ASCII text: the first doubt, by position."""
    if not line.isascii():
        return _DOUBT.search(line)
    lower = line.lower()
    first = _DOUBT_WORD.search(line) if hints.any_of(lower, hints.DOUBT) else None
    end = first.start() if first is not None else len(line)
    for m in _OR_DIGIT.finditer(lower):
        if m.start() >= end:
            break
        if m.start() == 0 or not (lower[m.start() - 1].isalnum() or lower[m.start() - 1] == "_"):
            return _DOUBT.match(line, m.start())  # the same match, for its text
    return first


def retracts(line: str) -> bool:
    """`scratch that` alone: the answer above is withdrawn, with nothing in its place."""
    return len(line) <= 40 and _RETRACT.match(line) is not None


def doubted(read: LineRead, line: str, vote: VoteSpec) -> LineRead:
    """Answers on a line that doubts them (`4-AB, maybe C too`, `or maybe 2b`) are held."""
    doubt = _doubt(line)
    if doubt is None:
        return read
    if not (read.hits or read.mentions):
        digit = re.compile(r"[0-9]").search(line, doubt.start())
        if digit is None:
            return read
        # Only compact answers after the doubt ("or maybe 2b"): a sentence that goes on
        # after a number ("on 1. The north road ...") is discussion.
        after = tuple(
            h for h in _answers_after(line, digit.start(), vote) if h.letters and not h.problem
        )
        read = replace(read, hits=after)
        if not after:
            return read
    word = doubt.group(0).strip()
    held = tuple(
        replace(h, problem=h.problem or f"given with doubt ('{word}'); a moderator must decide",
                suggestion=h.suggestion or h.letters, discussed=False)
        for h in (*read.hits, *read.mentions)
    )  # fmt: skip
    return replace(read, hits=held, mentions=())
