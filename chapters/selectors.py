"""Reads for chapter pages: the index, a chapter's neighbours, a vote's prompts and record.

Also what the quest app's pages show of chapters (the home page's latest chapter,
the thread's open vote), through the hooks in quest/registry.py.
"""

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, Subquery
from django.utils.dateparse import parse_datetime

from chapters.models import Chapter, Option, Prompt, Vote, VoteEvent
from chapters.prompts import OptionData, PromptData
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


def prompt_data(vote: Vote) -> list[PromptData]:
    """The vote's prompts as `vote_prompts_set` takes them (and the prompt builder shows them)."""
    return [
        PromptData(
            number=p.number,
            kind=p.kind,
            text=p.text,
            options=[OptionData(letter=o.letter, text=o.text) for o in p.options.all()],
            pass_rule=p.pass_rule,
            pass_at_least=p.pass_at_least,
            partition=p.partition,
            proxies=p.proxies,
            method=p.method,
        )
        for p in vote.prompts.prefetch_related("options")
    ]


def vote_events(vote: Vote) -> list[VoteEvent]:
    """The vote's record, oldest first; `closes_to` is the closing time a change set."""
    events = list(VoteEvent.objects.filter(vote=vote).select_related("by").order_by("at", "pk"))
    for event in events:
        raw = event.data.get("new_closes_at") or event.data.get("closes_at")
        event.closes_to = parse_datetime(raw) if isinstance(raw, str) else None
        event.summary = _call_summary(event)
    return events


def _call_summary(event: VoteEvent) -> str:
    """What a quest master's call on a closed vote decided: "prompt 1: B) South"."""
    data = event.data
    if "prompt" not in data:
        return ""
    # Events recorded before the options were named kept only their letters.
    picked = ", ".join(data.get("picked") or data.get("letters") or [])
    match event.kind:
        case VoteEvent.Kind.OUTCOME_PICKED:
            return f"prompt {data['prompt']}: {picked}"
        case VoteEvent.Kind.OUTCOME_CHANGED:
            return f"prompt {data['prompt']}: from {', '.join(data.get('was', []))} to {picked}"
        case VoteEvent.Kind.WRITE_IN_ADOPTED | VoteEvent.Kind.WRITE_IN_WITHDRAWN:
            return f"prompt {data['prompt']}: “{data.get('text', '')}”"
        case VoteEvent.Kind.ENTRIES_MERGED:
            return f"prompt {data['prompt']}: “{data['merged']}” merged into “{data['kept']}”"
        case VoteEvent.Kind.ENTRIES_SPLIT:
            return f"prompt {data['prompt']}: “{data['merged']}” split from “{data['kept']}”"
    return ""


# --- For the quest app's pages (hooks filled in chapters/apps.py) -------------------------


def quests_with_chapters(quests: QuerySet[Quest]) -> QuerySet[Quest]:
    """The quests, each annotated with what the home page shows of its chapters.

    In the same query: `latest_chapter_number`, `latest_chapter_title` (the
    latest published chapter), `open_vote_chapter` (the number of the
    chapter whose vote is open, or None), `has_open_vote`, and
    `closed_vote_chapter_number`, `closed_vote_chapter_title` (the chapter of
    the vote that closed last, or None).
    """
    latest = Chapter.objects.filter(quest=OuterRef("pk"), status=Chapter.Status.PUBLISHED).order_by(
        "-number"
    )
    open_vote = Vote.objects.open().filter(chapter__quest=OuterRef("pk")).order_by("-pk")
    closed = _closed_votes().filter(chapter__quest=OuterRef("pk"))
    return quests.annotate(
        latest_chapter_number=Subquery(latest.values("number")[:1]),
        latest_chapter_title=Subquery(latest.values("title")[:1]),
        open_vote_chapter=Subquery(open_vote.values("chapter__number")[:1]),
        has_open_vote=Exists(open_vote),
        closed_vote_chapter_number=Subquery(closed.values("chapter__number")[:1]),
        closed_vote_chapter_title=Subquery(closed.values("chapter__title")[:1]),
    )


def open_vote(quest: Quest) -> Vote | None:
    return (
        Vote.objects.open()
        .filter(chapter__quest=quest)
        .select_related("chapter")
        .order_by("-chapter__number")
        .first()
    )


def last_closed_vote(quest: Quest) -> Vote | None:
    """The vote that closed last, announced over the thread with a link to its results."""
    return _closed_votes().filter(chapter__quest=quest).select_related("chapter").first()


def has_chapters(quest: Quest) -> bool:
    """Whether the quest has a chapter, drafts included (else the thread asks for the first)."""
    return Chapter.objects.filter(quest=quest).exists()


def _closed_votes() -> QuerySet[Vote]:
    # Newest closing first; an imported vote may have no closing time: then by chapter.
    return Vote.objects.filter(status=Vote.Status.CLOSED).order_by(
        F("closed_at").desc(nulls_last=True), "-chapter__number"
    )
