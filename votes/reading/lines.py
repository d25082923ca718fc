"""The line walk: a post's own text read line by line (rules 2-5).

`read_lines` gives the Draft of one body: answers found on its lines, answers
under quoted or restated prompts, write-ins, and the paragraphs left over for
the prose rules (placing.py). The walk is a small state machine, `_LineWalk`:
its fields are the state (the prompt whose context is open, the write-in being
collected, the prose paragraph being grouped) and each kind of line has a
method of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import budget, declared, grammar, hints, marks, revise
from .bbcode import QUOTE_MARK, Doc
from .found import Draft, Found
from .grammar import LineRead
from .prompts import Prompts, may_restate, quoted_prompts, restated_prompt
from .text import collapse_spaces
from .types import PromptKind, PromptSpec, VoteSpec
from .under import answer_under, chosen_under, option_like, ranking_without_number, revised_letter

_DIGIT = re.compile(r"\d")
_ASCII_DIGIT = grammar.ASCII_DIGIT  # \d in ASCII text, scanned for much faster
_WRITE_INS = (PromptKind.WRITE_IN, PromptKind.LINES)
_SHORT = 64  # short lines ("1-B", "[X] 2. A") recur across posts: their reads are cached
_RETRACTED = "withdrawn ('scratch that') with no answer in its place; a moderator must decide"


def read_lines(doc: Doc, vote: VoteSpec, prompts: Prompts) -> Draft:
    """Walk the own text line by line (rules 2-5): the state machine of the reader.

    1. A quote line that holds one prompt, a restated prompt line, or a line
       holding only "3." opens that prompt's context: what follows answers it.
    2. A numbered answer line closes any context; a numbered write-in runs to
       the first blank line, a context write-in to the next prompt or answer.
    3. Under a choice prompt, `A) text` answers it, unless every option is
       restated word for word (a copied prompt block, not a vote).
    4. Lines left over are prose, grouped into paragraphs for the prose rules;
       ballot-like lines in unknown shapes are set aside for rule 11.
    """
    text = doc.text
    can_restate = None  # worked out when first needed: it costs a pass over the text
    if not doc.quotes and not grammar.has_digit(text):
        can_restate = may_restate(text, prompts)
        if not can_restate:
            return paragraphs_only(doc)
    return walk_lines(doc, vote, prompts, may_restate=can_restate)


def paragraphs_only(doc: Doc) -> Draft:
    """read_lines for text with no quote, no digit and no prompt: only prose paragraphs.

    With no digit no line is an answer, a bare number or an unknown shape, and with
    no quote or restated prompt no context opens, so every non-blank line is prose.
    """
    draft = Draft(doc)
    start, end, e = -1, 0, -1
    for line in doc.text.split("\n"):
        s = e + 1
        e = s + len(line)
        if line.strip():
            if start < 0:
                start = s
            end = e
        elif start >= 0:
            draft.prose_paragraphs.append((start, end, None))
            start = -1
    if start >= 0:
        draft.prose_paragraphs.append((start, end, None))
    return draft


def walk_lines(
    doc: Doc, vote: VoteSpec, prompts: Prompts, *, may_restate: bool | None = None
) -> Draft:
    """read_lines for any text: the state machine itself.

    may_restate=False (no line can restate a prompt) skips that check on every
    line; None works it out at the first line long enough to be a prompt.
    """
    return _LineWalk(doc, vote, prompts, may_restate).walk()


_NO_DIGIT = LineRead((), "")  # a long line with no digit: nothing a grammar reads


def _read_line(line: str, vote: VoteSpec) -> tuple[LineRead, bool]:
    """What the grammar reads in one line, and whether it has an unknown ballot shape."""
    if (_ASCII_DIGIT if line.isascii() else _DIGIT).search(line) is None:
        # Every answer, bare number and unknown shape starts with a digit; a
        # change of mind to a lone letter ("actually no, B") is the exception.
        if len(line) > _SHORT:
            return _NO_DIGIT, False
        letter = revise.lone_letter(line)
        retracts = letter is None and revise.retracts(line)
        return LineRead((), "", revised_letter=letter, retracts=retracts), False
    if not hints.may_answer(line):
        # Only long numbers ("In 1953, ..."): the grammar reads no answer, and so
        # neither do the rules after it, which read answers with it.
        return grammar.read_line(line, vote), False
    read = declared.declared(grammar.read_line(line, vote), line, vote)
    read = revise.doubted(revise.with_revisions(read, line, vote), line, vote)
    return read, bool(grammar.UNKNOWN_SHAPE.match(line))


@dataclass(slots=True, init=False)
class _WriteIn:
    """A write-in being collected: its text runs from start to end (own-text offsets)."""

    prompt: int
    start: int
    end: int
    numbered: bool  # `3. text` ends at the first blank line; under a prompt, at the next one

    # Written out: see types.Answer.
    def __init__(self, prompt: int, start: int, end: int, numbered: bool) -> None:
        self.prompt, self.start, self.end, self.numbered = prompt, start, end, numbered


@dataclass(slots=True, init=False)
class _Paragraph:
    """Prose lines being grouped, placed under the prompt whose context was open."""

    start: int
    end: int
    placed: int | None

    # Written out: see types.Answer.
    def __init__(self, start: int, end: int, placed: int | None) -> None:
        self.start, self.end, self.placed = start, end, placed


class _LineWalk:
    """One walk over one body's own text: the state, and a method per kind of line."""

    __slots__ = (
        "can_restate",
        "context",
        "context_how",
        "context_marks",
        "doc",
        "draft",
        "found",
        "paragraph",
        "pending",
        "prompts",
        "quote_no",
        "restated",
        "text",
        "vote",
        "writein",
    )

    def __init__(self, doc: Doc, vote: VoteSpec, prompts: Prompts, can_restate: bool | None):
        self.doc, self.text, self.vote, self.prompts = doc, doc.text, vote, prompts
        self.can_restate = can_restate
        self.draft = Draft(doc)
        self.found = self.draft.found
        self.context: PromptSpec | None = None  # the prompt the lines below answer
        self.context_how = ""  # "quoted", "restated" or "numbered"
        self.context_marks: frozenset[str] = frozenset()  # marks on the restated prompt's line
        # Option lines under the context: (what the line answers, restated word for
        # word, its marks); the block's end decides which of them is the answer.
        self.pending: list[tuple[Found, bool, frozenset[str]]] = []
        self.writein: _WriteIn | None = None
        self.paragraph: _Paragraph | None = None
        self.quote_no = 0  # quotes passed so far: the next quote line is doc.quotes[quote_no]
        self.restated = 0  # restated prompt lines so far: two or more are a copied vote block

    def walk(self) -> Draft:
        e = -1
        for line in self.text.split("\n"):
            budget.check()
            s = e + 1
            e = s + len(line)
            stripped = line.strip()
            if stripped == QUOTE_MARK:
                self.on_quote(e)
            elif not stripped:
                self.on_blank()
            elif (prompt := self.restates(line, stripped)) is not None:
                self.on_restated(prompt, line, s, e)
            else:
                self.on_line(line, stripped, s, e)
        self.close_all()
        return self.draft

    # -- kinds of line -----------------------------------------------------

    def on_quote(self, e: int) -> None:
        """A quote: one prompt in it opens that prompt's context; several, a copied block."""
        self.close_all()
        quotes = self.doc.quotes
        quote = quotes[self.quote_no] if self.quote_no < len(quotes) else None
        self.quote_no += 1
        quoted = quoted_prompts(quote, self.prompts) if quote else []
        if len(quoted) == 1:
            self.context_marks = frozenset()
            self.open_context(quoted[0], "quoted", e)
        elif len(quoted) > 1:
            self.draft.block_quoted = True

    def on_blank(self) -> None:
        """A blank line ends a paragraph and a numbered write-in."""
        if self.paragraph is not None:
            self.close_paragraph()
        if self.writein is not None and self.writein.numbered:
            self.close_writein()

    def on_restated(self, prompt: PromptSpec, line: str, s: int, e: int) -> None:
        """A restated prompt opens its context; `Should we end the war? Yes` answers it."""
        self.close_all()
        self.context_marks = marks.line_marks(self.doc, s, e)
        self.open_context(prompt, "restated", e)
        self.restated += 1
        self.draft.block_quoted = self.draft.block_quoted or self.restated > 1
        if prompt.kind not in _WRITE_INS:
            self.answer_after_question(prompt, line, s)

    def on_line(self, line: str, stripped: str, s: int, e: int) -> None:
        """Any other line: what the grammar reads in it, then what the open context makes of it."""
        read, unknown_shape = self.line_read(line)
        if read.hits:
            self.on_answers(read, s, e)
        elif self.found and read.retracts:
            self.on_retracted(s, e)
        elif self.found and read.revised_letter is not None:
            self.on_revised(read.revised_letter, s, e)
        else:
            if read.mentions:
                self.on_mentions(read, s)
            if not self.on_unanswered(line, stripped, read, s, e):
                self.on_leftover(unknown_shape, s, e)

    def on_answers(self, read: LineRead, s: int, e: int) -> None:
        """Numbered answers close whatever was open; a numbered write-in opens."""
        # Guarded: this is the common line of a ballot, and each close is a call.
        if self.writein is not None:
            self.close_writein()
        if self.context is not None or self.pending:
            self.close_context()
        if self.paragraph is not None:
            self.close_paragraph()
        for hit in read.hits:
            if hit.text is not None:
                self.writein = _WriteIn(hit.prompt, s + hit.text_at, e, True)
            else:
                self.found.append(
                    Found(
                        hit.prompt, s + hit.start, s + hit.end, hit.letters, None,
                        hit.problem, hit.suggestion, hit.how, hit.discussed, hit.revises,
                    )
                )  # fmt: skip
        self.draft.numbered = True

    def on_retracted(self, s: int, e: int) -> None:
        """`scratch that` on a line of its own withdraws the answer above."""
        self.found.append(Found(self.found[-1].prompt, s, e, problem=_RETRACTED, revises=True))

    def on_revised(self, letter: str, s: int, e: int) -> None:
        """`actually no, B`: the new letter for the prompt answered last."""
        self.found.append(revised_letter(self.found[-1].prompt, letter, s, e, self.vote))

    def on_mentions(self, read: LineRead, s: int) -> None:
        """`I think 1-B is best`: held back only if nothing else answers the prompt."""
        self.draft.mentions.extend(
            Found(h.prompt, s + h.start, s + h.end, (), None, h.problem, h.suggestion, h.how, True)
            for h in read.mentions
        )

    def on_unanswered(self, line: str, stripped: str, read: LineRead, s: int, e: int) -> bool:
        """A line with no numbered answer, in whatever is open; False if it is left over."""
        if read.bare_number is not None:
            prompt = grammar.prompt_of(self.vote, read.bare_number)
            if prompt is not None:  # "3." alone: the lines below answer prompt 3
                self.close_all()
                self.open_context(prompt, "numbered", e)
                return True
        if self.writein is not None:
            self.extend_writein(self.writein, s, e)
            return True
        if self.context is not None:
            return self.on_option_line(self.context, line, s, e)
        return "[1]" in stripped[:40] and self.on_ranking(line, s)

    def on_option_line(self, context: PromptSpec, line: str, s: int, e: int) -> bool:
        """Under a choice prompt: `A) text`, a letter or an option's text answers it."""
        got = answer_under(line, s, context, self.context_how)
        if isinstance(got, tuple):
            # A lone restated option is the answer; among several, the marked one.
            self.pending.append((got[1], True, marks.line_marks(self.doc, s, e)))
        elif got is not None and got.letters and not got.problem and option_like(line, context):
            # "B) Shipyards" then "D) Farms": every option line waits for the block's end.
            self.pending.append((got, False, marks.line_marks(self.doc, s, e)))
        elif got is not None:
            self.pending.clear()
            self.add(got)
            self.context = None
        return got is not None

    def on_ranking(self, line: str, s: int) -> bool:
        """`[1] C [2] A` with no prompt number, maybe after `my vote:`."""
        got = ranking_without_number(line, s, self.vote)
        if got is None:
            return False
        self.close_paragraph()
        self.add(got)
        return True

    def on_leftover(self, unknown_shape: bool, s: int, e: int) -> None:
        """Prose, grouped into paragraphs; a ballot-like line in an unknown shape is set aside."""
        if unknown_shape:
            self.close_paragraph()
            self.draft.unknown.append((s, e))
            return
        placed = self.context.number if self.context is not None else None
        if self.paragraph is None or self.paragraph.placed != placed:
            self.close_paragraph()
            self.paragraph = _Paragraph(s, e, placed)
        self.paragraph.end = e

    # -- what a line is ----------------------------------------------------

    def restates(self, line: str, stripped: str) -> PromptSpec | None:
        """The prompt this line restates, checked only where a line could restate one."""
        if self.can_restate is False or len(stripped) <= 14:
            return None
        if len(line) > self.prompts.restated_max:
            return None
        if self.can_restate is None:
            self.can_restate = may_restate(self.text, self.prompts)
        return restated_prompt(line, self.prompts) if self.can_restate else None

    def line_read(self, line: str) -> tuple[LineRead, bool]:
        """_read_line, from the vote's cache for short lines: nothing else decides them."""
        short = len(line) <= _SHORT
        line_reads = self.prompts.line_reads
        known = line_reads.get(line) if short else None
        if known is None:
            known = _read_line(line, self.vote)
            if short:
                if len(line_reads) >= 4096:
                    line_reads.clear()
                line_reads[line] = known
        return known

    def answer_after_question(self, prompt: PromptSpec, line: str, s: int) -> None:
        """`Should USSR end the ongoing conflict in Korea? Yes`: the answer on the prompt's line."""
        q = line.rfind("?")
        if q < 0 or not line[q + 1 :].strip():
            return
        got = answer_under(line[q + 1 :], s + q + 1, prompt, "restated")
        if got is not None:
            self.add(got[1] if isinstance(got, tuple) else got)
            self.context = None

    # -- state -------------------------------------------------------------

    def add(self, found: Found) -> None:
        self.found.append(found)
        self.draft.numbered = True

    def open_context(self, prompt: PromptSpec, how: str, e: int) -> None:
        self.context, self.context_how = prompt, how
        if prompt.kind in _WRITE_INS:
            self.writein = _WriteIn(prompt.number, e, e, False)

    def extend_writein(self, writein: _WriteIn, s: int, e: int) -> None:
        if writein.end == writein.start:
            writein.start = s
        writein.end = e

    def close_all(self) -> None:
        self.close_writein()
        self.close_context()
        self.close_paragraph()

    def close_writein(self) -> None:
        writein = self.writein
        if writein is not None:
            body = collapse_spaces(self.text[writein.start : writein.end])
            if body:
                how = (
                    "numbered write-in"
                    if writein.numbered
                    else f"write-in under {self.context_how} prompt"
                )
                self.add(Found(writein.prompt, writein.start, writein.end, text=body, how=how))
        self.writein = None

    def close_context(self) -> None:
        chosen = chosen_under(self.context, self.pending, self.context_marks)
        if chosen is not None:
            self.add(chosen)
        self.pending.clear()
        self.context = None

    def close_paragraph(self) -> None:
        if self.paragraph is not None:
            p = self.paragraph
            self.draft.prose_paragraphs.append((p.start, p.end, p.placed))
        self.paragraph = None
