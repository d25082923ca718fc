"""A ballot declared in a sentence: `Fine, real vote: 1-B 2-A`, `Locking in 1-B, 2-A.`

The answers take the rest of the line after a short lead that declares a vote:
a phrase ending in a colon, or one naming the vote (vote, ballot, voting,
locking in, casting, going, put me down, count me in, mine, for the record).
The lead holds no digit and at most twelve words, so a sentence that merely
mentions an answer (`I think 1-B is best`) is not one.
"""

from __future__ import annotations

import re
from dataclasses import replace

from . import grammar
from .grammar import LineRead
from .letters import REASON
from .types import VoteSpec

_LEAD_WORDS = re.compile(
    r"(?i)(?::[ \t]*$|\b(?:vote|vote'?s|votes|voting|ballot|locking[ \t]+in|lock[ \t]+in|casting"
    r"|cast|go|going|put[ \t]+me[ \t]+down|count[ \t]+me[ \t]+in|mine|record|bite)\b"
    r"(?:[ \t]+(?:is|are))?[ \t:,-]*$)"
)
_NEGATED = re.compile(r"(?i)\b(?:not|never|no)\b|n't\b|n\u2019t\b")
_FIRST_DIGIT = re.compile(r"[0-9]")
# After the answers, a sentence that goes straight on ("Vote 1-B seems wrong") makes
# them a mention; commentary set off by punctuation, a bracket or a reason does not.
_GOES_ON = re.compile(r"[ \t]+[A-Za-z]")
_REASON = re.compile(REASON)
_MAX_LEAD_WORDS = 12


def declared(read: LineRead, line: str, vote: VoteSpec) -> LineRead:
    """`read`, or the answers a declaring lead puts on the rest of the line."""
    if read.hits or read.bare_number is not None:
        return read
    m = _FIRST_DIGIT.search(line)
    if m is None or m.start() == 0:
        return read
    lead = line[: m.start()]
    if len(lead.split()) > _MAX_LEAD_WORDS or _LEAD_WORDS.search(lead) is None:
        return read
    if _NEGATED.search(lead):
        return read  # "I don't vote 1-B"
    rest = grammar.read_line(line[m.start() :], vote)
    if rest.bare_number is not None:  # "Voting 3." and the answer on the next line
        return LineRead((), lead, bare_number=rest.bare_number)
    hits = rest.hits
    if not hits:
        return read
    last = max(h.end for h in hits) + m.start()
    goes_on = _GOES_ON.match(line, last) and not _REASON.match(line, last)
    if hits[-1].text is None and goes_on:
        return read  # "Vote 1-B seems wrong": the line goes on about it
    shifted = tuple(
        replace(h, start=h.start + m.start(), end=h.end + m.start(), text_at=h.text_at + m.start())
        for h in hits
    )
    return LineRead(shifted, lead)
