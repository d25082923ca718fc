"""Answers under a quoted or restated prompt, and lines that answer without a number.

What the line walk (lines.py) asks of one line in a prompt's context (rule 3):
`A) text`, `B) The barn and D) the radio shack`, an option's text, a letter;
which of the option lines under a copied vote block the poster chose; a lone
letter after a change of mind; `[1] C [2] A` for the vote's one ranked prompt.
"""

from __future__ import annotations

import re

from . import grammar, marks
from .found import Found
from .letters import REASON, Hit, check_letters, ends_answer, option_line, read_letters
from .text import match_option
from .types import PromptKind, PromptSpec, VoteSpec

_MANY = (PromptKind.MULTI, PromptKind.RANKED)
_SENTENCE_END = re.compile(rf"[.;!?(]|{REASON}")
_OPTION_MARKS = re.compile(r"(?:^|[,;&/]|\band\b)[ \t]*\(?([A-Za-z])\)[ \t]*(?=\w)")


def chosen_under(
    ctx: PromptSpec | None,
    pending: list[tuple[Found, bool, frozenset[str]]],
    ctx_marks: frozenset[str] = frozenset(),
) -> Found | None:
    """What the option lines under a prompt answer (rule 3).

    1. Lines the poster marked (bold, colour, a ticked box, an arrow) among
       unmarked siblings are the answer: one for a single prompt (two marks hold
       it back), all of them for a choose-any or ranked prompt.
    2. Otherwise one line is the answer; for a choose-any or ranked prompt every
       line is, unless they restate every option (a copy of the block).
    """
    if ctx is None or not pending:
        return None
    marked = marks.marked([m for *_, m in pending], ctx_marks)
    chosen = [f for (f, _, _), hit in zip(pending, marked, strict=True) if hit]
    if chosen and (len(chosen) < len(pending) or "formatted" not in ctx_marks):
        if ctx.kind not in _MANY and len(chosen) > 1:
            first, last = chosen[0], chosen[-1]
            problem = f"marks {len(chosen)} options of prompt {ctx.number}, which takes one"
            return Found(ctx.number, first.start, last.end, problem=problem)
        return _merged(ctx, chosen, "marked in a copied vote block")
    if len(pending) == 1:
        return pending[0][0]
    changed = [f for f, restated, _ in pending if not restated]
    if ctx.kind not in _MANY and len(changed) == 1:
        return changed[0]  # the one option line the poster wrote on, the rest copied
    in_order = [f.letters for f, _, _ in pending] == [(o.letter,) for o in ctx.options]
    copied = all(restated for _, restated, _ in pending) and len(pending) >= len(ctx.options)
    if ctx.kind not in _MANY or (copied and (in_order or ctx.kind is not PromptKind.RANKED)):
        return None  # the block copied as posted; a ranking reorders it
    return _merged(ctx, [f for f, _, _ in pending], pending[0][0].how)


def option_like(line: str, ctx: PromptSpec) -> bool:
    """`A) text`, `[ ] B) text`: a line of the copied block, not a sentence answering it."""
    return option_line(line[grammar.strip_markers(line) :], ctx) is not None


def _merged(ctx: PromptSpec, items: list[Found], how: str) -> Found:
    letters = tuple(x for f in items for x in f.letters)
    hit = check_letters(Hit(ctx.number, 0, 0, letters=letters), ctx)
    first, last = items[0], items[-1]
    return Found(ctx.number, first.start, last.end, hit.letters, None, hit.problem, (), how)


def revised_letter(prompt_no: int, letter: str, s: int, e: int, vote: VoteSpec) -> Found:
    """`actually no, B` after `1-A`: the new letter for the prompt answered last."""
    how = "revised answer to the prompt answered above"
    prompt = grammar.prompt_of(vote, prompt_no)
    if prompt is None:
        return Found(prompt_no, s, e, problem="a changed answer with no prompt to answer")
    hit = check_letters(Hit(prompt_no, 0, 0, letters=(letter,), how=how), prompt)
    return Found(prompt_no, s, e, hit.letters, None, hit.problem, (), how, revises=True)


def answer_under(line: str, s: int, ctx: PromptSpec, how: str) -> Found | tuple[str, Found] | None:
    """A line directly under a quoted or restated choice prompt (rules 3 and 4)."""
    where = f"answer under {how} prompt {ctx.number}"
    lettered = _OPTION_MARKS.findall(line) if ctx.kind in _MANY else []
    if len(lettered) > 1 and all(ctx.option(x) for x in lettered):
        # "B) The barn and D) the radio shack": several options on one line.
        letters = tuple(x.upper() for x in lettered)
        hit = check_letters(Hit(ctx.number, 0, 0, letters=letters), ctx)
        start = s + grammar.strip_markers(line)
        end = s + len(line.rstrip())
        return Found(ctx.number, start, end, hit.letters, None, hit.problem, (), where)
    skip = grammar.strip_markers(line)
    option = option_line(line[skip:], ctx)
    start = s + skip
    if option is not None:
        copied, restated, _ = option
        found = Found(ctx.number, start, s + len(line.rstrip()), (copied.letter,), how=where)
        return ("restated", found) if restated else found
    read = read_letters(line, grammar.strip_markers(line), ctx)
    if read is not None and ends_answer(line, read[1]):
        hit = check_letters(Hit(ctx.number, 0, read[1], letters=read[0], how=where), ctx)
        return Found(ctx.number, start, s + read[1], hit.letters, None, hit.problem, (), where)
    sentence = _SENTENCE_END.split(line, maxsplit=1)[0]
    kind, spec = match_option(sentence, ctx)
    if spec is None:
        return None
    end = s + len(sentence)
    if kind == "loose":
        problem = (
            f"'{sentence.strip()[:60]}' under prompt {ctx.number} reads like "
            f"{spec.letter}) {spec.text}, but not word for word"
        )
        return Found(ctx.number, start, end, problem=problem, suggestion=(spec.letter,), how=where)
    return Found(ctx.number, start, end, (spec.letter,), how=f"{where}: option text")


def ranking_without_number(line: str, s: int, vote: VoteSpec) -> Found | None:
    """`[1] C [2] A` on a line of its own answers the vote's one ranked prompt (rule 2)."""
    ranked = [p for p in vote.prompts if p.kind is PromptKind.RANKED]
    if not ranked:
        return None  # "[1]" is a footnote here
    at = line.find("[1]", 0, 40)  # at the start, or after a few words ("my vote: [1] C")
    if at < 0 or grammar.has_digit(line[:at]):
        return None
    letters = read_letters(line, at, ranked[0])
    if letters is None or not ends_answer(line, letters[1]):
        return None
    start, end = s + at, s + letters[1]
    if len(ranked) > 1:
        problem = "a ranking with no prompt number, and this vote has several ranked prompts"
        return Found(0, start, end, problem=problem)
    prompt = ranked[0]
    where = "ranking with no prompt number (the vote's one ranked prompt)"
    hit = check_letters(Hit(prompt.number, 0, 0, letters=letters[0], how=where), prompt)
    return Found(prompt.number, start, end, hit.letters, None, hit.problem, (), where)
