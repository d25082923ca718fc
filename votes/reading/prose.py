"""Votes written as prose (rule 6): explicit letters count, inferred answers are suggestions."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import islice

from . import hints
from .grammar import MAX_MATCHES, prompt_of
from .letters import DASHES, read_letters
from .text import (
    STOPWORDS,
    asked,
    closest_option,
    content_stems,
    match_option,
    search_start,
    stem,
    words,
)
from .types import PromptKind, PromptSpec, VoteSpec

_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
}  # fmt: skip
_ADDRESS = re.compile(
    r"(?i)\b(?:(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth|[1-8](?:st|nd|rd|th))"
    r"[ \t]+(?:[a-z]{1,15}[ \t]+){0,2}?"
    r"(?:proposal|question|prompt|issue|point|vote|course|topic|one|item)"
    r"|(?:proposal|question|prompt|point|vote|item|number|no\.|#)[ \t]*(?P<num>\d{1,2})\b)"
)
_EXPLICIT = re.compile(
    r"(?:\b(?:[Ii]|[Ww]e)[ \t]+(?:(?:would|will|'d|'ll|am[ \t]+going[ \t]+to|shall)[ \t]+)?"
    r"(?:vote|am[ \t]+voting|choose|pick|go[ \t]+with|support|back|prefer)[ \t]+"
    r"(?:for[ \t]+)?(?:option[ \t]+)?"
    r"|\b(?:[Ii]|[Ww]e)(?:'m|\u2019m|'re|\u2019re)[ \t]+(?:going[ \t]+(?:with|for)"
    r"|voting(?:[ \t]+for)?|picking|choosing|backing|supporting)[ \t]+(?:option[ \t]+)?"
    r"|\b[Mm]y[ \t]+(?:vote|choice|pick|answer)[ \t]+(?:is|would[ \t]+be|=)[ \t]+(?:option[ \t]+)?)"
    r"(?P<letter>[A-Z]|[a-z](?=[ \t]*(?:$|[.,;!]|(?:and|&)[ \t]+(?:for|on)\b"
    r"|(?:on|for)[ \t]+(?:the[ \t]+)?(?:first|second|third|fourth|fifth|\d)"
    r"|because|since|cause|cos|cuz|-|\()))(?![\w'])"
    r"(?:[ \t]+(?:on|for|in)[ \t]+(?:the[ \t]+)?(?:(?P<ord>first|second|third|fourth|fifth|"
    r"1st|2nd|3rd|4th|5th)|(?:prompt|question|number|#)?[ \t]*(?P<num>\d{1,2})\b))?"
)
# "… and A on 2": a further letter of the same voting statement, with its prompt
# named, or closing the sentence ("I vote B on 1 and A." cannot be placed).
_MORE = re.compile(
    r"[ \t]*(?:,[ \t]*and|,|;|&|and)[ \t]+(?:(?:option|vote)[ \t]+)?"
    # A lower-case letter only with its prompt named ("i vote b on 1, a on the second").
    r"(?P<letter>[A-Z]|[a-z](?=[ \t]+(?:on|for|in)[ \t]))(?![\w'])"
    r"(?:[ \t]+(?:on|for|in)[ \t]+(?:the[ \t]+)?(?:(?P<ord>first|second|third|fourth|fifth|"
    r"1st|2nd|3rd|4th|5th)|(?:prompt|question|number|#)?[ \t]*(?P<num>\d{1,2})\b)"
    r"|(?=[ \t]*(?:$|[.;!])))"
)
_REF = (
    r"(?:the[ \t]+)?(?:(?P<ord>first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)"
    r"(?:[ \t]+(?:one|prompt|question|vote|point))?"
    r"|(?:prompt|question|number|#)?[ \t]*(?P<num>\d{1,2})\b)"
)
# "For 1 I'm going with A": the prompt named just before the statement.
_PRE_REF = re.compile(rf"(?i)\b(?:for|on|as[ \t]+for|regarding)[ \t]+{_REF}[ \t]*,?[ \t]*$")
# "… and for 2 B": a further letter with its prompt named first.
_MORE_PRE = re.compile(
    rf"[ \t]*(?:,[ \t]*and|,|;|and)[ \t]+(?:for|on)[ \t]+{_REF}[ \t]*,?[ \t]*"
    r"(?:(?:I'm|I[ \t]+am)[ \t]+going[ \t]+with[ \t]+|option[ \t]+)?(?P<letter>[A-Z])(?![\w'])"
)
# "On 1, B." / "For 2, yes.": a prompt named, then the answer in its place. A
# letter needs nothing more; option text needs the separator (rule 4 then applies).
NAMED = re.compile(
    rf"(?i)\b(?:for|on|as[ \t]+for|regarding)[ \t]+{_REF}"
    rf"(?:[ \t]*(?P<sep>[,:{DASHES}])[ \t]*|[ \t]+)(?:option[ \t]+)?"
)
# A cheap exact pre-check for NAMED on lower-cased ASCII text: a match names the
# prompt by an ordinal word, or by a number after "for"/"on"/"regarding" (this part
# is written reversed, so the search is led by the digit, which prose has few of).
# In ASCII text \d is [0-9], which the engine skips to faster.
_ASCII_DIGIT = re.compile(r"[0-9]")
_NAMED_NUMBER_REVERSED = re.compile(
    r"[0-9][ \t]*(?:tpmorp|noitseuq|rebmun|#)?(?:[ \t]+eht)?[ \t]+(?:rof|no|gnidrager)"
)


def may_name_prompt(text: str) -> bool:
    """False only when NAMED cannot match the text."""
    if not text.isascii():
        return True  # (?i) lets some non-ASCII letters match: leave it to the pattern
    lower = text.lower()
    if "fi" in lower and ("first" in lower or "fifth" in lower):
        return True
    if "second" in lower or "third" in lower or "fourth" in lower:
        return True
    if _ASCII_DIGIT.search(text) is None:
        return False
    return _NAMED_NUMBER_REVERSED.search(lower[::-1]) is not None


_NAMED_END = re.compile(r"[ \t]*(?:$|[.;!\n]|,|and\b|but\b)")
# Words one of which every _EXPLICIT match contains (its verbs are lower case): a
# search for literals, which the engine skips ahead to, costs far less than _EXPLICIT.
_EXPLICIT_HINT = re.compile("vot|choose|pick|with|support|back|prefer|choice|answer")
_LETTER_PAREN = re.compile(r"\b([A-Z])\)[ \t]*(?=\w)")
_NEGATION = re.compile(r"(?i)\b(?:not|never|against|no)\b|n't\b")
# Clause breaks: [.;!?\n], ", but/and/also", or the words also/but/because/"and yes".
# Every alternative starts with a literal character so that the regex engine can
# skip ahead to candidates; `a(?<!\wa)` is `\ba` (a word boundary before "a").
CLAUSE_SPLIT = re.compile(
    r"\.|;|!|\?|\n|,[ \t]+(?:but|and|also)\b"
    r"|a(?<!\wa)(?:lso|nd[ \t]+yes)\b|b(?<!\wb)(?:ut|ecause)\b"
)
_CUE = re.compile(
    r"(?i)\b(?:we|i)[ \t]+(?:should|must|need[ \t]+to|ought|'d|would|think|say|vote|want)\b"
    r"|\b(?:let'?s|yes|yeah|no|nope)\b"
)
# _CUE for lower-cased ASCII text, each alternative led by a literal (see CLAUSE_SPLIT):
# case-insensitive patterns cannot skip ahead, and this one is tested on most clauses.
_VERB = r"[ \t]+(?:should|must|need[ \t]+to|ought|'d|would|think|say|vote|want)\b"
_CUE_LOWER = re.compile(
    rf"w(?<!\ww)e{_VERB}|i(?<!\wi){_VERB}|l(?<!\wl)et'?s\b|y(?<!\wy)e(?:s|ah)\b|n(?<!\wn)o(?:pe)?\b"
)
_YES = re.compile(r"(?i)\b(?:yes|yeah|yep|should|must|agree)\b")
_NO = re.compile(r"(?i)\b(?:no|nope|not|never)\b|n't\b")


@dataclass(frozen=True, slots=True)
class ProseAnswer:
    prompt: int | None  # None: the letter is explicit but the prompt is not
    letter: str | None  # None: placed, but nothing readable
    start: int
    end: int
    firm: bool  # an explicit letter; otherwise only a suggestion
    why: str
    letters: tuple[str, ...] = ()  # several letters ("On 4, A and C"); else (letter,)
    # Asked or supposed, not stated ("What if we pick A on 2?"): held, never counted.
    asked: bool = False

    @property
    def chosen(self) -> tuple[str, ...]:
        """The letters it gives: several, the one, or none."""
        return self.letters or ((self.letter,) if self.letter is not None else ())


def addressed_prompt(paragraph: str, vote: VoteSpec) -> tuple[int, str] | None:
    """Which prompt a paragraph under a quoted vote block says it is about."""
    m = _ADDRESS.search(paragraph[:200])
    if m is None:
        return None
    number = _ORDINALS[m.group("ord").lower()] if m.group("ord") else int(m.group("num"))
    return (number, m.group(0)) if prompt_of(vote, number) else None


def explicit_letters(paragraph: str, vote: VoteSpec, placed: int | None) -> list[ProseAnswer]:
    """Letters stated as a vote: "I vote B on the second", "my vote is A", "A) Show leniency"."""
    named = _named_answers(paragraph, vote)
    found: list[ProseAnswer] = []
    if _EXPLICIT_HINT.search(paragraph) is None:
        return _letters_named(paragraph, vote, placed, named)
    for m in islice(_EXPLICIT.finditer(paragraph), MAX_MATCHES):
        found.append(_statement(m, m.start(), vote, placed, first=True))
        more = _MORE.match(paragraph, m.end()) or _MORE_PRE.match(paragraph, m.end())
        steps = 0
        while more is not None and more.end() > more.start() and steps < MAX_MATCHES:
            steps += 1
            # "I vote for B on 1 and A on 2": each letter with its own prompt.
            found.append(_statement(more, m.start(), vote, placed))
            at = more.end()
            more = _MORE.match(paragraph, at) or _MORE_PRE.match(paragraph, at)
    # "For 1, I vote B, and for 2, A.": the statement already gives what it names.
    found = [
        n for n in named if not any(f.start < n.end and n.start < f.end for f in found)
    ] + found
    found = [
        replace(f, firm=False, asked=True) if asked(paragraph, f.start, f.end) else f for f in found
    ]
    return _letters_named(paragraph, vote, placed, found)


def _named_answers(paragraph: str, vote: VoteSpec) -> list[ProseAnswer]:
    """`On 1, B. On 2, A.`, `For 2, yes.`: the prompt named, then its answer (rules 4, 6).

    A letter (or letters, for a multi prompt) ending its clause counts; after a
    separator, an option's whole text or first words count, and other text that
    reads as one option is held back suggesting it.
    """
    if not may_name_prompt(paragraph):
        return []
    found: list[ProseAnswer] = []
    for m in islice(NAMED.finditer(paragraph), MAX_MATCHES):
        number = _ORDINALS[m.group("ord").lower()] if m.group("ord") else int(m.group("num"))
        prompt = prompt_of(vote, number)
        if prompt is None or not prompt.options:
            continue  # "for 2 years", "on 1953": a write-in or no prompt is not answered so
        why = f"answer after '{m.group(0).strip()}'"
        read = read_letters(paragraph, m.end(), prompt)
        if read is not None and _NAMED_END.match(paragraph, read[1]):
            letters, end = read
            found.append(ProseAnswer(number, letters[0], m.start(), end, True, why, letters))
            continue
        if not m.group("sep") or not paragraph[m.end() : m.end() + 1].isalpha():
            continue
        end = search_start(_CLAUSE_END, paragraph, m.end())
        typed = paragraph[m.end() : end]
        how, option = match_option(typed, prompt)
        listed, firm = _option_list(typed, prompt) if option is None else ((), False)
        if listed:  # "Vote for 2: granary + barn": held unless each is an option's own text
            found.append(ProseAnswer(number, listed[0], m.start(), end, firm, why, listed))
        elif option is not None and how != "loose":
            found.append(ProseAnswer(number, option.letter, m.start(), end, True, why))
        elif option is not None or (option := closest_option(typed, prompt)) is not None:
            why = f"'{typed.strip()[:60]}' after '{m.group(0).strip()}'"
            found.append(ProseAnswer(number, option.letter, m.start(), end, False, why))
    return found


_CLAUSE_END = re.compile(r"[.;!?,(\n]|$")
_LIST_PARTS = re.compile(r"[ \t]*(?:,|/|&|\+)[ \t]*(?:and[ \t]+)?|[ \t]+and[ \t]+")


def _option_list(typed: str, prompt: PromptSpec) -> tuple[tuple[str, ...], bool]:
    """Several options of a choose-any or ranked prompt by their words: (letters, firm).

    Firm when every part is an option's text or first words; otherwise, when every
    part still reads as one option (`granary` for "A second granary"), a suggestion.
    """
    if prompt.kind not in (PromptKind.MULTI, PromptKind.RANKED):
        return (), False
    parts = [x for x in _LIST_PARTS.split(typed) if x.strip()]
    letters, firm = [], True
    for part in parts[:26]:
        how, option = match_option(part, prompt)
        if option is None:
            option = closest_option(part, prompt)
        if option is None:
            return (), False
        firm = firm and how in ("whole", "first")
        letters.append(option.letter)
    return (tuple(letters), firm) if len(letters) > 1 else ((), False)


def _statement(
    m: re.Match[str], start: int, vote: VoteSpec, placed: int | None, *, first: bool = False
) -> ProseAnswer:
    letter = m.group("letter").upper()
    number = placed
    if m.group("ord"):
        number = _ORDINALS[m.group("ord").lower()]
    elif m.group("num"):
        number = int(m.group("num"))
    elif first and (pre := _PRE_REF.search(m.string, max(0, m.start() - 40), m.start())):
        number = _ORDINALS[pre["ord"].lower()] if pre["ord"] else int(pre["num"])
    if number is None:
        owners = [p.number for p in vote.prompts if p.option(letter)]
        number = owners[0] if len(owners) == 1 else None
    why = f"voting statement '{m.string[start : m.end()].strip()}'"
    return ProseAnswer(number, letter, m.start(), m.end(), True, why)


def _letters_named(
    paragraph: str, vote: VoteSpec, placed: int | None, found: list[ProseAnswer]
) -> list[ProseAnswer]:
    """`A) Show leniency`: a letter with the first words of that option (appended to found)."""
    if ")" not in paragraph:
        return found  # every _LETTER_PAREN match holds one
    for m in islice(_LETTER_PAREN.finditer(paragraph), MAX_MATCHES):
        letter = m.group(1)
        following = words(paragraph[m.end() : m.end() + 80])[:2]
        owners = [
            p.number
            for p in vote.prompts
            if (placed is None or p.number == placed)
            and (o := p.option(letter)) is not None
            and following
            and words(o.text)[: len(following)] == following[: len(words(o.text))]
        ]
        if len(owners) == 1:
            end = m.end() + len(" ".join(following))
            found.append(
                ProseAnswer(owners[0], letter, m.start(), end, True, f"option named as '{letter})'")
            )
    return found


@dataclass(frozen=True, slots=True)
class _PromptFacts:
    """What inferring from prose needs of one prompt, worked out once per prompt."""

    topic: frozenset[str]  # content stems of the prompt's own text
    distinct: tuple[tuple[str, frozenset[str]], ...]  # per option: stems no other option has
    yes: str | None
    no: str | None


@hints.per_object
def _facts(prompt: PromptSpec) -> _PromptFacts:
    topic = content_stems(prompt.text)
    distinct = []
    for option in prompt.options:
        others: set[str] = set()
        for o in prompt.options:
            if o is not option:
                others |= content_stems(o.text)
        own = frozenset(s for s in content_stems(option.text) - others - topic if len(s) >= 5)
        distinct.append((option.letter, own))
    yes = next((o.letter for o in prompt.options if words(o.text) == ["yes"]), None)
    no = next((o.letter for o in prompt.options if words(o.text) == ["no"]), None)
    return _PromptFacts(topic, tuple(distinct), yes, no)


def _option_evidence(clause_stems: frozenset[str], facts: _PromptFacts) -> set[str]:
    return {letter for letter, own in facts.distinct if own & clause_stems}


def has_cue(text: str) -> bool:
    """Whether the text says it gives an answer (`we should`, `I vote`, `yes`): _CUE's search."""
    if text.isascii():
        return _CUE_LOWER.search(text.lower()) is not None
    return _CUE.search(text) is not None


def inferred(text: str, vote: VoteSpec, prompts: set[int], placed: int | None) -> list[ProseAnswer]:
    """Answers a reader could guess from prose; never counted, only suggested (rule 6)."""
    found: dict[int, ProseAnswer] = {}
    if placed is None and not has_cue(text):
        # Unplaced clauses need a cue, and a cue in a clause is a cue in the text
        # (clauses are cut at non-word characters or at word boundaries).
        return []
    pos = 0
    for sep in [*CLAUSE_SPLIT.finditer(text), None]:
        end = sep.start() if sep else len(text)
        clause = text[pos:end]
        start, pos = pos, (sep.end() if sep else len(text))
        if not clause.strip() or (placed is None and not has_cue(clause)):
            continue
        stems = frozenset(stem(w) for w in words(clause) if w not in STOPWORDS and len(w) > 2)
        for prompt in vote.prompts:
            if prompt.number not in prompts or prompt.kind is PromptKind.WRITE_IN:
                continue
            if placed is not None and prompt.number != placed:
                continue
            letters = _clause_letters(clause, stems, prompt, placed is not None)
            if letters is None:
                continue
            letter = next(iter(letters)) if len(letters) == 1 else None
            prior = found.get(prompt.number)
            if prior is not None and prior.letter != letter:
                letter = None  # two clauses point two ways: no suggestion
            if prior is None or prior.letter is not None:
                found[prompt.number] = ProseAnswer(
                    prompt.number, letter, start, end, False, clause.strip()[:120]
                )
    return list(found.values())


def _clause_letters(
    clause: str, stems: frozenset[str], prompt: PromptSpec, placed: bool
) -> set[str] | None:
    """The letters one clause points to for a prompt; None when it is not about the prompt."""
    facts = _facts(prompt)
    letters = _option_evidence(stems, facts)
    yes, no = facts.yes, facts.no
    on_topic = placed or len(facts.topic & stems) >= 2
    if not letters and yes and no and on_topic:
        negated = bool(_NO.search(clause))
        if negated or _YES.search(clause):
            letters = {no if negated else yes}
    if not letters and not on_topic:
        return None
    return letters


def negated_before(text: str, start: int) -> bool:
    clause_start = max(text.rfind(c, 0, start) for c in ".;!?\n")
    return bool(_NEGATION.search(text[clause_start + 1 : start]))
