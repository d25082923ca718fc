"""An option's distinctive words and a prompt's subject, found in prose.

Two uses: what a post with no answer says in passing about the options (the
weak signals of signals.py, for the audit's Mentions tab), and what a ballot's
unread sentences seem to choose (prose_choices, a suggestion for a moderator).
Both look for word stems; in ASCII text each stem is found with `str.find`
rather than by splitting the text into words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice

from . import hints
from .grammar import MAX_MATCHES
from .text import STOPWORDS, content_stems, has_stem, stem, words
from .types import OptionSpec, PromptKind, PromptSpec, VoteSpec


def option_words(text: str, vote: VoteSpec, lowered: str | None = None) -> list[str]:
    """What a post says in passing about options' words or a write-in's subject (weak signals)."""
    found: list[str] = []
    head = text[:4000]
    if head.isascii():
        low = head.lower() if lowered is None else lowered[:4000]
        stems = {s for s in _vote_stems(vote) if has_stem(low, s)}
    else:
        stems = {stem(w) for w in words(head) if w not in STOPWORDS and len(w) > 3}
    if not stems:
        return found
    for prompt, letters_stems in _word_table(vote):
        if letters_stems is None:  # a write-in prompt: its subject
            if len(_topic(prompt) & stems) >= 2:
                found.append(f"speaks to write-in prompt {prompt.number}'s subject")
            continue
        named = [letter for letter, distinct in letters_stems if distinct & stems]
        if named:
            found.append(f"names words of option(s) {', '.join(named)} of prompt {prompt.number}")
    return found


_WordTable = tuple[tuple[PromptSpec, tuple[tuple[str, frozenset[str]], ...] | None], ...]


@hints.per_object
def _word_table(vote: VoteSpec) -> _WordTable:
    """Per prompt: (letter, distinctive stems) of each option, or None for a write-in."""
    return tuple(
        (prompt, None)
        if prompt.kind is PromptKind.WRITE_IN
        else (prompt, tuple((o.letter, _distinct(prompt, o)) for o in prompt.options))
        for prompt in vote.prompts
    )


@hints.per_object
def _topic(prompt: PromptSpec) -> frozenset[str]:
    """A prompt's subject: the stems of its text a word can have (four letters or more)."""
    return frozenset(s for s in content_stems(prompt.text) if len(s) >= 4)


@hints.per_object
def _vote_stems(vote: VoteSpec) -> frozenset[str]:
    """Every stem `_option_words` looks for in a vote: options' distinct ones, write-in topics."""
    found: set[str] = set()
    for prompt, letters_stems in _word_table(vote):
        if letters_stems is None:
            found |= _topic(prompt)
        else:
            for _, distinct in letters_stems:
                found |= distinct
    return frozenset(found)


@lru_cache(maxsize=1024)
def _distinct(prompt: PromptSpec, option: OptionSpec, shortest: int = 5) -> frozenset[str]:
    """Stems of the option's text no other option of the prompt has, nor the prompt."""
    others: set[str] = set(content_stems(prompt.text))
    for o in prompt.options:
        if o is not option:
            others |= content_stems(o.text)
    return frozenset(s for s in content_stems(option.text) - others if len(s) >= shortest)


_SENTENCE = re.compile(r"[^.!?;\n]+")


def may_name_subject(text: str, vote: VoteSpec, open_prompts: set[int]) -> bool:
    """False only when no sentence of `text` (or of any text made of its sentences)
    can name an open prompt's subject, which prose_choices needs: a stem of four
    letters or more of the prompt's text, found as a substring."""
    if not text.isascii():
        return True
    low = text.lower()
    wanted = [p for p in vote.prompts if p.number in open_prompts and p.options]
    return any(s in low for p in wanted for s in _topic(p))


def prose_choices(text: str, vote: VoteSpec, open_prompts: set[int]) -> dict[int, tuple[str, ...]]:
    """Prompts a ballot's prose seems to answer: `Patrol the mill. Build the barn.`

    A sentence that names the prompt's own subject (a word of the prompt's text)
    and the distinctive words of its options reads as those options: one for a
    single prompt, any number for a choose-any or ranked one. Only ever a
    suggestion for a moderator.
    """
    found: dict[int, tuple[str, ...]] = {}
    head = text[:4000]
    if not may_name_subject(head, vote, open_prompts):
        return found
    for m in islice(_SENTENCE.finditer(head), MAX_MATCHES):
        stems = {stem(w) for w in words(m.group(0)) if w not in STOPWORDS and len(w) > 2}
        for prompt in vote.prompts:
            if prompt.number not in open_prompts or prompt.number in found or not prompt.options:
                continue
            if not _topic(prompt) & stems:
                continue
            letters = tuple(o.letter for o in prompt.options if _distinct(prompt, o, 4) & stems)
            if letters and (len(letters) == 1 or prompt.kind is not PromptKind.SINGLE):
                found[prompt.number] = letters
    return found
