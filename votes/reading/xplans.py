"""`[X]` ballots against the thread: plans defined earlier, proxies to earlier posters.

`read_xlines` turns one post's vote lines (xlines.scan_lines) into Answers and
Flags for the vote's `lines` prompts, asking a `PlanBook` (the thread's plans
defined before this post) and `Posters` (who posted before it) what a one-line
block names. The rules are docs/xballots.md, "Plans" and "Proxies".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from . import xlines
from .bbcode import Doc
from .social import Posters
from .text import bare
from .types import Answer, Flag, Partition, PromptKind, PromptSpec, Proxies, VoteSpec, XLine
from .xfold import unique
from .xlines import PLAN, Block, VLine

# No ballot holds more vote lines than this (the biggest plans run to a few dozen): a
# post with more is held back whole before plans and proxies are looked up for each.
MAX_LINES = 400
_POSSESSIVE = re.compile(r"(?i)(?P<who>[^\n]{1,60}?)['\u2019]s?[ \t]+plan[ \t.!]*")
_PIN = re.compile(r"[ \t]*(?P<pin>\^)?[ \t]*@?(?P<name>[^\n]+?)[ \t.!]*")


@dataclass(frozen=True, slots=True)
class PlanDef:
    name: str  # "Plan Quiet Hours"
    text: str  # the entry: "Plan Quiet Hours\n-Rest\n-Read"
    author: str  # case-folded
    task: str | None = None


class PlanBook:
    """The plans defined in the window before one post: name key -> definitions in order."""

    def __init__(
        self, lookup: Callable[[str], list[PlanDef]], by_author: Callable[[str], list[PlanDef]]
    ):
        self._lookup = lookup
        self._by_author = by_author

    def plan(self, name: str) -> PlanDef | None:
        """The plan in force: its first author's latest definition."""
        defs = self._lookup(plan_key(name))
        if not defs:
            return None
        first = defs[0].author
        return [d for d in defs if d.author == first][-1]

    def by(self, author: str) -> PlanDef | None:
        defs = self._by_author(author.casefold())
        return defs[-1] if defs else None


NO_PLANS = PlanBook(lambda key: [], lambda author: [])


def plan_key(name: str) -> str:
    """'Plan: Quiet Hours', 'plan quiet hours' and 'Quiet Hours!' are one plan."""
    key = bare(name)
    return key[4:] if key.startswith("plan") and len(key) > 4 else key


@dataclass(slots=True)
class XRead:
    answers: list[Answer] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    proxy: tuple[str, bool] | None = None  # the whole post follows this voter
    consumed: list[tuple[int, int]] = field(default_factory=list)
    kept: list[tuple[int, int]] = field(default_factory=list)
    # Plans proposed here and not voted for: what the audit lists for a post otherwise
    # read as no vote ("proposes Plan Invade").
    proposed: list[str] = field(default_factory=list)


def definitions(doc: Doc, vote: VoteSpec, author: str) -> list[PlanDef]:
    """The plans a post defines: `[X] Plan Name` blocks with sub-lines, and proposals."""
    return _defined_in(xlines.scan_lines(doc, vote), author)


def _defined_in(scanned: xlines.Scanned, author: str) -> list[PlanDef]:
    who = author.casefold()
    out = [PlanDef(p.name, _plan_text(p.name, p.lines), who) for p in scanned.proposals if p.lines]
    for block in scanned.blocks:
        m = PLAN.fullmatch(block.head.text)
        if m is not None and len(block.lines) > 1:
            name = "Plan " + m.group("name")
            sub = [(vl.depth - block.head.depth, vl.text) for vl in block.lines[1:]]
            text = _plan_text(block.head.text, sub)
            out.append(PlanDef(name, text, who, block.head.task))
    return out


def _plan_text(name: str, lines: list[tuple[int, str]]) -> str:
    if not lines:
        return name
    top = min(d for d, _ in lines)
    return "\n".join([name, *("-" * (1 + d - top) + t for d, t in lines)])


def read_xlines(doc: Doc, vote: VoteSpec, author: str, posters: Posters, plans: PlanBook) -> XRead:
    """The `lines` prompts' answers in one post's own text."""
    scanned = xlines.scan_lines(doc, vote)
    out = XRead(consumed=scanned.consumed, kept=scanned.kept)
    if not scanned.blocks and not scanned.odd and not scanned.proposals:
        return out
    if sum(len(b.lines) for b in scanned.blocks) > MAX_LINES:
        out.flags = [_too_many(doc, scanned, vote)]
        return out
    out.proposed = [p.name for p in scanned.proposals if plans.plan(p.name) is None]
    _proposals_copied(scanned, vote, plans)
    whole = _whole_post_proxy(scanned.blocks, vote, posters, plans, author)
    if whole is not None and not scanned.odd:
        out.proxy = whole
        return out
    by_prompt: dict[int, list[Block]] = {}
    for block in scanned.blocks:
        by_prompt.setdefault(block.prompt, []).append(block)
    # A look-alike cannot say which prompt it meant: the first [X] prompt holds it.
    first_lines = next(p.number for p in vote.prompts if p.kind is PromptKind.LINES)
    reader = _Resolver(author, posters, plans, _defined_in(scanned, author))
    for prompt in vote.prompts:
        blocks = by_prompt.get(prompt.number, [])
        odd = scanned.odd if prompt.number == first_lines else []
        if prompt.kind is PromptKind.LINES and (blocks or odd):
            _read_prompt(doc, prompt, blocks, odd, reader, out)
    return out


def _read_prompt(
    doc: Doc,
    prompt: PromptSpec,
    blocks: list[Block],
    odd: list[tuple[int, int, str]],
    reader: _Resolver,
    out: XRead,
) -> None:
    """One prompt's answer, or a flag (a look-alike, an unplaced name) suggesting it."""
    lines, flags = reader.prompt(prompt, blocks)
    spans = tuple(doc.span(*b.span) for b in blocks)
    reason = f"{len(lines)} [X] entr{'y' if len(lines) == 1 else 'ies'}"
    answer = Answer(prompt.number, spans=spans, reason=reason, lines=tuple(lines))
    suggestion = answer if lines else None
    if odd:
        start, end, why = odd[0]
        reason = f"{why}: '{doc.text[start:end].strip()[:80]}'; held back for a moderator"
        out.flags.append(Flag(prompt.number, reason, suggestion, (doc.span(start, end),)))
    elif flags:
        why, span = flags[0]
        out.flags.append(Flag(prompt.number, why, suggestion, (doc.span(*span),)))
    elif lines:
        out.answers.append(answer)


def _proposals_copied(scanned: xlines.Scanned, vote: VoteSpec, plans: PlanBook) -> None:
    """A proposed plan copied after it was proposed is a vote for that plan (as NetTally
    reads it): the copy becomes a one-line block naming the plan, resolved as any."""
    first = next(p.number for p in vote.prompts if p.kind is PromptKind.LINES)
    copied = [p for p in scanned.proposals if plans.plan(p.name) is not None]
    for p in copied:
        line = xlines.VLine(0, p.name, None, None, None, False, p.start, p.end)
        scanned.blocks.append(Block(first, [line]))
    if copied:
        scanned.blocks.sort(key=lambda b: b.span[0])


def _too_many(doc: Doc, scanned: xlines.Scanned, vote: VoteSpec) -> Flag:
    """A post of more vote lines than any ballot holds: held back whole, unresolved."""
    first, last = scanned.blocks[0].span[0], scanned.blocks[-1].span[1]
    reason = f"more than {MAX_LINES} [X] lines in one post; held back for a moderator"
    return Flag(None, reason, spans=(doc.span(first, last),))


def _whole_post_proxy(
    blocks: list[Block], vote: VoteSpec, posters: Posters, plans: PlanBook, author: str
) -> tuple[str, bool] | None:
    """A post whose one vote line names an earlier poster (and no earlier plan)."""
    if len(blocks) != 1 or len(blocks[0].lines) != 1:
        return None
    prompt = vote.prompt(blocks[0].prompt)
    if prompt is None or prompt.proxies is Proxies.OFF:
        return None
    m = _PIN.fullmatch(blocks[0].head.text)
    if m is None or plans.plan(m.group("name")) is not None or PLAN.fullmatch(m.group("name")):
        return None
    name = posters.get(m.group("name").strip().casefold())
    if name is None or name.casefold() == author.casefold():
        return None
    return (name, bool(m.group("pin")) or prompt.proxies is Proxies.PINNED)


class _Resolver:
    """What the blocks of one post say for one prompt, plans and proxies resolved."""

    def __init__(self, author: str, posters: Posters, plans: PlanBook, own: list[PlanDef]):
        self.author = author.casefold()
        self.posters = posters
        self.plans = plans
        # Plans this post defines itself: "[X] Plan A" further on names the same entry.
        self.own = {plan_key(d.name): d for d in own}

    def prompt(
        self, prompt: PromptSpec, blocks: list[Block]
    ) -> tuple[list[XLine], list[tuple[str, tuple[int, int]]]]:
        """The entries in the order written; with a `post` partition the plain lines
        are one entry, standing where the first of them stood."""
        lines: list[XLine | None] = []
        flags: list[tuple[str, tuple[int, int]]] = []
        plain: list[Block] = []
        for block in blocks:
            got = self._special(prompt, block)
            if isinstance(got, str):
                flags.append((got, block.span))
            elif got is not None:
                lines.append(got)
            elif prompt.partition is Partition.POST:
                lines += [] if plain else [None]  # where the post's entry stands
                plain.append(block)
            else:
                lines.extend(xlines.entries([block], prompt))
        whole = xlines.entries(plain, prompt)
        out = [x for line in lines for x in ([line] if line is not None else whole)]
        return list(unique(out)), flags

    def _special(self, prompt: PromptSpec, block: Block) -> XLine | str | None:
        """A plan defined or named, or a proxy: its entry; a reason to hold back; None: plain."""
        head = block.head
        m = PLAN.fullmatch(head.text)
        if m is not None and len(block.lines) > 1:
            return self._defined(block, m.group("name"))
        if len(block.lines) > 1:
            return None
        pm = _PIN.fullmatch(head.text)
        if pm is None:
            return None
        name, pinned = pm.group("name"), bool(pm.group("pin"))
        found: PlanDef | None = self.plans.plan(name) or self.own.get(plan_key(name))
        if found is None and (pos := _POSSESSIVE.fullmatch(name)) is not None:
            name = pos.group("who").strip().lstrip("@")  # "Anya's plan": hers, else her vote
            found = self.plans.by(name)
        if found is not None:
            task = head.task or found.task
            return _mark_as(head, XLine(found.text, task=task, plan=found.name))
        if m is not None:
            name = m.group("name")  # "[X] Plan Anya" with no such plan: Anya's vote
        return self._proxy(prompt, head, name, pinned, named_plan=m is not None)

    def _defined(self, block: Block, name: str) -> XLine | str:
        """`[X] Plan Name` with sub-lines: the plan, defined here and voted for."""
        owner = self.posters.get(name.strip().casefold())
        if owner is not None and owner.casefold() != self.author:
            return f"a plan named after {owner}, written by someone else; held back"
        head = block.head
        sub = [(vl.depth - head.depth, vl.text) for vl in block.lines[1:]]
        plan = "Plan " + name
        return _mark_as(head, XLine(_plan_text(head.text, sub), task=head.task, plan=plan))

    def _proxy(
        self, prompt: PromptSpec, head: VLine, name: str, pinned: bool, *, named_plan: bool
    ) -> XLine | str | None:
        if prompt.proxies is not Proxies.OFF and name.strip().casefold() == self.author:
            return f"'[X] {name.strip()}' names the voter themself; held back for a moderator"
        who = self.posters.get(name.strip().casefold())
        if prompt.proxies is not Proxies.OFF and who is not None:
            pinned = pinned or prompt.proxies is Proxies.PINNED
            return XLine(who, task=head.task, refers=who, pinned=pinned, rank=head.rank)
        if named_plan:
            return f"names {head.text!r}, which no post defined earlier in this vote; held back"
        return None


def _mark_as(head: VLine, x: XLine) -> XLine:
    """The entry with the marker of the line that named it ([#2] Plan Name: ranked second)."""
    if head.rank is None and head.score is None and not head.against:
        return x
    return replace(x, rank=head.rank, score=head.score, against=head.against)
