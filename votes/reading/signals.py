"""Does a post address the vote? The safety net under the known shapes.

The reader reads the shapes it knows firmly. What it does not know must not
vanish: "not a ballot" has to be established, not assumed. This module looks
at a post's own text for signals that it addresses the vote, in two strengths:

- strong (the post is held back whole, with what was found and, where one is
  likely, a suggested reading): a prompt number next to option letters in any
  arrangement (`2bd`, `Q1: B`, `B on 1`); an option letter in a voting
  context (`going with B`); an option's own text on a line of its own, or
  marked (`<-`, `(this)`); agreement with an earlier poster, `above` or `^`;
  the words of changing a vote (`changing my vote`, `scratch that`).
- weak (the post stays chatter, but `Reading.mentions` lists what it said, so
  the audit's Mentions tab can show it to a moderator sweeping the thread): the
  word vote or ballot, option letters or option words in passing, a write-in
  prompt's subject.

Every pattern is linear and every loop capped, as in the rest of the package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from . import hints
from .grammar import MAX_MATCHES, has_digit, prompt_of
from .letters import DASHES
from .optionwords import option_words
from .social import Posters
from .text import bare, match_option, words
from .types import OptionSpec, PromptKind, PromptSpec, VoteSpec


@dataclass(slots=True, init=False)
class Signals:
    strong: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, why)
    weak: list[str] = field(default_factory=list)
    # prompt -> letters given with the prompt's number ("2bd", "B on 1")
    suggestion: dict[int, tuple[str, ...]] = field(default_factory=dict)
    guess: dict[int, tuple[str, ...]] = field(default_factory=dict)  # from letters alone
    copied: list[tuple[int, int, str]] = field(default_factory=list)  # option lines, unmarked

    def __init__(self) -> None:  # written out: see types.Answer (one per post read)
        self.strong, self.weak, self.copied = [], [], []
        self.suggestion, self.guess = {}, {}


# "2bd", "Q1: B", "#3 - a", "1 -> C", "1/B": a prompt number, then letters (checked below).
# A match's digits are at most 10 characters in ("question  1b"): see _number_letters.
_NUMBER_LETTERS = re.compile(
    rf"(?i)(?<![\w.,/$£€%\[])(?:q(?:uestion)?|prompt|vote|#|no\.?)?[ \t]{{0,2}}(\d{{1,2}})"
    rf"(?:[ \t]{{0,3}}(?:[{DASHES}]{{1,2}}>?|[.:)=>\]/]|->|=>|\u2192)[ \t]{{0,3}}|[ \t]{{0,2}})"
    r"([a-z]{1,4})(?![\w'\u2019-])"
)
# "B on 1", "A for the second", "C for #2".
_LETTERS_NUMBER = re.compile(
    r"(?<![\w'\u2019])([A-Z](?:[ \t]{0,2}(?:,|and|&|/)[ \t]{0,2}[A-Z]){0,3})[ \t]{1,3}"
    r"(?:on|for|in|to)[ \t]{1,3}(?:the[ \t]+)?(?:q(?:uestion)?|prompt|#|number)?[ \t]{0,2}"
    r"(\d{1,2}|first|second|third|fourth|fifth)\b"
)
# A necessary part of _LETTERS_NUMBER (ASCII), found fast: it starts with a space.
_LETTERS_NUMBER_TAIL = re.compile(
    r"[ \t](?:on|for|in|to)[ \t]{1,3}(?:the[ \t]+)?(?:q(?:uestion)?|prompt|#|number)?[ \t]{0,2}"
    r"(?:[0-9]|first|second|third|fourth|fifth)"
)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
# Words that make a letter or an option's words a choice rather than discussion.
_CHOOSING = re.compile(
    r"(?i)\b(?:vot(?:e|es|ed|ing)|ballot|switch(?:ing|ed)?[ \t]+(?:my[ \t]+vote[ \t]+)?to"
    r"|pick(?:ing|ed)?|choos(?:e|ing)|chose|go(?:ing)?[ \t]+with"
    r"|going[ \t]+for|support(?:ing)?|back(?:ing)?|prefer|favou?r|count[ \t]+me"
    r"|put[ \t]+me|i'?m[ \t]+(?:in|for|with)|(?:is|are)[ \t]+(?:the[ \t]+)?(?:best|right|way))\b"
)
# The letter before the look-behind, so that `re` skips to capitals A-H at once.
_LONE_LETTER = re.compile(r"([A-H])(?<![\w'\u2019@#][A-H])(?![\w'\u2019])")
# Agreement with someone other than a quote: "what Anya said", "+1 to Anya",
# "I'm with Anya", "same as above", "^ this", "^", "seconding Boris's vote".
_AGREEING = re.compile(
    r"(?i)(?:^|[ \t(])(?:what[ \t]+@?\S{1,40}[ \t]+said|\+[ \t]?1|i'?m[ \t]+with|same[ \t]+as"
    r"|second(?:ing|ed)?|agree(?:d|ing)?[ \t]+with|seconded|ditto|me[ \t]+too|this)\b"
)
_POINTING = re.compile(r"(?i)(?:^[ \t]*\^|\babove\b|\bup[ \t]*thread\b|\bprevious[ \t]+post\b)")
_CHANGING = re.compile(
    r"(?i)\b(?:chang(?:e|ed|ing)[ \t]+(?:my[ \t]+)?(?:vote|ballot|mind)|switch(?:ed|ing)?[ \t]+"
    r"(?:my[ \t]+vote|to|over)|scratch[ \t]+that|revis(?:e|ed|ing)[ \t]+my|on[ \t]+second"
    r"[ \t]+thought|make[ \t]+that|my[ \t]+(?:new|real|final|updated)[ \t]+vote|real[ \t]+vote)\b"
)
_VOTE_WORD = re.compile(r"(?i)\b(?:vote|votes|voting|ballot)\b")
_MARKED = re.compile(r"(?:<-{1,3}|<=|\(this\)|\(x\)|\[x\]|\u2190)", re.IGNORECASE)
_MAX_LINE = 400  # longer lines are prose paragraphs: option text there is discussion


def numbered(text: str, vote: VoteSpec, prompts: set[int] | None = None) -> Signals:
    """Only the prompt numbers given letters (`2bd`, `B on 1`): what a ballot's rest needs.

    `prompts`: the prompts wanted (others may be left out); a text that names none
    of them by number or ordinal is not searched.
    """
    found = Signals()
    if prompts is not None and text.isascii() and not _may_name(text, prompts):
        return found
    _numbers_and_letters(text, vote, found)
    return found


def _may_name(text: str, prompts: set[int]) -> bool:
    if any(str(n) in text for n in prompts):
        return True
    lowered = text.lower()
    return any(word in lowered for word in _ORDINAL)


class _Choosing:
    """Whether a post has a choosing word, looked for only when a line needs to know."""

    __slots__ = ("_text", "_lowered", "_found")

    def __init__(self, text: str, lowered: str) -> None:
        self._text, self._lowered = text, lowered
        self._found: bool | None = None

    def __bool__(self) -> bool:
        if self._found is None:
            found = hints.search(_CHOOSING, self._text, self._lowered, hints.CHOOSING)
            self._found = found is not None
        return self._found


def vote_signals(text: str, vote: VoteSpec, *, posters: Posters) -> Signals:
    """What in `text` (own text of a post) addresses the vote.

    `posters.get(name)` gives an earlier poster of the thread by casefolded name.
    """
    found = Signals()
    lowered = text.lower()
    _numbers_and_letters(text, vote, found)
    _letters_alone(text, vote, found)
    choosing = _Choosing(text, lowered)
    for line_start, line in _lines(text):
        _line_signals(line, line_start, vote, found, choosing=choosing)
    if found.copied and (_VOTE_WORD.search(text) or choosing):
        # "My vote is ...\nShow leniency": an option's line in a post that speaks of voting.
        found.strong.extend(found.copied)
    if hints.search(_AGREEING, text, lowered, hints.AGREEING) and (
        hints.search(_POINTING, text, lowered, hints.POINTING) or _names_poster(text, posters)
    ):
        found.strong.append((0, len(text), "agrees with an earlier post or poster"))
    if (m := hints.search(_CHANGING, text, lowered, hints.CHANGING)) is not None:
        found.weak.append(f"speaks of changing a vote ('{m.group(0)}')")
    if hints.search(_VOTE_WORD, lowered, lowered, hints.VOTE_WORD):
        found.weak.append("uses the word vote or ballot")
    found.weak.extend(option_words(text, vote, lowered))
    return found


# A post that is only letters: "B", "B and A", "b, d".
_ONLY_LETTERS = re.compile(
    r"(?i)[ \t\n]*[A-H](?:[ \t]*(?:,|/|&|and|\+)?[ \t]*[A-H]){0,4}[ \t.!\n]*$"
)


def _letters_alone(text: str, vote: VoteSpec, found: Signals) -> None:
    if len(text) <= 40 and _ONLY_LETTERS.match(text):
        letters = re.findall(r"(?<![A-Za-z])[A-Ha-h](?![A-Za-z])", text)
        if letters and any(p.option(x) for p in vote.prompts for x in letters):
            found.strong.append((0, len(text), f"only option letter(s) {', '.join(letters)}"))


def _lines(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1


def _numbers_and_letters(text: str, vote: VoteSpec, found: Signals) -> None:
    digits = has_digit(text)  # most prose has none, and a number needs one
    for m in islice(_number_letters(text) if digits else (), MAX_MATCHES):
        prompt = prompt_of(vote, int(m.group(1)))
        letters = m.group(2).upper()
        if prompt is None or not _all_options(prompt, letters):
            continue
        if len(letters) == 1 and m.group(2) in "aAiI" and _article(text, m.end()):
            continue  # "2 a day", "in 1 I think": an article or a pronoun, not option A
        if _COUNTED_THING.search(text, max(0, m.start() - 12), m.start()):
            continue  # "chapter 2: A turning point", "page 3 b-side"
        _number_signal(text, m, prompt, letters, found)
    if text.isascii() and not _LETTERS_NUMBER_TAIL.search(text):
        return  # the cheap half first: "on 1", "for the second"
    for m in islice(_LETTERS_NUMBER.finditer(text), MAX_MATCHES):
        ref = m.group(2).lower()
        prompt = prompt_of(vote, _ORDINAL[ref] if ref in _ORDINAL else int(ref))
        letters = "".join(re.findall(r"[A-Z]", m.group(1)))
        if prompt is None or not _all_options(prompt, letters):
            continue
        _number_signal(text, m, prompt, letters, found)


def _number_letters(text: str) -> Iterator[re.Match[str]]:
    """`_NUMBER_LETTERS.finditer(text)`, trying only where a match can start.

    A match's digits are one or two (a third digit is neither a separator nor a
    letter), not preceded by a digit, and at most 10 characters after its start
    (`question  1b`), where the character before them is a space, a tab or the
    end of a prefix word. So in ASCII text only runs of one or two digits are
    tried: at the run, or in the ten characters before it when those can hold a
    prefix. The matches are the same as finditer's, in the same order.
    """
    if not text.isascii():
        yield from _NUMBER_LETTERS.finditer(text)
        return
    pos = 0  # no match starts before this (inside the last match, or tried)
    for k, run in enumerate(_DIGIT_RUN.finditer(text)):
        if k == _MANY_RUNS:  # a text thick with numbers: the engine's own scan is faster
            yield from _NUMBER_LETTERS.finditer(text, pos)
            return
        d = run.start()
        if run.end() - d > 2 or d < pos:
            continue
        for s in _starts_before(text, d):
            if s < pos:
                continue
            m = _NUMBER_LETTERS.match(text, s)
            if m is not None:
                yield m
                pos = m.end()
                break
        else:
            pos = d + 1


def _starts_before(text: str, d: int) -> list[int]:
    """Where a match whose digits start at d can start, in order: before a prefix
    word (`question`, `vote`, `#`…) and up to two spaces, before the spaces, at d."""
    spaces = d
    while spaces > max(0, d - 2) and text[spaces - 1] in " \t":
        spaces -= 1
    starts = list(range(spaces, d + 1))
    head = _PREFIX_BEFORE.search(text, max(0, spaces - 9), spaces)
    if head is not None:
        starts.insert(0, head.start())
    return starts


_DIGIT_RUN = re.compile(r"[0-9]+")
_MANY_RUNS = 32
# _NUMBER_LETTERS' prefix words, ending where the spaces before the digits begin.
_PREFIX_BEFORE = re.compile(r"(?i)(?:question|q|prompt|vote|#|no\.?)$")


def _number_signal(
    text: str, m: re.Match[str], prompt: PromptSpec, letters: str, found: Signals
) -> None:
    """A prompt given letters: strong, unless the sentence discusses or negates it."""
    shown = f"'{m.group(0).strip()}' for prompt {prompt.number}"
    if _DISCUSSED.match(text, m.end()) or _negated(text, m.start()):
        found.weak.append(f"{shown}, in a sentence about it")
        return
    found.strong.append((m.start(), m.end(), f"{shown} (option {', '.join(letters)})"))
    found.suggestion.setdefault(prompt.number, tuple(letters))


# "1-B would be a disaster", "B on 1 is risky": the answer is discussed, not given.
_DISCUSSED = re.compile(
    r"(?:[ \t]{1,3}(?:one|option|choice|plan|idea))?"
    r"[ \t]{1,3}(?:is|was|would|will|could|might|may|seems?|sounds?|looks?|has|have|are|makes?"
    r"|means?|gets?|feels?|does|did|can|isn't|wasn't|wouldn't|won't|doesn't|can't|leads?)\b"
)
_NEGATION = re.compile(
    r"(?i)\b(?:not|never|no|against|don'?t|can'?t|won'?t|wouldn'?t|shouldn'?t|isn'?t|hate|oppose)\b"
)


def _negated(text: str, at: int) -> bool:
    """A negation earlier in the same clause ("I can't support B")."""
    clause = max(text.rfind(c, max(0, at - 200), at) for c in ".;!?\n")
    return _NEGATION.search(text, clause + 1, at) is not None


def _all_options(prompt: PromptSpec, letters: str) -> bool:
    if prompt.kind in (PromptKind.WRITE_IN, PromptKind.LINES) or not prompt.options:
        return False
    if len(letters) > 1 and prompt.kind is PromptKind.SINGLE:
        return False
    return all(prompt.option(x) is not None for x in letters) and len(set(letters)) == len(letters)


_ARTICLE_NEXT = re.compile(r"[ \t]+[a-z]{2,}")
_COUNTED_THING = re.compile(
    r"(?i)\b(?:chapter|ch|page|pg|part|turn|day|week|year|act|book|volume|vol|episode|ep|"
    r"update|post|round|phase|step|level|tier|stage)\.?[ \t]*$"
)


def _article(text: str, at: int) -> bool:
    return _ARTICLE_NEXT.match(text, at) is not None


def _line_signals(
    line: str, start: int, vote: VoteSpec, found: Signals, *, choosing: object = True
) -> None:
    """`choosing` is true when the post has a choosing word anywhere (else no line has one)."""
    stripped = line.strip()
    if not stripped or len(stripped) > _MAX_LINE:
        return
    _option_text_list(stripped, start, vote, found)
    if stripped[0] == "[" and (mark := _CHECKED.match(stripped)) is not None:
        _checked_line(stripped[mark.end() :].strip(), start, len(line), vote, found)
    option = _copied_option(stripped, vote)
    if option is not None:
        prompt, spec = option
        marked = _MARKED.search(stripped) is not None
        why = f"a line with option {spec.letter}) of prompt {prompt.number}" + (
            ", marked" if marked else ""
        )
        found.guess.setdefault(prompt.number, (spec.letter,))
        if marked or (choosing and _CHOOSING.search(stripped)):
            found.strong.append((start, start + len(line), why))
        else:
            found.weak.append(why)
            found.copied.append((start, start + len(line), why))
    # Letters first: a capital standing alone is rarer than a choosing word.
    letters = [m.group(1) for m in islice(_LONE_LETTER.finditer(stripped), 8)]
    if letters and choosing and _CHOOSING.search(stripped):
        letters = [x for x in letters if x != "A" or not _article(stripped, stripped.find(x) + 1)]
        owners = [p for p in vote.prompts if letters and all(p.option(x) for x in letters)]
        if letters and owners and _NEGATION.search(stripped):
            found.weak.append(f"option letter(s) {', '.join(letters)} in a negated sentence")
        elif letters and owners:
            why = f"option letter(s) {', '.join(letters)} in a voting sentence"
            found.strong.append((start, start + len(line), why))
            if len(owners) == 1:
                found.guess.setdefault(owners[0].number, tuple(letters[:1]))


# "[X] …", "[x]", "[✓]": the forum's mark of a vote, whatever follows it.
_CHECKED = re.compile(r"\[[ \t]*[xX\u2713\u2714][ \t]*\]")


def _checked_line(rest: str, start: int, length: int, vote: VoteSpec, found: Signals) -> None:
    """An `[X]` line in a vote with no `[X]` prompt: a vote in the forum's shape, never
    chatter (`[X] B`, `[X] Punish them`); a lone letter only one prompt has is suggested."""
    why = f"an [X] line, the forum's mark of a vote: '{rest[:40]}'"
    found.strong.append((start, start + length, why))
    letter = rest.rstrip(".!").upper()
    owners = [p for p in vote.prompts if len(letter) == 1 and p.option(letter)]
    if len(owners) == 1:
        found.guess.setdefault(owners[0].number, (letter,))


_LIST_SPLIT = re.compile(
    r"[ \t]*(?:,|>|/|&|\+|;)[ \t]*(?:and[ \t]+|then[ \t]+)?|[ \t]+(?:and|then)[ \t]+"
)
_LIST_TRAIL = re.compile(
    r"(?i)[ \t]*[,.!]?[ \t]*(?:obviously|of[ \t]+course|please|for[ \t]+sure)?[ \t.!]*$"
)


def _option_text_list(line: str, start: int, vote: VoteSpec, found: Signals) -> None:
    """`Tank factories and shipyards, obviously.`: several options' texts, no number."""
    if len(line) > 120 or not _may_start_list(line, vote):
        return
    body = _LIST_TRAIL.sub("", line)
    parts = [x for x in _LIST_SPLIT.split(body) if x.strip()]
    if len(parts) < 2:
        return
    for prompt in vote.prompts:
        if prompt.kind not in (PromptKind.MULTI, PromptKind.RANKED):
            continue
        letters = []
        for part in parts:
            how, option = match_option(part, prompt)
            if option is None or how == "loose":
                break
            letters.append(option.letter)
        else:
            why = f"option texts of prompt {prompt.number} ({', '.join(letters)}) with no number"
            found.strong.append((start, start + len(line), why))
            found.suggestion.setdefault(prompt.number, tuple(letters))
            return


def _may_start_list(line: str, vote: VoteSpec) -> bool:
    """A necessary condition, cheap: the line's first word starts a choose-any or ranked
    option (a list's first part must match one by its first words)."""
    if not line.isascii() or not line[:1].isalnum():
        return True  # a leading separator or other than ASCII: the full check
    first = _ASCII_NON_ALNUM.split(line.lower(), 1)[0]
    return first in _list_starts(vote)


@hints.per_object
def _list_starts(vote: VoteSpec) -> frozenset[str]:
    return frozenset(
        words(o.text)[0]
        for p in vote.prompts
        if p.kind in (PromptKind.MULTI, PromptKind.RANKED)
        for o in p.options
        if words(o.text)
    )


def _copied_option(line: str, vote: VoteSpec) -> tuple[PromptSpec, OptionSpec] | None:
    """An option's own text on a line (`B) Punish them`, `Punish them <-`), if exactly one."""
    if not _may_end_with_option(line, vote):
        return None
    b = bare(_MARKED.sub("", line))
    if len(b) < 6:
        return None
    hits = [
        (prompt, option)
        for prompt, option, ob in _option_bares(vote)
        if b == ob or b == option.letter.lower() + ob or b.endswith(ob)
    ]
    return hits[0] if len(hits) == 1 else None


def _may_end_with_option(line: str, vote: VoteSpec) -> bool:
    """A necessary condition, cheap: the line's last letters end some option's text.

    A copied option line's bare text ends with the option's bare text, so the
    last three letters agree. Lines that may hold a mark (`<-`, `(this)`) or
    other than ASCII take the full comparison.
    """
    if not line.isascii() or "<" in line or "(" in line or "[" in line:
        return True
    tail = _ASCII_NON_ALNUM.sub("", line[-40:].lower())
    return len(tail) < 3 or tail[-3:] in _option_tails(vote)


_ASCII_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@hints.per_object
def _option_tails(vote: VoteSpec) -> frozenset[str]:
    return frozenset(ob[-3:] for _, _, ob in _option_bares(vote))


@hints.per_object
def _option_bares(vote: VoteSpec) -> tuple[tuple[PromptSpec, OptionSpec, str], ...]:
    """Every option long enough to recognise on a line, with its bare text (once per vote)."""
    return tuple(
        (prompt, option, bare(option.text))
        for prompt in vote.prompts
        for option in prompt.options
        if len(bare(option.text)) >= 6
    )


def _names_poster(text: str, posters: Posters) -> bool:
    """An earlier poster's name next to the agreement (`I'm with Anya`, `what @boris said`).

    Only the words around each agreement phrase are looked at: a name far from
    it, in a discussion paragraph, is discussion.
    """
    for agreeing in islice(_AGREEING.finditer(text), 8):
        near = text[max(0, agreeing.start() - _NEAR) : agreeing.end() + _NEAR]
        if any(posters.get(w.casefold()) is not None for w in _NAME_WORD.findall(near)):
            return True
    return False


_NEAR = 80  # characters either side of an agreement phrase
_NAME_WORD = re.compile(r"[^\W\d_][\w-]{1,30}")
