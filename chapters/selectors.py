"""Reads for chapter pages: the index, a chapter's neighbours, a vote's prompts and record."""

from django.db.models import Prefetch, QuerySet
from django.utils.dateparse import parse_datetime

from chapters.models import Chapter, Option, Prompt, Vote, VoteEvent
from quest.models import Quest


def chapters_for_index(*, quest: Quest, with_drafts: bool) -> QuerySet[Chapter]:
    """Chapters in thread order with their votes (one query: the vote is joined)."""
    qs = Chapter.objects.filter(quest=quest).select_related("vote", "post")
    if not with_drafts:
        qs = qs.filter(status=Chapter.Status.PUBLISHED)
    return qs.order_by("number")


def chapter_neighbours(chapter: Chapter, *, with_drafts: bool) -> tuple[Chapter | None, ...]:
    """The chapters before and after this one that the reader may see."""
    qs = Chapter.objects.filter(quest_id=chapter.quest_id).only("number", "title", "quest_id")
    if not with_drafts:
        qs = qs.filter(status=Chapter.Status.PUBLISHED)
    previous = qs.filter(number__lt=chapter.number).order_by("-number").first()
    following = qs.filter(number__gt=chapter.number).order_by("number").first()
    return previous, following


def vote_with_prompts(chapter: Chapter) -> Vote | None:
    """The chapter's vote with its prompts and options loaded, or None."""
    options = Prefetch("options", queryset=Option.objects.order_by("letter"))
    prompts = Prefetch(
        "prompts", queryset=Prompt.objects.order_by("number").prefetch_related(options)
    )
    return (
        Vote.objects.filter(chapter=chapter)
        .select_related("post")
        .prefetch_related(prompts)
        .first()
    )


def vote_events(vote: Vote) -> list[VoteEvent]:
    """The vote's record, oldest first; `closes_to` is the closing time a change set."""
    events = list(VoteEvent.objects.filter(vote=vote).select_related("by").order_by("at", "pk"))
    for event in events:
        raw = event.data.get("new_closes_at") or event.data.get("closes_at")
        event.closes_to = parse_datetime(raw) if isinstance(raw, str) else None
    return events
