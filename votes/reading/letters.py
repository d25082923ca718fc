"""What fills an answer's place: option letters and option texts (rules 2-4, 11).

`B`, `A and C`, `C > A`, `4bd`, `[1] C [2] A`; `Tank factories, Shipyards`; the
answer after a restated prompt (`2. Should we end the war? Yes`); and the check
that the letters fit the prompt. Shared by the line grammar (grammar.py), the
prose rules (prose.py) and the line walk (lines.py, under.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import bare, closest_option, content_stems, match_end, match_option, search_start
from .types import OptionSpec, PromptKind, PromptSpec

DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_LETTER = re.compile(r"[A-Za-z](?![A-Za-z0-9'\u2019])")
_RUN = re.compile(r"[A-Z]{2,8}(?![A-Za-z0-9])")
_ANY_CASE_RUN = re.compile(r"[A-Za-z]{2,8}(?![A-Za-z0-9'\u2019])")
_LIST_GLUE = re.compile(r"[ \t]{0,2}(?:,|/|&|\+|>|;|\band\b|\bthen\b)?[ \t]{0,2}")
# A reason after an answer ("4-A, C because the tanks matter") ends it like punctuation.
REASON = r"[ \t]+(?:because|since|cause|'cause|cos|cuz|coz)\b"
# After a letter of a list, what may follow it: the end, punctuation or a bracket
# (commentary), another answer, or a reason.
_LIST_NEXT_OK = re.compile(rf"[ \t]*(?:$|[^\w\s'\u2019]|\d|and\b|then\b)|{REASON}")
_RANK_STEP = re.compile(r"[ \t]{0,3}\[\d\][ \t]{0,3}([A-Za-z])(?![A-Za-z])")
OPTION_TEXT_END = re.compile(rf"[.;!?,(]|[ \t][{DASHES}][ \t]|{REASON}|$")
_LIST_END = re.compile(rf"[.;!?(]|[ \t][{DASHES}][ \t]|{REASON}|$")
_LIST_SPLIT = re.compile(
    r"[ \t]*(?:,|>|/|&|\+|;)[ \t]*(?:and[ \t]+|then[ \t]+)?|[ \t]+(?:and|then)[ \t]+"
)
_OPTION_LINE = re.compile(rf"[ \t]*\(?([A-Za-z])(?:[).:;{DASHES}]|[ \t]*$)[ \t]*(.*)")
_REST_OF_ANSWER = re.compile(rf"[ \t]*(?:[.;!]*$|[.;!,][ \t]|[ \t]?[{DASHES}][ \t]|\()|{REASON}")
_YES_NO = re.compile(r"(?i)\b(?:(?P<yes>yes|yeah|yep|yup|aye)|no|nope|nah)\b")


# Not frozen: built for every answer on every line (see grammar.LineRead).
@dataclass(slots=True, init=False)
class Hit:
    """One answer found on a line; offsets are into the line."""

    prompt: int
    start: int
    end: int  # end of the answer itself (commentary after it is not part of it)
    letters: tuple[str, ...] = ()
    text: str | None = None  # write-in text, or None
    problem: str | None = None  # set: held back for this reason
    suggestion: tuple[str, ...] = ()  # letters a moderator may accept
    how: str = "numbered answer"
    text_at: int = 0  # where a write-in's text starts in the line
    discussed: bool = False  # mentioned in a sentence: held back unless the post answers it
    revises: bool = False  # after "EDIT: changed to": replaces this post's earlier answer

    def __init__(  # written out: see types.Answer
        self,
        prompt: int,
        start: int,
        end: int,
        letters: tuple[str, ...] = (),
        text: str | None = None,
        problem: str | None = None,
        suggestion: tuple[str, ...] = (),
        how: str = "numbered answer",
        text_at: int = 0,
        discussed: bool = False,
        revises: bool = False,
    ) -> None:
        self.prompt, self.start, self.end = prompt, start, end
        self.letters, self.text, self.problem = letters, text, problem
        self.suggestion, self.how, self.text_at = suggestion, how, text_at
        self.discussed, self.revises = discussed, revises


def read_letters(
    line: str, at: int, prompt: PromptSpec | None
) -> tuple[tuple[str, ...], int] | None:
    """The letters (`B`, `A and C`, `C > A`) at `at`, and their end, or None."""
    kind = prompt.kind if prompt else PromptKind.SINGLE
    if kind is PromptKind.RANKED and line.startswith("[1]", at):
        found: list[str] = []
        end = at
        # Step by step from where the last rank ended: a search would look ahead to
        # the end of the line for every rank.
        while len(found) < 26 and (m := _RANK_STEP.match(line, end)) is not None:
            found.append(m.group(1).upper())
            end = m.end()
        return (tuple(found), end) if found else None
    run = _RUN.match(line, at)
    if run:
        return tuple(run.group(0)), run.end()
    if prompt is not None and kind in (PromptKind.MULTI, PromptKind.RANKED):
        run = _ANY_CASE_RUN.match(line, at)
        if run and all(prompt.option(x) is not None for x in run.group(0)):
            # "4bd", "5 cab": a run in lower case is a compact answer only when every
            # letter is one of the prompt's options, and the line reads as answers (the caller).
            return tuple(run.group(0).upper()), run.end()
    m = _LETTER.match(line, at)
    if m is None:
        return None
    found = [m.group(0).upper()]
    end = m.end()
    while len(found) < 26:
        glued = match_end(_LIST_GLUE, line, end)
        nxt = _LETTER.match(line, glued)
        if glued == end or nxt is None or _LIST_NEXT_OK.match(line, nxt.end()) is None:
            break
        found.append(nxt.group(0).upper())
        end = nxt.end()
    return tuple(found), end


def check_letters(hit: Hit, prompt: PromptSpec) -> Hit:
    """The hit, or a held hit when its letters do not fit the prompt (rule 11)."""
    letters = hit.letters
    known = {o.letter for o in prompt.options}
    missing = [x for x in letters if known and x not in known]
    if missing:
        return Hit(
            hit.prompt,
            hit.start,
            hit.end,
            problem=f"option {', '.join(missing)} does not exist in prompt {prompt.number}",
        )
    if prompt.kind is PromptKind.SINGLE and len(set(letters)) > 1:
        return Hit(
            hit.prompt,
            hit.start,
            hit.end,
            problem=f"prompt {prompt.number} takes one answer, but this gives {', '.join(letters)}",
        )
    if prompt.kind is PromptKind.RANKED:
        if len(set(letters)) != len(letters):
            return Hit(
                hit.prompt,
                hit.start,
                hit.end,
                problem=f"ranks the same option twice in prompt {prompt.number}",
            )
        return hit
    return Hit(hit.prompt, hit.start, hit.end, letters=tuple(sorted(set(letters))), how=hit.how)


def option_line(line: str, prompt: PromptSpec) -> tuple[OptionSpec, bool, int] | None:
    """`A) text` under a prompt: (option, is the option's own text restated, end of letter)."""
    m = _OPTION_LINE.match(line)
    if m is None:
        return None
    option = prompt.option(m.group(1))
    if option is None:
        return None
    rest = m.group(2).strip()
    return option, bool(rest) and bare(rest) == bare(option.text), m.start(2)


def ends_answer(line: str, at: int) -> bool:
    """After an answer at `at`: the end, or commentary set off by punctuation, a dash,
    a bracket or a reason ("because ...")."""
    return _REST_OF_ANSWER.match(line, at) is not None


def option_text_list(line: str, pos: int, at: int, prompt: PromptSpec) -> Hit | None:
    """`4 - Tank factories and shipyards`, `5 - Riga, Kiev, Minsk`: several option texts."""
    end = search_start(_LIST_END, line, at)
    parts = [x for x in _LIST_SPLIT.split(line[at:end]) if x.strip()]
    if len(parts) < 2 or len(parts) > 26:
        return None
    letters = []
    for part in parts:
        how, option = match_option(_without_option_letter(part, prompt), prompt)
        if option is None or how == "loose":
            return None
        letters.append(option.letter)
    hit = Hit(prompt.number, pos, end, letters=tuple(letters), how="option texts")
    return check_letters(hit, prompt)


def _without_option_letter(part: str, prompt: PromptSpec) -> str:
    """`B) Shipyards` -> `Shipyards` when B is that option's letter: the letter restated."""
    m = _OPTION_LINE.match(part)
    if m is None or prompt.option(m.group(1)) is None or not m.group(2).strip():
        return part
    how, option = match_option(m.group(2), prompt)
    return m.group(2) if option is not None and option.letter == m.group(1).upper() else part


def restates_prompt(typed: str, prompt: PromptSpec) -> bool:
    """Most of the typed words are the prompt's own: a copy of the prompt, not an answer."""
    typed_stems = content_stems(typed)
    return len(typed_stems) >= 2 and len(typed_stems & content_stems(prompt.text)) * 2 >= len(
        typed_stems
    )


def after_restated_prompt(line: str, at: int, seg_end: int, prompt: PromptSpec) -> Hit | None:
    """`2. Should we end the war? Hell yes`: the answer after a restated prompt (rules 3, 4).

    The prompt (or its first words) restated after the number and closed by `?` or
    `:` puts what follows in an answer's place: a letter or an option's text counts;
    any other text is held back, suggesting the option it reads as.
    """
    if line[seg_end : seg_end + 1] == "?":
        a = seg_end + 1
    else:
        colon = line.find(":", at, seg_end)
        if colon < 0 or not restates_prompt(line[at:colon], prompt):
            return None
        a = colon + 1
    while a < len(line) and line[a] in " \t":
        a += 1
    if a >= len(line):
        return None  # the prompt alone: nothing answered on this line
    where = f"answer after restated prompt {prompt.number}"
    named = option_line(line[a:], prompt)
    if named is not None:
        return check_letters(
            Hit(prompt.number, a, len(line.rstrip()), letters=(named[0].letter,), how=where),
            prompt,
        )
    letters = read_letters(line, a, prompt)
    if letters is not None and ends_answer(line, letters[1]):
        return check_letters(
            Hit(prompt.number, a, letters[1], letters=letters[0], how=where), prompt
        )
    end = search_start(OPTION_TEXT_END, line, a)
    answer = line[a:end]
    if not answer.strip():
        return None
    how, option = match_option(answer, prompt)
    if option is not None and how != "loose":
        return Hit(prompt.number, a, end, letters=(option.letter,), how=f"{where}: option text")
    if option is None:
        option = _yes_or_no(answer, prompt) or closest_option(answer, prompt)
    shown = answer.strip()[:60]
    return Hit(
        prompt.number,
        a,
        end,
        problem=(
            f"'{shown}' after restated prompt {prompt.number} is not the text of an option"
            + (f"; it reads as {option.letter}) {option.text}" if option else "")
            + "; a moderator must decide"
        ),
        suggestion=(option.letter,) if option else (),
    )


def _yes_or_no(text: str, prompt: PromptSpec) -> OptionSpec | None:
    """The Yes or No option of a yes/no prompt that the text says (never counted)."""
    yes = next((o for o in prompt.options if bare(o.text) == "yes"), None)
    no = next((o for o in prompt.options if bare(o.text) == "no"), None)
    if yes is None or no is None:
        return None
    said = {("no" if m.group("yes") is None else "yes") for m in _YES_NO.finditer(text)}
    return yes if said == {"yes"} else no if said == {"no"} else None
