"""Proxies inside `[X]` ballots: "[X] Anya" beside other lines, resolved by the fold.

A line that refers to a voter stands for that voter's lines on the same prompt:
pinned refs (`[X] ^Anya`, or a prompt whose proxies are pinned) as they stood at
the post, taken when the fold reaches it (`pin`); tracking refs as they stand at
the end (`expand`). Chains are followed at most MAX_DEPTH deep with the path in
hand, so a loop is found and held back instead of followed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from .text import bare
from .types import Answer, Counted, XLine

MAX_DEPTH = 16

Lookup = Callable[[str, int], "Answer | None"]  # (voter, prompt) -> their counted answer


def has_refs(answer: Answer, *, pinned: bool | None = None) -> bool:
    return any(x.refers and (pinned is None or x.pinned == pinned) for x in answer.lines)


def pin(answer: Answer, lookup: Lookup) -> tuple[Answer, str | None]:
    """Pinned refs replaced by the named voter's lines now; or why one cannot be."""
    out: list[XLine] = []
    for x in answer.lines:
        if not (x.refers and x.pinned):
            out.append(x)
            continue
        theirs = lookup(x.refers, answer.prompt)
        if theirs is None or not theirs.lines:
            return (
                answer,
                f"'[X] ^{x.refers}': {x.refers} has no counted [X] vote on prompt {answer.prompt}",
            )
        out.extend(y for y in theirs.lines if not y.refers or y.refers != x.refers)
    return replace(answer, lines=unique(out)), None


def expand(
    ballots: Mapping[str, Mapping[int, Counted]], name_of: Callable[[str], str | None]
) -> tuple[dict[tuple[str, int], Answer], dict[tuple[str, int], str]]:
    """Tracking refs resolved against the final ballots: (new answers, why one is held)."""
    expander = _Expander(ballots, name_of)
    for voter in sorted(ballots):
        for prompt, counted in ballots[voter].items():
            if has_refs(counted.answer):
                expander.walk(voter, prompt, ())
    return expander.done, expander.problems


class _Expander:
    def __init__(
        self, ballots: Mapping[str, Mapping[int, Counted]], name_of: Callable[[str], str | None]
    ) -> None:
        self.ballots = ballots
        self.name_of = name_of
        self.done: dict[tuple[str, int], Answer] = {}
        self.problems: dict[tuple[str, int], str] = {}

    def walk(self, voter: str, prompt: int, path: tuple[str, ...]) -> Answer | str:
        """The voter's lines with refs replaced, or why they cannot be (memoised)."""
        key = (voter, prompt)
        if key in self.done or key in self.problems:
            return self.done.get(key) or self.problems[key]
        counted = self.ballots.get(voter, {}).get(prompt)
        if counted is None or not counted.answer.lines:
            return f"{voter} has no counted [X] vote on prompt {prompt}"
        if not has_refs(counted.answer):
            return counted.answer
        lines: list[XLine] = []
        for x in counted.answer.lines:
            got = self._ref(voter, prompt, x, path) if x.refers else x
            if isinstance(got, str):
                if not path:
                    self.problems[key] = got
                return got
            lines.extend(got.lines if isinstance(got, Answer) else [got])
        result = replace(counted.answer, lines=unique(lines))
        self.done[key] = result
        return result

    def _ref(self, voter: str, prompt: int, x: XLine, path: tuple[str, ...]) -> Answer | str:
        target = self.name_of(x.refers or "")
        if target is None:
            return f"'[X] {x.refers}': {x.refers} has no counted vote"
        if target in path or target == voter:
            return "proxy loop: " + " → ".join([*path, voter, target])
        if len(path) >= MAX_DEPTH:
            return f"proxy chain longer than {MAX_DEPTH}"
        return self.walk(target, prompt, (*path, voter))


def unique(lines: list[XLine]) -> tuple[XLine, ...]:
    """Each entry once: a voter who supports the same line twice supports it once."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for x in lines:
        key = (bare(x.text), bare(x.task or ""), x.refers or "")
        if key not in seen:
            seen.add(key)
            out.append(x)
    return tuple(out)
