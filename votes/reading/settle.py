"""Settling: what a post's findings come to, one answer or one flag per prompt (rule 11).

`settle` turns what was found in a post into Answers, or Flags where the post
contradicts itself; `account_for_rest` then holds back what in the rest of the
post addresses the vote but was not read, so no vote is silently dropped.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from itertools import islice

from . import grammar, optionwords, signals, social
from .bbcode import Doc
from .found import Found
from .text import bare
from .types import Answer, Flag, PromptKind, Span, VoteSpec

_SENTENCE = re.compile(r"[^.!?;\n]+")


def settle(
    found: list[Found], doc: Doc, vote: VoteSpec, posters: social.Posters
) -> tuple[list[Answer], list[Flag]]:
    """One answer per prompt, or flags where the post contradicts itself (rule 11)."""
    if not found:
        return [], []
    by_prompt: dict[int, list[Found]] = {}
    for f in found:
        by_prompt.setdefault(f.prompt, []).append(f)
    answers: list[Answer] = []
    flags: list[Flag] = []
    for number, items in sorted(by_prompt.items()):
        # Rule 6: an answer only mentioned in a sentence never outweighs one given.
        items = [f for f in items if not f.discussed] or items
        # "EDIT: changed to 1-B" below "1-A": the post's own last word on the prompt.
        revised = [f for f in items if f.revises]
        if revised:
            items = revised[-1:]
        spans = tuple([doc.span(f.start, f.end) for f in items])
        prompt_no = number if grammar.prompt_of(vote, number) else None
        problems = [(f, f.problem) for f in items if f.problem]
        if problems:
            first, problem = problems[0]
            suggestion = None
            if first.suggestion and len(items) == 1 and prompt_no is not None:
                suggestion = Answer(prompt_no, letters=first.suggestion, spans=spans)
            flags.append(Flag(prompt_no, problem, suggestion=suggestion, spans=spans))
            continue
        if len(items) > 1 and len({(f.letters, bare(f.text or "")) for f in items}) > 1:
            shown = " and ".join(f"'{doc.text[f.start : f.end].strip()[:40]}'" for f in items[:3])
            flags.append(
                Flag(prompt_no, f"two different answers to prompt {number} in one post: {shown}",
                     spans=spans)
            )  # fmt: skip
            continue
        f = items[0]
        snippet = doc.text[f.start : f.end].strip()
        reason = f"{f.how} '{snippet[:40]}{'…' if len(snippet) > 40 else ''}'"
        joins = social.joins(f.text, posters) if f.text is not None else None
        answers.append(
            Answer(number, letters=f.letters, text=f.text, joins=joins, spans=spans, reason=reason)
        )
    return answers, flags


def account_for_rest(
    doc: Doc, vote: VoteSpec, posters: social.Posters, answers: list[Answer], flags: list[Flag]
) -> tuple[list[Flag], tuple[str, ...]]:
    """Every part of a post is accounted for: what addresses the vote is never dropped.

    1. A post with nothing read whose own text addresses the vote (strong
       signals: signals.py) is held back whole with what was found, suggesting
       a reading where exactly one prompt was named.
    2. A post with answers whose other text gives a prompt it did not answer
       (`1-A` and, further on, `2bd`) has that prompt held back too.
    3. Weak signals on a post left as chatter become its `mentions`.
    """
    if answers or flags:
        return flags + _rest_of_ballot(doc, vote, answers, flags), ()
    found = signals.vote_signals(doc.text, vote, posters=posters)
    if not found.strong:
        return flags, tuple(dict.fromkeys(found.weak))
    if found.suggestion:  # the prompts are named: hold those, suggesting the letters
        return _held_prompts(found, doc), ()
    spans = tuple(doc.span(s, e) for s, e, _ in found.strong[:10])
    what = "; ".join(dict.fromkeys(why for _, _, why in found.strong[:3]))
    reason = f"addresses the vote in a way the reader cannot read: {what}"
    suggestion = None
    likely = found.suggestion or found.guess
    if len(likely) == 1:
        [(number, letters)] = likely.items()
        suggestion = Answer(number, letters=letters, spans=spans)
    return [Flag(None, reason, suggestion=suggestion, spans=spans)], ()


def _rest_of_ballot(
    doc: Doc, vote: VoteSpec, answers: list[Answer], flags: list[Flag]
) -> list[Flag]:
    """Flags for prompts a ballot's unread text gives that its answers do not."""
    given = {a.prompt for a in answers} | {f.prompt for f in flags}
    open_prompts = {p.number for p in vote.prompts} - given
    if not open_prompts:
        return []
    # Numbered answers anywhere (a write-in may have run over "4. a,b,c"); prose only
    # where nothing was read.
    found = signals.numbered(doc.text, vote, open_prompts)
    prose: dict[int, tuple[str, ...]] = {}
    if optionwords.may_name_subject(doc.text, vote, open_prompts):  # the unread part is in it
        rest = _unread_lines(doc, [*answers, *flags])
        prose = optionwords.prose_choices(rest, vote, open_prompts)
    likely = {**prose, **found.suggestion}
    extra = []
    for number, letters in sorted(likely.items()):
        if number in given:
            continue
        shown = ", ".join(letters)
        reason = f"the post also seems to give prompt {number} option(s) {shown}"
        extra.append(Flag(number, reason, suggestion=Answer(number, letters=letters)))
    still_open = open_prompts - set(likely)
    if still_open and any(str(n) in doc.text for n in still_open):
        extra += _loose_numbered(_unread_lines(doc, [*answers, *flags]), vote, still_open)
    return extra


# Shapes too loose to read as answers on their own, held back when a ballot's unread
# rest has them for a prompt it did not answer: "2 is A", "2 = A", and a write-in's
# number heading a line with no separator ("3 Purge the loyalists" under "1 A", "2 A":
# without a separator it is read only after other answers on its own line).
_NUMBER_IS_LETTER = re.compile(
    r"(?<![\w.,])(\d{1,2})[ \t]+(?:[Ii]s|=|would[ \t]+be|will[ \t]+be|gets?)[ \t]+"
    r"(?:[Oo]ption[ \t]+)?([A-Z])(?![\w'\u2019])"
)
_NUMBER_THEN_TEXT = re.compile(
    r"(?m)^[ \t]*(?:#|[Qq]|[Qq]uestion|[Pp]rompt)?[ \t]*(\d{1,2})[ \t]+([^\W\d_][^\n]{2,})$"
)


def _loose_numbered(rest: str, vote: VoteSpec, prompts: set[int]) -> list[Flag]:
    held: dict[int, Flag] = {}
    for m in islice(_NUMBER_IS_LETTER.finditer(rest), grammar.MAX_MATCHES):
        prompt = grammar.prompt_of(vote, int(m.group(1)))
        if prompt is None or prompt.number not in prompts or prompt.option(m.group(2)) is None:
            continue
        reason = f"the post also seems to give prompt {prompt.number} option(s) {m.group(2)}"
        answer = Answer(prompt.number, letters=(m.group(2),))
        held.setdefault(prompt.number, Flag(prompt.number, reason, suggestion=answer))
    for m in islice(_NUMBER_THEN_TEXT.finditer(rest), grammar.MAX_MATCHES):
        prompt = grammar.prompt_of(vote, int(m.group(1)))
        if prompt is None or prompt.number not in prompts or prompt.kind is not PromptKind.WRITE_IN:
            continue
        text = m.group(2).strip()
        reason = f"the post also seems to answer prompt {prompt.number}: '{text[:60]}'"
        answer = Answer(prompt.number, text=text)
        held.setdefault(prompt.number, Flag(prompt.number, reason, suggestion=answer))
    return [held[n] for n in sorted(held)]


def _unread_lines(doc: Doc, read: Iterable[Answer | Flag]) -> str:
    """The own-text sentences no answer or flag was read from, one per line."""
    covered = _merged(span for item in read for span in item.spans)
    starts = [a for a, _ in covered]
    kept = []
    for m in _SENTENCE.finditer(doc.text):
        if not m.group(0).strip():
            continue
        start, end = doc.span(*m.span())
        # The covered interval starting last before `end` is the only one that can overlap.
        k = bisect_left(starts, end) - 1
        if k < 0 or covered[k][1] <= start:
            kept.append(m.group(0))
    return "\n".join(kept)


def _merged(spans: Iterable[Span]) -> list[tuple[int, int]]:
    """Spans merged into disjoint intervals in order (one sort: linear after it)."""
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _held_prompts(found: signals.Signals, doc: Doc) -> list[Flag]:
    spans = tuple(doc.span(s, e) for s, e, _ in found.strong[:10])
    what = "; ".join(dict.fromkeys(why for _, _, why in found.strong[:3]))
    reason = f"addresses the vote in a way the reader cannot read: {what}"
    return [
        Flag(number, reason, suggestion=Answer(number, letters=letters, spans=spans), spans=spans)
        for number, letters in sorted(found.suggestion.items())
    ]
