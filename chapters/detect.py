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
    4. A prompt without options is a write-in; its wording decides between
       ranked, multi and single for the others.
    5. Anything the quest master must fix is described in `problems`.
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
    for raw_line in text.splitlines():
        line = _clean_line(raw_line)
        if not line:
            continues = False
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
    return prompts


def _kind(prompt: DetectedPrompt) -> PromptKind:
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
        if len(prompt.options) == 1:
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
