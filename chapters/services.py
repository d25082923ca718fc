"""Writes for chapters and votes: the quest master's side of the app."""

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from chapters import events, selectors
from chapters.models import Chapter, Option, Prompt, Vote
from chapters.prompts import PromptData, prompts_problems, vote_block
from quest import registry
from quest.models import Quest
from quest.services import post_create


def chapter_create(
    *, quest: Quest, title: str, body: str = "", by: User, number: int | None = None
) -> Chapter:
    if not title.strip():
        raise ValidationError("A chapter needs a title.")
    if number is None:
        number = _next_number(quest)
    elif Chapter.objects.filter(quest=quest, number=number).exists():
        raise ValidationError(f"Chapter {number} already exists.")
    return Chapter.objects.create(quest=quest, number=number, title=title.strip(), body=body)


@transaction.atomic
def next_chapter_draft(*, vote: Vote, body: str, by: User) -> Chapter:
    """The draft of the chapter that follows `vote`, titled by its number; made once.

    The votes app calls this for "Write the next chapter" with the results as `body`.
    """
    existing = Chapter.objects.filter(follows_vote=vote).first()
    if existing is not None:
        return existing
    quest = vote.chapter.quest
    number = _next_number(quest)
    return Chapter.objects.create(
        quest=quest, number=number, title=f"Chapter {number}", body=body, follows_vote=vote
    )


def _next_number(quest: Quest) -> int:
    return (Chapter.objects.filter(quest=quest).aggregate(n=Max("number"))["n"] or 0) + 1


def chapter_update(*, chapter: Chapter, title: str, body: str, by: User) -> Chapter:
    if not title.strip():
        raise ValidationError("A chapter needs a title.")
    chapter.title = title.strip()
    chapter.body = body
    chapter.save(update_fields=["title", "body"])
    if chapter.post is not None:
        from quest.services import post_edit

        post_edit(post=chapter.post, body=_chapter_post_body(chapter), by=by)
    return chapter


@transaction.atomic
def vote_prompts_set(
    *,
    chapter: Chapter,
    prompts: list[PromptData],
    by: User,
    closes_at: datetime | None = None,
    results_visibility: str = Vote.Visibility.ALWAYS,
    opens_at: datetime | None = None,
    ranked_method: str = Vote.RankedMethod.SCHULZE,
) -> Vote:
    """Create the chapter's vote or replace its prompts, all or nothing.

    Changing prompts after posts were read against them is allowed: the
    spec version goes up, so every post in the window is read again.
    """
    problems = prompts_problems(prompts)
    now = timezone.now()
    if closes_at is not None and closes_at <= now:
        problems.append("The closing time is in the past.")
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        problems.append("The vote must close after it opens.")
    if problems:
        raise ValidationError(problems)
    vote, created = Vote.objects.select_for_update().get_or_create(
        chapter=chapter,
        defaults={
            "closes_at": closes_at,
            "opens_at": opens_at,
            "results_visibility": results_visibility,
            "ranked_method": ranked_method,
        },
    )
    if not created:
        vote.closes_at = closes_at
        vote.results_visibility = results_visibility
        vote.ranked_method = ranked_method
        if vote.status == Vote.Status.SCHEDULED:
            vote.opens_at = opens_at
        vote.spec_version += 1
        vote.save(
            update_fields=[
                "closes_at",
                "results_visibility",
                "ranked_method",
                "opens_at",
                "spec_version",
            ]
        )
        ballots_existed = vote.readings.exists()
        vote.prompts.all().delete()
        events.prompts_changed(vote, by=by, ballots_existed=ballots_existed)
    for p in prompts:
        prompt = Prompt.objects.create(
            vote=vote,
            number=p.number,
            kind=p.kind,
            text=p.text.strip(),
            pass_rule=p.pass_rule,
            pass_at_least=p.pass_at_least,
            partition=p.partition,
            proxies=p.proxies,
            method=p.method,
        )
        Option.objects.bulk_create(
            Option(prompt=prompt, letter=o.letter, text=o.text.strip()) for o in p.options
        )
    if chapter.post is not None:
        from quest.services import post_edit

        post_edit(post=chapter.post, body=_chapter_post_body(chapter), by=by)
    if not created:
        _reread(vote)
    return vote


@transaction.atomic
def chapter_publish(*, chapter: Chapter, by: User, now: datetime | None = None) -> Chapter:
    """Put the chapter into the thread as the quest master's post and open its vote.

    An earlier vote still open is closed: the new chapter ends its window.
    """
    chapter = Chapter.objects.select_for_update().get(pk=chapter.pk)
    if chapter.is_published:
        raise ValidationError("This chapter is already published.")
    now = now or timezone.now()
    for earlier in Vote.objects.open().filter(chapter__quest=chapter.quest):
        vote_close(vote=earlier, by=by, reason="the next chapter was published", now=now)
    post = post_create(quest=chapter.quest, author=by, body=_chapter_post_body(chapter))
    chapter.post = post
    chapter.status = Chapter.Status.PUBLISHED
    chapter.published_at = now
    chapter.save(update_fields=["post", "status", "published_at"])
    vote = Vote.objects.filter(chapter=chapter).first()
    if vote is not None:
        vote.post = post
        vote.opens_at = vote.opens_at if vote.opens_at and vote.opens_at > now else now
        vote.save(update_fields=["post", "opens_at"])
        if vote.opens_at <= now:
            _open(vote, by=by)
    return chapter


def _open(vote: Vote, *, by: User) -> None:
    vote.status = Vote.Status.OPEN
    vote.save(update_fields=["status"])
    events.vote_opened(vote, by=by)


@transaction.atomic
def vote_close(
    *, vote: Vote, by: User | None, reason: str = "", now: datetime | None = None
) -> bool:
    """Close an open vote; False when it was not open (someone else closed it first)."""
    now = now or timezone.now()
    vote = Vote.objects.select_for_update().get(pk=vote.pk)
    if vote.status != Vote.Status.OPEN:
        return False
    vote.status = Vote.Status.CLOSED
    vote.closed_at = now
    if vote.closes_at is None or vote.closes_at > now:
        vote.closes_at = now
    vote.spec_version += 1
    vote.save(update_fields=["status", "closed_at", "closes_at", "spec_version"])
    events.vote_closed(vote, by=by, reason=reason)
    _reread(vote)
    return True


@transaction.atomic
def vote_extend(*, vote: Vote, closes_at: datetime | None, by: User, reason: str) -> Vote:
    """Move an open vote's closing time later (None: until closed by hand)."""
    vote = Vote.objects.select_for_update().get(pk=vote.pk)
    if vote.status != Vote.Status.OPEN:
        raise ValidationError("Only an open vote can be extended; reopen a closed one.")
    _check_new_close(closes_at, reason)
    old = vote.closes_at
    vote.closes_at = closes_at
    vote.spec_version += 1
    vote.save(update_fields=["closes_at", "spec_version"])
    events.vote_extended(vote, by=by, reason=reason, old_closes_at=old)
    _reread(vote)
    return vote


@transaction.atomic
def vote_reopen(*, vote: Vote, closes_at: datetime | None, by: User, reason: str) -> Vote:
    vote = Vote.objects.select_for_update().get(pk=vote.pk)
    if vote.status != Vote.Status.CLOSED:
        raise ValidationError("Only a closed vote can be reopened.")
    _check_new_close(closes_at, reason)
    vote.status = Vote.Status.OPEN
    vote.closes_at = closes_at
    vote.closed_at = None
    vote.spec_version += 1
    vote.save(update_fields=["status", "closes_at", "closed_at", "spec_version"])
    events.vote_reopened(vote, by=by, reason=reason)
    registry.vote_reopened(vote=vote)
    _reread(vote)
    return vote


def due_votes_close(*, now: datetime | None = None) -> int:
    """Close every open vote whose closing time has come (run by celery beat)."""
    now = now or timezone.now()
    closed = 0
    for pk in Vote.objects.due_to_close(now).values_list("pk", flat=True):
        vote = Vote.objects.get(pk=pk)
        closed += vote_close(vote=vote, by=None, reason="closing time reached", now=vote.closes_at)
    return closed


def due_votes_open(*, now: datetime | None = None) -> int:
    """Open scheduled votes of published chapters whose opening time has come."""
    now = now or timezone.now()
    opened = 0
    for vote in Vote.objects.due_to_open(now).filter(chapter__status=Chapter.Status.PUBLISHED):
        with transaction.atomic():
            if Vote.objects.filter(pk=vote.pk, status=Vote.Status.SCHEDULED).update(
                status=Vote.Status.OPEN
            ):
                events.vote_opened(vote, by=None)
                _reread(vote)
                opened += 1
    return opened


def _check_new_close(closes_at: datetime | None, reason: str) -> None:
    problems = []
    if closes_at is not None and closes_at <= timezone.now():
        problems.append("The new closing time is in the past.")
    if not reason.strip():
        problems.append("Say why: the reason is shown to players and kept on record.")
    if problems:
        raise ValidationError(problems)


def _chapter_post_body(chapter: Chapter) -> str:
    """The chapter as it stands in the thread: title, text, then the vote block."""
    parts = [f"[B]{chapter.title}[/B]", chapter.body.strip()]
    vote = Vote.objects.filter(chapter=chapter).first()
    if vote is not None:
        prompts = selectors.prompt_data(vote)
        if prompts:
            parts.append(vote_block(prompts))
    return "\n\n".join(p for p in parts if p)


def _reread(vote: Vote) -> None:
    # Reading belongs to the votes app, above this one: it fills the hook.
    registry.vote_changed(vote=vote)
