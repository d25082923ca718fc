"""`{% load vote_tags %}`: what the reader's values are called on pages.

The reading core (votes/reading/) names post kinds for code ("not_ballot");
people read these labels instead.
"""

from django import template

from votes.reading.types import PostKind

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


RANKED_METHOD_LABELS = {"schulze": "Schulze", "instant_runoff": "instant runoff"}


@register.filter
def ranked_method(method: object) -> str:
    """`{{ p.method|ranked_method }}`: "instant runoff" for instant_runoff; unknown as is."""
    return RANKED_METHOD_LABELS.get(str(method), str(method).replace("_", " "))


@register.filter
def of(mapping: object, key: object) -> object:
    """`{{ merging|of:p.number }}`: what a dict holds for a key the template computed."""
    return mapping.get(key) if isinstance(mapping, dict) else None
