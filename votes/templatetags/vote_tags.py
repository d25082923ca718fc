"""`{% load vote_tags %}`: what the reader's values are called on pages.

The reading core (votes/reading/) names post kinds for code ("not_ballot");
people read these labels instead.
"""

from collections.abc import Iterable, Mapping

from django import template

from votes.line_words import answer_lines, lines_as_text, lines_cell
from votes.reading.types import Answer, PostKind, PromptKind, XLine

register = template.Library()

POST_KIND_LABELS = {
    PostKind.BALLOT: "Ballot",
    PostKind.AMENDMENT: "Changes a ballot",
    PostKind.REPLACEMENT: "Replaces a ballot",
    PostKind.ENDORSEMENT: "Endorses a ballot",
    PostKind.PROXY: "Follows a voter",
    PostKind.NOT_BALLOT: "Not a ballot",
    PostKind.TALLY: "A posted tally",
    PostKind.QUEST_MASTER: "Quest master's post",
}


@register.filter
def post_kind(kind: object) -> str:
    """`{{ reading.kind|post_kind }}`: "Not a ballot" for not_ballot; an unknown kind as is."""
    try:
        return POST_KIND_LABELS[PostKind(str(kind))]
    except (KeyError, ValueError):
        return str(kind).replace("_", " ").capitalize()


RANKED_METHOD_LABELS = {
    "schulze": "Schulze",
    "instant_runoff": "instant runoff",
    "rated_runoff": "rated instant runoff",
    "borda": "Borda count",
}
# `lines` prompts that approve or score lines instead of ranking them (votes/line_tally.py).
COUNTED_METHOD_LABELS = {
    "approval": "approval (approvals minus disapprovals)",
    "score": "score (the highest mean score)",
}


@register.filter
def ranked_method(method: object) -> str:
    """`{{ p.method|ranked_method }}`: "instant runoff" for instant_runoff; unknown as is."""
    return RANKED_METHOD_LABELS.get(str(method), str(method).replace("_", " "))


@register.filter
def method_phrase(method: object) -> str:
    """`{{ p.method|method_phrase }}`: "Ranked by Schulze", "Counted by approval (…)"."""
    counted = COUNTED_METHOD_LABELS.get(str(method))
    return f"Counted by {counted}" if counted else f"Ranked by {ranked_method(method)}"


@register.filter
def winners(winner: object) -> str:
    """A prompt's `winner`: one entry's label (a `lines` prompt), or letters/labels tied."""
    if isinstance(winner, (list, tuple)):
        return ", ".join(str(w) for w in winner)
    return str(winner or "")


@register.filter
def of(mapping: object, key: object) -> object:
    """`{{ merging|of:p.number }}`: what a dict holds for a key the template computed."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def xlines(answer: object) -> list[dict]:
    """`{% include "votes/_xlines.html" with lines=d.answer|xlines %}`: a lines answer's entries.

    Takes an Answer or its stored JSON (a Decision's `answer`); [] for a lettered answer.
    """
    if isinstance(answer, Answer | Mapping):
        return answer_lines(answer)
    return []


@register.filter
def lines_text(answer: object) -> str:
    """A lines answer as the correction box's text (votes.line_words.lines_as_text)."""
    return lines_as_text(answer.lines) if isinstance(answer, Answer) else ""


@register.filter
def any_lines(prompts: Iterable[object] | None) -> bool:
    """`{% if prompts|any_lines %}`: whether any of the vote's prompts takes [X] lines."""
    return any(getattr(p, "kind", None) == PromptKind.LINES for p in prompts or ())


@register.filter
def entries_inline(answer: object) -> str:
    """A lines answer (or its stored JSON) on one line: "[Ship] Repair | [#1] Rest"."""
    if isinstance(answer, Mapping):
        return lines_cell(XLine.from_json(x) for x in answer.get("lines") or ())
    return lines_cell(answer.lines) if isinstance(answer, Answer) else ""
