"""Checking a vote's prompts before they are saved (pure: no ORM).

Both ways of building a vote, the prompt form and a pasted forum block, end
here, so the rules and their messages are the same whichever was used.
"""

import re
from dataclasses import dataclass, field

from chapters.kinds import BUILDER_KINDS, PromptKind

_LETTER = re.compile(r"^[A-Z]{1,2}$")
MAX_PROMPTS = 30
MAX_OPTIONS = 26
# A prompt or option is a line or a short paragraph; every ballot form, tally
# and reading of the vote carries these texts.
TEXT_MAX_CHARS = 2_000


@dataclass
class OptionData:
    letter: str
    text: str


@dataclass
class PromptData:
    number: int
    kind: PromptKind | str  # "ranked" does as well as PromptKind.RANKED
    text: str
    options: list[OptionData] = field(default_factory=list)


def prompts_problems(prompts: list[PromptData]) -> list[str]:
    """Every reason these prompts cannot be saved, as sentences for the form."""
    problems: list[str] = []
    if not prompts:
        return ["Add at least one prompt."]
    if len(prompts) > MAX_PROMPTS:
        problems.append(f"A vote can have at most {MAX_PROMPTS} prompts.")
    seen_numbers: set[int] = set()
    for p in prompts:
        label = f"Prompt {p.number}"
        if p.number < 1:
            problems.append(f"{label}: prompt numbers start at 1.")
        if p.number in seen_numbers:
            problems.append(f"Prompt {p.number} is numbered twice.")
        seen_numbers.add(p.number)
        if not p.text.strip():
            problems.append(f"{label} has no text.")
        problems.extend(_length_problems(p.text, label))
        if p.kind not in BUILDER_KINDS:
            kinds = ", ".join(kind.label.lower() for kind in BUILDER_KINDS)
            problems.append(f"{label}: the kind {str(p.kind)!r} is not one of {kinds}.")
            continue
        problems.extend(_option_problems(p, label))
    return problems


def _option_problems(p: PromptData, label: str) -> list[str]:
    problems = []
    if p.kind == PromptKind.WRITE_IN:
        if p.options:
            problems.append(f"{label} is a write-in, so it takes no options.")
        return problems
    if len(p.options) < 2:
        problems.append(f"{label} needs at least two options (or make it a write-in).")
    if len(p.options) > MAX_OPTIONS:
        problems.append(f"{label} has more than {MAX_OPTIONS} options.")
    seen: set[str] = set()
    for o in p.options:
        if not _LETTER.match(o.letter):
            problems.append(f"{label}: option letter {o.letter!r} must be A to Z.")
        if o.letter in seen:
            problems.append(f"Option {o.letter} appears twice in prompt {p.number}.")
        seen.add(o.letter)
        if not o.text.strip():
            problems.append(f"{label}: option {o.letter} has no text.")
        problems.extend(_length_problems(o.text, f"{label}: option {o.letter}"))
    return problems


def _length_problems(text: str, label: str) -> list[str]:
    if len(text) <= TEXT_MAX_CHARS:
        return []
    return [f"{label} is {len(text):,} characters long; the most is {TEXT_MAX_CHARS:,}."]


_MARKERS: dict[str, str] = {PromptKind.MULTI: "(choose any)", PromptKind.RANKED: "(rank in order)"}


def vote_block(prompts: list[PromptData]) -> str:
    """The prompts as a quest master would write them on a forum."""
    parts = []
    for p in prompts:
        # The marker tells forum readers (and prompt detection) the prompt's kind.
        marker = _MARKERS.get(p.kind, "")
        text = p.text if not marker or marker in p.text.lower() else f"{p.text} {marker}"
        lines = [f"{p.number}. {text}"]
        lines += [f"{o.letter}) {o.text}" for o in p.options]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
