"""Which option of a copied vote block the poster marked (rule 3).

Players copy the quest master's vote block and mark their choice: the option
line in bold, colour or underline, a ticked box (`[X]` against `[ ]`), an arrow
(`<-`, `<-- this one`) or `(this)`. A line counts as marked when it carries a
mark its sibling option lines do not: a block that is bold throughout marks
nothing.
"""

from __future__ import annotations

import re

from .bbcode import Doc

_TICKED = re.compile(r"[ \t]*\[[xX\u2713\u2714\u2612\u2611]\]")
_POINTED = re.compile(
    r"(?i)(?:(?:<-{1,3}|<=|\u2190)[ \t]*(?:this(?:[ \t]+one)?)?|\(this(?:[ \t]+one)?\))[ \t.!]*$"
)
_FORMATTED = re.compile(r"(?i)\[(?:b|u|i|color|highlight|size)\b")


def line_marks(doc: Doc, s: int, e: int) -> frozenset[str]:
    """The kinds of mark on own-text line [s, e): 'ticked', 'pointed', 'formatted'."""
    line = doc.text[s:e]
    found = set()
    if _TICKED.match(line):
        found.add("ticked")
    if _POINTED.search(line):
        found.add("pointed")
    if doc.body and _FORMATTED.search(_body_of_line(doc, s, e)):
        found.add("formatted")
    return frozenset(found)


def _body_of_line(doc: Doc, s: int, e: int) -> str:
    """The body's line around own-text line [s, e), tags included."""
    start, end = doc.span(s, e)
    line_start = doc.body.rfind("\n", 0, start) + 1
    line_end = doc.body.find("\n", end)
    return doc.body[line_start : len(doc.body) if line_end < 0 else line_end]


def marked(all_marks: list[frozenset[str]], prompt_marks: frozenset[str]) -> list[bool]:
    """For each option line, whether the poster marked it.

    A mark on every option line and on the prompt line too is the block's
    formatting, not a choice; on every option line but not the prompt, every
    option is marked (a moderator sorts out two marks on a one-answer prompt).
    """
    kinds = set().union(*all_marks) if all_marks else set()
    shared = {k for k in kinds if all(k in m for m in all_marks) and k in prompt_marks}
    shared |= {k for k in kinds if k != "formatted" and all(k in m for m in all_marks)}
    return [bool(m - shared) for m in all_marks]
