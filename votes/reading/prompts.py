"""Prompt matching: which of the vote's prompts a line restates or a quote holds (rule 3).

`Prompts` prepares the vote's prompts once per vote (and keeps the line walk's
cache of short lines read); the checks before the costly normalising are exact
(tests/reading/test_fast_paths.py holds each against its plain form).
"""

from __future__ import annotations

import re
from itertools import islice

from . import grammar
from .bbcode import Quote
from .text import bare, match_end
from .types import PromptKind, PromptSpec, VoteSpec

NUMBER_PREFIX = re.compile(r"[ \t]*(?:\d{1,2}[ \t]*[-.):\u2013\u2014]?[ \t]*)?")
_WORD_THEN_SPACE = re.compile(r"[^ \t]{1,20}[ \t]+")


# Prompts.of's cache, module-level so that the mypyc build (compiled.py) keeps it too.
_MADE: dict[VoteSpec, Prompts] = {}
# A process reads a handful of votes at a time (votes/contexts.py keeps 8 threads);
# each entry holds up to 4,096 lines read, and an import of a whole thread reads
# one vote per chapter: 64 kept ~3 MB a 5,000-post chapter's vote long after it ended.
_MADE_MAX = 8


class Prompts:
    """The vote's prompts prepared for line reading, once per vote."""

    @classmethod
    def of(cls, vote: VoteSpec) -> Prompts:
        # Keyed by value: the worker builds a new, equal VoteSpec for every post it
        # reads, and the line cache is worth keeping between those calls.
        made = _MADE.get(vote)
        if made is None:
            if len(_MADE) >= _MADE_MAX:
                del _MADE[next(iter(_MADE))]  # the vote first read of those kept
            made = _MADE[vote] = cls(vote)
        return made

    def __init__(self, vote: VoteSpec):
        self.bares = [(p, bare(p.text)) for p in vote.prompts]
        self.longest = max((len(p.text) for p in vote.prompts), default=0)
        # A restated prompt's bare text shares its first 12 characters with some
        # prompt's (see restated_prompt). For ASCII lines, bare() is only lower
        # case minus non-word characters, so this pattern tests that prefix
        # without normalising the line: most lines fail on their first letter.
        heads = [
            r"[\W_]*".join(re.escape(c) for c in pb[:12]) for _, pb in self.bares if len(pb) >= 12
        ]
        self.head = re.compile(r"(?i)[\W_]*(?:" + "|".join(heads) + ")") if heads else None
        # The same prefixes anywhere in lower-cased ASCII text, each alternative led by
        # a literal so the engine skips ahead: a quote holding a prompt contains one.
        heads = [
            "[^a-z0-9]*".join(re.escape(c) for c in pb[:12])
            for _, pb in self.bares
            if len(pb) >= 12
        ]
        self.head_anywhere = re.compile("|".join(heads)) if heads else None
        self.heads_cover_all = all(len(pb) >= 12 for _, pb in self.bares if pb)
        self.has_lines = any(p.kind is PromptKind.LINES for p in vote.prompts)
        self.restated_max = 2 * self.longest + 20  # longer lines are prose, not a prompt
        # (grammar.read_line, UNKNOWN_SHAPE matches) of short lines: nothing else decides them.
        self.line_reads: dict[str, tuple[grammar.LineRead, bool]] = {}

    def has_head(self, lower_ascii: str) -> bool:
        return self.head_anywhere is not None and self.head_anywhere.search(lower_ascii) is not None


def restated_prompt(line: str, prompts: Prompts) -> PromptSpec | None:
    """The prompt a line restates (`2. Should we end the war?`, `my vote: Decide the ...`)."""
    if len(line) > prompts.restated_max or prompts.head is None:
        return None  # far longer than any prompt: prose, and not worth normalising
    start = grammar.strip_markers(line)
    start = grammar.vote_phrase_end(line, start)  # "my vote: Decide the fate ..."
    rest = line[match_end(NUMBER_PREFIX, line, start) :]
    if rest.isascii() and prompts.head.match(rest) is None:
        # "Voting Decide the fate ...": a few words before the restated prompt.
        ends = [m.end() for m in islice(_WORD_THEN_SPACE.finditer(rest), 4)]
        at = next((x for x in ends if prompts.head.match(rest, x)), None)
        if at is None:
            return None
        rest = rest[at:]
    b = bare(rest)
    if len(b) < 12:
        return None
    for prompt, pb in prompts.bares:
        if b == pb or (len(b) >= 24 and pb.startswith(b)):
            return prompt
        if len(pb) >= 24 and b.startswith(pb) and len(b) - len(pb) <= 3:
            return prompt
    return None


def quoted_prompts(quote: Quote, prompts: Prompts) -> list[PromptSpec]:
    """The prompts whose text (its first 60 characters, bare) a quote holds."""
    text = quote.text
    # pb[:60] in bare(text) needs pb[:12] there: for ASCII text, these letters in
    # order with only non-alphanumerics between. Most quotes hold no prompt.
    if prompts.heads_cover_all and text.isascii() and not prompts.has_head(text.lower()):
        return []
    qb = bare(text)
    return [p for p, pb in prompts.bares if pb and pb[:60] in qb]


def may_restate(text: str, prompts: Prompts) -> bool:
    """Whether some line of the text could restate a prompt (see quoted_prompts)."""
    return not (prompts.heads_cover_all and text.isascii() and not prompts.has_head(text.lower()))
