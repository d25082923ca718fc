"""The numbered-answer grammar of one line (rules 2, 4 and the shapes of rule 11).

A line is read from its start: optional markers (`[X]`, bullets), an optional
phrase ending in "vote:", then one or more answers `<number><separator><answer>`.
What may stand in an answer's place (letters, option texts) is read by letters.py.
Every pattern here has bounded repetition, so no line can make it backtrack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import islice

from . import hints
from .letters import (
    DASHES,
    OPTION_TEXT_END,
    REASON,
    Hit,
    after_restated_prompt,
    check_letters,
    ends_answer,
    option_text_list,
    read_letters,
    restates_prompt,
)
from .text import asked, closest_option, match_end, match_option, search_start
from .types import PromptKind, PromptSpec, VoteSpec

# Caps on repetition, so no post costs more than its length times a constant:
# the grammar reads at most this many answers on a line, and the prose rules look
# at most at this many candidate matches in a paragraph (the rest is text).
MAX_ANSWERS_PER_LINE = 40
MAX_MATCHES = 50

_HEAD = re.compile(
    rf"(\d{{1,2}})(?![\d,])"
    rf"(?:([ \t]{{0,3}}(?:[{DASHES}]{{1,2}}(?![>{DASHES}])|[.):](?!\d))[ \t]{{0,3}})"
    rf"|([ \t]{{1,3}})|)"
)
_MARKERS = re.compile(
    r"[ \t]*(?:\[[xX\u2713\u2714 ]?\][ \t]*|[-*\u2022\u00b7][ \t]+|\([xX]\)[ \t]*)?"
)
_VOTE_PHRASE = re.compile(
    rf"(?i)(?:[A-Za-z']{{1,20}}[ \t]+){{0,4}}?votes?(?:[ \t]+(?:is|are|as follows))?"
    rf"[ \t]*[:{DASHES}][ \t]*"
)
_TERMINATOR = re.compile(rf"[ \t]*(?:$|[.;,:!)(\]/]|[ \t][{DASHES}]|\d)|{REASON}")
_CONTINUE = re.compile(r"[ \t,;|/]{0,6}(?:and[ \t]{1,3})?(?=\d)")
_ARTICLE_FOLLOW = re.compile(r"[ \t]+([a-z][a-z']*)")
_CONNECTIVES = frozenset(
    {"because", "since", "as", "for", "cause", "cos", "cuz", "obviously", "definitely"}
    | {"clearly", "again", "too", "also", "all", "the", "way", "here", "please", "only"}
    | {"instead", "now", "still", "then", "though", "anyway", "for", "obv", "pls"}
)
# Possessive runs: a long run of spaces that is not followed by the end of the
# line fails at once instead of being re-tried from every split point.
_BARE_NUMBER = re.compile(rf"[ \t]*+(\d{{1,2}})[ \t]*+[.):{DASHES}]?[ \t]*+$")
# A voting statement that leads into numbered answers (rule 6): "I vote 1-B",
# "going with 1-B", "changed to 1-A", "my vote is 1-B". Bare shapes count after it.
_VOTING_VERB = (
    r"(?:\b(?:i|we)(?:'m|’m|'ll|’ll|'d|’d|[ \t]+(?:am|will|would|shall))?"
    r"(?:[ \t]+(?:also|now|still|then|instead))?"
    r"[ \t]+(?:vote|voting|choose|choosing|pick|picking|go|going|support|back|prefer|select|say)"
    r"(?:[ \t]+(?:for|with))?"
    r"|\bgo(?:ing)?[ \t]+(?:with|for)"
    r"|\b(?:chang|switch)(?:e|ed|ing|es)?(?:[ \t]+(?:my[ \t]+vote|it|mine))?[ \t]+to"
    r"|\bmy[ \t]+(?:final[ \t]+)?(?:vote|votes|choice|pick|answer)[ \t]+"
    r"(?:is|are|would[ \t]+be|goes[ \t]+to|will[ \t]+be)"
    r"|\bput[ \t]+me[ \t]+down[ \t]+for|\bcount[ \t]+me[ \t]+(?:in[ \t]+)?for)"
    r"[ \t]*:?[ \t]*(?:option[ \t]+)?"
)
VOTING_ANYWHERE = re.compile(rf"(?i){_VOTING_VERB}(?=\d)")
may_vote_inside = hints.may_vote_inside  # VOTING_ANYWHERE's pre-check


# At the start of a line: a short phrase ending in a colon ("Changed my mind:",
# "EDIT:"), a voting statement, or both ("EDIT: changed to 1-A").
_LEAD_COLON = re.compile(r"(?:[A-Za-z'’]{1,20}[ \t]+){0,5}[A-Za-z'’]{1,20}[ \t]*:[ \t]*")
_LEAD_VOTING = re.compile(rf"(?i)[ \t]*{_VOTING_VERB}")
# The phrase says the answers after it replace ones given earlier in the same post.
_REVISES = re.compile(
    r"(?i)\b(?:edit|chang|switch|updat|actually|instead|mind|correct|scratch|thought|reflect"
    r"|wait|nvm|make[ \t]+(?:that|it))"
)
_LEAD_REVISE = re.compile(
    r"(?i)(?:edit(?:ed)?|actually|update[d]?|correction|oops|wait)[ \t]*[,:!.\-]?[ \t]*"
)
# Numbered answers with a real separator inside a sentence: "I think 1-B is best".
_MENTION = re.compile(
    rf"(?<![\w.\-/#])(\d{{1,2}})(?:[ \t]{{0,2}}([{DASHES}]|:|\))[ \t]{{0,2}}|\.)"
    rf"([A-Za-z])(?![\w'’])"
)
MENTION_HINT = re.compile(rf"\d[ \t]{{0,2}}[{DASHES}:).]")
MENTION_HINT_ASCII = re.compile(rf"[0-9][ \t]{{0,2}}[{DASHES}:).]")  # \d in ASCII text
# "1-B would be a disaster": the answer is the subject of a sentence, so discussed.
_DISCUSSED = re.compile(
    r"[ \t]+(?:is|was|would|will|could|might|may|seems?|sounds?|looks?|has|have|are"
    r"|makes?|means?|gets?|feels?|does|did|can|isn't|wasn't|wouldn't|won't|doesn't|can't)\b"
)
_NEGATIVE = re.compile(
    r"(?i)\b(?:not|never|no|against|disaster\w*|terrible|awful|bad|worse|worst|mistake"
    r"|stupid|dumb|hate|oppose|horrible|suicide|insane|dangerous)\b|n't\b|n’t\b"
)
UNKNOWN_SHAPE = re.compile(
    r"(?i)[ \t]*(?:#[ \t]{0,2}\d{1,2}|q(?:uestion)?[ \t]{0,2}\d{1,2}|prompt[ \t]{0,2}\d{1,2}"
    r"|\d{1,2}[ \t]{0,3}(?:->|=>|\u2192|=|>))[ \t]{0,3}[-:.)=>]{0,2}[ \t]{0,3}[A-Za-z](?![A-Za-z])"
)


@dataclass(slots=True, init=False)  # not frozen (one per line; never changed): types.Answer
class LineRead:
    hits: tuple[Hit, ...]
    vote_phrase: str  # the "Changing my vote:" prefix, "" when none
    bare_number: int | None = None  # the line holds only "3." (the answer follows)
    # Answers mentioned in a sentence, not given as a vote ("I think 1-B is best"):
    # the line is still prose; these are held back only if nothing else answers.
    mentions: tuple[Hit, ...] = ()
    revised_letter: str | None = None  # "actually no, B": for the prompt answered last
    retracts: bool = False  # "scratch that" alone: the answer above is withdrawn

    def __init__(  # written out: see types.Answer
        self,
        hits: tuple[Hit, ...],
        vote_phrase: str,
        bare_number: int | None = None,
        mentions: tuple[Hit, ...] = (),
        revised_letter: str | None = None,
        retracts: bool = False,
    ) -> None:
        self.hits, self.vote_phrase, self.bare_number = hits, vote_phrase, bare_number
        self.mentions, self.revised_letter, self.retracts = mentions, revised_letter, retracts


_PROMPT_MAPS: dict[int, tuple[VoteSpec, dict[int, PromptSpec]]] = {}


def prompt_of(vote: VoteSpec, number: int) -> PromptSpec | None:
    """vote.prompt(number) by a dict built once per vote (the reader asks on every line)."""
    entry = _PROMPT_MAPS.get(id(vote))
    if entry is None or entry[0] is not vote:  # keyed by id: the entry keeps the vote alive
        if len(_PROMPT_MAPS) >= 64:
            _PROMPT_MAPS.clear()
        by_number: dict[int, PromptSpec] = {}
        for p in vote.prompts:
            by_number.setdefault(p.number, p)  # the first, as VoteSpec.prompt
        entry = _PROMPT_MAPS[id(vote)] = (vote, by_number)
    return entry[1].get(number)


def strip_markers(line: str) -> int:
    """Offset after `[X]`, bullets and similar markers at the start of a line."""
    return match_end(_MARKERS, line, 0)


_DIGIT = re.compile(r"\d")
# In ASCII text \d is [0-9], which the regex engine scans for much faster.
ASCII_DIGIT = re.compile(r"[0-9]")


def has_digit(text: str) -> bool:
    return (ASCII_DIGIT if text.isascii() else _DIGIT).search(text) is not None


_NOTHING = LineRead((), "")


def read_line(line: str, vote: VoteSpec) -> LineRead:
    if (ASCII_DIGIT if line.isascii() else _DIGIT).search(line) is None:
        return _NOTHING  # every answer and bare number starts with a digit: most prose has none
    start = strip_markers(line)
    pos, phrase, voting = _lead_phrase(line, start)
    bare = _BARE_NUMBER.match(line, pos)
    if bare:  # "3." or "my vote: 1": the answer follows on the next line
        return LineRead((), phrase, bare_number=int(bare.group(1)))
    if not hints.may_answer(line):  # only years and other long numbers: "In 1953, ..."
        return LineRead((), phrase)
    hits = _read_answers(line, pos, vote, after_phrase=voting)
    if not hits:
        return _read_unnumbered(line, start, vote) or LineRead((), phrase)
    if phrase and _REVISES.search(phrase):
        hits = tuple(replace(h, revises=True) for h in hits)
    if all(h.discussed for h in hits):
        return LineRead((), "", mentions=hits)
    return LineRead(hits, phrase)


def _read_unnumbered(line: str, start: int, vote: VoteSpec) -> LineRead | None:
    """A line that does not start with numbered answers: letters first, a statement, mentions."""
    # "B on 1, A on 2", after a few words at most ("Voting: I vote b on 1").
    tried: tuple[int, ...] = ()
    if _LETTERS_ON_TAIL.search(line, start):
        tried = (start, *(m.end() for m in islice(_WORD_GAP.finditer(line, start), 4)))
    for at in tried:
        hits = _letters_first(line, at, vote)
        if hits and asked(line, at, max(h.end for h in hits)):
            break  # "what if I vote A on 2": mentioned, held back below
        if hits:
            return LineRead(hits, line[start:at])
    # Not at the start: a voting statement inside the line ("After all that, I
    # vote 1-B") counts; an answer merely mentioned is held back (rule 6).
    statements = VOTING_ANYWHERE.finditer(line, start) if may_vote_inside(line) else ()
    for m in islice(statements, MAX_MATCHES):
        hits = _read_answers(line, m.end(), vote, after_phrase=True)
        if hits and asked(line, m.start(), max(h.end for h in hits)):
            break  # "What if I vote A on 2?": mentioned, held back below
        if hits:
            if _REVISES.search(line, 0, m.end()):
                hits = tuple(replace(h, revises=True) for h in hits)
            return LineRead(hits, line[m.start() : m.end()])
    mentions = _mentions(line, start, vote)
    return LineRead((), "", mentions=mentions) if mentions else None


# "B on 1", "A, D on 4", "b for 1": letters first, then the prompt they answer.
_LETTERS_ON = re.compile(
    r"((?:yes|no|[A-Za-z]{1,4})(?:[ \t]{0,2}(?:,|&|/|\band\b)[ \t]{0,2}[A-Za-z]){0,7})"
    r"[ \t]{1,3}(?:on|for)"
    r"[ \t]{1,3}(?:the[ \t]+)?(?:#|q(?:uestion)?[ \t]?|prompt[ \t]|number[ \t])?[ \t]{0,2}"
    r"(\d{1,2}|first|second|third|fourth|fifth)(?:[ \t]+(?:one|prompt|question))?(?!\w|\.\d)"
)
_ORDINALS = ("first", "second", "third", "fourth", "fifth")
_WORD_GAP = re.compile(r"[^ \t]{1,20}[ \t]+")
_LONE_LETTER_END = re.compile(r"([A-Za-z])(?![\w'\u2019])[ \t.!]*$")
_LETTERS_GLUE = re.compile(r"[ \t]*(?:,|;|&|\band\b)[ \t]*(?:and[ \t]+)?")


def _letters_of(given: str, prompt: PromptSpec) -> tuple[str, ...]:
    """`A, D`, `AB`, `no` (a yes/no prompt's option text) as letters of the prompt."""
    how, option = match_option(given, prompt) if given.isalpha() and len(given) > 1 else ("", None)
    if option is not None and how == "whole":
        return (option.letter,)
    letters = "".join(t for t in re.findall(r"[A-Za-z]+", given) if t.lower() != "and")
    return tuple(letters.upper()) if len(letters) <= 8 else ()


def _letters_first(line: str, start: int, vote: VoteSpec) -> tuple[Hit, ...]:
    """`B on 1, A, D on 4` (after an optional voting statement): every item, or nothing.

    The rest of the line must be such items, or a new clause after a comma or `and`
    (`B on 1, and A is a bad idea`): `B on 1 seems risky` is prose.
    """
    start = vote_phrase_end(line, start)  # "my vote: I vote b on 1"
    lead = _LEAD_VOTING.match(line, start)
    pos = lead.end() if lead else start
    hits: list[Hit] = []
    glued = False  # the last item was followed by a comma or "and": what follows is a clause
    while len(hits) < MAX_ANSWERS_PER_LINE and (m := _LETTERS_ON.match(line, pos)) is not None:
        ref = m.group(2).lower()
        prompt = prompt_of(vote, _ORDINALS.index(ref) + 1 if ref in _ORDINALS else int(ref))
        if prompt is None or not prompt.options:
            return ()
        letters = _letters_of(m.group(1), prompt)
        if not letters or (len(letters) > 1 and not all(prompt.option(x) for x in letters)):
            return ()  # "my mind on 1": a word, not letters
        hit = Hit(prompt.number, m.start(), m.end(), letters=letters, how="letters on a prompt")
        hits.append(check_letters(hit, prompt))
        glue = _LETTERS_GLUE.match(line, m.end())
        if glue is None or glue.end() == m.end():
            pos, glued = m.end(), False
            break
        pos, glued = glue.end(), True
    if not hits or not (glued or ends_answer(line, pos)):
        return ()
    if glued and (lone := _LONE_LETTER_END.match(line, pos)) is not None:
        # "I vote for B on 1 and A.": a further letter naming no prompt is held back.
        why = f"'{lone.group(1)}' follows the answers but names no prompt"
        hits.append(Hit(0, pos, len(line), problem=why))
    return tuple(hits)


# The part of _LETTERS_ON after the letters, which every match holds: led by a space,
# so a line without it is passed over at once instead of trying five starts.
_LETTERS_ON_TAIL = re.compile(
    r"[ \t](?:on|for)[ \t]{1,3}(?:the[ \t]+)?(?:#|q(?:uestion)?[ \t]?|prompt[ \t]|number[ \t])?"
    r"[ \t]{0,2}(?:\d|first|second|third|fourth|fifth)"
)


def vote_phrase_end(line: str, pos: int, min_rest: int = 12) -> int:
    """After a leading "Vote:" / "Final answer:" phrase, or pos when there is none."""
    m = _VOTE_PHRASE.match(line, pos) or _LEAD_COLON.match(line, pos)
    m = m or _LEAD_VOTING.match(line, pos)
    return m.end() if m and len(line) - m.end() >= min_rest else pos


def _lead_phrase(line: str, pos: int) -> tuple[int, str, bool]:
    """Skip "Vote:", "Changed my mind:", "I vote": (answers' start, phrase, a voting phrase)."""
    m = _VOTE_PHRASE.match(line, pos)
    if m and m.end() < len(line) and line[m.end()].isdigit():
        return m.end(), line[pos : m.end()], True
    at = pos
    colon = _LEAD_COLON.match(line, pos) or _LEAD_REVISE.match(line, pos)
    if colon:
        at = colon.end()
    voting = _LEAD_VOTING.match(line, at)
    if voting:
        at = voting.end()
    if at > pos and at < len(line) and line[at].isdigit():
        return at, line[pos:at], voting is not None
    return pos, "", False


def _read_answers(line: str, pos: int, vote: VoteSpec, *, after_phrase: bool) -> tuple[Hit, ...]:
    hits: list[Hit] = []
    while pos < len(line):
        hit = _read_answer(line, pos, vote, after_phrase=after_phrase or bool(hits))
        if hit is None:
            break
        if len(hits) == MAX_ANSWERS_PER_LINE:
            # A cap, not a shape: no real ballot gives this many answers on one line.
            # Prompt 0 holds the whole post back, so nothing past the cap is lost.
            why = f"more than {MAX_ANSWERS_PER_LINE} answers on one line; the rest was not read"
            hits.append(Hit(0, pos, len(line), problem=why))
            break
        hits.append(hit)
        if hit.text is not None:
            break
        cont = _CONTINUE.match(line, hit.end)
        if cont is None:
            break
        pos = cont.end()
    return tuple(hits)


def _mentions(line: str, pos: int, vote: VoteSpec) -> tuple[Hit, ...]:
    """Answers with a real separator inside a sentence, for prompts and letters that exist."""
    if (MENTION_HINT_ASCII if line.isascii() else MENTION_HINT).search(line, pos) is None:
        return ()
    found = []
    for m in islice(_MENTION.finditer(line, pos), MAX_MATCHES):
        prompt = prompt_of(vote, int(m.group(1)))
        if prompt is None and m.group(2) and m.group(2) != ":" and _just_past(vote, m.group(1)):
            # "Also 7-A if that's allowed": a prompt the vote lacks, the whole post held.
            why = f"'{m.group(0).strip()}' names prompt {m.group(1)}, which this vote does not have"
            found.append(Hit(0, m.start(), m.end(), problem=why))
            continue
        if prompt is None or prompt.kind in (PromptKind.WRITE_IN, PromptKind.LINES):
            continue
        letter = m.group(3).upper()
        if prompt.options and prompt.option(letter) is None:
            continue
        if m.group(2) == ":" and letter in "AI" and _ARTICLE_FOLLOW.match(line, m.end()):
            continue  # "Chapter 2: A new dawn"
        found.append(_discussed(line, m.start(), m.end(), prompt, letter))
    return tuple(found)


def _just_past(vote: VoteSpec, number: str) -> bool:
    """A prompt number a few past the vote's last: a ballot's slip, not "10-B bombers"."""
    last = max((p.number for p in vote.prompts), default=0)
    return last < int(number) <= last + 3


@lru_cache(maxsize=64)
def _speaks_against(line: str) -> bool:
    # Once per line, however many answers it mentions (a line of 15,000 mentions
    # must not be searched 15,000 times), and only if it holds a negative word.
    return hints.search(_NEGATIVE, line, line.lower(), hints.NEGATIVE) is not None


def _discussed(line: str, start: int, end: int, prompt: PromptSpec, letter: str) -> Hit:
    shown = line[start:end].strip()
    negative = _speaks_against(line)
    return Hit(
        prompt.number,
        start,
        end,
        problem=(
            f"'{shown}' is mentioned in a sentence rather than given as a vote"
            + ("" if not negative else ", and the sentence speaks against it")
            + "; a moderator must decide"
        ),
        suggestion=() if negative else (letter,),
        how="mentioned",
        discussed=True,
    )


def _read_answer(line: str, pos: int, vote: VoteSpec, *, after_phrase: bool) -> Hit | None:
    m = _HEAD.match(line, pos)
    if m is None or m.end() >= len(line) or line[m.end()].isspace():
        return None
    number = int(m.group(1))
    explicit = m.group(2) is not None
    if m.group(2) is None and m.group(3) is None and not line[m.end()].isalpha():
        return None
    prompt = prompt_of(vote, number)
    at = m.end()
    if prompt is None:
        letters = read_letters(line, at, None)
        if letters is None or not explicit:
            return None
        return Hit(number, pos, letters[1], problem=f"there is no prompt {number} in this vote")
    if prompt.kind in (PromptKind.WRITE_IN, PromptKind.LINES):
        if not (explicit or after_phrase):
            return None
        return Hit(
            number, pos, len(line), text=line[at:].strip(), how="numbered write-in", text_at=at
        )
    return _read_choice(
        line, pos, at, prompt, explicit=explicit or after_phrase, separated=explicit
    )


def _read_choice(
    line: str, pos: int, at: int, prompt: PromptSpec, *, explicit: bool, separated: bool = False
) -> Hit | None:
    if prompt.kind in (PromptKind.MULTI, PromptKind.RANKED) and line[at + 1 : at + 2] == ")":
        listed = option_text_list(line, pos, at, prompt)  # "4 - B) Shipyards, D) Farms"
        if listed is not None:
            return listed
    letters = read_letters(line, at, prompt)
    if letters is not None:
        return _letters_answer(line, pos, letters, prompt, explicit=explicit)
    return _option_text_answer(line, pos, at, prompt, separated=separated)


def _letters_answer(
    line: str, pos: int, letters: tuple[tuple[str, ...], int], prompt: PromptSpec, *, explicit: bool
) -> Hit | None:
    """`1-B`, `4 AC`, `5: C > A > B`: the letters after the number, or None when prose follows."""
    found, end = letters
    term = _TERMINATOR.match(line, end)
    if term is None and not (explicit and line[end : end + 1].isspace()):
        return None
    known = len(found) == 1 and (prompt.option(found[0]) is not None or not prompt.options)
    if term is None and known and _DISCUSSED.match(line, end):
        return _discussed(line, pos, end, prompt, found[0])
    hit = Hit(prompt.number, pos, end, letters=found)
    follow = _ARTICLE_FOLLOW.match(line, end) if term is None else None
    if follow and len(found) == 1 and found[0] in "AI" and follow.group(1) not in _CONNECTIVES:
        # "1. A lot of people…" may be a sentence, not option A.
        word = follow.group(1)
        return Hit(
            prompt.number,
            pos,
            end,
            problem=f"'{line[pos:end]} {word}' may be a sentence rather than option {found[0]}",
            suggestion=found,
        )
    return check_letters(hit, prompt)


def _option_text_answer(
    line: str, pos: int, at: int, prompt: PromptSpec, *, separated: bool
) -> Hit | None:
    """`2 - Yes`, `4 - Tank factories and shipyards`: option text in an answer's place (rule 4)."""
    seg_end = search_start(OPTION_TEXT_END, line, at)
    if prompt.kind in (PromptKind.MULTI, PromptKind.RANKED):
        listed = option_text_list(line, pos, at, prompt)
        if listed is not None:
            return listed
    typed = line[at:seg_end]
    how, option = match_option(typed, prompt)
    if option is None:
        if not separated or not typed[:1].isalpha():
            return None
        if restates_prompt(typed, prompt):
            return after_restated_prompt(line, at, seg_end, prompt)
        # Rule 4: text in an answer's place that is no option's is held back, not dropped.
        near = closest_option(typed, prompt)
        return Hit(
            prompt.number,
            pos,
            seg_end,
            problem=(
                f"'{typed.strip()[:60]}' is not the text of any option of prompt {prompt.number}"
                + (f"; it shares most words with {near.letter}) {near.text}" if near else "")
            ),
            suggestion=(near.letter,) if near else (),
        )
    if how == "loose":
        return Hit(
            prompt.number,
            pos,
            seg_end,
            problem=(
                f"'{typed.strip()}' is not the text of an option of prompt {prompt.number}; "
                f"it looks closest to {option.letter}) {option.text}"
            ),
            suggestion=(option.letter,),
        )
    return Hit(
        prompt.number,
        pos,
        seg_end,
        letters=(option.letter,),
        how=f"option text ({'whole text' if how == 'whole' else 'first words'} of {option.letter})",
    )
