"""`[X]` vote lines of `lines` prompts: found, grouped into blocks, cut into entries.

The rules are docs/xballots.md. This module reads one post's own text (quotes,
spoilers, strike-through and code are already left out by bbcode.scan): which
lines are vote lines, their depth, marker and task, which prompt they answer, and
the blocks they form. What needs other posts (plans defined earlier, proxies to
earlier posters) is xplans.py; cutting blocks into entries by the prompt's
partition is `entries` here. Every line that looks like a vote but cannot be
placed becomes a Flag: nothing a voter ticked is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .bbcode import QUOTE_MARK, Doc
from .text import bare
from .types import Partition, PromptKind, PromptSpec, VoteSpec, XLine

# A vote line: nesting dashes (any of - – —, spaced or not), a bracketed marker, the text.
_LINE = re.compile(
    r"[ \t]*(?:[*\u2022][ \t]*)?(?P<dash>(?:[-\u2013\u2014][ \t]*)*)"
    r"\[(?P<mark>[^\[\]\n]{0,8})\][ \t]*(?P<rest>[^\n]*)"
)
_TASK = re.compile(r"\[(?P<task>[^\[\]\n]{1,40})\][ \t]*")
_TICKS = frozenset("xX\u2713\u2714\u2612\u2611\u2705")
# A ballot box written without brackets ("☒ Scout", "☑ Scout"): the same as "[X] Scout".
_BOX = re.compile(r"([ \t]*(?:[-\u2013\u2014][ \t]*)*)[\u2612\u2611\u2705][ \t]*(?=\S)")
_RANK = re.compile(r"#?[ \t]*(\d{1,2})")
_SCORE = re.compile(r"(\d{1,3}(?:[.,]\d+)?)[ \t]*%")
# Shapes that show a voter meant a marker but did not write one: held back.
_LOOKALIKE = re.compile(
    r"[ \t]*(?:[-\u2013\u2014][ \t]*)*"
    r"(?:\([xX\u2713\u2714]\)|\{[xX\u2713\u2714]\}|\[[xX\u2713\u2714]\}|\{[xX\u2713\u2714]\]"
    r"|\[[xX]{2,}\]|\[[xX][?!]\])[ \t]*\S"
)
# "1.", "#2", "Prompt 2:", "2. Who leads?" at the start of a line that is not a vote
# line: the lines below answer that prompt.
_HEADING = re.compile(
    r"(?i)[ \t]*(?:#|prompt|question|vote|part)?[ \t]*(\d{1,2})[ \t]*(?:[.):][ \t]*(?:\S.*)?)?"
)
# An answer to a lettered prompt behind a box ("[X] 2. A"): the line walk reads it.
_LETTERED = re.compile(r"(\d{1,2})[ \t]*[-.):]*[ \t]*([A-Za-z])(?![^\W\d_])")
_PROPOSED = re.compile(
    r"(?i)[ \t]*(?:\[[ \t]?\][ \t]*)?proposed[ \t]+plan\b[ \t]*[:\-\u2013\u2014]?[ \t]*"
    r"(?P<name>\S[^\n]*?)[ \t:]*"
)
PLAN = re.compile(r"(?i)plan\b[ \t]*[:\-\u2013\u2014]?[ \t]*(?P<name>\S[^\n]*?)[ \t.!:]*")


@dataclass(slots=True)
class VLine:
    """One vote line as written."""

    depth: int  # nesting dashes
    text: str  # marker, task tag and dashes dropped
    task: str | None
    rank: int | None
    score: int | None
    against: bool
    start: int  # own-text span of the whole line
    end: int


@dataclass(slots=True)
class Block:
    """A top-level vote line and the deeper lines under it."""

    prompt: int
    lines: list[VLine]

    @property
    def head(self) -> VLine:
        return self.lines[0]

    @property
    def span(self) -> tuple[int, int]:
        return (self.lines[0].start, self.lines[-1].end)


@dataclass(slots=True)
class Proposal:
    """`Proposed Plan: Name` and the lines under it: a plan defined, not voted for."""

    name: str
    lines: list[tuple[int, str]]  # (depth, text)
    start: int
    end: int


@dataclass(slots=True)
class Scanned:
    """The vote lines of one post's own text, before other posts are consulted."""

    blocks: list[Block]
    proposals: list[Proposal]
    odd: list[tuple[int, int, str]]  # (start, end, why) look-alikes and empty markers
    kept: list[tuple[int, int]]  # lines the line walk still reads ("[X] 2. A")
    consumed: list[tuple[int, int]]  # own-text spans no other rule should read


def mark_of(inner: str) -> tuple[str, int | None] | None:
    """What a bracket at the start of a line says: ("x"|"rank"|"score"|"+"|"-"|" ", value)."""
    s = inner.strip()
    if not s:
        return (" ", None)  # "[ ]": a suggestion, unticked
    if len(s) == 1 and s in _TICKS:
        return ("x", None)
    if s in ("+", "-"):
        return (s, None)
    m = _RANK.fullmatch(s)
    if m is not None and 0 < int(m.group(1)) <= 20:
        return ("rank", int(m.group(1)))
    m = _SCORE.fullmatch(s)
    if m is not None:  # "[150%]": as much as a score can say
        return ("score", min(100, round(float(m.group(1).replace(",", ".")))))
    return None  # "[JK]", "[Note]": a word in brackets, not a marker


def may_hold(text: str) -> bool:
    """Cheap test: can this own text hold a vote line or a look-alike at all?"""
    return "[" in text or "(" in text or "{" in text


def scan_lines(doc: Doc, vote: VoteSpec) -> Scanned:
    """The vote lines, proposals and look-alikes of one post's own text."""
    lines_prompts = [p for p in vote.prompts if p.kind is PromptKind.LINES]
    if not lines_prompts or not may_hold(doc.text):
        return Scanned([], [], [], [], [])
    scanner = _Scanner(doc, lines_prompts, {p.number for p in vote.prompts if p.options})
    text = doc.text
    pos = 0
    for line in text.split("\n"):
        scanner.line(line, pos, pos + len(line))
        pos += len(line) + 1
    return scanner.out


class _Scanner:
    """The walk over one post's lines: the prompt headings name, proposals being read."""

    def __init__(self, doc: Doc, prompts: list[PromptSpec], lettered: set[int]) -> None:
        self.doc = doc
        self.prompts = prompts
        self.lettered = lettered
        self.current = prompts[0].number
        self.proposal: Proposal | None = None
        self.joins = False  # whether a deeper vote line here still belongs to the block above
        self.out = Scanned([], [], [], [], [])

    def line(self, line: str, start: int, end: int) -> None:
        if not line.strip() or line.strip() == QUOTE_MARK:
            self.proposal = None
            return
        if not line.lstrip(" \t-\u2013\u2014").startswith("["):
            box = _BOX.match(line)
            line = line if box is None else f"{box.group(1)}[X] {line[box.end() :]}"
        m = _LINE.fullmatch(line)
        mark = mark_of(m.group("mark")) if m is not None else None
        if m is None or mark is None:
            self.proposal = None
            self.joins = False
            self._other(line, start, end, is_marked=m is not None)
        elif self.proposal is not None:  # a line of a proposed plan: defined, not voted
            self.proposal.lines.append((_depth(m.group("dash")), _clean(m.group("rest"))))
            self.proposal.end = end
            self.out.consumed.append((start, end))
        elif mark[0] != " ":  # "[ ] Scout" is a suggestion copied, not ticked
            self._vote(m, mark, start, end)

    def _other(self, line: str, start: int, end: int, *, is_marked: bool) -> None:
        """A line with no marker: a proposal's heading, a look-alike, a prompt heading."""
        pm = _PROPOSED.fullmatch(line)
        if pm is not None:
            self.proposal = Proposal(_plan_name(pm.group("name")), [], start, end)
            self.out.proposals.append(self.proposal)
            self.out.consumed.append((start, end))
        elif _LOOKALIKE.match(line):
            self.out.odd.append((start, end, "a vote line with a marker in an unknown shape"))
            self.out.consumed.append((start, end))
        elif not is_marked:
            self.current = _heading(line, self.prompts, self.current)

    def _vote(self, m: re.Match[str], mark: tuple[str, int | None], start: int, end: int) -> None:
        kind, value = mark
        rest = m.group("rest")
        lm = _LETTERED.match(rest)
        if lm is not None and int(lm.group(1)) in self.lettered:
            self.out.kept.append((start, end))  # "[X] 2. A": the line walk reads it
            return
        task = None
        tm = _TASK.match(rest)
        if tm is not None and mark_of(tm.group("task")) is None:
            task, rest = tm.group("task").strip(), rest[tm.end() :]
        words = _clean(rest[2:] if rest.startswith("[]") else rest)  # "[X][] text": no task
        self.out.consumed.append((start, end))
        proposed = _PROPOSED.fullmatch(words)
        if proposed is not None:  # "[X] Proposed Plan: Name": defined, not voted for
            self.proposal = Proposal(_plan_name(proposed["name"]), [], start, end)
            self.out.proposals.append(self.proposal)
            return
        if not words:
            if not _struck(self.doc, start, end):
                self.out.odd.append((start, end, "a vote marker with nothing after it"))
            return
        rank = value if kind == "rank" else None
        score = value if kind == "score" else None
        depth = _depth(m.group("dash"))
        vl = VLine(depth, words, task, rank, score, kind == "-", start, end)
        _add(self.out.blocks, self.current, vl, joins=self.joins)
        self.joins = True


def _add(blocks: list[Block], prompt: int, vl: VLine, *, joins: bool) -> None:
    """A deeper line joins the block above unless prose came between (`joins` False):
    an unticked `-[ ]` sub-option or a struck line between two ticked ones does not
    part them."""
    last = blocks[-1] if blocks else None
    if last is not None and joins and last.prompt == prompt and vl.depth > last.head.depth:
        last.lines.append(vl)
        return
    blocks.append(Block(prompt, [vl]))


def _depth(dashes: str) -> int:
    return sum(1 for ch in dashes if ch in "-\u2013\u2014")


def _clean(text: str) -> str:
    return " ".join(text.split())


def _plan_name(name: str) -> str:
    return "Plan " + _clean(name).rstrip(":").strip()


def _struck(doc: Doc, start: int, end: int) -> bool:
    """A marker whose text was struck through ("[X] [S]Scout[/S]"): withdrawn, not odd."""
    s, e = doc.span(start, end)
    tail = doc.body[s : min(len(doc.body), e + 200)].lower()
    return "[/s]" in tail or "[/strike]" in tail or "[/spoiler]" in tail


def _heading(line: str, prompts: list[PromptSpec], current: int) -> int:
    """The lines prompt a heading line names ("2.", "Prompt 2", the prompt's words), or current."""
    if len(prompts) < 2:
        return current
    m = _HEADING.fullmatch(line)
    if m is not None and any(p.number == int(m.group(1)) for p in prompts):
        return int(m.group(1))
    key = bare(line)
    if len(key) >= 4:
        for p in prompts:
            pk = bare(p.text)
            if pk and (pk.startswith(key) or key.startswith(pk)):
                return p.number
    return current


def entries(blocks: list[Block], prompt: PromptSpec) -> list[XLine]:
    """One prompt's blocks cut into the entries its partition says a vote is."""
    if prompt.partition is Partition.POST and blocks:
        return [_whole(blocks)]
    out: list[XLine] = []
    for block in blocks:
        if prompt.partition is Partition.BLOCK or len(block.lines) == 1:
            out.append(_block_entry(block))
            continue
        parents: list[VLine] = []
        for vl in block.lines:
            while parents and parents[-1].depth >= vl.depth:
                parents.pop()
            task = vl.task
            if task is None and prompt.partition is Partition.LINE_TASK:
                task = next((p.task for p in reversed(parents) if p.task), None)
            out.append(_entry(vl, vl.text, task))
            parents.append(vl)
    return out


def _block_entry(block: Block) -> XLine:
    head = block.head
    text = "\n".join(_nested(vl, head.depth) for vl in block.lines)
    return _entry(head, text, head.task)


def _whole(blocks: list[Block]) -> XLine:
    top = min(b.head.depth for b in blocks)
    text = "\n".join(_nested(vl, top) for b in blocks for vl in b.lines)
    return _entry(blocks[0].head, text, blocks[0].head.task)


def _nested(vl: VLine, top: int) -> str:
    return "-" * max(0, vl.depth - top) + vl.text


def _entry(vl: VLine, text: str, task: str | None) -> XLine:
    return XLine(text, task=task, rank=vl.rank, score=vl.score, against=vl.against)


def suggestions(doc: Doc, vote: VoteSpec) -> dict[int, list[str]]:
    """The unticked `[ ]` lines of a post (the quest master's vote post) by `lines` prompt,
    sub-lines under their line with their dashes; headings ("2.") say which prompt."""
    prompts = [p for p in vote.prompts if p.kind is PromptKind.LINES]
    out: dict[int, list[str]] = {}
    if not prompts:
        return out
    current, top = prompts[0].number, None
    for line in doc.text.split("\n"):
        m = _LINE.fullmatch(line)
        if m is None or mark_of(m.group("mark")) != (" ", None):
            top = None
            current = (
                current if m is not None or not line.strip() else _heading(line, prompts, current)
            )
            continue
        # A task tag stays: "[Crew] Hold a vote" ticked is "[X] [Crew] Hold a vote".
        words = _clean(m.group("rest"))
        if not words or words.startswith("[]"):
            continue
        depth = _depth(m.group("dash"))
        listed = out.setdefault(current, [])
        if top is None or depth <= top or not listed:
            top = depth
            listed.append(words)
        else:
            listed[-1] += "\n" + "-" * (depth - top) + words
    return out
