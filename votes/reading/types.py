"""Plain data crossing the edge of the reading package.

Everything here is immutable and JSON-serialisable so that a Reading can be
stored in a row, compared between runs (determinism), and fed back into a
recount without touching the post again. Nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# Defined once, in chapters (pure Python too), for the models, forms and importers
# as well; re-exported here because every part of the reader speaks of it.
from chapters.kinds import Method as Method
from chapters.kinds import Partition as Partition
from chapters.kinds import PromptKind as PromptKind
from chapters.kinds import Proxies as Proxies

# Bump whenever a change to the rules could change any Reading: every stored
# Reading carries the version it was made with, and the sweeper re-reads posts
# whose Reading is older than this.
RULES_VERSION = 7  # 7: held: asked statements, a ballot's loose rest, [X] lines, bare +1


class PostKind(StrEnum):
    BALLOT = "ballot"  # the voter's first post in the window with answers
    AMENDMENT = "amendment"  # a later post that changes some answers
    REPLACEMENT = "replacement"  # says it replaces the earlier ballot whole
    ENDORSEMENT = "endorsement"  # copies the answers of the post it quotes
    PROXY = "proxy"  # follows another voter's counted ballot
    NOT_BALLOT = "not_ballot"
    TALLY = "tally"  # a tally someone posted: never a ballot
    QUEST_MASTER = "quest_master"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    letter: str  # upper case, "A", "B", …
    text: str


@dataclass(frozen=True, slots=True)
class PromptSpec:
    number: int
    kind: PromptKind
    text: str
    options: tuple[OptionSpec, ...] = ()
    # `lines` prompts only (quest-thread/1): what one vote is, what "[X] Name" does,
    # and how ranked lines are decided.
    partition: Partition = Partition.BLOCK
    proxies: Proxies = Proxies.ON
    method: Method = Method.SCHULZE

    def option(self, letter: str) -> OptionSpec | None:
        return next((o for o in self.options if o.letter == letter.upper()), None)


@dataclass(frozen=True, slots=True)
class VoteSpec:
    """The vote a post is read against."""

    prompts: tuple[PromptSpec, ...]
    quest_master: str
    post_id: int | None = None  # the quest master's post that holds the prompts
    opens_at: datetime | None = None
    closes_at: datetime | None = None  # None: open until closed by hand

    def prompt(self, number: int) -> PromptSpec | None:
        return next((p for p in self.prompts if p.number == number), None)


@dataclass(frozen=True, slots=True)
class Revision:
    body: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PostIn:
    """One post of the thread as the reader sees it."""

    id: int  # the post's id in the thread (forum post id, or position for a paste)
    author: str
    posted_at: datetime
    body: str  # forum BBCode, the current text
    edited_at: datetime | None = None  # last edit, when that is all we know
    # Earlier bodies, oldest first, when the app stored them. The current body
    # is `body`; revisions[i].at is when revisions[i] was replaced.
    revisions: tuple[Revision, ...] = ()


Span = tuple[int, int]  # [start, end) character offsets into PostIn.body


@dataclass(frozen=True, slots=True, init=False)
class XLine:
    """One entry a voter supports in a `lines` prompt, as the prompt's partition cut it.

    `text` keeps sub-lines' nesting dashes ("Repair the reactor\n-With spare parts")
    and drops markers, task tags and BBCode. `refers` is a proxy inside a ballot
    ("[X] Anya" beside other lines): the fold puts that voter's lines in its place.
    """

    text: str
    task: str | None = None  # "[X][Ship] ..." -> "Ship"
    plan: str | None = None  # the plan this entry is ("Plan Quiet Hours"), as defined
    rank: int | None = None  # [#1], [1]: 1 is first
    score: int | None = None  # [75%]: 0-100
    against: bool = False  # [-]: approval voting's disapproval
    refers: str | None = None  # voter name: their lines stand here (resolved by the fold)
    pinned: bool = False  # with refers: as that voter's lines stood at this post

    def __init__(  # written out, as Answer's is
        self,
        text: str,
        task: str | None = None,
        plan: str | None = None,
        rank: int | None = None,
        score: int | None = None,
        against: bool = False,
        refers: str | None = None,
        pinned: bool = False,
    ) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "task", task)
        object.__setattr__(self, "plan", plan)
        object.__setattr__(self, "rank", rank)
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "against", against)
        object.__setattr__(self, "refers", refers)
        object.__setattr__(self, "pinned", pinned)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text}
        for name in ("task", "plan", "rank", "score", "refers"):
            if getattr(self, name) is not None:
                d[name] = getattr(self, name)
        if self.against:
            d["against"] = True
        if self.pinned:
            d["pinned"] = True
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> XLine:
        return cls(
            text=d["text"],
            task=d.get("task"),
            plan=d.get("plan"),
            rank=d.get("rank"),
            score=d.get("score"),
            against=d.get("against", False),
            refers=d.get("refers"),
            pinned=d.get("pinned", False),
        )


@dataclass(frozen=True, slots=True, init=False)
class Answer:
    prompt: int
    letters: tuple[str, ...] = ()  # single: one; multi: sorted; ranked: in order
    text: str | None = None  # write-in text, as the voter wrote it (BBCode stripped)
    joins: str | None = None  # write-in that joins this poster's entry ("Same as X")
    spans: tuple[Span, ...] = ()
    reason: str = ""  # why it was read so, for people: "numbered answer '1-B'"
    lines: tuple[XLine, ...] = ()  # a `lines` prompt: the entries supported, in order

    # Written out (init=False), not generated: in the mypyc build (compiled.py) a
    # class's own __init__ is compiled and dataclasses' generated one is not, and
    # the reader builds one for every answer it finds (tests/reading/test_inits.py
    # checks each written-out __init__ against the fields). Frozen: the fields are
    # set through object.__setattr__, as the generated __init__ does.
    def __init__(
        self,
        prompt: int,
        letters: tuple[str, ...] = (),
        text: str | None = None,
        joins: str | None = None,
        spans: tuple[Span, ...] = (),
        reason: str = "",
        lines: tuple[XLine, ...] = (),
    ) -> None:
        object.__setattr__(self, "prompt", prompt)
        object.__setattr__(self, "letters", letters)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "joins", joins)
        object.__setattr__(self, "spans", spans)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "lines", lines)

    def to_json(self) -> dict[str, Any]:
        d = {
            "prompt": self.prompt,
            "letters": list(self.letters),
            "text": self.text,
            "joins": self.joins,
            "spans": [list(s) for s in self.spans],
            "reason": self.reason,
        }
        if self.lines:  # absent otherwise: stored readings of lettered votes are unchanged
            d["lines"] = [line.to_json() for line in self.lines]
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Answer:
        return cls(
            prompt=d["prompt"],
            letters=tuple(d.get("letters") or ()),
            text=d.get("text"),
            joins=d.get("joins"),
            spans=tuple(tuple(s) for s in d.get("spans") or ()),
            reason=d.get("reason", ""),
            lines=tuple(XLine.from_json(x) for x in d.get("lines") or ()),
        )


@dataclass(frozen=True, slots=True, init=False)
class Flag:
    """An answer held back for a moderator: not counted until one decides."""

    prompt: int | None  # None: the whole post is held back
    reason: str  # for people: "option D does not exist in prompt 1"
    suggestion: Answer | None = None  # what a moderator accepts in one click
    spans: tuple[Span, ...] = ()

    def __init__(  # written out, as Answer's is
        self,
        prompt: int | None,
        reason: str,
        suggestion: Answer | None = None,
        spans: tuple[Span, ...] = (),
    ) -> None:
        object.__setattr__(self, "prompt", prompt)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "suggestion", suggestion)
        object.__setattr__(self, "spans", spans)

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "reason": self.reason,
            "suggestion": self.suggestion.to_json() if self.suggestion else None,
            "spans": [list(s) for s in self.spans],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Flag:
        sug = d.get("suggestion")
        return cls(
            prompt=d.get("prompt"),
            reason=d["reason"],
            suggestion=Answer.from_json(sug) if sug else None,
            spans=tuple(tuple(s) for s in d.get("spans") or ()),
        )


@dataclass(frozen=True, slots=True, init=False)
class Reading:
    post_id: int
    author: str
    kind: PostKind
    answers: tuple[Answer, ...] = ()
    flags: tuple[Flag, ...] = ()
    endorses: int | None = None  # post whose answers were copied into `answers`
    proxy_of: str | None = None  # voter whose counted ballot this voter follows
    proxy_pinned: bool = False  # "[X] ^Name": as that ballot stood at this post
    # Why a post with a ballot shape is not counted ("posted after the vote
    # closed", "quest master's post", "tally post"); None when not excluded.
    excluded: str | None = None
    # What a post read as chatter says about the vote without amounting to a
    # ballot ("names option words of prompt 1: 'tractors'"): the audit lists these
    # posts so a moderator can sweep them. Empty for counted and held posts.
    mentions: tuple[str, ...] = ()
    rules_version: int = RULES_VERSION

    def __init__(  # written out, as Answer's is: one for every post read
        self,
        post_id: int,
        author: str,
        kind: PostKind,
        answers: tuple[Answer, ...] = (),
        flags: tuple[Flag, ...] = (),
        endorses: int | None = None,
        proxy_of: str | None = None,
        proxy_pinned: bool = False,
        excluded: str | None = None,
        mentions: tuple[str, ...] = (),
        rules_version: int = RULES_VERSION,
    ) -> None:
        object.__setattr__(self, "post_id", post_id)
        object.__setattr__(self, "author", author)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "answers", answers)
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "endorses", endorses)
        object.__setattr__(self, "proxy_of", proxy_of)
        object.__setattr__(self, "proxy_pinned", proxy_pinned)
        object.__setattr__(self, "excluded", excluded)
        object.__setattr__(self, "mentions", mentions)
        object.__setattr__(self, "rules_version", rules_version)

    def to_json(self) -> dict[str, Any]:
        return {
            "post_id": self.post_id,
            "author": self.author,
            "kind": str(self.kind),
            "answers": [a.to_json() for a in self.answers],
            "flags": [f.to_json() for f in self.flags],
            "endorses": self.endorses,
            "proxy_of": self.proxy_of,
            "proxy_pinned": self.proxy_pinned,
            "excluded": self.excluded,
            "mentions": list(self.mentions),
            "rules_version": self.rules_version,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Reading:
        return cls(
            post_id=d["post_id"],
            author=d["author"],
            kind=PostKind(d["kind"]),
            answers=tuple(Answer.from_json(a) for a in d.get("answers") or ()),
            flags=tuple(Flag.from_json(f) for f in d.get("flags") or ()),
            endorses=d.get("endorses"),
            proxy_of=d.get("proxy_of"),
            proxy_pinned=d.get("proxy_pinned", False),
            excluded=d.get("excluded"),
            mentions=tuple(d.get("mentions") or ()),
            rules_version=d.get("rules_version", RULES_VERSION),
        )


class DecisionAction(StrEnum):
    ACCEPT = "accept"  # count the flag's suggestion
    SET = "set"  # count the moderator's own answer
    REJECT = "reject"  # count nothing from this flag (or post)
    PROXY = "proxy"  # the whole post: its author follows `proxy_of`, as "[X] Name" does


@dataclass(frozen=True, slots=True)
class Decision:
    """A moderator's ruling on a post or one prompt of it; an input to every recount.

    Any post in the window may be ruled on, whatever it was read as: a ruling
    on a post read as chatter counts for its author like a ballot posted there.
    """

    post_id: int
    prompt: int | None  # None: the whole post
    action: DecisionAction
    answer: Answer | None = None  # for SET (and ACCEPT, filled from the suggestion)
    proxy_of: str | None = None  # for PROXY: the voter whose ballot the author follows


@dataclass(frozen=True, slots=True)
class Counted:
    """One voter's counted answer to one prompt, and the post that gave it."""

    answer: Answer
    post_id: int


@dataclass(frozen=True, slots=True)
class HeldBack:
    post_id: int
    author: str
    prompt: int | None
    reason: str
    suggestion: Answer | None = None


@dataclass(frozen=True, slots=True)
class Excluded:
    post_id: int
    author: str
    reason: str


@dataclass(slots=True)
class Folded:
    """The result of folding a vote's Readings: one ballot per voter."""

    # voter -> prompt number -> what is counted
    ballots: dict[str, dict[int, Counted]] = field(default_factory=dict)
    flagged: list[HeldBack] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
