"""Posts labelled by hand as ballot or chatter, and what the reader made of each.

`labelled_posts.json` (beside this module) holds a person's reading of every post of
the public example, the two seed pastes and a set of forum-style posts: `ballot`
(the poster votes, in any shape) or `chatter` (no vote). This module reads each
source with `read_thread` and classifies every labelled post in the vote window:

- a ballot is `counted` (answers, an endorsement or a proxy), `held` (flags only)
  or `lost` (neither: read as not a ballot and not held back);
- chatter stays `chatter` (no answers, no flags), is `held` (a false hold) or
  `counted` (a false count).

Issue 9's targets: no ballot lost, under 3% of chatter held. Pure: no Django.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from votes.importers.paste import parse_paste
from votes.reading import read_thread
from votes.reading.types import (
    Answer,
    OptionSpec,
    PostIn,
    PromptKind,
    PromptSpec,
    Reading,
    VoteSpec,
)

from .example import SHARED

LABELS = Path(__file__).with_name("labelled_posts.json")
HELD_TARGET = 0.03  # under 3% of chatter held back

BALLOT, CHATTER, QUEST_MASTER = "ballot", "chatter", "quest_master"
COUNTED, HELD, LOST = "counted", "held", "lost"


@dataclass(frozen=True, slots=True)
class Label:
    """What a person says a post is; `expect` maps prompt numbers to obvious answers."""

    kind: str  # BALLOT, CHATTER or QUEST_MASTER
    in_window: bool = True  # False: posted before the vote opened (labelled, not measured)
    expect: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: Mapping) -> Label:
        return cls(d["label"], d.get("window", "in") == "in", d.get("expect") or {})


def outcome(reading: Reading, label: Label) -> str | None:
    """How the reader treated a labelled post; None when the post is not measured.

    Ballot: COUNTED, HELD or LOST. Chatter: CHATTER, HELD (false hold) or
    COUNTED (false count). Answers beat flags: a post with both counts.
    """
    if label.kind not in (BALLOT, CHATTER) or not label.in_window:
        return None
    if reading.answers or reading.proxy_of or reading.endorses is not None:
        return COUNTED
    if reading.flags:
        return HELD
    return LOST if label.kind == BALLOT else CHATTER


def _shown(answer: Answer, want: str) -> str:
    return ">".join(answer.letters) if ">" in want else "".join(answer.letters)


def _matches(answer: Answer, want: str) -> bool:
    if want.startswith("~"):
        return answer.text is not None and want[1:].casefold() in answer.text.casefold()
    return answer.text is None and _shown(answer, want) == want


def answer_faults(reading: Reading, label: Label) -> tuple[list[int], list[str]]:
    """Expected answers that vanished (no answer, no flag) and counted answers that differ.

    Only a ballot's `expect` entries keyed by a prompt number are checked ("B", "AC",
    "C>A>B", "~phrase" for a write-in); "follows" and other keys are notes.
    """
    if label.kind != BALLOT or not label.in_window or reading.proxy_of:
        return [], []
    got = {a.prompt: a for a in reading.answers}
    flagged = {f.prompt for f in reading.flags}
    lost, wrong = [], []
    for key, want in label.expect.items():
        if not key.isdigit():
            continue
        number = int(key)
        answer = got.get(number)
        if answer is None and number not in flagged and None not in flagged:
            lost.append(number)
        elif answer is not None and not _matches(answer, want):
            wrong.append(f"{number}: read {answer.text or _shown(answer, want)!r}, want {want!r}")
    return lost, wrong


@dataclass(slots=True)
class Measure:
    """One source's figures: every measured post's outcome, by post id."""

    source: str
    labels: dict[int, str] = field(default_factory=dict)  # post id -> BALLOT / CHATTER
    outcomes: dict[int, str] = field(default_factory=dict)
    answers_lost: dict[int, list[int]] = field(default_factory=dict)  # post -> prompts
    answers_wrong: dict[int, list[str]] = field(default_factory=dict)

    def ids(self, kind: str, result: str) -> list[int]:
        return [p for p, r in self.outcomes.items() if r == result and self.labels[p] == kind]

    def count(self, kind: str) -> int:
        return sum(1 for p in self.outcomes if self.labels[p] == kind)

    @property
    def chatter_held(self) -> list[int]:
        return self.ids(CHATTER, HELD)

    @property
    def ballots_lost(self) -> list[int]:
        return self.ids(BALLOT, LOST)

    def line(self) -> str:
        return summary_line(
            len(self.chatter_held), self.count(CHATTER), len(self.ballots_lost), self.count(BALLOT)
        )


def summary_line(held: int, chatter: int, lost: int, ballots: int) -> str:
    share = 100 * held / chatter if chatter else 0.0
    return f"chatter held: {held} of {chatter} ({share:.1f}%)  ballots lost: {lost} of {ballots}"


def measure(source: str, readings: Iterable[Reading], labels: Mapping[int, Label]) -> Measure:
    """Classify every labelled post among `readings` (posts without a label are skipped)."""
    result = Measure(source)
    for reading in readings:
        label = labels.get(reading.post_id)
        found = outcome(reading, label) if label is not None else None
        if found is None:
            continue
        result.labels[reading.post_id] = label.kind
        result.outcomes[reading.post_id] = found
        lost, wrong = answer_faults(reading, label)
        if lost and found != LOST:  # a lost ballot is counted once, as a ballot
            result.answers_lost[reading.post_id] = lost
        if wrong:
            result.answers_wrong[reading.post_id] = wrong
    return result


def pooled_line(measures: Sequence[Measure]) -> str:
    return summary_line(
        sum(len(m.chatter_held) for m in measures),
        sum(m.count(CHATTER) for m in measures),
        sum(len(m.ballots_lost) for m in measures),
        sum(m.count(BALLOT) for m in measures),
    )


# -- the labelled sources ---------------------------------------------------


@cache
def sources(path: Path = LABELS) -> dict[str, dict]:
    return json.loads(path.read_text(encoding="utf-8"))["sources"]


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _document(source: Mapping) -> dict:
    """The source's thread as quest-thread/1: a file, a paste read by parse_paste, or inline."""
    if source["read"] == "inline":
        return source["thread"]
    text = (SHARED / source["path"]).read_text(encoding="utf-8")
    if source["read"] == "paste":
        return parse_paste(text)  # the app's own paste importer
    return json.loads(text)


def _prompts(vote: Mapping) -> tuple[PromptSpec, ...]:
    return tuple(
        PromptSpec(
            p["number"],
            PromptKind(p["kind"]),
            p["text"],
            tuple(OptionSpec(o["letter"], o["text"]) for o in p.get("options") or ()),
        )
        for p in vote["prompts"]
    )


def _vote(document: Mapping, source: Mapping) -> VoteSpec:
    """The document's vote; or, for a paste with none, another source's prompts, always open."""
    quest_master = document["quest"]["quest_master"]
    borrowed = source.get("vote_from")
    if borrowed:
        vote = _first_vote(_document(sources()[borrowed]))
        return VoteSpec(prompts=_prompts(vote), quest_master=quest_master)
    vote = _first_vote(document)
    return VoteSpec(
        prompts=_prompts(vote),
        quest_master=quest_master,
        post_id=vote["post"],
        opens_at=_when(vote.get("opens_at")),
        closes_at=_when(vote.get("closes_at")),
    )


def _first_vote(document: Mapping) -> Mapping:
    return next(c["vote"] for c in document["chapters"] if c.get("vote"))


def thread(name: str) -> tuple[VoteSpec, list[PostIn]]:
    source = sources()[name]
    document = _document(source)
    posts = [
        PostIn(p["id"], p["author"], _when(p["posted_at"]), p["body"], _when(p.get("edited_at")))
        for p in document["posts"]
    ]
    return _vote(document, source), posts


def labels(name: str) -> dict[int, Label]:
    return {int(k): Label.from_json(v) for k, v in sources()[name]["posts"].items()}


def measure_source(name: str) -> Measure:
    vote, posts = thread(name)
    return measure(name, read_thread(vote, posts), labels(name))


def measure_all() -> list[Measure]:
    return [measure_source(name) for name in sources()]
