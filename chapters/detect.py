"""Find the vote prompts in a vote block pasted as it was written on a forum.

A pure function over text: no Django, no database. The quest master sees the
result (and its problems) before anything is saved, so detection reports
what it could not make sense of instead of guessing silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chapters.kinds import PromptKind
from quest.bbcode import strip_tags

__all__ = [
    "MAX_CHARS",
    "DetectedOption",
    "DetectedPrompt",
    "Detection",
    "detect_prompts",
]

MAX_CHARS = 50_000

# "1.", "1)", "1:", "1 -". The text may not start with a digit so that "1.5 million
# roubles" in a chapter's prose is not a prompt; three digits at most so that
# "1953: the thaw" is not one either.
_PROMPT = re.compile(r"^(?P<number>\d{1,3})\s*[.):\-–]\s*(?P<text>(?!\d).*)$")
# "A)", "A.", "A -", "A:", "a)", with an optional ballot box "[ ]" or "[X]" before it.
# Only ")" may touch the text ("A)Yes"): "A.Lincoln" or "A-10" are not options.
_OPTION = re.compile(
    r"^(?:\[\s?[xX✓]?\s?\]\s*)?(?P<letter>[A-Za-z])\s*(?:\)\s*|[.:\-–](?:\s+|$))(?P<text>.*)$"
)
# "[ ] Scout the wreck", "-[ ] With spare parts": a quest master's suggestion in a
# forum-style vote, where players answer with "[X]" lines. "[ ] A) Yes" is a lettered
# option with a box, read as the option it is.
_BOX = re.compile(r"^(?P<dashes>(?:[-–—]\s*)*)\[\s*\]\s*(?P<text>\S.*)$")
# What chapters.prompts.vote_block writes after a `lines` prompt's text.
_LINES_MARKER = re.compile(r"\bvote with \[x\] lines\b", re.IGNORECASE)
# A heading longer than this is the story's last paragraph, not the question.
_HEADING_MAX_CHARS = 200
_RANKED = re.compile(r"\brank(?:ed)?\b|\bin order of preference\b", re.IGNORECASE)
_MULTI = re.compile(
    r"\b(?:choose|pick|select|vote for)\s+any\b|\bmultiple\b|\ball that apply\b"
    r"|\bany number of\b",
    re.IGNORECASE,
)


@dataclass
class DetectedOption:
    letter: str
    text: str


@dataclass
class DetectedPrompt:
    number: int
    kind: PromptKind
    text: str
    options: list[DetectedOption] = field(default_factory=list)
    # A `lines` prompt's "[ ]" lines, nesting dashes kept ("-With spare parts"). Shown
    # to the quest master; not stored: they stay in the post, where players read them.
    suggestions: list[str] = field(default_factory=list)

    @property
    def written_suggestions(self) -> list[str]:
        """The suggestions as the quest master wrote them: "[ ] Scout", "-[ ] With spare parts"."""
        return [f"{s[: len(s) - len(s.lstrip('-'))]}[ ] {s.lstrip('-')}" for s in self.suggestions]


@dataclass
class Detection:
    prompts: list[DetectedPrompt]
    problems: list[str]

    @property
    def ok(self) -> bool:
        """True when the prompts can be saved as they are."""
        return bool(self.prompts) and not self.problems


def detect_prompts(text: str) -> Detection:
    """Read numbered prompts and their lettered options out of a vote block.

    1. Each line is cleaned: BBCode tags, surrounding white space and a stray
       trailing backslash (XenForo's copy-paste leaves one) are removed.
    2. A numbered line starts a prompt; a lettered line after a prompt is one of
       its options. Lines before the first prompt are prose and ignored.
    3. Any other line is added to the prompt's text when it directly continues
       the numbered line (no blank line between, no option yet); otherwise it is
       ignored. If prose is ignored and numbering then starts again at 1, what
       came before was a numbered list in the story, and is dropped.
    4. "[ ]" lines (forum-style suggestions, maybe dashed sub-lines) under a
       numbered line with no options are that prompt's suggestions. A run of
       them that no numbered line heads (after prose, a "Vote:" heading, or
       alone) is a prompt of its own, worded by the line above it; a numbered
       list of the story's before it (numbered lines, prose, no options) is dropped.
    5. A prompt with suggestions, or whose text says "vote with [X] lines", is
       a `lines` prompt; one without options is a write-in; the wording decides
       between ranked, multi and single for the others.
    6. Anything the quest master must fix is described in `problems`.
    """
    if not isinstance(text, str):
        return Detection(prompts=[], problems=["The vote block must be text."])
    if len(text) > MAX_CHARS:
        return Detection(
            prompts=[],
            problems=[
                f"The vote block is too long ({len(text):,} characters); "
                f"paste at most {MAX_CHARS:,}."
            ],
        )
    prompts = _read_prompts(text)
    for prompt in prompts:
        prompt.kind = _kind(prompt)
    return Detection(prompts=prompts, problems=_problems(prompts))


def _clean_line(line: str) -> str:
    return strip_tags(line).strip().rstrip("\\").strip()


def _read_prompts(text: str) -> list[DetectedPrompt]:
    prompts: list[DetectedPrompt] = []
    current: DetectedPrompt | None = None
    continues = False  # the previous line was the prompt's own text
    prose_since_prompt = False
    above = ""  # the last line that was neither a prompt nor an option: a heading, maybe
    under_options = False  # the last line was an option, or a "[ ]" line read as prose under one
    for raw_line in text.splitlines():
        line = _clean_line(raw_line)
        if not line:
            continues = False
            continue
        suggestion = _suggestion(line)
        role = _box_role(current, prose_since_prompt, under_options) if suggestion else None
        if suggestion and role:
            prompts, current = _suggested(prompts, current, role, suggestion, heading=above)
            continues = False
            prose_since_prompt = False
            continue
        prompt_match = _PROMPT.match(line)
        if prompt_match:
            number = int(prompt_match.group("number"))
            if number == 1 and prose_since_prompt:
                prompts = []
            current = DetectedPrompt(
                number=number, kind=PromptKind.SINGLE, text=prompt_match["text"]
            )
            prompts.append(current)
            continues = True
            prose_since_prompt = False
            above = ""
            under_options = False
            continue
        option_match = _OPTION.match(line) if current is not None else None
        if current is not None and option_match:
            letter = option_match.group("letter").upper()
            current.options.append(DetectedOption(letter=letter, text=option_match["text"]))
            continues = False
        elif current is not None and continues and not current.options:
            current.text = f"{current.text}\n{line}" if current.text else line
        elif current is not None:
            prose_since_prompt = True
            continues = False
        under_options = bool(option_match) or (bool(suggestion) and under_options)
        if not option_match:
            above = line
    return prompts


def _suggestion(line: str) -> str | None:
    """A "[ ]" line's suggestion, nesting kept as dashes ("-With spare parts"), or None."""
    box = _BOX.match(line) if not _OPTION.match(line) else None
    return _depth(box["dashes"]) * "-" + box["text"] if box else None


def _suggested(
    prompts: list[DetectedPrompt],
    current: DetectedPrompt | None,
    role: str,
    suggestion: str,
    *,
    heading: str,
) -> tuple[list[DetectedPrompt], DetectedPrompt]:
    """The prompts and the prompt that now holds `suggestion`: `current`, or for a
    run of "[ ]" lines no numbered line heads (`role` "start") a new `lines` prompt.

    Numbered lines before a new one with neither options nor suggestions were a
    numbered list in the story (prose came between): they are dropped.
    """
    if role == "start" or current is None:
        if all(not p.options and not p.suggestions for p in prompts):
            prompts = []
        number = max((p.number for p in prompts), default=0) + 1
        current = DetectedPrompt(number=number, kind=PromptKind.LINES, text=_heading(heading))
        prompts = [*prompts, current]
    current.suggestions.append(suggestion)
    return prompts, current


def _box_role(
    current: DetectedPrompt | None, prose_since_prompt: bool, under_options: bool
) -> str | None:
    """What a "[ ]" line is here: "attach" (a suggestion of the current prompt),
    "start" (the first of a prompt of its own), or None (prose, as it always was).

    It is the current prompt's when that prompt has no lettered options and
    nothing but its suggestions came since its line; after prose, or before any
    prompt, it starts a prompt; right under lettered options it is prose (a
    "[ ] Write-in" line under "A) …" options).
    """
    if (
        current is not None
        and not current.options
        and (current.suggestions or not prose_since_prompt)
    ):
        return "attach"
    if not under_options and (current is None or prose_since_prompt):
        return "start"
    return None


def _depth(dashes: str) -> int:
    return sum(1 for ch in dashes if ch in "-–—")


def _heading(line: str) -> str:
    """A run of "[ ]" lines' question: the line above it ("What do you do?", "Vote:")."""
    line = line.strip().rstrip(":").strip()
    return line if line and len(line) <= _HEADING_MAX_CHARS else "Vote"


def _kind(prompt: DetectedPrompt) -> PromptKind:
    if prompt.suggestions or (not prompt.options and _LINES_MARKER.search(prompt.text)):
        return PromptKind.LINES
    if not prompt.options:
        return PromptKind.WRITE_IN
    if _RANKED.search(prompt.text):
        return PromptKind.RANKED
    if _MULTI.search(prompt.text):
        return PromptKind.MULTI
    return PromptKind.SINGLE


def _problems(prompts: list[DetectedPrompt]) -> list[str]:
    if not prompts:
        return ["No numbered prompts found."]
    problems: list[str] = []
    seen_numbers: set[int] = set()
    for prompt in prompts:
        message = f"Prompt {prompt.number} is numbered twice."
        if prompt.number in seen_numbers and message not in problems:
            problems.append(message)
        seen_numbers.add(prompt.number)
        if not prompt.text:
            problems.append(f"Prompt {prompt.number} has no text.")
        if prompt.suggestions and prompt.options:
            problems.append(
                f"Prompt {prompt.number} has both lettered options and [ ] lines; "
                "give it one or the other."
            )
        elif len(prompt.options) == 1:
            problems.append(
                f"Prompt {prompt.number} has only one option; "
                "give it at least two, or none for a write-in."
            )
        seen_letters: set[str] = set()
        for option in prompt.options:
            message = f"Option {option.letter} appears twice in prompt {prompt.number}."
            if option.letter in seen_letters and message not in problems:
                problems.append(message)
            seen_letters.add(option.letter)
            if not option.text:
                problems.append(f"Option {option.letter} in prompt {prompt.number} has no text.")
    return problems
