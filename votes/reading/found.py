"""What the reader finds in one post before settling it: the types every part shares.

`Found` is one answer (or a reason to hold one back) at own-text offsets;
`Draft` is what the line walk (lines.py) leaves for prose placement
(placing.py), endorsements (endorse.py) and settling (settle.py). This module
imports none of those, so each of them can import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .bbcode import Doc

MAX_BODY = 100_000  # a longer post is held back unread (rule 11)


@dataclass(slots=True, init=False)
class Found:
    prompt: int
    start: int  # own-text offsets
    end: int
    letters: tuple[str, ...] = ()
    text: str | None = None
    problem: str | None = None
    suggestion: tuple[str, ...] = ()
    how: str = ""
    discussed: bool = False  # mentioned, not voted: yields to any other answer to the prompt
    revises: bool = False  # "EDIT: changed to 1-B": replaces this post's earlier answers to it

    def __init__(  # written out: see types.Answer
        self,
        prompt: int,
        start: int,
        end: int,
        letters: tuple[str, ...] = (),
        text: str | None = None,
        problem: str | None = None,
        suggestion: tuple[str, ...] = (),
        how: str = "",
        discussed: bool = False,
        revises: bool = False,
    ) -> None:
        self.prompt, self.start, self.end = prompt, start, end
        self.letters, self.text, self.problem = letters, text, problem
        self.suggestion, self.how = suggestion, how
        self.discussed, self.revises = discussed, revises


@dataclass(slots=True, init=False)
class Draft:
    """What the lines of one body say, before the thread is consulted."""

    doc: Doc
    found: list[Found] = field(default_factory=list)
    prose_paragraphs: list[tuple[int, int, int | None]] = field(default_factory=list)
    unknown: list[tuple[int, int]] = field(default_factory=list)
    mentions: list[Found] = field(default_factory=list)  # "I think 1-B is best"
    block_quoted: bool = False
    numbered: bool = False  # answers in a numbered or quoted-prompt shape were found

    def __init__(  # written out: see types.Answer (one per post read)
        self, doc: Doc, block_quoted: bool = False, numbered: bool = False
    ) -> None:
        self.doc, self.block_quoted, self.numbered = doc, block_quoted, numbered
        self.found, self.prose_paragraphs, self.unknown, self.mentions = [], [], [], []
