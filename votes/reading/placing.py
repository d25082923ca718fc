"""Prose placement: rule 6 over the paragraphs the line walk left over.

A paragraph is placed under a prompt by the line walk (under a quoted or
restated prompt) or, under a quote of the whole vote block, by what it
addresses (`for the third proposal`); paragraphs nobody placed are read for
voting statements, and for the answers their words suggest.
"""

from __future__ import annotations

from . import budget, grammar, prose
from .found import Draft, Found
from .letters import Hit, check_letters
from .text import collapse_spaces
from .types import PromptKind, VoteSpec


def read_prose(draft: Draft, vote: VoteSpec) -> list[Found]:
    """Rule 6 over the paragraphs the line walk left over.

    1. Under a quote of the whole vote block (and no numbered answer), a
       paragraph addressing a prompt places itself there; a placed write-in
       prompt takes the paragraphs after it up to the next placed one.
    2. A paragraph placed under a write-in prompt is its text; under a choice
       prompt, an explicit letter counts and anything else is held back.
    3. In a paragraph placed nowhere, explicit letters of voting statements count.
    4. Prompts still unanswered get what the unplaced prose suggests, held back.
    """
    placing = _Placing(draft, vote)
    for start, end, ctx in draft.prose_paragraphs:
        budget.check()
        placing.paragraph(start, end, ctx)
    placing.guess_open_prompts()
    return placing.out


class _Placing:
    """Where the prose paragraphs of one post go, in order."""

    def __init__(self, draft: Draft, vote: VoteSpec):
        self.draft, self.vote, self.text = draft, vote, draft.doc.text
        self.out: list[Found] = []
        self.answered = {f.prompt for f in draft.found}
        self.by_address = draft.block_quoted and not draft.numbered
        self.placed: int | None = None  # the prompt the last addressing paragraph named
        self.placed_by = ""  # the words that named it
        self.writein: Found | None = None  # the placed write-in that later paragraphs extend
        self.loose: list[tuple[int, int]] = []  # paragraphs placed nowhere

    def paragraph(self, start: int, end: int, ctx: int | None) -> None:
        para = self.text[start:end]
        where = ctx
        if where is None and self.by_address:
            addressed = prose.addressed_prompt(para, self.vote)
            if addressed is not None:
                self.placed, self.placed_by = addressed
                self.writein = None
                where = self.placed
            elif self.placed is not None and self.writein is not None:
                self.writein.end = end
                self.writein.text = collapse_spaces(self.text[self.writein.start : end])
                return
        if where is None:
            self.unplaced(para, start, end)
            return
        prompt = grammar.prompt_of(self.vote, where)
        if prompt is not None and prompt.kind in (PromptKind.WRITE_IN, PromptKind.LINES):
            self.placed_writein(para, start, end, where, addressed=ctx is None)
        else:
            self.placed_choice(para, start, end, where)

    def unplaced(self, para: str, start: int, end: int) -> None:
        for ans in prose.explicit_letters(para, self.vote, None):
            if ans.prompt is not None:
                self.out.append(_prose_found(ans, ans.prompt, start, self.vote))
            elif not self.draft.found:
                problem = f"{ans.why} does not say which prompt it answers"
                self.out.append(Found(0, start + ans.start, start + ans.end, problem=problem))
        self.loose.append((start, end))

    def placed_writein(
        self, para: str, start: int, end: int, where: int, *, addressed: bool
    ) -> None:
        if where in self.answered:
            return
        how = f"prose placed under prompt {where}"
        how += f" by '{self.placed_by}'" if addressed else ""
        self.writein = Found(where, start, end, text=collapse_spaces(para), how=how)
        self.out.append(self.writein)
        self.answered.add(where)

    def placed_choice(self, para: str, start: int, end: int, where: int) -> None:
        vote = self.vote
        explicit = [a for a in prose.explicit_letters(para, vote, where) if a.prompt == where]
        if explicit:
            self.out.append(_prose_found(explicit[0], where, start, vote))
            self.answered.add(where)
            return
        if where in self.answered:
            return
        guesses = prose.inferred(para, vote, {where}, where)
        letter = guesses[0].letter if guesses else None
        snippet = para.strip()[:80]
        if letter:
            verdict = f"reads as {letter}; a moderator must confirm"
        else:
            verdict = "gives no clear answer; a moderator must decide"
        problem = f"prose under prompt {where} ('{snippet}') {verdict}"
        suggestion = (letter,) if letter else ()
        self.out.append(Found(where, start, end, problem=problem, suggestion=suggestion))
        self.answered.add(where)

    def guess_open_prompts(self) -> None:
        """Prompts nothing answered: what the unplaced prose suggests, for a moderator."""
        self.answered |= {f.prompt for f in self.out}
        open_prompts = {p.number for p in self.vote.prompts} - self.answered
        if not open_prompts or not self.loose:
            return
        for start, end in self.loose:
            budget.check()
            for guess in prose.inferred(self.text[start:end], self.vote, open_prompts, None):
                if guess.letter is None or guess.prompt is None:  # inferred: always a prompt
                    continue
                problem = (
                    f"reads as {guess.letter} on prompt {guess.prompt} from prose "
                    f"('{guess.why}'); a moderator must confirm"
                )
                self.out.append(
                    Found(guess.prompt, start + guess.start, start + guess.end,
                          problem=problem, suggestion=(guess.letter,))
                )  # fmt: skip
                open_prompts.discard(guess.prompt)


def _prose_found(ans: prose.ProseAnswer, number: int, offset: int, vote: VoteSpec) -> Found:
    """An explicit letter of a voting statement (`ans`, for prompt `number`), checked as a
    numbered answer is (rule 11)."""
    start, end = offset + ans.start, offset + ans.end
    prompt = grammar.prompt_of(vote, number)
    if prompt is None:
        problem = f"{ans.why} names prompt {number}, which this vote does not have"
        return Found(number, start, end, problem=problem)
    if ans.asked:
        problem = (
            f"{ans.why} is asked or supposed, not given as a vote; "
            f"it reads as {', '.join(ans.chosen)}; a moderator must decide"
        )
        return Found(number, start, end, problem=problem, suggestion=ans.chosen)
    if not ans.firm:
        problem = (
            f"{ans.why} is not the text of an option of prompt {number}; "
            f"it reads as {', '.join(ans.chosen)}; a moderator must decide"
        )
        return Found(number, start, end, problem=problem, suggestion=ans.chosen)
    hit = check_letters(Hit(number, 0, 0, letters=ans.chosen), prompt)
    return Found(number, start, end, hit.letters, None, hit.problem, (), "voting statement")
