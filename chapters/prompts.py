"""Checking a vote's prompts before they are saved (pure: no ORM).

Both ways of building a vote, the prompt form and a pasted forum block, end
here, so the rules and their messages are the same whichever was used.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from chapters.kinds import (
    BUILDER_KINDS,
    Method,
    Partition,
    PassRule,
    PromptKind,
    Proxies,
    pass_rule_words,
)

_LETTER = re.compile(r"^[A-Z]{1,2}$")
MAX_PROMPTS = 30
MAX_OPTIONS = 26
# A prompt or option is a line or a short paragraph; every ballot form, tally
# and reading of the vote carries these texts.
TEXT_MAX_CHARS = 2_000
MAX_PASS_VOTES = 10_000


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
    # "Choose any" prompts: which options pass. `pass_at_least` is a number of
    # votes for PassRule.VOTES, a fraction of the prompt's voters (0-1) for SHARE.
    pass_rule: PassRule | str = PassRule.TOP
    pass_at_least: Decimal | None = None
    # `lines` prompts: what one vote is, what "[X] Username" does, how ranked lines
    # are decided (chapters.kinds). Other kinds keep the defaults.
    partition: Partition | str = Partition.BLOCK
    proxies: Proxies | str = Proxies.ON
    method: Method | str = Method.SCHULZE


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
        problems.extend(_pass_rule_problems(p, label))
        problems.extend(lines_settings_problems(p, label))
    return problems


def lines_settings_problems(p: PromptData, label: str) -> list[str]:
    """Why a prompt's `lines` settings (partition, proxies, method) cannot be stored."""
    problems = []
    for name, enum in (("partition", Partition), ("proxies", Proxies), ("method", Method)):
        value = getattr(p, name)
        if value not in set(enum):
            known = ", ".join(repr(member.value) for member in enum)
            problems.append(f"{label}: the {name} {str(value)!r} is not one of {known}.")
    return problems


def _pass_rule_problems(p: PromptData, label: str) -> list[str]:
    at_least = p.pass_at_least
    if p.pass_rule == PassRule.TOP:
        return (
            [] if at_least is None else [f"{label}: the most votes win, so it takes no threshold."]
        )
    if p.pass_rule not in (PassRule.VOTES, PassRule.SHARE):
        return [f"{label}: the pass rule {str(p.pass_rule)!r} is not one we know."]
    if p.kind != PromptKind.MULTI:
        return [f'{label}: only a "choose any" prompt passes options by a threshold.']
    if p.pass_rule == PassRule.VOTES:
        if at_least is None or not 1 <= at_least <= MAX_PASS_VOTES or at_least != int(at_least):
            return [
                f"{label}: give the votes an option needs to pass, "
                f"a whole number from 1 to {MAX_PASS_VOTES:,}."
            ]
    elif at_least is None or not 0 < at_least <= 1 or at_least != round(at_least, 4):
        return [
            f"{label}: give the share of voters an option needs to pass, "
            "over 0% and up to 100% (two decimals at most)."
        ]
    return []


def _no_options_problems(p: PromptData, label: str) -> list[str]:
    if not p.options:
        return []
    if p.kind == PromptKind.WRITE_IN:
        return [f"{label} is a write-in, so it takes no options."]
    # Its suggestions are the "[ ]" lines of the vote's post, not lettered options.
    return [
        f"{label} is voted with [X] lines, so it takes no options: "
        'write your suggestions as "[ ]" lines in the chapter.'
    ]


def _option_problems(p: PromptData, label: str) -> list[str]:
    if p.kind in (PromptKind.WRITE_IN, PromptKind.LINES):
        return _no_options_problems(p, label)
    problems = []
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


_MARKERS: dict[str, str] = {
    PromptKind.MULTI: "(choose any)",
    PromptKind.RANKED: "(rank in order)",
    # How forum players are told to answer; chapters.detect reads it back as `lines`.
    PromptKind.LINES: "(vote with [X] lines)",
}


def vote_block(prompts: list[PromptData]) -> str:
    """The prompts as a quest master would write them on a forum."""
    parts = []
    for p in prompts:
        lines = [f"{p.number}. {_marked(p)}"]
        lines += [f"{o.letter}) {o.text}" for o in p.options]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _marked(p: PromptData) -> str:
    """The prompt's text with its kind's marker, which tells forum readers (and
    prompt detection) how to answer it, and what passes a threshold prompt."""
    marker = _MARKERS.get(p.kind, "")
    text = p.text if not marker or marker.lower() in p.text.lower() else f"{p.text} {marker}"
    if p.kind != PromptKind.MULTI or p.pass_rule == PassRule.TOP:
        return text
    at_least = float(p.pass_at_least) if p.pass_at_least is not None else None
    words = pass_rule_words(p.pass_rule, at_least)
    return f"{text} Every option with {words} passes."
