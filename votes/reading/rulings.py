"""Moderators' rulings, as the fold applies them to one post.

A ruling (`types.Decision`) may be on any post of the window, whatever the
reader made of it, and on the whole post or one prompt. `in_force` says which
rulings on a post stand; `Given.read(...).ruled(whole)` is what the post gives
once the ruling on the whole of it is applied; `ruled_answer` is what counts
for one prompt. Pure, like the rest of the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from votes.reading.types import Answer, Decision, DecisionAction, Flag, PostKind, Reading


class Ruling(Protocol):
    """A decision as `in_force` needs it: the fold's Decision or the stored row."""

    @property
    def prompt(self) -> int | None: ...

    @property
    def action(self) -> str: ...


_REPLACING = frozenset({DecisionAction.SET, DecisionAction.PROXY, DecisionAction.REJECT})


def in_force[D: Ruling](decisions: Iterable[D]) -> dict[int | None, D]:
    """The rulings that stand on one post, by prompt (None: the whole post).

    `decisions` are that post's, oldest first. A later ruling on the same prompt
    overrules an earlier one; a ruling that replaces the whole post (set, proxy,
    reject) also voids the rulings on single prompts made before it, so the
    latest word always wins. The audit page shows what this returns.
    """
    rulings: dict[int | None, D] = {}
    for decision in decisions:
        if decision.prompt is None and decision.action in _REPLACING:
            rulings.clear()
        rulings[decision.prompt] = decision
    return rulings


def nothing_read(reading: Reading) -> Reading:
    """An excluded post as moderators rule on it: nothing it says counts by itself."""
    return replace(
        reading, kind=PostKind.NOT_BALLOT, answers=(), flags=(), proxy_of=None, endorses=None
    )


@dataclass(frozen=True, slots=True)
class Given:
    """What one post gives the fold once the rulings on the whole post are applied."""

    answers: Mapping[int, Answer] = field(default_factory=dict)
    flags: Mapping[int | None, Sequence[Flag]] = field(default_factory=dict)
    proxy_of: str | None = None
    pinned: bool = False
    replaces: bool = False

    @classmethod
    def read(cls, reading: Reading) -> Given:
        flags: dict[int | None, list[Flag]] = {}
        for flag in reading.flags:
            flags.setdefault(flag.prompt, []).append(flag)
        return cls(
            answers={a.prompt: a for a in reading.answers},
            flags=flags,
            proxy_of=reading.proxy_of,
            pinned=reading.proxy_pinned,
            replaces=reading.kind == PostKind.REPLACEMENT,
        )

    @property
    def gives(self) -> bool:
        return bool(self.answers or self.flags or self.proxy_of)

    def ruled(self, whole: Decision) -> Given:
        """What is left of the post after a ruling on the whole of it."""
        if whole.action == DecisionAction.REJECT:
            return Given()
        if whole.action == DecisionAction.PROXY:
            return Given(proxy_of=whole.proxy_of)
        if whole.action == DecisionAction.SET:
            answers = {whole.answer.prompt: whole.answer} if whole.answer else {}
            return Given(answers=answers, replaces=self.replaces)
        # accepted: counted as read, with what was suggested
        answers = dict(self.answers)
        for extra in (*(f.suggestion for f in self.flags.get(None, ())), whole.answer):
            if extra is not None:
                answers[extra.prompt] = extra
        return replace(self, answers=answers)


def ruled_answer(
    ruling: Decision | None, answer: Answer | None, flags: Sequence[Flag]
) -> Answer | None:
    """What counts for one prompt of a post, given the ruling on it (if any).

    An answer read beside a flag on the same prompt stands while the flag waits
    (an edit after the close: the answer as it stood at the close), and again
    if a moderator rejects the flag.
    """
    if ruling is None:
        return answer
    if ruling.action == DecisionAction.REJECT:
        return answer if flags else None
    if ruling.action == DecisionAction.SET:
        return ruling.answer
    suggested = next((f.suggestion for f in flags if f.suggestion), None)
    return ruling.answer or suggested or answer
