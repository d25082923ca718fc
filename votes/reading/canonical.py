"""The canonical text of a ballot: what the players' ballot form posts."""

from __future__ import annotations

from collections.abc import Sequence

from .text import collapse_spaces
from .types import Answer, PromptKind, VoteSpec, XLine

# A write-in's text inside a ballot must stay text: every "[" is wrapped so that no
# tag (a quote, a spoiler, a strike) can form, and the page shows it as written.
_OPEN_BRACKET = "[PLAIN][[/PLAIN]"


def canonical_text(answers: Sequence[Answer], vote: VoteSpec) -> str:
    """One line per answer, in prompt order: "1-B", "4-AC", "5-C>A>B", "3-text".

    A write-in is kept inert, so that what the player typed comes back as its
    answer and changes no other: on one line (its line breaks become " / ",
    since a line `1-C` under it would answer prompt 1 and a blank line would end
    it), with its brackets escaped (a `[QUOTE]` in it would hide it).
    """
    lines = []
    several = sum(1 for p in vote.prompts if p.kind is PromptKind.LINES) > 1
    for answer in sorted(answers, key=lambda a: a.prompt):
        prompt = vote.prompt(answer.prompt)
        if prompt is None:
            continue
        if answer.lines:
            # "2." alone names the prompt when a vote has several [X] prompts (xlines).
            lines += [f"{answer.prompt}."] if several else []
            lines += [marked for line in answer.lines for marked in x_lines(line)]
        elif answer.text is not None:
            lines.append(f"{answer.prompt}-{inert(answer.text)}")
        elif prompt.kind is PromptKind.RANKED:
            lines.append(f"{answer.prompt}-{'>'.join(answer.letters)}")
        elif answer.letters:
            lines.append(f"{answer.prompt}-{''.join(answer.letters)}")
    return "\n".join(lines)


def x_lines(line: XLine) -> list[str]:
    """One entry as a player writes it: "[X] Repair" and "-[X] With parts" under it;
    "[#2]", "[+]", "[-]", "[75%]" for ranked, approval and scored lines."""
    if line.refers:
        return [f"[X] {'^' if line.pinned else ''}{line.refers}"]
    if line.rank is not None:
        mark = f"[#{line.rank}]"
    elif line.score is not None:
        mark = f"[{line.score}%]"
    else:
        mark = "[-]" if line.against else "[X]"
    task = f"[{line.task}] " if line.task else ""
    first, *rest = line.text.split("\n")
    out = [f"{mark} {task}{first}"]
    for sub in rest:
        depth = len(sub) - len(sub.lstrip("-"))
        out.append(f"{'-' * depth}{mark} {sub[depth:]}")
    return out


def written(text: str) -> str:
    """A write-in as the reader reads it back from the canonical text: one line, its
    runs of spaces one space (as the reader reads any write-in), lines joined by " / "."""
    return " / ".join(line for line in collapse_spaces(text).split("\n") if line)


def inert(text: str) -> str:
    """A write-in's text as the canonical post writes it (see canonical_text)."""
    return written(text).replace("[", _OPEN_BRACKET)
